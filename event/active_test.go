//go:build linux

package event

import (
	"fmt"
	"slices"
	"testing"
)

// Events that keep activating themselves from their callbacks never let
// the active queue drain empty. The queue must still stay small (its taken
// half is reclaimed), keep the order of activation, and keep each event's
// index right when it moves: a Del after the move must take off that
// event, not another.
func TestActiveQueueThatNeverDrainsStaysSmallAndOrdered(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		const rounds = 10000
		var got []string
		evs := make([]*Event, 3)
		counts := make([]int, 3)
		maxCap := 0
		for i := range evs {
			evs[i] = mustNew(t, b, -1, 0, func(int, Flag) {
				counts[i]++
				got = append(got, fmt.Sprint(i))
				maxCap = max(maxCap, cap(b.active[evs[i].pri].evs))
				switch {
				case i == 0 && counts[0] == rounds/2:
					// evs[2] is active, behind evs[1], and has moved
					// many times: deleting it must skip its callback
					// and no other.
					if err := evs[2].Del(); err != nil {
						t.Errorf("Del: %v", err)
					}
				case counts[i] >= rounds:
					return
				}
				evs[i].Active(Read)
			})
		}
		for _, ev := range evs {
			ev.Active(Read)
		}
		mustDispatch(t, b)

		// Event 0's callback number rounds/2 deletes event 2 while 1 and 2
		// wait behind it, each called once less.
		if want := []int{rounds, rounds, rounds/2 - 1}; !slices.Equal(counts, want) {
			t.Fatalf("callbacks per event = %v, want %v", counts, want)
		}
		// Round-robin while all three run, then 0 and 1 alternate.
		all3 := 3 * (rounds/2 - 1)
		for k, s := range got[:all3] {
			if want := fmt.Sprint(k % 3); s != want {
				t.Fatalf("callback %d was event %s, want %s", k, s, want)
			}
		}
		for k, s := range got[all3:] {
			if want := fmt.Sprint(k % 2); s != want {
				t.Fatalf("callback %d after the Del was event %s, want %s", k, s, want)
			}
		}
		if maxCap > 16 {
			t.Errorf("active queue grew to %d slots for 3 events", maxCap)
		}
		if _, active := b.NumEvents(); active != 0 {
			t.Errorf("%d events still counted active", active)
		}
	})
}

// A hole left by an event taken off the queue is skipped, and the queue
// reports empty once only holes were left.
func TestActiveQueuePopSkipsNothingButHoles(t *testing.T) {
	var q activeQueue
	evs := []*Event{{}, {}, {}, {}}
	for _, ev := range evs {
		q.push(ev)
	}
	q.evs[evs[1].actIdx] = nil
	q.evs[evs[3].actIdx] = nil
	var got []*Event
	for {
		ev, ok := q.pop()
		if !ok {
			break
		}
		got = append(got, ev)
	}
	if want := []*Event{evs[0], nil, evs[2], nil}; !slices.Equal(got, want) {
		t.Fatalf("popped %p, want %p", got, want)
	}
	if len(q.evs) != 0 || q.head != 0 {
		t.Fatalf("drained queue has len %d, head %d; want 0, 0", len(q.evs), q.head)
	}
}

// Every event on the queue keeps the index of its slot, also after the
// queue reclaims its taken half and moves the events behind it.
func TestActiveQueueIndexesFollowTheirEvents(t *testing.T) {
	var q activeQueue
	evs := []*Event{{}, {}, {}, {}, {}}
	for _, ev := range evs {
		q.push(ev)
	}
	for round := range 1000 {
		ev, ok := q.pop()
		if !ok || ev == nil {
			t.Fatalf("round %d: pop = %p, %v; want an event", round, ev, ok)
		}
		q.push(ev)
		for i, e := range q.evs[q.head:] {
			if e != nil && q.evs[e.actIdx] != e {
				t.Fatalf("round %d: event in slot %d has index %d", round, q.head+i, e.actIdx)
			}
		}
	}
	if cap(q.evs) > 4*len(evs) {
		t.Errorf("queue of %d events grew to %d slots", len(evs), cap(q.evs))
	}
}
