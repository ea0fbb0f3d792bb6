package bufferevent

import (
	"os"

	"golang.org/x/sys/unix"
)

// setNonblock sets O_NONBLOCK on fd unless it is set already, which costs
// one fcntl for the sockets listener and Connect hand over.
func setNonblock(fd int) error {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	if flags&unix.O_NONBLOCK != 0 {
		return nil
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags|unix.O_NONBLOCK); err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	return nil
}
