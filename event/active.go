package event

// activeQueue is the list of active events of one priority, in the order
// they became active.
type activeQueue struct {
	head, tail *Event
}

// activateLocked makes ev active with res (event_active_nolock_). An event
// already active only gains the new conditions; a signal event's calls add
// up, any other event's callback runs once.
func (b *Base) activateLocked(ev *Event, res Flag, ncalls uint32) {
	if res == 0 {
		return
	}
	signal := ev.events&Signal != 0
	if ev.state&stActive != 0 {
		ev.res |= res
		if signal {
			ev.aux += ncalls
		}
		return
	}
	ev.state |= stActive
	ev.res = res
	if signal {
		ev.aux = ncalls
	}
	q := &b.active[ev.pri]
	ev.actNext, ev.actPrev = nil, q.tail
	if q.tail != nil {
		q.tail.actNext = ev
	} else {
		q.head = ev
	}
	q.tail = ev
	b.nActive++
}

// activeRemove takes ev off its active queue.
func (b *Base) activeRemove(ev *Event) {
	q := &b.active[ev.pri]
	if ev.actPrev != nil {
		ev.actPrev.actNext = ev.actNext
	} else {
		q.head = ev.actNext
	}
	if ev.actNext != nil {
		ev.actNext.actPrev = ev.actPrev
	} else {
		q.tail = ev.actPrev
	}
	ev.actNext, ev.actPrev = nil, nil
	ev.state &^= stActive
	b.nActive--
}

// processActive runs the active events of the most urgent non-empty
// priority, and returns how many callbacks ran
// (event_process_active). Less urgent events wait for a later iteration,
// so every event of a more urgent priority runs before any less urgent
// one. The queue head is read again after every callback, because a
// callback may delete, free or activate any event, itself included; an
// event activated again by its own callback joins the queue being drained.
func (b *Base) processActive() int {
	for pri := range b.active {
		q := &b.active[pri]
		n := 0
		for ev := q.head; ev != nil; ev = q.head {
			b.activeRemove(ev)
			res, calls := ev.res, uint32(1)
			if ev.events&Signal != 0 {
				calls = ev.aux
			}
			if ev.events&Persist == 0 {
				if ev.pending() {
					// Non-pending before the callback, so it may Add again.
					b.delLocked(ev, false)
				}
			} else if ev.timeout > 0 {
				b.rearm(ev, res)
			}
			if ev.events&Persist == 0 && calls > 1 {
				calls = 1 // a non-persistent signal event fires once per Add
			}
			n++
			if b.runCallback(ev, res, calls) {
				return n
			}
		}
		if n > 0 {
			return n
		}
	}
	return 0
}

// rearm moves a persistent event's timeout on after it fired
// (event_persist_closure): a timeout that fired is re-armed from its own
// deadline, so periodic timers do not drift; any other firing pushes the
// timeout to now plus the interval. A deadline already behind (the loop was
// busy) restarts from now rather than firing in a burst.
func (b *Base) rearm(ev *Event, res Flag) {
	now := b.clock()
	from := now
	if res&Timeout != 0 {
		from = ev.tm.When()
	}
	at := from + ev.timeout
	if at <= now {
		at = now + ev.timeout
	}
	was := ev.pending()
	b.timers.Schedule(&ev.tm, at)
	if !was {
		b.nAdded++
	}
}

// runCallback runs ev's callback calls times without the lock and reports
// whether the loop must stop (LoopBreak or Close in a callback).
func (b *Base) runCallback(ev *Event, res Flag, calls uint32) (stop bool) {
	cb, fd, once := ev.cb, int(ev.fd), ev.state&stOnce != 0
	for ; calls > 0; calls-- {
		b.mu.Unlock()
		cb(fd, res)
		b.mu.Lock()
		if b.gotBreak || b.closed {
			stop = true
			break
		}
	}
	if once {
		b.freeLocked(ev)
	}
	return stop
}
