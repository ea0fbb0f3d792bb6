//go:build linux

package event

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A Write|Send event's callback takes each send's result with Base.Sent
// where the backend sends (io_uring) and sends the rest; elsewhere Send
// writes at once. Either way the peer gets every byte, in order, and only
// io_uring says it sends in the kernel.
func TestSendEventOnEveryBackend(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		if want := b.Method() == "io_uring"; b.Sends() != want {
			t.Fatalf("Sends() = %v on %s", b.Sends(), b.Method())
		}
		a, peer := socketpair(t)
		msg := make([]byte, 1<<20)
		for i := range msg {
			msg[i] = byte(i % 251)
		}
		off, inKernel, queued := 0, false, 0
		var ev *Event
		send := func() {
			for off < len(msg) && !inKernel {
				n, err := b.Send(a, msg[off:off+len(msg[off:])/2], msg[off+len(msg[off:])/2:])
				switch {
				case err == unix.EAGAIN:
					return // writable later: the event fires
				case err != nil:
					t.Errorf("Send: %v", err)
					ev.Del()
					return
				case n == 0:
					inKernel = true
					queued++
				}
				off += n
			}
			if off == len(msg) {
				ev.Del()
			}
		}
		ev = mustNew(t, b, a, Write|Persist|Send, func(fd int, what Flag) {
			if n, err, ok := b.Sent(fd); ok {
				if err != nil {
					t.Errorf("Sent: %v", err)
				}
				inKernel = false
				off += n
			}
			send()
		})
		// A reader first, so that the Write|Send event's registration is
		// a change the base batches: Send must make it reach the backend.
		r := mustNew(t, b, a, Read|Persist, func(int, Flag) {})
		mustAdd(t, r, 0)
		defer r.Free()
		mustAdd(t, ev, 0)
		got := make(chan []byte)
		go func() {
			var all []byte
			buf := make([]byte, 4096)
			for len(all) < len(msg) {
				time.Sleep(time.Microsecond) // a slow reader: sends come back short
				n, err := unix.Read(peer, buf)
				if err == unix.EAGAIN {
					continue
				}
				if err != nil || n == 0 {
					break
				}
				all = append(all, buf[:n]...)
			}
			got <- all
		}()
		send()
		r.Del()
		dispatchWithin(t, b, 20*time.Second)
		if b.Sends() != (queued > 0) {
			t.Errorf("%d sends queued on %s", queued, b.Method())
		}
		if all := <-got; string(all) != string(msg) {
			t.Fatalf("peer got %d bytes, want %d, same bytes: %v", len(all), len(msg), string(all) == string(msg[:len(all)]))
		}
	})
}

// Send needs Write, and the Write events on one descriptor agree on it.
func TestSendFlagMisuse(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		a, _ := socketpair(t)
		nop := func(int, Flag) {}
		if _, err := New(b, a, Read|Send, nop); !errors.Is(err, ErrBadFlags) {
			t.Errorf("Read|Send: %v, want ErrBadFlags", err)
		}
		w := mustNew(t, b, a, Write|Persist|Send, nop)
		mustAdd(t, w, 0)
		plain := mustNew(t, b, a, Write|Persist, nop)
		if err := plain.Add(0); !errors.Is(err, ErrMixedSend) {
			t.Errorf("plain Write beside Write|Send: %v, want ErrMixedSend", err)
		}
		r := mustNew(t, b, a, Read|Persist, nop) // readers do not take part
		mustAdd(t, r, 0)
		w.Del()
		mustAdd(t, plain, 0)
		if _, err := b.Send(-1, nil, nil); !errors.Is(err, ErrBadFd) {
			t.Errorf("Send(-1): %v, want ErrBadFd", err)
		}
		if _, _, ok := b.Sent(a); ok {
			t.Errorf("Sent with no send made: ok")
		}
		w.Free()
		plain.Free()
		r.Free()
	})
}
