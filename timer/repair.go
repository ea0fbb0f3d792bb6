package timer

// This file holds the deferred half of the queue: the work Schedule and
// Remove leave for Min, WakeTime and PopExpired, as the runtime's timer
// heap leaves it for adjust and its zombie cleanup.

// unlistEarly takes e off the moved-earlier list in O(1), by moving the
// list's last entry into its slot.
func (q *Queue[T]) unlistEarly(e *Entry[T]) {
	i, last := e.early-1, len(q.early)-1
	if int(i) > last || q.early[i] != e {
		return // e is listed by another queue: misuse, but no panic
	}
	moved := q.early[last]
	q.early[i] = moved
	moved.early = i + 1
	q.early[last] = nil
	q.early = q.early[:last]
	e.early = 0
}

// repair moves the entries scheduled earlier than their tree position to
// their wanted one if any of them may be due by limit (all of them at
// once, as the runtime's adjust does), and drops the zombies once they are
// more than a quarter of the tree (or all of it, when nothing is live).
func (q *Queue[T]) repair(limit int64) {
	if len(q.early) > 0 && q.earlyAt <= limit {
		for i, e := range q.early {
			q.early[i] = nil
			e.early = 0
			// on the list => live && inTree; a later Schedule may have
			// moved it back behind its tree position, which front handles.
			if e.when < e.key {
				q.delete(e)
				q.insert(e)
			}
		}
		q.early = q.early[:0]
	}
	// early empty => every live entry has (when, wseq) >= (key, seq)
	if q.zombies > q.tree.Len()/4 { // true for any zombie when nothing is live
		q.sweep()
	}
}

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
		e.state = 0
		q.swept[i] = nil
	}
	q.swept = q.swept[:0]
	q.zombies = 0
}
