package event

import "github.com/levent-go/levent/internal/poller"

// Recv takes what has arrived on fd, a stream socket watched by a
// Read|Recv event, copying it into p: the data, then 0, nil at the end of
// the stream (and after), or the receive's error (a unix.Errno), or
// unix.EAGAIN when nothing has arrived yet; the same results read(2)
// gives on a non-blocking socket, which it is everywhere but where the
// backend receives in the kernel (io_uring). Call it from the event's
// callback, or wherever the descriptor's data is read: not from two
// goroutines at once for one descriptor, and, while a Read|Recv event
// watches fd, never mixed with read(2) on it.
//
// On io_uring the data was read before the callback ran, into buffers
// the kernel fills from a ring shared by all connections; Recv copies it
// out and gives the buffers back, so a connection that stops reading
// holds none (what the kernel had already taken is kept for it in memory
// until it reads again). A descriptor never has more than about 64 KiB
// received for it and not yet taken: past that the kernel stops receiving
// for it and the socket's own buffer fills, as under read(2). Safe from
// any goroutine.
func (b *Base) Recv(fd int, p []byte) (int, error) {
	if fd < 0 {
		return 0, ErrBadFd
	}
	if b.receiver != nil {
		return b.receiver.Recv(fd, p)
	}
	return poller.Read(fd, p)
}

// Receives reports whether the backend receives in the kernel for
// Read|Recv events (io_uring, with a kernel that has multishot recv and
// provided buffer rings), rather than leaving the data for read(2).
func (b *Base) Receives() bool { return b.receiver != nil }
