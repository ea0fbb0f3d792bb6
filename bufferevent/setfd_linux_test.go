package bufferevent

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

func TestSetFdMovesReadingAndWritingToTheNewDescriptor(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, oldPeer := pair(t, b, 0)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	reads := make(chan string, 4)
	bev.SetCallbacks(sendReads(reads), nil, nil)
	oldFd := bev.Fd()
	if err := bev.Enable(event.Read); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(oldPeer, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, reads, "a read on the first descriptor"); got != "old" {
		t.Fatalf("read %q, want %q", got, "old")
	}
	onLoop(t, b, func() {
		if err := bev.SetFd(fds[0]); err != nil {
			t.Errorf("SetFd: %v", err)
		}
	})
	if bev.Fd() != fds[0] {
		t.Fatalf("Fd() = %d after SetFd(%d)", bev.Fd(), fds[0])
	}
	if _, err := unix.Write(oldPeer, []byte("stale")); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fds[1], []byte("new")); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, reads, "a read on the new descriptor"); got != "new" {
		t.Fatalf("read %q, want %q (the old descriptor must not be read)", got, "new")
	}
	if _, err := bev.Write([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	settle(t, b)
	buf := make([]byte, 16)
	n, err := unix.Read(fds[1], buf)
	if err != nil || string(buf[:n]) != "reply" {
		t.Fatalf("new peer read %q, %v; want %q", buf[:max(n, 0)], err, "reply")
	}
	// The old descriptor is still open and still the caller's.
	if _, err := unix.FcntlInt(uintptr(oldFd), unix.F_GETFD, 0); err != nil {
		t.Fatalf("SetFd closed the old descriptor: %v", err)
	}
	onLoop(t, b, func() { bev.SetFd(oldFd) }) // so pair's cleanup closes the right one
}

func TestSetFdRefusesBadInput(t *testing.T) {
	b := startLoop(t)
	bev := newBev(t, b, -1, 0)
	if err := bev.SetFd(-2); !errors.Is(err, event.ErrBadFd) {
		t.Fatalf("SetFd(-2) = %v, want ErrBadFd", err)
	}
	bev.Free()
	if err := bev.SetFd(-1); !errors.Is(err, ErrFreed) {
		t.Fatalf("SetFd after Free = %v, want ErrFreed", err)
	}
}
