package bufferevent

import (
	"errors"
	"io"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// How data moves (bufferevent_sock.c):
//
//   - Reading: the read event fires, one readv fills Input (at most up to
//     the read high watermark), the read callback runs, and then whatever
//     the callback put in Output goes out in one writev before the loop
//     moves on. An echo server thus makes one readv and one writev per
//     message, and moving Input to Output with AddBuffer copies nothing.
//   - Writing from elsewhere (a write or event callback, another
//     goroutine): Write appends to Output and hands one flush to the loop
//     with Submit; more writes before it runs join the same writev.
//   - When the socket is full (EAGAIN) the write event becomes pending and
//     writes the rest as room appears; it is removed once Output is empty.
//   - On a base that sends in the kernel (io_uring), the writev is a send
//     queued for the loop's next io_uring_enter instead (send.go), and
//     Output drains when it completes.

// scheduleFlushLocked arranges for Output to be written: right after the
// read callback when it is running, otherwise by a flush handed to the
// loop with Submit. While the write event is pending the socket is full
// and that event will write. It returns the loop's refusal of the flush
// (a closed base).
func (bev *BufferEvent) scheduleFlushLocked() error {
	if bev.fdlessLocked() {
		return bev.fdlessScheduleFlushLocked()
	}
	if bev.out().Len() == 0 {
		return nil
	}
	return bev.flushSoonLocked()
}

// flushSoonLocked is scheduleFlushLocked without looking at Output, for
// callers that may run on any goroutine (Enable) while a callback on the
// loop's is changing Output with no lock held. On a socket it asks for
// the flush whatever Output holds: the flush looks on the loop, and finds
// nothing to do if it is empty. Without a descriptor, whether Output
// holds data also decides the write timer, so the loop decides it all
// (recheckLocked).
func (bev *BufferEvent) flushSoonLocked() error {
	if bev.fdlessLocked() {
		return bev.queueLocked(bsCheckQueued)
	}
	if !bev.hasIO() || bev.enabled&event.Write == 0 || bev.work&(bsWriting|bsParked) == bsWriting ||
		bev.work&(bsFlushQueued|bsInCallback) != 0 || bev.rateHeldLocked(dirWrite) {
		return nil
	}
	return bev.queueLocked(bsFlushQueued)
}

// flushSubmitted is the flush scheduleFlushLocked asks the loop for.
func (bev *BufferEvent) flushSubmitted() {
	bev.mu.Lock()
	if bev.fdlessLocked() {
		bev.mu.Unlock()
		bev.fdlessFlush()
		return
	}
	c := bev.queuedFlushLocked()
	bev.mu.Unlock()
	c.run(bev)
}

// queuedFlushLocked is the transition for a queued flush: the flush, if
// it is still due.
func (bev *BufferEvent) queuedFlushLocked() calls {
	if bev.work&bsFlushQueued == 0 {
		return calls{}
	}
	bev.work &^= bsFlushQueued
	return bev.flushLocked()
}

// Flush writes as much of Output as the socket takes now
// (bufferevent_flush(bev, EV_WRITE, BEV_NORMAL)) and returns the sticky
// write error, if any; it is FlushWith(event.Write, FlushNormal). The
// write callback runs before Flush returns if Output drained to the write
// low watermark (later, with DeferCallbacks). On a base that sends in the
// kernel (io_uring) Flush writes with writev too, except while a send of
// Output's front is still in the kernel: nothing may go before those
// bytes, so Flush then writes nothing, and the rest follows the send's
// completion. Loop goroutine only: it may run callbacks.
func (bev *BufferEvent) Flush() error { return bev.FlushWith(event.Write, FlushNormal) }

// flushLocked is the flush transition: one writev of Output (or one send
// queued, on a base that sends in the kernel), if writing is enabled and
// possible, and the callback its result calls for.
func (bev *BufferEvent) flushLocked() calls { return bev.flushHowLocked(false) }

// flushHowLocked is flushLocked; now makes the writev even on a base that
// sends in the kernel, for Flush, which promises that the socket has what
// it takes when it returns (with a send in the kernel, nothing may go
// before it).
func (bev *BufferEvent) flushHowLocked(now bool) calls {
	if bev.fdlessLocked() {
		bev.fdlessScheduleFlushLocked() // refused only by a closed base
		return calls{}
	}
	if !bev.hasIO() || bev.enabled&event.Write == 0 || bev.writeErr() != nil {
		return calls{} // after a write error or CloseWrite's shutdown, nothing more goes out
	}
	return bev.writeOutHowLocked(now)
}

// writeOutLocked is writeOutHowLocked(false).
func (bev *BufferEvent) writeOutLocked() calls { return bev.writeOutHowLocked(false) }

// writeOutHowLocked makes one writev of Output and keeps the write event
// pending exactly while output remains. It calls for the event callback
// on an error (Writing|Error), and for the write callback when something
// was written and Output drained to the write low watermark.
func (bev *BufferEvent) writeOutHowLocked(now bool) calls {
	if bev.tlsConn() != nil {
		return bev.tlsWriteOutLocked()
	}
	if bev.work&bsSending != 0 {
		return calls{} // the send in the kernel reports, and the rest follows it
	}
	if bev.out().Len() == 0 {
		bev.drainedLocked()
		if bev.work&bsCloseWrite != 0 {
			c, _ := bev.closeWriteLocked()
			return c
		}
		return calls{}
	}
	atmost, ok := bev.rateCapLocked(dirWrite, bev.maxWriteLocked())
	if !ok {
		return calls{} // held: the refill resumes writing
	}
	if !now && bev.sendsLocked() {
		return bev.sendOutLocked(atmost)
	}
	n, err := bev.buffers().output.writeFd(int(bev.fd), atmost, true)
	return bev.wroteLocked(n, err)
}

// wroteLocked is what follows a write of n bytes of Output (already
// drained from it) or its error: the write event kept pending exactly
// while output remains, or the next send queued; the event callback on
// an error (Writing|Error); the write callback when something was written
// and Output drained to the write low watermark.
func (bev *BufferEvent) wroteLocked(n int, err error) calls {
	bev.rateSpentLocked(dirWrite, n)
	switch {
	case err == unix.EAGAIN:
		if err := bev.startWritingLocked(); err != nil {
			return bev.eventCallsLocked(bev.armFailedLocked(event.Write, err))
		}
		return calls{}
	case err != nil:
		bev.extra().werr = err
		bev.setErrLocked(errnoOf(err))
		bev.enabled &^= event.Write
		bev.stopWritingLocked()
		return bev.eventCallsLocked(Writing | Error)
	}
	if bev.out().Len() > 0 {
		if c, stop := bev.writeMoreLocked(); stop {
			return c
		}
	} else {
		bev.drainedLocked()
		if bev.work&bsCloseWrite != 0 {
			if c, done := bev.closeWriteLocked(); done {
				return c
			}
		}
	}
	if n > 0 && bev.out().Len() <= int(bev.wlow) && bev.writecb != nil {
		return bev.dispatchLocked(calls{write: bev.writecb})
	}
	return calls{}
}

// onRead handles the read event (bufferevent_readcb): the read transition,
// then, if it calls for the read callback, the callback and the flush of
// what it wrote.
func (bev *BufferEvent) onRead(fd int, what event.Flag) {
	bev.mu.Lock()
	c := bev.readLocked(fd, what)
	bev.mu.Unlock()
	// What came with the data (a TLS stream's end) is reported after the
	// read callback, as libevent reports it.
	c.runAll(bev)
}

// readLocked is the read transition: one readv into Input, or the read
// event's timeout. It calls for the read callback (with bsInCallback set,
// so that the callback's writes wait for readReturnedLocked), or for what
// the end of stream, an error or the flush calls for.
func (bev *BufferEvent) readLocked(fd int, what event.Flag) calls {
	if bev.life == lsFreed || fd != int(bev.fd) {
		return calls{}
	}
	if bev.tlsConn() != nil {
		return bev.tlsReadLocked(fd, what)
	}
	if what&event.Read == 0 {
		return bev.readTimeoutLocked()
	}
	room, ok := bev.readRoomLocked()
	if !ok {
		bev.suspendLocked()
		return calls{}
	}
	if room, ok = bev.rateCapLocked(dirRead, room); !ok {
		return calls{} // held: the refill resumes reading
	}
	var n int
	var err error
	if bev.rev.Events()&event.Recv != 0 {
		n, err = bev.buffers().input.recvFd(bev.base, fd, room)
	} else {
		n, err = bev.buffers().input.readFd(fd, room, true)
	}
	bev.rateSpentLocked(dirRead, n)
	switch {
	case err == unix.EAGAIN:
		return calls{}
	case err != nil:
		what := Reading | EOF
		if err != io.EOF {
			what = Reading | Error
			bev.setErrLocked(errnoOf(err))
		}
		bev.enabled &^= event.Read
		bev.stopReadingLocked()
		return bev.eventCallsLocked(what)
	}
	if bev.work&bsTrimArmed == 0 && bev.rtimeout == 0 {
		// After an idle trim: arm it again.
		if err := bev.startReadingLocked(); err != nil {
			return bev.eventCallsLocked(bev.armFailedLocked(event.Read, err))
		}
	}
	if bev.rhigh > 0 && bev.in().Len() >= int(bev.rhigh) {
		bev.suspendLocked()
	}
	if bev.in().Len() >= max(int(bev.rlow), 1) && bev.readcb != nil {
		if Options(bev.opts)&DeferCallbacks == 0 {
			bev.work |= bsInCallback
			return calls{read: bev.readcb}
		}
		bev.deferLocked(calls{read: bev.readcb})
	}
	// Nothing to run before it: write what is waiting now.
	return bev.flushLocked()
}

// readTimeoutLocked is the transition for the read event's timeout: the
// idle trim, or the read timeout.
func (bev *BufferEvent) readTimeoutLocked() calls {
	if bev.work&bsTrimArmed != 0 {
		// Quiet for idleTrim: give empty buffers' storage back, and stop
		// the timer until data comes again.
		if b := bev.bufs.Load(); b != nil {
			b.input.Trim()
			b.output.Trim()
		}
		if bev.tlsConn() != nil {
			bev.tlsConn().trim()
		}
		bev.rev.RemoveTimer()
		bev.work &^= bsTrimArmed
		bev.unparkLocked() // an idle connection keeps no write event
		if bev.work&bsWriting == 0 && bev.sendingModeLocked() {
			// Made for sends: an idle connection need not keep it.
			bev.wev.Free()
			bev.wev = nil
		}
		return calls{}
	}
	bev.enabled &^= event.Read
	bev.stopReadingLocked()
	return bev.eventCallsLocked(Reading | Timeout)
}

// onWrite handles the write event (bufferevent_writecb): the end of a
// connect, a write timeout, or room in the socket for pending output. A
// timeout that fires together with readiness is ignored, as in libevent:
// progress was made.
func (bev *BufferEvent) onWrite(fd int, what event.Flag) {
	bev.mu.Lock()
	c := bev.writeReadyLocked(fd, what)
	bev.mu.Unlock()
	c.run(bev)
}

// writeReadyLocked is the transition for the write event.
func (bev *BufferEvent) writeReadyLocked(fd int, what event.Flag) calls {
	switch {
	case bev.life == lsFreed || fd != int(bev.fd):
		return calls{}
	case bev.work&bsSending != 0:
		return bev.sentLocked(fd, what)
	case what&event.Write == 0:
		if bev.life == lsConnecting {
			bev.settleLocked()
			bev.work &^= bsRefused
		}
		bev.enabled &^= event.Write
		bev.stopWritingLocked()
		return bev.eventCallsLocked(Writing | Timeout)
	case bev.life == lsConnecting:
		return bev.connectDoneLocked()
	}
	return bev.writeOutLocked()
}

// errnoOf unwraps the errno behind a Buffer I/O error.
func errnoOf(err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}
