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
// with its deadline, or updates the deadline if e is there already, and
// lowers the list's bound to it. A listed entry that still needs the list
// (live, and not in the tree or wanted ahead of its place there) has its
// deadline in its slot: each Schedule of it calls list.
func (q *Queue[T]) list(e *Entry[T]) {
	if e.early == 0 {
		if q.early.len() == 0 {
			q.earlyAt = e.when
		}
		e.early = uint32(q.early.push(item[T]{e.when, e}) + 1)
	} else {
		q.early.setKey(int(e.early-1), e.when)
	}
	q.earlyAt = min(q.earlyAt, e.when)
	// early != 0 => q.early.at(early-1).e == e
}

// unlist takes e off the list by clearing its slot, so that no other entry
// is touched. Once holes make up half of the list, the list is compacted.
func (q *Queue[T]) unlist(e *Entry[T]) {
	i := int(e.early - 1)
	if i >= q.early.len() || q.early.at(i).e != e {
		return // e is listed by another queue: misuse, but no panic
	}
	q.early.set(i, item[T]{})
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
		if it := q.early.at(i); it.e != nil {
			q.early.set(n, it)
			n++
			it.e.early = uint32(n)
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
// meanwhile wait. So a list longer than wholeList is applied in parts:
// each time one of its entries may be due, the due ones and about a
// partShare-th of the rest, the earliest, go in; the rest stay in their
// slots, unread, under a bound made exact from the deadlines in the slots.
// Taking the earliest puts the next part a partShare-th of the list's
// span ahead, so parts come as their entries come due rather than one per
// iteration of the loop, and a part reads the deadlines in the slots, not
// the entries it keeps. levbench timer_fire(10000), 8 interleaved runs
// each: the first timer fired 190-270 µs after the adds ended instead of
// 700-940, and the p99 lateness went from 378-1,030 µs to 142-360. A
// variable so that tests can make short lists take the partial path.
var wholeList = 1024

const (
	partShare      = 32  // a part takes about this share of the entries not yet due, and at least wholeList/4
	horizonSamples = 256 // deadlines partHorizon looks at
)

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
	horizon := int64(math.MaxInt64) // slots with a deadline up to it go in
	if listed > wholeList && limit != math.MaxInt64 {
		horizon = q.partHorizon(limit, max(wholeList/4, listed/partShare))
	}
	q.earlyAt = math.MaxInt64
	for c := 0; c<<listShift < q.early.len(); c++ {
		slots := q.early.chunk(c)
		for i := range slots {
			it := &slots[i]
			if it.e == nil {
				continue
			}
			if it.key > horizon {
				// Stays: its slot's deadline is a lower bound of its own
				// (or it no longer needs the list, which applying it will
				// find).
				q.earlyAt = min(q.earlyAt, it.key)
				continue
			}
			e := it.e
			*it = item[T]{}
			q.holes++
			e.early = 0
			if q.settle(e) {
				q.batch = append(q.batch, item[T]{e.key, e})
			}
		}
	}
	q.insertBatch()
	if q.holes > q.early.len()/2 {
		q.compact()
	}
	// A list longer than a quarter of the tree was made by a burst, such
	// as the first adds of a large queue: giving its chunks back once it
	// is empty saves 16 bytes per entry. Steady lists stay shorter, and
	// keep theirs.
	if q.early.len() == 0 && q.early.capacity() > max(listChunk, q.tree.Len()/4) {
		q.early.shrink(0)
	}
}

// partHorizon returns the deadline up to which a part of a long list goes
// in: limit, or later so that about extra entries not yet due go in too,
// the earliest ones. It estimates that deadline from the deadlines in
// evenly spaced slots rather than selecting it exactly: the part only
// needs to be about the right size.
func (q *Queue[T]) partHorizon(limit int64, extra int) int64 {
	var sample [horizonSamples]int64
	seen, n := 0, 0 // listed entries sampled, and those of them not yet due
	l := q.early.len()
	m := min(l, horizonSamples)
	for j := range m {
		if it := q.early.at(j * l / m); it.e != nil {
			seen++
			if it.key > limit {
				sample[n] = it.key
				n++
			}
		}
	}
	if n == 0 {
		return limit
	}
	s := sample[:n]
	slices.Sort(s)
	// Each sample stands for listed/seen entries, so extra entries are
	// extra*seen/listed samples.
	k := min(n-1, extra*seen/max(l-q.holes, 1))
	return max(limit, s[k])
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
