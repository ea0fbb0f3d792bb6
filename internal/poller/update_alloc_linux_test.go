package poller

import "testing"

// Registering a descriptor, changing its interest and removing it again
// allocate nothing: a server that accepts and closes connections all day
// makes two such calls per connection.
func TestEpollUpdateDoesNotAllocate(t *testing.T) {
	p := openBackend(t, "epoll")
	fd, _ := socketpair(t)
	allocs := testing.AllocsPerRun(100, func() {
		update(t, p, fd, 1, 0, In)
		update(t, p, fd, 1, In, In|Out)
		update(t, p, fd, 1, In|Out, 0)
	})
	if allocs != 0 {
		t.Errorf("add, modify and remove: %v allocations, want 0", allocs)
	}
}
