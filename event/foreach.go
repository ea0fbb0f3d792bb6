package event

// ForeachEvent calls fn for every event that is pending or active
// (event_base_foreach_event): events on a descriptor or a signal, pure
// timers, and events made active with Active while not pending. It stops
// at the first error fn returns and returns that error; ErrClosed for a
// closed base.
//
// libevent runs fn under the base's lock and forbids it to add, delete or
// free events. ForeachEvent takes a snapshot under the lock instead and
// calls fn without it, so fn may call any method, on any event; an event
// it changes or frees before its turn is still visited, as the snapshot
// saw it listed. Safe from any goroutine. It allocates the snapshot, so it
// is for inspection, not for the loop's hot path.
func (b *Base) ForeachEvent(fn func(*Event) error) error {
	if fn == nil {
		return ErrNilCallback
	}
	evs, err := b.snapshotEvents()
	if err != nil {
		return err
	}
	for _, ev := range evs {
		if err := fn(ev); err != nil {
			return err
		}
	}
	return nil
}

// snapshotEvents lists the pending and active events, each once: those on
// descriptor and signal lists, then timers on no list, then active events
// that are neither.
func (b *Base) snapshotEvents() ([]*Event, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	evs := make([]*Event, 0, b.nAdded+b.nActive)
	b.fds.Each(func(_ int, s *fdSlot) {
		for ev := s.head; ev != nil; ev = ev.fdNext {
			evs = append(evs, ev)
		}
	})
	for _, head := range b.signals.lists {
		for ev := head; ev != nil; ev = ev.fdNext {
			evs = append(evs, ev)
		}
	}
	b.timers.Each(func(e *timerEntry) bool {
		if ev := eventOf(e); ev.state&stInserted == 0 {
			evs = append(evs, ev)
		}
		return true
	})
	for pri := range b.active {
		q := &b.active[pri]
		for _, ev := range q.evs[q.head:] {
			if ev != nil && ev.state&stInserted == 0 && !ev.tm.Scheduled() {
				evs = append(evs, ev)
			}
		}
	}
	return evs, nil
}
