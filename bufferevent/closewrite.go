package bufferevent

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// ErrWriteClosed is what Write returns after CloseWrite.
var ErrWriteClosed = errors.New("bufferevent: the sending side is closed")

// CloseWrite ends the sending side of the connection once what Output
// holds is written: on a TLS BufferEvent it then sends a close_notify
// (TLS's end of stream), and on every BufferEvent it shuts the socket down
// for writing (shutdown(2) with SHUT_WR), so that the peer reads the end
// of the stream while this side may still read what the peer sends. Writes
// after it return ErrWriteClosed, and the shutdown happens on the loop's
// goroutine, at its next queued work even when Output is empty. Writing must be enabled for Output to
// drain. It is refused without a connected descriptor, or during a TLS
// handshake; a failed shutdown is reported as Writing|Error. Safe from any
// goroutine.
func (bev *BufferEvent) CloseWrite() error {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	switch {
	case bev.life == lsFreed:
		return ErrFreed
	case bev.fdlessLocked():
		return ErrNotSocket
	case bev.life != lsOpen:
		return ErrNoFd
	case bev.writeErr() != nil:
		return bev.writeErr()
	case bev.tlsConn() != nil && !bev.tlsConn().handshakeDone:
		return errors.New("bufferevent: CloseWrite: the TLS handshake failed")
	}
	// The flush, on the loop, ends the sending side once all is out:
	// only the loop may look at Output, which its callbacks may be
	// changing now.
	bev.work |= bsCloseWrite
	return bev.queueLocked(bsFlushQueued)
}

// closeWriteLocked is the transition that ends the sending side once
// Output has drained: a TLS BufferEvent's close_notify goes into rawOut
// first, and done is false while it waits for room in the socket. It
// calls for Writing|Error if the shutdown fails.
func (bev *BufferEvent) closeWriteLocked() (c calls, done bool) {
	if t := bev.tlsConn(); t != nil {
		if !t.notifySent {
			t.notifySent = true
			t.conn.CloseWrite() // writes the alert into rawOut
		}
		_, left, err := t.writeSocket(int(bev.fd), bev.maxWriteLocked())
		if err == unix.EAGAIN || err == nil && left {
			if err := bev.startWritingLocked(); err != nil {
				return bev.eventCallsLocked(bev.armFailedLocked(event.Write, err)), true
			}
			return calls{}, false
		}
	}
	bev.work &^= bsCloseWrite
	bev.extra().werr = ErrWriteClosed
	bev.stopWritingLocked()
	if err := unix.Shutdown(int(bev.fd), unix.SHUT_WR); err != nil {
		bev.setErrLocked(os.NewSyscallError("shutdown", err))
		return bev.eventCallsLocked(Writing | Error), true
	}
	return calls{}, true
}
