package event

import (
	"slices"
	"testing"
	"unsafe"
)

// A descriptor number nothing has watched has no slot; watching one makes
// only its own page, so numbers far apart do not fill the table between
// them.
func TestSlotTableMakesOnlyThePagesInUse(t *testing.T) {
	var tb slotTable
	for _, fd := range []int{0, 5, 1 << 20} {
		if s := tb.get(fd); s != nil {
			t.Fatalf("get(%d) on an empty table = %p, want nil", fd, s)
		}
	}
	tb.slot(3).nRead = 1
	tb.slot(100000).nWrite = 2
	if got := tb.get(3); got == nil || got.nRead != 1 {
		t.Fatalf("get(3) = %+v, want the slot with nRead 1", got)
	}
	if got := tb.get(100000); got == nil || got.nWrite != 2 {
		t.Fatalf("get(100000) = %+v, want the slot with nWrite 2", got)
	}
	if s := tb.get(50000); s != nil {
		t.Errorf("get(50000), between two pages in use, = %p, want nil", s)
	}
	made := 0
	for _, p := range tb.pages {
		if p != nil {
			made++
		}
	}
	if made != 2 {
		t.Errorf("%d pages made for two descriptors far apart, want 2", made)
	}
	var fds []int
	tb.each(func(fd int, s *fdSlot) {
		if s.nRead != 0 || s.nWrite != 0 {
			fds = append(fds, fd)
		}
		if s != tb.get(fd) {
			t.Fatalf("each gave fd %d the slot %p, get gives %p", fd, s, tb.get(fd))
		}
	})
	if want := []int{3, 100000}; !slices.Equal(fds, want) {
		t.Errorf("each visited used slots %v, want %v", fds, want)
	}
}

// Filling the table one descriptor at a time, as a server accepting
// connections does, never copies a slot: every slot keeps its address,
// and the table holds at most one page more than its descriptors need.
func TestSlotTableGrowsWithoutMovingSlots(t *testing.T) {
	const n = 10000
	var tb slotTable
	addrs := make([]*fdSlot, n)
	for fd := range n {
		addrs[fd] = tb.slot(fd)
		addrs[fd].gen = uint32(fd)
	}
	for fd, s := range addrs {
		if tb.get(fd) != s || s.gen != uint32(fd) {
			t.Fatalf("slot of fd %d moved or changed", fd)
		}
	}
	bytes := len(tb.pages) * int(unsafe.Sizeof(slotPage{}))
	if most := (n/slotsPerPage + 1) * int(unsafe.Sizeof(slotPage{})); bytes > most {
		t.Errorf("table of %d descriptors holds %d bytes of slots, want at most %d", n, bytes, most)
	}
}
