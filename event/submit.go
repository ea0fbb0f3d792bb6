package event

import (
	"fmt"
	"time"
)

// Submit hands fn to the loop: it runs on the loop's goroutine soon, in the
// order of submission, before the active events of that iteration. It is
// the Go way to move work back onto the loop from another goroutine (a
// resolver, a worker pool) without locks in user code. Safe from any
// goroutine; a queued fn keeps Dispatch running until it has run.
func (b *Base) Submit(fn func()) error {
	if b == nil {
		return ErrNilBase
	}
	if fn == nil {
		return ErrNilCallback
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.submits = append(b.submits, fn)
	b.wakeLocked()
	return nil
}

// runSubmits runs the work queued so far and returns how many ran. Work
// submitted while it runs waits for the next iteration, so a function that
// resubmits itself cannot starve the descriptors. A LoopBreak stops it and
// keeps the rest queued.
func (b *Base) runSubmits() int {
	if len(b.submits) == 0 {
		return 0
	}
	batch := b.submits
	b.submits = b.spare[:0]
	i := 0
	for i < len(batch) {
		fn := batch[i]
		batch[i] = nil
		i++
		b.mu.Unlock()
		fn()
		b.mu.Lock()
		if b.gotBreak || b.closed {
			break
		}
	}
	if rest := batch[i:]; len(rest) > 0 {
		b.submits = append(rest, b.submits...)
		return i
	}
	b.spare = batch[:0]
	return i
}

// Once runs cb once when fd is ready for what, or when timeout passes
// (event_base_once). what may hold Read, Write and Timeout; with neither
// Read nor Write it is a one-shot timer, and a zero timeout then runs cb in
// the next iteration. The event is freed after its callback; there is no
// handle to delete it early.
func (b *Base) Once(fd int, what Flag, timeout time.Duration, cb Callback) error {
	if what&^(Read|Write|Timeout) != 0 {
		return fmt.Errorf("%w: Once takes Read, Write and Timeout, not %v", ErrBadFlags, what&^(Read|Write|Timeout))
	}
	if timeout < 0 {
		return fmt.Errorf("%w: %v", ErrTimeout, timeout)
	}
	if what&(Read|Write) == 0 {
		fd = -1
	}
	ev, err := New(b, fd, what&^Timeout, cb)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	ev.state |= stOnce
	if what&(Read|Write) == 0 && timeout == 0 {
		b.activateLocked(ev, Timeout, 1)
		b.wakeLocked()
		return nil
	}
	return b.addLocked(ev, int64(timeout))
}
