package sock

import (
	"os"

	"golang.org/x/sys/unix"
)

// RaiseNofile raises the soft limit on open descriptors (RLIMIT_NOFILE) to
// the hard limit, never above it, and returns the soft limit now in force.
// It is meant for tests and benchmarks that open many sockets. Go programs
// usually find it raised already: since Go 1.19 the os package does this
// at start-up.
func RaiseNofile() (uint64, error) {
	var lim unix.Rlimit
	if err := getrlimitFunc(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, os.NewSyscallError("getrlimit", err)
	}
	if lim.Cur >= lim.Max {
		return lim.Cur, nil
	}
	lim.Cur = lim.Max
	if err := setrlimitFunc(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, os.NewSyscallError("setrlimit", err)
	}
	return lim.Cur, nil
}
