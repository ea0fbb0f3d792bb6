package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/levent-go/levent/event"
)

// firer is one implementation's timers for timer_fire. addAll arms timer
// idx, in the given order, for timeoutUS(idx, n) microseconds, recording
// its deadline just before; wait returns when all have fired.
type firer interface {
	addAll(order []int, deadline []int64) error
	wait() error
	fired() int
}

// timeoutUS spreads n timeouts evenly over [0, 100 ms).
func timeoutUS(idx, n int) int64 { return int64(idx) * 100000 / int64(n) }

func runTimerFire(impl string, a *argList) (string, error) {
	N, err := a.positive("N", -1)
	if err != nil {
		return "", err
	}
	// PRECISE=1 builds levent's base with Config.PreciseTimer, as it
	// means EVENT_BASE_FLAG_PRECISE_TIMER for libevent: the loop sleeps
	// with no timer slack. levent's clock is the fine one in both modes,
	// as is that of Go's timers (which have no mode), so the line says
	// precise=1 either way.
	precise, err := a.word("PRECISE", "0", "0", "1")
	if err != nil {
		return "", err
	}
	if err := a.done(); err != nil {
		return "", err
	}

	fire := make([]int64, N)
	deadline := make([]int64, N)
	order := make([]int, N)
	for i := range order {
		order[i] = i
	}
	rng := newPRNG()
	for i := N - 1; i >= 1; i-- {
		j := int(rng.next() % uint64(i+1))
		order[i], order[j] = order[j], order[i]
	}
	var f firer
	if impl == implLevent {
		if f, err = newLeventFirer(fire, precise == "1"); err != nil {
			return "", err
		}
		defer f.(*leventFirer).base.Close()
	} else {
		f = newRuntimeFirer(fire)
	}

	c0, err := cpuNanos()
	if err != nil {
		return "", err
	}
	t0 := nanotime()
	if err := f.addAll(order, deadline); err != nil {
		return "", err
	}
	ta := nanotime()
	if err := f.wait(); err != nil {
		return "", err
	}
	t1 := nanotime()
	c1, err := cpuNanos()
	if err != nil {
		return "", err
	}

	if got := f.fired(); got != N {
		return "", fmt.Errorf("%d timers fired, want %d", got, N)
	}
	late := make([]int64, N)
	for i := range late {
		if fire[i] == 0 {
			return "", fmt.Errorf("timer %d never fired", i)
		}
		late[i] = fire[i] - deadline[i]
	}
	us := func(q int) float64 { return float64(percentile(late, q)) / 1e3 }
	return fmt.Sprintf("bench=timer_fire impl=%s n=%d precise=1 total_ms=%.1f ns_per_timer=%.1f cpu_ns_per_timer=%.1f late_p50_us=%.1f late_p99_us=%.1f late_max_us=%.1f late_min_us=%.1f add_ms=%.1f",
		impl, N, float64(t1-t0)/1e6, float64(t1-t0)/float64(N), float64(c1-c0)/float64(N),
		us(50), us(99), us(100), us(0), float64(ta-t0)/1e6), nil
}

// leventFirer creates its N timer events before timing starts.
type leventFirer struct {
	base *event.Base
	evs  []*event.Event
	n    int
}

func newLeventFirer(fire []int64, precise bool) (*leventFirer, error) {
	base, err := event.NewBaseWithConfig(event.Config{PreciseTimer: precise})
	if err != nil {
		return nil, err
	}
	f := &leventFirer{base: base, evs: make([]*event.Event, len(fire))}
	for idx := range f.evs {
		cb := func(int, event.Flag) {
			fire[idx] = nanotime() // a real clock read, not the loop's cached time
			f.n++
		}
		if f.evs[idx], err = event.NewTimer(base, cb); err != nil {
			base.Close()
			return nil, err
		}
	}
	return f, nil
}

func (f *leventFirer) addAll(order []int, deadline []int64) error {
	n := len(order)
	for _, idx := range order {
		us := timeoutUS(idx, n)
		deadline[idx] = nanotime() + us*1000
		d := time.Duration(us) * time.Microsecond
		if d == 0 {
			// Add(0) means "no timeout" in levent (a NULL timeval in
			// libevent); the shortest real timeout is 1 ns.
			d = 1
		}
		if err := f.evs[idx].Add(d); err != nil {
			return err
		}
	}
	return nil
}

func (f *leventFirer) wait() error { return f.base.Dispatch() }
func (f *leventFirer) fired() int  { return f.n }

// runtimeFirer uses time.AfterFunc; each expiry starts a goroutine.
type runtimeFirer struct {
	fire      []int64
	remaining atomic.Int64
	done      chan struct{}
}

func newRuntimeFirer(fire []int64) *runtimeFirer {
	f := &runtimeFirer{fire: fire, done: make(chan struct{})}
	f.remaining.Store(int64(len(fire)))
	return f
}

func (f *runtimeFirer) addAll(order []int, deadline []int64) error {
	n := len(order)
	for _, idx := range order {
		us := timeoutUS(idx, n)
		deadline[idx] = nanotime() + us*1000
		time.AfterFunc(time.Duration(us)*time.Microsecond, func() {
			f.fire[idx] = nanotime()
			if f.remaining.Add(-1) == 0 {
				close(f.done)
			}
		})
	}
	return nil
}

func (f *runtimeFirer) wait() error {
	<-f.done
	return nil
}

func (f *runtimeFirer) fired() int { return len(f.fire) - int(f.remaining.Load()) }
