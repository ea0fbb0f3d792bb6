package timer

import (
	"math"

	"github.com/google/btree"
)

// degree is the btree's minimum degree: nodes hold 31 to 63 items. Measured
// with BenchmarkTreeDegree (a random entry deleted and inserted again) and
// the tree's heap bytes per entry at 1e6 entries: 16 costs 38.9 bytes per
// entry, against 27.5 at 32 and 24.2 at 64, and was no faster; 64 was the
// fastest at 1e3 entries (250ns against 390ns at 32) but the slowest at 1e6
// (2.6µs against 2.2µs), as each insert and delete shifts twice as many
// items. 32 is never the slowest and costs 3 bytes per entry more than 64.
// (Medians of five runs on a shared 2-core machine.)
const degree = 32

// Queue orders entries by deadline, then by the order of the Schedule
// calls, so entries with equal deadlines come out first-in first-out. The
// zero Queue is ready to use. The tree costs about 28 bytes per entry.
//
// A Queue is not safe for concurrent use: reads and writes need external
// synchronisation. (Even Min and WakeTime write: they apply deferred work.)
//
// Moving an entry's deadline and removing it are O(1): the tree keeps the
// entry where it was, and the queue repairs its position only when it
// matters, as Go's runtime does for its timers. An entry moved earlier is
// put on a list that Min applies first, and PopExpired too once an entry on
// it may be due; an entry moved later is reinserted when it reaches the
// front and Min is called, or its old deadline passes; a removed entry
// stays as a zombie until it reaches the front or zombies make up a quarter
// of the tree. An event loop that sleeps until WakeTime and then calls
// PopExpired therefore moves a connection's idle timeout, pushed later on
// every read, at most once per timeout period.
type Queue[T any] struct {
	tree    *btree.BTreeG[item[T]] // nil until the first Schedule
	seq     uint64                 // sequence number of the last Schedule call
	live    int                    // scheduled entries
	zombies int                    // removed entries still in the tree
	early   []*Entry[T]            // entries moved earlier than their tree position
	earlyAt int64                  // while early is not empty: at or before the deadline of each entry on it
	swept   []*Entry[T]            // scratch for sweep, kept to reuse its array
	collect func(item[T]) bool     // sweep's Ascend callback, made once
}

// Len returns the number of scheduled entries.
func (q *Queue[T]) Len() int { return q.live }

// Schedule sets e's deadline to when, adding e to the queue or moving it
// if it is already scheduled. Each call takes the next place among equal
// deadlines: an entry rescheduled to its own deadline goes behind the
// entries scheduled to that deadline before it.
//
// Adding costs O(log n); moving an entry and reviving one removed since
// the queue last dropped it cost O(1).
func (q *Queue[T]) Schedule(e *Entry[T], when int64) {
	q.seq++
	e.when, e.wseq = when, q.seq
	switch {
	case e.state&inTree == 0:
		if q.tree == nil {
			q.tree = btree.NewG(degree, less[T])
		}
		q.insert(e)
		e.state = inTree | live
		q.live++
		return
	case e.state&live == 0: // a zombie: revive it where it stands
		e.state |= live
		q.live++
		q.zombies--
	}
	// live && inTree: the tree position is older than the wanted one, so
	// when == key means the entry moved later (behind its equals).
	if when < e.key {
		if e.early == 0 {
			q.early = append(q.early, e)
			e.early = uint32(len(q.early))
		}
		if len(q.early) == 1 || when < q.earlyAt {
			q.earlyAt = when
		}
	}
	// live && inTree && early == 0 => (when, wseq) >= (key, seq)
	// early != 0 => key > earlyAt, and when < key => when >= earlyAt
}

// Remove unschedules e and reports whether it was scheduled. It costs
// O(1): e stays in the tree as a zombie until the queue drops it, so the
// queue may keep a reference to e for a while; use Purge when e's owner is
// being freed.
func (q *Queue[T]) Remove(e *Entry[T]) bool {
	if e.state&live == 0 {
		return false
	}
	e.state &^= live
	q.live--
	q.zombies++
	if e.early != 0 {
		q.unlistEarly(e)
	}
	// inTree && !live => early == 0
	return true
}

// Purge unschedules e and drops every reference the queue holds to it, so
// that e's owner can be collected. It costs O(log n). Afterwards e is a
// zero Entry except for Value.
func (q *Queue[T]) Purge(e *Entry[T]) {
	q.Remove(e)
	if e.state&inTree != 0 && q.tree != nil {
		if q.delete(e) {
			q.zombies--
		}
	}
	e.key, e.seq, e.when, e.wseq, e.state = 0, 0, 0, 0, 0
}

// Min returns the scheduled entry with the earliest deadline, or
// (nil, false) when nothing is scheduled. It first applies the moves and
// removals deferred since the last call, and moves every entry it finds at
// the front that was rescheduled later, so an entry moved later costs one
// reinsertion if it reaches the front before its deadline is due. An event
// loop that only needs to know how long to sleep should call WakeTime.
func (q *Queue[T]) Min() (*Entry[T], bool) { return q.front(math.MaxInt64) }

// WakeTime returns a time at or before the earliest deadline, for an event
// loop to sleep until, or (0, false) when nothing is scheduled. Unlike Min
// it moves no entry: an entry rescheduled later stands in with its old
// deadline, and entries rescheduled earlier with the earliest of their new
// ones. The loop may wake early; PopExpired then finds nothing due but
// moves the entries whose old deadline has passed, and the loop sleeps
// again. That is how Go's runtime treats its timers, and it makes an idle
// timeout pushed later on every read cost one reinsertion per timeout
// period at most, however often it is pushed.
func (q *Queue[T]) WakeTime() (int64, bool) {
	e, ok := q.front(math.MinInt64)
	if !ok {
		return 0, false
	}
	if len(q.early) > 0 && q.earlyAt < e.key {
		return q.earlyAt, true
	}
	return e.key, true
}

// front applies the deferred work due by limit and returns the entry at the
// tree's front, after dropping zombies found there and moving each entry
// found there that was moved later and whose old deadline is at or before
// limit. Entries moved earlier are moved first if any may be due by limit.
// The entry returned is settled if its key <= limit. It is the earliest
// entry if it is settled and the moved-earlier list is empty, and its key
// is a lower bound of every deadline not on that list otherwise.
func (q *Queue[T]) front(limit int64) (*Entry[T], bool) {
	if q.tree == nil {
		return nil, false
	}
	q.repair(limit)
	for q.live > 0 {
		front, ok := q.tree.Min()
		if !ok { // live > 0 => the tree is not empty, unless an entry was misused
			break
		}
		e := front.e
		switch {
		case e.state&live == 0: // a zombie reached the front
			q.tree.DeleteMin()
			e.state = 0
			q.zombies--
		case e.key <= limit && !e.settled(): // moved later while it waited
			// the list was not applied => key <= limit < earlyAt: e is not on it
			q.tree.DeleteMin()
			q.insert(e)
		default:
			// settled && early empty => for any other live x: (when, wseq)(x) >= (key, seq)(x) > (key, seq)(e) = (when, wseq)(e)
			return e, true
		}
	}
	return nil, false
}

// insert puts e in the tree at its wanted position.
func (q *Queue[T]) insert(e *Entry[T]) {
	e.key, e.seq = e.when, e.wseq
	q.tree.ReplaceOrInsert(item[T]{e.key, e})
}

// delete takes e out of the tree and reports whether it was there.
func (q *Queue[T]) delete(e *Entry[T]) bool {
	_, ok := q.tree.Delete(item[T]{e.key, e})
	return ok
}

// PopExpired removes and returns the scheduled entry with the earliest
// deadline if that deadline is at or before now; the entry becomes
// unscheduled. It returns (nil, false) when no entry has expired. Calling
// it until it fails yields the expired entries in order.
func (q *Queue[T]) PopExpired(now int64) (*Entry[T], bool) {
	e, ok := q.front(now)
	if !ok || e.when > now { // key > now => when >= key > now
		return nil, false
	}
	// the list was not applied => every entry on it has when >= earlyAt > now >= e.when
	q.tree.DeleteMin() // e is the tree's minimum, settled, so not on the list
	e.state = 0
	q.live--
	return e, true
}
