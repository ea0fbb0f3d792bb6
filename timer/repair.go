package timer

import (
	"math"
	"slices"

	"github.com/google/btree"
)

// This file holds the deferred half of the queue: the work Schedule and
// Remove leave for Min, WakeTime and PopExpired, as the runtime's timer
// heap leaves it for adjust and its zombie cleanup.

// list puts e, which is wanted ahead of its tree position, on the list
// unless it is there already, and lowers the list's bound to e's deadline.
// The list holds bare pointers, 8 bytes per entry: a queue filled faster
// than its loop runs (a million timers added at start-up) keeps all its
// entries there, and applyEarly copies the keys out when it sorts.
func (q *Queue[T]) list(e *Entry[T]) {
	if e.early == 0 {
		if q.early.len() == 0 {
			q.earlyAt = e.when
		}
		e.early = uint32(q.early.push(e) + 1)
	}
	q.earlyAt = min(q.earlyAt, e.when)
	// early != 0 => q.early.at(early-1) == e
}

// unlist takes e off the list by clearing its slot, so that no other entry
// is touched. Once holes make up half of the list, the list is compacted.
func (q *Queue[T]) unlist(e *Entry[T]) {
	i := int(e.early - 1)
	if i >= q.early.len() || q.early.at(i) != e {
		return // e is listed by another queue: misuse, but no panic
	}
	q.early.set(i, nil)
	e.early = 0
	q.holes++
	if q.holes > q.early.len()/2 {
		q.compact()
	}
}

// compact drops the list's holes, renumbering the entries that move.
func (q *Queue[T]) compact() {
	n := 0
	for i := range q.early.len() {
		if e := q.early.at(i); e != nil {
			q.early.set(n, e)
			n++
			e.early = uint32(n)
		}
	}
	q.early.truncate(n)
	q.holes = 0
}

// repair puts the listed entries at their wanted place if any of them may
// be due by limit (all of them at once, as the runtime's adjust does, or,
// for a long list and a limit short of the end of time, those due and a
// share of the rest: see applyEarly), and drops the zombies once they are
// more than a quarter of the tree (or all of it, when nothing is live).
func (q *Queue[T]) repair(limit int64) {
	if q.early.len() > 0 && q.earlyAt <= limit {
		q.applyEarly(limit)
	}
	// early not empty => earlyAt > limit: no listed entry is due by limit
	if q.tree != nil && q.zombies > q.tree.Len()/4 { // true for any zombie when nothing is live
		q.sweep()
	}
}

// Applying a long list in one go would hold the loop for as long as its
// inserts take: 10,000 new timers, about 3 ms, during which the timers due
// meanwhile wait (levbench timer_fire: a p99 lateness of 4 ms instead of
// under 1). So a list longer than wholeList is applied in parts: each time
// one of its entries may be due, the due ones and a sixteenth of the rest
// (at least wholeList/4) go in, and the rest stays listed under a bound
// made exact. The list then empties within 16 ln(n/256) passes, each one
// reading the list once: about 60 passes of 20 µs reads for 10,000
// entries, against one 3 ms stall (timer_fire's p99 lateness at n=10,000
// went from 2.3-5.2 ms to 0.7-0.9 ms). A variable so that tests can
// make short lists take the partial path.
var wholeList = 1024

// applyEarly puts the listed entries due by limit, or all of them, in the
// tree (see wholeList). The entries to insert are sorted first, so that
// consecutive inserts walk the same nodes: at a million entries a sorted
// batch costs fewer cache misses than as many inserts at random places.
// Entries removed while listed are skipped: a zombie in the tree stays
// there, and one that was never inserted is already unscheduled.
func (q *Queue[T]) applyEarly(limit int64) {
	if q.tree == nil {
		q.tree = btree.NewG(degree, less[T])
	}
	listed := q.early.len() - q.holes
	if listed <= wholeList || limit == math.MaxInt64 {
		for i := range q.early.len() {
			if e := q.early.at(i); e != nil {
				e.early = 0
				if q.settle(e) {
					q.batch = append(q.batch, item[T]{e.key, e})
				}
			}
		}
		q.early.truncate(0)
		q.holes = 0
		q.insertBatch()
		// A list longer than a quarter of the tree was made by a burst,
		// such as the first adds of a large queue: giving its chunks back
		// saves 8 bytes per entry. Steady lists stay shorter, and keep
		// theirs.
		if q.early.capacity() > max(listChunk, q.tree.Len()/4) {
			q.early.shrink(0)
		}
		return
	}
	extra := max(wholeList/4, listed/16) // entries not yet due to apply now
	kept := 0
	q.earlyAt = math.MaxInt64
	for i := range q.early.len() {
		e := q.early.at(i)
		if e == nil {
			continue
		}
		if e.state&live == 0 || e.state&inTree != 0 && e.when >= e.key {
			e.early = 0 // removed, or moved back behind its tree position
			continue
		}
		if e.when > limit && extra == 0 { // keep: key > when > limit
			q.early.set(kept, e)
			kept++
			e.early = uint32(kept)
			q.earlyAt = min(q.earlyAt, e.when)
			continue
		}
		if e.when > limit {
			extra--
		}
		e.early = 0
		if q.settle(e) {
			q.batch = append(q.batch, item[T]{e.key, e})
		}
	}
	q.early.truncate(kept)
	q.holes = 0
	q.insertBatch()
}

// settle readies e, just taken off the list, for insertion at its wanted
// place, and reports whether it is to be inserted: not if it was removed,
// or moved back later than its tree position (front moves it).
func (q *Queue[T]) settle(e *Entry[T]) bool {
	switch {
	case e.state&live == 0:
		return false
	case e.state&inTree == 0:
		e.state |= inTree
	case e.when < e.key:
		q.delete(e)
	default:
		return false
	}
	e.key, e.seq = e.when, e.wseq
	return true
}

// insertBatch sorts q.batch, inserts it in the tree and empties it,
// keeping its array unless a burst made it longer than a quarter of the
// tree. Sorted items appended to a tree fill its nodes only half, as each
// full node splits in the middle and the left half takes no more. Into an
// empty tree, every other item goes in first, so that the second pass
// fills the half-empty nodes instead of splitting them.
func (q *Queue[T]) insertBatch() {
	batch := q.batch
	slices.SortFunc(batch, compareItems[T])
	step := 1
	if q.tree.Len() == 0 {
		step = 2
	}
	for start := range step {
		for i := start; i < len(batch); i += step {
			q.tree.ReplaceOrInsert(batch[i])
		}
	}
	clear(batch)
	q.batch = batch[:0]
	if cap(q.batch) > minKeptBatch && cap(q.batch) > q.tree.Len()/4 {
		q.batch = nil
	}
}

// minKeptBatch is the batch capacity that insertBatch always keeps.
const minKeptBatch = 1024

// sweep deletes every zombie from the tree. The zombies are collected
// first and deleted afterwards, because the tree must not change during
// Ascend. When nothing is live, the whole tree goes at once.
func (q *Queue[T]) sweep() {
	if q.collect == nil {
		q.collect = func(it item[T]) bool {
			if it.e.state&live == 0 {
				q.swept = append(q.swept, it.e)
			}
			return true
		}
	}
	q.tree.Ascend(q.collect)
	all := q.live == 0
	if all {
		q.tree.Clear(true)
	}
	for i, e := range q.swept {
		if !all {
			q.delete(e)
		}
		e.state = 0 // if it is listed, applyEarly skips it
		q.swept[i] = nil
	}
	q.swept = q.swept[:0]
	q.zombies = 0
}
