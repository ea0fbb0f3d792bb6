package poller

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Registering a descriptor, changing its interest and removing it again
// allocate nothing: a server that accepts and closes connections all day
// makes two such calls per connection.
func TestEpollUpdateDoesNotAllocate(t *testing.T) {
	p, err := Open("epoll")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	fd := fds[0]
	allocs := testing.AllocsPerRun(100, func() {
		if err := p.Update(fd, 1, 0, In); err != nil {
			t.Fatal(err)
		}
		if err := p.Update(fd, 1, In, In|Out); err != nil {
			t.Fatal(err)
		}
		if err := p.Update(fd, 1, In|Out, 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("add, modify and remove: %v allocations, want 0", allocs)
	}
}
