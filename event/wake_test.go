//go:build linux

package event

import (
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// dispatchAsync starts Dispatch on its own goroutine and returns a
// function that waits, within a deadline generous for a loaded machine,
// for it to return.
func dispatchAsync(t *testing.T, b *Base) (wait func(why string)) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- b.Dispatch() }()
	return func(why string) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Dispatch: %v", err)
			}
		case <-time.After(10 * time.Second):
			b.LoopBreak() // so the goroutine ends before the test does
			<-done
			t.Fatalf("Dispatch still running 10s after %s", why)
		}
	}
}

// The last pending event of each kind, removed from another goroutine
// while the loop sleeps, ends Dispatch: libevent's event_del notifies a
// threaded base, and its dispatch returns once nothing is pending.
func TestRemovingTheLastEventFromAnotherGoroutineEndsDispatch(t *testing.T) {
	type remove func(ev *Event) error
	removals := []struct {
		name string
		do   remove
	}{
		{"Del", (*Event).Del},
		{"Free", func(ev *Event) error { ev.Free(); return nil }},
	}
	kinds := []struct {
		name string
		make func(t *testing.T, b *Base) *Event
	}{
		{"fd read", func(t *testing.T, b *Base) *Event {
			r, _ := socketpair(t)
			ev := mustNew(t, b, r, Read|Persist, func(int, Flag) { t.Error("read event fired") })
			mustAdd(t, ev, 0)
			return ev
		}},
		{"signal", func(t *testing.T, b *Base) *Event {
			ev, err := NewSignal(b, syscall.SIGUSR1, func(int, Flag) { t.Error("signal event fired") })
			if err != nil {
				t.Fatal(err)
			}
			mustAdd(t, ev, 0)
			return ev
		}},
		{"timer 1h", func(t *testing.T, b *Base) *Event {
			ev := mustNew(t, b, -1, 0, func(int, Flag) { t.Error("timer fired") })
			mustAdd(t, ev, time.Hour)
			return ev
		}},
		{"fd read with 1h timeout", func(t *testing.T, b *Base) *Event {
			r, _ := socketpair(t)
			ev := mustNew(t, b, r, Read, func(int, Flag) { t.Error("read event fired") })
			mustAdd(t, ev, time.Hour)
			return ev
		}},
	}
	eachBackend(t, func(t *testing.T, cfg Config) {
		for _, k := range kinds {
			for _, r := range removals {
				t.Run(k.name+"/"+r.name, func(t *testing.T) {
					b := newBase(t, cfg)
					ev := k.make(t, b)
					wait := dispatchAsync(t, b)
					awaitSleep(t, b)
					if err := r.do(ev); err != nil {
						t.Fatal(err)
					}
					wait(r.name + " of the last event")
				})
			}
		}
	})
}

// RemoveTimer of a pure timer, the only event, empties the base too.
func TestRemoveTimerOfTheLastTimerEndsDispatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		ev := mustNew(t, b, -1, 0, func(int, Flag) { t.Error("timer fired") })
		mustAdd(t, ev, time.Hour)
		wait := dispatchAsync(t, b)
		awaitSleep(t, b)
		if err := ev.RemoveTimer(); err != nil {
			t.Fatal(err)
		}
		wait("RemoveTimer of the only timer")
	})
}

// Removing the timer that set the loop's sleep, or moving it later, makes
// the loop sleep until the next deadline instead; a timer added earlier
// shortens the sleep. Each change comes from another goroutine.
func TestTimerChangesMoveTheSleep(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		cb := func(int, Flag) { t.Error("timer fired") }
		first, second := mustNew(t, b, -1, 0, cb), mustNew(t, b, -1, 0, cb)
		mustAdd(t, first, time.Hour)
		mustAdd(t, second, 2*time.Hour)
		wait := dispatchAsync(t, b)
		at := awaitSleep(t, b)
		_, firstAt := first.Pending(Timeout)
		_, secondAt := second.Pending(Timeout)
		if want := monoNano(firstAt); at != want {
			t.Fatalf("the loop sleeps until %d, want the first timer's %d", at, want)
		}

		// Moved later: the second timer now comes first.
		mustAdd(t, first, 3*time.Hour)
		awaitSleepUntil(t, b, monoNano(secondAt))

		// Removed: the first timer, now at 3h, comes next.
		_, firstAt = first.Pending(Timeout)
		if err := second.Del(); err != nil {
			t.Fatal(err)
		}
		awaitSleepUntil(t, b, monoNano(firstAt))

		// Added earlier: the loop wakes for it and runs it.
		fired := make(chan struct{})
		early := mustNew(t, b, -1, 0, func(int, Flag) { close(fired) })
		mustAdd(t, early, 10*time.Millisecond)
		select {
		case <-fired:
		case <-time.After(10 * time.Second):
			t.Fatal("a 10ms timer added during a 3h sleep did not fire within 10s")
		}
		first.Del()
		wait("the last timer's Del")
	})
}

// LoopExit with a delay, asked during a sleep with no deadline, ends the
// loop after that delay.
func TestLoopExitWithDelayDuringEndlessSleep(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, _ := socketpair(t)
		mustAdd(t, mustNew(t, b, r, Read|Persist, func(int, Flag) {}), 0)
		wait := dispatchAsync(t, b)
		awaitSleep(t, b)
		if err := b.LoopExit(20 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		wait("LoopExit(20ms)")
		if !b.GotExit() {
			t.Error("GotExit() = false after LoopExit ended the loop")
		}
	})
}

// Removing an event while others stay pending changes nothing the loop
// waits for, and removing events from a callback happens while the loop is
// awake: neither writes a wake-up.
func TestNoWakeUpWhenTheSleepCannotChange(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		keep := mustNew(t, b, -1, 0, func(int, Flag) {})
		mustAdd(t, keep, time.Hour)
		later := mustNew(t, b, -1, 0, func(int, Flag) {})
		mustAdd(t, later, 2*time.Hour)
		r, _ := socketpair(t)
		ev := mustNew(t, b, r, Read, func(int, Flag) {})
		mustAdd(t, ev, 0)
		wait := dispatchAsync(t, b)
		awaitSleep(t, b)
		if err := later.Del(); err != nil {
			t.Fatal(err)
		}
		if !b.poller.Concurrent() {
			// poll's array is in the kernel, and io_uring's requests are
			// the loop's thread's to submit: a descriptor change needs
			// the loop, so only the timer is checked.
			if wakePending(b) {
				t.Error("deleting a timer after the sleep's deadline wrote a wake-up")
			}
		} else {
			mustAdd(t, later, 2*time.Hour)
			if err := ev.Del(); err != nil {
				t.Fatal(err)
			}
			if wakePending(b) {
				t.Error("changes that leave the sleep as it was wrote a wake-up")
			}
		}
		// From a callback: the loop is awake, and Del of every event ends
		// the loop without a wake-up.
		if err := b.Submit(func() {
			// Submit's own wake-up may still be pending here (io_uring
			// reaps the waker's report after the submitted functions
			// run): only a wake-up the Dels wrote counts.
			before := wakePending(b)
			keep.Del()
			later.Del()
			ev.Del()
			if !before && wakePending(b) {
				t.Error("Del from the loop's goroutine wrote a wake-up")
			}
		}); err != nil {
			t.Fatal(err)
		}
		wait("every event deleted from a submitted function")
	})
}

// Eight goroutines add and delete descriptor events and timers while the
// loop runs; once every event is deleted, Dispatch returns, and no
// goroutine or descriptor is left behind.
func TestConcurrentAddDelThenEmptyEndsDispatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		goroutines, fds := runtime.NumGoroutine(), openFds(t)
		b, err := NewBaseWithConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		const workers = 8
		var pairs [][2]int
		evs := make([][2]*Event, workers)
		for i := range evs {
			fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			pairs = append(pairs, [2]int{fds[0], fds[1]})
			evs[i][0] = mustNew(t, b, fds[0], Read|Persist, func(int, Flag) {})
			evs[i][1] = mustNew(t, b, -1, 0, func(int, Flag) {})
		}
		// One event keeps the loop running until the workers are done.
		hold := mustNew(t, b, -1, 0, func(int, Flag) {})
		mustAdd(t, hold, time.Hour)
		wait := dispatchAsync(t, b)
		dur := time.Second
		if testing.Short() {
			dur = 200 * time.Millisecond
		}
		stop := time.Now().Add(dur)
		var wg sync.WaitGroup
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func(fdev, tm *Event) {
				defer wg.Done()
				for n := 0; time.Now().Before(stop); n++ {
					switch n % 4 {
					case 0:
						fdev.Add(time.Duration(n%5+1) * time.Hour)
					case 1:
						tm.Add(time.Duration(n%3+1) * time.Hour)
					case 2:
						fdev.Del()
					case 3:
						tm.Del()
					}
				}
				fdev.Del()
				tm.Del()
			}(evs[i][0], evs[i][1])
		}
		wg.Wait()
		awaitSleep(t, b)
		hold.Del()
		wait("the last of many concurrently changed events was deleted")
		if added, active := b.NumEvents(); added != 0 || active != 0 {
			t.Errorf("NumEvents() = %d added, %d active after every Del, want 0, 0", added, active)
		}
		for i := range evs {
			evs[i][0].Free()
			evs[i][1].Free()
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		for _, p := range pairs {
			syscall.Close(p[0])
			syscall.Close(p[1])
		}
		if got := openFds(t); got != fds {
			t.Errorf("%d descriptors open after Close, want %d", got, fds)
		}
		if got := settleGoroutines(goroutines); got > goroutines {
			t.Errorf("%d goroutines after Close, want %d", got, goroutines)
		}
	})
}
