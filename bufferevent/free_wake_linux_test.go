package bufferevent

import (
	"testing"
	"time"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/kernelwait"
	"golang.org/x/sys/unix"
)

// A BufferEvent freed from another goroutine, directly or handed over with
// Submit, while the loop sleeps with nothing else to wait for, lets
// Dispatch return, as libevent's bufferevent_free does on a threaded base.
func TestFreeFromAnotherGoroutineEndsDispatch(t *testing.T) {
	frees := []struct {
		name string
		free func(b *event.Base, bev *BufferEvent) error
	}{
		{"Free", func(_ *event.Base, bev *BufferEvent) error { bev.Free(); return nil }},
		{"Submit(Free)", func(b *event.Base, bev *BufferEvent) error { return b.Submit(bev.Free) }},
	}
	states := []struct {
		name  string
		setup func(t *testing.T, bev *BufferEvent, peer int)
	}{
		{"reading", func(t *testing.T, bev *BufferEvent, peer int) {}},
		{"with timeouts", func(t *testing.T, bev *BufferEvent, peer int) {
			if err := bev.SetTimeouts(time.Hour, time.Hour); err != nil {
				t.Fatal(err)
			}
		}},
		{"after data", func(t *testing.T, bev *BufferEvent, peer int) {
			// A read leaves storage in Input and arms the idle trim.
			if _, err := unix.Write(peer, []byte("hello")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, f := range frees {
		for _, s := range states {
			t.Run(s.name+"/"+f.name, func(t *testing.T) {
				checkLeaks(t)
				b, err := event.NewBase()
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer unix.Close(fds[1])
				bev := newBev(t, b, fds[0], CloseOnFree)
				read := make(chan struct{}, 1)
				bev.SetCallbacks(func(*BufferEvent) { read <- struct{}{} }, nil, nil)
				if err := bev.Enable(event.Read); err != nil {
					t.Fatal(err)
				}
				s.setup(t, bev, fds[1])
				change := func() error {
					if s.name == "after data" {
						// The read arms the idle trim: free once it is
						// done and the loop sleeps again.
						wait(t, read, "the read callback")
						if err := kernelwait.Await(deadline); err != nil {
							return err
						}
					}
					return f.free(b, bev)
				}
				if err := kernelwait.ChangeWhileAsleep(b, change, deadline); err != nil {
					t.Fatalf("%s of the only BufferEvent: %v", f.name, err)
				}
			})
		}
	}
}
