//go:build linux

package event

import (
	"errors"
	"syscall"
	"testing"
	"time"
)

// ForeachEvent visits each pending or active event once, whatever makes it
// so (a descriptor, a signal, a timeout, Active), and no other.
func TestForeachEventVisitsEachPendingOrActiveEventOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		a, _ := socketpair(t)
		nop := func(int, Flag) {}
		read := mustNew(t, b, a, Read|Persist, nop)
		mustAdd(t, read, 0)
		write := mustNew(t, b, a, Write, nop)
		mustAdd(t, write, time.Hour) // on a descriptor and timed: once
		sig := mustNew(t, b, int(syscall.SIGUSR2), Signal|Persist, nop)
		mustAdd(t, sig, 0)
		timer := mustNew(t, b, -1, 0, nop)
		mustAdd(t, timer, time.Hour)
		activeOnly := mustNew(t, b, -1, 0, nop)
		activeOnly.Active(Timeout)
		timedActive := mustNew(t, b, -1, 0, nop)
		mustAdd(t, timedActive, time.Hour)
		timedActive.Active(Timeout) // pending and active: once
		deleted := mustNew(t, b, a, Read, nop)
		mustAdd(t, deleted, time.Hour)
		deleted.Del()
		freed := mustNew(t, b, -1, 0, nop)
		mustAdd(t, freed, time.Minute)
		freed.Free()
		mustNew(t, b, -1, 0, nop) // initialized, never added

		want := map[*Event]string{read: "read", write: "write", sig: "signal", timer: "timer",
			activeOnly: "active", timedActive: "timed and active"}
		seen := map[*Event]int{}
		if err := b.ForeachEvent(func(ev *Event) error { seen[ev]++; return nil }); err != nil {
			t.Fatalf("ForeachEvent: %v", err)
		}
		for ev, name := range want {
			if seen[ev] != 1 {
				t.Errorf("%s event visited %d times, want once", name, seen[ev])
			}
		}
		if len(seen) != len(want) {
			t.Errorf("visited %d events, want %d", len(seen), len(want))
		}
	})
}

// ForeachEvent returns the first error fn returns, having stopped there;
// fn may call the events' methods, Del and Free included.
func TestForeachEventStopsAtAnErrorAndLetsFnChangeEvents(t *testing.T) {
	b := newBase(t, Config{})
	for range 5 {
		mustAdd(t, mustNew(t, b, -1, 0, func(int, Flag) {}), time.Hour)
	}
	stop := errors.New("stop")
	calls := 0
	err := b.ForeachEvent(func(ev *Event) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 2 {
		t.Fatalf("got %v after %d calls, want the function's error after 2", err, calls)
	}
	if err := b.ForeachEvent(func(ev *Event) error { ev.Free(); return nil }); err != nil {
		t.Fatal(err)
	}
	if added, active := b.NumEvents(); added != 0 || active != 0 {
		t.Fatalf("after freeing every event: %d added, %d active", added, active)
	}
}

func TestForeachEventRefusesMisuse(t *testing.T) {
	b := newBase(t, Config{})
	if err := b.ForeachEvent(nil); !errors.Is(err, ErrNilCallback) {
		t.Errorf("nil function: %v", err)
	}
	b.Close()
	if err := b.ForeachEvent(func(*Event) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("closed base: %v", err)
	}
}
