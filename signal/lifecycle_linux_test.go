package signal

import (
	"errors"
	"os"
	"runtime"
	"syscall"
	"testing"
)

func TestCloseLeavesNoGoroutineOrFd(t *testing.T) {
	warmUp(t)
	fds := openFds(t)
	checkNoLeaks(t, 1<<30, fds) // until warmUp's deliver goroutine is gone
	goroutines := runtime.NumGoroutine()

	var srcs []*Source
	for i := 0; i < 3; i++ {
		s, err := NewSource()
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, s)
		mustWatch(t, s, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP, syscall.SIGHUP)
	}
	got := counts{}
	kill(t, syscall.SIGUSR1)
	collect(t, srcs[0], got, syscall.SIGUSR1, 1)
	if err := srcs[1].Unwatch(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	// One goroutine per watched signal: 3 sources x 3 signals, less the
	// SIGUSR2 just unwatched (SIGHUP, watched twice, has one).
	if d := deliverGoroutines(); d != 8 {
		t.Errorf("before Close: %d deliver goroutines, want 8", d)
	}
	for _, s := range srcs {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	checkNoLeaks(t, goroutines, fds)
}

func TestCloseTwiceReturnsErrClosed(t *testing.T) {
	s, err := NewSource()
	if err != nil {
		t.Fatal(err)
	}
	mustWatch(t, s, syscall.SIGUSR1)
	if err := s.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

func TestUseAfterCloseFails(t *testing.T) {
	s, err := NewSource()
	if err != nil {
		t.Fatal(err)
	}
	mustWatch(t, s, syscall.SIGUSR1)
	kill(t, syscall.SIGUSR1)
	if !readable(t, s.Fd(), patience) {
		t.Fatal("Fd not readable after SIGUSR1")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkClosed(t, s)
}

func TestZeroSourceActsClosed(t *testing.T) {
	checkClosed(t, &Source{})
}

func checkClosed(t *testing.T, s *Source) {
	t.Helper()
	if err := s.Watch(syscall.SIGUSR1); !errors.Is(err, ErrClosed) {
		t.Errorf("Watch = %v, want ErrClosed", err)
	}
	if err := s.Unwatch(syscall.SIGUSR1); !errors.Is(err, ErrClosed) {
		t.Errorf("Unwatch = %v, want ErrClosed", err)
	}
	dst := []Delivery{{syscall.SIGHUP, 1}}
	if got := s.Read(dst); len(got) != 1 || got[0] != dst[0] {
		t.Errorf("Read = %v, want dst unchanged %v", got, dst)
	}
	if fd := s.Fd(); fd != -1 {
		t.Errorf("Fd = %d, want -1", fd)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("Close = %v, want ErrClosed", err)
	}
}

func TestBadSignalsRejected(t *testing.T) {
	s := newTestSource(t)
	for _, sig := range []syscall.Signal{0, -1, 65, 1000, syscall.SIGKILL, syscall.SIGSTOP} {
		if err := s.Watch(sig); !errors.Is(err, ErrBadSignal) {
			t.Errorf("Watch(%d) = %v, want ErrBadSignal", int(sig), err)
		}
		if err := s.Unwatch(sig); !errors.Is(err, ErrBadSignal) {
			t.Errorf("Unwatch(%d) = %v, want ErrBadSignal", int(sig), err)
		}
	}
	// The highest real-time signal is fine.
	mustWatch(t, s, 64)
	if err := s.Unwatch(64); err != nil {
		t.Errorf("Unwatch(64) = %v, want nil", err)
	}
}

func TestBadSignalErrorNamesSignal(t *testing.T) {
	s := newTestSource(t)
	for sig, want := range map[syscall.Signal]string{
		syscall.SIGKILL: "signal: invalid signal: SIGKILL cannot be caught",
		syscall.SIGSTOP: "signal: invalid signal: SIGSTOP cannot be caught",
		0:               "signal: invalid signal: 0 is outside 1..64",
		65:              "signal: invalid signal: 65 is outside 1..64",
	} {
		if err := s.Watch(sig); err == nil || err.Error() != want {
			t.Errorf("Watch(%d) = %v, want %q", int(sig), err, want)
		}
	}
}

func TestUnwatchOfUnwatchedSignalFails(t *testing.T) {
	s := newTestSource(t)
	err := s.Unwatch(syscall.SIGUSR1)
	if !errors.Is(err, ErrNotWatched) {
		t.Fatalf("Unwatch = %v, want ErrNotWatched", err)
	}
	if want := "signal: signal not watched: signal 10 (user defined signal 1)"; err.Error() != want {
		t.Errorf("Unwatch error = %q, want %q", err, want)
	}
}

func TestNewSourceReportsEventfdFailure(t *testing.T) {
	saved := eventfdFunc
	t.Cleanup(func() { eventfdFunc = saved })
	eventfdFunc = func(uint, int) (int, error) { return -1, syscall.EMFILE }
	s, err := NewSource()
	var se *os.SyscallError
	if s != nil || !errors.As(err, &se) || se.Syscall != "eventfd" || !errors.Is(err, syscall.EMFILE) {
		t.Errorf("NewSource = %v, %v; want nil, eventfd: EMFILE", s, err)
	}
}

func TestCloseReportsCloseFailure(t *testing.T) {
	saved := closeFunc
	t.Cleanup(func() { closeFunc = saved })
	closeFunc = func(fd int) error {
		saved(fd)
		return syscall.EIO
	}
	s, err := NewSource()
	if err != nil {
		t.Fatal(err)
	}
	mustWatch(t, s, syscall.SIGUSR1)
	err = s.Close()
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "close" || !errors.Is(err, syscall.EIO) {
		t.Errorf("Close = %v, want close: EIO", err)
	}
	checkClosed(t, s)
}
