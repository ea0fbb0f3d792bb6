package bufferevent

import "errors"

var errBadRange = errors.New("bufferevent: search range outside the buffer")

// SearchRange returns the index of the first occurrence of p that starts at
// or after start and ends at or before end, or -1 if there is none
// (evbuffer_search_range, with positions as byte offsets from the front
// instead of evbuffer_ptr). end < 0 means the end of the data. Offsets
// outside 0 <= start <= end <= Len are an error. References and
// file ranges are copied into the ring first, as Peek does.
func (b *Buffer) SearchRange(p []byte, start, end int) (int, error) {
	b.pullAll()
	if end < 0 {
		end = b.n
	}
	if start < 0 || start > end || end > b.n {
		return -1, errBadRange
	}
	s1, s2 := b.data()
	s1, s2 = ringPrefix(s1, s2, end)
	if start <= len(s1) {
		s1 = s1[start:]
	} else {
		s1, s2 = nil, s2[start-len(s1):]
	}
	if i := ringIndex(s1, s2, p); i >= 0 {
		return start + i, nil
	}
	return -1, nil
}
