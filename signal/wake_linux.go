package signal

import (
	"encoding/binary"
	"os"

	"golang.org/x/sys/unix"
)

// Every system call the package makes goes through one of these variables,
// as in Go's internal/poll/hook_unix.go, so that tests can make any of them
// fail and check what the caller does.
var (
	eventfdFunc = unix.Eventfd
	writeFunc   = unix.Write
	readFunc    = unix.Read
	closeFunc   = unix.Close
)

// wakeOne is the eventfd increment, in the host's byte order as eventfd(2)
// wants it. A package variable, so that writing it allocates nothing.
var wakeOne = func() (b [8]byte) {
	binary.NativeEndian.PutUint64(b[:], 1)
	return b
}()

// openWake creates the descriptor a Source makes readable: an eventfd, so
// one descriptor serves where libevent needs a socketpair.
func openWake() (int, error) {
	fd, err := eventfdFunc(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return -1, os.NewSyscallError("eventfd", err)
	}
	return fd, nil
}

// writeWake makes fd readable.
func writeWake(fd int) error {
	for {
		_, err := writeFunc(fd, wakeOne[:])
		switch err {
		case nil, unix.EAGAIN: // EAGAIN: the counter is full, so fd is readable
			return nil
		case unix.EINTR:
			continue
		default:
			return os.NewSyscallError("write", err)
		}
	}
}

// drainWake resets the eventfd counter so fd stops being readable. An
// empty counter answers EAGAIN, which is fine: there was nothing to drain.
func drainWake(fd int, buf *[8]byte) {
	for {
		if _, err := readFunc(fd, buf[:]); err != unix.EINTR {
			return
		}
	}
}

func closeWake(fd int) error {
	if err := closeFunc(fd); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}
