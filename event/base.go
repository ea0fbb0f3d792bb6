package event

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/internal/poller"
	"github.com/levent-go/levent/timer"
)

// Base is an event loop: libevent's event_base. It watches descriptors,
// timers and signals for the events added to it and runs their callbacks,
// one at a time, on the goroutine that calls Loop or Dispatch.
//
// Add, Del, Active, Free, RemoveTimer, Submit, LoopExit and LoopBreak are
// safe from any goroutine: they take effect under the base's lock and wake
// a loop that is blocked in the kernel whenever they change what it would
// do next. Deleting the last pending event from another goroutine ends
// Dispatch, as libevent's event_del does on a base with threads enabled.
// They never wait for a running callback. Every other method is meant for
// the loop's goroutine, or for set-up before the loop runs.
type Base struct {
	mu sync.Mutex

	// Fixed at creation.
	poller   poller.Poller
	receiver poller.Receiver // the poller, if it receives for Recv events; else nil
	sender   poller.Sender   // the poller, if it sends for Send events; else nil
	acceptor poller.Acceptor // the poller, if it accepts for Accept events; else nil
	releaser poller.Releaser // the poller, if it keeps state that outlives a registration; else nil
	waker    *poller.Waker
	features Feature
	maxFd    int
	precise  bool // Config.PreciseTimer
	// fallback says why the base is not on the method asked for.
	fallback error

	// Everything below is guarded by mu.
	fds     slotTable // the events watching each descriptor
	changes []int32   // descriptors whose interest changed since the last flush
	timers  timer.Queue[*Event]
	active  []activeQueue // by priority, 0 most urgent
	signals *signalSet

	nAdded  int // user events that are pending (inserted or timed)
	nActive int // events on the active queues

	submits []func() // work handed over by Submit, run in order
	spare   []func() // the other half of the submit double buffer

	events     []poller.Event // readiness reports, reused between waits
	quietWaits int            // waits in a row that used under a quarter of events

	now       int64 // cached clock of this iteration, 0 until first read or outside one
	cacheTime bool  // an iteration is being processed: clock caches its reading
	exitAt    int64 // deadline of a pending LoopExit, 0 if none
	running   bool  // a goroutine is inside Loop
	polling   bool  // the loop is inside Wait, without the lock
	sleeping  bool  // ... and may block there: new work needs a wake-up
	sleepAt   int64 // while sleeping: the deadline it wakes at, math.MaxInt64 for none
	exactWake bool  // the next sleep's length comes from the queue's exact minimum
	closed    bool
	gotExit   bool
	gotBreak  bool
}

// NewBase returns a base with the default configuration: the best backend
// the platform has (epoll on Linux), one priority (event_base_new).
func NewBase() (*Base, error) { return NewBaseWithConfig(Config{}) }

// NewBaseWithConfig returns a base built as cfg asks
// (event_base_new_with_config).
func NewBaseWithConfig(cfg Config) (*Base, error) {
	npri := cfg.Priorities
	if npri == 0 {
		npri = 1
	}
	if npri < 0 || npri > maxPriorities {
		return nil, fmt.Errorf("%w: %d priorities (want 1..%d)", ErrPriority, cfg.Priorities, maxPriorities)
	}
	p, fallback, err := cfg.pickMethod()
	if err != nil {
		return nil, err
	}
	w, err := poller.NewWaker()
	if err != nil {
		p.Close()
		return nil, err
	}
	if err := p.Update(w.Fd(), 0, 0, poller.In); err != nil {
		w.Close()
		p.Close()
		return nil, err
	}
	sigs, err := newSignalSet(p)
	if err != nil {
		w.Close()
		p.Close()
		return nil, err
	}
	b := &Base{
		poller:   p,
		waker:    w,
		signals:  sigs,
		features: Feature(p.Features()),
		maxFd:    fdLimit(),
		active:   make([]activeQueue, npri),
		events:   make([]poller.Event, minEvents),
		precise:  cfg.PreciseTimer,
		fallback: fallback,
	}
	if r, ok := p.(poller.Receiver); ok && r.CanRecv() {
		b.receiver = r
	}
	if s, ok := p.(poller.Sender); ok && s.CanSend() {
		b.sender = s
	}
	if a, ok := p.(poller.Acceptor); ok && a.CanAccept() {
		b.acceptor = a
	}
	if r, ok := p.(poller.Releaser); ok && (b.receiver != nil || b.acceptor != nil) {
		b.releaser = r
	}
	return b, nil
}

// Event slice bounds for one Wait: it doubles when a wait fills it and
// halves when a wait uses under a quarter, between these sizes.
const (
	minEvents   = 128
	maxEvents   = 8192
	shrinkAfter = 1024
)

// fdLimit is the largest descriptor number the process can have, used to
// refuse absurd descriptors before growing the table for them.
func fdLimit() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Max > 1<<24 {
		return 1 << 24
	}
	return int(rl.Max)
}

// Close frees the base (event_base_free). Pending events stay allocated
// but are no longer watched; their methods return ErrClosed. Close from a
// callback, or from another goroutine while the loop runs, stops the loop
// as LoopBreak does and the loop releases the base's descriptors on its
// way out. Close never closes a descriptor the base did not create.
func (b *Base) Close() error {
	if b == nil {
		return ErrNilBase
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.closed = true
	if b.running {
		b.wakeLocked()
		return nil
	}
	return b.releaseLocked()
}

// releaseLocked drops every event and closes the base's own descriptors.
func (b *Base) releaseLocked() error {
	b.fds.Each(func(_ int, s *fdSlot) {
		for ev := s.head; ev != nil; {
			next := ev.fdNext
			ev.fdNext = nil
			ev.state &^= stInserted | stActive
			ev = next
		}
		s.head = nil
	})
	b.fds, b.changes = slotTable{}, nil
	for {
		e, ok := b.timers.Min()
		if !ok {
			break
		}
		b.timers.Purge(e)
	}
	for i := range b.active {
		for _, ev := range b.active[i].evs[b.active[i].head:] {
			if ev != nil {
				ev.state &^= stActive
			}
		}
		b.active[i] = activeQueue{}
	}
	b.nAdded, b.nActive = 0, 0
	b.submits, b.spare = nil, nil
	for sig, ev := range b.signals.lists {
		for ; ev != nil; ev = ev.fdNext {
			ev.state &^= stInserted
		}
		b.signals.lists[sig] = nil
	}
	err := b.signals.close()
	if e := b.waker.Close(); err == nil {
		err = e
	}
	if e := b.poller.Close(); err == nil {
		err = e
	}
	return err
}

// Method names the backend in use: "epoll", "poll" or "io_uring"
// (event_base_get_method).
func (b *Base) Method() string { return b.poller.Name() }

// Features reports what the backend can do (event_base_get_features).
func (b *Base) Features() Feature { return b.features }

// Priorities is the number of priority levels.
func (b *Base) Priorities() int { return len(b.active) }

// Now returns the loop's cached time (event_base_gettimeofday_cached):
// within an iteration, every call sees the same time, read once after the
// wait returned; outside one, it reads the clock. It is monotonic: compare
// it with other Now values, or subtract them.
func (b *Base) Now() time.Time {
	b.mu.Lock()
	t := b.clock()
	b.mu.Unlock()
	return monoTime(t)
}

// clock is the cached time while an iteration is being processed and a
// fresh reading otherwise (libevent clears its cache before it sleeps, so
// work added from elsewhere during the sleep is timed from the real now).
func (b *Base) clock() int64 {
	if b.now != 0 {
		return b.now
	}
	t := monoNow()
	if b.cacheTime {
		b.now = t
	}
	return t
}

// NumEvents reports how many user events are pending (added) and how many
// are active (event_base_get_num_events with EVENT_BASE_COUNT_ADDED and
// EVENT_BASE_COUNT_ACTIVE).
func (b *Base) NumEvents() (added, active int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.nAdded, b.nActive
}

// wakeLocked makes a loop blocked in the kernel return, so that it sees
// work that another goroutine just handed it. It costs nothing when the
// loop is not sleeping: it will look at its state before it sleeps again.
func (b *Base) wakeLocked() {
	if b.sleeping {
		b.waker.Wake()
	}
}
