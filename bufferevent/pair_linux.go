package bufferevent

import (
	"os"

	"golang.org/x/sys/unix"
)

func sockPair() ([2]int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return [2]int{-1, -1}, os.NewSyscallError("socketpair", err)
	}
	return [2]int{fds[0], fds[1]}, nil
}
