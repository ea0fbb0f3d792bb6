package bufferevent

import (
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// With a single-read cap, each read takes at most that much, and the
// rest comes in the next reads: no read callback sees more new data.
func TestMaxSingleReadCapsEachRead(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	if err := bev.SetMaxSingleRead(1000); err != nil {
		t.Fatal(err)
	}
	lens := make(chan int, 64)
	bev.SetCallbacks(func(bev *BufferEvent) {
		lens <- bev.Input().Len()
		bev.Input().Reset()
	}, nil, nil)
	bev.Enable(event.Read)
	if n, err := unix.Write(peer, pattern(10000, 1)); err != nil || n != 10000 {
		t.Fatalf("write: %d, %v", n, err)
	}
	for total := 0; total < 10000; {
		n := wait(t, lens, "a read callback")
		if n > 1000 {
			t.Fatalf("a read callback found %d bytes, want at most the cap of 1000", n)
		}
		total += n
	}
}

// With a single-write cap, one write sends at most that much; the rest
// follows as the socket takes it.
func TestMaxSingleWriteCapsEachWrite(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0)
	if err := bev.SetMaxSingleWrite(1000); err != nil {
		t.Fatal(err)
	}
	msg := pattern(10000, 2)
	onLoop(t, b, func() {
		bev.Output().Write(msg)
		bev.Flush()
		if n := bev.Output().Len(); n != 9000 {
			t.Errorf("after one write, Output holds %d bytes, want 9000", n)
		}
	})
	c.SetReadDeadline(time.Now().Add(deadline))
	back := make([]byte, len(msg))
	if _, err := io.ReadFull(c, back); err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(back, msg); i >= 0 {
		t.Fatalf("data differs at byte %d", i)
	}
}

func TestMaxSingleSizesAreKeptAndChecked(t *testing.T) {
	b := startLoop(t)
	bev := newBev(t, b, -1, 0)
	defer bev.Free()
	if bev.MaxSingleRead() != 0 || bev.MaxSingleWrite() != 0 {
		t.Fatal("the defaults are not 0")
	}
	bev.SetMaxSingleRead(4096)
	bev.SetMaxSingleWrite(8192)
	if r, w := bev.MaxSingleRead(), bev.MaxSingleWrite(); r != 4096 || w != 8192 {
		t.Fatalf("got %d and %d, want 4096 and 8192", r, w)
	}
	bev.SetMaxSingleRead(0)
	if r := bev.MaxSingleRead(); r != 0 {
		t.Fatalf("after 0: %d, want the default, 0", r)
	}
	for _, n := range []int{-1, math.MaxInt32 + 1} {
		if err := bev.SetMaxSingleRead(n); !errors.Is(err, ErrLimit) {
			t.Errorf("SetMaxSingleRead(%d): %v, want ErrLimit", n, err)
		}
		if err := bev.SetMaxSingleWrite(n); !errors.Is(err, ErrLimit) {
			t.Errorf("SetMaxSingleWrite(%d): %v, want ErrLimit", n, err)
		}
	}
}

// A BufferEvent's priority orders its callbacks against other events of
// the loop iteration, 0 first, and keeps across SetFd and the write event
// made later.
func TestSetPriorityOrdersCallbacks(t *testing.T) {
	checkLeaks(t)
	b, err := event.NewBaseWithConfig(event.Config{Priorities: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var order []string
	mk := func(name string, pri int) (*BufferEvent, int) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		bev := newBev(t, b, -1, CloseOnFree)
		t.Cleanup(func() { bev.Free(); unix.Close(fds[1]) })
		if err := bev.SetPriority(pri); err != nil {
			t.Fatal(err)
		}
		if err := bev.SetFd(fds[0]); err != nil {
			t.Fatal(err)
		}
		bev.SetCallbacks(func(bev *BufferEvent) {
			order = append(order, name)
			bev.Input().Reset()
		}, nil, nil)
		bev.Enable(event.Read)
		return bev, fds[1]
	}
	low, lowPeer := mk("low", 2)
	high, highPeer := mk("high", 0)
	unix.Write(lowPeer, []byte("x"))
	unix.Write(highPeer, []byte("x"))
	if err := b.Loop(event.LoopOnce); err != nil {
		t.Fatal(err)
	}
	if len(order) == 0 || order[0] != "high" {
		t.Fatalf("callbacks ran %v, want high first", order)
	}
	if p := low.Priority(); p != 2 {
		t.Errorf("Priority: %d, want 2", p)
	}
	if p := high.rev.Priority(); p != 0 {
		t.Errorf("after SetFd the read event has priority %d, want 0", p)
	}
	wev, err := high.writeEvent()
	if err != nil {
		t.Fatal(err)
	}
	if p := wev.Priority(); p != 0 {
		t.Errorf("the write event made later has priority %d, want 0", p)
	}
	if err := low.SetPriority(3); !errors.Is(err, event.ErrPriority) {
		t.Errorf("SetPriority(3) on 3 priorities: %v, want ErrPriority", err)
	}
	plain := newBev(t, b, -1, 0)
	defer plain.Free()
	if p := plain.Priority(); p != 1 {
		t.Errorf("default priority %d, want the middle one, 1", p)
	}
}
