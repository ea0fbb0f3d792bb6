package timer

import (
	"math"
	"runtime"
	"slices"
	"testing"
	"unsafe"
)

// newEntries returns n entries whose Values are their indexes.
func newEntries(n int) []Entry[int] {
	es := make([]Entry[int], n)
	for i := range es {
		es[i].Value = i
	}
	return es
}

// drain pops every entry due by now and returns their Values in order.
func drain(t *testing.T, q *Queue[int], now int64) []int {
	t.Helper()
	var got []int
	for {
		e, ok := q.PopExpired(now)
		checkQueue(t, q)
		if !ok {
			return got
		}
		if e.Scheduled() {
			t.Fatalf("entry %d still scheduled after PopExpired", e.Value)
		}
		got = append(got, e.Value)
	}
}

func wantOrder(t *testing.T, got, want []int) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func wantMin(t *testing.T, q *Queue[int], want int) {
	t.Helper()
	e, ok := q.Min()
	checkQueue(t, q)
	if !ok || e.Value != want {
		t.Fatalf("Min() = %v, %v; want entry %d", e, ok, want)
	}
}

func TestZeroQueueIsEmptyAndUsable(t *testing.T) {
	var q Queue[int]
	var e Entry[int]
	if e.Scheduled() {
		t.Fatal("zero Entry is scheduled")
	}
	if e, ok := q.Min(); ok || e != nil {
		t.Fatalf("Min() on empty queue = %v, %v; want nil, false", e, ok)
	}
	if e, ok := q.PopExpired(math.MaxInt64); ok || e != nil {
		t.Fatalf("PopExpired on empty queue = %v, %v; want nil, false", e, ok)
	}
	if q.Remove(&e) {
		t.Fatal("Remove of an unscheduled entry reported true")
	}
	q.Purge(&e)
	if q.Len() != 0 {
		t.Fatalf("Len() = %d, want 0", q.Len())
	}
	q.Schedule(&e, 5)
	checkQueue(t, &q)
	if !e.Scheduled() || e.When() != 5 || q.Len() != 1 {
		t.Fatalf("after Schedule: Scheduled %v When %d Len %d; want true 5 1", e.Scheduled(), e.When(), q.Len())
	}
}

// treeOfTens returns a queue holding n entries in its tree, entry i at
// deadline 10*(i+1), with nothing deferred.
func treeOfTens(t *testing.T, n int) (*Queue[int], []Entry[int]) {
	t.Helper()
	q := new(Queue[int])
	es := newEntries(n)
	for i := range es {
		q.Schedule(&es[i], int64(10*(i+1)))
	}
	wantMin(t, q, 0)
	return q, es
}

func TestEntriesComeOutInDeadlineOrder(t *testing.T) {
	var q Queue[int]
	es := newEntries(6)
	for i, when := range []int64{50, 10, 40, -20, 30, 0} {
		q.Schedule(&es[i], when)
	}
	checkQueue(t, &q)
	wantMin(t, &q, 3)
	wantOrder(t, drain(t, &q, math.MaxInt64), []int{3, 5, 1, 4, 2, 0})
	if q.Len() != 0 {
		t.Fatalf("Len() after draining = %d, want 0", q.Len())
	}
}

func TestEqualDeadlinesFireFirstInFirstOut(t *testing.T) {
	var q Queue[int]
	es := newEntries(5)
	for _, i := range []int{3, 1, 4, 0, 2} {
		q.Schedule(&es[i], 7)
	}
	wantOrder(t, drain(t, &q, 7), []int{3, 1, 4, 0, 2})
}

func TestPopExpiredStopsAtNow(t *testing.T) {
	var q Queue[int]
	es := newEntries(4)
	for i := range es {
		q.Schedule(&es[i], int64(10*i)) // 0, 10, 20, 30
	}
	wantOrder(t, drain(t, &q, -1), nil)
	wantOrder(t, drain(t, &q, 19), []int{0, 1})
	wantOrder(t, drain(t, &q, 20), []int{2})
	if q.Len() != 1 || !es[3].Scheduled() {
		t.Fatalf("Len %d, entry 3 scheduled %v; want 1, true", q.Len(), es[3].Scheduled())
	}
}

func TestRescheduleLaterKeepsTreePlaceUntilFront(t *testing.T) {
	var q Queue[int]
	es := newEntries(3)
	q.Schedule(&es[0], 10)
	q.Schedule(&es[1], 20)
	q.Schedule(&es[2], 30)
	wantMin(t, &q, 0)      // the new entries go into the tree
	q.Schedule(&es[0], 25) // later: O(1), the tree keeps key 10
	checkQueue(t, &q)
	if es[0].key != 10 || es[0].When() != 25 {
		t.Fatalf("moved later: key %d When %d; want key 10 (not yet moved) When 25", es[0].key, es[0].When())
	}
	wantMin(t, &q, 1) // entry 0 reached the front and took its real place
	if es[0].key != 25 {
		t.Fatalf("key after Min = %d, want 25", es[0].key)
	}
	wantOrder(t, drain(t, &q, 100), []int{1, 0, 2})
}

func TestWakeTimeIsOldDeadlineOfEntryMovedLater(t *testing.T) {
	var q Queue[int]
	es := newEntries(2)
	q.Schedule(&es[0], 10)
	q.Schedule(&es[1], 20)
	wantMin(t, &q, 0)
	q.Schedule(&es[0], 30) // pushed later: WakeTime does not move it
	for range 2 {
		if at, ok := q.WakeTime(); !ok || at != 10 {
			t.Fatalf("WakeTime() = %d, %v; want 10, true (the old deadline, a lower bound)", at, ok)
		}
		checkQueue(t, &q)
	}
	if es[0].key != 10 {
		t.Fatalf("key after WakeTime = %d, want 10 (not moved)", es[0].key)
	}
	wantOrder(t, drain(t, &q, 9), nil) // old deadline not reached: nothing moves
	if es[0].key != 10 {
		t.Fatalf("key after PopExpired(9) = %d, want 10 (not moved)", es[0].key)
	}
	wantOrder(t, drain(t, &q, 10), nil) // woke early: the entry takes its place
	if es[0].key != 30 {
		t.Fatalf("key after PopExpired(10) = %d, want 30", es[0].key)
	}
	if at, ok := q.WakeTime(); !ok || at != 20 {
		t.Fatalf("WakeTime() = %d, %v; want 20, true", at, ok)
	}
	wantOrder(t, drain(t, &q, 30), []int{1, 0})
}

func TestWakeTimeCountsEarlierMovesWithoutApplyingThem(t *testing.T) {
	var q Queue[int]
	if at, ok := q.WakeTime(); ok {
		t.Fatalf("WakeTime() on the zero queue = %d, true; want false", at)
	}
	es := newEntries(8)
	for i := range es {
		q.Schedule(&es[i], int64(10+i))
	}
	wantMin(t, &q, 0)
	q.Schedule(&es[5], 4)
	q.Schedule(&es[6], 7)
	q.Schedule(&es[6], 3) // listed already: moved earlier again
	q.Schedule(&es[7], 2)
	q.Schedule(&es[7], 30) // listed, then moved behind its place
	for range 2 {
		if at, ok := q.WakeTime(); !ok || at != 2 {
			t.Fatalf("WakeTime() = %d, %v; want 2, true (a lower bound: entry 7 moved away from 2)", at, ok)
		}
		checkQueue(t, &q)
	}
	wantOrder(t, drain(t, &q, 1), nil) // nothing due by 1: nothing moves
	if q.early.len() != 3 || es[5].key != 15 {
		t.Fatalf("after PopExpired(1): list length %d, entry 5 key %d; want 3, 15 (not applied)", q.early.len(), es[5].key)
	}
	wantOrder(t, drain(t, &q, 3), []int{6}) // entry 6 may be due: the list is applied
	if q.early.len() != 0 || es[5].key != 4 {
		t.Fatalf("after PopExpired(3): list length %d, entry 5 key %d; want 0, 4", q.early.len(), es[5].key)
	}
	if at, ok := q.WakeTime(); !ok || at != 4 {
		t.Fatalf("WakeTime() = %d, %v; want 4, true", at, ok)
	}
	q.Remove(&es[5]) // the front: WakeTime drops it
	if at, ok := q.WakeTime(); !ok || at != 10 {
		t.Fatalf("WakeTime() = %d, %v; want 10, true (front removed)", at, ok)
	}
	checkQueue(t, &q)
	if holds(&q, &es[5]) {
		t.Fatal("the zombie found at the front is still in the tree")
	}
	for i := range es {
		q.Remove(&es[i])
	}
	if at, ok := q.WakeTime(); ok {
		t.Fatalf("WakeTime() with nothing scheduled = %d, true; want false", at)
	}
	checkQueue(t, &q)
}

func TestRescheduleEarlierAppliesAtNextMin(t *testing.T) {
	var q Queue[int]
	es := newEntries(3)
	q.Schedule(&es[0], 10)
	q.Schedule(&es[1], 20)
	q.Schedule(&es[2], 30)
	wantMin(t, &q, 0)
	q.Schedule(&es[2], 5)
	q.Schedule(&es[2], 4) // already on the moved-earlier list: listed once
	checkQueue(t, &q)
	if q.early.len() != 1 || es[2].key != 30 {
		t.Fatalf("moved earlier: list length %d key %d; want 1, 30", q.early.len(), es[2].key)
	}
	wantMin(t, &q, 2)
	if q.early.len() != 0 {
		t.Fatalf("moved-earlier list has %d entries after Min, want 0", q.early.len())
	}
	wantOrder(t, drain(t, &q, 100), []int{2, 0, 1})
}

func TestRescheduleEarlierThenLaterAgain(t *testing.T) {
	var q Queue[int]
	es := newEntries(3)
	q.Schedule(&es[0], 10)
	q.Schedule(&es[1], 20)
	q.Schedule(&es[2], 30)
	wantMin(t, &q, 0)
	q.Schedule(&es[1], 5)
	q.Schedule(&es[1], 40) // still listed, now behind its tree place
	checkQueue(t, &q)
	wantOrder(t, drain(t, &q, 100), []int{0, 2, 1})
}

func TestRescheduleToSameDeadlineGoesBehindEquals(t *testing.T) {
	var q Queue[int]
	es := newEntries(3)
	for i := range es {
		q.Schedule(&es[i], 10)
	}
	q.Schedule(&es[0], 10)
	q.Schedule(&es[1], 10)
	checkQueue(t, &q)
	wantOrder(t, drain(t, &q, 10), []int{2, 0, 1})
}

func TestRemoveArbitraryEntries(t *testing.T) {
	var q Queue[int]
	es := newEntries(10)
	for i := range es {
		q.Schedule(&es[i], int64(100-i))
	}
	wantMin(t, &q, 9)
	for _, i := range []int{0, 9, 4, 5} {
		if !q.Remove(&es[i]) {
			t.Fatalf("Remove(entry %d) = false, want true", i)
		}
		if q.Remove(&es[i]) {
			t.Fatalf("second Remove(entry %d) = true, want false", i)
		}
		checkQueue(t, &q)
	}
	if q.Len() != 6 {
		t.Fatalf("Len() = %d, want 6", q.Len())
	}
	wantOrder(t, drain(t, &q, 100), []int{8, 7, 6, 3, 2, 1})
}

func TestRemoveLeavesListedEntryForTheListToSkip(t *testing.T) {
	var q Queue[int]
	es := newEntries(4)
	for i := range es {
		q.Schedule(&es[i], 100)
	}
	wantMin(t, &q, 0)
	for i := range es {
		q.Schedule(&es[i], int64(50-i)) // all four listed
	}
	q.Remove(&es[1]) // writes to entry 1 alone: the list keeps its slot
	checkQueue(t, &q)
	if q.early.len() != 4 || es[1].early != 2 || es[3].early != 4 {
		t.Fatalf("list length %d, removed entry at %d, last entry at %d; want 4, 2, 4 (untouched)",
			q.early.len(), es[1].early, es[3].early)
	}
	if at, ok := q.WakeTime(); !ok || at != 47 {
		t.Fatalf("WakeTime() = %d, %v; want 47, true", at, ok)
	}
	wantOrder(t, drain(t, &q, 100), []int{3, 2, 0})
	if es[1].Scheduled() || holds(&q, &es[1]) || q.zombies != 0 {
		t.Fatalf("removed entry: scheduled %v, held %v, zombies %d; want false, false, 0",
			es[1].Scheduled(), holds(&q, &es[1]), q.zombies)
	}
}

func TestNewEntriesWaitOnTheListUntilOneMayBeDue(t *testing.T) {
	var q Queue[int]
	es := newEntries(5)
	for i, when := range []int64{40, 20, 50, 30, 10} {
		q.Schedule(&es[i], when) // O(1): listed, not inserted
	}
	checkQueue(t, &q)
	if q.tree != nil || q.early.len() != 5 || q.Len() != 5 {
		t.Fatalf("after 5 new entries: tree %v, list length %d, Len %d; want nil, 5, 5", q.tree, q.early.len(), q.Len())
	}
	if at, ok := q.WakeTime(); !ok || at != 10 {
		t.Fatalf("WakeTime() = %d, %v; want 10, true (the earliest listed deadline)", at, ok)
	}
	wantOrder(t, drain(t, &q, 9), nil) // none may be due: nothing inserted
	if q.tree != nil || q.early.len() != 5 {
		t.Fatalf("after PopExpired(9): tree %v, list length %d; want nil, 5", q.tree, q.early.len())
	}
	wantOrder(t, drain(t, &q, 30), []int{4, 1, 3}) // the whole list goes in at once
	if q.early.len() != 0 || q.tree.Len() != 2 {
		t.Fatalf("after PopExpired(30): list length %d, tree has %d; want 0, 2", q.early.len(), q.tree.Len())
	}
	q.Schedule(&es[4], 45) // popped: new again, listed while the tree has entries
	if at, ok := q.WakeTime(); !ok || at != 40 {
		t.Fatalf("WakeTime() = %d, %v; want 40, true (the tree's front is earlier than the list)", at, ok)
	}
	wantOrder(t, drain(t, &q, 100), []int{0, 4, 2})
}

func TestRemovedNewEntriesNeverEnterTheTree(t *testing.T) {
	var q Queue[int]
	es := newEntries(3)
	for i := range es {
		q.Schedule(&es[i], int64(10*(i+1)))
	}
	q.Remove(&es[0])
	q.Remove(&es[2])
	checkQueue(t, &q)
	if at, ok := q.WakeTime(); !ok || at > 20 {
		t.Fatalf("WakeTime() = %d, %v; want at most 20, true", at, ok)
	}
	q.Remove(&es[1])
	if at, ok := q.WakeTime(); ok {
		t.Fatalf("WakeTime() with only removed entries listed = %d, true; want false", at)
	}
	q.Schedule(&es[2], 5) // revived: still listed once
	checkQueue(t, &q)
	if q.early.len() != 3 || es[2].early != 3 {
		t.Fatalf("list length %d, revived entry at %d; want 3, 3", q.early.len(), es[2].early)
	}
	wantMin(t, &q, 2)
	if q.tree.Len() != 1 || q.zombies != 0 || holds(&q, &es[0]) || holds(&q, &es[1]) {
		t.Fatalf("tree has %d, zombies %d, holds removed entries %v %v; want 1, 0, false, false",
			q.tree.Len(), q.zombies, holds(&q, &es[0]), holds(&q, &es[1]))
	}
}

func TestListedZombieDroppedFromTreeStaysListedUntilApplied(t *testing.T) {
	q, es := treeOfTens(t, 3)
	q.Schedule(&es[1], 5) // listed: key 20, wanted at 5
	q.Remove(&es[1])      // a zombie in the tree and on the list
	q.Remove(&es[0])      // the front: dropped by the next front
	if e, ok := q.PopExpired(4); ok {
		t.Fatalf("PopExpired(4) = entry %d, want none", e.Value)
	}
	checkQueue(t, q)
	q.Schedule(&es[0], 1)
	q.Remove(&es[2])
	q.Remove(&es[0])
	if _, ok := q.Min(); ok { // nothing live: the tree is cleared, the list applied
		t.Fatal("Min() found an entry, want none")
	}
	checkQueue(t, q)
	q.Schedule(&es[1], 7) // was swept while listed: new again
	checkQueue(t, q)
	wantOrder(t, drain(t, q, 100), []int{1})
}

func TestPurgeLeavesAHoleAndCompactsPastHalf(t *testing.T) {
	var q Queue[int]
	es := newEntries(6)
	for i := range es {
		q.Schedule(&es[i], int64(10*(i+1))) // all listed
	}
	q.Purge(&es[1]) // leaves a hole: no other entry moves
	checkQueue(t, &q)
	if q.early.len() != 6 || q.holes != 1 || es[5].early != 6 || holds(&q, &es[1]) {
		t.Fatalf("after one Purge: list length %d, holes %d, last entry at %d, held %v; want 6, 1, 6, false",
			q.early.len(), q.holes, es[5].early, holds(&q, &es[1]))
	}
	q.Purge(&es[0])
	q.Purge(&es[3])
	q.Purge(&es[4]) // 4 holes of 6: compacted
	checkQueue(t, &q)
	if q.early.len() != 2 || q.holes != 0 || es[2].early != 1 || es[5].early != 2 {
		t.Fatalf("after compaction: list length %d, holes %d, entries at %d %d; want 2, 0, 1, 2",
			q.early.len(), q.holes, es[2].early, es[5].early)
	}
	q.Schedule(&es[1], 35) // purged: as new
	wantOrder(t, drain(t, &q, 100), []int{2, 1, 5})
}

func TestBatchIntoEmptyTreeFillsItsNodes(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	const n = 100000
	es := newEntries(n)
	rng := splitmix64(seed)
	var q Queue[int]
	before := liveHeap()
	for i := range es {
		q.Schedule(&es[i], rng.idleTimeout())
	}
	// Listed, an entry costs a pointer and its deadline, and growing the
	// list copies nothing: no margin, no garbage.
	if perListed := float64(liveHeap()-before) / n; perListed > 16.5 {
		t.Fatalf("list costs %.1f bytes per entry, want at most 16.5", perListed)
	}
	q.Min() // one sorted batch into the empty tree
	perEntry := float64(liveHeap()-before) / n
	checkQueue(t, &q)
	if q.early.capacity() > listChunk || cap(q.batch) != 0 {
		t.Fatalf("list array of %d slots and batch of %d kept after a burst into a tree of %d, want at most one chunk and no batch",
			q.early.capacity(), cap(q.batch), q.tree.Len())
	}
	// Sorted items inserted one by one leave the nodes half full: about
	// 33 bytes per entry; inserts at random places leave them about 28.
	if perEntry > 24 {
		t.Fatalf("tree built from one batch costs %.1f bytes per entry, want at most 24", perEntry)
	}
	t.Logf("tree built from one batch: %.1f bytes per entry", perEntry)
	runtime.KeepAlive(es)
	runtime.KeepAlive(&q)
}

// liveHeap returns the bytes of live heap objects.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func TestRemovedEntryRevivesInPlace(t *testing.T) {
	q, es := treeOfTens(t, 3)
	q.Remove(&es[1])
	q.Schedule(&es[1], 25) // a zombie: revived where it stands, no insert
	checkQueue(t, q)
	if q.tree.Len() != 3 || q.zombies != 0 || es[1].key != 20 {
		t.Fatalf("revived: tree has %d, zombies %d, key %d; want 3, 0, 20", q.tree.Len(), q.zombies, es[1].key)
	}
	q.Remove(&es[2])
	q.Schedule(&es[2], 1) // revived earlier than its place: listed
	checkQueue(t, q)
	if q.early.len() != 1 {
		t.Fatalf("moved-earlier list length %d, want 1", q.early.len())
	}
	wantOrder(t, drain(t, q, 100), []int{2, 0, 1})
}

func TestZombieAtFrontIsDropped(t *testing.T) {
	var q Queue[int]
	es := newEntries(8)
	for i := range es {
		q.Schedule(&es[i], int64(i))
	}
	wantMin(t, &q, 0)
	q.Remove(&es[0]) // 1 of 8: below the sweep threshold
	wantMin(t, &q, 1)
	if q.tree.Len() != 7 || holds(&q, &es[0]) {
		t.Fatalf("tree has %d entries, holds removed entry %v; want 7, false", q.tree.Len(), holds(&q, &es[0]))
	}
}

func TestZombiesAreSweptPastAQuarterOfTheTree(t *testing.T) {
	var q Queue[int]
	es := newEntries(100)
	for i := range es {
		q.Schedule(&es[i], int64(i))
	}
	wantMin(t, &q, 0)
	for i := 50; i < 75; i++ {
		q.Remove(&es[i])
	}
	wantMin(t, &q, 0)
	if q.tree.Len() != 100 {
		t.Fatalf("tree has %d entries with 25 of 100 zombies, want 100 (not yet swept)", q.tree.Len())
	}
	q.Remove(&es[75])
	wantMin(t, &q, 0)
	if q.tree.Len() != 74 || q.zombies != 0 {
		t.Fatalf("tree has %d entries and %d zombies, want 74 and 0", q.tree.Len(), q.zombies)
	}
	for i := 50; i <= 75; i++ {
		if es[i].state != 0 || holds(&q, &es[i]) {
			t.Fatalf("swept entry %d: state %b, held %v; want 0, false", i, es[i].state, holds(&q, &es[i]))
		}
	}
}

func TestZombiesAllDroppedWhenNothingIsLive(t *testing.T) {
	var q Queue[int]
	es := newEntries(200)
	for i := range es {
		q.Schedule(&es[i], int64(i))
	}
	wantMin(t, &q, 0)
	for i := range es {
		q.Remove(&es[i])
	}
	if e, ok := q.Min(); ok {
		t.Fatalf("Min() = entry %d, want none", e.Value)
	}
	checkQueue(t, &q)
	if q.tree.Len() != 0 {
		t.Fatalf("tree has %d entries, want 0", q.tree.Len())
	}
	q.Schedule(&es[7], 1) // the cleared tree is reused
	wantMin(t, &q, 7)
}

func TestPurgeDropsEveryReference(t *testing.T) {
	var q Queue[int]
	es := newEntries(5)
	for i := range es {
		q.Schedule(&es[i], int64(10*i))
	}
	wantMin(t, &q, 0)
	q.Schedule(&es[4], 1) // on the moved-earlier list
	q.Remove(&es[2])      // a zombie
	for _, i := range []int{4, 2, 1} {
		q.Purge(&es[i])
		checkQueue(t, &q)
		if holds(&q, &es[i]) {
			t.Fatalf("queue still holds entry %d after Purge", i)
		}
		if got := es[i]; got != (Entry[int]{Value: i}) {
			t.Fatalf("entry %d after Purge = %+v, want zero but Value", i, got)
		}
	}
	if q.Len() != 2 || q.tree.Len() != 2 {
		t.Fatalf("Len %d, tree has %d; want 2, 2", q.Len(), q.tree.Len())
	}
	q.Schedule(&es[2], 5) // a purged entry is as new
	wantOrder(t, drain(t, &q, 100), []int{0, 2, 3})
}

func TestWhenSurvivesPopAndRemoveButNotPurge(t *testing.T) {
	var q Queue[int]
	es := newEntries(2)
	q.Schedule(&es[0], 42)
	q.Schedule(&es[1], 43)
	if e, _ := q.PopExpired(42); e.When() != 42 {
		t.Fatalf("When() after PopExpired = %d, want 42", e.When())
	}
	q.Remove(&es[1])
	if es[1].When() != 43 {
		t.Fatalf("When() after Remove = %d, want 43", es[1].When())
	}
	q.Purge(&es[1])
	if es[1].When() != 0 {
		t.Fatalf("When() after Purge = %d, want 0", es[1].When())
	}
}

func TestEntryIsFortyBytesPlusValue(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if got := unsafe.Sizeof(Entry[struct{}]{}); got != 40 {
		t.Fatalf("Sizeof(Entry[struct{}]) = %d, want 40", got)
	}
	if got := unsafe.Sizeof(Entry[*int]{}); got != 48 {
		t.Fatalf("Sizeof(Entry[*int]) = %d, want 48", got)
	}
}

func TestRescheduleAndRemoveAllocateNothing(t *testing.T) {
	var q Queue[int]
	es := newEntries(10000)
	rng := splitmix64(seed)
	for i := range es {
		q.Schedule(&es[i], rng.idleTimeout())
	}
	i := 0
	cycle := func() {
		e := &es[i%len(es)]
		i++
		q.Schedule(e, rng.idleTimeout()) // later or earlier
		q.Schedule(e, rng.idleTimeout())
		if i%3 == 0 {
			q.Remove(e)
		}
		switch i % 16 {
		case 0:
			q.Min() // applies the deferred moves, drops zombies
		case 8:
			q.WakeTime()
		}
		if e, ok := q.PopExpired(int64(i) * 1e5); ok { // time passes
			q.Schedule(e, int64(i)*1e5+rng.idleTimeout())
		}
	}
	for range 2 * len(es) { // warm up: lists and the node free list reach their size
		cycle()
	}
	// AllocsPerRun rounds down, so count whole batches of cycles: one
	// allocation in a batch shows.
	batch := func() {
		for range 5000 {
			cycle()
		}
	}
	if allocs := testing.AllocsPerRun(4, batch); allocs != 0 {
		t.Fatalf("allocations per 5000 reschedule/remove cycles = %v, want 0", allocs)
	}
	checkQueue(t, &q)
}

func TestZombieSweepAllocatesNothingOnceWarm(t *testing.T) {
	var q Queue[int]
	es := newEntries(1000)
	var ms runtime.MemStats
	for round := range 3 {
		for i := range es {
			q.Schedule(&es[i], int64(i))
		}
		q.Min()
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		for i := 1; i < len(es); i += 2 {
			q.Remove(&es[i])
		}
		q.Min() // half the tree are zombies: sweeps
		runtime.ReadMemStats(&ms)
		checkQueue(t, &q)
		if q.tree.Len() != len(es)/2 {
			t.Fatalf("tree has %d entries after the sweep, want %d", q.tree.Len(), len(es)/2)
		}
		// Round 0 sizes the scratch slice; later rounds must reuse it.
		if got := ms.Mallocs - before; round > 0 && got != 0 {
			t.Fatalf("round %d: sweeping allocated %d times, want 0", round, got)
		}
	}
}

func TestEntryMisusedInTwoQueuesDoesNotPanic(t *testing.T) {
	var a, b Queue[int]
	es := newEntries(3)
	for i := range es {
		a.Schedule(&es[i], int64(10*i+10))
	}
	own := newEntries(1)
	b.Schedule(&own[0], 1)
	b.PopExpired(1) // b has a tree, now empty

	a.Remove(&es[0])
	b.Schedule(&es[0], 100) // a's zombie: b counts it live, but b's tree is empty
	b.Min()
	b.WakeTime()
	b.PopExpired(100)
	a.Schedule(&es[2], 1) // on a's moved-earlier list
	b.Remove(&es[2])      // not on b's
	b.Purge(&es[2])
	a.Min()
	a.PopExpired(100)
}

// A long list whose earliest entry comes due is applied in part: the due
// entries and about a partShare-th of the rest, the earliest of them, go
// in, and the rest stays listed under an exact bound, so the loop is never
// held by one long batch of inserts and the next part waits until its
// entries come due.
func TestLongListIsAppliedInParts(t *testing.T) {
	shortWholeList(t, 64)
	const n = 1000
	es := newEntries(n)
	var q Queue[int]
	for i := range es {
		q.Schedule(&es[i], int64(n-i)) // deadlines n..1, all listed
	}
	e, ok := q.PopExpired(1)
	if !ok || e != &es[n-1] {
		t.Fatalf("PopExpired(1) = %v, %v; want the entry due at 1", e, ok)
	}
	checkQueue(t, &q)
	listed := q.early.len() - q.holes
	want := max(wholeList/4, (n-1)/partShare)
	if applied := n - 1 - listed; applied < want/2 || applied > 2*want {
		t.Errorf("applied %d of %d entries not yet due, want about %d", applied, n-1, want)
	}
	// The part was the earliest entries: every one in the tree is due
	// before every one still listed.
	var earliest int64 = math.MaxInt64
	for _, e := range q.early.slots() {
		if e != nil {
			earliest = min(earliest, e.when)
		}
	}
	if q.earlyAt != earliest {
		t.Errorf("list bound %d, want the earliest listed deadline %d", q.earlyAt, earliest)
	}
	if last, ok := q.tree.Max(); ok && last.key >= earliest {
		t.Errorf("the tree holds an entry due at %d, not before the earliest listed one (%d)", last.key, earliest)
	}
	wantOrder(t, drain(t, &q, n), ids(n-2, 0))
}

// A part reads the deadlines in the list's slots, not the entries: an
// entry listed again with a new deadline has it in its slot, and a part
// takes or keeps it by that deadline.
func TestPartsFollowTheDeadlinesInTheSlots(t *testing.T) {
	shortWholeList(t, 64)
	const n = 1000
	es := newEntries(n)
	var q Queue[int]
	for i := range es {
		q.Schedule(&es[i], int64(100+i)) // 100..1099, all listed
	}
	q.Schedule(&es[0], 5000) // the earliest moves to the end
	q.Schedule(&es[n-1], 50) // the latest moves to the front
	checkQueue(t, &q)
	if e, ok := q.PopExpired(50); !ok || e != &es[n-1] {
		t.Fatalf("PopExpired(50) = %v, %v; want entry %d", e, ok, n-1)
	}
	checkQueue(t, &q)
	if es[0].early == 0 {
		t.Errorf("entry 0, moved to 5000, was applied with the earliest part")
	}
	want := []int{}
	for i := 1; i < n-1; i++ {
		want = append(want, i)
	}
	wantOrder(t, drain(t, &q, 10000), append(want, 0))
}

// shortWholeList makes lists longer than n take the partial path until the
// test ends.
func shortWholeList(t *testing.T, n int) {
	saved := wholeList
	wholeList = n
	t.Cleanup(func() { wholeList = saved })
}

// ids returns the ids from, from-1, ..., to.
func ids(from, to int) []int {
	var s []int
	for i := from; i >= to; i-- {
		s = append(s, i)
	}
	return s
}

// Each stops as soon as its function returns false, whether the entries
// stand in the tree or only on the list of entries not yet placed.
func TestEachStopsWhenToldTo(t *testing.T) {
	var q Queue[int]
	es := newEntries(10)
	for i := range es {
		q.Schedule(&es[i], int64(i))
	}
	for _, placed := range []bool{false, true} {
		if placed {
			q.Min() // applies the list: the entries go into the tree
		}
		calls := 0
		q.Each(func(*Entry[int]) bool { calls++; return calls < 3 })
		if calls != 3 {
			t.Errorf("placed %v: Each called its function %d times, want 3", placed, calls)
		}
	}
}
