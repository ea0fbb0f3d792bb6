package event

import (
	"fmt"
	"time"

	"github.com/levent-go/levent/timer"
)

// Callback is run when an event fires. fd is the event's descriptor (the
// signal number for a signal event, -1 for a timer); what is the set of
// conditions that fired in this iteration, OR-ed together (Read|Write,
// Timeout, Signal...). Closures replace libevent's void *arg.
type Callback func(fd int, what Flag)

// Event is one thing to wait for: a descriptor becoming readable or
// writable, a signal, a timeout, or any mix of these (libevent's struct
// event). Its life cycle is described in the package documentation.
type Event struct {
	base   *Base
	cb     Callback
	fd     int32
	events Flag  // what it watches
	res    Flag  // what fired, while active
	state  uint8 // st* bits
	pri    uint8 // index into base.active

	// The three 32-bit words fill the space up to timeout's 8-byte
	// alignment: giving slotGen and ncalls a word each costs no byte
	// (TestEventAndSlotSizes).
	slotGen uint32 // descriptor event: generation of the fd slot it was last inserted in; 0 after Assign
	ncalls  uint32 // signal event, while active: how many times its callback is to run
	actIdx  uint32 // while active: its index in its active queue

	timeout int64 // relative timeout in ns given to Add, re-armed for Persist events

	// fdNext links the events on the same descriptor (or signal), newest
	// first. The list is singly linked: a descriptor has one or two events
	// (a BufferEvent's read and write), so unlinking walks a step or two,
	// and a back pointer would cost every event 8 bytes.
	fdNext *Event

	tm timerEntry // deadline, while a timeout is pending
}

// timerEntry is the timer queue's entry, embedded in each Event; its
// Value points back at the Event. (Finding the Event from the entry's
// address instead, as C's container_of does, saves those 8 bytes: Event
// is 104 bytes with the pointer and 96 without. Measured end to end it
// bought nothing a connection shows: a BufferEvent stayed in the 352-byte
// size class either way, TestIdleConnectionMemory gives about 400 bytes
// of heap per idle connection with and without it, and bench/echo.sh S4
// idle RSS per connection was 535 vs 528 bytes for levent-bev, within
// run-to-run noise. So the unsafe arithmetic went.)
type timerEntry = timer.Entry[*Event]

// eventOf returns the Event whose tm field e is.
func eventOf(e *timerEntry) *Event { return e.Value }

// Event states, as libevent's EVLIST_* flags. An event is pending when it
// is inserted or its timer is scheduled (tm.Scheduled()).
//
//	New/Assign ─► initialized ─Add─► pending ─fires─► active ─► callback
//	                   ▲                ▲                          │
//	                   │                └──────── Persist ─────────┤
//	                   └──────────────── not Persist ──────────────┘
//	Del: pending/active ─► initialized.   Free: any ─► freed (final).
const (
	stInit     uint8 = 1 << iota // initialized by New or Assign
	stInserted                   // on its descriptor's or signal's list
	stActive                     // on an active queue
	stFreed                      // Free was called; every method refuses
	stOnce                       // created by Once: freed after its callback
)

// New returns an event watching fd for what, which runs cb when it fires
// (event_new). what is a mix of Read, Write, Closed, Signal, Persist, ET and
// Timeout; an event with none of Read, Write, Closed or Signal is a pure
// timer. The event is initialized and not pending: Add makes it pending.
func New(b *Base, fd int, what Flag, cb Callback) (*Event, error) {
	ev := new(Event)
	if err := ev.Assign(b, fd, what, cb); err != nil {
		return nil, err
	}
	return ev, nil
}

// NewTimer returns a timer event (evtimer_new): New(b, -1, 0, cb). Use
// New(b, -1, Persist, cb) for a periodic timer.
func NewTimer(b *Base, cb Callback) (*Event, error) { return New(b, -1, 0, cb) }

// Assign (re)initializes ev for b, fd, what and cb (event_assign), so that
// an Event can live inside another struct without a separate allocation.
// It is refused while ev is pending or active, and after Free.
func (ev *Event) Assign(b *Base, fd int, what Flag, cb Callback) error {
	if err := checkNew(b, fd, what, cb); err != nil {
		return err
	}
	if old := ev.base; old != nil {
		old.mu.Lock()
		err := ev.checkIdle()
		old.mu.Unlock()
		if err != nil {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if what&ioFlags != 0 && fd > b.maxFd {
		return fmt.Errorf("%w: %d is above the process limit %d", ErrBadFd, fd, b.maxFd)
	}
	*ev = Event{
		tm:     timerEntry{Value: ev},
		base:   b,
		cb:     cb,
		fd:     int32(fd),
		events: what,
		state:  stInit,
		pri:    uint8(len(b.active) / 2),
	}
	return nil
}

// checkNew validates the arguments of New and Assign.
func checkNew(b *Base, fd int, what Flag, cb Callback) error {
	switch {
	case b == nil:
		return ErrNilBase
	case cb == nil:
		return ErrNilCallback
	case what&^allFlags != 0:
		return fmt.Errorf("%w: unknown bits in %v", ErrBadFlags, what)
	case what&Signal != 0 && what&(ioFlags|ET) != 0:
		return fmt.Errorf("%w: Signal with %v", ErrBadFlags, what&(ioFlags|ET))
	case what&Signal != 0:
		return checkSignal(fd)
	case what&Recv != 0 && what&Read == 0:
		return fmt.Errorf("%w: Recv needs Read", ErrBadFlags)
	case what&Send != 0 && what&Write == 0:
		return fmt.Errorf("%w: Send needs Write", ErrBadFlags)
	case what&Accept != 0 && what&(Read|Recv) != Read:
		return fmt.Errorf("%w: Accept needs Read, without Recv", ErrBadFlags)
	case what&ET != 0 && what&(Read|Write) == 0:
		return fmt.Errorf("%w: ET needs Read or Write", ErrBadFlags)
	case what&ioFlags != 0 && (fd < 0 || fd > 1<<30):
		return fmt.Errorf("%w: %d", ErrBadFd, fd)
	}
	return nil
}

// checkIdle refuses to reinitialize a freed, pending or active event.
func (ev *Event) checkIdle() error {
	switch {
	case ev.state&stFreed != 0:
		return ErrFreed
	case ev.pending():
		return ErrPending
	case ev.state&stActive != 0:
		return ErrActive
	}
	return nil
}

func (ev *Event) pending() bool { return ev.state&stInserted != 0 || ev.tm.Scheduled() }

// lock takes the base's lock and checks that the event may be used.
func (ev *Event) lock() (*Base, error) {
	b := ev.base
	if b == nil {
		return nil, ErrNotInitialized
	}
	b.mu.Lock()
	switch {
	case ev.state&stFreed != 0:
		b.mu.Unlock()
		return nil, ErrFreed
	case b.closed:
		b.mu.Unlock()
		return nil, ErrClosed
	}
	return b, nil
}

// Add makes ev pending (event_add). timeout > 0 also arms a timeout: the
// event fires with Timeout if nothing else fires first, and a Persist event
// re-arms it each time it fires. On a pending event Add keeps it pending
// and replaces the timeout when timeout is non-zero; Add(0) on a pending
// event changes nothing. Safe from any goroutine.
func (ev *Event) Add(timeout time.Duration) error {
	if timeout < 0 {
		return fmt.Errorf("%w: %v", ErrTimeout, timeout)
	}
	b, err := ev.lock()
	if err != nil {
		return err
	}
	err = b.addLocked(ev, int64(timeout))
	b.mu.Unlock()
	return err
}

func (b *Base) addLocked(ev *Event, timeout int64) error {
	wasPending := ev.pending()
	if ev.state&stInserted == 0 && ev.events&(ioFlags|Signal) != 0 {
		var err error
		if ev.events&Signal != 0 {
			err = b.signalInsert(ev)
		} else {
			err = b.fdInsert(ev)
		}
		if err != nil {
			return err
		}
		ev.state |= stInserted
	}
	switch {
	case timeout > 0:
		ev.timeout = timeout
		b.scheduleLocked(ev, b.clock()+timeout)
	case !wasPending:
		ev.timeout = 0
	}
	if !wasPending && ev.pending() {
		b.nAdded++
	}
	return nil
}

// scheduleLocked sets ev's deadline, waking a sleeping loop whose sleep
// that makes too long or too short.
func (b *Base) scheduleLocked(ev *Event, deadline int64) {
	from := ev.deadline()
	b.timers.Schedule(&ev.tm, deadline)
	b.timerChangedLocked(from, deadline)
}

// Del makes ev non-pending and takes it off the active queue, so its
// callback does not run later in this iteration (event_del). Del of a
// non-pending event does nothing. Safe from any goroutine; it does not wait
// for a callback that the loop has already taken off the active queue, but
// no run of the callback begins after Del returns.
func (ev *Event) Del() error {
	b, err := ev.lock()
	if err != nil {
		return err
	}
	b.delLocked(ev, false)
	b.mu.Unlock()
	return nil
}

// delLocked makes ev non-pending and inactive. eager removes a descriptor
// that no event watches any more from the backend now instead of at the
// next flush, so that the caller may close it at once.
func (b *Base) delLocked(ev *Event, eager bool) {
	wasPending := ev.pending()
	from := ev.deadline()
	if ev.state&stInserted != 0 {
		if ev.events&Signal != 0 {
			b.signalRemove(ev)
		} else {
			b.fdRemove(ev, eager)
		}
		ev.state &^= stInserted
	} else if eager && ev.events&Signal == 0 {
		b.fdRelease(ev)
	}
	if eager {
		b.timers.Purge(&ev.tm)
	} else {
		b.timers.Remove(&ev.tm)
	}
	if ev.state&stActive != 0 {
		b.activeRemove(ev)
	}
	if wasPending {
		b.nAdded--
	}
	b.timerChangedLocked(from, 0)
	b.wakeIfEmptyLocked()
}

// RemoveTimer removes ev's timeout but leaves its descriptor or signal
// pending (event_remove_timer). Safe from any goroutine.
func (ev *Event) RemoveTimer() error {
	b, err := ev.lock()
	if err != nil {
		return err
	}
	from := ev.deadline()
	if b.timers.Remove(&ev.tm) && !ev.pending() {
		b.nAdded--
	}
	ev.timeout = 0
	b.timerChangedLocked(from, 0)
	b.wakeIfEmptyLocked()
	b.mu.Unlock()
	return nil
}

// Active makes ev active with res as the conditions that fired, whether it
// is pending or not (event_active): its callback runs in this iteration or
// the next with what == res. An event that is already active gets res
// added to what will be reported. Safe from any goroutine; it does nothing
// after Free or Close.
func (ev *Event) Active(res Flag) {
	b, err := ev.lock()
	if err != nil {
		return
	}
	b.activateLocked(ev, res, 1)
	b.wakeLocked()
	b.mu.Unlock()
}

// Pending reports which of the conditions in what ev is pending or active
// for (event_pending), and, when the result includes Timeout, the deadline.
func (ev *Event) Pending(what Flag) (Flag, time.Time) {
	b, err := ev.lock()
	if err != nil {
		return 0, time.Time{}
	}
	defer b.mu.Unlock()
	var f Flag
	if ev.state&stInserted != 0 {
		f |= ev.events & (ioFlags | Signal)
	}
	if ev.tm.Scheduled() {
		f |= Timeout
	}
	if ev.state&stActive != 0 {
		f |= ev.res
	}
	f &= what & (Timeout | ioFlags | Signal)
	if f&Timeout != 0 && ev.tm.Scheduled() {
		return f, monoTime(ev.tm.When())
	}
	return f, time.Time{}
}

// SetPriority sets ev's priority, 0 being the most urgent
// (event_priority_set). It is refused while ev is active.
func (ev *Event) SetPriority(pri int) error {
	b, err := ev.lock()
	if err != nil {
		return err
	}
	defer b.mu.Unlock()
	if pri < 0 || pri >= len(b.active) {
		return fmt.Errorf("%w: %d (base has %d)", ErrPriority, pri, len(b.active))
	}
	if ev.state&stActive != 0 {
		return ErrActive
	}
	ev.pri = uint8(pri)
	return nil
}

// Free makes ev non-pending and inactive and releases it (event_free):
// every later method call returns ErrFreed. It is safe on a pending or
// active event, from its own callback, and from any goroutine. When ev was
// the last event on its descriptor, the descriptor leaves the backend
// before Free returns, so the caller may close it right away.
func (ev *Event) Free() {
	b := ev.base
	if b == nil {
		return
	}
	b.mu.Lock()
	b.freeLocked(ev)
	b.mu.Unlock()
}

func (b *Base) freeLocked(ev *Event) {
	if ev.state&stFreed != 0 {
		return
	}
	if !b.closed {
		b.delLocked(ev, true)
		b.dropAcceptedLocked(ev)
	}
	ev.state = stFreed
	ev.cb = nil
}

// Fd returns the event's descriptor (event_get_fd); the signal number for a
// signal event, -1 for a timer.
func (ev *Event) Fd() int { return int(ev.fd) }

// Base returns the event's base (event_get_base).
func (ev *Event) Base() *Base { return ev.base }

// Events returns the conditions the event watches (event_get_events).
func (ev *Event) Events() Flag { return ev.events }

// Priority returns the event's priority (event_get_priority).
func (ev *Event) Priority() int { return int(ev.pri) }

// Callback returns the event's callback (event_get_callback), nil after
// Free.
func (ev *Event) Callback() Callback {
	if b := ev.base; b != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
	}
	return ev.cb
}
