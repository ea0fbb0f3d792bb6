package bufferevent

import "errors"

var (
	errNegativeReserve = errors.New("bufferevent: Reserve of a negative size")
	errBadCommit       = errors.New("bufferevent: Commit of more bytes than the free space Reserve returned")
)

// Reserve makes room for at least n more bytes and returns the free space
// after the data as at most two slices (evbuffer_reserve_space), so that a
// caller can write into the buffer without an intermediate copy. The slices
// hold n bytes or more together; fill them in order and call Commit with the
// number of bytes written. They are valid until the next change to the
// buffer, and nothing written to them is part of the data before Commit.
//
// When references or file ranges (AddReference, AddFile) are held, the
// space is after them. A frozen end is an error (ErrFrozen).
func (b *Buffer) Reserve(n int) (s1, s2 []byte, err error) {
	if n < 0 {
		return nil, nil, errNegativeReserve
	}
	if b.frozenBits()&frozenEnd != 0 {
		return nil, nil, ErrFrozen
	}
	t := b
	if b.ext != nil {
		t = b.appendTarget()
	}
	if n > 0 {
		putStorage(t.reserve(n))
	}
	s1, s2 = t.space()
	return s1, s2, nil
}

// Commit appends the first n bytes of the space the last Reserve returned
// (evbuffer_commit_space). It must follow that Reserve with no other change
// to the buffer in between; n may be less than was reserved, and 0 commits
// nothing. n beyond the buffer's free space, or negative, is an error and
// changes nothing, and so does a frozen end (ErrFrozen).
func (b *Buffer) Commit(n int) error {
	if b.frozenBits()&frozenEnd != 0 {
		return ErrFrozen
	}
	t := b
	if b.ext != nil {
		t = b.appendTarget()
	}
	if n < 0 || n > len(t.buf)-t.n {
		return errBadCommit
	}
	t.n += n
	b.record(n, 0)
	b.changed(n)
	return nil
}
