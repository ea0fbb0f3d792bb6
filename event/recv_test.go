//go:build linux

package event

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A Read|Recv event's callback takes the data with Base.Recv on every
// backend, in pieces smaller than the message, and sees the end of the
// stream as 0, nil; only io_uring says it receives in the kernel.
func TestRecvEventOnEveryBackend(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		if want := b.Method() == "io_uring"; b.Receives() != want {
			t.Fatalf("Receives() = %v on %s", b.Receives(), b.Method())
		}
		a, peer := socketpair(t)
		var got strings.Builder
		var ev *Event
		buf := make([]byte, 3) // smaller than a message: level-triggered reports bring the rest
		ev = mustNew(t, b, a, Read|Persist|Recv, func(fd int, what Flag) {
			n, err := b.Recv(fd, buf)
			switch {
			case err == unix.EAGAIN:
			case err != nil:
				t.Errorf("Recv: %v", err)
				ev.Del()
			case n == 0:
				ev.Del()
			default:
				got.Write(buf[:n])
				if got.Len() == len("hello world") {
					unix.Shutdown(peer, unix.SHUT_WR)
				}
			}
		})
		mustAdd(t, ev, 0)
		mustWrite(t, peer, "hello world")
		dispatchWithin(t, b, 10*time.Second)
		if got.String() != "hello world" {
			t.Fatalf("received %q", got.String())
		}
		if pending, _ := ev.Pending(Read); pending != 0 {
			t.Fatalf("event still pending after the end of stream")
		}
	})
}

// Recv needs Read, and the Read events on one descriptor agree on it.
func TestRecvFlagMisuse(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		a, _ := socketpair(t)
		nop := func(int, Flag) {}
		if _, err := New(b, a, Write|Recv, nop); !errors.Is(err, ErrBadFlags) {
			t.Errorf("Write|Recv: %v, want ErrBadFlags", err)
		}
		r := mustNew(t, b, a, Read|Persist|Recv, nop)
		mustAdd(t, r, 0)
		plain := mustNew(t, b, a, Read|Persist, nop)
		if err := plain.Add(0); !errors.Is(err, ErrMixedRecv) {
			t.Errorf("plain Read beside Read|Recv: %v, want ErrMixedRecv", err)
		}
		w := mustNew(t, b, a, Write|Persist, nop) // writers do not take part
		mustAdd(t, w, 0)
		r.Del()
		mustAdd(t, plain, 0) // no Recv reader left: a plain one may come
		if _, err := b.Recv(-1, nil); !errors.Is(err, ErrBadFd) {
			t.Errorf("Recv(-1): %v, want ErrBadFd", err)
		}
		r.Free()
		plain.Free()
		w.Free()
	})
}

// reuseNumber closes a and makes a new socket pair whose first end takes
// a's number; it returns the other end, closed when the test ends, or -1
// after reporting an error. For callbacks: it does not stop the test.
func reuseNumber(t *testing.T, a int) int {
	unix.Close(a)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Errorf("socketpair: %v", err)
		return -1
	}
	if fds[0] != a { // the number is usually the lowest free one, a; make sure
		if err := unix.Dup3(fds[0], a, unix.O_CLOEXEC); err != nil {
			t.Errorf("dup3: %v", err)
		}
		unix.Close(fds[0])
	}
	t.Cleanup(func() { unix.Close(fds[1]) })
	return fds[1]
}

// An event deleted by one call and freed by a later one, in the same
// callback, leaves the backend at the Free, before its descriptor is
// closed: the number's next owner, registered only after the loop has
// flushed its changes, starts with nothing of the old file's. On io_uring
// the old socket's end of stream is held for the number, and a removal
// made after the close would record the new socket as the file it was
// held for: the new owner would read the old end of stream.
func TestFreeAfterDelLeavesTheBackendBeforeTheClose(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		a, peer := socketpair(t) // the cleanup closes a's number: the new socket by then
		var old, next, later *Event
		var fresh int
		var got []byte
		buf := make([]byte, 16)
		old = mustNew(t, b, a, Read|Persist|Recv, func(fd int, _ Flag) {
			n, err := b.Recv(fd, buf)
			if err == unix.EAGAIN || n > 0 {
				return
			}
			if err != nil {
				t.Errorf("Recv on the old socket: %v", err)
			}
			old.Del()
			old.Free()
			if fresh = reuseNumber(t, a); fresh < 0 {
				return
			}
			mustWrite(t, fresh, "new")
			mustAdd(t, later, time.Millisecond) // registers the number after a flush
		})
		next = mustNew(t, b, a, Read|Persist|Recv, func(fd int, _ Flag) {
			n, err := b.Recv(fd, buf)
			switch {
			case err == unix.EAGAIN:
				return
			case err != nil:
				t.Errorf("Recv on the new socket: %v", err)
			case n == 0:
				t.Errorf("the new socket read the old one's end of stream")
			default:
				got = append(got, buf[:n]...)
				if len(got) < len("new") {
					return
				}
			}
			next.Free()
		})
		later = mustNew(t, b, -1, 0, func(int, Flag) { mustAdd(t, next, 0) })
		mustAdd(t, old, 0)
		unix.Shutdown(peer, unix.SHUT_WR)
		dispatchWithin(t, b, 10*time.Second)
		if string(got) != "new" {
			t.Fatalf("the new socket read %q, want %q", got, "new")
		}
	})
}

// An event deleted and another added for the same socket in one
// iteration: the backend sees one change, under a new generation, as the
// number might be a new file by then. It is not, so what the kernel
// received for the first event is the second's.
func TestANewEventForTheSameSocketKeepsWhatWasReceived(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		a, peer := socketpair(t)
		const want = "first, second"
		var got []byte
		var first, second *Event
		buf := make([]byte, 64)
		second = mustNew(t, b, a, Read|Persist|Recv, func(fd int, _ Flag) {
			n, err := b.Recv(fd, buf)
			switch {
			case err == unix.EAGAIN:
				return
			case err != nil || n == 0:
				t.Errorf("Recv: %d, %v", n, err)
			default:
				if got = append(got, buf[:n]...); len(got) < len(want) {
					return
				}
			}
			second.Del()
		})
		first = mustNew(t, b, a, Read|Persist|Recv, func(int, Flag) {
			first.Del() // leaves "first" unread, with the backend on io_uring
			mustAdd(t, second, 0)
			mustWrite(t, peer, ", second")
		})
		mustAdd(t, first, 0)
		mustWrite(t, peer, "first")
		dispatchWithin(t, b, 10*time.Second)
		if string(got) != want {
			t.Fatalf("the second event read %q, want %q", got, want)
		}
		first.Free()
		second.Free()
	})
}

// An event deleted, its socket closed and a new socket watched on the
// number in one iteration: the backend drops what it held for the old
// one and ends the receive it had in the kernel for it, which would keep
// the old socket open (its peer would never see the end of the stream).
func TestANewSocketOnAReusedNumberLetsTheOldOneClose(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		a, oldPeer := socketpair(t) // the cleanup closes a's number: the new socket by then
		var got []byte
		var first, second *Event
		buf := make([]byte, 64)
		second = mustNew(t, b, a, Read|Persist|Recv, func(fd int, _ Flag) {
			n, err := b.Recv(fd, buf)
			if err == unix.EAGAIN {
				return
			}
			if err != nil || n == 0 {
				t.Errorf("Recv on the new socket: %d, %v", n, err)
			}
			got = append(got, buf[:n]...)
			second.Del()
		})
		first = mustNew(t, b, a, Read|Persist|Recv, func(int, Flag) {
			first.Del() // "old" stays unread
			peer := reuseNumber(t, a)
			if peer < 0 {
				return
			}
			mustWrite(t, peer, "new")
			mustAdd(t, second, 0)
		})
		mustAdd(t, first, 0)
		mustWrite(t, oldPeer, "old")
		dispatchWithin(t, b, 10*time.Second)
		if string(got) != "new" {
			t.Fatalf("the new socket read %q, want %q", got, "new")
		}
		unix.SetNonblock(oldPeer, false)
		tv := unix.NsecToTimeval(int64(10 * time.Second))
		unix.SetsockoptTimeval(oldPeer, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		// Closed with "old" unread: the peer sees a reset, or the end.
		n, err := unix.Read(oldPeer, buf)
		for start := time.Now(); err == unix.EINTR && time.Since(start) < 10*time.Second; {
			n, err = unix.Read(oldPeer, buf)
		}
		if n != 0 && err != unix.ECONNRESET {
			t.Fatalf("the old socket's peer read %d, %v; want it closed", n, err)
		}
		first.Free()
		second.Free()
	})
}
