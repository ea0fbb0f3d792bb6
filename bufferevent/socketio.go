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

// scheduleFlushLocked arranges for Output to be written: right after the
// read callback when it is running, otherwise by a flush handed to the
// loop with Submit. While the write event is pending the socket is full
// and that event will write.
func (bev *BufferEvent) scheduleFlushLocked() {
	if bev.fd < 0 || bev.output.Len() == 0 || bev.enabled&event.Write == 0 ||
		bev.state&(bsConnecting|bsWriting|bsFlushQueued|bsInCallback|bsFreed) != 0 {
		return
	}
	bev.queueLocked(bsFlushQueued)
}

// flushSubmitted is the flush scheduleFlushLocked asks the loop for.
func (bev *BufferEvent) flushSubmitted() {
	bev.mu.Lock()
	if bev.state&bsFlushQueued == 0 {
		bev.mu.Unlock()
		return
	}
	bev.state &^= bsFlushQueued
	bev.flushAndReport()
}

// Flush writes as much of Output as the socket takes now
// (bufferevent_flush with BEV_NORMAL) and returns the sticky write error,
// if any. The write callback runs before Flush returns if Output drained
// to the write low watermark (later, with DeferCallbacks). Loop goroutine
// only: it may run callbacks.
func (bev *BufferEvent) Flush() error {
	bev.mu.Lock()
	switch {
	case bev.state&bsFreed != 0:
		bev.mu.Unlock()
		return ErrFreed
	case bev.fd < 0:
		bev.mu.Unlock()
		return ErrNoFd
	}
	bev.flushAndReport()
	bev.mu.Lock()
	defer bev.mu.Unlock()
	return bev.werr
}

// flushAndReport writes Output (lock held on entry, released on return)
// and runs the write or event callback the result calls for.
func (bev *BufferEvent) flushAndReport() {
	if bev.state&(bsFreed|bsConnecting) != 0 || bev.fd < 0 || bev.enabled&event.Write == 0 {
		bev.mu.Unlock()
		return
	}
	bev.afterWrite(bev.writeOutLocked())
}

// writeOutLocked makes one writev of Output and keeps the write event
// pending exactly while output remains. It returns the condition to report
// (Writing|Error) and whether anything was written.
func (bev *BufferEvent) writeOutLocked() (What, bool) {
	if bev.output.Len() == 0 {
		bev.stopWritingLocked()
		return 0, false
	}
	n, err := bev.output.writeFd(int(bev.fd), 0, true)
	switch {
	case err == unix.EAGAIN:
		bev.startWritingLocked()
		return 0, false
	case err != nil:
		bev.werr = err
		bev.err = errnoOf(err)
		bev.enabled &^= event.Write
		bev.stopWritingLocked()
		return Writing | Error, false
	}
	if bev.output.Len() > 0 {
		bev.startWritingLocked()
	} else {
		bev.stopWritingLocked()
	}
	return 0, n > 0
}

// afterWrite releases the lock and runs the callback a write calls for:
// the event callback for an error, the write callback when Output drained
// to the write low watermark.
func (bev *BufferEvent) afterWrite(what What, wrote bool) {
	switch {
	case what != 0:
		bev.reportLocked(what)
	case wrote && bev.output.Len() <= int(bev.wlow) && bev.writecb != nil:
		bev.callWriteLocked()
	default:
		bev.mu.Unlock()
	}
}

// onRead handles the read event (bufferevent_readcb).
func (bev *BufferEvent) onRead(fd int, what event.Flag) {
	bev.mu.Lock()
	if bev.state&bsFreed != 0 || fd != int(bev.fd) {
		bev.mu.Unlock()
		return
	}
	if what&event.Read == 0 {
		bev.readTimedOutLocked()
		return
	}
	room := 0 // no limit
	if bev.rhigh > 0 {
		room = int(bev.rhigh) - bev.input.Len()
		if room <= 0 {
			bev.suspendLocked()
			bev.mu.Unlock()
			return
		}
	}
	_, err := bev.input.readFd(fd, room, true)
	switch {
	case err == unix.EAGAIN:
		bev.mu.Unlock()
		return
	case err != nil:
		what := Reading | EOF
		if err != io.EOF {
			what = Reading | Error
			bev.err = errnoOf(err)
		}
		bev.enabled &^= event.Read
		bev.stopReadingLocked()
		bev.reportLocked(what)
		return
	}
	if bev.state&bsTrimArmed == 0 && bev.rtimeout == 0 {
		bev.startReadingLocked() // after an idle trim: arm it again
	}
	if bev.rhigh > 0 && bev.input.Len() >= int(bev.rhigh) {
		bev.suspendLocked()
	}
	if bev.input.Len() >= max(int(bev.rlow), 1) && bev.readcb != nil {
		if Options(bev.opts)&DeferCallbacks != 0 {
			bev.state |= bsPendRead
			bev.queueLocked(bsDeferQueued)
		} else {
			bev.state |= bsInCallback
			cb := bev.readcb
			bev.mu.Unlock()
			cb(bev)
			bev.mu.Lock()
			bev.state &^= bsInCallback
		}
	}
	// Write what the callback produced now, in one writev.
	bev.flushAndReport()
}

// readTimedOutLocked handles the read event's timeout: the idle trim, or
// the read timeout (lock held on entry, released on return).
func (bev *BufferEvent) readTimedOutLocked() {
	if bev.state&bsTrimArmed != 0 {
		// Quiet for idleTrim: give empty buffers' storage back, and stop
		// the timer until data comes again.
		bev.input.Trim()
		bev.output.Trim()
		bev.rev.RemoveTimer()
		bev.state &^= bsTrimArmed
		bev.mu.Unlock()
		return
	}
	bev.enabled &^= event.Read
	bev.stopReadingLocked()
	bev.reportLocked(Reading | Timeout)
}

// onWrite handles the write event (bufferevent_writecb): the end of a
// connect, a write timeout, or room in the socket for pending output. A
// timeout that fires together with readiness is ignored, as in libevent:
// progress was made.
func (bev *BufferEvent) onWrite(fd int, what event.Flag) {
	bev.mu.Lock()
	switch {
	case bev.state&bsFreed != 0 || fd != int(bev.fd):
		bev.mu.Unlock()
	case what&event.Write == 0:
		bev.state &^= bsConnecting
		bev.enabled &^= event.Write
		bev.stopWritingLocked()
		bev.reportLocked(Writing | Timeout)
	case bev.state&bsConnecting != 0:
		bev.finishConnectLocked()
	default:
		bev.afterWrite(bev.writeOutLocked())
	}
}

// errnoOf unwraps the errno behind a Buffer I/O error.
func errnoOf(err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}
