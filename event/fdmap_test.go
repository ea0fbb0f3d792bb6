//go:build linux

package event

import (
	"errors"
	"math"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestDelAddInOneIterationCostsNoSystemCall(t *testing.T) {
	b := newBase(t, backends[0].cfg)
	const n = 50
	evs := make([]*Event, n)
	for i := range evs {
		r, _ := socketpair(t)
		evs[i] = mustNew(t, b, r, Read|Persist, func(int, Flag) {})
		mustAdd(t, evs[i], 0)
	}
	if err := b.Loop(LoopNonblock); err != nil {
		t.Fatal(err)
	}
	c := countUpdates(b)
	for round := 0; round < 3; round++ {
		for _, ev := range evs {
			ev.Del()
			mustAdd(t, ev, 0)
		}
		if err := b.Loop(LoopNonblock); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.count(b); got != 0 {
		t.Fatalf("%d backend updates for Del+Add of the same events, want 0", got)
	}
	for _, ev := range evs {
		ev.Del()
	}
	if err := b.Loop(LoopNonblock); err != nil {
		t.Fatal(err)
	}
	if got := c.count(b); got != n {
		t.Fatalf("%d backend updates for %d deletions, want %d (one each, at the flush)", got, n, n)
	}
}

// A descriptor closed and its number reused within one iteration must be
// watched anew, and a readiness report for the old file must not reach the
// new owner.
func TestReusedDescriptorNumberIsRegisteredAgain(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		oldR, oldW := fds[0], fds[1]
		oldEv := mustNew(t, b, oldR, Read|Persist, func(int, Flag) { t.Error("old event fired") })
		mustAdd(t, oldEv, 0)
		if err := b.Loop(LoopNonblock); err != nil {
			t.Fatal(err)
		}
		// Del (batched), close, reopen: the kernel forgets the old
		// file, the number comes back at once.
		oldEv.Del()
		unix.Close(oldR)
		unix.Close(oldW)
		r, w := socketpair(t)
		if r != oldR {
			t.Skipf("the kernel gave %d, not the reused %d", r, oldR)
		}
		got := make(chan Flag, 4)
		ev := mustNew(t, b, r, Read|Persist, func(_ int, what Flag) {
			got <- what
			var buf [8]byte
			unix.Read(r, buf[:])
		})
		mustAdd(t, ev, 0)
		mustWrite(t, w, "x")
		if err := b.Loop(LoopOnce); err != nil {
			t.Fatal(err)
		}
		select {
		case what := <-got:
			if what != Read {
				t.Fatalf("what = %v, want Read", what)
			}
		default:
			t.Fatal("the new owner of a reused number was never watched")
		}
		ev.Free()
	})
}

func TestStaleReportIsDroppedByGeneration(t *testing.T) {
	b := newBase(t, backends[0].cfg)
	r, w := socketpair(t)
	fired := 0
	ev := mustNew(t, b, r, Read|Persist, func(int, Flag) { fired++ })
	mustAdd(t, ev, 0)
	mustWrite(t, w, "x")
	if err := b.Loop(LoopOnce); err != nil {
		t.Fatal(err)
	}
	// Pretend a report for the previous registration is delivered after
	// a new owner took the slot.
	b.mu.Lock()
	gen := b.fds.Get(r).gen
	b.fds.Get(r).gen++
	b.events[0] = pollerEvent(r, gen)
	b.activateReady(1)
	n := b.nActive
	b.fds.Get(r).gen--
	b.mu.Unlock()
	if n != 0 {
		t.Fatalf("a report with a stale generation activated %d events", n)
	}
	if fired != 1 {
		t.Fatalf("fired %d, want 1", fired)
	}
	ev.Free()
}

func TestFreeRemovesDescriptorAtOnce(t *testing.T) {
	b := newBase(t, backends[0].cfg)
	r, _ := socketpair(t)
	ev := mustNew(t, b, r, Read, func(int, Flag) {})
	mustAdd(t, ev, 0)
	c := countUpdates(b)
	ev.Free()
	if got := c.count(b); got != 1 {
		t.Fatalf("Free made %d backend updates, want 1 (so the fd may be closed now)", got)
	}
}

func TestManyDescriptorsGrowTheTable(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		const n = 300 // more than the initial readiness buffer
		fired := 0
		for i := 0; i < n; i++ {
			r, w := socketpair(t)
			ev := mustNew(t, b, r, Read, func(int, Flag) { fired++ })
			mustAdd(t, ev, 0)
			mustWrite(t, w, "x")
		}
		dispatchWithin(t, b, 20*time.Second)
		if fired != n {
			t.Fatalf("%d of %d ready descriptors fired", fired, n)
		}
	})
}

// Deleting any one of several events on a descriptor (the list is singly
// linked, newest first) leaves the others watching it, and the last one
// out leaves the descriptor unwatched.
func TestDeletingAnyEventOfADescriptorKeepsTheOthers(t *testing.T) {
	for _, order := range [][]int{{1, 0, 2}, {0, 1, 2}, {2, 1, 0}} {
		eachBackend(t, func(t *testing.T, cfg Config) {
			b := newBase(t, cfg)
			r, w := socketpair(t)
			mustWrite(t, w, "x")
			fired := make([]int, 3)
			evs := make([]*Event, 3)
			for i := range evs {
				evs[i] = mustNew(t, b, r, Read|Persist, func(int, Flag) { fired[i]++ })
				mustAdd(t, evs[i], 0)
			}
			deleted := make([]bool, 3)
			for k, del := range order {
				deleted[del] = true
				if err := evs[del].Del(); err != nil {
					t.Fatal(err)
				}
				clear(fired)
				if k == len(order)-1 {
					break
				}
				if err := b.Loop(LoopOnce); err != nil {
					t.Fatal(err)
				}
				for i, n := range fired {
					if want := map[bool]int{false: 1}[deleted[i]]; n != want {
						t.Errorf("order %v, after deleting %d: event %d fired %d times, want %d", order, del, i, n, want)
					}
				}
			}
			if s := b.fds.Get(r); s.head != nil || s.want != 0 {
				t.Errorf("order %v: slot after the last Del: head %v want %v, want none", order, s.head, s.want)
			}
		})
	}
}

// A slot counts each kind of event in 16 bits: the 65,536th Read event on
// one descriptor is refused with a clear error, not a wrapped count, and a
// Write event still fits.
func TestTooManyEventsOnOneDescriptorIsAnError(t *testing.T) {
	b := newBase(t, Config{})
	r, _ := socketpair(t)
	for i := range math.MaxUint16 {
		ev := mustNew(t, b, r, Read, func(int, Flag) {})
		if err := ev.Add(0); err != nil {
			t.Fatalf("Add of event %d: %v", i+1, err)
		}
	}
	ev := mustNew(t, b, r, Read, func(int, Flag) {})
	if err := ev.Add(0); !errors.Is(err, ErrTooManyEvents) {
		t.Errorf("Add of event 65,536: got %v, want ErrTooManyEvents", err)
	}
	if n := b.fds.Get(r).nRead; n != math.MaxUint16 {
		t.Errorf("read count: got %d, want %d", n, math.MaxUint16)
	}
	wev := mustNew(t, b, r, Write, func(int, Flag) {})
	mustAdd(t, wev, 0)
}

// Event and fdSlot sizes are what every connection pays: keep them in
// their size classes (an Event alone is a 112-byte allocation; a slot is
// 24 bytes of the descriptor table).
func TestEventAndSlotSizes(t *testing.T) {
	if n := unsafe.Sizeof(Event{}); n > 112 {
		t.Errorf("Event is %d bytes, want at most 112", n)
	}
	if n := unsafe.Sizeof(fdSlot{}); n > 24 {
		t.Errorf("fdSlot is %d bytes, want at most 24", n)
	}
}
