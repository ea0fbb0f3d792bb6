package event

import "github.com/levent-go/levent/internal/poller"

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
