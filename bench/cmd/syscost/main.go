// Command syscost measures what the system calls an event loop makes cost
// from Go, to set beside bench/c/syscost.c (the same calls from C). It
// prints one line:
//
//	syscost impl=go epoll_wait0_ns=X write_read_ns=Y write_read_syscall_ns=Z
//
// epoll_wait0 is epoll_wait with a zero timeout on an empty epoll instance,
// made with RawSyscall6 as levent makes it (loop_once makes one per
// iteration); write_read is a 1-byte write into a pipe and the 1-byte read
// back with RawSyscall (what a pipechain callback does); write_read_syscall
// is the same with unix.Write and unix.Read, which go through Syscall and
// tell the scheduler. The difference between this line and C's is a floor
// under levent's pipechain and loop_once ratios that no event loop in Go
// can go below.
//
//	syscost [N=1000000]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v <= 0 {
			fmt.Fprintln(os.Stderr, "usage: syscost [N]")
			os.Exit(2)
		}
		n = v
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		fatal(err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		fatal(err)
	}
	events := make([]unix.EpollEvent, 64)
	b := []byte{'x'}
	buf := uintptr(unsafe.Pointer(&b[0]))

	t0 := time.Now()
	for range n {
		unix.RawSyscall6(unix.SYS_EPOLL_WAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	}
	t1 := time.Now()
	for range n {
		if w, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(p[1]), buf, 1); w != 1 {
			fatal(e)
		}
		if r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(p[0]), buf, 1); r != 1 {
			fatal(e)
		}
	}
	t2 := time.Now()
	for range n {
		if _, err := unix.Write(p[1], b); err != nil {
			fatal(err)
		}
		if _, err := unix.Read(p[0], b); err != nil {
			fatal(err)
		}
	}
	t3 := time.Now()
	per := func(d time.Duration) float64 { return float64(d) / float64(n) }
	fmt.Printf("syscost impl=go epoll_wait0_ns=%.1f write_read_ns=%.1f write_read_syscall_ns=%.1f\n",
		per(t1.Sub(t0)), per(t2.Sub(t1)), per(t3.Sub(t2)))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "syscost:", err)
	os.Exit(1)
}
