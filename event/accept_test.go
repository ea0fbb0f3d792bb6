//go:build linux

package event

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// listenUnix returns a listening AF_UNIX stream socket in the abstract
// namespace, closed when the test ends, and its address.
func listenUnix(t *testing.T) (int, unix.Sockaddr) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrUnix{}); err != nil { // autobind: a unique abstract name
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 64); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa
}

// connectUnix connects a client to sa, closed when the test ends.
func connectUnix(t *testing.T, sa unix.Sockaddr) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Connect(fd, sa); err != nil {
		t.Fatalf("connect: %v", err)
	}
	return fd
}

// A Read|Accept event's callback takes the connections with Base.Accept on
// every backend, non-blocking and close-on-exec, until EAGAIN; only
// io_uring says it accepts in the kernel.
func TestAcceptEventOnEveryBackend(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		if want := b.Method() == "io_uring"; b.Accepts() != want {
			t.Fatalf("Accepts() = %v on %s", b.Accepts(), b.Method())
		}
		lfd, sa := listenUnix(t)
		const clients = 3
		var got []int
		t.Cleanup(func() {
			for _, fd := range got {
				unix.Close(fd)
			}
		})
		var ev *Event
		ev = mustNew(t, b, lfd, Read|Persist|Accept, func(fd int, what Flag) {
			for {
				nfd, err := b.Accept(fd)
				if err == unix.EAGAIN {
					return
				}
				if err != nil {
					t.Errorf("Accept: %v", err)
					ev.Del()
					return
				}
				got = append(got, nfd)
				if len(got) == clients {
					ev.Del()
				}
			}
		})
		mustAdd(t, ev, 0)
		for range clients {
			connectUnix(t, sa)
		}
		dispatchWithin(t, b, 10*time.Second)
		if len(got) != clients {
			t.Fatalf("accepted %d connections, want %d", len(got), clients)
		}
		for _, fd := range got {
			fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			fdfl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if fl&unix.O_NONBLOCK == 0 || fdfl&unix.FD_CLOEXEC == 0 {
				t.Errorf("accepted fd %d: nonblock %v, cloexec %v; want both", fd, fl&unix.O_NONBLOCK != 0, fdfl&unix.FD_CLOEXEC != 0)
			}
		}
		ev.Free()
	})
}

// Accept needs Read and not Recv, and the Read events on one descriptor
// agree on it.
func TestAcceptFlagMisuse(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		b := newBase(t, cfg)
		lfd, _ := listenUnix(t)
		nop := func(int, Flag) {}
		for _, what := range []Flag{Write | Accept, Read | Recv | Accept, Accept} {
			if _, err := New(b, lfd, what, nop); !errors.Is(err, ErrBadFlags) {
				t.Errorf("New(%v): %v, want ErrBadFlags", what, err)
			}
		}
		a := mustNew(t, b, lfd, Read|Persist|Accept, nop)
		mustAdd(t, a, 0)
		plain := mustNew(t, b, lfd, Read|Persist, nop)
		if err := plain.Add(0); !errors.Is(err, ErrMixedAccept) {
			t.Errorf("plain Read beside Read|Accept: %v, want ErrMixedAccept", err)
		}
		a.Del()
		mustAdd(t, plain, 0) // no Accept reader left: a plain one may come
		if _, err := b.Accept(-1); !errors.Is(err, ErrBadFd) {
			t.Errorf("Accept(-1): %v, want ErrBadFd", err)
		}
		a.Free()
		plain.Free()
	})
}

// Connections the kernel accepted for a Read|Accept event survive its Del
// (they are handed out when it is added again) and are closed when it is
// freed: nobody could take them any more.
func TestAcceptedConnectionsKeptOverDelClosedOnFree(t *testing.T) {
	skipWithoutIOURing(t)
	b := newBase(t, Config{Method: "io_uring", IgnoreEnv: true})
	lfd, sa := listenUnix(t)
	fired := 0
	ev := mustNew(t, b, lfd, Read|Persist|Accept, func(int, Flag) { fired++ })
	mustAdd(t, ev, 0)
	before := openFds(t)
	connectUnix(t, sa)
	connectUnix(t, sa)
	for deadline := time.Now().Add(10 * time.Second); fired == 0 && time.Now().Before(deadline); {
		if err := b.Loop(LoopOnce); err != nil {
			t.Fatal(err)
		}
	}
	if fired == 0 {
		t.Fatal("the Read|Accept event did not fire")
	}
	if nfd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC); err != unix.EAGAIN {
		unix.Close(nfd)
		t.Fatalf("accept4 on the listening socket: %v, want EAGAIN (the kernel took both connections)", err)
	}
	ev.Del()
	mustAdd(t, ev, 0)
	if err := b.Loop(LoopNonblock); err != nil {
		t.Fatal(err)
	}
	nfd, err := b.Accept(lfd)
	if err != nil {
		t.Fatalf("Accept after Del and Add: %v, want a connection kept for the event", err)
	}
	unix.Close(nfd)
	ev.Free()
	if got := openFds(t) - 2; got != before {
		t.Errorf("open descriptors besides the 2 clients after Free: %d, want %d as before", got, before)
	}
}
