package timer

import "github.com/google/btree"

// degree is the btree's minimum degree: nodes hold 31 to 63 entry
// pointers. Measured against 16 and 64 (random idle timeouts, delete plus
// insert at 1e3, 1e5 and 1e6 entries, see bench_test.go): 16 makes the
// tree deeper, and every extra level is one more cold entry to read per
// comparison at 1e6; 64 doubles the items copied on each insert and delete
// and leaves half-empty nodes, so the tree costs more memory per entry
// (about 13.8 bytes at 64 and 15 at 16, against 13.2 at 32).
const degree = 32

// Queue orders entries by deadline, then by the order of the Schedule
// calls, so entries with equal deadlines come out first-in first-out. The
// zero Queue is ready to use.
//
// A Queue is not safe for concurrent use: reads and writes need external
// synchronisation. (Even Min writes: it applies deferred moves.)
//
// Moving an entry's deadline and removing it are O(1): the tree keeps the
// entry where it was, and the queue repairs its position only when it
// matters, as Go's runtime does for its timers. An entry moved later is
// reinserted when it reaches the front; an entry moved earlier is put on a
// list that Min and PopExpired apply first; a removed entry stays as a
// zombie until it reaches the front or zombies make up a quarter of the
// tree. A connection's idle timeout pushed later on every read therefore
// never touches the tree until it is due.
type Queue[T any] struct {
	tree    *btree.BTreeG[*Entry[T]] // nil until the first Schedule
	seq     uint64                   // sequence number of the last Schedule call
	live    int                      // scheduled entries
	zombies int                      // removed entries still in the tree
	early   []*Entry[T]              // entries moved earlier than their tree position
	swept   []*Entry[T]              // scratch for sweep, kept to reuse its array
	collect func(*Entry[T]) bool     // sweep's Ascend callback, made once
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
		e.key, e.seq = when, q.seq
		q.tree.ReplaceOrInsert(e)
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
	if when < e.key && e.early == 0 {
		q.early = append(q.early, e)
		e.early = uint32(len(q.early))
	}
	// live && inTree && early == 0 => (when, wseq) >= (key, seq)
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
		if _, ok := q.tree.Delete(e); ok {
			q.zombies--
		}
	}
	e.key, e.seq, e.when, e.wseq, e.state = 0, 0, 0, 0, 0
}

// Min returns the scheduled entry with the earliest deadline, or
// (nil, false) when nothing is scheduled. It first applies the moves and
// removals deferred since the last call.
func (q *Queue[T]) Min() (*Entry[T], bool) {
	if q.tree == nil {
		return nil, false
	}
	q.repair()
	// every live entry has (when, wseq) >= (key, seq)
	for q.live > 0 {
		e, _ := q.tree.Min() // live > 0 => the tree is not empty
		switch {
		case e.state&live == 0: // a zombie reached the front
			q.tree.DeleteMin()
			e.state = 0
			q.zombies--
		case !e.settled(): // moved later while it waited
			q.tree.DeleteMin()
			e.key, e.seq = e.when, e.wseq
			q.tree.ReplaceOrInsert(e)
		default:
			// any other live x: (when, wseq)(x) >= (key, seq)(x) > (key, seq)(e) = (when, wseq)(e)
			return e, true
		}
	}
	return nil, false
}

// PopExpired removes and returns the scheduled entry with the earliest
// deadline if that deadline is at or before now; the entry becomes
// unscheduled. It returns (nil, false) when no entry has expired. Calling
// it until it fails yields the expired entries in order.
func (q *Queue[T]) PopExpired(now int64) (*Entry[T], bool) {
	e, ok := q.Min()
	if !ok || e.when > now {
		return nil, false
	}
	q.tree.DeleteMin() // e is the tree's minimum, and early == 0 after Min
	e.state = 0
	q.live--
	return e, true
}
