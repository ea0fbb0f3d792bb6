// Package paged is a table of records indexed by a small non-negative
// number (a descriptor), kept in fixed pages made as numbers come into
// use.
//
// A flat array indexed by descriptor (libevent's evmap_io, the fd arrays
// of its epoll and poll backends) doubles or grows by half as larger
// numbers appear: a server ramping up to 10,000 connections copies it a
// dozen times, leaves the outgrown arrays to the collector and ends with up
// to twice the records it needs. Pages are never copied, a record keeps its
// address for the table's life, and numbers far apart cost only their own
// pages. The event package keeps its descriptor slots here, the io_uring
// backend its per-descriptor records.
package paged

const (
	// Shift is log2 of PerPage.
	Shift = 8
	// PerPage is how many records a page holds.
	PerPage = 1 << Shift
)

// Page is one page of records.
type Page[T any] [PerPage]T

// Table holds the records; the zero value is an empty table.
type Table[T any] struct {
	Pages []*Page[T] // Pages[k>>Shift], nil until a record in it is made
}

// Get returns k's record, or nil if its page was never made. k must not
// be negative.
func (t *Table[T]) Get(k int) *T {
	p := uint(k) >> Shift
	if p >= uint(len(t.Pages)) || t.Pages[p] == nil {
		return nil
	}
	return &t.Pages[p][k&(PerPage-1)]
}

// At returns the record of a k whose page is known to exist (one made
// before and not yet reset); it panics otherwise.
func (t *Table[T]) At(k int) *T {
	return &t.Pages[uint(k)>>Shift][k&(PerPage-1)]
}

// Make returns k's record, making its page if needed.
func (t *Table[T]) Make(k int) *T {
	p := int(uint(k) >> Shift)
	if p >= len(t.Pages) {
		t.Pages = append(t.Pages, make([]*Page[T], p+1-len(t.Pages))...)
	}
	if t.Pages[p] == nil {
		t.Pages[p] = new(Page[T])
	}
	return &t.Pages[p][k&(PerPage-1)]
}

// Each calls f for every record of every page made, in order of k.
func (t *Table[T]) Each(f func(k int, r *T)) {
	for p, page := range t.Pages {
		if page == nil {
			continue
		}
		for i := range page {
			f(p<<Shift+i, &page[i])
		}
	}
}
