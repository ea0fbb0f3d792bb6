package listener

import (
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
// handing each connection to the callback. The callback may disable or
// free the listener, so its state is read again after each one.
func (l *Listener) onAccept(fd int, _ event.Flag) {
	blocking := l.opts&LeaveSocketsBlocking != 0
	for {
		l.mu.Lock()
		if l.freed || !l.enabled || l.paused || l.cb == nil {
			l.mu.Unlock()
			return
		}
		// The peer's address comes decoded from the kernel's sockaddr
		// straight into the net.Addr the callback gets: one allocation
		// per TCP connection, the only garbage an accept leaves.
		nfd, peer, err := sock.Accept(fd, blocking, l.network)
		if err != nil {
			l.acceptFailedLocked(err)
			return
		}
		l.delay = minBackoff
		cb := l.cb
		l.mu.Unlock()
		cb(l, nfd, peer)
	}
}

// acceptFailedLocked handles an accept error (lock held on entry,
// released on return): EAGAIN ends the drain; anything else pauses
// accepting and goes to the error callback.
func (l *Listener) acceptFailedLocked(err error) {
	if err == unix.EAGAIN {
		l.mu.Unlock()
		return
	}
	l.paused = true
	l.syncLocked()
	l.pause.Add(l.delay)
	l.delay = min(2*l.delay, maxBackoff)
	errcb := l.errcb
	l.mu.Unlock()
	if errcb != nil {
		errcb(l, err)
	}
}

// onPauseEnd resumes accepting after a back-off.
func (l *Listener) onPauseEnd(int, event.Flag) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paused = false
	l.syncLocked()
}
