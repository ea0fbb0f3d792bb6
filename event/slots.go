package event

// slotTable holds the fdSlot of every descriptor number the base has
// watched, in pages of slotsPerPage allocated as numbers come into use.
// A flat array indexed by descriptor (libevent's evmap_io) doubles as it
// grows: a server ramping up to 10,000 connections would copy it a dozen
// times, leave the old arrays as garbage and end with up to twice the
// slots it needs, some 40-60 bytes per connection of peak RSS. Pages are
// never copied, and numbers far apart cost only their own pages.
type slotTable struct {
	pages []*slotPage // pages[fd>>slotPageShift], nil until used
}

const (
	slotPageShift = 8
	slotsPerPage  = 1 << slotPageShift // 6 KiB of slots per page
)

type slotPage [slotsPerPage]fdSlot

// get returns fd's slot, or nil if its page was never made (then nothing
// has watched fd). fd must not be negative.
func (t *slotTable) get(fd int) *fdSlot {
	p := uint(fd) >> slotPageShift
	if p >= uint(len(t.pages)) || t.pages[p] == nil {
		return nil
	}
	return &t.pages[p][fd&(slotsPerPage-1)]
}

// slot returns fd's slot, making its page if needed.
func (t *slotTable) slot(fd int) *fdSlot {
	p := fd >> slotPageShift
	if p >= len(t.pages) {
		t.pages = append(t.pages, make([]*slotPage, p+1-len(t.pages))...)
	}
	if t.pages[p] == nil {
		t.pages[p] = new(slotPage)
	}
	return &t.pages[p][fd&(slotsPerPage-1)]
}

// each calls f for every slot in the table, in descriptor order.
func (t *slotTable) each(f func(fd int, s *fdSlot)) {
	for p, page := range t.pages {
		if page == nil {
			continue
		}
		for i := range page {
			f(p<<slotPageShift+i, &page[i])
		}
	}
}
