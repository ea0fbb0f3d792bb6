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
// References and file ranges that move whole move as they are (their
// release functions then wait for dst); of one cut by n, the bytes that
// move are copied (a file's read with pread).
// A negative n, a nil dst or dst == b is an error and moves nothing, and
// so is a frozen front of b or end of dst (ErrFrozen).
func (b *Buffer) MoveTo(dst *Buffer, n int) (int, error) {
	if n < 0 {
		return 0, errNegativeMove
	}
	if dst == nil || dst == b {
		return 0, errMoveToSelf
	}
	if b.frozenBits()&frozenFront != 0 || dst.frozenBits()&frozenEnd != 0 {
		return 0, ErrFrozen
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
	if b.ext != nil || dst.ext != nil {
		return b.moveToExt(dst, n)
	}
	n = min(n, b.n)
	if n > 0 {
		ringMove(dst, b, n)
	}
	return n
}
