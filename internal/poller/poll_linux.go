package poller

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// poll is the portable fallback backend (libevent's poll.c): one pollfd
// per registered descriptor in a dense array, with an index from the
// descriptor number into it so Update is O(1).
type poll struct {
	ts   unix.Timespec // Wait's timeout, kept here so it does not escape per call
	fds  []unix.PollFd
	gens []uint32 // gens[i] is the generation of fds[i]
	idx  []int32  // idx[fd] is 1 + the position of fd in fds, 0 if absent
}

func openPoll() (Poller, error) { return &poll{}, nil }

func (p *poll) Name() string { return "poll" }

func (p *poll) Features() Feature { return FeatureFDs | FeatureEarlyClose }

func (p *poll) Concurrent() bool { return false }

func pollMask(i Interest) int16 {
	var m int16
	if i&In != 0 {
		m |= unix.POLLIN
	}
	if i&Out != 0 {
		m |= unix.POLLOUT
	}
	if i&RDHup != 0 {
		m |= unix.POLLRDHUP
	}
	return m
}

func (p *poll) Update(fd int, gen uint32, old, new Interest) error {
	if fd < 0 {
		return os.NewSyscallError("poll", unix.EBADF)
	}
	if new&ET != 0 {
		// poll has no edge-triggered mode; watching level-triggered
		// instead would report more often than the caller asked.
		return os.NewSyscallError("poll", unix.EINVAL)
	}
	if old == 0 && new != 0 && fd >= len(p.idx) {
		// The index grows to the largest number registered: make sure
		// it is an open descriptor (and so below the descriptor limit)
		// before growing it, as epoll_ctl would refuse a closed one.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return os.NewSyscallError("poll", err)
		}
	}
	for fd >= len(p.idx) {
		p.idx = append(p.idx, make([]int32, len(p.idx)+64)...)
	}
	at := int(p.idx[fd]) - 1
	if new == 0 {
		if at < 0 {
			return nil
		}
		last := len(p.fds) - 1
		p.fds[at], p.gens[at] = p.fds[last], p.gens[last]
		p.idx[p.fds[at].Fd] = int32(at + 1)
		p.fds, p.gens = p.fds[:last], p.gens[:last]
		p.idx[fd] = 0
		return nil
	}
	if at < 0 {
		p.fds = append(p.fds, unix.PollFd{Fd: int32(fd)})
		p.gens = append(p.gens, 0)
		at = len(p.fds) - 1
		p.idx[fd] = int32(at + 1)
	}
	p.fds[at].Events = pollMask(new)
	p.gens[at] = gen
	return nil
}

func (p *poll) Wait(events []Event, timeout time.Duration) (int, error) {
	var ts *unix.Timespec
	if timeout >= 0 {
		p.ts = unix.NsecToTimespec(int64(timeout))
		ts = &p.ts
	}
	n, err := ppoll(p.fds, ts)
	if err != nil {
		if err == unix.EINTR {
			return 0, nil
		}
		return 0, os.NewSyscallError("ppoll", err)
	}
	got := 0
	for i := range p.fds {
		if n == 0 || got == len(events) {
			break
		}
		re := p.fds[i].Revents
		if re == 0 {
			continue
		}
		n--
		p.fds[i].Revents = 0
		events[got] = Event{Fd: p.fds[i].Fd, Gen: p.gens[i], Ready: pollReady(uint32(uint16(re)))}
		got++
	}
	return got, nil
}

// pollReady translates poll(2) revents, which io_uring's poll results
// share, into Ready bits.
func pollReady(re uint32) Ready {
	var r Ready
	if re&unix.POLLIN != 0 {
		r |= ReadyIn
	}
	if re&unix.POLLOUT != 0 {
		r |= ReadyOut
	}
	if re&unix.POLLRDHUP != 0 {
		r |= ReadyRDHup
	}
	if re&unix.POLLHUP != 0 {
		r |= ReadyHup
	}
	if re&(unix.POLLERR|unix.POLLNVAL) != 0 {
		r |= ReadyErr
	}
	return r
}

func (p *poll) Close() error { return nil }

// ppoll is held in a variable so tests can inject failures.
var ppoll = func(fds []unix.PollFd, ts *unix.Timespec) (int, error) {
	return unix.Ppoll(fds, ts, nil)
}
