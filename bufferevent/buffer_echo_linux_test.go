package bufferevent

import (
	"math"
	"testing"
)

// benchHoldVariants runs f as the sub-benchmark name, then again as
// name/release-at-once with the storage hold described on Buffer turned
// off, to measure what the hold saves.
func benchHoldVariants(b *testing.B, name string, f func(b *testing.B)) {
	b.Run(name, f)
	b.Run(name+"/release-at-once", func(b *testing.B) {
		saved := keepStorageAfter
		keepStorageAfter = math.MaxInt
		defer func() { keepStorageAfter = saved }()
		f(b)
	})
}

// BenchmarkEchoCycle is an echo server's loop on one connection: the peer
// sends a message, ReadFd takes it into the input buffer, AddBuffer moves it
// to the output buffer, WriteFd sends it back and the peer reads it.
func BenchmarkEchoCycle(b *testing.B) {
	for _, size := range []int{64, 16 << 10} {
		benchHoldVariants(b, bufSizeName(size), func(b *testing.B) {
			a, peer := bufSocketpair(b)
			var in, out Buffer
			msg, back := bufPattern(size), make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bufEchoCycle(b, a, peer, &in, &out, msg, back)
			}
		})
	}
}

// BenchmarkEchoCycleBuffers is BenchmarkEchoCycle with readv and writev
// replaced by copies, so that it measures only the buffers' share of the
// loop, storage policy included.
func BenchmarkEchoCycleBuffers(b *testing.B) {
	benchHoldVariants(b, "64B", func(b *testing.B) {
		msg := bufPattern(64)
		savedR, savedW := bufReadv, bufWritev
		defer func() { bufReadv, bufWritev = savedR, savedW }()
		bufReadv = func(_ int, p0, _ []byte, _ bool) (int, error) { return copy(p0, msg), nil }
		bufWritev = func(_ int, p0, p1 []byte, _ bool) (int, error) { return len(p0) + len(p1), nil }
		var in, out Buffer
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			in.ReadFd(0, 0)
			out.AddBuffer(&in)
			out.WriteFd(0, 0)
		}
	})
}
