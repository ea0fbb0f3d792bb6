//go:build linux

package event

import (
	"errors"
	"testing"
	"time"
)

func TestDispatchReturnsWhenNothingIsPending(t *testing.T) {
	b := newBase(t, Config{})
	dispatchWithin(t, b, 10*time.Second)
	if b.GotExit() || b.GotBreak() {
		t.Fatal("GotExit/GotBreak set by an empty loop")
	}
}

func TestLoopExitWaitsForItsTime(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		ticks := 0
		tick := mustNew(t, b, -1, Persist, func(int, Flag) { ticks++ })
		mustAdd(t, tick, 5*time.Millisecond)
		start := time.Now()
		if err := b.LoopExit(60 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		dispatchWithin(t, b, 10*time.Second)
		if el := time.Since(start); el < 60*time.Millisecond {
			t.Fatalf("loop exited after %v, before LoopExit's 60ms", el)
		}
		if !b.GotExit() || b.GotBreak() {
			t.Fatalf("GotExit %v GotBreak %v, want true false", b.GotExit(), b.GotBreak())
		}
		if ticks == 0 {
			t.Fatal("the persistent timer never ran before the exit")
		}
	})
}

func TestLoopExitLetsTheIterationFinish(t *testing.T) {
	b := newBase(t, Config{})
	var ran []int
	for i := 0; i < 3; i++ {
		ev := mustNew(t, b, -1, 0, func(int, Flag) {
			ran = append(ran, i)
			if i == 0 {
				b.LoopExit(0)
			}
		})
		ev.Active(Timeout)
	}
	later := mustNew(t, b, -1, 0, func(int, Flag) { ran = append(ran, 99) })
	mustAdd(t, later, time.Hour)
	dispatchWithin(t, b, 10*time.Second)
	if len(ran) != 3 {
		t.Fatalf("ran %v, want all three callbacks of the iteration and no more", ran)
	}
}

func TestLoopBreakStopsAfterTheRunningCallback(t *testing.T) {
	b := newBase(t, Config{})
	var ran []int
	evs := make([]*Event, 3)
	for i := range evs {
		evs[i] = mustNew(t, b, -1, 0, func(int, Flag) {
			ran = append(ran, i)
			if i == 0 {
				b.LoopBreak()
			}
		})
		evs[i].Active(Timeout)
	}
	dispatchWithin(t, b, 10*time.Second)
	if len(ran) != 1 || !b.GotBreak() {
		t.Fatalf("ran %v GotBreak %v, want [0] true", ran, b.GotBreak())
	}
	if _, active := b.NumEvents(); active != 2 {
		t.Fatalf("active = %d after break, want 2 left for the next loop", active)
	}
	dispatchWithin(t, b, 10*time.Second)
	if len(ran) != 3 || b.GotBreak() {
		t.Fatalf("second loop ran %v GotBreak %v, want all 3 and false", ran, b.GotBreak())
	}
}

func TestLoopOnceRunsOneBatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		var fired []string
		soon := mustNew(t, b, -1, 0, func(int, Flag) { fired = append(fired, "soon") })
		late := mustNew(t, b, -1, 0, func(int, Flag) { fired = append(fired, "late") })
		mustAdd(t, soon, 5*time.Millisecond)
		mustAdd(t, late, time.Hour)
		if err := b.Loop(LoopOnce); err != nil {
			t.Fatal(err)
		}
		if len(fired) != 1 || fired[0] != "soon" {
			t.Fatalf("LoopOnce ran %v, want [soon]", fired)
		}
		if p, _ := late.Pending(Timeout); p != Timeout {
			t.Fatal("late timer no longer pending")
		}
	})
}

func TestLoopNonblockNeverWaits(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, w := socketpair(t)
		got := 0
		ev := mustNew(t, b, r, Read|Persist, func(int, Flag) { got++ })
		mustAdd(t, ev, time.Hour)
		done := make(chan error, 1)
		go func() { done <- b.Loop(LoopNonblock) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("LoopNonblock blocked with nothing ready")
		}
		if got != 0 {
			t.Fatalf("callback ran %d times with nothing ready", got)
		}
		mustWrite(t, w, "x")
		// epoll and poll report the socket readable at once; one
		// nonblocking iteration must see it. io_uring posts a poll's
		// completion from the thread that submitted the poll (here the
		// goroutine above ran on it), microseconds later: repeat until
		// it does, and the callback must still run exactly once.
		for deadline := time.Now().Add(10 * time.Second); ; {
			if err := b.Loop(LoopNonblock); err != nil {
				t.Fatal(err)
			}
			if got != 0 || b.Method() != "io_uring" || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if got != 1 {
			t.Fatalf("callback ran %d times with data ready, want 1", got)
		}
	})
}

func TestNoExitOnEmptyWithSubmit(t *testing.T) {
	b := newBase(t, Config{})
	loopG := make(chan uint64, 1)
	done := make(chan error, 1)
	go func() {
		loopG <- goid()
		done <- b.Loop(LoopNoExitOnEmpty)
	}()
	lg := <-loopG
	ran := make(chan uint64, 3)
	for i := 0; i < 3; i++ {
		if err := b.Submit(func() { ran <- goid() }); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		select {
		case g := <-ran:
			if g != lg {
				t.Fatalf("submitted fn ran on goroutine %d, want the loop's %d", g, lg)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("submitted fn did not run: loop not woken")
		}
	}
	select {
	case err := <-done:
		t.Fatalf("loop with LoopNoExitOnEmpty returned (%v) while empty", err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := b.LoopExit(0); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LoopExit from another goroutine did not wake the loop")
	}
}

func TestSubmitOrderAndBreak(t *testing.T) {
	b := newBase(t, Config{})
	var got []int
	for i := 0; i < 4; i++ {
		b.Submit(func() {
			got = append(got, i)
			if i == 1 {
				b.LoopBreak()
			}
		})
	}
	dispatchWithin(t, b, 10*time.Second)
	if len(got) != 2 {
		t.Fatalf("ran %v before the break, want [0 1]", got)
	}
	dispatchWithin(t, b, 10*time.Second)
	if len(got) != 4 || got[2] != 2 || got[3] != 3 {
		t.Fatalf("ran %v, want [0 1 2 3]", got)
	}
}

func TestActiveFromAnotherGoroutineWakesTheLoop(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		loopG := make(chan uint64, 1)
		var ev *Event
		ev = mustNew(t, b, -1, 0, func(_ int, what Flag) {
			loopG <- goid()
			if what != Read {
				t.Errorf("what = %v, want Read", what)
			}
		})
		keep := mustNew(t, b, -1, 0, func(int, Flag) {})
		mustAdd(t, keep, time.Hour) // keeps Dispatch blocked
		done := make(chan uint64, 1)
		go func() {
			done <- goid()
			b.Dispatch()
		}()
		dg := <-done
		time.Sleep(10 * time.Millisecond) // let it block; correctness does not depend on it
		ev.Active(Read)
		select {
		case g := <-loopG:
			if g != dg {
				t.Fatalf("callback on goroutine %d, want the loop's %d", g, dg)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Active from another goroutine did not wake the loop")
		}
		b.LoopBreak()
	})
}

func TestAddFromAnotherGoroutineWhileLoopSleeps(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, w := socketpair(t)
		keep := mustNew(t, b, -1, 0, func(int, Flag) {})
		mustAdd(t, keep, time.Hour)
		fired := make(chan Flag, 1)
		ev := mustNew(t, b, r, Read, func(_ int, what Flag) { fired <- what })
		timer := mustNew(t, b, -1, 0, func(_ int, what Flag) { fired <- what })
		go b.Dispatch()
		time.Sleep(10 * time.Millisecond)
		mustAdd(t, ev, 0)
		mustWrite(t, w, "x")
		select {
		case what := <-fired:
			if what != Read {
				t.Fatalf("what = %v, want Read", what)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("descriptor added while the loop slept never fired")
		}
		mustAdd(t, timer, time.Millisecond) // earlier than the hour the loop sleeps for
		select {
		case what := <-fired:
			if what != Timeout {
				t.Fatalf("what = %v, want Timeout", what)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("timer added while the loop slept never fired")
		}
		b.LoopBreak()
	})
}

func TestLoopFromCallbackIsRefused(t *testing.T) {
	b := newBase(t, Config{})
	var err error
	ev := mustNew(t, b, -1, 0, func(int, Flag) { err = b.Dispatch() })
	ev.Active(Timeout)
	dispatchWithin(t, b, 10*time.Second)
	if !errors.Is(err, ErrLoopRunning) {
		t.Fatalf("Dispatch from a callback = %v, want ErrLoopRunning", err)
	}
}

func TestNowIsCachedDuringAnIteration(t *testing.T) {
	b := newBase(t, Config{})
	var a, c time.Time
	ev := mustNew(t, b, -1, 0, func(int, Flag) {
		a = b.Now()
		time.Sleep(2 * time.Millisecond)
		c = b.Now()
	})
	ev.Active(Timeout)
	dispatchWithin(t, b, 10*time.Second)
	if !a.Equal(c) {
		t.Fatalf("Now changed within one iteration: %v then %v", a, c)
	}
	if d := b.Now().Sub(c); d < 2*time.Millisecond {
		t.Fatalf("Now outside the loop is %v after the cached time, want a fresh reading", d)
	}
}

// A descriptor event made active twice in one iteration (by Active and by
// readiness) runs its callback once, with both conditions, as in libevent;
// only a signal event's calls add up.
func TestEventActiveTwiceInOneIterationRunsOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, w := socketpair(t)
		var got []Flag
		ev := mustNew(t, b, r, Read|Persist, func(_ int, what Flag) { got = append(got, what) })
		mustAdd(t, ev, 0)
		mustWrite(t, w, "x")
		ev.Active(Timeout)
		if err := b.Loop(LoopOnce); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != Read|Timeout {
			t.Errorf("callbacks: got %v, want one with %v", got, Read|Timeout)
		}
	})
}
