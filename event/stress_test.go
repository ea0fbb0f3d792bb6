//go:build linux

package event

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Eight goroutines hammer a running loop with Add, Del, Active and Submit;
// the race detector watches, and the base must close cleanly afterwards.
func TestConcurrentUseWhileLoopRuns(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		before := runtime.NumGoroutine()
		b, err := NewBaseWithConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var calls, submits atomic.Int64
		const workers = 8
		evs := make([]*Event, workers)
		for i := range evs {
			r, w := socketpair(t)
			mustWrite(t, w, "x") // always readable
			evs[i] = mustNew(t, b, r, Read|Persist, func(int, Flag) { calls.Add(1) })
		}
		loopDone := make(chan error, 1)
		go func() { loopDone <- b.Loop(LoopNoExitOnEmpty) }()
		dur := 2 * time.Second
		if testing.Short() {
			dur = 300 * time.Millisecond
		}
		stop := time.Now().Add(dur)
		var wg sync.WaitGroup
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func(ev *Event) {
				defer wg.Done()
				for n := 0; time.Now().Before(stop); n++ {
					switch n % 4 {
					case 0:
						ev.Add(time.Duration(n%7) * time.Millisecond)
					case 1:
						ev.Del()
					case 2:
						ev.Active(Write)
					case 3:
						b.Submit(func() { submits.Add(1) })
					}
				}
			}(evs[i])
		}
		wg.Wait()
		// Everything submitted runs before the loop ends.
		if err := b.Submit(func() { b.LoopExit(0) }); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-loopDone:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("loop did not exit")
		}
		if calls.Load() == 0 || submits.Load() == 0 {
			t.Fatalf("calls %d submits %d: the loop did no work", calls.Load(), submits.Load())
		}
		for _, ev := range evs {
			ev.Free()
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if n := settleGoroutines(before); n > before {
			t.Errorf("%d goroutines after Close, %d before", n, before)
		}
	})
}

func TestCloseReleasesDescriptorsAndGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	fdsBefore := openFds(t)
	for _, be := range backends {
		for i := 0; i < 20; i++ {
			b, err := NewBaseWithConfig(be.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ev := mustNew(t, b, -1, Persist, func(int, Flag) {})
			mustAdd(t, ev, time.Millisecond)
			b.LoopExit(3 * time.Millisecond)
			if err := b.Dispatch(); err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := openFds(t); got != fdsBefore {
		t.Errorf("%d open descriptors after closing 40 bases, %d before", got, fdsBefore)
	}
	if n := settleGoroutines(before); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}
