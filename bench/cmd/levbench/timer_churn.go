package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/levent-go/levent/event"
)

// churner is one implementation's timers under the idle-timeout pattern.
// Each method runs a whole phase over all N timers, so the timed loops
// call the implementation directly, with no interface call per timer.
// Creation happens outside the timed span where the implementation allows
// it.
type churner interface {
	// firstAll adds every timer with a drawn timeout.
	firstAll(rng *splitmix64) error
	// resetAll adds every (pending) timer again with a new drawn timeout.
	resetAll(rng *splitmix64) error
	// stopAll deletes every timer.
	stopAll() error
	// fired is the number of callbacks that ran.
	fired() int64
	// close releases the timers.
	close()
}

func runTimerChurn(impl string, a *argList) (string, error) {
	N, err := a.positive("N", -1)
	if err != nil {
		return "", err
	}
	R, err := a.int("R", 10)
	if err != nil {
		return "", err
	}
	common, err := a.word("COMMON", "0", "0", "1")
	if err != nil {
		return "", err
	}
	if err := a.done(); err != nil {
		return "", err
	}
	var ch churner
	if impl == implLevent {
		if ch, err = newLeventChurner(N, common == "1"); err != nil {
			return "", err
		}
	} else {
		ch = &runtimeChurner{timers: make([]*time.Timer, N), common: common == "1"}
	}
	defer ch.close()

	rng := newPRNG()
	reps := max(1, 1000000/N)
	var t1, t2, t3 int64
	for range reps {
		t := nanotime()
		if err := ch.firstAll(rng); err != nil {
			return "", err
		}
		u := nanotime()
		t1 += u - t
		for range R {
			if err := ch.resetAll(rng); err != nil {
				return "", err
			}
		}
		t = nanotime()
		t2 += t - u
		if err := ch.stopAll(); err != nil {
			return "", err
		}
		t3 += nanotime() - t
	}
	ops := float64(reps) * float64(N)
	readd := 0.0
	if R > 0 {
		readd = float64(t2) / (ops * float64(R))
	}
	return fmt.Sprintf("bench=timer_churn impl=%s n=%d r=%d ns_per_add=%.1f ns_per_del=%.1f ns_per_first_add=%.1f ns_per_readd=%.1f reps=%d fired=%d common=%s",
		impl, N, R,
		float64(t1+t2)/(ops*float64(R+1)), float64(t3)/ops, float64(t1)/ops, readd,
		reps, ch.fired(), common), nil
}

// commonTimeout is the one timeout of every timer with COMMON=1, as in
// levbench.c.
const commonTimeout = 10 * time.Second

// leventChurner creates its N timer events up front, as C does with
// event_new, so only Add and Del are timed. With common set every Add
// uses the one timeout that Base.InitCommonTimeout returned, as C uses
// event_base_init_common_timeout's.
type leventChurner struct {
	base   *event.Base
	evs    []*event.Event
	n      int64
	common time.Duration // 0: draw each timeout
}

func newLeventChurner(N int, common bool) (*leventChurner, error) {
	base, err := event.NewBase()
	if err != nil {
		return nil, err
	}
	c := &leventChurner{base: base, evs: make([]*event.Event, N)}
	if common {
		if c.common, err = base.InitCommonTimeout(commonTimeout); err != nil {
			base.Close()
			return nil, err
		}
	}
	cb := func(int, event.Flag) { c.n++ }
	for i := range c.evs {
		if c.evs[i], err = event.NewTimer(base, cb); err != nil {
			base.Close()
			return nil, err
		}
	}
	return c, nil
}

// firstAll and resetAll are the same event_add: on a pending event Add
// reschedules it.
func (c *leventChurner) firstAll(rng *splitmix64) error { return c.resetAll(rng) }

func (c *leventChurner) resetAll(rng *splitmix64) error {
	for _, ev := range c.evs {
		d := rng.idleTimeout() // drawn either way, as in C
		if c.common != 0 {
			d = c.common
		}
		if err := ev.Add(d); err != nil {
			return err
		}
	}
	return nil
}

func (c *leventChurner) stopAll() error {
	for _, ev := range c.evs {
		if err := ev.Del(); err != nil {
			return err
		}
	}
	return nil
}

func (c *leventChurner) fired() int64 { return c.n }
func (c *leventChurner) close()       { c.base.Close() }

// runtimeChurner uses Go's timers: a Go program has no separate create,
// so the first add is time.AfterFunc and includes the allocation. Go has
// no common timeouts; with common set every timer gets commonTimeout.
type runtimeChurner struct {
	timers []*time.Timer
	n      atomic.Int64
	common bool
}

func (c *runtimeChurner) timeout(rng *splitmix64) time.Duration {
	d := rng.idleTimeout()
	if c.common {
		d = commonTimeout
	}
	return d
}

func (c *runtimeChurner) firstAll(rng *splitmix64) error {
	fire := c.fire // one func value for all timers, not one per AfterFunc
	for i := range c.timers {
		c.timers[i] = time.AfterFunc(c.timeout(rng), fire)
	}
	return nil
}

func (c *runtimeChurner) resetAll(rng *splitmix64) error {
	for _, t := range c.timers {
		t.Reset(c.timeout(rng))
	}
	return nil
}

func (c *runtimeChurner) stopAll() error {
	for _, t := range c.timers {
		t.Stop()
	}
	return nil
}

func (c *runtimeChurner) fire()        { c.n.Add(1) }
func (c *runtimeChurner) fired() int64 { return c.n.Load() }

func (c *runtimeChurner) close() {
	for _, t := range c.timers {
		if t != nil {
			t.Stop()
		}
	}
}
