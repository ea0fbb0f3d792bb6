package timer

import (
	"cmp"
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// model is the queue as a sorted slice: the obviously right version that
// the randomized test compares Queue with.
type model struct {
	seq   uint64
	order []modelEntry // scheduled entries by (when, seq)
}

type modelEntry struct {
	id   int
	when int64
	seq  uint64
}

func compareEntries(a, b modelEntry) int {
	if c := cmp.Compare(a.when, b.when); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

func (m *model) find(id int) (int, bool) {
	i := slices.IndexFunc(m.order, func(x modelEntry) bool { return x.id == id })
	return i, i >= 0
}

func (m *model) schedule(id int, when int64) {
	m.remove(id)
	m.seq++
	x := modelEntry{id, when, m.seq}
	i, _ := slices.BinarySearchFunc(m.order, x, compareEntries)
	m.order = slices.Insert(m.order, i, x)
}

func (m *model) remove(id int) bool {
	i, ok := m.find(id)
	if ok {
		m.order = slices.Delete(m.order, i, i+1)
	}
	return ok
}

// compare fails t unless q and es agree with m: Len, which entries are
// scheduled, their deadlines and their places among equal deadlines.
func (m *model) compare(t *testing.T, q *Queue[int], es []Entry[int], step string) {
	t.Helper()
	if err := queueError(q); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	if err := entriesError(q, es); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	if got, want := q.Len(), len(m.order); got != want {
		t.Fatalf("%s: Len() = %d, want %d", step, got, want)
	}
	scheduled := make([]bool, len(es))
	for _, x := range m.order {
		scheduled[x.id] = true
		if e := &es[x.id]; !e.Scheduled() || e.When() != x.when || e.wseq != x.seq {
			t.Fatalf("%s: entry %d: Scheduled %v When %d seq %d, want true %d %d",
				step, x.id, e.Scheduled(), e.When(), e.wseq, x.when, x.seq)
		}
	}
	for id := range es {
		if !scheduled[id] && es[id].Scheduled() {
			t.Fatalf("%s: entry %d is scheduled, want not", step, id)
		}
	}
	// Each visits the scheduled entries, each once, wherever they stand.
	visited := make([]bool, len(es))
	n := 0
	q.Each(func(e *Entry[int]) bool {
		if !scheduled[e.Value] || visited[e.Value] {
			t.Fatalf("%s: Each visits entry %d: scheduled %v, visited before %v", step, e.Value, scheduled[e.Value], visited[e.Value])
		}
		visited[e.Value] = true
		n++
		return true
	})
	if n != len(m.order) {
		t.Fatalf("%s: Each visits %d entries, want %d", step, n, len(m.order))
	}
}

func (m *model) compareMin(t *testing.T, q *Queue[int], step string) {
	t.Helper()
	e, ok := q.Min()
	if len(m.order) == 0 {
		if ok {
			t.Fatalf("%s: Min() = entry %d, want none", step, e.Value)
		}
		return
	}
	if want := m.order[0]; !ok || e.Value != want.id {
		t.Fatalf("%s: Min() = %v, %v; want entry %d (when %d)", step, e, ok, want.id, want.when)
	}
}

// compareWakeTime fails t unless WakeTime is at or before the model's
// earliest deadline, and reports nothing exactly when nothing is scheduled.
func (m *model) compareWakeTime(t *testing.T, q *Queue[int], step string) {
	t.Helper()
	at, ok := q.WakeTime()
	if want := len(m.order) > 0; ok != want || ok && at > m.order[0].when {
		t.Fatalf("%s: WakeTime() = %d, %v; want at most %v, %v", step, at, ok, m.order[:min(1, len(m.order))], want)
	}
}

func TestQueueAgreesWithSortedSliceModel(t *testing.T) {
	for _, tc := range []struct {
		name       string
		seed       int64
		entries    int
		probe      string // "Min" or "WakeTime" after every operation, or "" for neither
		operations int
		wholeList  int // 0: the default; small: long lists are applied in parts
	}{
		{"MinAfterEveryOperation", 1, 200, "Min", 30000, 0},
		{"WakeTimeAfterEveryOperation", 2, 200, "WakeTime", 30000, 0},
		{"DeferredWorkPilesUp", 3, 200, "", 30000, 0},
		{"FewEntriesManyTies", 4, 8, "", 20000, 0},
		{"ManyEntries", 5, 2000, "", 20000, 0},
		{"ListAppliedInParts", 6, 200, "", 30000, 4},
		{"ListAppliedInPartsWakeTime", 7, 200, "WakeTime", 30000, 4},
		{"ManyEntriesListInParts", 8, 2000, "", 20000, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wholeList != 0 {
				shortWholeList(t, tc.wholeList)
			}
			runModel(t, rand.New(rand.NewSource(tc.seed)), tc.entries, tc.operations, tc.probe)
		})
	}
}

func runModel(t *testing.T, rng *rand.Rand, n, ops int, probe string) {
	var (
		q   Queue[int]
		m   model
		now int64
	)
	es := newEntries(n)
	// scheduledID returns a random scheduled entry, if there is one.
	scheduledID := func() (int, bool) {
		if len(m.order) == 0 {
			return 0, false
		}
		return m.order[rng.Intn(len(m.order))].id, true
	}
	for op := range ops {
		id := rng.Intn(n)
		var step string
		switch r := rng.Intn(100); {
		case r < 30: // schedule an entry, first add or not
			when := now + rng.Int63n(50)
			step = fmt.Sprintf("op %d: Schedule(%d, %d)", op, id, when)
			q.Schedule(&es[id], when)
			m.schedule(id, when)
		case r < 45: // move a scheduled entry later, or to its own deadline
			if sid, ok := scheduledID(); ok {
				id = sid
				when := es[id].When() + rng.Int63n(20)
				step = fmt.Sprintf("op %d: Schedule(%d, %d) later", op, id, when)
				q.Schedule(&es[id], when)
				m.schedule(id, when)
			}
		case r < 60: // move a scheduled entry earlier
			if sid, ok := scheduledID(); ok {
				id = sid
				when := es[id].When() - 1 - rng.Int63n(20)
				step = fmt.Sprintf("op %d: Schedule(%d, %d) earlier", op, id, when)
				q.Schedule(&es[id], when)
				m.schedule(id, when)
			}
		case r < 75:
			step = fmt.Sprintf("op %d: Remove(%d)", op, id)
			if got, want := q.Remove(&es[id]), m.remove(id); got != want {
				t.Fatalf("%s = %v, want %v", step, got, want)
			}
		case r < 80:
			step = fmt.Sprintf("op %d: Purge(%d)", op, id)
			q.Purge(&es[id])
			m.remove(id)
			if holds(&q, &es[id]) {
				t.Fatalf("%s: the queue still holds the entry", step)
			}
		case r < 85:
			step = fmt.Sprintf("op %d: Min()", op)
			m.compareMin(t, &q, step)
		case r < 90:
			step = fmt.Sprintf("op %d: WakeTime()", op)
			m.compareWakeTime(t, &q, step)
		default: // time passes: pop what expired, in the model's order
			now += rng.Int63n(15)
			step = fmt.Sprintf("op %d: PopExpired(%d)", op, now)
			for {
				e, ok := q.PopExpired(now)
				wantOK := len(m.order) > 0 && m.order[0].when <= now
				if ok != wantOK {
					t.Fatalf("%s = %v, %v; want ok %v (model %v)", step, e, ok, wantOK, m.order[:min(3, len(m.order))])
				}
				if !ok {
					break
				}
				if want := m.order[0]; e.Value != want.id || e.Scheduled() {
					t.Fatalf("%s = entry %d (scheduled %v), want entry %d unscheduled", step, e.Value, e.Scheduled(), want.id)
				}
				m.remove(e.Value)
			}
		}
		if step == "" {
			continue
		}
		m.compare(t, &q, es, step)
		switch probe {
		case "Min":
			m.compareMin(t, &q, step+", then Min()")
		case "WakeTime":
			m.compareWakeTime(t, &q, step+", then WakeTime()")
		}
	}
}
