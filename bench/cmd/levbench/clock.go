package main

import (
	"fmt"
	"os"

	_ "unsafe" // for go:linkname

	"golang.org/x/sys/unix"
)

// nanotime is the runtime's CLOCK_MONOTONIC reading in nanoseconds: the
// cheapest real clock read Go has, with no wall-clock half.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// cpuNanos is the process's user plus system CPU time, over all threads.
func cpuNanos() (int64, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, os.NewSyscallError("getrusage", err)
	}
	return unix.TimevalToNsec(ru.Utime) + unix.TimevalToNsec(ru.Stime), nil
}

// raiseNofile lifts the soft descriptor limit to the hard one, and never
// further.
func raiseNofile() error {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return os.NewSyscallError("getrlimit", err)
	}
	if rl.Cur == rl.Max {
		return nil
	}
	rl.Cur = rl.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("raising RLIMIT_NOFILE to %d: %w", rl.Max, os.NewSyscallError("setrlimit", err))
	}
	return nil
}
