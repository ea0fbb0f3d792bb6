//go:build linux

package event

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestNonPersistentReadFiresOnceAndBecomesNonPending(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, w := socketpair(t)
		calls := 0
		var ev *Event
		ev = mustNew(t, b, r, Read, func(fd int, what Flag) {
			calls++
			if fd != r || what != Read {
				t.Errorf("callback(%d, %v), want (%d, Read)", fd, what, r)
			}
			if got, _ := ev.Pending(Read | Write | Timeout); got != 0 {
				t.Errorf("Pending in own callback = %v, want 0 (non-pending before the callback)", got)
			}
		})
		mustAdd(t, ev, 0)
		if got, _ := ev.Pending(Read); got != Read {
			t.Fatalf("Pending after Add = %v, want Read", got)
		}
		mustWrite(t, w, "x")
		dispatchWithin(t, b, 10*time.Second) // returns: nothing pending after the one call
		if calls != 1 {
			t.Fatalf("callback ran %d times, want 1", calls)
		}
	})
}

func TestPersistentReadKeepsFiringUntilDeleted(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, w := socketpair(t)
		calls := 0
		var ev *Event
		ev = mustNew(t, b, r, Read|Persist, func(fd int, what Flag) {
			var buf [1]byte
			unix.Read(fd, buf[:])
			calls++
			if calls < 5 {
				mustWrite(t, w, "x")
				return
			}
			if got, _ := ev.Pending(Read); got != Read {
				t.Errorf("persistent event Pending in callback = %v, want Read", got)
			}
			ev.Del()
		})
		mustAdd(t, ev, 0)
		mustWrite(t, w, "x")
		dispatchWithin(t, b, 10*time.Second)
		if calls != 5 {
			t.Fatalf("callback ran %d times, want 5", calls)
		}
	})
}

func TestReAddInsideCallback(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		calls := 0
		var ev *Event
		ev = mustNew(t, b, -1, 0, func(int, Flag) {
			calls++
			if calls < 3 {
				if err := ev.Add(time.Millisecond); err != nil {
					t.Errorf("Add in callback: %v", err)
				}
			}
		})
		mustAdd(t, ev, time.Millisecond)
		dispatchWithin(t, b, 10*time.Second)
		if calls != 3 {
			t.Fatalf("timer ran %d times, want 3", calls)
		}
	})
}

func TestAddReplacesTimeoutOfPendingEvent(t *testing.T) {
	b := newBase(t, Config{})
	ev := mustNew(t, b, -1, 0, func(int, Flag) {})
	mustAdd(t, ev, time.Hour)
	_, first := ev.Pending(Timeout)
	mustAdd(t, ev, time.Minute)
	got, second := ev.Pending(Timeout)
	if got != Timeout {
		t.Fatalf("Pending = %v, want Timeout", got)
	}
	if d := first.Sub(second); d < 58*time.Minute || d > 60*time.Minute {
		t.Fatalf("deadline moved by %v, want about 59m (1h -> 1m)", d)
	}
	if added, _ := b.NumEvents(); added != 1 {
		t.Fatalf("NumEvents added = %d, want 1", added)
	}
}

func TestAddZeroOnPendingEventChangesNothing(t *testing.T) {
	b := newBase(t, Config{})
	ev := mustNew(t, b, -1, 0, func(int, Flag) {})
	mustAdd(t, ev, time.Hour)
	_, before := ev.Pending(Timeout)
	mustAdd(t, ev, 0)
	got, after := ev.Pending(Timeout)
	if got != Timeout || !after.Equal(before) {
		t.Fatalf("after Add(0): Pending = %v at %v, want Timeout at %v", got, after, before)
	}
}

func TestTimeoutOnReadEventReportsTimeout(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, _ := socketpair(t)
		var got Flag
		ev := mustNew(t, b, r, Read, func(_ int, what Flag) { got = what })
		start := time.Now()
		mustAdd(t, ev, 20*time.Millisecond)
		dispatchWithin(t, b, 10*time.Second)
		if got != Timeout {
			t.Fatalf("what = %v, want Timeout", got)
		}
		if el := time.Since(start); el < 20*time.Millisecond {
			t.Fatalf("fired after %v, before its 20ms deadline", el)
		}
		if p, _ := ev.Pending(Read | Timeout); p != 0 {
			t.Fatalf("non-persistent event still pending for %v after its timeout", p)
		}
	})
}

func TestDelFromAnotherCallbackBeforeItRuns(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, w := socketpair(t)
		var first, second *Event
		ran := map[string]int{}
		cb := func(name string) Callback {
			return func(int, Flag) {
				ran[name]++
				other := second
				if name == "second" {
					other = first
				}
				if err := other.Del(); err != nil {
					t.Errorf("Del: %v", err)
				}
			}
		}
		first = mustNew(t, b, r, Read|Persist, cb("first"))
		second = mustNew(t, b, r, Read|Persist, cb("second"))
		mustAdd(t, first, 0)
		mustAdd(t, second, 0)
		mustWrite(t, w, "x") // both become active in one iteration
		if err := b.Loop(LoopOnce); err != nil {
			t.Fatal(err)
		}
		if ran["first"]+ran["second"] != 1 {
			t.Fatalf("callbacks ran %v, want exactly one: the other was deleted before it ran", ran)
		}
		if _, active := b.NumEvents(); active != 0 {
			t.Fatalf("active = %d after Del, want 0", active)
		}
	})
}

func TestFreeInsideOwnCallback(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, w := socketpair(t)
		calls := 0
		var ev *Event
		ev = mustNew(t, b, r, Read|Persist, func(int, Flag) {
			calls++
			ev.Free()
			if err := ev.Add(0); !errors.Is(err, ErrFreed) {
				t.Errorf("Add after Free = %v, want ErrFreed", err)
			}
		})
		mustAdd(t, ev, time.Hour)
		mustWrite(t, w, "x")
		dispatchWithin(t, b, 10*time.Second)
		if calls != 1 {
			t.Fatalf("callback ran %d times, want 1", calls)
		}
		if added, active := b.NumEvents(); added != 0 || active != 0 {
			t.Fatalf("NumEvents = %d, %d after Free, want 0, 0", added, active)
		}
	})
}

func TestFreeOfActiveEventStopsItsCallback(t *testing.T) {
	b := newBase(t, Config{})
	ran := false
	victim := mustNew(t, b, -1, 0, func(int, Flag) { ran = true })
	killer := mustNew(t, b, -1, 0, func(int, Flag) { victim.Free() })
	killer.Active(Timeout)
	victim.Active(Timeout)
	dispatchWithin(t, b, 10*time.Second)
	if ran {
		t.Fatal("freed active event's callback ran")
	}
}

func TestActiveOnNonPendingEvent(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, _ := socketpair(t)
		var got []Flag
		ev := mustNew(t, b, r, Read, func(_ int, what Flag) { got = append(got, what) })
		ev.Active(Write)
		ev.Active(Read) // OR-ed into the pending activation
		if p, _ := ev.Pending(Read | Write); p != Read|Write {
			t.Fatalf("Pending of active event = %v, want Read|Write", p)
		}
		dispatchWithin(t, b, 10*time.Second)
		if len(got) != 1 || got[0] != Read|Write {
			t.Fatalf("callbacks %v, want one with Read|Write", got)
		}
	})
}

func TestPrioritiesRunMoreUrgentFirst(t *testing.T) {
	b := newBase(t, Config{Priorities: 3})
	var order []int
	evs := make([]*Event, 6)
	for i := range evs {
		pri := 2 - i%3 // 2,1,0,2,1,0
		evs[i] = mustNew(t, b, -1, 0, func(int, Flag) { order = append(order, pri) })
		if err := evs[i].SetPriority(pri); err != nil {
			t.Fatal(err)
		}
	}
	if evs[0].Priority() != 2 {
		t.Fatalf("Priority() = %d, want 2", evs[0].Priority())
	}
	for _, ev := range evs {
		ev.Active(Timeout)
	}
	dispatchWithin(t, b, 10*time.Second)
	want := []int{0, 0, 1, 1, 2, 2}
	if len(order) != len(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

func TestNewEventsGetMiddlePriority(t *testing.T) {
	b := newBase(t, Config{Priorities: 5})
	ev := mustNew(t, b, -1, 0, func(int, Flag) {})
	if got := ev.Priority(); got != 2 {
		t.Fatalf("default priority with 5 levels = %d, want 2", got)
	}
	if err := ev.SetPriority(5); !errors.Is(err, ErrPriority) {
		t.Fatalf("SetPriority(5) = %v, want ErrPriority", err)
	}
	ev.Active(Read)
	if err := ev.SetPriority(1); !errors.Is(err, ErrActive) {
		t.Fatalf("SetPriority on active event = %v, want ErrActive", err)
	}
}

func TestOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, w := socketpair(t)
		var got []string
		if err := b.Once(-1, Timeout, 0, func(fd int, what Flag) {
			got = append(got, "immediate:"+what.String())
		}); err != nil {
			t.Fatal(err)
		}
		if err := b.Once(r, Read, time.Hour, func(fd int, what Flag) {
			got = append(got, "read:"+what.String())
		}); err != nil {
			t.Fatal(err)
		}
		if err := b.Once(-1, Timeout, 5*time.Millisecond, func(fd int, what Flag) {
			got = append(got, "timer:"+what.String())
			mustWrite(t, w, "x")
		}); err != nil {
			t.Fatal(err)
		}
		dispatchWithin(t, b, 10*time.Second)
		want := []string{"immediate:Timeout", "timer:Timeout", "read:Read"}
		if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("Once callbacks %q, want %q", got, want)
		}
		if err := b.Once(r, Read|Persist, 0, func(int, Flag) {}); !errors.Is(err, ErrBadFlags) {
			t.Fatalf("Once with Persist = %v, want ErrBadFlags", err)
		}
	})
}

func TestTwoEventsOnOneDescriptor(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, w := socketpair(t)
		var readers, writers int
		rd1 := mustNew(t, b, r, Read, func(_ int, what Flag) { readers++ })
		rd2 := mustNew(t, b, r, Read, func(_ int, what Flag) { readers++ })
		wr := mustNew(t, b, r, Write, func(_ int, what Flag) {
			if what != Write {
				t.Errorf("writer got %v, want Write", what)
			}
			writers++
		})
		for _, ev := range []*Event{rd1, rd2, wr} {
			mustAdd(t, ev, 0)
		}
		mustWrite(t, w, "x")
		dispatchWithin(t, b, 10*time.Second)
		if readers != 2 || writers != 1 {
			t.Fatalf("readers %d writers %d, want 2 and 1", readers, writers)
		}
	})
}

func TestReadAndWriteInOneEventAreORed(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, w := socketpair(t)
		var got Flag
		ev := mustNew(t, b, r, Read|Write, func(_ int, what Flag) { got = what })
		mustWrite(t, w, "x")
		mustAdd(t, ev, 0)
		dispatchWithin(t, b, 10*time.Second)
		if got != Read|Write {
			t.Fatalf("what = %v, want Read|Write", got)
		}
	})
}

func TestEdgeTriggeredFiresOncePerEdge(t *testing.T) {
	b := newBase(t, backends[0].cfg)
	r, w := socketpair(t)
	calls := 0
	ev := mustNew(t, b, r, Read|Persist|ET, func(int, Flag) { calls++ }) // never reads
	mustAdd(t, ev, 0)
	mustWrite(t, w, "x")
	for i := 0; i < 5; i++ {
		if err := b.Loop(LoopNonblock); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Fatalf("ET read event ran %d times for one edge with unread data, want 1", calls)
	}
	mustWrite(t, w, "y") // a new edge
	if err := b.Loop(LoopOnce); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("after a second write: %d calls, want 2", calls)
	}
	level := mustNew(t, b, r, Read|Persist, func(int, Flag) {})
	if err := level.Add(0); !errors.Is(err, ErrMixedET) {
		t.Fatalf("adding a level-triggered event beside an ET one = %v, want ErrMixedET", err)
	}
	ev.Free()
}

func TestLevelTriggeredFiresWhileUnread(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		r, w := socketpair(t)
		calls := 0
		ev := mustNew(t, b, r, Read|Persist, func(int, Flag) { calls++ })
		mustAdd(t, ev, 0)
		mustWrite(t, w, "x")
		for i := 0; i < 3; i++ {
			if err := b.Loop(LoopOnce); err != nil {
				t.Fatal(err)
			}
		}
		if calls != 3 {
			t.Fatalf("level-triggered event ran %d times in 3 iterations with unread data, want 3", calls)
		}
	})
}

func TestETRefusedByPoll(t *testing.T) {
	b := newBase(t, backends[1].cfg)
	r, _ := socketpair(t)
	ev := mustNew(t, b, r, Read|ET, func(int, Flag) {})
	if err := ev.Add(0); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("ET on poll = %v, want ErrNotSupported", err)
	}
}

func TestClosedReportsPeerCloseWithoutRead(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[0])
		var got Flag
		ev := mustNew(t, b, fds[0], Closed, func(_ int, what Flag) { got = what })
		mustAdd(t, ev, 0)
		if err := b.Loop(LoopNonblock); err != nil {
			t.Fatal(err)
		}
		if got != 0 {
			t.Fatalf("Closed fired (%v) while the peer is open", got)
		}
		unix.Shutdown(fds[1], unix.SHUT_WR)
		dispatchWithin(t, b, 10*time.Second)
		unix.Close(fds[1])
		if got != Closed {
			t.Fatalf("what = %v, want Closed", got)
		}
	})
}

func TestPeriodicPersistentTimer(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		const ticks, period = 100, 10 * time.Millisecond
		n := 0
		var early []time.Duration
		var ev *Event
		start := time.Now()
		ev = mustNew(t, b, -1, Persist, func(_ int, what Flag) {
			n++
			if el := time.Since(start); el < time.Duration(n)*period {
				early = append(early, time.Duration(n)*period-el)
			}
			if what != Timeout {
				t.Errorf("what = %v, want Timeout", what)
			}
			if n == ticks {
				ev.Del()
			}
		})
		mustAdd(t, ev, period)
		dispatchWithin(t, b, 30*time.Second)
		el := time.Since(start)
		if n != ticks {
			t.Fatalf("%d ticks, want %d", n, ticks)
		}
		if len(early) > 0 {
			t.Fatalf("%d ticks fired early, by up to %v", len(early), early[len(early)-1])
		}
		if el > 1500*time.Millisecond {
			t.Fatalf("%d ticks of %v took %v, want under 1.5s (no drift)", ticks, period, el)
		}
	})
}

func TestEqualDeadlinesFireInAddOrder(t *testing.T) {
	b := newBase(t, Config{})
	var order []int
	b.mu.Lock()
	now := monoNow()
	b.now = now // freeze the clock so the deadlines are equal
	b.mu.Unlock()
	evs := make([]*Event, 20)
	for i := range evs {
		evs[i] = mustNew(t, b, -1, 0, func(int, Flag) { order = append(order, i) })
		mustAdd(t, evs[i], time.Millisecond)
	}
	b.mu.Lock()
	b.now = 0
	b.mu.Unlock()
	dispatchWithin(t, b, 10*time.Second)
	for i, v := range order {
		if v != i {
			t.Fatalf("order %v, want 0..19", order)
		}
	}
}

func TestRemoveTimerKeepsDescriptorPending(t *testing.T) {
	b := newBase(t, Config{})
	r, _ := socketpair(t)
	ev := mustNew(t, b, r, Read, func(int, Flag) {})
	mustAdd(t, ev, time.Hour)
	if err := ev.RemoveTimer(); err != nil {
		t.Fatal(err)
	}
	if p, _ := ev.Pending(Read | Timeout); p != Read {
		t.Fatalf("Pending after RemoveTimer = %v, want Read", p)
	}
	timer := mustNew(t, b, -1, 0, func(int, Flag) {})
	mustAdd(t, timer, time.Hour)
	timer.RemoveTimer()
	if added, _ := b.NumEvents(); added != 1 {
		t.Fatalf("added = %d, want 1 (the read event)", added)
	}
}
