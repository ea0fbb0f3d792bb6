package poller

import (
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Waker wakes a goroutine blocked in Wait from any other goroutine: an
// eventfd registered for reading, plus a flag so that a burst of Wake
// calls costs one write (Go's netpollBreak does the same).
type Waker struct {
	fd      int
	pending atomic.Bool // a wake-up was written and not drained yet
}

// NewWaker creates the eventfd.
func NewWaker() (*Waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	return &Waker{fd: fd}, nil
}

// Fd is the descriptor to register for reading.
func (w *Waker) Fd() int { return w.fd }

// Wake makes Fd readable unless a wake-up is already pending. Safe from any
// goroutine.
func (w *Waker) Wake() error {
	if !w.pending.CompareAndSwap(false, true) {
		return nil
	}
	one := uint64(1)
	for {
		_, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(w.fd), uintptr(unsafe.Pointer(&one)), 8)
		switch e {
		case 0, unix.EAGAIN: // EAGAIN: the counter is full, so it is readable
			return nil
		case unix.EINTR:
			continue
		default:
			w.pending.Store(false)
			return os.NewSyscallError("write", e)
		}
	}
}

// Pending reports whether a wake-up was written and not drained yet.
func (w *Waker) Pending() bool { return w.pending.Load() }

// Drain consumes pending wake-ups. It reads before it clears the flag: a
// Wake that lands between the two finds the flag set and writes nothing,
// which is safe because the caller inspects its state after Drain returns
// and the waker changed that state before calling Wake. (Clearing first
// would let the read swallow a fresh write while the flag stays set, and
// every later Wake would then be lost.)
func (w *Waker) Drain() {
	var buf uint64
	for {
		_, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(w.fd), uintptr(unsafe.Pointer(&buf)), 8)
		if e != unix.EINTR {
			break
		}
	}
	w.pending.Store(false)
}

// Close closes the eventfd.
func (w *Waker) Close() error {
	if w.fd < 0 {
		return nil
	}
	err := unix.Close(w.fd)
	w.fd = -1
	return wrap("close", err)
}
