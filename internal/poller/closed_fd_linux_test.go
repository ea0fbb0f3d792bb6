package poller

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Removing a descriptor that was closed while registered is not an error:
// epoll_ctl answers EBADF, and the kernel already forgot it.
func TestRemoveAfterCloseIsNotAnError(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		a, b := rawSocketpair(t)
		closeAtEnd(t, b)
		write(t, b, "x")
		update(t, p, a, 3, 0, In|Out)
		unix.Close(a)
		if err := p.Update(a, 3, In|Out, 0); err != nil {
			t.Errorf("Update(closed fd %d, In|Out -> 0) = %v, want nil", a, err)
		}
		mustNotReport(t, p, a, "closed and removed")
	})
}

// The number of a registered descriptor can be reused by a new file before
// the base hears of the close. dup3 makes that happen atomically here.
func TestNumberReusedWhileRegistered(t *testing.T) {
	tests := []struct {
		name string
		old  Interest
		new  Interest
	}{
		{"modify", In, In | Out},
		{"remove", In, 0},
	}
	forEachBackend(t, func(t *testing.T, p Poller) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a, _ := socketpair(t)
				c, d := socketpair(t)
				update(t, p, a, 1, 0, tt.old)
				// a now names c's socket; the old socket behind a is
				// released, and epoll drops its registration.
				if err := unix.Dup3(c, a, unix.O_CLOEXEC); err != nil {
					t.Fatal(err)
				}
				write(t, d, "x")
				if err := p.Update(a, 2, tt.old, tt.new); err != nil {
					t.Fatalf("Update(reused fd %d, %04b -> %04b) = %v, want nil", a, tt.old, tt.new, err)
				}
				if tt.new == 0 {
					mustNotReport(t, p, a, "removed")
					return
				}
				defer update(t, p, a, 2, tt.new, 0)
				got := waitFor(t, p, a)
				want := Event{Fd: int32(a), Gen: 2, Ready: ReadyIn | ReadyOut}
				if got != want {
					t.Errorf("report for the new file = %+v, want %+v", got, want)
				}
			})
		}
	})
}

// What a backend reports for a descriptor closed while still registered:
// epoll forgets it with the file; poll(2) answers POLLNVAL, an error.
// io_uring queues the registration for the next Wait, which finds the
// number closed (EBADF) and reports an error as poll does; one closed after
// its registration reached the kernel is TestURingHoldsClosedFileUntilRemoved.
func TestClosedWhileRegistered(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		a, b := rawSocketpair(t)
		closeAtEnd(t, b)
		update(t, p, a, 6, 0, In)
		unix.Close(a)
		defer p.Update(a, 6, In, 0)
		e, ok := poll0(t, p)[int32(a)]
		switch p.Name() {
		case "epoll":
			if ok {
				t.Errorf("reported %+v for a closed descriptor, want nothing", e)
			}
		case "poll", "io_uring":
			if !ok || e.Ready&ReadyErr == 0 || e.Gen != 6 {
				t.Errorf("report = %+v (present %v), want Gen 6 with ReadyErr", e, ok)
			}
		default:
			t.Skipf("no expectation for %s", p.Name())
		}
	})
}

func TestEpollAddClosedDescriptorFails(t *testing.T) {
	p := openBackend(t, "epoll")
	a, b := rawSocketpair(t)
	unix.Close(a)
	unix.Close(b)
	err := p.Update(a, 1, 0, In)
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "epoll_ctl" || !errors.Is(err, unix.EBADF) {
		t.Errorf("Update(closed fd, 0 -> In) = %v, want an epoll_ctl *os.SyscallError matching EBADF", err)
	}
}

func TestNegativeDescriptorFails(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		err := p.Update(-1, 1, 0, In)
		if !errors.Is(err, unix.EBADF) {
			t.Errorf("Update(-1, 0 -> In) = %v, want an error matching EBADF", err)
		}
	})
}

// Only ENOENT and EBADF mean "already gone" on removal; other failures of
// epoll_ctl reach the caller, named and matchable.
func TestEpollCtlFailuresAreWrapped(t *testing.T) {
	steps := []struct {
		name     string
		old, new Interest
	}{
		{"add", 0, In},
		{"modify", In, Out},
		{"remove", In, 0},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			p := openBackend(t, "epoll")
			saved := epollCtl
			t.Cleanup(func() { epollCtl = saved })
			epollCtl = func(epfd, op, fd int, ev *unix.EpollEvent) error { return unix.ENOMEM }
			err := p.Update(5, 1, s.old, s.new)
			var se *os.SyscallError
			if !errors.As(err, &se) || se.Syscall != "epoll_ctl" || !errors.Is(err, unix.ENOMEM) {
				t.Errorf("Update(%04b -> %04b) with epoll_ctl failing ENOMEM = %v, want an epoll_ctl *os.SyscallError matching ENOMEM", s.old, s.new, err)
			}
		})
	}
}
