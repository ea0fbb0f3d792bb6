package bufferevent

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// Sends in the kernel.
//
// On a base that Sends (io_uring), a plain socket's Output goes out as
// sends the kernel makes rather than writev calls the loop makes: a flush
// queues one send of Output's bytes (event.Base.Send), which goes to the
// kernel with the loop's next io_uring_enter, the one it makes to wait
// anyway, and wev, re-assigned as Write|Persist|Send, fires when it
// completes. Its callback drains Output by the count sent and goes on
// exactly as after a writev of that count: the rest is sent again, or wev
// leaves the loop; the write callback and the watermarks; EPIPE and
// ECONNRESET as Writing|Error with Err. A send waits for room inside the
// kernel, so the write timeout runs on wev while a send is in the kernel.
// Flush is the exception: it writes with writev, as it promises.
//
//   - One send per connection is in the kernel (bsSending), of Output's
//     first bytes, which Output keeps where they are (Buffer.pin):
//     appends go after them, a grow copies and leaves the old array to
//     the collector, user code draining them moves the rest away.
//   - A send in the kernel is not taken back: Disable, the write timeout
//     or a rate limit's hold only stop the next one, and wev stays
//     pending, without its timer, until the completion drains Output.
//   - Giving the descriptor up (SetFd, Connect, Free) lets a send in the
//     kernel finish there, as bytes a writev took would go out after it:
//     they leave Output, and the base keeps them until the kernel is done.
//   - A wait for writability (a connect, the restart after a rate limit,
//     a send that found no room after all) re-assigns wev as
//     Write|Persist, whose firing sends.
//   - Once Output has drained, wev stays pending (parked, bsParked) while
//     the connection reads and has no write timeout: the next send, most
//     often the answer to the next message, then needs no Add, and the
//     drain no Del (drainedLocked). A Send event fires on completions
//     only, so a parked one costs the kernel nothing.

// useSend says whether BufferEvents on a base that Sends use it; the
// benchmarks turn it off to measure writev on the same base.
var useSend = true

// sendMax is the most Output may hold for a flush to go out as a send.
// Larger output goes with writev: a send bigger than the socket's room
// completes short and is sent again, or waits for room inside the kernel,
// each time a round through the ring and a change of wev's events, where
// writev writes what fits at once and waits for writability. Measured on
// examples/echo with 64 KiB messages (S3): 0.88x the CPU per message of
// sending everything; 512-byte and 64-byte messages still go as sends.
// Tests of the send machinery raise it to send large output.
var sendMax = 8 << 10

// baseSend is how a send is queued; tests swap it to count sends and to
// make them short.
var baseSend = (*event.Base).Send

// writeEv is wev, with the state of the send it carries: made together,
// the two cost no more than the Event alone, whose 104 bytes take the
// 112-byte size class. A BufferEvent has no room left for them.
type writeEv struct {
	event.Event

	// A send in the kernel (bsSending) was given Output's first bytes:
	// sendHeld of them are still there, sendGone were removed by user
	// code meanwhile (see buffer_pin.go).
	sendHeld, sendGone int32
}

// sendWhat is what wev watches for while it carries sends.
const sendWhat = event.Write | event.Persist | event.Send

// sendsLocked reports whether Output goes out as sends in the kernel.
// An Output larger than sendMax goes out with writev, and one holding
// references or file ranges (AddReference, AddFile) with writev and
// sendfile(2) until they have left: a send
// carries only the ring's bytes, and sendfile takes a file's without a
// copy through memory. TLS goes with writev: a TLS BufferEvent writes
// its records itself, and a TLS filter's underlying must write the
// close_notify at once when the filter is freed with it, which a send
// still in the kernel would keep back.
func (bev *BufferEvent) sendsLocked() bool {
	return useSend && bev.base.Sends() && (bev.ext == nil || bev.ext.tls == nil && !bev.ext.noSend) &&
		!bev.out().hasSegs() && bev.out().Len() <= sendMax
}

// sendingModeLocked reports whether wev carries sends.
func (bev *BufferEvent) sendingModeLocked() bool {
	return bev.wev != nil && bev.wev.Events() == sendWhat
}

// sendOutLocked queues the send of Output's first atmost bytes (all of
// it for atmost <= 0), with wev pending to report it.
func (bev *BufferEvent) sendOutLocked(atmost int) calls {
	if bev.work&bsWriting == 0 || !bev.sendingModeLocked() {
		ev, err := bev.writeEventFor(sendWhat) // ends a wait for room: the send waits in the kernel
		if err == nil {
			err = ev.Add(bev.wtimeout)
		}
		if err != nil {
			return bev.eventCallsLocked(bev.armFailedLocked(event.Write, err))
		}
		bev.work |= bsWriting
	}
	bev.work &^= bsParked // pending already: the send needs no change of the loop's events
	p0, p1 := bev.buffers().output.data()
	if atmost > 0 {
		p0, p1 = ringPrefix(p0, p1, atmost)
	}
	n, err := baseSend(bev.base, int(bev.fd), p0, p1)
	if n == 0 && err == nil {
		bev.work |= bsSending
		bev.buffers().output.pin(len(p0) + len(p1))
		return calls{}
	}
	// Written at once, as a writev (the backend did not take the send).
	bev.buffers().output.drain(n)
	if err != nil && err != unix.EAGAIN {
		err = os.NewSyscallError("writev", err)
	}
	return bev.wroteLocked(n, err)
}

// drainedLocked takes wev off the loop now that Output is empty, or parks
// it (bsParked): on a connection that carries sends, reads, and has no
// write timeout to run, wev stays pending for the next send, most often
// the answer to the next message, which then needs no change of the
// loop's events. Taking it off and adding it again cost a Del and an Add
// per message, each a change the loop hands the backend. The park ends
// when reading stops (a parked wev alone must not keep the loop from
// exiting), at the idle trim, with a write timeout, or by anything that
// stops writing.
func (bev *BufferEvent) drainedLocked() {
	if bev.work&(bsWriting|bsSending|bsReading|bsCloseWrite) == bsWriting|bsReading &&
		bev.wtimeout == 0 && bev.sendingModeLocked() {
		bev.work |= bsParked
		return
	}
	bev.stopWritingLocked()
}

// unparkLocked takes a parked wev off the loop; see drainedLocked.
func (bev *BufferEvent) unparkLocked() {
	if bev.work&bsParked != 0 {
		bev.stopWritingLocked()
	}
}

// writeMoreLocked goes on writing after a write that left Output with
// data: waits for room for the next writev, or queues the next send. stop
// says to return c at once.
func (bev *BufferEvent) writeMoreLocked() (c calls, stop bool) {
	if !bev.sendsLocked() || bev.work&bsWriting != 0 && !bev.sendingModeLocked() {
		if err := bev.startWritingLocked(); err != nil {
			return bev.eventCallsLocked(bev.armFailedLocked(event.Write, err)), true
		}
		return calls{}, false
	}
	atmost, ok := bev.rateCapLocked(dirWrite, bev.maxWriteLocked())
	if !ok {
		bev.stopWritingLocked() // held: the refill resumes writing
		return calls{}, false
	}
	c = bev.sendOutLocked(atmost)
	return c, c.what != 0 || c.write != nil
}

// abandonSendLocked gives up a send in the kernel with the descriptor: it
// finishes there, and its bytes leave Output, whose storage the kernel
// may still read. wev is left for the caller to take off the loop.
func (bev *BufferEvent) abandonSendLocked() {
	if bev.work&bsSending == 0 {
		return
	}
	bev.work &^= bsSending
	bev.buffers().output.unshare()
	bev.buffers().output.unpinSent(int(bev.wev.sendHeld + bev.wev.sendGone))
}

// sentLocked is the transition for wev carrying a send: the completed
// send drains Output by what it sent and writing goes on as after a
// writev; a timeout with the send still in the kernel is the write
// timeout.
func (bev *BufferEvent) sentLocked(fd int, what event.Flag) calls {
	n, err, ok := bev.base.Sent(fd)
	if !ok {
		if what&event.Write == 0 && bev.enabled&event.Write != 0 {
			bev.enabled &^= event.Write
			bev.wev.RemoveTimer() // wev waits on for the completion
			return bev.eventCallsLocked(Writing | Timeout)
		}
		return calls{} // an error on the descriptor: the completion follows
	}
	bev.work &^= bsSending
	bev.buffers().output.unpinSent(n)
	if err == unix.EAGAIN {
		err = nil // sent again below, as the rest of a short send
	} else if err != nil {
		err = os.NewSyscallError("send", err)
	}
	if bev.enabled&event.Write == 0 || bev.rateHeldLocked(dirWrite) {
		// Writing stopped while the send was in the kernel: its result
		// is kept, and nothing more is sent.
		bev.rateSpentLocked(dirWrite, n)
		if err != nil {
			bev.extra().werr = err
			bev.setErrLocked(errnoOf(err))
		}
		bev.stopWritingLocked()
		return calls{}
	}
	return bev.wroteLocked(n, err)
}
