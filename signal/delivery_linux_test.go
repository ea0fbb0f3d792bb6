package signal

import (
	"os"
	"os/exec"
	ossignal "os/signal"
	"syscall"
	"testing"
	"time"
)

func TestEachSignalDeliveredWithItsCount(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			s := newTestSource(t)
			mustWatch(t, s, sig)
			got := counts{}
			for i := uint64(1); i <= 3; i++ {
				kill(t, sig)
				collect(t, s, got, sig, i)
			}
			if len(got) != 1 || got[sig] != 3 {
				t.Errorf("got %v, want only %v x3", got, sig)
			}
		})
	}
}

func TestSIGCHLDWhenChildExits(t *testing.T) {
	if _, err := os.Stat("/bin/true"); err != nil {
		t.Skip("no /bin/true")
	}
	s := newTestSource(t)
	mustWatch(t, s, syscall.SIGCHLD)
	if err := exec.Command("/bin/true").Run(); err != nil {
		t.Fatal(err)
	}
	got := counts{}
	collect(t, s, got, syscall.SIGCHLD, 1)
	if len(got) != 1 || got[syscall.SIGCHLD] != 1 {
		t.Errorf("got %v, want only SIGCHLD x1", got)
	}
}

func TestFdReadableAfterSignalAndNotAfterRead(t *testing.T) {
	s := newTestSource(t)
	mustWatch(t, s, syscall.SIGUSR1)
	if readable(t, s.Fd(), 0) {
		t.Fatal("Fd readable before any signal")
	}
	kill(t, syscall.SIGUSR1)
	if !readable(t, s.Fd(), patience) {
		t.Fatalf("Fd not readable %v after SIGUSR1", patience)
	}
	got := s.Read(nil)
	if len(got) != 1 || got[0] != (Delivery{syscall.SIGUSR1, 1}) {
		t.Errorf("Read = %v, want [{SIGUSR1 1}]", got)
	}
	if readable(t, s.Fd(), 0) {
		t.Error("Fd still readable after Read drained it")
	}
	if again := s.Read(nil); len(again) != 0 {
		t.Errorf("second Read = %v, want nothing", again)
	}
}

func TestThousandSignalsOneAtATimeAllCounted(t *testing.T) {
	const n = 1000
	s := newTestSource(t)
	mustWatch(t, s, syscall.SIGUSR1)
	got := counts{}
	for i := uint64(1); i <= n; i++ {
		kill(t, syscall.SIGUSR1)
		collect(t, s, got, syscall.SIGUSR1, i)
	}
	if got[syscall.SIGUSR1] != n {
		t.Errorf("got %d, want %d", got[syscall.SIGUSR1], n)
	}
}

// A burst is merged by the kernel and the runtime, so fewer deliveries than
// kills is right; more would be wrong, and so would deliveries that keep
// coming after the burst has gone through.
func TestThousandSignalsInBurstCoalesced(t *testing.T) {
	const n = 1000
	s := newTestSource(t)
	mustWatch(t, s, syscall.SIGUSR1, syscall.SIGUSR2)
	got := counts{}

	for i := 0; i < n; i++ {
		kill(t, syscall.SIGUSR1)
	}
	// flush waits until the SIGUSR1s sent so far are counted, and returns
	// how many it added. Once the kernel has handed SIGUSR1 to a thread, a
	// SIGUSR2 sent afterwards normally reaches os/signal after it (the
	// runtime hands signals over in ascending order, and 10 < 12), so when
	// Read shows the SIGUSR2 the SIGUSR1s are at least in their channel,
	// and settle counts those. "Normally": a thread that took the last
	// SIGUSR1 may not have run the runtime's handler yet when the SIGUSR2
	// overtakes it, so that SIGUSR1 can show up one flush late.
	flush := func() uint64 {
		before := got[syscall.SIGUSR1]
		waitNotPending(t, syscall.SIGUSR1)
		kill(t, syscall.SIGUSR2)
		collect(t, s, got, syscall.SIGUSR2, got[syscall.SIGUSR2]+1)
		s.settle(syscall.SIGUSR1)
		got.add(s.Read(nil))
		return got[syscall.SIGUSR1] - before
	}
	flush()
	for rounds := 1; flush() != 0; rounds++ {
		if rounds == 10 {
			t.Fatalf("SIGUSR1 deliveries still arriving after %d flushes since the burst; %d in all", rounds, got[syscall.SIGUSR1])
		}
	}
	if total := got[syscall.SIGUSR1]; total < 1 || total > n {
		t.Errorf("burst of %d kills gave %d deliveries, want 1..%d", n, total, n)
	} else {
		t.Logf("burst of %d kills: %d deliveries", n, total)
	}
	if readable(t, s.Fd(), 0) {
		t.Error("Fd readable after everything was read")
	}
}

func TestTwoSourcesBothGetSignal(t *testing.T) {
	a, b := newTestSource(t), newTestSource(t)
	mustWatch(t, a, syscall.SIGUSR2)
	mustWatch(t, b, syscall.SIGUSR2)
	gotA, gotB := counts{}, counts{}
	for i := uint64(1); i <= 3; i++ {
		kill(t, syscall.SIGUSR2)
		collect(t, a, gotA, syscall.SIGUSR2, i)
		collect(t, b, gotB, syscall.SIGUSR2, i)
	}
	if gotA[syscall.SIGUSR2] != 3 || gotB[syscall.SIGUSR2] != 3 {
		t.Errorf("got %v and %v, want SIGUSR2 x3 each", gotA, gotB)
	}
}

// guard asks os/signal for sig on a channel of the test's own, so that the
// process survives sig while no Source watches it, and so that the test
// knows when os/signal has handled it.
func guard(t *testing.T, sig syscall.Signal) chan os.Signal {
	c := make(chan os.Signal, 16)
	ossignal.Notify(c, sig)
	t.Cleanup(func() { ossignal.Stop(c) })
	return c
}

func received(t *testing.T, c chan os.Signal) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(patience):
		t.Fatalf("signal not received by os/signal after %v", patience)
	}
}

func TestWatchTwiceUnwatchOnceStillDelivered(t *testing.T) {
	sig := syscall.SIGUSR2
	g := guard(t, sig)
	s := newTestSource(t)
	mustWatch(t, s, sig, sig)
	if err := s.Unwatch(sig); err != nil {
		t.Fatal(err)
	}
	kill(t, sig)
	received(t, g)
	got := counts{}
	collect(t, s, got, sig, 1)

	if err := s.Unwatch(sig); err != nil {
		t.Fatal(err)
	}
	waitNoDeliver(t) // s watches nothing else, and no other Source is open
	kill(t, sig)
	received(t, g)
	// os/signal sends to all channels in one pass and can no longer send
	// to a stopped one, so once the guard has it, s either has it or never
	// will.
	if readable(t, s.Fd(), 0) {
		t.Error("Fd readable after the last Unwatch and a signal")
	}
	if ds := s.Read(nil); len(ds) != 0 {
		t.Errorf("Read after the last Unwatch = %v, want nothing", ds)
	}
	if err := s.Unwatch(sig); err == nil {
		t.Error("third Unwatch after two Watches succeeded, want ErrNotWatched")
	}
}

func TestUnwatchDiscardsUnreadCounts(t *testing.T) {
	sig := syscall.SIGUSR1
	s := newTestSource(t)
	mustWatch(t, s, sig, syscall.SIGUSR2)
	kill(t, sig)
	// Readable means the count is in: deliver adds before it wakes.
	if !readable(t, s.Fd(), patience) {
		t.Fatalf("Fd not readable %v after %v", patience, sig)
	}
	if err := s.Unwatch(sig); err != nil {
		t.Fatal(err)
	}
	if ds := s.Read(nil); len(ds) != 0 {
		t.Errorf("Read after Unwatch = %v, want nothing", ds)
	}
	mustWatch(t, s, sig)
	if ds := s.Read(nil); len(ds) != 0 {
		t.Errorf("Read after Watch again = %v, want nothing", ds)
	}
	got := counts{}
	kill(t, sig)
	collect(t, s, got, sig, 1)
	if got[sig] != 1 {
		t.Errorf("after Watch again got %v, want %v x1", got, sig)
	}
}

func TestReadAppendsWithoutAllocating(t *testing.T) {
	s := newTestSource(t)
	mustWatch(t, s, syscall.SIGUSR1, syscall.SIGUSR2)
	kill(t, syscall.SIGUSR2)
	kill(t, syscall.SIGUSR1)
	got := counts{}
	collect(t, s, got, syscall.SIGUSR1, 1)
	collect(t, s, got, syscall.SIGUSR2, 1)

	prefix := Delivery{Sig: syscall.SIGHUP, Count: 7}
	dst := make([]Delivery, 1, 8)
	dst[0] = prefix
	allocs := testing.AllocsPerRun(100, func() { dst = s.Read(dst[:1]) })
	if allocs != 0 {
		t.Errorf("Read with room in dst: %v allocations, want 0", allocs)
	}
	if len(dst) != 1 || dst[0] != prefix {
		t.Errorf("Read with nothing new = %v, want dst unchanged [%v]", dst, prefix)
	}
}

func TestWakeWriteFailureRetriedByNextDelivery(t *testing.T) {
	failed := make(chan struct{})
	calls := 0 // only the deliver goroutine calls writeFunc
	saved := writeFunc
	t.Cleanup(func() { writeFunc = saved }) // runs after Close: no goroutine left to read it
	writeFunc = func(fd int, p []byte) (int, error) {
		calls++
		if calls == 1 {
			close(failed)
			return 0, syscall.EIO
		}
		return saved(fd, p)
	}
	s := newTestSource(t)
	mustWatch(t, s, syscall.SIGUSR1)
	kill(t, syscall.SIGUSR1)
	select {
	case <-failed:
	case <-time.After(patience):
		t.Fatalf("no wake-up write %v after SIGUSR1", patience)
	}
	if readable(t, s.Fd(), 0) {
		t.Fatal("Fd readable although the wake-up write failed")
	}
	kill(t, syscall.SIGUSR1)
	if !readable(t, s.Fd(), patience) {
		t.Fatalf("Fd not readable %v after the next SIGUSR1: the failed write left the flag set", patience)
	}
	got := counts{}
	collect(t, s, got, syscall.SIGUSR1, 2)
	if got[syscall.SIGUSR1] != 2 {
		t.Errorf("got %v, want SIGUSR1 x2 (the count of the failed wake-up kept)", got)
	}
}

// A delivery that lands while Read drains the eventfd must still wake the
// next Read. The hook plays that delivery at the worst moment, inside the
// drain; had Read cleared the flag before draining, the drain would swallow
// its write, the flag would stay set, and no later signal would wake Fd.
func TestDeliveryDuringDrainDoesNotLoseWakeups(t *testing.T) {
	var s *Source
	inject := false
	saved := readFunc
	t.Cleanup(func() { readFunc = saved })
	readFunc = func(fd int, p []byte) (int, error) {
		if inject {
			inject = false
			s.counts[syscall.SIGUSR1].Add(1) // what deliver does
			s.wake()
		}
		return saved(fd, p)
	}
	s = newTestSource(t)
	mustWatch(t, s, syscall.SIGUSR1)

	kill(t, syscall.SIGUSR1)
	if !readable(t, s.Fd(), patience) {
		t.Fatalf("Fd not readable %v after SIGUSR1", patience)
	}
	inject = true
	got := counts{}
	got.add(s.Read(nil))
	if got[syscall.SIGUSR1] != 2 {
		t.Errorf("Read = %v, want SIGUSR1 x2 (the signal and the injected delivery)", got)
	}
	kill(t, syscall.SIGUSR1)
	collect(t, s, got, syscall.SIGUSR1, 3)
}
