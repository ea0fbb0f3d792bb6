package event

import "github.com/levent-go/levent/internal/poller"

// Send writes p0 followed by p1 (either may be empty) to fd, a stream
// socket. Where the backend sends in the kernel (Sends) and a Write|Send
// event watches fd, it hands them over and returns 0, nil: the send goes
// to the kernel with the loop's next wait, the event fires with Write
// once it has completed (there it fires for nothing else: a send waits
// for room inside the kernel), and Sent gives the result. The kernel reads the
// bytes until then, so they must not change (the base keeps them
// referenced); one send per descriptor at a time: another before Sent
// took the result is refused with unix.EBUSY. Deleting the event while
// a send is in the kernel does not take it back: it finishes there, its
// bytes kept referenced until then (submitted at once if it was only
// queued, so that closing the descriptor next cannot send them to the
// number's next owner), and its result is reported to nobody: delete it
// so only to give the descriptor up.
//
// Everywhere else Send is writev(2) on the non-blocking socket, with its
// results: the count written, or the errno (unix.EAGAIN when the socket is
// full), so code written for it runs on every backend: a count, or an
// error, means the write is done; 0, nil that it is queued. It is
// levent's own: libevent has no counterpart, and a libevent program calls
// write(2) or writev(2) in its EV_WRITE callback instead; on io_uring the
// request is IORING_OP_SEND, or IORING_OP_SENDMSG with two iovecs when p1
// is not empty. Safe from any goroutine.
func (b *Base) Send(fd int, p0, p1 []byte) (int, error) {
	if fd < 0 {
		return 0, ErrBadFd
	}
	if b.sender == nil {
		if len(p0) == 0 {
			p0, p1 = p1, nil
		}
		if len(p0) == 0 {
			return 0, nil
		}
		return poller.Write(fd, p0, p1)
	}
	b.mu.Lock()
	if s := b.fds.Get(fd); s != nil && s.flags&slotChanged != 0 && !b.closed {
		// The Write|Send event was added in this iteration: register it
		// now, or the backend would not know to send.
		b.apply(fd, s)
	}
	b.mu.Unlock()
	return b.sender.Send(fd, p0, p1)
}

// Sent takes the result of the send that Send queued on fd, once its
// Write|Send event has fired: the bytes sent (a short count leaves the
// rest to send again), or the errno it failed with (unix.EPIPE,
// unix.ECONNRESET). ok is false while the send is still in the kernel, or
// when there is none (always, where Send writes at once). Call it from the
// event's callback. It is levent's own; on io_uring the result is the
// send's completion (its CQE's res). Safe from any goroutine.
func (b *Base) Sent(fd int) (n int, err error, ok bool) {
	if b.sender == nil {
		return 0, nil, false
	}
	return b.sender.Sent(fd)
}

// Sends reports whether Write|Send events send in the kernel (io_uring,
// with a kernel that has IORING_OP_SEND), rather than firing on
// writability with Send left to writev(2). It is levent's own, like
// Receives and Accepts.
func (b *Base) Sends() bool { return b.sender != nil }
