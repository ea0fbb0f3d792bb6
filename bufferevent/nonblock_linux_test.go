package bufferevent

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// A blocking socket handed to New is made non-blocking, so that the loop's
// reads and writes can never sleep; a descriptor that is not open is an
// error from New, not a failure later in the loop.
func TestNewMakesABlockingSocketNonBlocking(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	bev := newBev(t, b, fds[0], CloseOnFree)
	defer bev.Free()
	flags, err := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK == 0 {
		t.Errorf("flags after New: %#x, want O_NONBLOCK set", flags)
	}

	got := make(chan string, 1)
	bev.SetCallbacks(sendReads(got), nil, nil)
	if err := bev.Enable(event.Read); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fds[1], []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if s := wait(t, got, "the read callback"); s != "ping" {
		t.Errorf("read %q, want ping", s)
	}

	const notOpen = 1 << 20 // above any descriptor limit: never open
	if _, err := New(b, notOpen, 0); !errors.Is(err, unix.EBADF) {
		t.Errorf("New(fd not open): got %v, want EBADF", err)
	}
}
