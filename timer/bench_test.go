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
// Queue defers work to Min, WakeTime and PopExpired, as the runtime defers
// it to its timer check. Sub-benchmarks named impl=queue+min run Min after
// every 100 operations, and impl=queue+wake run WakeTime and PopExpired, as
// an event loop would once per iteration; their figures include the
// deferred work. impl=queue is the call alone. The benchmark clock ticks
// 1ns per operation, so no deadline falls due.

var benchSizes = []int{1e3, 1e5, 1e6}

const (
	longWait   = 24 * time.Hour // runtime timers: far enough never to fire
	loopPeriod = 100            // operations per event-loop step
)

// loopSteps are what an event loop does between batches of operations.
var loopSteps = map[string]func(q *Queue[int], now int64){
	"queue":     nil,
	"queue+min": func(q *Queue[int], _ int64) { q.Min() },
	"queue+wake": func(q *Queue[int], now int64) {
		q.WakeTime()
		q.PopExpired(now)
	},
}

// loopStep runs step every loopPeriod operations; i counts operations.
func loopStep(q *Queue[int], step func(*Queue[int], int64), i int) {
	if step != nil && i%loopPeriod == loopPeriod-1 {
		step(q, int64(i))
	}
}

// queueImpls returns a benchmark for each of loopSteps, made by bench.
func queueImpls(bench func(b *testing.B, n int, step func(*Queue[int], int64))) map[string]func(*testing.B, int) {
	impls := make(map[string]func(*testing.B, int))
	for name, step := range loopSteps {
		impls[name] = func(b *testing.B, n int) { bench(b, n, step) }
	}
	return impls
}

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
		for _, impl := range []string{"queue", "queue+min", "queue+wake", "runtime"} {
			if f := impls[impl]; f != nil {
				b.Run(fmt.Sprintf("impl=%s/n=%d", impl, n), func(b *testing.B) { f(b, n) })
			}
		}
	}
}

// untimedEvery runs refill, untimed, before operation i whenever i is a
// positive multiple of period.
func untimedEvery(b *testing.B, i, period int, refill func()) {
	if i > 0 && i%period == 0 {
		b.StopTimer()
		refill()
		b.StartTimer()
	}
}

// batchSize is how many new timers ScheduleFirst adds before taking them
// out again: small enough to keep the queue near n.
func batchSize(n int) int { return min(1024, n/8) }

// BenchmarkScheduleFirst adds new timers. For the queue it measures the
// call alone, which lists the entry; the insert it defers is measured by
// BenchmarkPopExpired.
func BenchmarkScheduleFirst(b *testing.B) {
	runSizes(b, map[string]func(*testing.B, int){
		"queue": func(b *testing.B, n int) {
			q, _, rng := benchQueue(n)
			batch := newEntries(batchSize(n))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				untimedEvery(b, i, len(batch), func() {
					for k := range batch {
						q.Purge(&batch[k]) // forgotten: the next Schedule lists it anew
					}
				})
				q.Schedule(&batch[i%len(batch)], rng.idleTimeout())
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
				untimedEvery(b, i, len(batch), func() {
					for _, t := range batch {
						t.Stop()
					}
				})
				batch[i%len(batch)] = time.AfterFunc(longWait+time.Duration(rng.idleTimeout()), noop)
			}
		},
	})
}

// benchReschedule moves scheduled entries, in index order, to the deadline
// next(i) returns.
func benchReschedule(b *testing.B, n int, step func(*Queue[int], int64), next func(rng *splitmix64, i int) int64) {
	q, es, rng := benchQueue(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q.Schedule(&es[i%n], next(rng, i))
		loopStep(q, step, i)
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
// from the benchmark clock.
func laterDeadline(_ *splitmix64, i int) int64 { return int64(time.Minute) + int64(i) }

func BenchmarkRescheduleRandom(b *testing.B) {
	impls := queueImpls(func(b *testing.B, n int, step func(*Queue[int], int64)) {
		benchReschedule(b, n, step, randomDeadline)
	})
	impls["runtime"] = func(b *testing.B, n int) {
		benchRuntimeReset(b, n, func(rng *splitmix64) time.Duration {
			return longWait + time.Duration(rng.idleTimeout())
		})
	}
	runSizes(b, impls)
}

func BenchmarkRescheduleLater(b *testing.B) {
	impls := queueImpls(func(b *testing.B, n int, step func(*Queue[int], int64)) {
		benchReschedule(b, n, step, laterDeadline)
	})
	impls["runtime"] = func(b *testing.B, n int) {
		// The runtime's clock moves on between calls, so the same
		// duration is a later deadline each time.
		benchRuntimeReset(b, n, func(*splitmix64) time.Duration { return longWait })
	}
	runSizes(b, impls)
}

// benchRemove removes the n entries in index order, scheduling them all
// again (untimed) once they are gone.
func benchRemove(b *testing.B, n int, step func(*Queue[int], int64)) {
	q, es, rng := benchQueue(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		untimedEvery(b, i, n, func() {
			for k := range es {
				q.Schedule(&es[k], rng.idleTimeout())
			}
			q.Min()
		})
		q.Remove(&es[i%n])
		loopStep(q, step, i)
	}
}

func BenchmarkRemove(b *testing.B) {
	impls := queueImpls(benchRemove)
	impls["runtime"] = func(b *testing.B, n int) {
		ts, rng := benchRuntimeTimers(b, n)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			untimedEvery(b, i, n, func() {
				for _, t := range ts {
					t.Reset(longWait + time.Duration(rng.idleTimeout()))
				}
			})
			ts[i%n].Stop()
		}
	}
	runSizes(b, impls)
}

// BenchmarkPopExpired takes due entries off the front until the queue is
// empty, then schedules all n again (untimed). The first PopExpired after
// that puts them in the tree in one sorted batch, so the figure includes
// the insert that a new entry defers. Runtime timers have no counterpart:
// they fire on their own.
func BenchmarkPopExpired(b *testing.B) {
	runSizes(b, map[string]func(*testing.B, int){
		"queue": func(b *testing.B, n int) {
			q, es, rng := benchQueue(n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				untimedEvery(b, i, n, func() { // the queue is empty
					for k := range es {
						q.Schedule(&es[k], rng.idleTimeout())
					}
				})
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
					tree.ReplaceOrInsert(item[int]{es[i].key, &es[i]})
				}
				seq := uint64(n)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					e := &es[rng.next()%uint64(n)]
					tree.Delete(item[int]{e.key, e})
					seq++
					e.key, e.seq = rng.idleTimeout(), seq
					tree.ReplaceOrInsert(item[int]{e.key, e})
				}
			})
		}
	}
}
