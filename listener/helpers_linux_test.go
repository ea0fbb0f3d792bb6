package listener

import (
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// The listener tests drive the loop themselves with LoopOnce, on the test's
// goroutine: a client's connect completes in the kernel, so after it the
// next iteration must see the connection, and nothing needs a goroutine.

// deadline bounds every wait; generous for small shared machines under the
// race detector.
const deadline = 60 * time.Second

// openFds counts this process's open descriptors.
func openFds(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// noLeaks fails the test if it ends with more descriptors or goroutines
// than it started with, retrying for a while since a closed client
// goroutine may take a moment to exit. Go's network poller keeps two
// descriptors for the life of the process once used, so it is woken first.
func noLeaks(t testing.TB) {
	t.Helper()
	if c, err := net.Dial("tcp", "127.0.0.1:1"); err == nil {
		c.Close()
	}
	fds, gs := openFds(t), runtime.NumGoroutine()
	t.Cleanup(func() {
		for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
			gotFds, gotGs := openFds(t), runtime.NumGoroutine()
			if gotFds <= fds && gotGs <= gs {
				return
			}
			if time.Since(start) > deadline {
				t.Errorf("leak: got %d descriptors and %d goroutines at the end, want at most %d and %d", gotFds, gotGs, fds, gs)
				return
			}
		}
	})
}

// skipWithoutIPv6 skips the test where ::1 cannot be bound.
func skipWithoutIPv6(t *testing.T) {
	t.Helper()
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	probe.Close()
}

// newBase returns a base closed when the test ends, with a one-second
// persistent timer so that LoopOnce always returns within a second.
func newBase(t testing.TB) *event.Base {
	t.Helper()
	b, err := event.NewBase()
	if err != nil {
		t.Fatal(err)
	}
	tick, err := event.New(b, -1, event.Persist, func(int, event.Flag) {})
	if err != nil {
		t.Fatal(err)
	}
	tick.Add(time.Second)
	t.Cleanup(func() {
		tick.Free()
		b.Close()
	})
	return b
}

// loopUntil runs loop iterations until cond holds.
func loopUntil(t testing.TB, b *event.Base, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); {
		if time.Since(start) > deadline {
			t.Fatalf("timed out after %v waiting for %s", deadline, what)
		}
		if err := b.Loop(event.LoopOnce); err != nil {
			t.Fatal(err)
		}
	}
}

// iterate runs one iteration that polls without blocking, so that whatever
// is ready now is handled.
func iterate(t testing.TB, b *event.Base) {
	t.Helper()
	if err := b.Loop(event.LoopNonblock); err != nil {
		t.Fatal(err)
	}
}

// accepted collects the connections a listener hands over, closing them
// when the test ends.
type accepted struct {
	fds   []int
	addrs []net.Addr
}

func collect(t testing.TB) (*accepted, Callback) {
	a := &accepted{}
	t.Cleanup(func() {
		for _, fd := range a.fds {
			unix.Close(fd)
		}
	})
	return a, func(_ *Listener, fd int, addr net.Addr) {
		a.fds = append(a.fds, fd)
		a.addrs = append(a.addrs, addr)
	}
}

// bind wraps NewBind and frees the listener when the test ends.
func bind(t testing.TB, b *event.Base, cb Callback, opts Options, network, address string) *Listener {
	t.Helper()
	l, err := NewBind(b, cb, opts, 0, network, address)
	if err != nil {
		t.Fatalf("NewBind(%s, %s): %v", network, address, err)
	}
	t.Cleanup(l.Free)
	return l
}

// dial connects a Go client, closed when the test ends.
func dial(t testing.TB, a net.Addr) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(a.Network(), a.String(), deadline)
	if err != nil {
		t.Fatalf("dial %v: %v", a, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// fdFlags reports whether fd is non-blocking and close-on-exec.
func fdFlags(t testing.TB, fd int) (nonblock, cloexec bool) {
	t.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fl&unix.O_NONBLOCK != 0, fdfl&unix.FD_CLOEXEC != 0
}

// isOpen reports whether fd is an open descriptor.
func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}
