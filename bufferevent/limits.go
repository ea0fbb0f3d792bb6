package bufferevent

import (
	"errors"
	"fmt"
	"math"

	"github.com/levent-go/levent/event"
)

// ErrLimit is returned for a negative or too large single read or write
// size.
var ErrLimit = errors.New("bufferevent: bad single read or write size")

// SetMaxSingleRead caps how many bytes one read from the socket takes
// (bufferevent_set_max_single_read), so that one busy connection cannot
// fill a loop iteration alone; the rest is read in the next iterations.
// 0 restores the default: as much as the socket has and Input's storage
// holds. On a TLS BufferEvent it caps the ciphertext read. Safe from any
// goroutine.
func (bev *BufferEvent) SetMaxSingleRead(n int) error {
	return bev.setMaxSingle(n, func(x *bevExt) *int32 { return &x.maxRead })
}

// SetMaxSingleWrite caps how many bytes one write to the socket sends
// (bufferevent_set_max_single_write); the rest goes as the socket takes
// more. 0 restores the default: all of Output that the socket takes. On a
// TLS BufferEvent it caps the ciphertext written. Safe from any goroutine.
func (bev *BufferEvent) SetMaxSingleWrite(n int) error {
	return bev.setMaxSingle(n, func(x *bevExt) *int32 { return &x.maxWrite })
}

func (bev *BufferEvent) setMaxSingle(n int, field func(*bevExt) *int32) error {
	if n < 0 || n > math.MaxInt32 {
		return fmt.Errorf("%w: %d", ErrLimit, n)
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.life == lsFreed {
		return ErrFreed
	}
	if n == 0 && bev.ext == nil {
		return nil
	}
	*field(bev.extra()) = int32(n)
	return nil
}

// MaxSingleRead returns the cap SetMaxSingleRead set, 0 for the default
// (bufferevent_get_max_single_read). Safe from any goroutine.
func (bev *BufferEvent) MaxSingleRead() int {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	return bev.maxReadLocked()
}

// MaxSingleWrite returns the cap SetMaxSingleWrite set, 0 for the default
// (bufferevent_get_max_single_write). Safe from any goroutine.
func (bev *BufferEvent) MaxSingleWrite() int {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	return bev.maxWriteLocked()
}

func (bev *BufferEvent) maxReadLocked() int {
	if bev.ext == nil {
		return 0
	}
	return int(bev.ext.maxRead)
}

func (bev *BufferEvent) maxWriteLocked() int {
	if bev.ext == nil {
		return 0
	}
	return int(bev.ext.maxWrite)
}

// readRoomLocked is how much the next read may take: the room below the
// read high watermark, capped by the single-read size; 0 means no limit.
// ok is false when Input already holds the high watermark.
func (bev *BufferEvent) readRoomLocked() (room int, ok bool) {
	if bev.rhigh > 0 {
		room = int(bev.rhigh) - bev.in().Len()
		if room <= 0 {
			return 0, false
		}
	}
	if m := bev.maxReadLocked(); m > 0 && (room == 0 || m < room) {
		room = m
	}
	return room, true
}

// SetPriority sets the priority of the BufferEvent's events
// (bufferevent_priority_set): its reads and writes are handled in the
// loop's priority order, 0 first. It keeps across SetFd and Connect. It is
// refused for a priority the base does not have, and while one of its
// events is active (ErrActive), as event_priority_set is. Callbacks
// deferred by DeferCallbacks run with the loop's submitted work, which has
// no priority. Safe from any goroutine.
func (bev *BufferEvent) SetPriority(pri int) error {
	if pri < 0 || pri >= bev.base.Priorities() {
		return fmt.Errorf("%w: %d (base has %d)", event.ErrPriority, pri, bev.base.Priorities())
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.life == lsFreed {
		return ErrFreed
	}
	if bev.fd >= 0 {
		if err := bev.rev.SetPriority(pri); err != nil {
			return err
		}
	}
	if bev.wev != nil {
		if err := bev.wev.SetPriority(pri); err != nil {
			return err
		}
	}
	bev.extra().pri = int16(pri) + 1
	return nil
}

// Priority returns the priority of the BufferEvent's events
// (bufferevent_get_priority): the one SetPriority set, or the base's
// default, the middle one, as for any new event. Safe from any goroutine.
func (bev *BufferEvent) Priority() int {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.ext != nil && bev.ext.pri > 0 {
		return int(bev.ext.pri) - 1
	}
	return bev.base.Priorities() / 2
}

// applyPriorityLocked gives ev the priority SetPriority set, if any: events
// made or re-assigned later (SetFd, Connect, the write event made on first
// need) keep it.
func (bev *BufferEvent) applyPriorityLocked(ev *event.Event) error {
	if bev.ext == nil || bev.ext.pri == 0 {
		return nil
	}
	return ev.SetPriority(int(bev.ext.pri) - 1)
}
