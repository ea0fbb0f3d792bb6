package bufferevent

import "errors"

var (
	errNegativeMove = errors.New("bufferevent: MoveTo of a negative count")
	errMoveToSelf   = errors.New("bufferevent: MoveTo a nil buffer or the buffer itself")
)

// MoveTo moves up to n bytes from the front of b to the end of dst and
// returns how many it moved (evbuffer_remove_buffer(b, dst, n)). Moving all
// of b into an empty dst hands b's storage over instead of copying, as
// AddBuffer does; a part is copied, since a ring's storage cannot be split.
// A negative n, a nil dst or dst == b is an error and moves nothing.
func (b *Buffer) MoveTo(dst *Buffer, n int) (int, error) {
	if n < 0 {
		return 0, errNegativeMove
	}
	if dst == nil || dst == b {
		return 0, errMoveToSelf
	}
	k := b.moveTo(dst, n)
	if k > 0 {
		dst.changed(k)
		b.changed(k)
	}
	return k, nil
}

// moveTo is MoveTo without telling the owners; 0 <= n, dst != b.
func (b *Buffer) moveTo(dst *Buffer, n int) int {
	if n >= b.n {
		return dst.addBuffer(b)
	}
	if n == 0 {
		return 0
	}
	putStorage(dst.reserve(n))
	s1, s2 := b.data()
	s1, s2 = ringPrefix(s1, s2, n)
	ringWrite(dst, s1)
	ringWrite(dst, s2)
	b.drain(n)
	return n
}
