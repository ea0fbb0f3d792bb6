package timer

// Each calls fn for every scheduled entry, in no particular order, until fn
// returns false. It moves no entry and applies no deferred work, so it
// costs O(n) and leaves the queue as it was; fn must not change the queue.
// It is for inspection (levent's ForeachEvent), not for the loop.
func (q *Queue[T]) Each(fn func(*Entry[T]) bool) {
	// A live entry is either in the tree, where it is visited, or, not yet
	// there, on the list only. Zombies and the list's holes are skipped.
	if q.tree != nil {
		stopped := false
		q.tree.Ascend(func(it item[T]) bool {
			if it.e.state&live == 0 {
				return true
			}
			if !fn(it.e) {
				stopped = true
				return false
			}
			return true
		})
		if stopped {
			return
		}
	}
	for i := range q.early.len() {
		e := q.early.at(i).e
		if e == nil || e.state&(live|inTree) != live {
			continue
		}
		if !fn(e) {
			return
		}
	}
}
