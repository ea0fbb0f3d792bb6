package listener

import (
	"errors"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
)

// Back-off after a failed accept. The connection that could not be taken
// stays in the backlog, so the socket stays readable: retrying at once
// would spin the loop for as long as the cause lasts (EMFILE until some
// descriptor is closed). Accepting pauses instead, first for minBackoff,
// doubling with each failure in a row up to maxBackoff, so a full process
// neither burns a CPU nor stops accepting for good; a successful accept
// resets the pause. Variables so that tests can shorten them.
var (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// onAccept drains the backlog (listener_read_cb): accept until EAGAIN,
// handing each connection to the callback. Each accept has libevent's
// shape: lock, the acceptLocked transition, unlock, then the callback it
// calls for. The callback may disable or free the listener, so the state
// is read again before each accept.
func (l *Listener) onAccept(fd int, _ event.Flag) {
	blocking := l.opts&LeaveSocketsBlocking != 0
	for {
		l.mu.Lock()
		cb, nfd, peer, errcb, err := l.acceptLocked(fd, blocking)
		l.mu.Unlock()
		switch {
		case cb != nil:
			cb(l, nfd, peer)
		case err != nil && errcb != nil:
			errcb(l, err)
			return
		default:
			return
		}
	}
}

// acceptLocked is the transition for one accept. It calls for the
// callback with a connection, or for the error callback with an accept
// error (accepting is then paused), or for nothing: the backlog is empty,
// or the listener no longer accepts.
func (l *Listener) acceptLocked(fd int, blocking bool) (cb Callback, nfd int, peer net.Addr, errcb ErrorCallback, err error) {
	if l.freed || !l.enabled || l.paused || l.cb == nil {
		return nil, -1, nil, nil, nil
	}
	// The peer's address comes decoded from the kernel's sockaddr
	// straight into the net.Addr the callback gets: one allocation
	// per TCP connection, the only garbage an accept leaves.
	if l.kernel {
		nfd, peer, err = l.takeAccepted(fd)
	} else {
		nfd, peer, err = sock.Accept(fd, blocking, l.network)
	}
	switch {
	case err == unix.EAGAIN:
		return nil, -1, nil, nil, nil
	case err != nil:
		return nil, -1, nil, l.errcb, l.acceptFailedLocked(err)
	}
	l.delay = minBackoff
	return l.cb, nfd, peer, nil, nil
}

// takeAccepted takes a connection the base accepted in the kernel
// (io_uring), or accepts one, with the errors sock.Accept would return,
// and asks for the peer's address, which such an accept does not give.
func (l *Listener) takeAccepted(fd int) (int, net.Addr, error) {
	nfd, err := l.base.Accept(fd)
	switch err {
	case nil:
		return nfd, sock.AcceptedPeer(nfd, l.network), nil
	case unix.EAGAIN, unix.EMFILE, unix.ENFILE:
		return -1, nil, err
	}
	return -1, nil, os.NewSyscallError("accept4", err)
}

// acceptFailedLocked pauses accepting after a failed accept and returns
// what to report: err, joined with the loop's refusal to pause (which
// would leave the listener spinning or stopped for good).
func (l *Listener) acceptFailedLocked(err error) error {
	l.paused = true
	serr := l.syncLocked()
	perr := l.pause.Add(l.delay)
	l.delay = min(2*l.delay, maxBackoff)
	if serr != nil || perr != nil {
		return errors.Join(err, serr, perr)
	}
	return err // as accept returned it: a unix.Errno such as EMFILE
}

// onPauseEnd resumes accepting after a back-off. If the loop refuses to
// watch the socket again, the error callback gets the refusal: the
// listener does not accept until Enable succeeds.
func (l *Listener) onPauseEnd(int, event.Flag) {
	l.mu.Lock()
	var err error
	if !l.freed {
		l.paused = false
		err = l.syncLocked()
	}
	errcb := l.errcb
	l.mu.Unlock()
	if err != nil && errcb != nil {
		errcb(l, err)
	}
}
