package event

import (
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/levent-go/levent/internal/poller"
)

// Dispatch runs the loop until no event is pending or active, or until
// LoopExit or LoopBreak (event_base_dispatch). It returns nil in those
// cases and an error only when the backend fails or the loop cannot start.
func (b *Base) Dispatch() error { return b.Loop(0) }

// Loop runs the loop as flags ask (event_base_loop); see LoopOnce,
// LoopNonblock and LoopNoExitOnEmpty. Callbacks run on the calling
// goroutine. One goroutine at a time may run a base's loop; Loop from a
// callback returns ErrLoopRunning. On io_uring that goroutine is locked to
// its OS thread until Loop returns (see the package doc).
//
// One iteration: flush descriptor changes, wait for readiness or the
// earliest deadline, then make ready descriptors active, then expired
// timers, run the work handed over by Submit, and finally run the active
// events of the most urgent priority that has any.
func (b *Base) Loop(flags LoopFlag) error {
	if b == nil {
		return ErrNilBase
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if b.running {
		return ErrLoopRunning
	}
	b.running = true
	b.gotExit, b.gotBreak = false, false
	if tb, ok := b.poller.(poller.ThreadBound); ok && tb.BindsThread() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	err := b.loop(flags)
	b.now, b.cacheTime = 0, false
	b.running = false
	if b.closed {
		if e := b.releaseLocked(); err == nil {
			err = e
		}
	}
	return err
}

func (b *Base) loop(flags LoopFlag) error {
	for !b.gotExit && !b.gotBreak && !b.closed {
		busy := b.nActive > 0 || len(b.submits) > 0
		if flags&LoopNoExitOnEmpty == 0 && !busy && b.nAdded == 0 && b.exitAt == 0 {
			b.flushChanges() // so the kernel stops watching what nothing waits for
			return nil
		}
		timeout, wakeAt := time.Duration(0), int64(0)
		if !busy && flags&LoopNonblock == 0 {
			timeout, wakeAt = b.nextTimeout()
		}
		b.flushChanges()
		b.now, b.cacheTime = 0, false
		var n int
		var err error
		if timeout == 0 {
			// A poll that cannot block takes a few microseconds: other
			// goroutines may wait for the lock that long, and the loop
			// saves releasing and taking it again on every busy pass.
			n, err = b.poller.Wait(b.events, 0)
		} else {
			b.polling, b.sleeping, b.sleepAt = true, true, wakeAt
			precise := b.precise && timeout > 0
			b.mu.Unlock()
			if precise {
				poller.FineSleep() // on the thread about to sleep
			}
			n, err = b.poller.Wait(b.events, timeout)
			b.mu.Lock()
			b.polling, b.sleeping = false, false
		}
		if err != nil {
			return fmt.Errorf("event: %s: %w", b.poller.Name(), err)
		}
		// The clock is read when first needed in this iteration (an
		// iteration without timers never reads it) and then cached.
		b.cacheTime = true
		b.activateReady(n)
		b.resizeEvents(n)
		b.activateTimeouts()
		ran := b.runSubmits()
		if b.gotBreak || b.closed {
			break
		}
		if b.nActive > 0 {
			ran += b.processActive()
		} else if flags&LoopNonblock != 0 && ran == 0 {
			break
		}
		if flags&LoopOnce != 0 && ran > 0 && b.nActive == 0 {
			break
		}
		if flags&LoopNonblock != 0 && b.nActive == 0 && len(b.submits) == 0 {
			break
		}
	}
	return nil
}

// nextTimeout is how long the loop may sleep, and the deadline it wakes
// at: the earliest deadline (a timer or a LoopExit), or forever (-1 and
// math.MaxInt64) when there is none.
func (b *Base) nextTimeout() (time.Duration, int64) {
	next := b.exitAt
	if w, ok := b.wakeTime(); ok && (next == 0 || w < next) {
		next = w
	}
	if next == 0 {
		return -1, math.MaxInt64
	}
	d := next - monoNow()
	if d <= 0 {
		return 0, next
	}
	return time.Duration(d), next
}

// wakeTime is the timer deadline to sleep until. The queue's WakeTime may
// be early (a deadline pushed later still counts at its old value); waking
// early only costs a pass that finds nothing due, and it keeps
// rescheduling an idle timeout O(1). After another goroutine removed or
// delayed the timer that set a sleep, that sleep was cut short to be
// measured again, and the old deadline must not stand in: the queue's
// exact minimum is used once.
func (b *Base) wakeTime() (int64, bool) {
	if b.exactWake {
		b.exactWake = false
		if e, ok := b.timers.Min(); ok {
			return e.When(), true
		}
		return 0, false
	}
	return b.timers.WakeTime()
}

// resizeEvents grows the readiness buffer when a wait filled it and
// shrinks it after shrinkAfter waits in a row used under a quarter of it,
// so that a load alternating between busy and quiet waits does not
// reallocate the buffer again and again.
func (b *Base) resizeEvents(n int) {
	l := len(b.events)
	switch {
	case n == l && l < maxEvents:
		b.events = make([]poller.Event, 2*l)
		b.quietWaits = 0
	case n < l/4 && l > minEvents:
		if b.quietWaits++; b.quietWaits >= shrinkAfter {
			b.events = make([]poller.Event, l/2)
			b.quietWaits = 0
		}
	default:
		b.quietWaits = 0
	}
}

// activateTimeouts makes every event whose deadline passed active with
// Timeout (timeout_process), and notices a LoopExit whose time came. A
// non-persistent event stops being pending, descriptor included.
func (b *Base) activateTimeouts() {
	if b.exitAt == 0 && b.timers.Len() == 0 {
		return
	}
	now := b.clock()
	if b.exitAt != 0 && now >= b.exitAt {
		b.exitAt = 0
		b.gotExit = true
	}
	for {
		e, ok := b.timers.PopExpired(now)
		if !ok {
			return
		}
		ev := eventOf(e)
		if ev.events&Persist == 0 && ev.state&stInserted != 0 {
			b.delLocked(ev, false) // stops watching the descriptor too
		} else if !ev.pending() {
			// The pop ended a pure timer's pendency (a persistent one
			// is re-armed before its callback).
			b.nAdded--
		}
		b.activateLocked(ev, Timeout, 1)
	}
}

// LoopExit makes the loop return after after has passed
// (event_base_loopexit): the iteration in which it happens runs all its
// active callbacks first. 0 means at the end of the current iteration.
// Safe from any goroutine.
func (b *Base) LoopExit(after time.Duration) error {
	if after < 0 {
		return fmt.Errorf("%w: %v", ErrTimeout, after)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	at := b.clock() + int64(after)
	if b.exitAt == 0 || at < b.exitAt {
		b.exitAt = at
	}
	b.wakeLocked()
	return nil
}

// LoopBreak makes the loop return as soon as the running callback returns
// (event_base_loopbreak); the remaining active events stay active. Safe
// from any goroutine. A break requested while no loop runs is forgotten
// when the next loop starts, as in libevent.
func (b *Base) LoopBreak() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.gotBreak = true
	b.wakeLocked()
	return nil
}

// GotExit reports whether the last loop ended because of LoopExit
// (event_base_got_exit).
func (b *Base) GotExit() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gotExit
}

// GotBreak reports whether the last loop ended because of LoopBreak
// (event_base_got_break).
func (b *Base) GotBreak() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gotBreak
}
