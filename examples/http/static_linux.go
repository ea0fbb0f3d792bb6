package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// openRoot opens the root directory for openBeneath.
func openRoot(root string) (int, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("open", err)
	}
	return fd, nil
}

// openBeneath opens name, relative to the directory dirfd, with openat2
// and RESOLVE_BENEATH: the kernel fails with EXDEV any resolution that
// would leave the directory, through ".." or a symbolic link. supported is
// false on a kernel without openat2 (before Linux 5.6).
func openBeneath(dirfd int, name string) (f *os.File, supported bool, err error) {
	how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK, Resolve: unix.RESOLVE_BENEATH}
	for {
		fd, err := unix.Openat2(dirfd, name, &how)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.ENOSYS:
			return nil, false, nil
		case err != nil:
			return nil, true, os.NewSyscallError("openat2", err)
		}
		return os.NewFile(uintptr(fd), name), true, nil
	}
}
