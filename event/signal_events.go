package event

import (
	"fmt"
	"syscall"

	"github.com/levent-go/levent/internal/poller"
	"github.com/levent-go/levent/signal"
)

// ErrBadSignal is returned for a signal number outside 1..64.
var ErrBadSignal = fmt.Errorf("%w: signal number out of range", ErrBadFd)

// maxSignal is the highest signal number Linux has.
const maxSignal = 64

// NewSignal returns an event that fires when sig is delivered to the
// process (evsignal_new): the callback gets the signal number as fd and
// Signal as what, once per delivery, on the loop's goroutine. Add starts
// watching sig; when the last event for sig is deleted or freed, sig goes
// back to what it did before (Ctrl+C kills the program again). Most
// programs want New(b, int(sig), Signal|Persist, cb) so that the event
// keeps firing; NewSignal gives libevent's evsignal_new exactly, which is
// Signal|Persist.
func NewSignal(b *Base, sig syscall.Signal, cb Callback) (*Event, error) {
	return New(b, int(sig), Signal|Persist, cb)
}

func checkSignal(sig int) error {
	if sig < 1 || sig > maxSignal {
		return fmt.Errorf("%w: %d", ErrBadSignal, sig)
	}
	return nil
}

// signalSet is the base's share of signal handling (libevent's evsig_info):
// a signal.Source, whose descriptor the base watches like its waker, and
// the events waiting for each signal number.
type signalSet struct {
	src   *signal.Source
	sfd   int                   // src.Fd(), read per readiness report without src's lock
	lists [maxSignal + 1]*Event // events per signal, linked by fdNext
	buf   []signal.Delivery
}

func newSignalSet(p poller.Poller) (*signalSet, error) {
	src, err := signal.NewSource()
	if err != nil {
		return nil, err
	}
	if err := p.Update(src.Fd(), 0, 0, poller.In); err != nil {
		src.Close()
		return nil, err
	}
	return &signalSet{src: src, sfd: src.Fd(), buf: make([]signal.Delivery, 0, maxSignal)}, nil
}

func (s *signalSet) fd() int { return s.sfd }

func (b *Base) signalInsert(ev *Event) error {
	s := b.signals
	sig := int(ev.fd)
	if s.lists[sig] == nil {
		if err := s.src.Watch(syscall.Signal(sig)); err != nil {
			return err
		}
	}
	ev.fdNext, s.lists[sig] = s.lists[sig], ev
	return nil
}

func (b *Base) signalRemove(ev *Event) {
	s := b.signals
	sig := int(ev.fd)
	unlink(&s.lists[sig], ev)
	if s.lists[sig] == nil {
		s.src.Unwatch(syscall.Signal(sig))
	}
}

// dispatch reads what arrived and activates the events of each signal.
func (s *signalSet) dispatch(b *Base) {
	s.buf = s.src.Read(s.buf[:0])
	for _, d := range s.buf {
		s.activateLocked(b, d)
	}
}

// activateLocked activates the events waiting for d's signal, one callback
// per delivery (evmap_signal_active_). Deliveries that arrive while an
// event is still active add to the calls it has to make.
func (s *signalSet) activateLocked(b *Base, d signal.Delivery) {
	if int(d.Sig) > maxSignal {
		return
	}
	for ev := s.lists[d.Sig]; ev != nil; ev = ev.fdNext {
		b.activateLocked(ev, Signal, uint32(d.Count))
	}
}

func (s *signalSet) close() error {
	s.sfd = -1
	return s.src.Close()
}
