package event

import (
	"fmt"
	"time"
)

// InitCommonTimeout returns the timeout to give Add for events that all
// wait the same duration d (event_base_init_common_timeout): a server's
// idle timeout, say, on every connection.
//
// libevent keeps the events of one such duration in a FIFO queue of their
// own, beside its heap, because re-adding an event to a binary heap costs
// O(log n) and an idle timeout is re-added on every read. levent's timer
// queue needs no second structure: Add, re-Add and Del already cost O(1) at
// the call for every timeout, since the queue repairs its order lazily
// (see package timer), and events added later with one duration sort
// after the earlier ones, first in first out, as in libevent's queue. So
// the timeout returned is d itself, and an event added with it behaves
// exactly as one added with d.
//
// Measured with bench/cmd/levbench (timer_churn 100000 10 1: 100,000
// events re-added with one 10 s timeout, outside the loop, interleaved
// with bench/c/levbench.c), a levent Add costs 2.3x an event_add on
// libevent's common-timeout queue (57 vs 24 ns) but 0.75x an event_add on
// its heap with drawn timeouts (57 vs 76 ns). Of the 57 ns, 26 are the
// clock reading (Go reads CLOCK_MONOTONIC at full precision; libevent's
// default reads CLOCK_MONOTONIC_COARSE) and about 15 the base's lock,
// which libevent without evthread does not take; from a callback, where
// the loop's cached time spares the reading, an Add costs 37 ns
// (BenchmarkCommonTimeoutInCallback). A queue of its own would save
// neither.
//
// d must be positive: ErrTimeout otherwise (Add(0) means no timeout in
// levent, where libevent's zero timeval means at once). ErrNilBase for a
// nil base, ErrClosed for a closed one. Safe from any goroutine.
func (b *Base) InitCommonTimeout(d time.Duration) (time.Duration, error) {
	if b == nil {
		return 0, ErrNilBase
	}
	if d <= 0 {
		return 0, fmt.Errorf("%w: a common timeout must be positive, not %v", ErrTimeout, d)
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	return d, nil
}
