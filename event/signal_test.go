//go:build linux

package event

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/signal"
)

// runLoop runs b's loop on its own goroutine until the test ends, and
// returns that goroutine's id.
func runLoop(t *testing.T, b *Base) uint64 {
	t.Helper()
	id := make(chan uint64, 1)
	done := make(chan error, 1)
	go func() {
		id <- goid()
		done <- b.Loop(LoopNoExitOnEmpty)
	}()
	t.Cleanup(func() {
		b.LoopBreak()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("loop did not stop")
		}
	})
	return <-id
}

type sigCall struct {
	fd   int
	what Flag
	g    uint64
}

func TestSignalsReachTheLoopGoroutine(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			b := newBase(t, Config{})
			calls := make(chan sigCall, 4)
			ev, err := NewSignal(b, sig, func(fd int, what Flag) { calls <- sigCall{fd, what, goid()} })
			if err != nil {
				t.Fatal(err)
			}
			if ev.Events() != Signal|Persist || ev.Fd() != int(sig) {
				t.Fatalf("NewSignal: events %v fd %d, want Signal|Persist and %d", ev.Events(), ev.Fd(), int(sig))
			}
			mustAdd(t, ev, 0)
			lg := runLoop(t, b)
			syscall.Kill(os.Getpid(), sig)
			select {
			case c := <-calls:
				if c.fd != int(sig) || c.what != Signal || c.g != lg {
					t.Fatalf("callback(%d, %v) on goroutine %d, want (%d, Signal) on the loop's %d", c.fd, c.what, c.g, int(sig), lg)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%v never reached the callback", sig)
			}
			ev.Free()
		})
	}
}

func TestSIGCHLDFromAChildProcess(t *testing.T) {
	b := newBase(t, Config{})
	calls := make(chan Flag, 4)
	ev, err := NewSignal(b, syscall.SIGCHLD, func(_ int, what Flag) { calls <- what })
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, ev, 0)
	runLoop(t, b)
	if err := exec.Command("/bin/true").Run(); err != nil {
		t.Skipf("cannot run a child: %v", err)
	}
	select {
	case what := <-calls:
		if what != Signal {
			t.Fatalf("what = %v, want Signal", what)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGCHLD never reached the callback")
	}
	ev.Free()
}

func TestSignalsOneAtATimeAreNeverLost(t *testing.T) {
	b := newBase(t, Config{})
	calls := make(chan struct{}, 1)
	ev, err := NewSignal(b, syscall.SIGUSR1, func(int, Flag) { calls <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, ev, 0)
	runLoop(t, b)
	n := 1000
	if testing.Short() {
		n = 100
	}
	for i := 0; i < n; i++ {
		syscall.Kill(os.Getpid(), syscall.SIGUSR1)
		select {
		case <-calls:
		case <-time.After(10 * time.Second):
			t.Fatalf("signal %d of %d was lost", i+1, n)
		}
	}
	ev.Free()
}

func TestSignalBurstIsCountedOrCoalesced(t *testing.T) {
	b := newBase(t, Config{})
	got := make(chan int, 2000)
	ev, err := NewSignal(b, syscall.SIGUSR1, func(int, Flag) { got <- 1 })
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, ev, 0)
	runLoop(t, b)
	const n = 1000
	for i := 0; i < n; i++ {
		syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	}
	total := 0
	quiet := time.After(10 * time.Second)
	for total == 0 {
		select {
		case <-got:
			total++
		case <-quiet:
			t.Fatal("no callback for a burst of 1000 signals")
		}
	}
	// Take whatever else arrives until the stream has been quiet a while.
	for {
		select {
		case <-got:
			total++
			continue
		case <-time.After(300 * time.Millisecond):
		}
		break
	}
	if total < 1 || total > n {
		t.Fatalf("%d callbacks for %d signals, want 1..%d", total, n, n)
	}
	t.Logf("%d signals sent in a burst, %d callbacks (the kernel and runtime coalesce)", n, total)
	ev.Free()
}

func TestNonPersistentSignalEventFiresOncePerAdd(t *testing.T) {
	b := newBase(t, Config{})
	calls := 0
	ev := mustNew(t, b, int(syscall.SIGUSR2), Signal, func(int, Flag) { calls++ })
	mustAdd(t, ev, 0)
	for i := 0; i < 3; i++ {
		syscall.Kill(os.Getpid(), syscall.SIGUSR2)
	}
	dispatchWithin(t, b, 10*time.Second) // ends: the event is not pending after it fires
	if calls != 1 {
		t.Fatalf("non-persistent signal event ran %d times, want 1", calls)
	}
}

// Deliveries that arrive while a signal event is still active add to the
// calls it owes, per event; once its callbacks have run, the next delivery
// starts a new count.
func TestSignalDeliveriesWhileActiveAddUp(t *testing.T) {
	b := newBase(t, Config{})
	sig := syscall.SIGUSR1
	var calls [2]int
	var evs [2]*Event
	for i := range evs {
		evs[i] = mustNew(t, b, int(sig), Signal|Persist, func(fd int, what Flag) {
			if fd != int(sig) || what != Signal {
				t.Errorf("callback(%d, %v), want (%d, Signal)", fd, what, int(sig))
			}
			calls[i]++
		})
		mustAdd(t, evs[i], 0)
	}
	deliver := func(n uint64) { // as the loop does for what its signal.Source read
		b.mu.Lock()
		b.signals.activateLocked(b, signal.Delivery{Sig: sig, Count: n})
		b.mu.Unlock()
	}
	run := func(what string, want [2]int) {
		t.Helper()
		calls = [2]int{}
		if err := b.Loop(LoopNonblock); err != nil {
			t.Fatalf("Loop: %v", err)
		}
		if calls != want {
			t.Errorf("%s: callbacks ran %v times, want %v", what, calls, want)
		}
	}
	evs[0].Active(Signal) // active before the deliveries, one call owed
	deliver(2)
	deliver(3)
	run("Active, then 2 and 3 deliveries", [2]int{6, 5})
	deliver(4)
	run("4 deliveries after the callbacks ran", [2]int{4, 4})
	for _, ev := range evs {
		ev.Free()
	}
}

func TestSeveralEventsAndBasesOnOneSignal(t *testing.T) {
	b1 := newBase(t, Config{})
	b2 := newBase(t, Config{})
	fired := make(chan string, 8)
	for _, x := range []struct {
		name string
		b    *Base
	}{{"b1/first", b1}, {"b1/second", b1}, {"b2", b2}} {
		ev := mustNew(t, x.b, int(syscall.SIGUSR2), Signal|Persist, func(int, Flag) { fired <- x.name })
		mustAdd(t, ev, 0)
		defer ev.Free()
	}
	runLoop(t, b1)
	runLoop(t, b2)
	syscall.Kill(os.Getpid(), syscall.SIGUSR2)
	seen := map[string]bool{}
	for len(seen) < 3 {
		select {
		case n := <-fired:
			seen[n] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("only %v fired", seen)
		}
	}
}

func TestSignalEventTimesOut(t *testing.T) {
	b := newBase(t, Config{})
	var got Flag
	ev := mustNew(t, b, int(syscall.SIGUSR1), Signal, func(_ int, what Flag) { got = what })
	mustAdd(t, ev, 20*time.Millisecond)
	dispatchWithin(t, b, 10*time.Second)
	if got != Timeout {
		t.Fatalf("what = %v, want Timeout", got)
	}
}

func TestPendingSignalEventKeepsDispatchRunning(t *testing.T) {
	b := newBase(t, Config{})
	ev := mustNew(t, b, int(syscall.SIGUSR1), Signal, func(int, Flag) {})
	mustAdd(t, ev, 0)
	done := make(chan error, 1)
	go func() { done <- b.Dispatch() }()
	select {
	case err := <-done:
		t.Fatalf("Dispatch returned (%v) with a signal event pending", err)
	case <-time.After(50 * time.Millisecond):
	}
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Dispatch did not return after the signal event fired")
	}
}

func TestClosingABaseWithSignalEventsLeavesNothingBehind(t *testing.T) {
	before := runtime.NumGoroutine()
	fds := openFds(t)
	for i := 0; i < 5; i++ {
		b, err := NewBase()
		if err != nil {
			t.Fatal(err)
		}
		fired := 0
		ev, err := NewSignal(b, syscall.SIGUSR1, func(int, Flag) { fired++; b.LoopBreak() })
		if err != nil {
			t.Fatal(err)
		}
		mustAdd(t, ev, 0)
		syscall.Kill(os.Getpid(), syscall.SIGUSR1)
		dispatchWithin(t, b, 10*time.Second)
		if fired != 1 {
			t.Fatalf("fired %d, want 1", fired)
		}
		if err := b.Close(); err != nil { // the event is still pending
			t.Fatal(err)
		}
	}
	if n := settleGoroutines(before); n > before {
		t.Errorf("%d goroutines after closing the bases, %d before", n, before)
	}
	if got := openFds(t); got != fds {
		t.Errorf("%d descriptors open after closing the bases, %d before", got, fds)
	}
}
