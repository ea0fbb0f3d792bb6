package timer

import (
	"slices"

	"github.com/google/btree"
)

// This file holds the deferred half of the queue: the work Schedule and
// Remove leave for Min, WakeTime and PopExpired, as the runtime's timer
// heap leaves it for adjust and its zombie cleanup.

// list puts e, which is wanted ahead of its tree position, on the list
// unless it is there already, and lowers the list's bound to e's deadline.
// The list holds items so that applyEarly can sort it in place; their keys
// are written then.
func (q *Queue[T]) list(e *Entry[T]) {
	if e.early == 0 {
		if len(q.early) == 0 {
			q.earlyAt = e.when
		}
		q.early = append(q.early, item[T]{e: e})
		e.early = uint32(len(q.early))
	}
	q.earlyAt = min(q.earlyAt, e.when)
	// early != 0 => q.early[early-1].e == e
}

// unlist takes e off the list by clearing its slot, so that no other entry
// is touched. Once holes make up half of the list, the list is compacted.
func (q *Queue[T]) unlist(e *Entry[T]) {
	i := int(e.early - 1)
	if i >= len(q.early) || q.early[i].e != e {
		return // e is listed by another queue: misuse, but no panic
	}
	q.early[i] = item[T]{}
	e.early = 0
	q.holes++
	if q.holes > len(q.early)/2 {
		q.compact()
	}
}

// compact drops the list's holes, renumbering the entries that move.
func (q *Queue[T]) compact() {
	n := 0
	for _, it := range q.early {
		if it.e != nil {
			q.early[n] = it
			n++
			it.e.early = uint32(n)
		}
	}
	clear(q.early[n:])
	q.early = q.early[:n]
	q.holes = 0
}

// repair puts the listed entries at their wanted place if any of them may
// be due by limit (all of them at once, as the runtime's adjust does), and
// drops the zombies once they are more than a quarter of the tree (or all
// of it, when nothing is live).
func (q *Queue[T]) repair(limit int64) {
	if len(q.early) > 0 && q.earlyAt <= limit {
		q.applyEarly()
	}
	// early empty => every live entry is in the tree with (when, wseq) >= (key, seq)
	if q.tree != nil && q.zombies > q.tree.Len()/4 { // true for any zombie when nothing is live
		q.sweep()
	}
}

// applyEarly empties the list into the tree. The entries to insert are
// sorted first, in the list's own array, so that consecutive inserts walk
// the same nodes: at a million entries a sorted batch costs fewer cache
// misses than as many inserts at random places. Entries removed while
// listed are skipped: a zombie in the tree stays there, and one that was
// never inserted is already unscheduled.
func (q *Queue[T]) applyEarly() {
	if q.tree == nil {
		q.tree = btree.NewG(degree, less[T])
	}
	batch := q.early[:0] // overwrites the list as it reads it
	for _, it := range q.early {
		e := it.e
		if e == nil {
			continue
		}
		e.early = 0
		switch {
		case e.state&live == 0:
			continue
		case e.state&inTree == 0:
			e.state |= inTree
		case e.when < e.key:
			q.delete(e)
		default:
			continue // moved back later than its tree position: front moves it
		}
		e.key, e.seq = e.when, e.wseq
		batch = append(batch, item[T]{e.key, e})
	}
	slices.SortFunc(batch, compareItems[T])
	// Sorted items appended to a tree fill its nodes only half, as each
	// full node splits in the middle and the left half takes no more.
	// Into an empty tree, every other item goes in first, so that the
	// second pass fills the half-empty nodes instead of splitting them.
	step := 1
	if q.tree.Len() == 0 {
		step = 2
	}
	for start := range step {
		for i := start; i < len(batch); i += step {
			q.tree.ReplaceOrInsert(batch[i])
		}
	}
	clear(q.early)
	q.early = q.early[:0]
	q.holes = 0
	// A list array longer than a quarter of the tree was sized by a burst,
	// such as the first adds of a large queue: dropping it saves 16 bytes
	// per entry. Steady lists stay shorter, and keep theirs.
	if cap(q.early) > minKeptList && cap(q.early) > q.tree.Len()/4 {
		q.early = nil
	}
}

// minKeptList is the list capacity that applyEarly always keeps.
const minKeptList = 1024

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
