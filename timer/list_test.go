package timer

import "testing"

// The list keeps its slots across chunk boundaries, in order, and each
// entry stays at the index push gave it as the list grows.
func TestEntryListKeepsIndexesAcrossChunks(t *testing.T) {
	var l entryList[int]
	es := newEntries(3*listChunk + 7)
	for i := range es {
		if got := l.push(item[int]{int64(i), &es[i]}); got != i {
			t.Fatalf("push #%d returned slot %d", i, got)
		}
	}
	if l.len() != len(es) || l.capacity() != 4*listChunk {
		t.Fatalf("len %d, capacity %d; want %d, %d", l.len(), l.capacity(), len(es), 4*listChunk)
	}
	for i := range es {
		if it := l.at(i); it.e != &es[i] || it.key != int64(i) {
			t.Fatalf("slot %d holds %p at %d, want %p at %d", i, it.e, it.key, &es[i], i)
		}
	}
	l.set(listChunk, item[int]{})
	if l.at(listChunk).e != nil || l.at(listChunk+1).e != &es[listChunk+1] {
		t.Fatal("set changed a slot other than its own")
	}
	l.setKey(listChunk+1, -5)
	if it := l.at(listChunk + 1); it.e != &es[listChunk+1] || it.key != -5 || l.at(listChunk+2).key != listChunk+2 {
		t.Fatal("setKey changed more than its own slot's deadline")
	}
}

// truncate leaves no reference behind in the slots it drops, so that the
// entries can be collected, and later pushes reuse those slots.
func TestEntryListTruncateClearsWhatItDrops(t *testing.T) {
	var l entryList[int]
	es := newEntries(2*listChunk + 3)
	for i := range es {
		l.push(item[int]{int64(i), &es[i]})
	}
	const keep = listChunk - 5
	l.truncate(keep)
	for i, e := range l.allSlots() {
		if i >= keep && e != nil {
			t.Fatalf("slot %d still holds an entry after truncate(%d)", i, keep)
		}
		if i < keep && e != &es[i] {
			t.Fatalf("slot %d lost its entry in truncate(%d)", i, keep)
		}
	}
	if got := l.push(item[int]{0, &es[0]}); got != keep {
		t.Errorf("push after truncate(%d) took slot %d", keep, got)
	}
}

// shrink gives back the chunks past what it is asked to keep, and always
// keeps one.
func TestEntryListShrinkKeepsAtLeastOneChunk(t *testing.T) {
	var l entryList[int]
	es := newEntries(5 * listChunk)
	for i := range es {
		l.push(item[int]{int64(i), &es[i]})
	}
	l.truncate(0)
	l.shrink(2*listChunk + 1)
	if l.capacity() != 3*listChunk {
		t.Errorf("shrink(2 chunks + 1) left %d slots, want %d", l.capacity(), 3*listChunk)
	}
	l.shrink(0)
	if l.capacity() != listChunk {
		t.Errorf("shrink(0) left %d slots, want one chunk of %d", l.capacity(), listChunk)
	}
}
