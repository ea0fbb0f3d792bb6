package event

import (
	"fmt"
	"io"
	"time"
)

// Dump writes a description of every pending and active event to w, for
// debugging (event_base_dump_events). The format is for people, not
// programs, and may change.
func (b *Base) Dump(w io.Writer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		_, err := fmt.Fprintln(w, "base is closed")
		return err
	}
	now := b.clock()
	ew := &errWriter{w: w}
	ew.printf("Base %p: method %s, %d priorities, %d added, %d active\n", b, b.poller.Name(), len(b.active), b.nAdded, b.nActive)
	ew.printf("Inserted events:\n")
	seen := 0
	b.fds.Each(func(_ int, s *fdSlot) {
		for ev := s.head; ev != nil; ev = ev.fdNext {
			b.dumpEvent(ew, ev, now)
			seen++
		}
	})
	for _, head := range b.signals.lists {
		for ev := head; ev != nil; ev = ev.fdNext {
			b.dumpEvent(ew, ev, now)
			seen++
		}
	}
	if seen < b.nAdded {
		ew.printf("  and %d pure timers\n", b.nAdded-seen)
	}
	ew.printf("Active events:\n")
	for pri := range b.active {
		q := &b.active[pri]
		for _, ev := range q.evs[q.head:] {
			if ev == nil {
				continue
			}
			ew.printf("  %p [fd %d, priority %d]%s\n", ev, ev.fd, pri, " "+ev.res.String())
		}
	}
	return ew.err
}

func (b *Base) dumpEvent(ew *errWriter, ev *Event, now int64) {
	ew.printf("  %p [fd %d] %v", ev, ev.fd, ev.events)
	if ev.tm.Scheduled() {
		ew.printf(" (timeout in %v)", time.Duration(ev.tm.When()-now))
	}
	ew.printf("\n")
}

// errWriter keeps the first write error so Dump can print without checking
// each line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
