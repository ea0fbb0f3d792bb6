package signal

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// patience bounds every wait in these tests. It is a deadline for things
// that must happen, never a measure of speed: a loaded 2-core machine
// running -race can be slow.
const patience = 30 * time.Second

// newTestSource returns a Source that is closed when the test ends.
func newTestSource(t testing.TB) *Source {
	t.Helper()
	s, err := NewSource()
	if err != nil {
		t.Fatalf("NewSource: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func mustWatch(t testing.TB, s *Source, sigs ...syscall.Signal) {
	t.Helper()
	for _, sig := range sigs {
		if err := s.Watch(sig); err != nil {
			t.Fatalf("Watch(%v): %v", sig, err)
		}
	}
}

func kill(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Fatalf("kill(%v): %v", sig, err)
	}
}

// readable polls fd for input for up to timeout (0: just look).
func readable(t testing.TB, fd int, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms < 0 {
			ms = 0
		}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR { // every signal a test sends interrupts poll
			continue
		}
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		return n > 0 && fds[0].Revents&unix.POLLIN != 0
	}
}

// counts is what Reads returned, summed per signal.
type counts map[syscall.Signal]uint64

func (c counts) add(ds []Delivery) {
	for _, d := range ds {
		c[d.Sig] += d.Count
	}
}

// collect waits on s.Fd and reads until got[sig] reaches want, checking on
// the way that every Read is in ascending order with positive counts.
func collect(t testing.TB, s *Source, got counts, sig syscall.Signal, want uint64) {
	t.Helper()
	deadline := time.Now().Add(patience)
	buf := make([]Delivery, 0, maxSignal)
	for got[sig] < want {
		if !readable(t, s.Fd(), time.Until(deadline)) {
			t.Fatalf("%v: got %d deliveries, want %d: Fd not readable after %v", sig, got[sig], want, patience)
		}
		buf = s.Read(buf[:0])
		checkOrder(t, buf)
		got.add(buf)
	}
}

func checkOrder(t testing.TB, ds []Delivery) {
	t.Helper()
	for i, d := range ds {
		if d.Count == 0 {
			t.Errorf("Read returned %v with count 0: %v", d.Sig, ds)
		}
		if i > 0 && ds[i-1].Sig >= d.Sig {
			t.Errorf("Read returned signals out of ascending order: %v", ds)
		}
	}
}

// settle waits until every delivery of sig that os/signal has already sent
// to s has been counted: it registers a fresh channel for sig, then stops
// the old one and waits for its goroutine, which counts what was buffered.
// The fresh channel comes first so that sig never falls back to its default
// action. A signal arriving during settle may be counted twice: call it only
// when none is on its way.
func (s *Source) settle(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.watches[sig]
	s.start(sig)
	fresh := s.watches[sig]
	s.watches[sig] = old
	s.stop(sig)
	s.watches[sig] = fresh
}

// sharedPending reports whether sig is pending for the process as a whole
// (ShdPnd in /proc/self/status): sent by kill but not yet taken by a thread.
func sharedPending(t testing.TB, sig syscall.Signal) bool {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "ShdPnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("ShdPnd %q: %v", v, err)
			}
			return mask&(1<<(sig-1)) != 0
		}
	}
	t.Fatal("no ShdPnd line in /proc/self/status")
	return false
}

// waitNotPending waits until the kernel has handed sig to a thread.
func waitNotPending(t testing.TB, sig syscall.Signal) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for sharedPending(t, sig) {
		if time.Now().After(deadline) {
			t.Fatalf("%v still pending in the kernel after %v", sig, patience)
		}
		time.Sleep(time.Millisecond)
	}
}

// openFds counts the descriptors of the process.
func openFds(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// warmUp starts os/signal's own goroutine, which lives as long as the
// process, so that it does not count as a leak.
func warmUp(t testing.TB) {
	t.Helper()
	s := newTestSource(t)
	mustWatch(t, s, syscall.SIGUSR1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// deliverGoroutines counts the deliver goroutines, by the line naming
// their creator, which a goroutine that has not run yet shows too.
func deliverGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "created by github.com/levent-go/levent/signal.(*Source).start")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitNoDeliver waits until no deliver goroutine is left in the process.
func waitNoDeliver(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for deliverGoroutines() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d deliver goroutines still running after %v", deliverGoroutines(), patience)
		}
		time.Sleep(time.Millisecond)
	}
}

// checkNoLeaks waits until no deliver goroutine is left and the goroutine
// and descriptor counts are back to what they were.
func checkNoLeaks(t testing.TB, goroutines, fds int) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		d, g, f := deliverGoroutines(), runtime.NumGoroutine(), openFds(t)
		if d == 0 && g <= goroutines && f == fds {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Close: %d deliver goroutines, %d goroutines, %d fds; want 0, %d, %d", d, g, f, goroutines, fds)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
