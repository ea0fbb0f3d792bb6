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

// BenchmarkUpdateCycle registers a descriptor, changes its interest and
// removes it again, with the Wait(0) that hands io_uring's queued changes
// to the kernel after each step (epoll and poll make theirs in Update).
func BenchmarkUpdateCycle(b *testing.B) {
	for _, name := range allMethods() {
		b.Run(name, func(b *testing.B) {
			skipUnavailable(b, name)
			p, err := Open(name)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			fd, _ := socketpair(b)
			events := make([]Event, 8)
			step := func(old, new Interest) {
				if err := p.Update(fd, 1, old, new); err != nil {
					b.Fatal(err)
				}
				if _, err := p.Wait(events, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				step(0, In)
				step(In, In|Out)
				step(In|Out, 0)
			}
		})
	}
}
