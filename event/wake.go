package event

// When a loop that sleeps in the kernel must be woken.
//
// Before it sleeps, the loop decides two things under the lock: that it has
// something to wait for (an event pending, or a LoopExit), and when to wake
// (sleepAt: the earliest deadline it knows of, or never). A change made by
// another goroutine during the sleep wakes the loop exactly when it makes
// one of those decisions wrong:
//
//   - Active, Submit, LoopExit, LoopBreak and Close: there is new work or a
//     new reason to stop (each calls wakeLocked).
//   - the base became empty: the loop must return from Dispatch
//     (wakeIfEmptyLocked, after every Del, Free and RemoveTimer);
//   - a deadline before sleepAt appeared, or the timer whose deadline is
//     sleepAt left or moved later: the loop must sleep for another length
//     (timerChangedLocked).
//
// Anything else (an fd event added or removed while other events remain, a
// timer after sleepAt) cannot change what the sleep ends in, so it writes
// nothing; epoll applies such descriptor changes while the loop sleeps.
// Every wake-up goes through the waker, which writes its eventfd once per
// sleep however many goroutines call it. A loop that is not sleeping is
// never woken: it looks at its state before it sleeps again, so the loop's
// own goroutine pays one predictable branch for all of this.

// wakeIfEmptyLocked wakes a sleeping loop when nothing is left for it to
// wait for, so that Dispatch returns as libevent's does once the last event
// is deleted from another thread.
func (b *Base) wakeIfEmptyLocked() {
	if b.sleeping && b.nAdded == 0 && b.nActive == 0 && len(b.submits) == 0 && b.exitAt == 0 {
		b.waker.Wake()
	}
}

// timerChangedLocked wakes a sleeping loop whose sleep a timer change made
// wrong. from is the entry's deadline before the change and to its deadline
// after it, each 0 when it was or is not scheduled.
func (b *Base) timerChangedLocked(from, to int64) {
	if !b.sleeping {
		return
	}
	switch {
	case to != 0 && to < b.sleepAt:
		// An earlier deadline: the queue's WakeTime reports it.
		b.waker.Wake()
	case from != 0 && from <= b.sleepAt:
		// The entry that set the sleep's length is gone or later. WakeTime
		// may still report its old deadline (it defers such moves), so the
		// next sleep asks the queue for the exact earliest one.
		b.exactWake = true
		b.waker.Wake()
	}
}

// deadline is ev's timer deadline, 0 when no timeout is scheduled.
func (ev *Event) deadline() int64 {
	if ev.tm.Scheduled() {
		return ev.tm.When()
	}
	return 0
}
