package timer

import (
	"fmt"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/btree"
)

// The benchmarks compare Queue with Go's runtime timers (time.AfterFunc,
// Reset, Stop) at n pending timers, for the operations a server's idle
// timeouts make. Queue deadlines are idle timeouts in [1s, 60s) drawn as in
// levent's timer_churn benchmark; runtime timers get the same durations plus
// a day, so that none fires while it is measured.
//
// Queue defers work to Min, as the runtime defers it to its timer check. In
// sub-benchmarks named impl=queue+min, Min runs after every 100 operations
// (an event loop calls it once per iteration), so their figures include the
// deferred work; impl=queue is the call alone.

var benchSizes = []int{1e3, 1e5, 1e6}

const (
	longWait  = 24 * time.Hour // runtime timers: far enough never to fire
	minPeriod = 100            // impl=queue+min: operations per Min call
)

func noop() {}

// benchQueue returns a queue holding n entries scheduled at idle timeouts,
// and the PRNG that drew them.
func benchQueue(n int) (*Queue[int], []Entry[int], *splitmix64) {
	q := new(Queue[int])
	es := newEntries(n)
	rng := splitmix64(seed)
	for i := range es {
		q.Schedule(&es[i], rng.idleTimeout())
	}
	q.Min()
	return q, es, &rng
}

// benchRuntimeTimers starts n runtime timers at idle timeouts plus a day,
// and stops them when b ends.
func benchRuntimeTimers(b *testing.B, n int) ([]*time.Timer, *splitmix64) {
	rng := splitmix64(seed)
	ts := make([]*time.Timer, n)
	for i := range ts {
		ts[i] = time.AfterFunc(longWait+time.Duration(rng.idleTimeout()), noop)
	}
	b.Cleanup(func() {
		for _, t := range ts {
			t.Stop()
		}
	})
	return ts, &rng
}

// runSizes runs one sub-benchmark per impl and size.
func runSizes(b *testing.B, impls map[string]func(b *testing.B, n int)) {
	for _, n := range benchSizes {
		for _, impl := range []string{"queue", "queue+min", "runtime"} {
			if f := impls[impl]; f != nil {
				b.Run(fmt.Sprintf("impl=%s/n=%d", impl, n), func(b *testing.B) { f(b, n) })
			}
		}
	}
}

// batchSize is how many new timers ScheduleFirst adds before taking them
// out again: small enough to keep the queue near n.
func batchSize(n int) int { return min(1024, n/8) }

func BenchmarkScheduleFirst(b *testing.B) {
	runSizes(b, map[string]func(*testing.B, int){
		"queue": func(b *testing.B, n int) {
			q, _, rng := benchQueue(n)
			batch := newEntries(batchSize(n))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i % len(batch)
				if j == 0 && i > 0 {
					b.StopTimer()
					for k := range batch {
						q.Purge(&batch[k]) // out of the tree: the next Schedule inserts
					}
					b.StartTimer()
				}
				q.Schedule(&batch[j], rng.idleTimeout())
			}
		},
		"runtime": func(b *testing.B, n int) {
			_, rng := benchRuntimeTimers(b, n)
			batch := make([]*time.Timer, batchSize(n))
			defer func() {
				for _, t := range batch {
					if t != nil {
						t.Stop()
					}
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i % len(batch)
				if j == 0 && i > 0 {
					b.StopTimer()
					for _, t := range batch {
						t.Stop()
					}
					b.StartTimer()
				}
				batch[j] = time.AfterFunc(longWait+time.Duration(rng.idleTimeout()), noop)
			}
		},
	})
}

// benchReschedule moves scheduled entries, in index order, to the deadline
// next(i) returns; every minPeriod calls it runs Min if withMin.
func benchReschedule(b *testing.B, n int, withMin bool, next func(rng *splitmix64, i int) int64) {
	q, es, rng := benchQueue(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q.Schedule(&es[i%n], next(rng, i))
		if withMin && i%minPeriod == minPeriod-1 {
			q.Min()
		}
	}
}

func benchRuntimeReset(b *testing.B, n int, next func(rng *splitmix64) time.Duration) {
	ts, rng := benchRuntimeTimers(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ts[i%n].Reset(next(rng))
	}
}

func randomDeadline(rng *splitmix64, _ int) int64 { return rng.idleTimeout() }

// laterDeadline is an idle timeout pushed later on every read: a minute
// from a clock that ticks once per call.
func laterDeadline(_ *splitmix64, i int) int64 { return int64(time.Minute) + int64(i) }

func BenchmarkRescheduleRandom(b *testing.B) {
	runSizes(b, map[string]func(*testing.B, int){
		"queue":     func(b *testing.B, n int) { benchReschedule(b, n, false, randomDeadline) },
		"queue+min": func(b *testing.B, n int) { benchReschedule(b, n, true, randomDeadline) },
		"runtime": func(b *testing.B, n int) {
			benchRuntimeReset(b, n, func(rng *splitmix64) time.Duration {
				return longWait + time.Duration(rng.idleTimeout())
			})
		},
	})
}

func BenchmarkRescheduleLater(b *testing.B) {
	runSizes(b, map[string]func(*testing.B, int){
		"queue":     func(b *testing.B, n int) { benchReschedule(b, n, false, laterDeadline) },
		"queue+min": func(b *testing.B, n int) { benchReschedule(b, n, true, laterDeadline) },
		"runtime": func(b *testing.B, n int) {
			// The runtime's clock moves on between calls, so the same
			// duration is a later deadline each time.
			benchRuntimeReset(b, n, func(*splitmix64) time.Duration { return longWait })
		},
	})
}

// benchRemove removes the n entries in index order, scheduling them all
// again (untimed) once they are gone.
func benchRemove(b *testing.B, n int, withMin bool) {
	q, es, rng := benchQueue(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % n
		if j == 0 && i > 0 {
			b.StopTimer()
			for k := range es {
				q.Schedule(&es[k], rng.idleTimeout())
			}
			q.Min()
			b.StartTimer()
		}
		q.Remove(&es[j])
		if withMin && i%minPeriod == minPeriod-1 {
			q.Min()
		}
	}
}

func BenchmarkRemove(b *testing.B) {
	runSizes(b, map[string]func(*testing.B, int){
		"queue":     func(b *testing.B, n int) { benchRemove(b, n, false) },
		"queue+min": func(b *testing.B, n int) { benchRemove(b, n, true) },
		"runtime": func(b *testing.B, n int) {
			ts, rng := benchRuntimeTimers(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i % n
				if j == 0 && i > 0 {
					b.StopTimer()
					for _, t := range ts {
						t.Reset(longWait + time.Duration(rng.idleTimeout()))
					}
					b.StartTimer()
				}
				ts[j].Stop()
			}
		},
	})
}

// BenchmarkPopExpired takes due entries off the front until the queue is
// empty, then schedules all n again (untimed). Runtime timers have no
// counterpart: they fire on their own.
func BenchmarkPopExpired(b *testing.B) {
	runSizes(b, map[string]func(*testing.B, int){
		"queue": func(b *testing.B, n int) {
			q, es, rng := benchQueue(n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if q.Len() == 0 {
					b.StopTimer()
					for k := range es {
						q.Schedule(&es[k], rng.idleTimeout())
					}
					b.StartTimer()
				}
				q.PopExpired(math.MaxInt64)
			}
		},
	})
}

// churnTimes sums the timed phases of timer_churn cycles.
type churnTimes struct {
	first, readd, del time.Duration
	reps              int
}

func (c *churnTimes) report(b *testing.B, n, r int) {
	ops := float64(c.reps * n)
	b.ReportMetric(float64(c.first+c.readd)/(ops*float64(r+1)), "ns_per_add")
	b.ReportMetric(float64(c.del)/ops, "ns_per_del")
	b.ReportMetric(float64(c.first)/ops, "ns_per_first_add")
	b.ReportMetric(float64(c.readd)/(ops*float64(r)), "ns_per_readd")
}

// churnReadds is timer_churn's R: re-adds per first add.
const churnReadds = 10

// BenchmarkTimerChurn is levent's timer_churn benchmark: N timers, then
// max(1, 1e6/N) cycles of a first add, R=10 re-adds (each still pending, so
// it moves) and a delete, each phase timed as a whole. Nothing runs Min, as
// the loop never runs. Creating the timers is not timed; runtime timers
// have no separate creation, so their first add allocates.
func BenchmarkTimerChurn(b *testing.B) {
	impls := map[string]func(n int, c *churnTimes) (fired int64){
		"queue": func(n int, c *churnTimes) int64 {
			var q Queue[int]
			es := newEntries(n)
			rng := splitmix64(seed)
			now := int64(time.Hour) // the loop's cached clock: deadlines are now plus a timeout
			for range c.reps {
				t0 := time.Now()
				for i := range es {
					q.Schedule(&es[i], now+rng.idleTimeout())
				}
				t1 := time.Now()
				for range churnReadds {
					for i := range es {
						q.Schedule(&es[i], now+rng.idleTimeout())
					}
				}
				t2 := time.Now()
				for i := range es {
					q.Remove(&es[i])
				}
				t3 := time.Now()
				c.first += t1.Sub(t0)
				c.readd += t2.Sub(t1)
				c.del += t3.Sub(t2)
			}
			return 0 // no deadline is ever reached: nothing pops
		},
		"runtime": func(n int, c *churnTimes) int64 {
			var fired atomic.Int64
			f := func() { fired.Add(1) }
			ts := make([]*time.Timer, n)
			rng := splitmix64(seed)
			for range c.reps {
				t0 := time.Now()
				for i := range ts {
					ts[i] = time.AfterFunc(time.Duration(rng.idleTimeout()), f)
				}
				t1 := time.Now()
				for range churnReadds {
					for _, t := range ts {
						t.Reset(time.Duration(rng.idleTimeout()))
					}
				}
				t2 := time.Now()
				for _, t := range ts {
					t.Stop()
				}
				t3 := time.Now()
				c.first += t1.Sub(t0)
				c.readd += t2.Sub(t1)
				c.del += t3.Sub(t2)
			}
			return fired.Load()
		},
	}
	for _, n := range benchSizes {
		for _, impl := range []string{"queue", "runtime"} {
			b.Run(fmt.Sprintf("impl=%s/n=%d", impl, n), func(b *testing.B) {
				var total churnTimes
				var fired int64
				for i := 0; i < b.N; i++ {
					c := churnTimes{reps: max(1, 1000000/n)}
					fired += impls[impl](n, &c)
					total.first += c.first
					total.readd += c.readd
					total.del += c.del
					total.reps += c.reps
				}
				total.report(b, n, churnReadds)
				b.ReportMetric(float64(fired), "fired")
			})
		}
	}
}

// BenchmarkTreeDegree is the measurement behind degree: a random entry
// deleted and inserted again at a new idle timeout, in trees of n entries
// built with each candidate degree.
func BenchmarkTreeDegree(b *testing.B) {
	for _, n := range benchSizes {
		for _, d := range []int{16, 32, 64} {
			b.Run(fmt.Sprintf("degree=%d/n=%d", d, n), func(b *testing.B) {
				es := newEntries(n)
				tree := btree.NewG(d, less[int])
				rng := splitmix64(seed)
				for i := range es {
					es[i].key, es[i].seq = rng.idleTimeout(), uint64(i)
					tree.ReplaceOrInsert(&es[i])
				}
				seq := uint64(n)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					e := &es[rng.next()%uint64(n)]
					tree.Delete(e)
					seq++
					e.key, e.seq = rng.idleTimeout(), seq
					tree.ReplaceOrInsert(e)
				}
			})
		}
	}
}
