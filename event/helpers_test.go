//go:build linux

package event

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// backends lists the configurations every behaviour test runs under.
var backends = []struct {
	name string
	cfg  Config
}{
	{"epoll", Config{AvoidMethods: []string{"poll"}, IgnoreEnv: true}},
	{"poll", Config{AvoidMethods: []string{"epoll"}, IgnoreEnv: true}},
	{"io_uring", Config{Method: "io_uring", IgnoreEnv: true}},
}

// eachBackend runs f once per backend as a subtest.
func eachBackend(t *testing.T, f func(t *testing.T, cfg Config)) {
	t.Helper()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			if be.cfg.Method == "io_uring" {
				skipWithoutIOURing(t)
			}
			f(t, be.cfg)
		})
	}
}

// skipWithoutIOURing skips the test where the kernel refuses io_uring (a
// base asking for it runs on epoll there).
func skipWithoutIOURing(t testing.TB) {
	t.Helper()
	b, err := NewBaseWithConfig(Config{Method: "io_uring", IgnoreEnv: true})
	if err != nil {
		t.Fatalf("NewBaseWithConfig(io_uring): %v", err)
	}
	defer b.Close()
	if err := b.MethodFallback(); err != nil {
		t.Skipf("no io_uring: %v", err)
	}
}

// newBase returns a base that is closed when the test ends.
func newBase(t testing.TB, cfg Config) *Base {
	t.Helper()
	b, err := NewBaseWithConfig(cfg)
	if err != nil {
		t.Fatalf("NewBaseWithConfig: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// socketpair returns a connected non-blocking AF_UNIX stream pair closed
// when the test ends.
func socketpair(t testing.TB) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

func mustWrite(t testing.TB, fd int, s string) {
	t.Helper()
	if n, err := unix.Write(fd, []byte(s)); err != nil || n != len(s) {
		t.Fatalf("write(%d): n=%d err=%v", fd, n, err)
	}
}

func mustNew(t testing.TB, b *Base, fd int, what Flag, cb Callback) *Event {
	t.Helper()
	ev, err := New(b, fd, what, cb)
	if err != nil {
		t.Fatalf("New(fd %d, %v): %v", fd, what, err)
	}
	return ev
}

func mustAdd(t testing.TB, ev *Event, d time.Duration) {
	t.Helper()
	if err := ev.Add(d); err != nil {
		t.Fatalf("Add(%v): %v", d, err)
	}
}

func mustDispatch(t testing.TB, b *Base) {
	t.Helper()
	if err := b.Dispatch(); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
}

// dispatchWithin runs Dispatch and fails the test if it has not returned
// after d, a deadline generous enough for a loaded machine.
func dispatchWithin(t *testing.T, b *Base, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- b.Dispatch() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Dispatch: %v", err)
		}
	case <-time.After(d):
		var buf bytes.Buffer
		b.Dump(&buf)
		t.Fatalf("Dispatch still running after %v:\n%s", d, buf.String())
	}
}

// goid returns the current goroutine's id, for checking which goroutine
// runs callbacks.
func goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	f := bytes.Fields(buf[:n])
	id, _ := strconv.ParseUint(string(f[1]), 10, 64)
	return id
}

// openFds counts the process's open descriptors.
func openFds(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// settleGoroutines waits until the goroutine count drops to want or less,
// and returns the count it saw last.
func settleGoroutines(want int) int {
	deadline := time.Now().Add(10 * time.Second)
	n := runtime.NumGoroutine()
	for n > want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// countingPoller wraps a backend and counts Update calls.
type countingPoller struct {
	pollerIface
	updates int
}

func (c *countingPoller) Update(fd int, gen uint32, old, new pollerInterest) error {
	c.updates++
	return c.pollerIface.Update(fd, gen, old, new)
}
