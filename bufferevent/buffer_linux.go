package bufferevent

import (
	"io"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// readHintMax bounds how much free space ReadFd asks for before a read.
const readHintMax = 256 << 10

// ringIO is a readv or writev of the two parts of the ring. nonblock says
// that fd is non-blocking, so the call cannot sleep in the kernel.
type ringIO func(fd int, p0, p1 []byte, nonblock bool) (int, error)

// bufReadv and bufWritev are the system calls ReadFd and WriteFd make, one
// call each with the two parts of the ring. Tests swap them to inject
// EAGAIN, EINTR and short counts.
var (
	bufReadv ringIO = func(fd int, p0, p1 []byte, nonblock bool) (int, error) {
		return ringSyscall(unix.SYS_READ, unix.SYS_READV, fd, p0, p1, nonblock)
	}
	bufWritev ringIO = func(fd int, p0, p1 []byte, nonblock bool) (int, error) {
		return ringSyscall(unix.SYS_WRITE, unix.SYS_WRITEV, fd, p0, p1, nonblock)
	}
)

// ringSyscall makes a readv or writev (vtrap) on fd with p0 and p1, or,
// when p1 is empty, a plain read or write (trap) of p0; p0 must not be
// empty. The ring is in one part whenever it did not wrap, which for a
// connection that drains what it reads is every time, and the kernel
// serves read and write without importing and checking an iovec array:
// 512-byte write plus read pairs on a socket pair took 7% less time than
// writev plus readv (medians of 8 interleaved runs). The iovec array stays
// on the stack: the system call does not keep it, so building it here,
// after the swappable function value, keeps ReadFd and WriteFd free of
// allocations.
//
// On a non-blocking descriptor the call is made with RawSyscall, which
// does not tell the scheduler that the thread may block. Syscall does, and
// when the call outlasts a scheduler tick the runtime hands the thread's P
// to another thread and takes it back afterwards: on a busy loop that is a
// context switch every few messages. Measured on the echo benchmark's raw
// server: a seventh of the context switches and a quarter less CPU per
// message. A call that can block must not do this, so ReadFd and WriteFd,
// which take any descriptor, use Syscall; a BufferEvent's sockets are
// non-blocking (setFd makes sure) and use RawSyscall.
func ringSyscall(trap, vtrap uintptr, fd int, p0, p1 []byte, nonblock bool) (int, error) {
	var iov [2]unix.Iovec
	arg, n := uintptr(unsafe.Pointer(&p0[0])), uintptr(len(p0))
	if len(p1) > 0 {
		iov[0].Base = &p0[0]
		iov[0].SetLen(len(p0))
		iov[1].Base = &p1[0]
		iov[1].SetLen(len(p1))
		trap, arg, n = vtrap, uintptr(unsafe.Pointer(&iov[0])), 2
	}
	var r uintptr
	var errno unix.Errno
	if nonblock {
		r, _, errno = unix.RawSyscall(trap, uintptr(fd), arg, n)
	} else {
		r, _, errno = unix.Syscall(trap, uintptr(fd), arg, n)
	}
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// ReadFd makes one read from fd into the buffer's free space (a readv of
// two iovecs when the free space wraps around the ring) and returns how
// many bytes it appended. max > 0 limits the read to max bytes; max <= 0 sets no limit.
//
// Before reading it grows the buffer if the free space is below a
// minimum. The minimum starts at 4 KiB; when a read fills all the space it
// was offered, the next read asks for twice as much, up to 256 KiB; when a
// read takes less than half the minimum, the minimum halves, down to 4 KiB.
//
// At end of stream it returns 0, io.EOF. When fd has nothing to read it
// returns 0, unix.EAGAIN, not wrapped, so that callers can compare with ==.
// EINTR is retried; other errors are *os.SyscallError for "readv",
// whether the call was read or readv. A frozen end is an error
// (ErrFrozen) and reads nothing. When the buffer holds references or file
// ranges, the bytes go after them.
func (b *Buffer) ReadFd(fd int, max int) (int, error) {
	if b.frozenBits()&frozenEnd != 0 || b.ext != nil {
		return b.readFdFrozenOrExt(fd, max)
	}
	return b.ringReadFrom(fd, max, false, nil)
}

// readFdFrozenOrExt is ReadFd at a frozen end or with an ext.
func (b *Buffer) readFdFrozenOrExt(fd int, max int) (int, error) {
	if b.frozenBits()&frozenEnd != 0 {
		return 0, ErrFrozen
	}
	k, err := b.readFd(fd, max, false)
	b.settle()
	return k, err
}

// readFd is ReadFd without the freeze and the callbacks; nonblock says fd
// is non-blocking (see ringSyscall).
func (b *Buffer) readFd(fd int, max int, nonblock bool) (int, error) {
	return b.readFrom(fd, max, nonblock, nil)
}

// recvFd is readFd for a socket watched by a Read|Recv event: what base
// received for fd (event.Base.Recv) instead of a readv.
func (b *Buffer) recvFd(base *event.Base, fd int, max int) (int, error) {
	return b.readFrom(fd, max, true, base)
}

// recv2 is bufReadv through base.Recv: p0, then p1 if p0 filled.
func recv2(base *event.Base, fd int, p0, p1 []byte) (int, error) {
	k, err := base.Recv(fd, p0)
	if err == nil && k == len(p0) && len(p1) > 0 {
		if k1, err := base.Recv(fd, p1); err == nil {
			k += k1 // the end of stream or an error is for the next call
		}
	}
	return k, err
}

// readFrom is readFd and recvFd: one read into the free space, with
// readv, or with rx's Recv when rx is not nil. When the buffer holds
// references or file ranges, the bytes go after them.
func (b *Buffer) readFrom(fd int, max int, nonblock bool, rx *event.Base) (int, error) {
	if b.ext != nil {
		k, err := b.appendTarget().ringReadFrom(fd, max, nonblock, rx)
		b.record(k, 0)
		return k, err
	}
	return b.ringReadFrom(fd, max, nonblock, rx)
}

// ringReadFrom is readFrom into the ring's free space.
func (b *Buffer) ringReadFrom(fd int, max int, nonblock bool, rx *event.Base) (int, error) {
	hint := int(b.readHint)
	if hint == 0 {
		hint = minStorage
	}
	want := hint
	if max > 0 && max < want {
		want = max
	}
	putStorage(b.reserve(want))
	p0, p1 := b.space()
	if max > 0 {
		p0, p1 = ringPrefix(p0, p1, max)
	}
	offered := len(p0) + len(p1)

	var k int
	var err error
	if rx != nil {
		k, err = recv2(rx, fd, p0, p1) // Recv retries EINTR itself
	} else {
		k, err = bufReadv(fd, p0, p1, nonblock)
		for err == unix.EINTR {
			k, err = bufReadv(fd, p0, p1, nonblock)
		}
	}
	if err != nil || k == 0 {
		b.drain(0) // if still empty, storage taken for this read goes back as the policy says
		if err == nil {
			return 0, io.EOF
		}
		if err == unix.EAGAIN {
			return 0, err
		}
		return 0, os.NewSyscallError("readv", err)
	}
	b.readHint = int32(nextReadHint(hint, offered, k))
	b.n += k
	return k, nil
}

// nextReadHint returns the free space the next ReadFd asks for, after a
// read that asked for hint, was offered offered bytes and got k.
func nextReadHint(hint, offered, k int) int {
	switch {
	case k == offered:
		return max(hint, min(2*offered, readHintMax))
	case k < hint/2:
		return max(hint/2, minStorage)
	}
	return hint
}

// WriteFd makes one write of the buffer's data to fd (a writev of two
// iovecs when the data wraps around the ring), removes what was written and
// returns how many bytes that was. max > 0 limits the write to max bytes; max <= 0 sets
// no limit. An empty buffer makes no system call and returns 0, nil.
//
// When fd cannot take more it returns 0, unix.EAGAIN, not wrapped. EINTR is
// retried; other errors are *os.SyscallError for "writev", whether the call
// was write or writev. A frozen front is an error (ErrFrozen) and writes
// nothing.
//
// References (AddReference) are written from where they are, and file
// ranges (AddFile) with sendfile(2), from the file to fd without a copy
// through the buffer ("sendfile" names its errors); when the kernel cannot
// sendfile to fd, the range is read into the ring and written from there.
// One WriteFd writes the ring's data and then, if the ring emptied and
// max allows, makes one more call for the reference or file range after
// it.
func (b *Buffer) WriteFd(fd int, max int) (int, error) {
	if b.frozenBits()&frozenFront != 0 || b.ext != nil {
		return b.writeFdFrozenOrExt(fd, max)
	}
	return b.ringWriteFd(fd, max, false)
}

// writeFdFrozenOrExt is WriteFd at a frozen front or with an ext.
func (b *Buffer) writeFdFrozenOrExt(fd int, max int) (int, error) {
	if b.frozenBits()&frozenFront != 0 {
		return 0, ErrFrozen
	}
	k, err := b.writeFdExt(fd, max, false)
	b.settle()
	return k, err
}

// writeFd is WriteFd without the freeze and the callbacks; nonblock says
// fd is non-blocking (see ringSyscall).
func (b *Buffer) writeFd(fd int, max int, nonblock bool) (int, error) {
	if b.ext != nil {
		return b.writeFdExt(fd, max, nonblock)
	}
	return b.ringWriteFd(fd, max, nonblock)
}

// ringWriteFd is writeFd of the ring's data.
func (b *Buffer) ringWriteFd(fd int, max int, nonblock bool) (int, error) {
	p0, p1 := b.data()
	if max > 0 {
		p0, p1 = ringPrefix(p0, p1, max)
	}
	if len(p0) == 0 {
		return 0, nil
	}
	k, err := writeParts(fd, p0, p1, nonblock)
	if err != nil {
		return 0, err
	}
	b.drain(k)
	return k, nil
}

// writeParts writes p0 and then p1, p0 not empty, with one call of
// bufWritev, retrying EINTR. EAGAIN is returned as it is, other errors as
// *os.SyscallError for "writev".
func writeParts(fd int, p0, p1 []byte, nonblock bool) (int, error) {
	k, err := bufWritev(fd, p0, p1, nonblock)
	for err == unix.EINTR {
		k, err = bufWritev(fd, p0, p1, nonblock)
	}
	if err != nil {
		if err == unix.EAGAIN {
			return 0, err
		}
		return 0, os.NewSyscallError("writev", err)
	}
	return k, nil
}
