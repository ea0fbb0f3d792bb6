package main

import "time"

// seed is the PRNG seed every implementation starts from, so all of them
// draw bit-identical timeout sequences.
const seed = 0x5EEDC0FFEE123457

// splitmix64 is the benchmark PRNG (Steele, Lea and Flood's SplitMix64).
type splitmix64 struct{ state uint64 }

func newPRNG() *splitmix64 { return &splitmix64{state: seed} }

func (s *splitmix64) next() uint64 {
	s.state += 0x9E3779B97F4A7C15
	z := s.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// idleTimeout draws a connection idle timeout: a whole number of
// microseconds, uniform in [1 s, 60 s).
func (s *splitmix64) idleTimeout() time.Duration {
	us := 1000000 + s.next()%59000000
	return time.Duration(us) * time.Microsecond
}
