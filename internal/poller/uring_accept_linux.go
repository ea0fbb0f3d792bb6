package poller

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Accepting in the kernel (the Accept interest bit).
//
// A listening socket registered with In|Accept gets no POLLIN poll: a
// multishot IORING_OP_ACCEPT (IORING_ACCEPT_MULTISHOT, with accept_flags
// SOCK_NONBLOCK|SOCK_CLOEXEC) takes each connection off the backlog as it
// arrives, and its completions queue the new descriptors on the socket's
// acceptState. The socket is reported readable while its queue holds a
// connection or the accept's error (level-triggered, as epoll reports a
// listening socket with a non-empty backlog), and Accept hands them out. A
// connection thus costs no accept4(2): one io_uring_enter per loop
// iteration carries every listener's accepts. No address is asked for:
// the kernel would write every completion's into the one buffer the
// request names; the peer's address is getpeername(2) away.
//
// A descriptor the kernel accepted is already in the process's table, so
// none may be forgotten:
//
//   - The queue is bounded (acceptMax): when it fills, the accept is
//     cancelled and the kernel's backlog holds the rest; a new accept is
//     armed when the queue is drained, and only after the old request's
//     last completion. Connections that complete before the cancellation
//     lands are queued beyond the bound.
//   - Dropping In (a disabled listener) cancels the accept and keeps the
//     queue: re-enabled, the socket is reported again and the queue is
//     handed out before the new accept takes more.
//   - A new owner (a registration under a new generation, and fstat says
//     another file) closes what was held for the old one and bumps the
//     accept sequence; completions tagged with an old sequence close their
//     descriptor and are otherwise ignored, so they never reach the new
//     owner. DropAccepted (the last event that could take them is freed)
//     and Close do the same; Close also waits for the cancelled requests'
//     last completions, so that nothing accepted meanwhile stays open.
//   - The multishot ends by itself on an error, which is queued after the
//     connections and handed out once by Accept (EMFILE, ENFILE: the
//     connection stays in the backlog), and on a full CQ, whose final
//     completion still carries a connection; a new accept is armed once
//     the queue is drained and any error taken.
//
// user_data of an accept:
//
//	bit  63     0
//	bit  62     0
//	bit  61     1: an accept
//	bits 60..32 the descriptor's accept sequence (29 bits)
//	bits 31..0  descriptor number

const (
	udAccept = 1 << 61
	aseqMask = 1<<29 - 1

	opAccept        = 13     // IORING_OP_ACCEPT
	acceptMultishot = 1 << 0 // IORING_ACCEPT_MULTISHOT, in sqe.ioprio
)

// acceptMax is how many accepted connections one descriptor holds before
// its accept is stopped; a variable so that tests can make it small.
var acceptMax = 128

// acceptState is what the backend holds for one descriptor that accepts in
// the kernel. It is kept for the number's later owners.
type acceptState struct {
	q        []int32 // accepted descriptors, oldest first from q[head]
	head     int
	err      int32  // -errno the accept ended with, after q; 0 if none
	seq      uint32 // accept sequence: tags the requests of this owner
	gen      uint32 // the base's generation of the owner
	dev, ino uint64 // the file, recorded when In|Accept was last added or dropped
	want     bool   // In|Accept is registered
	edge     bool   // ... with ET: reported only when something arrives
	live     bool   // an accept with seq is in the kernel (until its last completion)
	stopping bool   // ... and its cancellation is queued
	onArm    bool   // on acceptTable.arms
	onList   bool   // on acceptTable.ready
}

// acceptTable is the backend's accepting state.
type acceptTable struct {
	can      bool // the kernel has multishot accept
	states   map[int32]*acceptState
	arms     []int32 // descriptors whose accept is to be added at the next flush
	ready    []int32 // descriptors that may hold connections
	inKernel int     // accept requests, of any sequence, whose last completion is not reaped
}

func acceptData(fd int32, seq uint32) uint64 {
	return udAccept | uint64(seq&aseqMask)<<32 | uint64(uint32(fd))
}

// isAccept reports whether user_data belongs to an accept (bit 61 is also
// part of a recv's sequence).
func isAccept(ud uint64) bool { return ud&(udRemove|udRecv|udAccept) == udAccept }

// held reports whether anything waits for Accept.
func (as *acceptState) held() bool { return as.head < len(as.q) || as.err != 0 }

// CanAccept reports whether the kernel has multishot accept.
func (p *uring) CanAccept() bool { return p.acc.can }

// acceptUpdate applies a registration change to fd's accepting and returns
// new without In when the accept serves it.
func (p *uring) acceptUpdate(fd int32, gen uint32, new Interest) Interest {
	if !p.acc.can {
		return new
	}
	want := new&(In|Accept) == In|Accept
	as := p.acc.states[fd]
	if as == nil {
		if !want {
			return new
		}
		if p.acc.states == nil {
			p.acc.states = make(map[int32]*acceptState)
		}
		as = &acceptState{gen: gen}
		p.acc.states[fd] = as
	}
	if as.gen != gen {
		if as.held() || as.live {
			if dev, ino := fileID(int(fd)); dev != as.dev || ino != as.ino || ino == 0 {
				p.dropAccepted(fd, as)
			}
		}
		as.gen = gen
	}
	if want != as.want {
		as.dev, as.ino = fileID(int(fd))
	}
	if !want {
		as.want = false
		p.stopAccept(fd, as)
		return new
	}
	as.want, as.edge = true, new&ET != 0
	if as.held() {
		p.toAcceptList(fd, as)
	}
	p.armAccept(fd, as)
	return new &^ In
}

// stopAccept queues the cancellation of fd's accept, if one is live.
func (p *uring) stopAccept(fd int32, as *acceptState) {
	if as.live && !as.stopping {
		as.stopping = true
		p.removes = append(p.removes, acceptData(fd, as.seq))
	}
}

// armAccept queues a multishot accept for fd when one is due: fd is
// watched, no accept is live and nothing is held.
func (p *uring) armAccept(fd int32, as *acceptState) {
	if as.want && !as.live && !as.held() && !as.onArm {
		as.onArm = true
		p.acc.arms = append(p.acc.arms, fd)
	}
}

// toAcceptList puts fd on the list of descriptors reported while
// connections wait.
func (p *uring) toAcceptList(fd int32, as *acceptState) {
	if !as.onList {
		as.onList = true
		p.acc.ready = append(p.acc.ready, fd)
	}
}

// dropAccepted closes what was held for an owner that is gone, cancels its
// accept, and moves to a new sequence so that the request's late
// completions close their descriptors.
func (p *uring) dropAccepted(fd int32, as *acceptState) {
	p.stopAccept(fd, as)
	for _, nfd := range as.q[as.head:] {
		unix.Close(int(nfd))
	}
	as.q, as.head, as.err = as.q[:0], 0, 0
	as.seq = (as.seq + 1) & aseqMask
	as.live, as.stopping = false, false
}

// flushAcceptArms turns the queued accepts into SQEs.
func (p *uring) flushAcceptArms() error {
	for i, fd := range p.acc.arms {
		as := p.acc.states[fd]
		as.onArm = false
		if !as.want || as.live || as.held() {
			continue
		}
		s, err := p.sqe()
		if err != nil {
			as.onArm = true
			p.acc.arms = append(p.acc.arms[:0], p.acc.arms[i:]...)
			return err
		}
		as.live = true
		p.acc.inKernel++
		*s = sqe{opcode: opAccept, ioprio: acceptMultishot, fd: fd,
			opFlags: unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC, userData: acceptData(fd, as.seq)}
	}
	p.acc.arms = p.acc.arms[:0]
	return nil
}

// completeAccept handles an accept completion; see complete.
func (p *uring) completeAccept(c *cqe, events []Event, n *int) bool {
	fd, seq := int32(uint32(c.userData)), uint32(c.userData>>32)&aseqMask
	as := p.acc.states[fd]
	if as != nil && as.seq == seq && as.want && p.fds.At(int(fd)).mark != p.epoch && *n == len(events) {
		return false
	}
	more := c.flags&cqeFMore != 0
	if !more {
		p.acc.inKernel--
	}
	if as == nil || as.seq != seq {
		if c.res >= 0 { // an earlier owner's connection: nobody will take it
			unix.Close(int(c.res))
		}
		return true
	}
	switch c.res {
	case -int32(unix.ECANCELED), -int32(unix.EINTR), -int32(unix.ECONNABORTED), -int32(unix.EAGAIN):
		// Ours, or the connection went away: a new accept follows.
	default:
		if c.res < 0 {
			as.err = c.res
			break
		}
		as.q = append(as.q, c.res)
		if more && len(as.q)-as.head >= acceptMax {
			p.stopAccept(fd, as)
		}
	}
	if !more {
		as.live, as.stopping = false, false
		p.armAccept(fd, as)
	}
	if !as.want || !as.held() {
		return true
	}
	p.toAcceptList(fd, as)
	p.report(fd, p.fds.At(int(fd)), ReadyIn, events, n)
	return true
}

// reportAccepts reports, once per Wait, every level-triggered descriptor
// with connections waiting that no completion reported in this Wait, while
// events has room; it drops from the list those with nothing left.
func (p *uring) reportAccepts(events []Event, n *int) {
	keep := p.acc.ready[:0]
	for i, fd := range p.acc.ready {
		as := p.acc.states[fd]
		if !as.want || !as.held() {
			as.onList = false
			continue
		}
		keep = append(keep, fd)
		st := p.fds.At(int(fd))
		if as.edge || st.mark == p.epoch {
			continue
		}
		if *n == len(events) {
			keep = append(keep, p.acc.ready[i+1:]...)
			break
		}
		p.report(fd, st, ReadyIn, events, n)
	}
	p.acc.ready = keep
}

// acceptWaiting reports whether a level-triggered descriptor holds
// connections, so that Wait must not sleep.
func (p *uring) acceptWaiting() bool {
	for _, fd := range p.acc.ready {
		if as := p.acc.states[fd]; as.want && !as.edge && as.held() {
			return true
		}
	}
	return false
}

// Accept hands out a connection the kernel accepted for fd; see Acceptor.
func (p *uring) Accept(fd int) (int, error) {
	p.mu.Lock()
	var as *acceptState
	if p.r != nil {
		as = p.acc.states[int32(fd)]
	}
	if as == nil || !as.live && !as.held() {
		p.mu.Unlock()
		return Accept4(fd)
	}
	nfd, err := -1, error(unix.EAGAIN)
	switch {
	case as.head < len(as.q):
		nfd, err = int(as.q[as.head]), nil
		if as.head++; as.head == len(as.q) {
			as.q, as.head = as.q[:0], 0
		}
	case as.err != 0:
		err, as.err = unix.Errno(-as.err), 0
	}
	p.armAccept(int32(fd), as)
	if len(p.acc.arms) > 0 && p.sleeping {
		p.submitIfSleeping() // a re-armed accept must reach the kernel now
	}
	p.mu.Unlock()
	return nfd, err
}

// DropAccepted closes the connections held for fd; see Acceptor.
func (p *uring) DropAccepted(fd int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.r == nil {
		return
	}
	if as := p.acc.states[int32(fd)]; as != nil {
		p.dropAccepted(int32(fd), as)
		p.submitIfSleeping()
	}
}

// closeAccepts, before the ring closes, closes every held connection and
// cancels every accept, and waits (a second at most) for the accepts'
// last completions, closing what they accepted meanwhile: once the ring
// is closed nobody would see those descriptors.
func (p *uring) closeAccepts() {
	for fd, as := range p.acc.states {
		p.dropAccepted(fd, as)
	}
	p.acc.arms = p.acc.arms[:0]
	if p.acc.inKernel > 0 && p.flush() == nil && p.submit() == nil {
		r := p.r
		p.ts = kernelTimespec{nsec: int64(100 * time.Millisecond)}
		p.arg = getEventsArg{ts: uint64(uintptr(unsafe.Pointer(&p.ts)))}
		for deadline := time.Now().Add(time.Second); p.acc.inKernel > 0 && time.Now().Before(deadline); {
			uringEnter(r.fd, 0, 1, enterGetEvents|enterExtArg, unsafe.Pointer(&p.arg), unsafe.Sizeof(p.arg))
			head, tail := r.cqBounds()
			for ; head != tail; head++ {
				c := &r.cqes[head&r.cqMask]
				if !isAccept(c.userData) {
					continue
				}
				if c.res >= 0 {
					unix.Close(int(c.res))
				}
				if c.flags&cqeFMore == 0 {
					p.acc.inKernel--
				}
			}
			r.release(head)
		}
	}
	p.acc = acceptTable{}
}

// Accept4 is accept4(2) with SOCK_NONBLOCK|SOCK_CLOEXEC and no address,
// retried on EINTR and ECONNABORTED (a connection reset while it waited);
// it returns -1 and the bare errno on an error.
func Accept4(fd int) (int, error) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		switch e {
		case 0:
			return int(r), nil
		case unix.EINTR, unix.ECONNABORTED:
			continue
		}
		return -1, e
	}
}
