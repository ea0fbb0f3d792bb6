package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dialBatch is how many connections are started before waiting for them
// to be established: below libevent's listen backlog of 128, so that a
// server which accepts promptly never has SYNs dropped.
const dialBatch = 100

// maxReports bounds the failures described on stderr; all are counted.
const maxReports = 5

// conn is one active connection.
//
// Invariants: recv <= sent <= recv+depth; out[ooff:] is queued and not yet
// written; pollOut ⇔ EPOLLOUT is registered, which is only while out has
// bytes the socket did not take.
type conn struct {
	id      int
	fd      int
	sent    uint64  // messages queued so far
	recv    uint64  // the message being received
	roff    int     // bytes of message recv received
	out     []byte  // queued output, written from ooff
	ooff    int     // bytes of out already written
	stamps  []int64 // queue time of message seq at seq%depth
	pollOut bool
	dead    bool
}

// loader runs the load: one goroutine, one epoll instance.
type loader struct {
	cfg    config
	pat    *pattern
	ep     int
	conns  []*conn
	byFd   []*conn
	idle   []int
	buf    []byte
	events []unix.EpollEvent
	epoch  time.Time

	hist     histogram
	msgs     uint64
	errors   int
	reported int
	stderr   io.Writer
}

// load runs the whole benchmark: connect, warm up, measure, check the idle
// connections, disconnect.
func load(cfg config, stderr io.Writer) (res result, err error) {
	limit, err := raiseFdLimit()
	if err != nil {
		return res, err
	}
	if need := cfg.conns + cfg.idle + 16; need > limit {
		return res, fmt.Errorf("%d connections need about %d descriptors; the limit is %d", cfg.conns+cfg.idle, need, limit)
	}
	l := &loader{
		cfg:    cfg,
		pat:    newPattern(cfg.size),
		byFd:   make([]*conn, limit),
		buf:    make([]byte, 256<<10),
		events: make([]unix.EpollEvent, 1024),
		epoch:  time.Now(),
		stderr: stderr,
	}
	l.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return res, os.NewSyscallError("epoll_create1", err)
	}
	defer l.closeAll()

	var srv *serverProbe
	if cfg.pid > 0 {
		if err := waitListening(cfg.addr, cfg.wait); err != nil {
			return res, err
		}
		if srv, err = newServerProbe(cfg.pid); err != nil {
			return res, err
		}
	}
	if l.idle, err = l.dialAll(cfg.idle); err != nil {
		return res, fmt.Errorf("idle connections: %w", err)
	}
	if srv != nil && cfg.idle > 0 {
		if err := srv.idleAccepted(cfg.idle, stderr); err != nil {
			return res, err
		}
	}
	fds, err := l.dialAll(cfg.conns)
	if err != nil {
		return res, fmt.Errorf("active connections: %w", err)
	}
	if err := l.start(fds); err != nil {
		return res, err
	}

	if err := l.pump(l.now() + int64(cfg.warmup)); err != nil {
		return res, err
	}
	l.hist.reset()
	l.msgs = 0
	t0, cpu0 := l.now(), selfCPU()
	busy0, steal0, _ := machineCPU()
	if srv != nil {
		if err := srv.windowStart(); err != nil {
			return res, err
		}
	}
	if err := l.pump(t0 + int64(cfg.duration)); err != nil {
		return res, err
	}
	t1, cpu1 := l.now(), selfCPU()
	busy1, steal1, _ := machineCPU()
	if srv != nil {
		if res.srv, err = srv.windowEnd(cfg.conns + cfg.idle); err != nil {
			return res, err
		}
	}
	res.clientCPU = cpu1 - cpu0
	res.otherCPU = busy1 - busy0 - res.clientCPU
	if res.srv != nil {
		res.otherCPU -= res.srv.cpu
	}
	res.otherCPU = max(res.otherCPU, 0) // the two clocks tick apart
	res.steal = steal1 - steal0
	l.checkIdle()
	res.secs = time.Duration(t1 - t0).Seconds()
	res.msgs = l.msgs
	res.p50, res.p99 = l.hist.quantile(0.50), l.hist.quantile(0.99)
	res.errors = l.errors
	return res, nil
}

func (l *loader) now() int64 { return int64(time.Since(l.epoch)) }

// raiseFdLimit raises the soft RLIMIT_NOFILE to the hard limit, never
// beyond, and returns it.
func raiseFdLimit() (int, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0, os.NewSyscallError("getrlimit", err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
			return 0, os.NewSyscallError("setrlimit", err)
		}
	}
	return int(min(rl.Cur, 1<<24)), nil
}

func selfCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dialAll opens n connections, dialBatch at a time, and returns their
// descriptors once every one is established.
func (l *loader) dialAll(n int) ([]int, error) {
	fds := make([]int, 0, n)
	sa := &unix.SockaddrInet4{Port: int(l.cfg.addr.Port()), Addr: l.cfg.addr.Addr().As4()}
	for len(fds) < n {
		batch := min(dialBatch, n-len(fds))
		waiting := 0
		for range batch {
			fd, done, err := dial(sa)
			if err != nil {
				return fds, err
			}
			fds = append(fds, fd)
			if done {
				continue
			}
			if err := unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(fd)}); err != nil {
				return fds, os.NewSyscallError("epoll_ctl", err)
			}
			waiting++
		}
		if err := l.waitConnected(waiting); err != nil {
			return fds, err
		}
	}
	return fds, nil
}

// dial starts a non-blocking connect; done reports that it finished at once.
func dial(sa *unix.SockaddrInet4) (fd int, done bool, err error) {
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, false, os.NewSyscallError("socket", err)
	}
	// The client writes whole batches of messages; Nagle's algorithm
	// would only hold them back.
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return -1, false, os.NewSyscallError("setsockopt", err)
	}
	switch err := unix.Connect(fd, sa); err {
	case nil:
		return fd, true, nil
	case unix.EINPROGRESS:
		return fd, false, nil
	default:
		unix.Close(fd)
		return -1, false, os.NewSyscallError("connect", err)
	}
}

// waitConnected waits for n connects registered for EPOLLOUT to finish
// and removes them from the epoll set. A connect may take a few seconds
// when a SYN is dropped, so the deadline is generous.
func (l *loader) waitConnected(n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for n > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d connects still pending after 30 s", n)
		}
		k, err := unix.EpollWait(l.ep, l.events, 100)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("epoll_wait", err)
		}
		for _, ev := range l.events[:k] {
			fd := int(ev.Fd)
			if err := unix.EpollCtl(l.ep, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
				return os.NewSyscallError("epoll_ctl", err)
			}
			soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
			if err != nil {
				return os.NewSyscallError("getsockopt", err)
			}
			if soerr != 0 {
				return os.NewSyscallError("connect", unix.Errno(soerr))
			}
			n--
		}
	}
	return nil
}

// start registers the active connections and queues depth messages on
// each.
func (l *loader) start(fds []int) error {
	now := l.now()
	for i, fd := range fds {
		c := &conn{id: i, fd: fd, stamps: make([]int64, l.cfg.depth), out: make([]byte, 0, l.cfg.depth*l.cfg.size)}
		l.conns = append(l.conns, c)
		l.byFd[fd] = c
		if err := unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			return os.NewSyscallError("epoll_ctl", err)
		}
	}
	for _, c := range l.conns {
		for range l.cfg.depth {
			l.queue(c, now)
		}
		l.flush(c)
	}
	return nil
}

// pump runs the event loop until the clock reaches until (ns since epoch).
func (l *loader) pump(until int64) error {
	for {
		now := l.now()
		if now >= until {
			return nil
		}
		ms := int((until - now + int64(time.Millisecond) - 1) / int64(time.Millisecond))
		n, err := unix.EpollWait(l.ep, l.events, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("epoll_wait", err)
		}
		for _, ev := range l.events[:n] {
			c := l.byFd[ev.Fd]
			if c == nil || c.dead {
				continue
			}
			// Error and hang-up are found by the read, with their cause.
			if ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
				l.readable(c)
			}
			if !c.dead && ev.Events&unix.EPOLLOUT != 0 {
				l.flush(c)
			}
		}
	}
}

// readable reads what the server echoed, checks it, queues one new
// message for each that came back whole, and writes them in one go.
func (l *loader) readable(c *conn) {
	for {
		n, err := rawRead(c.fd, l.buf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
		case err != nil:
			l.fail(c, fmt.Sprintf("read: %v", err))
			return
		case n == 0:
			l.fail(c, "the server closed the connection")
			return
		default:
			if !l.consume(c, l.buf[:n], l.now()) {
				return
			}
			if n == len(l.buf) {
				continue
			}
		}
		break
	}
	l.flush(c)
}

// consume checks p, the next bytes echoed on c, against what was sent,
// records the round trip of each message it completes and queues a new
// one in its place.
func (l *loader) consume(c *conn, p []byte, now int64) bool {
	size := l.cfg.size
	for len(p) > 0 {
		if c.recv == c.sent {
			l.fail(c, fmt.Sprintf("%d bytes more than were sent", len(p)))
			return false
		}
		k := min(len(p), size-c.roff)
		if !l.pat.matches(p[:k], c.id, c.recv, c.roff) {
			l.fail(c, fmt.Sprintf("message %d: wrong bytes at offset %d..%d", c.recv, c.roff, c.roff+k))
			return false
		}
		c.roff += k
		p = p[k:]
		if c.roff == size {
			l.hist.add(now - c.stamps[c.recv%uint64(l.cfg.depth)])
			l.msgs++
			c.recv++
			c.roff = 0
			l.queue(c, now)
		}
	}
	return true
}

// queue appends the next message of c to its output.
func (l *loader) queue(c *conn, now int64) {
	c.stamps[c.sent%uint64(l.cfg.depth)] = now
	c.out = l.pat.appendMessage(c.out, c.id, c.sent)
	c.sent++
}

// flush writes c's queued output, registering EPOLLOUT while the socket
// cannot take it all.
func (l *loader) flush(c *conn) {
	for c.ooff < len(c.out) {
		n, err := rawWrite(c.fd, c.out[c.ooff:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if !c.pollOut {
				l.setPollOut(c, true)
			}
			return
		case err != nil:
			l.fail(c, fmt.Sprintf("write: %v", err))
			return
		}
		c.ooff += n
	}
	c.out, c.ooff = c.out[:0], 0
	if c.pollOut {
		l.setPollOut(c, false)
	}
}

func (l *loader) setPollOut(c *conn, on bool) {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c.fd)}
	if on {
		ev.Events |= unix.EPOLLOUT
	}
	if err := unix.EpollCtl(l.ep, unix.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		l.fail(c, fmt.Sprintf("epoll_ctl: %v", err))
		return
	}
	c.pollOut = on
}

// fail counts a failed connection, describes the first few, and closes it.
func (l *loader) fail(c *conn, why string) {
	l.errors++
	if l.reported < maxReports {
		l.reported++
		fmt.Fprintf(l.stderr, "echoload: connection %d: %s\n", c.id, why)
	}
	c.dead = true
	l.byFd[c.fd] = nil
	unix.EpollCtl(l.ep, unix.EPOLL_CTL_DEL, c.fd, nil)
	abort(c.fd)
	c.fd = -1
}

// checkIdle counts the idle connections the server closed or reset: each
// must still be open with nothing to read.
func (l *loader) checkIdle() {
	var b [1]byte
	for i, fd := range l.idle {
		n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		if err == unix.EAGAIN {
			continue
		}
		why := "the server closed an idle connection"
		switch {
		case err != nil:
			why = fmt.Sprintf("idle connection %d: %v", i, err)
		case n > 0:
			why = fmt.Sprintf("idle connection %d: the server sent data", i)
		}
		l.errors++
		if l.reported < maxReports {
			l.reported++
			fmt.Fprintln(l.stderr, "echoload:", why)
		}
	}
}

// closeAll resets every connection and closes the epoll instance.
func (l *loader) closeAll() {
	for _, c := range l.conns {
		if !c.dead {
			abort(c.fd)
		}
	}
	for _, fd := range l.idle {
		abort(fd)
	}
	l.conns, l.idle = nil, nil
	unix.Close(l.ep)
}

// abort closes fd with a reset (SO_LINGER 0): the client keeps no
// TIME_WAIT socket, so repeated runs never run out of local ports.
func abort(fd int) {
	unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	unix.Close(fd)
}

// rawRead and rawWrite are read(2) and write(2) as raw system calls: the
// sockets are non-blocking, so the call never blocks and need not tell the
// scheduler about it, which saves the client a little per message.
func rawRead(fd int, p []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// serverProbe reads the server's /proc files around the measured window.
type serverProbe struct {
	pid      int
	rss0     int64 // kB, before the first connection
	fds0     int   // descriptors open before the first connection
	cpu0     time.Duration
	idleRate float64
	idleOK   bool
}

func newServerProbe(pid int) (*serverProbe, error) {
	rss, _, err := procMem(pid)
	if err != nil {
		return nil, err
	}
	fds, err := procFds(pid)
	if err != nil {
		return nil, err
	}
	return &serverProbe{pid: pid, rss0: rss, fds0: fds}, nil
}

// idleAccepted waits until the server holds a descriptor for every idle
// connection, then records its memory growth per connection.
func (s *serverProbe) idleAccepted(idle int, stderr io.Writer) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := procFds(s.pid)
		if err != nil {
			return err
		}
		if n >= s.fds0+idle {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(stderr, "echoload: the server accepted %d of %d idle connections; idle memory not measured\n", n-s.fds0, idle)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The last accepted connections are still being set up: let the
	// server settle.
	time.Sleep(200 * time.Millisecond)
	rss, _, err := procMem(s.pid)
	if err != nil {
		return err
	}
	s.idleRate = float64(rss-s.rss0) * 1024 / float64(idle)
	s.idleOK = true
	return nil
}

func (s *serverProbe) windowStart() (err error) {
	s.cpu0, err = procCPU(s.pid)
	return err
}

func (s *serverProbe) windowEnd(conns int) (*serverStats, error) {
	cpu, err := procCPU(s.pid)
	if err != nil {
		return nil, err
	}
	rss, hwm, err := procMem(s.pid)
	if err != nil {
		return nil, err
	}
	if cpu < s.cpu0 {
		return nil, errors.New("the server's CPU time went backwards: was it restarted?")
	}
	return &serverStats{
		cpu:              cpu - s.cpu0,
		rssKB:            rss,
		hwmKB:            hwm,
		bytesPerConn:     float64(rss-s.rss0) * 1024 / float64(conns),
		idleBytesPerConn: s.idleRate,
		idleMeasured:     s.idleOK,
	}, nil
}
