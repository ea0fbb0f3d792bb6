package main

import (
	"fmt"

	"github.com/levent-go/levent/event"
)

// runActivate measures callback dispatch: one event with no descriptor
// activates itself again from its own callback until it has run M times.
// levent appends the re-activated event to the queue being drained, as
// libevent does, so the whole run is one pass of one loop iteration.
func runActivate(impl string, a *argList) (string, error) {
	M, base, err := loopArgs(impl, a, 10000000)
	if err != nil {
		return "", err
	}
	defer base.Close()
	n := 0
	var ev *event.Event
	ev, err = event.New(base, -1, 0, func(int, event.Flag) {
		n++
		if n < M {
			ev.Active(event.Read)
		}
	})
	if err != nil {
		return "", err
	}
	t0 := nanotime()
	ev.Active(event.Read)
	if err := base.Dispatch(); err != nil {
		return "", err
	}
	t1 := nanotime()
	if n != M {
		return "", fmt.Errorf("callback ran %d times, want %d", n, M)
	}
	return fmt.Sprintf("bench=activate impl=%s n=%d ns_per_cb=%.1f", impl, M, float64(t1-t0)/float64(M)), nil
}

// runLoopOnce measures one loop iteration: activate the event, then run
// one non-blocking iteration (a zero-timeout wait and one callback), M
// times.
func runLoopOnce(impl string, a *argList) (string, error) {
	M, base, err := loopArgs(impl, a, 1000000)
	if err != nil {
		return "", err
	}
	defer base.Close()
	n := 0
	ev, err := event.New(base, -1, 0, func(int, event.Flag) { n++ })
	if err != nil {
		return "", err
	}
	t0 := nanotime()
	for range M {
		ev.Active(event.Read)
		if err := base.Loop(event.LoopOnce | event.LoopNonblock); err != nil {
			return "", err
		}
	}
	t1 := nanotime()
	if n != M {
		return "", fmt.Errorf("callback ran %d times, want %d", n, M)
	}
	return fmt.Sprintf("bench=loop_once impl=%s n=%d ns_per_iter=%.1f", impl, M, float64(t1-t0)/float64(M)), nil
}

// loopArgs parses M (default def) for activate and loop_once and returns
// a fresh base.
func loopArgs(impl string, a *argList, def int) (int, *event.Base, error) {
	if err := onlyLevent(impl, a.name); err != nil {
		return 0, nil, err
	}
	M, err := a.positive("M", def)
	if err != nil {
		return 0, nil, err
	}
	if err := a.done(); err != nil {
		return 0, nil, err
	}
	base, err := event.NewBase()
	return M, base, err
}
