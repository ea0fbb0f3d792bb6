package poller

import (
	"errors"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

type waitResult struct {
	n       int
	err     error
	elapsed time.Duration
}

// waitInBackground runs one Wait on another goroutine. If it has not
// returned within long, rescue (a registered, idle socket pair end) is made
// readable so the goroutine ends before the test fails.
func waitInBackground(t *testing.T, p Poller, events []Event, timeout time.Duration, rescue int) waitResult {
	t.Helper()
	done := make(chan waitResult, 1)
	go func() {
		start := time.Now()
		n, err := p.Wait(events, timeout)
		done <- waitResult{n, err, time.Since(start)}
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(long):
		write(t, rescue, "!")
		<-done
		t.Fatalf("%s: Wait(%v) still blocked after %v", p.Name(), timeout, long)
		return waitResult{}
	}
}

// waitUntilReported waits with no timeout on another goroutine until Wait
// reports something or fails. Interrupted waits (0, nil) are repeated.
func waitUntilReported(p Poller, events []Event) <-chan waitResult {
	done := make(chan waitResult, 1)
	go func() {
		for {
			if n, err := p.Wait(events, -1); n > 0 || err != nil {
				done <- waitResult{n: n, err: err}
				return
			}
		}
	}()
	return done
}

// expectOnly waits for the result of waitUntilReported and fails unless it
// is exactly one report, want. If none comes within long, rescue (the peer
// of a registered end) is written to so the waiting goroutine ends.
func expectOnly(t *testing.T, done <-chan waitResult, events []Event, want Event, rescue int, after string) {
	t.Helper()
	select {
	case r := <-done:
		if r.err != nil || r.n != 1 || events[0] != want {
			t.Errorf("Wait after %s = %d, %v (%+v), want 1, nil ([%+v])", after, r.n, r.err, events[:r.n], want)
		}
	case <-time.After(long):
		write(t, rescue, "!")
		<-done
		t.Fatalf("Wait still blocked %v after %s", long, after)
	}
}

// idle returns a registered socket pair end that is never ready unless the
// returned peer is written to.
func idle(t *testing.T, p Poller) (registered, peer int) {
	t.Helper()
	a, b := socketpair(t)
	update(t, p, a, 0, 0, In)
	t.Cleanup(func() { p.Update(a, 0, In, 0) })
	return a, b
}

func TestWaitZeroTimeoutReturnsAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		_, peer := idle(t, p)
		r := waitInBackground(t, p, make([]Event, 8), 0, peer)
		if r.n != 0 || r.err != nil {
			t.Errorf("Wait(0) with nothing ready = %d, %v, want 0, nil", r.n, r.err)
		}
	})
}

// countInterrupts wraps the named backend's wait system call and counts
// the calls that failed with EINTR. The Go runtime's preemption signals
// interrupt waits now and then, and the contract lets such a wait return
// early; only uninterrupted waits say anything about the timeout.
func countInterrupts(t *testing.T, name string) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	count := func(err error) {
		if err == unix.EINTR {
			n.Add(1)
		}
	}
	switch name {
	case "epoll":
		saved := epollWait
		t.Cleanup(func() { epollWait = saved })
		epollWait = func(epfd int, events []unix.EpollEvent, timeout time.Duration) (int, error) {
			n, err := saved(epfd, events, timeout)
			count(err)
			return n, err
		}
	case "poll":
		saved := ppoll
		t.Cleanup(func() { ppoll = saved })
		ppoll = func(fds []unix.PollFd, ts *unix.Timespec) (int, error) {
			n, err := saved(fds, ts)
			count(err)
			return n, err
		}
	case "io_uring":
		saved := uringEnter
		t.Cleanup(func() { uringEnter = saved })
		uringEnter = func(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argSize uintptr) (int, error) {
			n, err := saved(fd, toSubmit, minComplete, flags, arg, argSize)
			count(err)
			return n, err
		}
	default:
		t.Skipf("no wait hook for %s", name)
	}
	return &n
}

// checkTimeoutIsLowerBound waits with each timeout while nothing is ready
// and fails if an uninterrupted wait ends before its timeout.
func checkTimeoutIsLowerBound(t *testing.T, p Poller, timeouts []time.Duration) {
	t.Helper()
	interrupts := countInterrupts(t, p.Name())
	_, peer := idle(t, p)
	// Hand the registration to the kernel first (io_uring queues it for
	// the next Wait), so that each timed Wait below is the sleep alone.
	if _, err := p.Wait(make([]Event, 8), 0); err != nil {
		t.Fatalf("Wait(0): %v", err)
	}
	for _, d := range timeouts {
		for checked, tries := 0, 0; checked < 3; tries++ {
			if tries == 20 {
				t.Fatalf("Wait(%v) interrupted %d times out of %d", d, tries-checked, tries)
			}
			before := interrupts.Load()
			r := waitInBackground(t, p, make([]Event, 8), d, peer)
			if r.n != 0 || r.err != nil {
				t.Errorf("Wait(%v) with nothing ready = %d, %v, want 0, nil", d, r.n, r.err)
			}
			if interrupts.Load() != before {
				continue
			}
			checked++
			if r.elapsed < d {
				t.Errorf("Wait(%v) returned after %v, want at least %v", d, r.elapsed, d)
			}
		}
	}
}

// A positive timeout is a lower bound: the wait never ends early, also for
// sub-millisecond timeouts that epoll_wait's milliseconds cannot express.
func TestWaitPositiveTimeoutWaitsAtLeastThatLong(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		checkTimeoutIsLowerBound(t, p, []time.Duration{300 * time.Microsecond, 1500 * time.Microsecond, 30 * time.Millisecond})
	})
}

// Kernels before 5.11 lack epoll_pwait2; the fallback rounds the timeout up
// to whole milliseconds so it still never ends early.
func TestEpollWaitFallbackRoundsTimeoutUp(t *testing.T) {
	if !havePwait2.Load() {
		t.Skip("epoll_pwait2 already unavailable: the fallback is what every test uses")
	}
	havePwait2.Store(false)
	t.Cleanup(func() { havePwait2.Store(true) })
	p := openBackend(t, "epoll")
	checkTimeoutIsLowerBound(t, p, []time.Duration{time.Nanosecond, 300 * time.Microsecond, 1500 * time.Microsecond})
}

// A negative timeout waits until something is ready.
func TestWaitNegativeTimeoutWaitsForReadiness(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		a, b := idle(t, p)
		events := make([]Event, 8)
		done := waitUntilReported(p, events)
		select {
		case r := <-done:
			t.Fatalf("Wait(-1) returned %d, %v (%+v) before anything was written", r.n, r.err, events[:r.n])
		case <-time.After(20 * time.Millisecond):
		}
		write(t, b, "x")
		expectOnly(t, done, events, Event{Fd: int32(a), Gen: 0, Ready: ReadyIn}, b, "the write")
	})
}

// A signal landing on the thread blocked in Wait makes the system call fail
// with EINTR; Wait reports that as an empty, successful wait.
func TestWaitInterruptedBySignalIsNotAnError(t *testing.T) {
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, unix.SIGUSR1)
	defer signal.Stop(sigs)
	forEachBackend(t, func(t *testing.T, p Poller) {
		idle(t, p)
		tid := make(chan int, 1)
		done := make(chan waitResult, 1)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tid <- unix.Gettid()
			start := time.Now()
			n, err := p.Wait(make([]Event, 8), long)
			done <- waitResult{n, err, time.Since(start)}
		}()
		thread := <-tid
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case r := <-done:
				if r.n != 0 || r.err != nil {
					t.Errorf("interrupted Wait = %d, %v, want 0, nil", r.n, r.err)
				}
				if r.elapsed >= long {
					t.Errorf("Wait(%v) ran its full timeout: the signal did not end it", long)
				}
				return
			case <-tick.C:
				if err := unix.Tgkill(unix.Getpid(), thread, unix.SIGUSR1); err != nil {
					t.Fatalf("tgkill: %v", err)
				}
			}
		}
	})
}

// setWaitHook makes the named backend's wait system call fail with errno.
func setWaitHook(t *testing.T, name string, errno unix.Errno) (syscall string) {
	t.Helper()
	switch name {
	case "epoll":
		saved := epollWait
		t.Cleanup(func() { epollWait = saved })
		epollWait = func(int, []unix.EpollEvent, time.Duration) (int, error) { return 0, errno }
		return "epoll_wait"
	case "poll":
		saved := ppoll
		t.Cleanup(func() { ppoll = saved })
		ppoll = func([]unix.PollFd, *unix.Timespec) (int, error) { return 0, errno }
		return "ppoll"
	case "io_uring":
		saved := uringEnter
		t.Cleanup(func() { uringEnter = saved })
		uringEnter = func(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argSize uintptr) (int, error) {
			if minComplete > 0 {
				return 0, errno // the call that sleeps
			}
			return saved(fd, toSubmit, minComplete, flags, arg, argSize)
		}
		return "io_uring_enter"
	}
	t.Skipf("no wait hook for %s", name)
	return ""
}

func TestWaitInjectedEINTRIsNotAnError(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		setWaitHook(t, p.Name(), unix.EINTR)
		if n, err := p.Wait(make([]Event, 8), time.Second); n != 0 || err != nil {
			t.Errorf("Wait with the system call failing EINTR = %d, %v, want 0, nil", n, err)
		}
	})
}

func TestWaitFailureIsWrapped(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		call := setWaitHook(t, p.Name(), unix.EFAULT)
		n, err := p.Wait(make([]Event, 8), time.Second)
		var se *os.SyscallError
		if n != 0 || !errors.As(err, &se) || se.Syscall != call || !errors.Is(err, unix.EFAULT) {
			t.Errorf("Wait with %s failing EFAULT = %d, %v, want 0 and a %s *os.SyscallError matching EFAULT", call, n, err, call)
		}
	})
}

// Wait fills at most len(events), whatever the number of ready descriptors,
// and reports the rest on later waits.
func TestWaitFillsAtMostTheEventsGiven(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		const pairs = 150 // more than epoll's initial buffer of 128
		fds := make(map[int32]uint32, pairs)
		for i := 0; i < pairs; i++ {
			a, b := socketpair(t)
			write(t, b, "x")
			update(t, p, a, uint32(1000+i), 0, In)
			fds[int32(a)] = uint32(1000 + i)
		}
		for _, size := range []int{1, 7, pairs, 256} {
			events := make([]Event, size)
			n, err := p.Wait(events, long)
			if err != nil {
				t.Fatalf("Wait(len %d): %v", size, err)
			}
			if want := min(size, pairs); n != want {
				t.Errorf("Wait(len %d) with %d ready = %d, want %d", size, pairs, n, want)
			}
			seen := map[int32]bool{}
			for _, e := range events[:n] {
				gen, ok := fds[e.Fd]
				if !ok || seen[e.Fd] || e.Gen != gen || e.Ready != ReadyIn {
					t.Errorf("Wait(len %d): bad report %+v (registered %v, gen %d, seen before %v)", size, e, ok, gen, seen[e.Fd])
				}
				seen[e.Fd] = true
			}
		}
	})
}

// Nothing panics on misuse: an empty events slice gets 0 and maybe an
// error, never an index-out-of-range panic.
func TestWaitWithNoRoomDoesNotPanic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		a, b := socketpair(t)
		write(t, b, "x")
		update(t, p, a, 1, 0, In)
		for _, events := range [][]Event{nil, {}} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("Wait(%#v, 0) panicked: %v", events, r)
					}
				}()
				if n, _ := p.Wait(events, 0); n != 0 {
					t.Errorf("Wait(%#v, 0) = %d, want 0", events, n)
				}
			}()
		}
		update(t, p, a, 1, In, 0)
	})
}

// On a backend that allows it, a registration made while another goroutine
// is blocked in Wait is seen by that Wait.
func TestUpdateWhileWaitIsBlocked(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		if !p.Concurrent() {
			t.Skipf("%s is not Concurrent", p.Name())
		}
		_, rescue := idle(t, p)
		a, b := socketpair(t)
		write(t, b, "x")
		events := make([]Event, 8)
		done := waitUntilReported(p, events)
		awaitBlockedWait(t, done, rescue)
		update(t, p, a, 12, 0, In)
		expectOnly(t, done, events, Event{Fd: int32(a), Gen: 12, Ready: ReadyIn}, rescue, "registering a ready descriptor")
		update(t, p, a, 12, In, 0)
	})
}
