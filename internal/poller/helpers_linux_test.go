package poller

import (
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/internal/kernelwait"
)

// long bounds every wait that is expected to end early because something
// became ready: generous, so a loaded machine never fails a test, yet
// finite, so a broken backend fails instead of hanging the suite.
const long = 20 * time.Second

// forEachBackend runs test once per backend of this platform, each with a
// fresh Poller that is closed afterwards, and fails if the subtest leaks
// descriptors.
func forEachBackend(t *testing.T, test func(t *testing.T, p Poller)) {
	t.Helper()
	methods := allMethods()
	if len(Methods()) == 0 {
		t.Fatal("Methods() is empty, want at least one backend")
	}
	for _, name := range methods {
		t.Run(name, func(t *testing.T) {
			checkFDs(t)
			p := openBackend(t, name)
			test(t, p)
		})
	}
}

// allMethods lists every backend, the opt-in ones included.
func allMethods() []string { return append(Methods(), OptInMethods()...) }

// skipUnavailable skips the test where the kernel refuses the opt-in
// backend called name (io_uring disabled or filtered); the default
// backends must always open.
func skipUnavailable(t testing.TB, name string) {
	t.Helper()
	p, err := Open(name)
	if errors.Is(err, ErrUnavailable) && slices.Contains(OptInMethods(), name) {
		t.Skipf("%s: %v", name, err)
	}
	if err == nil {
		p.Close()
	}
}

// openBackend opens the backend called name and closes it when the test
// ends.
func openBackend(t *testing.T, name string) Poller {
	t.Helper()
	skipUnavailable(t, name)
	p, err := Open(name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	if got := p.Name(); got != name {
		t.Errorf("Open(%q).Name() = %q, want %q", name, got, name)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
	})
	return p
}

// countFDs reports how many descriptors the process has open.
func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

// checkFDs fails the test if it ends with more or fewer descriptors open
// than it started with. Call it first, so its cleanup runs last.
func checkFDs(t *testing.T) {
	t.Helper()
	before := countFDs(t)
	t.Cleanup(func() {
		if after := countFDs(t); after != before {
			t.Errorf("open descriptors: %d after the test, want %d as before", after, before)
		}
	})
}

// socketpair returns both ends of a connected, non-blocking AF_UNIX stream
// pair, closed when the test ends.
func socketpair(t testing.TB) (a, b int) {
	t.Helper()
	a, b = rawSocketpair(t)
	closeAtEnd(t, a, b)
	return a, b
}

// rawSocketpair is socketpair for tests that close the ends themselves (a
// cleanup closing a number twice could close whatever reused it).
func rawSocketpair(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	return fds[0], fds[1]
}

// rawPipe returns the read and the write end of a non-blocking pipe; the
// test closes them.
func rawPipe(t *testing.T) (r, w int) {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatalf("pipe2: %v", err)
	}
	return fds[0], fds[1]
}

func closeAtEnd(t testing.TB, fds ...int) {
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
}

func write(t testing.TB, fd int, s string) {
	t.Helper()
	if n, err := unix.Write(fd, []byte(s)); err != nil || n != len(s) {
		t.Fatalf("write(%d, %q) = %d, %v, want %d, nil", fd, s, n, err, len(s))
	}
}

// fill writes to fd until its send buffer is full.
func fill(t *testing.T, fd int) {
	t.Helper()
	buf := make([]byte, 64<<10)
	for {
		_, err := unix.Write(fd, buf)
		if err == unix.EAGAIN {
			return
		}
		if err != nil {
			t.Fatalf("write(%d): %v", fd, err)
		}
	}
}

// drain reads fd until it would block.
func drain(t *testing.T, fd int) {
	t.Helper()
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EAGAIN || (err == nil && n == 0) {
			return
		}
		if err != nil {
			t.Fatalf("read(%d): %v", fd, err)
		}
	}
}

func update(t *testing.T, p Poller, fd int, gen uint32, old, new Interest) {
	t.Helper()
	if err := p.Update(fd, gen, old, new); err != nil {
		t.Fatalf("%s: Update(fd %d, gen %d, %04b -> %04b): %v", p.Name(), fd, gen, old, new, err)
	}
}

// poll0 waits without blocking and returns the reports, keyed by
// descriptor. Two reports for one descriptor fail the test.
func poll0(t *testing.T, p Poller) map[int32]Event {
	t.Helper()
	return waitEvents(t, p, 0)
}

func waitEvents(t *testing.T, p Poller, timeout time.Duration) map[int32]Event {
	t.Helper()
	events := make([]Event, 64)
	n, err := p.Wait(events, timeout)
	if err != nil {
		t.Fatalf("%s: Wait(%v): %v", p.Name(), timeout, err)
	}
	if n < 0 || n > len(events) {
		t.Fatalf("%s: Wait filled %d events, want 0..%d", p.Name(), n, len(events))
	}
	got := make(map[int32]Event, n)
	for _, e := range events[:n] {
		if _, dup := got[e.Fd]; dup {
			t.Fatalf("%s: Wait reported fd %d twice: %+v", p.Name(), e.Fd, events[:n])
		}
		got[e.Fd] = e
	}
	return got
}

// waitFor waits until fd is reported and returns its report.
func waitFor(t *testing.T, p Poller, fd int) Event {
	t.Helper()
	deadline := time.Now().Add(long)
	for time.Now().Before(deadline) {
		if e, ok := waitEvents(t, p, time.Until(deadline))[int32(fd)]; ok {
			return e
		}
	}
	t.Fatalf("%s: fd %d not reported within %v", p.Name(), fd, long)
	return Event{}
}

// mustNotReport fails if a non-blocking Wait reports fd.
func mustNotReport(t *testing.T, p Poller, fd int, why string) {
	t.Helper()
	if e, ok := poll0(t, p)[int32(fd)]; ok {
		t.Errorf("%s: %s: Wait reported %+v, want nothing for fd %d", p.Name(), why, e, fd)
	}
}

// awaitBlockedWait returns once a thread of the test process is blocked in
// a backend's wait system call, as /proc/self/task/*/syscall shows: the
// goroutine started by waitUntilReported has reached the kernel. If none
// is within long, rescue (the peer of a registered end) is written to, so
// that the waiting goroutine ends, and the test fails.
func awaitBlockedWait(t *testing.T, done <-chan waitResult, rescue int) {
	t.Helper()
	deadline := time.Now().Add(long)
	for time.Now().Before(deadline) {
		if blockedInWait(t) {
			return
		}
		time.Sleep(time.Millisecond)
	}
	write(t, rescue, "!")
	<-done
	t.Fatalf("no thread blocked in Wait's system call within %v", long)
}

// blockedInWait reports whether some thread is in a backend's wait
// system call.
func blockedInWait(t *testing.T) bool {
	t.Helper()
	ok, err := kernelwait.Blocked()
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
