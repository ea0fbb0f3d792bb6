package event

import (
	"testing"
	"time"

	"github.com/levent-go/levent/internal/poller"
)

type (
	pollerIface    = poller.Poller
	pollerInterest = poller.Interest
)

// countUpdates makes b count its backend updates from now on.
func countUpdates(b *Base) *countingPoller {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := &countingPoller{pollerIface: b.poller}
	b.poller = c
	return c
}

func (c *countingPoller) count(b *Base) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return c.updates
}

func pollerEvent(fd int, gen uint32) poller.Event {
	return poller.Event{Fd: int32(fd), Gen: gen, Ready: poller.ReadyIn}
}

// awaitSleep waits until b's loop sleeps in the kernel and returns the
// deadline it sleeps until (math.MaxInt64 for none). The flag is set under
// the lock before the loop releases it to sleep, so a change made after
// this returns finds the loop asleep, or about to be, and must wake it.
func awaitSleep(t testing.TB, b *Base) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		sleeping, at := b.sleeping, b.sleepAt
		b.mu.Unlock()
		if sleeping {
			return at
		}
		if time.Now().After(deadline) {
			t.Fatalf("the loop did not go to sleep within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// awaitSleepUntil waits until b's loop sleeps until want, and fails the
// test with the deadline it sleeps until otherwise.
func awaitSleepUntil(t testing.TB, b *Base, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		sleeping, at := b.sleeping, b.sleepAt
		b.mu.Unlock()
		if sleeping && at == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the loop sleeps until %d (sleeping %v), want %d (off by %v)", at, sleeping, want, time.Duration(at-want))
		}
		time.Sleep(time.Millisecond)
	}
}

// wakePending reports whether a wake-up was written and not yet drained.
func wakePending(b *Base) bool { return b.waker.Pending() }

// monoNano is the inverse of monoTime.
func monoNano(t time.Time) int64 { return int64(t.Sub(epoch)) }
