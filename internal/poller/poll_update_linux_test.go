package poller

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// poll refuses what it cannot do: edge triggering, and a descriptor
// number that is not open (which would otherwise grow its index to that
// number: 4 GiB for 1<<30).
func TestPollRefusesETAndDescriptorsThatAreNotOpen(t *testing.T) {
	p := openBackend(t, "poll")
	fd, _ := socketpair(t)
	if err := p.Update(fd, 1, 0, In|ET); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Update(In|ET) = %v, want EINVAL", err)
	}
	if err := p.Update(1<<30, 1, 0, In); !errors.Is(err, unix.EBADF) {
		t.Errorf("Update(1<<30, In) = %v, want EBADF", err)
	}
	if n := len(p.(*poll).idx); n > 1<<16 {
		t.Errorf("index grew to %d entries for a refused descriptor", n)
	}
	update(t, p, fd, 1, 0, In)
	update(t, p, fd, 1, In, 0)
}
