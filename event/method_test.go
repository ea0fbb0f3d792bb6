//go:build linux

package event

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/internal/poller"
)

// clearMethodEnv unsets the environment variables that choose a method,
// for the length of the test.
func clearMethodEnv(t *testing.T) {
	for _, v := range []string{"LEVENT_IOURING", "LEVENT_NOIOURING", "LEVENT_NOEPOLL", "LEVENT_NOPOLL"} {
		t.Setenv(v, "")
	}
}

// Config.Method and LEVENT_IOURING ask for a method; LEVENT_NOIOURING
// and AvoidMethods override them, IgnoreEnv ignores the environment.
func TestMethodAskedForByConfigOrEnvironment(t *testing.T) {
	clearMethodEnv(t)
	tests := []struct {
		name     string
		env      map[string]string
		cfg      Config
		want     string
		fallback string // in MethodFallback's message; "" for nil
	}{
		{name: "default", want: "epoll"},
		{name: "Method io_uring", cfg: Config{Method: "io_uring"}, want: "io_uring"},
		{name: "Method poll", cfg: Config{Method: "poll"}, want: "poll"},
		{name: "Method in capitals", cfg: Config{Method: "IO_URING"}, want: "io_uring"},
		{name: "LEVENT_IOURING", env: map[string]string{"LEVENT_IOURING": "1"}, want: "io_uring"},
		{name: "LEVENT_IOURING ignored", env: map[string]string{"LEVENT_IOURING": "1"}, cfg: Config{IgnoreEnv: true}, want: "epoll"},
		{name: "Method beats LEVENT_IOURING", env: map[string]string{"LEVENT_IOURING": "1"}, cfg: Config{Method: "poll"}, want: "poll"},
		{name: "LEVENT_NOIOURING", env: map[string]string{"LEVENT_NOIOURING": "1"}, cfg: Config{Method: "io_uring"}, want: "epoll", fallback: "io_uring asked for but avoided"},
		{name: "both in the environment", env: map[string]string{"LEVENT_IOURING": "1", "LEVENT_NOIOURING": "1"}, want: "epoll", fallback: "avoided"},
		{name: "AvoidMethods", cfg: Config{Method: "io_uring", AvoidMethods: []string{"IO_URING"}}, want: "epoll", fallback: "avoided"},
		{name: "fallback skips avoided", env: map[string]string{"LEVENT_NOEPOLL": "1"}, cfg: Config{Method: "io_uring", AvoidMethods: []string{"io_uring"}}, want: "poll", fallback: "avoided"},
		{name: "required feature missing", cfg: Config{Method: "poll", RequireFeatures: FeatureET}, want: "epoll", fallback: "poll lacks features ET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "io_uring" {
				skipWithoutIOURing(t)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			b := newBase(t, tt.cfg)
			if b.Method() != tt.want {
				t.Errorf("Method() = %q, want %q", b.Method(), tt.want)
			}
			err := b.MethodFallback()
			if tt.fallback == "" && err != nil || tt.fallback != "" && (err == nil || !strings.Contains(err.Error(), tt.fallback)) {
				t.Errorf("MethodFallback() = %v, want %q", err, tt.fallback)
			}
		})
	}
}

func TestUnknownMethodFails(t *testing.T) {
	clearMethodEnv(t)
	b, err := NewBaseWithConfig(Config{Method: "kqueue"})
	if b != nil || !errors.Is(err, ErrUnknownMethod) || !strings.Contains(err.Error(), "kqueue") {
		t.Errorf("NewBaseWithConfig(Method kqueue) = %v, %v, want nil and an error matching ErrUnknownMethod naming kqueue", b, err)
	}
}

// failIOURing makes opening io_uring fail as the kernel would refuse it.
func failIOURing(t *testing.T, errno unix.Errno) {
	t.Helper()
	saved := openMethod
	t.Cleanup(func() { openMethod = saved })
	openMethod = func(m string) (poller.Poller, error) {
		if m == "io_uring" {
			return nil, fmt.Errorf("%w: %w", poller.ErrUnavailable, os.NewSyscallError("io_uring_setup", errno))
		}
		return saved(m)
	}
}

// When the kernel refuses io_uring, a base that asked for it runs on epoll,
// and MethodFallback says why, matching ErrMethodUnavailable and the errno.
func TestIOURingRefusedFallsBackToEpoll(t *testing.T) {
	clearMethodEnv(t)
	for _, errno := range []unix.Errno{unix.ENOSYS, unix.EPERM} {
		t.Run(errno.Error(), func(t *testing.T) {
			failIOURing(t, errno)
			for _, cfg := range []Config{{Method: "io_uring"}, {}} {
				if cfg.Method == "" {
					t.Setenv("LEVENT_IOURING", "1")
				}
				b := newBase(t, cfg)
				if b.Method() != "epoll" {
					t.Errorf("%+v: Method() = %q, want epoll", cfg, b.Method())
				}
				err := b.MethodFallback()
				if !errors.Is(err, ErrMethodUnavailable) || !errors.Is(err, errno) || !strings.Contains(err.Error(), "io_uring") {
					t.Errorf("%+v: MethodFallback() = %v, want an io_uring error matching ErrMethodUnavailable and %v", cfg, err, errno)
				}
				// The fallback base works.
				checkBaseRuns(t, b)
			}
		})
	}
}

// Asking for a method that fails, when every other one is excluded too,
// fails NewBaseWithConfig with ErrNoMethod and the reason.
func TestIOURingRefusedWithNothingElseFails(t *testing.T) {
	clearMethodEnv(t)
	failIOURing(t, unix.EPERM)
	b, err := NewBaseWithConfig(Config{Method: "io_uring", AvoidMethods: []string{"epoll", "poll"}})
	if b != nil || !errors.Is(err, ErrNoMethod) || !strings.Contains(err.Error(), "io_uring") {
		t.Errorf("NewBaseWithConfig = %v, %v, want nil and ErrNoMethod naming io_uring", b, err)
	}
}

// checkBaseRuns has b report one readable descriptor.
func checkBaseRuns(t *testing.T, b *Base) {
	t.Helper()
	r, w := socketpair(t)
	mustWrite(t, w, "x")
	ran := 0
	ev := mustNew(t, b, r, Read, func(int, Flag) { ran++ })
	mustAdd(t, ev, 0)
	if err := b.Loop(LoopOnce); err != nil || ran != 1 {
		t.Errorf("Loop(LoopOnce) = %v with %d callbacks, want nil with 1", err, ran)
	}
	ev.Free()
}

// On io_uring, whose completions are posted through the thread that
// submitted, the loop runs its callbacks on one OS thread, however often
// a callback blocks, in a system call or on a channel another goroutine
// wakes it from, while other goroutines want the processors.
func TestURingLoopStaysOnItsThread(t *testing.T) {
	b, err := NewBaseWithConfig(Config{Method: "io_uring"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Method() != "io_uring" {
		t.Skipf("io_uring unavailable here: %s", b.MethodFallback())
	}
	tids := map[int]int{}
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			runtime.Gosched()
			pong <- struct{}{}
		}
	}()
	defer close(ping)
	spin := make(chan struct{}) // keeps other goroutines wanting a P
	defer close(spin)
	for range 2 {
		go func() {
			for {
				select {
				case <-spin:
					return
				default:
					runtime.Gosched()
				}
			}
		}()
	}
	n := 0
	var tick *Event
	tick, err = NewTimer(b, func(int, Flag) {
		tids[unix.Gettid()]++
		ping <- struct{}{}
		<-pong // parks the loop's goroutine; another goroutine wakes it
		// A blocking system call, during which the runtime may hand the
		// loop's P to another thread.
		unix.Nanosleep(&unix.Timespec{Nsec: 200_000}, nil)
		if n++; n < 200 {
			tick.Add(time.Microsecond)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tick.Free()
	tick.Add(time.Microsecond)
	if err := b.Dispatch(); err != nil {
		t.Fatal(err)
	}
	if len(tids) != 1 {
		t.Fatalf("callbacks ran on %d threads (%v), want one", len(tids), tids)
	}
}
