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
// zero Queue is ready to use. The tree costs about 28 bytes per entry when
// its entries went in at random places, and about 20 when they went into
// an empty tree in one batch; the list of entries not yet in their place
// costs 16 bytes per entry listed since it was last applied (a pointer and
// the deadline, so that applying part of the list reads the list and not
// the entries), in chunks that are kept for reuse unless they outgrew a
// quarter of the tree.
//
// A Queue is not safe for concurrent use: reads and writes need external
// synchronisation. (Even Min and WakeTime write: they apply deferred work.)
//
// Adding an entry, moving its deadline and removing it are O(1): the tree
// keeps the entry where it was, or does not hold it yet, and the queue
// repairs its position only when it matters, as Go's runtime does for its
// timers. An entry added, or moved earlier, is put on a list that Min
// applies first, and PopExpired too once an entry on it may be due; the
// list goes into the tree sorted, in one pass, which costs far fewer cache
// misses than as many inserts at random places. An entry moved later is
// reinserted when it reaches the front and Min is called, or its old
// deadline passes; a removed entry stays where it was (in the tree or on
// the list) until it reaches the front, the list is applied, or zombies
// make up a quarter of the tree. An event loop that sleeps until WakeTime
// and then calls PopExpired therefore moves a connection's idle timeout,
// pushed later on every read, at most once per timeout period.
type Queue[T any] struct {
	tree    *btree.BTreeG[item[T]] // nil until the list is first applied
	seq     uint64                 // sequence number of the last Schedule call
	live    int                    // scheduled entries
	zombies int                    // removed entries still in the tree
	early   entryList[T]           // entries wanted ahead of their tree position; nil slots were purged
	earlyAt int64                  // while early is not empty: at or before the deadline of each live entry on it
	holes   int                    // slots in early with no entry
	swept   []*Entry[T]            // scratch for sweep, kept to reuse its array
	batch   []item[T]              // scratch for applyEarly: the entries to insert, keys beside them
	collect func(item[T]) bool     // sweep's Ascend callback, made once
}

// Len returns the number of scheduled entries.
func (q *Queue[T]) Len() int { return q.live }

// Schedule sets e's deadline to when, adding e to the queue or moving it
// if it is already scheduled. Each call takes the next place among equal
// deadlines: an entry rescheduled to its own deadline goes behind the
// entries scheduled to that deadline before it. It costs O(1).
func (q *Queue[T]) Schedule(e *Entry[T], when int64) {
	q.seq++
	e.when, e.wseq = when, q.seq
	if e.state&live == 0 { // new, or a zombie: revive it where it stands
		e.state |= live
		q.live++
		if e.state&inTree != 0 {
			q.zombies--
		}
	}
	// The tree position is older than the wanted one, so when == key means
	// the entry moved later (behind its equals); an entry not in the tree
	// is held past the end of it.
	if e.state&inTree == 0 || when < e.key {
		q.list(e)
	}
	// live && early == 0 => inTree && (when, wseq) >= (key, seq)
}

// Remove unschedules e and reports whether it was scheduled. It costs
// O(1) and writes to e alone: e stays where it was, in the tree as a
// zombie or on the list, until the queue drops it, so the queue may keep
// a reference to e for a while; use Purge when e's owner is being freed.
func (q *Queue[T]) Remove(e *Entry[T]) bool {
	if e.state&live == 0 {
		return false
	}
	e.state &^= live
	q.live--
	if e.state&inTree != 0 {
		q.zombies++
	}
	return true
}

// Purge unschedules e and drops every reference the queue holds to it, so
// that e's owner can be collected. It costs O(log n). Afterwards e is a
// zero Entry except for Value.
func (q *Queue[T]) Purge(e *Entry[T]) {
	q.Remove(e)
	if e.early != 0 {
		q.unlist(e)
	}
	if e.state&inTree != 0 && q.tree != nil {
		if q.delete(e) {
			q.zombies--
		}
	}
	e.key, e.seq, e.when, e.wseq, e.state = 0, 0, 0, 0, 0
}

// Min returns the scheduled entry with the earliest deadline, or
// (nil, false) when nothing is scheduled. It first applies the adds, moves
// and removals deferred since the last call, and moves every entry it finds at
// the front that was rescheduled later, so an entry moved later costs one
// reinsertion if it reaches the front before its deadline is due. An event
// loop that only needs to know how long to sleep should call WakeTime.
func (q *Queue[T]) Min() (*Entry[T], bool) { return q.front(math.MaxInt64) }

// WakeTime returns a time at or before the earliest deadline, for an event
// loop to sleep until, or (0, false) when nothing is scheduled. Unlike Min
// it moves no entry: an entry rescheduled later stands in with its old
// deadline, and entries added or rescheduled earlier with the earliest of
// their new ones. The loop may wake early; PopExpired then finds nothing due but
// moves the entries whose old deadline has passed, and the loop sleeps
// again. That is how Go's runtime treats its timers, and it makes an idle
// timeout pushed later on every read cost one reinsertion per timeout
// period at most, however often it is pushed.
func (q *Queue[T]) WakeTime() (int64, bool) {
	if q.live == 0 {
		return 0, false
	}
	e, ok := q.front(math.MinInt64)
	switch {
	case q.early.len() > 0 && (!ok || q.earlyAt < e.key):
		return q.earlyAt, true
	case ok:
		return e.key, true
	}
	return 0, false // live entries but none found: an entry was misused
}

// front applies the deferred work due by limit and returns the live entry
// at the tree's front, after dropping zombies found there and moving each
// entry found there that was moved later and whose old deadline is at or
// before limit. The list is applied first if any entry on it may be due by
// limit. The entry returned is settled if its key <= limit. It is the
// earliest entry if it is settled and the list is empty, and its key is a
// lower bound of every deadline not on the list otherwise. front reports
// false when the tree holds no live entry.
func (q *Queue[T]) front(limit int64) (*Entry[T], bool) {
	q.repair(limit)
	if q.tree == nil {
		return nil, false
	}
	for {
		front, ok := q.tree.Min()
		if !ok {
			return nil, false
		}
		e := front.e
		switch {
		case e.state&live == 0: // a zombie reached the front
			q.tree.DeleteMin()
			e.state = 0 // if it is listed, applyEarly skips it
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
