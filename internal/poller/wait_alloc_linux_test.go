package poller

import (
	"testing"
	"time"
)

// readyBackend opens the named backend with one readable descriptor
// registered, so every Wait returns at once with one report.
func readyBackend(tb testing.TB, name string) (Poller, []Event) {
	tb.Helper()
	skipUnavailable(tb, name)
	p, err := Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	a, b := socketpair(tb)
	write(tb, b, "x")
	if err := p.Update(a, 1, 0, In); err != nil {
		tb.Fatal(err)
	}
	return p, make([]Event, 128)
}

// Filling the caller's events slice allocates nothing in steady state,
// whatever the timeout: the base calls Wait once per loop iteration.
func TestWaitDoesNotAllocate(t *testing.T) {
	for _, name := range allMethods() {
		for _, timeout := range []time.Duration{0, time.Millisecond, -1} {
			p, events := readyBackend(t, name)
			allocs := testing.AllocsPerRun(100, func() {
				if n, err := p.Wait(events, timeout); n != 1 || err != nil {
					t.Fatalf("%s: Wait(%v) = %d, %v, want 1, nil", name, timeout, n, err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s: Wait(%v): %v allocations per call, want 0", name, timeout, allocs)
			}
		}
	}
}

// A caller that grows its events slice past the backend's own buffer pays
// once, then nothing.
func TestEpollWaitAfterGrowthDoesNotAllocate(t *testing.T) {
	p, _ := readyBackend(t, "epoll")
	events := make([]Event, 1024)
	p.Wait(events, 0) // grows the kernel-side buffer once
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := p.Wait(events, 0); n != 1 || err != nil {
			t.Fatalf("Wait = %d, %v, want 1, nil", n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("Wait with 1024 events: %v allocations per call, want 0", allocs)
	}
}

func BenchmarkWaitOneReady(b *testing.B) {
	for _, name := range allMethods() {
		b.Run(name, func(b *testing.B) {
			p, events := readyBackend(b, name)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if n, err := p.Wait(events, 0); n != 1 || err != nil {
					b.Fatalf("Wait = %d, %v, want 1, nil", n, err)
				}
			}
		})
	}
}
