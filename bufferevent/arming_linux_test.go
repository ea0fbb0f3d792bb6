package bufferevent

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// notASocket replaces fd with a regular file, which epoll refuses to
// watch (EPERM): the way to make the loop refuse an event on a
// descriptor the BufferEvent still holds.
func notASocket(t *testing.T, fd int) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "not-a-socket"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Dup2(int(f.Fd()), fd); err != nil {
		t.Fatal(err)
	}
}

// onEpoll makes the bases the test creates run on epoll, whatever the
// suite's environment asks for: epoll refuses a regular file at once
// (EPERM), the refusal this test needs; poll and io_uring watch such a
// file and report it ready.
func onEpoll(t *testing.T) {
	t.Setenv("LEVENT_IOURING", "")
	t.Setenv("LEVENT_NOEPOLL", "")
}

// Output the socket cannot take waits for the write event; if the loop
// refuses that event, the data would wait for ever. It must be reported
// as Writing|Error, with Err giving the refusal, and writing turned off.
func TestRefusedWriteEventReportsWritingError(t *testing.T) {
	onEpoll(t)
	for _, opts := range []Options{0, DeferCallbacks} {
		t.Run(opts.String(), func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			bev, _ := pair(t, b, opts)
			evs := newEvents()
			bev.SetCallbacks(nil, nil, evs.cb)
			bufHook(t, &bufWritev, func(ringIO, int, []byte, []byte, bool) (int, error) { return 0, unix.EAGAIN })
			notASocket(t, bev.Fd())
			if _, err := bev.WriteString("stuck"); err != nil {
				t.Fatal(err)
			}
			evs.expect(t, Writing|Error)
			if err := bev.Err(); !errors.Is(err, unix.EPERM) {
				t.Errorf("Err: got %v, want EPERM", err)
			}
			if got := bev.Enabled(); got&event.Write != 0 {
				t.Errorf("Enabled after the refusal: got %v, want writing off", got)
			}
			checkInvariants(t, b, bev)
		})
	}
}

// Reading stopped at the high watermark resumes when Read drains Input;
// if the loop refuses the read event then, reading would stay stopped
// without a word. Read runs on any goroutine, so the Reading|Error comes
// from the loop.
func TestRefusedResumeReportsReadingError(t *testing.T) {
	onEpoll(t)
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	evs := newEvents()
	bev.SetCallbacks(nil, nil, evs.cb)
	if err := bev.SetWatermark(event.Read, 0, 4); err != nil {
		t.Fatal(err)
	}
	bev.Enable(event.Read)
	unix.Write(peer, []byte("12345678"))
	waitLoop(t, b, "reading to stop at the high watermark", func() bool {
		bev.mu.Lock()
		defer bev.mu.Unlock()
		return bev.work&bsSuspended != 0
	})
	notASocket(t, bev.Fd())
	if n := bev.Read(make([]byte, 4)); n != 4 {
		t.Fatalf("Read: got %d bytes, want 4", n)
	}
	evs.expect(t, Reading|Error)
	if err := bev.Err(); !errors.Is(err, unix.EPERM) {
		t.Errorf("Err: got %v, want EPERM", err)
	}
	checkInvariants(t, b, bev)
}

// Methods that return an error return the loop's refusal to arm an event
// instead of dropping it; a closed base refuses everything.
func TestMethodsReturnTheLoopsRefusal(t *testing.T) {
	checkLeaks(t)
	for _, tc := range []struct {
		name string
		op   func(bev *BufferEvent, fd int) error
	}{
		{"SetTimeouts re-arming reading", func(bev *BufferEvent, fd int) error {
			return bev.SetTimeouts(time.Minute, 0)
		}},
		{"SetFd with buffered output", func(bev *BufferEvent, fd int) error {
			return bev.SetFd(fd)
		}},
		{"SetWatermark resuming reading", func(bev *BufferEvent, fd int) error {
			return bev.SetWatermark(event.Read, 0, 0)
		}},
		{"Enable(Write) with buffered output", func(bev *BufferEvent, fd int) error {
			return bev.Enable(event.Write)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := event.NewBase()
			if err != nil {
				t.Fatal(err)
			}
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fds[0])
			defer unix.Close(fds[1])
			bev, err := New(b, -1, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer bev.Free()
			switch tc.name {
			case "SetFd with buffered output":
				bev.WriteString("x") // no descriptor: nothing to flush yet
			case "Enable(Write) with buffered output":
				bev.SetFd(fds[0])
				bev.Disable(event.Write)
				bev.WriteString("x")
			default:
				bev.SetFd(fds[0])
				bev.SetWatermark(event.Read, 0, 1)
				unix.Write(fds[1], []byte("xy"))
				if err := bev.Enable(event.Read); err != nil {
					t.Fatal(err)
				}
				if tc.name != "SetTimeouts re-arming reading" {
					if err := b.Loop(event.LoopOnce); err != nil { // reads to the high watermark
						t.Fatal(err)
					}
				}
			}
			b.Close()
			if err := tc.op(bev, fds[0]); !errors.Is(err, event.ErrClosed) {
				t.Errorf("got %v, want ErrClosed", err)
			}
		})
	}
}
