package timer

import (
	"fmt"
	"testing"
)

// checkQueue verifies every invariant of q's internal state and fails t
// with what it found against what it wanted.
func checkQueue[T any](t *testing.T, q *Queue[T]) {
	t.Helper()
	if err := queueError(q); err != nil {
		t.Fatal(err)
	}
}

func queueError[T any](q *Queue[T]) error {
	var nLive, nZombies int
	var err error
	if q.tree != nil {
		var prev *Entry[T]
		q.tree.Ascend(func(it item[T]) bool {
			e := it.e
			switch {
			case it.key != e.key:
				err = fmt.Errorf("tree item key %d, entry key %d", it.key, e.key)
			case prev != nil && !less(item[T]{prev.key, prev}, it):
				err = fmt.Errorf("tree order: (%d,%d) before (%d,%d)", prev.key, prev.seq, e.key, e.seq)
			case e.state&inTree == 0:
				err = fmt.Errorf("entry (%d,%d) in the tree without inTree: state %b", e.key, e.seq, e.state)
			case e.early != 0 && (int(e.early) > q.early.len() || q.early.at(int(e.early-1)).e != e):
				err = fmt.Errorf("entry (%d,%d) says it is at %d on the list, which does not hold it", e.key, e.seq, e.early)
			case e.state&live != 0 && e.early == 0 && (e.when < e.key || e.when == e.key && e.wseq < e.seq):
				err = fmt.Errorf("entry wanted at (%d,%d) ahead of its tree place (%d,%d) but not on the moved-earlier list",
					e.when, e.wseq, e.key, e.seq)
			case e.wseq > q.seq || e.seq > e.wseq:
				err = fmt.Errorf("entry sequence: tree %d, wanted %d, queue %d", e.seq, e.wseq, q.seq)
			}
			if e.state&live != 0 {
				nLive++
			} else {
				nZombies++
			}
			prev = e
			return err == nil
		})
		if err != nil {
			return err
		}
		if got, want := q.tree.Len(), nLive+nZombies; got != want {
			return fmt.Errorf("tree.Len() = %d, want %d", got, want)
		}
	}
	holes := 0
	for i, it := range q.early.items() {
		e := it.e
		switch {
		case e == nil:
			holes++
			continue
		case e.early != uint32(i+1):
			return fmt.Errorf("list[%d]: entry says it is at %d, want %d", i, e.early, i+1)
		case e.state&live != 0 && (e.state&inTree == 0 || e.when < e.key) && it.key != e.when:
			return fmt.Errorf("list[%d]: slot deadline %d, entry wanted at %d", i, it.key, e.when)
		case e.state&live != 0 && (e.state&inTree == 0 || e.when < e.key) && e.when < q.earlyAt:
			return fmt.Errorf("list[%d]: wanted at %d, before the list's bound %d", i, e.when, q.earlyAt)
		}
		if e.state == live { // scheduled but not yet in the tree
			nLive++
		}
	}
	if holes != q.holes {
		return fmt.Errorf("list has %d holes, the queue counts %d", holes, q.holes)
	}
	if nLive != q.live || nZombies != q.zombies {
		return fmt.Errorf("counts: live %d zombies %d, want live %d zombies %d (from the tree and list)", q.live, q.zombies, nLive, nZombies)
	}
	for i, x := range q.early.allSlots()[q.early.len():] {
		if x != nil {
			return fmt.Errorf("list array past its end [%d] still holds an entry", q.early.len()+i)
		}
	}
	for i, e := range q.swept[:cap(q.swept)] {
		if e != nil {
			return fmt.Errorf("sweep scratch[%d] still holds an entry", i)
		}
	}
	return nil
}

// entriesError checks what queueError cannot reach from q: that each of
// es that says it is listed is where it says, and that each scheduled
// entry is in the tree or on the list.
func entriesError[T any](q *Queue[T], es []Entry[T]) error {
	for i := range es {
		e := &es[i]
		if e.early != 0 && (int(e.early) > q.early.len() || q.early.at(int(e.early-1)).e != e) {
			return fmt.Errorf("entry %d says it is at %d on the list, which does not hold it", i, e.early)
		}
		if e.state == live && e.early == 0 {
			return fmt.Errorf("entry %d is scheduled but neither in the tree nor on the list", i)
		}
	}
	return nil
}

// holds reports whether q keeps a reference to e anywhere.
func holds[T any](q *Queue[T], e *Entry[T]) bool {
	found := false
	if q.tree != nil {
		q.tree.Ascend(func(it item[T]) bool {
			found = found || it.e == e
			return !found
		})
	}
	for _, x := range q.early.allSlots() {
		found = found || x == e
	}
	return found
}

// items returns the list's slots in use, holes included, as a slice.
func (l *entryList[T]) items() []item[T] {
	var all []item[T]
	for _, c := range l.chunks {
		all = append(all, c[:]...)
	}
	return all[:l.n]
}

// slots returns the entries of the list's slots in use, nil for holes.
func (l *entryList[T]) slots() []*Entry[T] { return l.allSlots()[:l.n] }

// allSlots returns the entry of every slot of the list's chunks, used or
// not.
func (l *entryList[T]) allSlots() []*Entry[T] {
	all := make([]*Entry[T], 0, l.capacity())
	for _, c := range l.chunks {
		for _, it := range c {
			all = append(all, it.e)
		}
	}
	return all
}
