//go:build linux

package event

import (
	"fmt"
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
	return awaitSleepWhere(t, b, "", func(int64) bool { return true })
}

// awaitSleepUntil waits until b's loop sleeps until want, and fails the
// test with the deadline it sleeps until otherwise.
func awaitSleepUntil(t testing.TB, b *Base, want int64) {
	t.Helper()
	awaitSleepWhere(t, b, fmt.Sprintf("until %d", want), func(at int64) bool { return at == want })
}

// awaitSleepWhere waits until b's loop sleeps until a deadline ok accepts,
// which it returns; what describes that deadline for a failure.
func awaitSleepWhere(t testing.TB, b *Base, what string, ok func(at int64) bool) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		sleeping, at := b.sleeping, b.sleepAt
		b.mu.Unlock()
		if sleeping && ok(at) {
			return at
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s the loop sleeps %v, until %d; want it to sleep %s", sleeping, at, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// wakePending reports whether a wake-up was written and not yet drained.
func wakePending(b *Base) bool { return b.waker.Pending() }

// monoNano is the inverse of monoTime.
func monoNano(t time.Time) int64 { return int64(t.Sub(epoch)) }
