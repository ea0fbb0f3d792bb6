package event

import (
	"fmt"
	"math"

	"github.com/levent-go/levent/internal/poller"
)

// fdSlot is everything the base knows about one descriptor (libevent's
// evmap_io): the events watching it, how many watch each condition, the
// interest the backend should have and the interest it has.
//
// Changes are batched as libevent's changelist does: want moves at once,
// have catches up when the base flushes before it waits, so a Del followed
// by an Add of the same event in one iteration costs no system call.
//
// gen tags the registration. It moves when the descriptor is watched again
// by a different event after nothing watched it: the number may belong to a
// new file by then, so readiness reports carrying the old gen are dropped,
// and verify forces one system call to re-register under the new gen.
//
// A slot is 24 bytes, and the table (slotTable) holds one for every
// descriptor number in each page of numbers in use, so the counts are
// 16-bit: fdInsert refuses the 65,536th event of one kind on one
// descriptor.
type fdSlot struct {
	head    *Event // events on this descriptor, linked by fdNext
	nRead   uint16
	nWrite  uint16
	nClosed uint16
	nET     uint16 // events with ET; all or none of the events on a slot
	gen     uint32
	want    poller.Interest
	have    poller.Interest
	flags   uint8 // slotChanged, slotVerify, slotRecv, slotAccept, slotSend
}

// fdSlot flags, packed to keep the slot at 24 bytes.
const (
	slotChanged = 1 << iota // fd is on base.changes
	slotVerify              // re-register even if want == have
	slotRecv                // the Read events have Recv: all or none of them
	slotAccept              // the Read events have Accept: all or none of them
	slotSend                // the Write events have Send: all or none of them
)

// full reports whether one more event like ev would overflow a count.
func (s *fdSlot) full(ev *Event) bool {
	const most = math.MaxUint16
	return ev.events&Read != 0 && s.nRead == most || ev.events&Write != 0 && s.nWrite == most ||
		ev.events&Closed != 0 && s.nClosed == most || ev.events&ET != 0 && s.nET == most
}

// interest is what the slot's counts ask of the backend.
func (s *fdSlot) interest() poller.Interest {
	var i poller.Interest
	if s.nRead > 0 {
		i |= poller.In
	}
	if s.nWrite > 0 {
		i |= poller.Out
	}
	if s.nClosed > 0 {
		i |= poller.RDHup
	}
	if i != 0 && s.nET > 0 {
		i |= poller.ET
	}
	if s.nRead > 0 && s.flags&slotRecv != 0 {
		i |= poller.Recv
	}
	if s.nRead > 0 && s.flags&slotAccept != 0 {
		i |= poller.Accept
	}
	if s.nWrite > 0 && s.flags&slotSend != 0 {
		i |= poller.Send
	}
	return i
}

// count adds d (1 or -1) to the counts ev is part of.
func (s *fdSlot) count(ev *Event, d int) {
	u := uint16(d) // -1 wraps to 0xffff: adding it subtracts one
	if ev.events&Read != 0 {
		s.nRead += u
	}
	if ev.events&Write != 0 {
		s.nWrite += u
	}
	if ev.events&Closed != 0 {
		s.nClosed += u
	}
	if ev.events&ET != 0 {
		s.nET += u
	}
}

// agree records whether the first of the n Read (or Write) events on the
// slot has a flag the backend acts on for all of them (Recv, Accept; Send:
// the slot flag bit), and reports whether a later one agrees with it.
func (s *fdSlot) agree(n uint16, has bool, bit uint8) bool {
	switch {
	case n == 0 && has:
		s.flags |= bit
	case n == 0:
		s.flags &^= bit
	case has != (s.flags&bit != 0):
		return false
	}
	return true
}

// fdInsert puts ev on its descriptor's list and updates the interest.
func (b *Base) fdInsert(ev *Event) error {
	fd := int(ev.fd)
	if ev.events&ET != 0 && b.features&FeatureET == 0 {
		return fmt.Errorf("%w: ET with %s", ErrNotSupported, b.poller.Name())
	}
	if ev.events&Closed != 0 && b.features&FeatureEarlyClose == 0 {
		return fmt.Errorf("%w: Closed with %s", ErrNotSupported, b.poller.Name())
	}
	s := b.fds.Make(fd)
	if s.head != nil && (s.nET > 0) != (ev.events&ET != 0) {
		return fmt.Errorf("%w: fd %d", ErrMixedET, fd)
	}
	if s.full(ev) {
		return fmt.Errorf("%w: fd %d", ErrTooManyEvents, fd)
	}
	if ev.events&Read != 0 {
		if !s.agree(s.nRead, ev.events&Recv != 0, slotRecv) {
			return fmt.Errorf("%w: fd %d", ErrMixedRecv, fd)
		}
		if !s.agree(s.nRead, ev.events&Accept != 0, slotAccept) {
			return fmt.Errorf("%w: fd %d", ErrMixedAccept, fd)
		}
	}
	if ev.events&Write != 0 && !s.agree(s.nWrite, ev.events&Send != 0, slotSend) {
		return fmt.Errorf("%w: fd %d", ErrMixedSend, fd)
	}
	if s.head == nil && (ev.slotGen != s.gen || ev.slotGen == 0) {
		// A different owner starts watching the number: tag it anew.
		s.gen++
		if s.gen == 0 {
			s.gen = 1
		}
		if s.have != 0 {
			s.flags |= slotVerify
		}
	}
	ev.slotGen = s.gen
	ev.fdNext, s.head = s.head, ev
	s.count(ev, 1)
	s.want = s.interest()
	if s.have == 0 && (!b.polling || b.concurrentUpdate()) {
		// First registration: do it now so that a descriptor the
		// backend refuses (a regular file under epoll, a closed
		// number) is reported by Add.
		if err := b.apply(fd, s); err != nil {
			b.fdUnlink(ev, s)
			s.want = s.interest()
			return err
		}
		return nil
	}
	b.noteChange(fd, s)
	return nil
}

// fdRemove takes ev off its descriptor's list. eager: see delLocked.
func (b *Base) fdRemove(ev *Event, eager bool) {
	fd := int(ev.fd)
	s := b.fds.Get(fd)
	b.fdUnlink(ev, s)
	s.want = s.interest()
	if eager && b.releaseNow(fd, s) {
		return
	}
	if s.head == nil && s.have != 0 && b.releaser != nil {
		// Nothing watches fd now, and the backend learns it only at
		// the flush. An event added meanwhile takes a new generation,
		// as the number may be another file by then; the backend tells
		// by the file it records here whether it is.
		b.releaser.Released(fd)
	}
	b.noteChange(fd, s)
}

// fdRelease is the eager half of fdRemove for an event that is no longer
// on its descriptor's list: deleted earlier, its removal may still wait
// for the flush, and the caller is about to close the descriptor. Applied
// after the close, the removal would find the number's next owner (a
// socket the kernel accepted meanwhile, say), and a backend that tells a
// new file from the old by fstat would take it for the old one. Nothing
// is done for a slot that another owner has taken since.
func (b *Base) fdRelease(ev *Event) {
	fd := int(ev.fd)
	if fd < 0 {
		return
	}
	if s := b.fds.Get(fd); s != nil && s.gen == ev.slotGen {
		b.releaseNow(fd, s)
	}
}

// releaseNow removes a descriptor nothing watches from the backend at
// once, where the backend may be updated now; it reports whether it did.
func (b *Base) releaseNow(fd int, s *fdSlot) bool {
	if s.want != 0 || s.have == 0 || b.polling && !b.concurrentUpdate() {
		return false
	}
	b.apply(fd, s)
	return true
}

func (b *Base) fdUnlink(ev *Event, s *fdSlot) {
	unlink(&s.head, ev)
	s.count(ev, -1)
}

// concurrentUpdate reports whether the backend may be updated while the
// loop is blocked in it (epoll may; poll's array is in the kernel's hands).
func (b *Base) concurrentUpdate() bool { return b.poller.Concurrent() }

// noteChange records that fd's interest moved. While the loop waits in the
// kernel the change is applied at once where the backend allows it (no
// wake-up needed); otherwise it waits for the flush before the next wait,
// and a loop sleeping in the kernel is woken to make it.
func (b *Base) noteChange(fd int, s *fdSlot) {
	if s.want == s.have && s.flags&slotVerify == 0 {
		return
	}
	if b.polling {
		if b.concurrentUpdate() {
			b.applyLater(fd, s)
			return
		}
		b.wakeLocked()
	}
	if s.flags&slotChanged == 0 {
		s.flags |= slotChanged
		b.changes = append(b.changes, int32(fd))
	}
}

// flushChanges brings the backend up to date before the loop waits.
func (b *Base) flushChanges() {
	for _, fd := range b.changes {
		s := b.fds.Get(int(fd))
		s.flags &^= slotChanged
		b.applyLater(int(fd), s)
	}
	b.changes = b.changes[:0]
}

// apply tells the backend about fd's interest. If the backend refuses, the
// slot is left unregistered.
func (b *Base) apply(fd int, s *fdSlot) error {
	if s.want == s.have && s.flags&slotVerify == 0 {
		return nil
	}
	err := b.poller.Update(fd, s.gen, s.have, s.want)
	s.flags &^= slotVerify
	if err != nil {
		s.have = 0
		return err
	}
	s.have = s.want
	return nil
}

// applyLater is apply for a change that Add or Del could not report: if
// the backend refuses (the descriptor was closed while still watched, say),
// the slot's events are made active as if the descriptor had reported an
// error, so their callbacks learn of it from their next read or write, as
// they would from EPOLLERR.
func (b *Base) applyLater(fd int, s *fdSlot) {
	if b.apply(fd, s) != nil {
		for ev := s.head; ev != nil; ev = ev.fdNext {
			b.activateLocked(ev, ev.events&(Read|Write), 1)
		}
	}
}

// activateReady turns n readiness reports into active events, in the
// order libevent uses (evmap_io_active_): every event on the descriptor
// whose conditions fired, with just those conditions.
func (b *Base) activateReady(n int) {
	for i := 0; i < n; i++ {
		r := &b.events[i]
		fd := int(r.Fd)
		if fd == b.waker.Fd() {
			b.waker.Drain()
			continue
		}
		if fd == b.signals.fd() {
			b.signals.dispatch(b)
			continue
		}
		s := b.fds.Get(fd)
		if s == nil || r.Gen != s.gen {
			continue // a report for an earlier owner of the number
		}
		var what Flag
		if r.Ready&(poller.ReadyHup|poller.ReadyErr) != 0 {
			what = Read | Write | Closed
		} else {
			if r.Ready&poller.ReadyIn != 0 {
				what |= Read
			}
			if r.Ready&poller.ReadyOut != 0 {
				what |= Write
			}
			if r.Ready&poller.ReadyRDHup != 0 {
				what |= Closed
			}
		}
		for ev := s.head; ev != nil; ev = ev.fdNext {
			if res := ev.events & what; res != 0 {
				b.activateLocked(ev, res, 1)
			}
		}
	}
}

// unlink takes ev off the list, linked by fdNext, that starts at *head.
func unlink(head **Event, ev *Event) {
	for p := head; *p != nil; p = &(*p).fdNext {
		if *p == ev {
			*p, ev.fdNext = ev.fdNext, nil
			return
		}
	}
}
