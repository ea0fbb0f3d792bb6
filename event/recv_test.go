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
