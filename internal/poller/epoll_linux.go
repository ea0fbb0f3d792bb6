package poller

import (
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// epoll is the default Linux backend.
//
// Registrations store (fd, generation) in the 64-bit epoll data: Fd holds
// the descriptor and Pad the generation, never a pointer.
type epoll struct {
	epfd int
	raw  []unix.EpollEvent // reused between waits; grown by Wait when full
	// ctl is the argument of epoll_ctl. A local would escape through the
	// epollCtl variable and cost every registration change an allocation;
	// Update calls never overlap (the base serialises them), and the
	// kernel copies the argument before epoll_ctl returns.
	ctl unix.EpollEvent
}

// havePwait2 is cleared the first time epoll_pwait2 answers ENOSYS; from
// then on waits fall back to epoll_wait with millisecond timeouts rounded
// up, so no timer fires early on older kernels either.
var havePwait2 atomic.Bool

func init() { havePwait2.Store(true) }

func openEpoll() (Poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	return &epoll{epfd: fd, raw: make([]unix.EpollEvent, 128)}, nil
}

func (p *epoll) Name() string { return "epoll" }

func (p *epoll) Features() Feature { return FeatureET | FeatureO1 | FeatureEarlyClose }

func (p *epoll) Concurrent() bool { return true }

func epollMask(i Interest) uint32 {
	var m uint32
	if i&In != 0 {
		m |= unix.EPOLLIN
	}
	if i&Out != 0 {
		m |= unix.EPOLLOUT
	}
	if i&RDHup != 0 {
		m |= unix.EPOLLRDHUP
	}
	if i&ET != 0 {
		m |= unix.EPOLLET
	}
	return m
}

func (p *epoll) Update(fd int, gen uint32, old, new Interest) error {
	p.ctl = unix.EpollEvent{Events: epollMask(new), Fd: int32(fd), Pad: int32(gen)}
	ev := &p.ctl
	switch {
	case new == 0:
		err := epollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, ev)
		// The kernel drops a closed descriptor on its own.
		if err == unix.ENOENT || err == unix.EBADF {
			return nil
		}
		return wrap("epoll_ctl", err)
	case old == 0:
		err := epollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, ev)
		if err == unix.EEXIST {
			// Still registered from an earlier owner of the number
			// whose removal was batched away: modify instead.
			err = epollCtl(p.epfd, unix.EPOLL_CTL_MOD, fd, ev)
		}
		return wrap("epoll_ctl", err)
	default:
		err := epollCtl(p.epfd, unix.EPOLL_CTL_MOD, fd, ev)
		if err == unix.ENOENT {
			// The descriptor was closed and its number reused since
			// it was registered: the kernel forgot it, so add it.
			err = epollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, ev)
		}
		return wrap("epoll_ctl", err)
	}
}

func (p *epoll) Wait(events []Event, timeout time.Duration) (int, error) {
	if len(events) == 0 {
		// epoll_wait refuses maxevents 0 with EINVAL; say so before
		// taking the address of an element that does not exist.
		return 0, os.NewSyscallError("epoll_wait", unix.EINVAL)
	}
	raw := p.raw
	if len(raw) < len(events) {
		raw = make([]unix.EpollEvent, len(events))
		p.raw = raw
	}
	raw = raw[:len(events)]
	n, err := epollWait(p.epfd, raw, timeout)
	if err != nil {
		if err == unix.EINTR {
			return 0, nil
		}
		return 0, os.NewSyscallError("epoll_wait", err)
	}
	for i := 0; i < n; i++ {
		e := &raw[i]
		var r Ready
		if e.Events&unix.EPOLLIN != 0 {
			r |= ReadyIn
		}
		if e.Events&unix.EPOLLOUT != 0 {
			r |= ReadyOut
		}
		if e.Events&unix.EPOLLRDHUP != 0 {
			r |= ReadyRDHup
		}
		if e.Events&unix.EPOLLHUP != 0 {
			r |= ReadyHup
		}
		if e.Events&unix.EPOLLERR != 0 {
			r |= ReadyErr
		}
		events[i] = Event{Fd: e.Fd, Gen: uint32(e.Pad), Ready: r}
	}
	return n, nil
}

func (p *epoll) Close() error {
	if p.epfd < 0 {
		return nil
	}
	err := unix.Close(p.epfd)
	p.epfd = -1
	return wrap("close", err)
}

// epollCtl is held in a variable so tests can inject failures.
var epollCtl = func(epfd, op, fd int, ev *unix.EpollEvent) error {
	_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// epollWait waits with nanosecond precision where the kernel has
// epoll_pwait2 (Linux 5.11). A zero timeout never blocks, so it skips the
// scheduler hand-off of a blocking system call.
var epollWait = func(epfd int, events []unix.EpollEvent, timeout time.Duration) (int, error) {
	p := uintptr(unsafe.Pointer(&events[0]))
	if timeout == 0 {
		n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_WAIT, uintptr(epfd), p, uintptr(len(events)), 0, 0, 0)
		return errnoResult(n, e)
	}
	if havePwait2.Load() {
		var ts *unix.Timespec
		if timeout > 0 {
			t := unix.NsecToTimespec(int64(timeout))
			ts = &t
		}
		n, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(epfd), p, uintptr(len(events)), uintptr(unsafe.Pointer(ts)), 0, 0)
		if e != unix.ENOSYS {
			return errnoResult(n, e)
		}
		havePwait2.Store(false)
	}
	ms := -1
	if timeout > 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	n, _, e := unix.Syscall6(unix.SYS_EPOLL_WAIT, uintptr(epfd), p, uintptr(len(events)), uintptr(ms), 0, 0)
	return errnoResult(n, e)
}

func errnoResult(n uintptr, e unix.Errno) (int, error) {
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func wrap(call string, err error) error {
	if err == nil {
		return nil
	}
	return os.NewSyscallError(call, err)
}
