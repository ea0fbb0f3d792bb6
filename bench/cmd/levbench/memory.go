package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/levent-go/levent/event"
)

// runMemory measures what a pending idle-timeout timer costs: the growth
// of the resident set (allocator overhead and the timer queue included)
// and of the live Go heap, per timer.
func runMemory(impl string, a *argList) (string, error) {
	N, err := a.positive("N", 1000000)
	if err != nil {
		return "", err
	}
	if err := a.done(); err != nil {
		return "", err
	}
	var base *event.Base
	if impl == implLevent {
		if base, err = event.NewBase(); err != nil {
			return "", err
		}
		defer base.Close()
	}
	// The harness array, touched so its pages are resident before rss0.
	evs := make([]*event.Event, N)
	timers := make([]*time.Timer, N)
	for i := range N {
		evs[i], timers[i] = nil, nil
	}
	rng := newPRNG()
	heap0 := liveHeap()
	rss0, err := rssBytes()
	if err != nil {
		return "", err
	}
	if impl == implLevent {
		cb := func(int, event.Flag) {}
		for i := range evs {
			if evs[i], err = event.NewTimer(base, cb); err != nil {
				return "", err
			}
			if err := evs[i].Add(rng.idleTimeout()); err != nil {
				return "", err
			}
		}
	} else {
		f := func() {}
		for i := range timers {
			timers[i] = time.AfterFunc(rng.idleTimeout(), f)
		}
	}
	rss1, err := rssBytes()
	if err != nil {
		return "", err
	}
	heap1 := liveHeap()
	runtime.KeepAlive(evs)
	for _, t := range timers {
		if t != nil {
			t.Stop() // the timers are live up to here
		}
	}
	return fmt.Sprintf("bench=memory impl=%s n=%d bytes_per_event=%.1f heap_bytes_per_event=%.1f",
		impl, N, float64(rss1-rss0)/float64(N), float64(heap1-heap0)/float64(N)), nil
}

// liveHeap collects garbage and returns the bytes still allocated.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
