package main

import (
	"fmt"
	"os"
	"slices"
	"unsafe"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// chain is the pipechain state. Its counters are plain fields, not
// atomics, because the loop is single-threaded, as in the C program.
type chain struct {
	w        []int // w[i] is the descriptor that feeds pipe i
	count    int   // bytes read
	fired    int   // bytes written
	writes   int   // writes still to do
	failures int   // failed or short reads and writes
}

func runPipechain(impl string, a *argList) (string, error) {
	if err := onlyLevent(impl, a.name); err != nil {
		return "", err
	}
	P, err := a.positive("PIPES", -1)
	if err != nil {
		return "", err
	}
	A, err := a.positive("ACTIVE", -1)
	if err != nil {
		return "", err
	}
	W, err := a.int("WRITES", -1)
	if err != nil {
		return "", err
	}
	iters, err := a.positive("ITERS", 25)
	if err != nil {
		return "", err
	}
	fds, err := a.word("FDS", "duplex", "duplex", "pair")
	if err != nil {
		return "", err
	}
	if err := a.done(); err != nil {
		return "", err
	}
	if A > P {
		return "", fmt.Errorf("%w: ACTIVE must not exceed PIPES", errUsage)
	}

	r, w, err := makePipes(P, fds == "pair")
	if err != nil {
		return "", err
	}
	defer closeAll(r, w)
	base, err := event.NewBase()
	if err != nil {
		return "", err
	}
	defer base.Close()
	c := &chain{w: w}
	evs := make([]*event.Event, P)
	for i := range evs {
		evs[i], err = event.New(base, r[i], event.Read|event.Persist, c.callback(i))
		if err != nil {
			return "", err
		}
		if err := evs[i].Add(0); err != nil {
			return "", err
		}
	}

	dispatch := make([]int64, iters) // t1 - t0
	total := make([]int64, iters)    // t1 - t_iter0
	one := []byte{'e'}
	for it := range iters {
		tIter0 := nanotime()
		for _, ev := range evs {
			if err := ev.Del(); err != nil {
				return "", err
			}
			if err := ev.Add(0); err != nil {
				return "", err
			}
		}
		if err := base.Loop(event.LoopOnce | event.LoopNonblock); err != nil {
			return "", err
		}
		c.fired = 0
		space := P / A
		for j := range A {
			if n, err := unix.Write(w[j*space], one); err != nil || n != 1 {
				c.failures++
			}
			c.fired++
		}
		c.count = 0
		c.writes = W
		t0 := nanotime()
		for c.count != c.fired {
			if err := base.Loop(event.LoopOnce); err != nil {
				return "", err
			}
		}
		t1 := nanotime()
		if c.fired != A+W || c.failures != 0 {
			return "", fmt.Errorf("iteration %d: fired=%d want %d, failures=%d want 0", it, c.fired, A+W, c.failures)
		}
		dispatch[it] = t1 - t0
		total[it] = t1 - tIter0
	}

	med := percentile(dispatch, 50)
	line := fmt.Sprintf("bench=pipechain impl=%s pipes=%d active=%d writes=%d fds=%s us_per_iter=%.1f ns_per_event=%.1f total_us_per_iter=%.1f",
		impl, P, A, W, fds,
		float64(med)/1e3, float64(med)/float64(A+W), float64(percentile(total, 50))/1e3)
	if rawIO {
		line += " io=raw"
	}
	return line, nil
}

// rawIO (LEVBENCH_RAWIO=1) makes the callbacks read and write with
// RawSyscall, as C does, instead of x/sys/unix's Read and Write, whose
// entry into and exit from the Go scheduler costs a few hundred ns per
// call on this platform. It separates the loop's cost from the cost of
// Go's system call wrappers; the line then ends with io=raw.
var rawIO = os.Getenv("LEVBENCH_RAWIO") == "1"

func rawRead(fd int, p []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// callback is pipe i's read callback: read one byte, and while writes
// remain pass one on to the next pipe. It uses raw read and write calls,
// as a user of the loop would.
func (c *chain) callback(i int) event.Callback {
	next := (i + 1) % len(c.w)
	var buf [1]byte
	read, write := unix.Read, unix.Write
	if rawIO {
		read, write = rawRead, rawWrite
	}
	return func(fd int, _ event.Flag) {
		n, err := read(fd, buf[:])
		if err != nil || n < 0 {
			c.failures++
		} else {
			c.count += n
		}
		if c.writes > 0 {
			buf[0] = 'e'
			if n, err := write(c.w[next], buf[:]); err != nil || n != 1 {
				c.failures++
			}
			c.writes--
			c.fired++
		}
	}
}

// makePipes builds P one-way byte channels out of non-blocking AF_UNIX
// stream socketpairs and returns their read and write descriptors. pair
// gives each pipe its own socketpair (2P descriptors); otherwise pipes k
// and k+H share socketpair k, one reading each end (about P descriptors).
// On failure it closes what it opened.
func makePipes(P int, pair bool) (r, w []int, err error) {
	r, w = make([]int, P), make([]int, P)
	for i := range r {
		r[i], w[i] = -1, -1
	}
	defer func() {
		if err != nil {
			closeAll(r, w)
		}
	}()
	// Setup is not timed, so the portable way (flags set afterwards, as
	// platforms without SOCK_NONBLOCK need) costs nothing measured.
	socketpair := func() (int, int, error) {
		sv, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			return -1, -1, os.NewSyscallError("socketpair", err)
		}
		for _, fd := range sv {
			unix.CloseOnExec(fd)
			if err := unix.SetNonblock(fd, true); err != nil {
				unix.Close(sv[0])
				unix.Close(sv[1])
				return -1, -1, os.NewSyscallError("fcntl", err)
			}
		}
		return sv[0], sv[1], nil
	}
	if pair {
		for i := range P {
			if r[i], w[i], err = socketpair(); err != nil {
				return r, w, err
			}
		}
		return r, w, nil
	}
	H := (P + 1) / 2
	for k := range H {
		x, y, e := socketpair()
		if e != nil {
			return r, w, e
		}
		r[k], w[k] = x, y
		if k+H < P {
			r[k+H], w[k+H] = y, x
		}
	}
	return r, w, nil
}

// closeAll closes every descriptor of a pipe set once: in duplex layout
// most appear both as a read and as a write end.
func closeAll(r, w []int) {
	closed := make(map[int]bool, len(r))
	for _, fd := range slices.Concat(r, w) {
		if fd >= 0 && !closed[fd] {
			closed[fd] = true
			unix.Close(fd)
		}
	}
}
