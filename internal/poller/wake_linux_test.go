package poller

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newWaker returns a Waker registered with p for reading, removed and
// closed when the test ends.
func newWaker(t *testing.T, p Poller) *Waker {
	t.Helper()
	w, err := NewWaker()
	if err != nil {
		t.Fatalf("NewWaker: %v", err)
	}
	update(t, p, w.Fd(), 77, 0, In)
	t.Cleanup(func() {
		p.Update(w.Fd(), 77, In, 0)
		if err := w.Close(); err != nil {
			t.Errorf("Waker.Close: %v", err)
		}
	})
	return w
}

// counter reads the eventfd's counter directly, which also resets it.
func counter(t *testing.T, w *Waker) uint64 {
	t.Helper()
	var buf [8]byte
	n, err := unix.Read(w.Fd(), buf[:])
	if err == unix.EAGAIN {
		return 0
	}
	if err != nil || n != 8 {
		t.Fatalf("read(eventfd) = %d, %v, want 8, nil", n, err)
	}
	return binary.NativeEndian.Uint64(buf[:])
}

func TestWakeEndsBlockedWait(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		w := newWaker(t, p)
		_, rescue := idle(t, p)
		events := make([]Event, 8)
		done := waitUntilReported(p, events)
		awaitBlockedWait(t, done, rescue)
		if err := w.Wake(); err != nil {
			t.Fatalf("Wake: %v", err)
		}
		expectOnly(t, done, events, Event{Fd: int32(w.Fd()), Gen: 77, Ready: ReadyIn}, rescue, "Wake")
	})
}

func TestDrainClearsWake(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		w := newWaker(t, p)
		mustNotReport(t, p, w.Fd(), "never woken")
		for round := 1; round <= 3; round++ {
			if err := w.Wake(); err != nil {
				t.Fatalf("round %d: Wake: %v", round, err)
			}
			waitFor(t, p, w.Fd())
			w.Drain()
			mustNotReport(t, p, w.Fd(), "woken, then drained")
		}
	})
}

// Wakes before a Drain cost one write: the counter reads 1, not 3. After
// the Drain the next Wake writes again (the pending flag was cleared).
func TestRepeatedWakesCoalesce(t *testing.T) {
	p := openBackend(t, "epoll")
	w := newWaker(t, p)
	for round := 1; round <= 2; round++ {
		for i := 0; i < 3; i++ {
			if err := w.Wake(); err != nil {
				t.Fatalf("Wake: %v", err)
			}
		}
		if got := counter(t, w); got != 1 {
			t.Errorf("round %d: eventfd counter after 3 Wakes = %d, want 1", round, got)
		}
		w.Drain()
	}
}

func TestWakeAfterCloseFails(t *testing.T) {
	w, err := NewWaker()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Wake(); err == nil {
		t.Error("Wake after Close = nil, want an error")
	}
	w.Drain() // must not panic or block
}

// Many goroutines Wake while one loops Wait, Drain, look: every change made
// before a Wake is seen, so no wake-up is ever lost.
func TestConcurrentWakesAreNeverLost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		w := newWaker(t, p)
		const wakers, each = 4, 500
		var posted atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < wakers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < each; j++ {
					posted.Add(1)
					if err := w.Wake(); err != nil {
						t.Errorf("Wake: %v", err)
						return
					}
				}
			}()
		}
		defer wg.Wait()
		events := make([]Event, 8)
		var seen int64
		for seen < wakers*each {
			start := time.Now()
			n, err := p.Wait(events, long)
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if n == 0 && time.Since(start) >= long && posted.Load() > seen {
				// Something was posted after the last look and a whole
				// timeout passed without a report.
				t.Fatalf("lost wake-up: %d posted, %d seen, Wait(%v) reported nothing", posted.Load(), seen, long)
			}
			w.Drain()
			seen = posted.Load()
		}
	})
}

// awaitBlockedWait, which the tests of blocked waits rely on, sees no Wait
// before one starts, and sees one once it has.
func TestBlockedInWaitSeesTheBackendsWait(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		_, rescue := idle(t, p)
		if blockedInWait(t) {
			t.Fatal("a thread is in Wait's system call before any Wait started")
		}
		events := make([]Event, 8)
		done := waitUntilReported(p, events)
		awaitBlockedWait(t, done, rescue)
		write(t, rescue, "!")
		if r := <-done; r.n != 1 || r.err != nil {
			t.Errorf("Wait after the rescue write = %d, %v, want 1, nil", r.n, r.err)
		}
	})
}
