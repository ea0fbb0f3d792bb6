package event

import "github.com/levent-go/levent/internal/poller"

// Accept takes one connection off fd, a listening socket watched by a
// Read|Accept event: the new descriptor, non-blocking and close-on-exec,
// or the accept's error (a unix.Errno such as EMFILE or ENFILE, after
// which the connection is still in the backlog), or unix.EAGAIN when none
// is waiting; the results accept4(2) with SOCK_NONBLOCK|SOCK_CLOEXEC gives
// (EINTR and ECONNABORTED retried), which it is everywhere but where the
// backend accepts in the kernel (io_uring). It is the accept4 call in
// libevent's listener_read_cb, made for any listening socket. The peer's
// address is not returned: getpeername(2) on the new descriptor gives it.
// Call it from the event's callback, until EAGAIN; while a Read|Accept
// event watches fd, never mix it with accept4(2) on fd. Safe from any
// goroutine.
//
// On io_uring the connections were accepted before the callback ran, a
// bounded number per socket (the kernel's backlog holds the rest), and
// Accept hands them out without a system call. Deleting the event keeps
// them for when it is added again; freeing the last Read|Accept event on
// fd closes those nobody took.
func (b *Base) Accept(fd int) (int, error) {
	if fd < 0 {
		return -1, ErrBadFd
	}
	if b.acceptor != nil {
		return b.acceptor.Accept(fd)
	}
	return poller.Accept4(fd)
}

// Accepts reports whether the backend accepts in the kernel for
// Read|Accept events (io_uring, with a kernel that has multishot accept),
// rather than leaving the connections in the backlog for accept4(2).
func (b *Base) Accepts() bool { return b.acceptor != nil }

// dropAcceptedLocked closes the connections the backend accepted for ev's
// descriptor once ev, being freed, was the last Read|Accept event on it.
func (b *Base) dropAcceptedLocked(ev *Event) {
	if b.acceptor == nil || ev.events&Accept == 0 || ev.fd < 0 {
		return
	}
	if s := b.fds.Get(int(ev.fd)); s == nil || s.nRead == 0 || s.flags&slotAccept == 0 {
		b.acceptor.DropAccepted(int(ev.fd))
	}
}
