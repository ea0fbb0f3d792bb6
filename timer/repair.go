package timer

// This file holds the deferred half of the queue: the work Schedule and
// Remove leave for Min, as the runtime's timer heap leaves it for adjust
// and its zombie cleanup.

// unlistEarly takes e off the moved-earlier list in O(1), by moving the
// list's last entry into its slot.
func (q *Queue[T]) unlistEarly(e *Entry[T]) {
	i, last := e.early-1, len(q.early)-1
	moved := q.early[last]
	q.early[i] = moved
	moved.early = i + 1
	q.early[last] = nil
	q.early = q.early[:last]
	e.early = 0
}

// repair moves the entries scheduled earlier than their tree position to
// their wanted one, and drops the zombies once they are more than a
// quarter of the tree (or all of it), so that the tree front is a live
// entry or one that only has to move later.
func (q *Queue[T]) repair() {
	for i, e := range q.early {
		q.early[i] = nil
		e.early = 0
		// on the list => live && inTree; a later Schedule may have
		// moved it back behind its tree position, which Min handles.
		if e.when < e.key {
			q.tree.Delete(e)
			e.key, e.seq = e.when, e.wseq
			q.tree.ReplaceOrInsert(e)
		}
	}
	q.early = q.early[:0]
	if q.zombies > 0 && (q.live == 0 || q.zombies > q.tree.Len()/4) {
		q.sweep()
	}
}

// sweep deletes every zombie from the tree. The zombies are collected
// first and deleted afterwards, because the tree must not change during
// Ascend. When nothing is live, the whole tree goes at once.
func (q *Queue[T]) sweep() {
	if q.collect == nil {
		q.collect = func(e *Entry[T]) bool {
			if e.state&live == 0 {
				q.swept = append(q.swept, e)
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
			q.tree.Delete(e)
		}
		e.state = 0
		q.swept[i] = nil
	}
	q.swept = q.swept[:0]
	q.zombies = 0
}
