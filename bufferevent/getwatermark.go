package bufferevent

import (
	"fmt"

	"github.com/levent-go/levent/event"
)

// GetWatermark returns the watermarks SetWatermark set for reading
// (event.Read) or writing (event.Write) (bufferevent_getwatermark). what
// must be exactly one of the two, as in libevent. It is safe from any
// goroutine.
func (bev *BufferEvent) GetWatermark(what event.Flag) (low, high int, err error) {
	if what != event.Read && what != event.Write {
		return 0, 0, fmt.Errorf("%w: GetWatermark of %v, not exactly Read or Write", ErrWatermark, what)
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.life == lsFreed {
		return 0, 0, ErrFreed
	}
	if what == event.Write {
		high := 0
		if bev.ext != nil {
			high = int(bev.ext.whigh)
		}
		return int(bev.wlow), high, nil
	}
	return int(bev.rlow), int(bev.rhigh), nil
}
