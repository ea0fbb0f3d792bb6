package listener

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
)

// failure is what the error callback saw.
type failure struct {
	err     error
	paused  bool          // accepting was paused when the callback ran
	pending event.Flag    // what the accept event was still pending for
	next    time.Duration // the back-off after this one
}

// failingListener sets up a listener whose error callback records each
// failure, with the back-off shortened to 1 ms doubling to 8 ms.
func failingListener(t *testing.T) (*event.Base, *Listener, *accepted, *[]failure) {
	noLeaks(t)
	savedMin, savedMax := minBackoff, maxBackoff
	minBackoff, maxBackoff = time.Millisecond, 8*time.Millisecond
	t.Cleanup(func() { minBackoff, maxBackoff = savedMin, savedMax })
	b := newBase(t)
	got, cb := collect(t)
	l := bind(t, b, cb, 0, "tcp4", "127.0.0.1:0")
	var fs []failure
	l.SetErrorCallback(func(l *Listener, err error) {
		p, _ := l.ev.Pending(event.Read)
		fs = append(fs, failure{err, l.paused, p, l.delay})
	})
	return b, l, got, &fs
}

// checkBackoff checks that every failure paused accepting (the accept event
// was not pending, so the loop could not spin on the connection it could
// not take) and that the pauses doubled up to the maximum.
func checkBackoff(t *testing.T, fs []failure, want error) {
	t.Helper()
	next := minBackoff
	for i, f := range fs {
		next = min(2*next, maxBackoff)
		if !errors.Is(f.err, want) || !f.paused || f.pending != 0 || f.next != next {
			t.Errorf("failure %d: got %v, paused %v, accept event pending for %v, next pause %v; want %v, paused, not pending, %v",
				i, f.err, f.paused, f.pending, f.next, want, next)
		}
	}
}

// Out of descriptors, accept fails with EMFILE while the connection waits
// in the backlog, so the socket stays readable. The listener must report
// the error, back off instead of spinning, and accept the connection once a
// descriptor is free again. RLIMIT_NOFILE is lowered and every free slot
// below it filled for the test, then restored.
func TestOutOfDescriptorsBacksOffAndRecovers(t *testing.T) {
	b, l, got, fails := failingListener(t)
	_, sa, err := sock.ResolveAddr("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	// The client's socket must exist before the process is full.
	client, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(client)

	var saved unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &saved); err != nil {
		t.Fatal(err)
	}
	low := saved
	low.Cur = uint64(openFds(t) + 16)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var fillers []int
	restore := func() {
		for _, fd := range fillers {
			unix.Close(fd)
		}
		fillers = nil
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &saved); err != nil {
			t.Errorf("restoring RLIMIT_NOFILE: %v", err)
		}
	}
	defer restore()
	for {
		fd, err := unix.Dup(0)
		if err == unix.EMFILE {
			break
		}
		if err != nil {
			t.Fatalf("dup: %v", err)
		}
		fillers = append(fillers, fd)
	}

	if err := unix.Connect(client, sa); err != nil && err != unix.EINPROGRESS {
		t.Fatalf("connect: %v", err)
	}
	loopUntil(t, b, "five failed accepts", func() bool { return len(*fails) >= 5 })
	if len(got.fds) != 0 {
		t.Fatalf("accepted %d connections with no descriptor free", len(got.fds))
	}
	checkBackoff(t, *fails, unix.EMFILE)

	// One descriptor free: the next attempt takes the connection.
	unix.Close(fillers[len(fillers)-1])
	fillers = fillers[:len(fillers)-1]
	loopUntil(t, b, "the connection once a descriptor is free", func() bool { return len(got.fds) == 1 })
	// (Linux reserves the descriptor before it looks at the backlog, so
	// the attempt after that one fails with EMFILE again.)
	restore()
	dial(t, l.Addr())
	loopUntil(t, b, "a connection with descriptors to spare", func() bool { return len(got.fds) == 2 })
	if l.delay != minBackoff {
		t.Errorf("back-off after a successful accept: got %v, want it reset to %v", l.delay, minBackoff)
	}
}

// A listening socket that is shut down is readable for good and accept
// fails with EINVAL: any persistent error must back off too, not spin.
func TestPersistentAcceptErrorBacksOff(t *testing.T) {
	b, l, got, fails := failingListener(t)
	if err := unix.Shutdown(l.Fd(), unix.SHUT_RD); err != nil {
		t.Fatal(err)
	}
	loopUntil(t, b, "five failed accepts", func() bool { return len(*fails) >= 5 })
	checkBackoff(t, *fails, unix.EINVAL)
	if len(got.fds) != 0 {
		t.Errorf("accepted %d connections on a shut-down socket", len(got.fds))
	}
}

// Free from the error callback is safe and stops the retries.
func TestFreeInsideErrorCallback(t *testing.T) {
	b, l, _, _ := failingListener(t)
	calls := 0
	l.SetErrorCallback(func(l *Listener, err error) {
		calls++
		l.Free()
	})
	unix.Shutdown(l.Fd(), unix.SHUT_RD)
	loopUntil(t, b, "the error callback", func() bool { return calls > 0 })
	for range 3 {
		iterate(t, b)
	}
	if added, _ := b.NumEvents(); calls != 1 || added != 1 { // only newBase's tick is left
		t.Errorf("after Free in the error callback: %d calls and %d pending events, want 1 and 1", calls, added)
	}
}
