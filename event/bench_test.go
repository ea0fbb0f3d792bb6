//go:build linux

package event

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The benchmarks follow the event-loop micro-benchmark definitions that
// levent's figures are compared with libevent's by (pipechain, activate,
// loop_once, timer_churn). Each reports the spec's metric with
// b.ReportMetric; ns/op is per iteration of the spec's outer loop.

// raiseNofile lifts the soft descriptor limit to the hard one.
func raiseNofile(tb testing.TB) uint64 {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		tb.Fatal(err)
	}
	rl.Cur = rl.Max
	unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	return rl.Cur
}

func BenchmarkPipechain(b *testing.B) {
	for _, p := range []struct{ pipes, active, writes int }{
		{100, 1, 100}, {1000, 100, 10000}, {10000, 100, 10000}, {10000, 1000, 100000},
	} {
		b.Run(fmt.Sprintf("pipes=%d/active=%d/writes=%d", p.pipes, p.active, p.writes), func(b *testing.B) {
			if lim := raiseNofile(b); lim < uint64(p.pipes+64) {
				b.Skipf("descriptor limit %d too low", lim)
			}
			pipechain(b, p.pipes, p.active, p.writes)
		})
	}
}

// pipechain is the classic libevent bench in duplex layout: P pipes over
// ceil(P/2) socketpairs, each with a persistent read event whose callback
// reads a byte and passes one on to the next pipe while writes remain.
func pipechain(b *testing.B, P, A, W int) {
	base := newBase(b, Config{})
	H := (P + 1) / 2
	rd := make([]int, P)
	wr := make([]int, P)
	for k := 0; k < H; k++ {
		x, y := socketpair(b)
		rd[k], wr[k] = x, y
		if k+H < P {
			rd[k+H], wr[k+H] = y, x
		}
	}
	var count, fired, writes, failures int
	evs := make([]*Event, P)
	one := []byte{'e'}
	for i := 0; i < P; i++ {
		next := wr[(i+1)%P]
		evs[i] = mustNew(b, base, rd[i], Read|Persist, func(fd int, _ Flag) {
			var buf [1]byte
			n, err := unix.Read(fd, buf[:])
			if err != nil || n < 0 {
				failures++
			} else {
				count += n
			}
			if writes > 0 {
				if n, err := unix.Write(next, one); err != nil || n != 1 {
					failures++
				}
				writes--
				fired++
			}
		})
	}
	var timed time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for iter := 0; iter < b.N; iter++ {
		for _, ev := range evs {
			ev.Del()
			ev.Add(0)
		}
		base.Loop(LoopOnce | LoopNonblock)
		fired = 0
		space := P / A
		for j := 0; j < A; j++ {
			unix.Write(wr[j*space], one)
			fired++
		}
		count, writes = 0, W
		t0 := time.Now()
		for count != fired {
			if err := base.Loop(LoopOnce); err != nil {
				b.Fatal(err)
			}
		}
		timed += time.Since(t0)
		if fired != A+W || failures != 0 {
			b.Fatalf("fired %d (want %d), %d failures", fired, A+W, failures)
		}
	}
	b.ReportMetric(float64(timed.Nanoseconds())/float64(b.N*(A+W)), "ns/event")
	b.ReportMetric(float64(timed.Microseconds())/float64(b.N), "us/iter")
}

// BenchmarkActivate: one event re-activating itself from its callback; the
// loop drains it in a single pass. ns/op is per callback.
func BenchmarkActivate(b *testing.B) {
	base := newBase(b, Config{})
	n := 0
	var ev *Event
	ev = mustNew(b, base, -1, 0, func(int, Flag) {
		n++
		if n < b.N {
			ev.Active(Read)
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	ev.Active(Read)
	if err := base.Dispatch(); err != nil {
		b.Fatal(err)
	}
	if n != b.N {
		b.Fatalf("n = %d, want %d", n, b.N)
	}
}

// BenchmarkLoopOnce: activate, then one non-blocking iteration (one
// zero-timeout wait and one callback). ns/op is per iteration.
func BenchmarkLoopOnce(b *testing.B) {
	base := newBase(b, Config{})
	n := 0
	ev := mustNew(b, base, -1, 0, func(int, Flag) { n++ })
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev.Active(Read)
		base.Loop(LoopOnce | LoopNonblock)
	}
	if n != b.N {
		b.Fatalf("n = %d, want %d", n, b.N)
	}
}

// splitmix64 is the benchmark spec's generator.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9E3779B97F4A7C15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// idle draws an idle timeout uniform in [1s, 60s), in whole microseconds.
func (s *splitmix64) idle() time.Duration {
	return time.Duration(1000000+s.next()%59000000) * time.Microsecond
}

const seed = 0x5EEDC0FFEE123457

// BenchmarkTimerChurn is the connection idle-timeout pattern on timer
// events: first add, ten re-adds while pending, delete; ns/op is per cycle
// of N timers, and ns/add, ns/del are the spec's metrics. The loop never
// runs and no timer fires.
func BenchmarkTimerChurn(b *testing.B) {
	for _, n := range []int{1000, 100000, 1000000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			base := newBase(b, Config{})
			evs := make([]*Event, n)
			for i := range evs {
				evs[i] = mustNew(b, base, -1, 0, func(int, Flag) {})
			}
			rng := splitmix64(seed)
			var tAdd, tDel time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for c := 0; c < b.N; c++ {
				t0 := time.Now()
				for r := 0; r < 11; r++ {
					for _, ev := range evs {
						ev.Add(rng.idle())
					}
				}
				t1 := time.Now()
				for _, ev := range evs {
					ev.Del()
				}
				tDel += time.Since(t1)
				tAdd += t1.Sub(t0)
			}
			b.ReportMetric(float64(tAdd.Nanoseconds())/float64(b.N*n*11), "ns/add")
			b.ReportMetric(float64(tDel.Nanoseconds())/float64(b.N*n), "ns/del")
		})
	}
}

// BenchmarkRuntimeTimerChurn is the same pattern on Go's runtime timers
// (time.AfterFunc, Reset, Stop), for comparison in the same run.
func BenchmarkRuntimeTimerChurn(b *testing.B) {
	for _, n := range []int{1000, 100000, 1000000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			ts := make([]*time.Timer, n)
			rng := splitmix64(seed)
			var tAdd, tDel time.Duration
			f := func() {}
			b.ReportAllocs()
			b.ResetTimer()
			for c := 0; c < b.N; c++ {
				t0 := time.Now()
				for i := range ts {
					ts[i] = time.AfterFunc(rng.idle(), f)
				}
				for r := 0; r < 10; r++ {
					for _, t := range ts {
						t.Reset(rng.idle())
					}
				}
				t1 := time.Now()
				for _, t := range ts {
					t.Stop()
				}
				tDel += time.Since(t1)
				tAdd += t1.Sub(t0)
			}
			b.ReportMetric(float64(tAdd.Nanoseconds())/float64(b.N*n*11), "ns/add")
			b.ReportMetric(float64(tDel.Nanoseconds())/float64(b.N*n), "ns/del")
		})
	}
}

// BenchmarkCommonTimeoutInCallback is a server's idle timeout as it is
// really pushed back: from a callback, where the loop's cached clock
// spares each Add a clock reading. One activated event re-adds N timers
// with the common timeout per iteration; ns/add is per Add.
func BenchmarkCommonTimeoutInCallback(b *testing.B) {
	const n = 100000
	base := newBase(b, Config{})
	idle, err := base.InitCommonTimeout(10 * time.Second)
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]*Event, n)
	for i := range evs {
		evs[i] = mustNew(b, base, -1, 0, func(int, Flag) {})
	}
	var tAdd time.Duration
	push := mustNew(b, base, -1, 0, func(int, Flag) {
		t0 := time.Now()
		for _, ev := range evs {
			ev.Add(idle)
		}
		tAdd += time.Since(t0)
	})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		push.Active(Read)
		if err := base.Loop(LoopOnce | LoopNonblock); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tAdd.Nanoseconds())/float64(b.N*n), "ns/add")
}
