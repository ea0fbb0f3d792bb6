package timer

// seed is the PRNG seed of levent's event-loop benchmarks.
const seed = 0x5EEDC0FFEE123457

// splitmix64 is the benchmarks' PRNG, so that the tests and benchmarks draw
// the same idle timeouts as the other implementations they are compared with.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9E3779B97F4A7C15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// idleTimeout draws a connection idle timeout uniform in [1s, 60s), in
// whole microseconds, and returns it in nanoseconds.
func (s *splitmix64) idleTimeout() int64 {
	return int64(1000000+s.next()%59000000) * 1000
}
