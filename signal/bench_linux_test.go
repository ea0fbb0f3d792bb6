package signal

import (
	"syscall"
	"testing"
)

// BenchmarkDelivery is one signal's whole trip: kill, the runtime and
// os/signal, the deliver goroutine, the eventfd, poll, Read. Every
// allocation in the process counts, so 0 allocs/op shows the path
// allocates nothing once the signal is watched.
func BenchmarkDelivery(b *testing.B) {
	s := newTestSource(b)
	mustWatch(b, s, syscall.SIGUSR1)
	dst := make([]Delivery, 0, maxSignal)
	trip := func() {
		kill(b, syscall.SIGUSR1)
		for {
			if !readable(b, s.Fd(), patience) {
				b.Fatalf("Fd not readable %v after SIGUSR1", patience)
			}
			if dst = s.Read(dst[:0]); len(dst) > 0 {
				return
			}
		}
	}
	for i := 0; i < 100; i++ { // warm up: os/signal's goroutine, stacks
		trip()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		trip()
	}
}
