package paged

import (
	"slices"
	"testing"
	"unsafe"
)

// record is a record of the size of the event package's descriptor slots.
type record struct {
	p             *int
	nRead, nWrite uint16
	gen           uint32
	flags         uint64
}

// A number nothing has used has no record; making one makes only its own
// page, so numbers far apart do not fill the table between them.
func TestTableMakesOnlyThePagesInUse(t *testing.T) {
	var tb Table[record]
	for _, fd := range []int{0, 5, 1 << 20} {
		if s := tb.Get(fd); s != nil {
			t.Fatalf("Get(%d) on an empty table = %p, want nil", fd, s)
		}
	}
	tb.Make(3).nRead = 1
	tb.Make(100000).nWrite = 2
	if got := tb.Get(3); got == nil || got.nRead != 1 {
		t.Fatalf("Get(3) = %+v, want the record with nRead 1", got)
	}
	if got := tb.Get(100000); got == nil || got.nWrite != 2 {
		t.Fatalf("Get(100000) = %+v, want the record with nWrite 2", got)
	}
	if s := tb.Get(50000); s != nil {
		t.Errorf("get(50000), between two pages in use, = %p, want nil", s)
	}
	made := 0
	for _, p := range tb.Pages {
		if p != nil {
			made++
		}
	}
	if made != 2 {
		t.Errorf("%d pages made for two descriptors far apart, want 2", made)
	}
	var fds []int
	tb.Each(func(fd int, s *record) {
		if s.nRead != 0 || s.nWrite != 0 {
			fds = append(fds, fd)
		}
		if s != tb.Get(fd) {
			t.Fatalf("Each gave %d the record %p, Get gives %p", fd, s, tb.Get(fd))
		}
	})
	if want := []int{3, 100000}; !slices.Equal(fds, want) {
		t.Errorf("Each visited used records %v, want %v", fds, want)
	}
}

// Filling the table one number at a time, as a server accepting
// connections does, never copies a record: every record keeps its
// address, and the table holds at most one page more than its numbers
// need.
func TestTableGrowsWithoutMovingRecords(t *testing.T) {
	const n = 10000
	var tb Table[record]
	addrs := make([]*record, n)
	for fd := range n {
		addrs[fd] = tb.Make(fd)
		addrs[fd].gen = uint32(fd)
	}
	for fd, s := range addrs {
		if tb.Get(fd) != s || s.gen != uint32(fd) {
			t.Fatalf("record of %d moved or changed", fd)
		}
	}
	bytes := len(tb.Pages) * int(unsafe.Sizeof(Page[record]{}))
	if most := (n/PerPage + 1) * int(unsafe.Sizeof(Page[record]{})); bytes > most {
		t.Errorf("table of %d numbers holds %d bytes of records, want at most %d", n, bytes, most)
	}
}
