//go:build linux

package event

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBadInputGetsErrors(t *testing.T) {
	b := newBase(t, Config{})
	cb := func(int, Flag) {}
	cases := []struct {
		name string
		b    *Base
		fd   int
		what Flag
		cb   Callback
		want error
	}{
		{"nil base", nil, -1, 0, cb, ErrNilBase},
		{"nil callback", b, -1, 0, nil, ErrNilCallback},
		{"negative fd with Read", b, -1, Read, cb, ErrBadFd},
		{"negative fd with Write", b, -5, Write, cb, ErrBadFd},
		{"unknown bits", b, 0, Read | 0x40, cb, ErrBadFlags},
		{"signal with read", b, 2, Signal | Read, cb, ErrBadFlags},
		{"signal out of range", b, 99, Signal, cb, ErrBadSignal},
		{"ET alone", b, 0, ET, cb, ErrBadFlags},
		{"absurd fd", b, 1 << 29, Read, cb, ErrBadFd},
	}
	for _, c := range cases {
		if _, err := New(c.b, c.fd, c.what, c.cb); !errors.Is(err, c.want) {
			t.Errorf("%s: New = %v, want %v", c.name, err, c.want)
		}
	}
	ev := mustNew(t, b, -1, 0, cb)
	if err := ev.Add(-time.Second); !errors.Is(err, ErrTimeout) {
		t.Errorf("Add(-1s) = %v, want ErrTimeout", err)
	}
	if err := b.LoopExit(-time.Second); !errors.Is(err, ErrTimeout) {
		t.Errorf("LoopExit(-1s) = %v, want ErrTimeout", err)
	}
	if err := b.Submit(nil); !errors.Is(err, ErrNilCallback) {
		t.Errorf("Submit(nil) = %v, want ErrNilCallback", err)
	}
	var zero Event
	if err := zero.Add(0); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("Add on zero Event = %v, want ErrNotInitialized", err)
	}
	if err := zero.Del(); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("Del on zero Event = %v, want ErrNotInitialized", err)
	}
	zero.Active(Read) // must not panic
	zero.Free()
	if _, err := NewBaseWithConfig(Config{Priorities: 1000}); !errors.Is(err, ErrPriority) {
		t.Errorf("1000 priorities = %v, want ErrPriority", err)
	}
}

func TestAddOfUnpollableDescriptorFails(t *testing.T) {
	b := newBase(t, backends[0].cfg)
	f, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev := mustNew(t, b, int(f.Fd()), Read, func(int, Flag) {})
	if err := ev.Add(0); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("epoll Add of a regular file = %v, want EPERM", err)
	}
	if added, _ := b.NumEvents(); added != 0 {
		t.Fatalf("added = %d after a failed Add, want 0", added)
	}
	if p, _ := ev.Pending(Read); p != 0 {
		t.Fatalf("failed Add left the event pending (%v)", p)
	}
}

func TestAssignRefusedWhilePending(t *testing.T) {
	b := newBase(t, Config{})
	r, _ := socketpair(t)
	var ev Event
	if err := ev.Assign(b, r, Read, func(int, Flag) {}); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, &ev, 0)
	if err := ev.Assign(b, r, Write, func(int, Flag) {}); !errors.Is(err, ErrPending) {
		t.Fatalf("Assign of pending event = %v, want ErrPending", err)
	}
	ev.Del()
	if err := ev.Assign(b, r, Write, func(int, Flag) {}); err != nil {
		t.Fatalf("Assign after Del = %v", err)
	}
	if ev.Events() != Write || ev.Fd() != r || ev.Base() != b {
		t.Fatalf("after Assign: Events %v Fd %d, want Write %d", ev.Events(), ev.Fd(), r)
	}
}

func TestUseAfterFree(t *testing.T) {
	b := newBase(t, Config{})
	ev := mustNew(t, b, -1, 0, func(int, Flag) {})
	ev.Free()
	ev.Free() // twice is fine
	for name, err := range map[string]error{
		"Add":         ev.Add(0),
		"Del":         ev.Del(),
		"RemoveTimer": ev.RemoveTimer(),
		"SetPriority": ev.SetPriority(0),
		"Assign":      ev.Assign(b, -1, 0, func(int, Flag) {}),
	} {
		if !errors.Is(err, ErrFreed) {
			t.Errorf("%s after Free = %v, want ErrFreed", name, err)
		}
	}
	ev.Active(Read)
	if _, active := b.NumEvents(); active != 0 {
		t.Fatal("Active after Free activated the event")
	}
	if ev.Callback() != nil {
		t.Fatal("Free kept the callback")
	}
}

func TestClosedBaseRefusesWork(t *testing.T) {
	b, err := NewBase()
	if err != nil {
		t.Fatal(err)
	}
	ev := mustNew(t, b, -1, 0, func(int, Flag) {})
	mustAdd(t, ev, time.Hour)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Close":     b.Close(),
		"Dispatch":  b.Dispatch(),
		"LoopExit":  b.LoopExit(0),
		"LoopBreak": b.LoopBreak(),
		"Submit":    b.Submit(func() {}),
		"Once":      b.Once(-1, Timeout, 0, func(int, Flag) {}),
		"Add":       ev.Add(0),
		"Del":       ev.Del(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s on closed base = %v, want ErrClosed", name, err)
		}
	}
	if _, err := New(b, -1, 0, func(int, Flag) {}); !errors.Is(err, ErrClosed) {
		t.Errorf("New on closed base = %v, want ErrClosed", err)
	}
	ev.Active(Read)
	ev.Free()
	var buf bytes.Buffer
	b.Dump(&buf)
}

func TestCloseFromCallbackEndsTheLoop(t *testing.T) {
	b, err := NewBase()
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for i := 0; i < 2; i++ {
		ev := mustNew(t, b, -1, 0, func(int, Flag) {
			ran++
			b.Close()
		})
		ev.Active(Timeout)
	}
	done := make(chan error, 1)
	go func() { done <- b.Dispatch() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Dispatch after Close in a callback = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close in a callback did not end the loop")
	}
	if ran != 1 {
		t.Fatalf("%d callbacks ran, want 1", ran)
	}
}

func TestMethodSelection(t *testing.T) {
	t.Setenv("LEVENT_IOURING", "") // the suite may run with io_uring asked for
	t.Setenv("LEVENT_NOEPOLL", "") // ... or with epoll avoided
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			if be.cfg.Method == "io_uring" {
				skipWithoutIOURing(t)
			}
			if b := newBase(t, be.cfg); b.Method() != be.name {
				t.Errorf("config %+v gave %q, want %q", be.cfg, b.Method(), be.name)
			}
		})
	}
	if b := newBase(t, Config{}); b.Method() != "epoll" || b.Features()&FeatureET == 0 {
		t.Errorf("default method %q features %v, want epoll with ET", b.Method(), b.Features())
	}
	t.Setenv("LEVENT_NOEPOLL", "1")
	if b := newBase(t, Config{}); b.Method() != "poll" {
		t.Errorf("with LEVENT_NOEPOLL: %q, want poll", b.Method())
	}
	if b := newBase(t, Config{IgnoreEnv: true}); b.Method() != "epoll" {
		t.Errorf("IgnoreEnv with LEVENT_NOEPOLL: %q, want epoll", b.Method())
	}
	if _, err := NewBaseWithConfig(Config{RequireFeatures: FeatureET}); !errors.Is(err, ErrNoMethod) {
		t.Errorf("require ET without epoll = %v, want ErrNoMethod", err)
	}
	t.Setenv("LEVENT_NOPOLL", "1")
	if _, err := NewBase(); !errors.Is(err, ErrNoMethod) {
		t.Errorf("both methods excluded = %v, want ErrNoMethod", err)
	}
}

func TestFlagStrings(t *testing.T) {
	for f, want := range map[Flag]string{
		0:                       "0",
		Read | Persist:          "Read|Persist",
		Timeout | Write | ET:    "Timeout|Write|ET",
		Closed | 0x40:           "Closed|0x40",
		Signal:                  "Signal",
		Read | Write | 0x800:    "Read|Write|0x800",
		Read | Recv:             "Read|Recv",
		Read | Accept:           "Read|Accept",
		Write | Send:            "Write|Send",
		Timeout | Read | Closed: "Timeout|Read|Closed",
	} {
		if got := f.String(); got != want {
			t.Errorf("Flag(%#x).String() = %q, want %q", uint16(f), got, want)
		}
	}
	if got := (FeatureET | FeatureO1 | FeatureEarlyClose).String(); got != "ET|O1|EarlyClose" {
		t.Errorf("Feature string %q", got)
	}
}

func TestDumpListsEvents(t *testing.T) {
	b := newBase(t, Config{})
	r, _ := socketpair(t)
	ev := mustNew(t, b, r, Read|Persist, func(int, Flag) {})
	mustAdd(t, ev, time.Hour)
	act := mustNew(t, b, -1, 0, func(int, Flag) {})
	act.Active(Write)
	var buf bytes.Buffer
	if err := b.Dump(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"Inserted events:", "Read|Persist", "timeout in", "Active events:", "Write", "1 added, 1 active"} {
		if !strings.Contains(out, want) {
			t.Errorf("Dump output lacks %q:\n%s", want, out)
		}
	}
}
