package event

// activeQueue is the list of active events of one priority, in the order
// they became active: a slice consumed from head, so that an event needs
// only its index (Event.actIdx) to be taken off it, where a linked list
// would cost every Event two pointers. An event taken off before its turn
// leaves a nil hole that the drain skips.
type activeQueue struct {
	evs  []*Event
	head int // evs[:head] have been taken
}

// push appends ev to q. A queue that is never drained empty (callbacks
// that keep activating events) would grow without end, so before its array
// grows the taken half is reclaimed: O(1) amortised, with no allocation
// once the array has reached its working size.
func (q *activeQueue) push(ev *Event) {
	if len(q.evs) == cap(q.evs) && q.head > 0 && q.head >= len(q.evs)/2 {
		n := copy(q.evs, q.evs[q.head:])
		clear(q.evs[n:])
		q.evs = q.evs[:n]
		q.head = 0
		for i, e := range q.evs {
			if e != nil {
				e.actIdx = uint32(i)
			}
		}
	}
	ev.actIdx = uint32(len(q.evs))
	q.evs = append(q.evs, ev)
}

// pop takes the next entry of q, which is nil for a hole; ok is false when
// q is empty. A queue drained to its end starts again at index 0, so an
// event that activates itself again from its callback reuses one slot.
func (q *activeQueue) pop() (ev *Event, ok bool) {
	if q.head == len(q.evs) {
		return nil, false
	}
	ev = q.evs[q.head]
	q.evs[q.head] = nil
	q.head++
	if q.head == len(q.evs) {
		q.evs = q.evs[:0]
		q.head = 0
	}
	return ev, true
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
			ev.ncalls += ncalls
		}
		return
	}
	ev.state |= stActive
	ev.res = res
	if signal {
		ev.ncalls = ncalls
	}
	b.active[ev.pri].push(ev)
	b.nActive++
}

// activeRemove takes ev, which is active, off its queue before its turn.
func (b *Base) activeRemove(ev *Event) {
	b.active[ev.pri].evs[ev.actIdx] = nil
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
		for {
			ev, ok := q.pop()
			if !ok {
				break
			}
			if ev == nil {
				continue // taken off before its turn
			}
			ev.state &^= stActive
			b.nActive--
			res, calls := ev.res, uint32(1)
			if ev.events&Signal != 0 {
				calls = ev.ncalls
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
