package bufferevent

import (
	"os"

	"golang.org/x/sys/unix"
)

// bufSendfile is the sendfile(2) WriteFd makes for a file range. Tests
// swap it to count what went through it and to inject errors.
var bufSendfile = func(outFd int, f *os.File, off int64, count int) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var k int
	var serr error
	if err := rc.Control(func(inFd uintptr) {
		k, serr = unix.Sendfile(outFd, int(inFd), &off, count)
	}); err != nil {
		return 0, err
	}
	return k, serr
}

// maxSendfile bounds one sendfile, as the kernel does (0x7ffff000).
const maxSendfile = 1 << 30

// writeFdExt is writeFd for a buffer with an ext: the ring's data, then,
// if that emptied the ring and max allows, the reference or file range
// after it. An error of that second write is left for the next call.
func (b *Buffer) writeFdExt(fd int, max int, nonblock bool) (int, error) {
	total := 0
	if b.n > 0 || !b.hasSegs() {
		k, err := b.ringWriteFd(fd, max, nonblock)
		if err != nil || b.n > 0 || !b.hasSegs() || (max > 0 && k == max) {
			return k, err
		}
		total = k
		if max > 0 {
			max -= k
		}
	}
	k, err := b.writeSeg(fd, max, nonblock)
	if total > 0 && err != nil {
		return total, nil
	}
	return total + k, err
}

// writeSeg writes from segs[0], a reference or a file range (the ring is
// empty), and removes what went.
func (b *Buffer) writeSeg(fd int, max int, nonblock bool) (int, error) {
	s := &b.ext.segs[0]
	want := s.n
	if max > 0 {
		want = min(want, max)
	}
	var k int
	var err error
	if s.file == nil {
		k, err = writeParts(fd, s.p[:want], nil, nonblock)
	} else {
		k, err = bufSendfile(fd, s.file, s.off, min(want, maxSendfile))
		for err == unix.EINTR {
			k, err = bufSendfile(fd, s.file, s.off, min(want, maxSendfile))
		}
		switch {
		case err == unix.EINVAL || err == unix.ENOSYS || err == unix.EOPNOTSUPP:
			// fd cannot take sendfile: go through the ring.
			if err := b.pull(min(want, fileChunk)); err != nil {
				return 0, err
			}
			return b.ringWriteFd(fd, want, nonblock)
		case err == nil && k == 0:
			// The file ended before the range did.
			if _, err = s.readAt(make([]byte, 1), 0); err == nil {
				err = errFileShrank
			}
			return 0, err
		case err != nil && err != unix.EAGAIN:
			err = os.NewSyscallError("sendfile", err)
		}
	}
	if err != nil {
		return 0, err
	}
	b.drain(k)
	return k, nil
}
