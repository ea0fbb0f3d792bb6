package poller

// uringFds is the backend's uringFd records by descriptor number, in pages
// of fdsPerPage made as numbers come into use. Growing it copies nothing:
// a burst of new connections leaves no outgrown table behind for the
// collector, and n descriptors cost about n records, not up to 1.5 n as a
// slice grown by half would. The event package's slot table is paged the
// same way.
type uringFds struct {
	pages []*fdsPage
}

const (
	fdsPageShift = 8
	fdsPerPage   = 1 << fdsPageShift // 6 KiB of records
)

type fdsPage [fdsPerPage]uringFd

// get returns fd's record, or nil if its page was never made.
func (t *uringFds) get(fd int32) *uringFd {
	i := uint32(fd) >> fdsPageShift
	if i >= uint32(len(t.pages)) || t.pages[i] == nil {
		return nil
	}
	return &t.pages[i][fd&(fdsPerPage-1)]
}

// at returns the record of a descriptor known to have one: registered, or
// named by a request or a list.
func (t *uringFds) at(fd int32) *uringFd {
	return &t.pages[uint32(fd)>>fdsPageShift][fd&(fdsPerPage-1)]
}

// has reports whether fd's page exists.
func (t *uringFds) has(fd int32) bool { return t.get(fd) != nil }

// make returns fd's record, making its page if needed.
func (t *uringFds) make(fd int32) *uringFd {
	i := int(uint32(fd) >> fdsPageShift)
	if i >= len(t.pages) {
		t.pages = append(t.pages, make([]*fdsPage, i+1-len(t.pages))...)
	}
	if t.pages[i] == nil {
		t.pages[i] = new(fdsPage)
	}
	return &t.pages[i][fd&(fdsPerPage-1)]
}

// clearMarks sets every record's mark to 0 (the reap epoch wrapped).
func (t *uringFds) clearMarks() {
	for _, pg := range t.pages {
		if pg != nil {
			for i := range pg {
				pg[i].mark = 0
			}
		}
	}
}
