package kernelwait

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// waitCalls are the system calls levent's backends block in: epoll_wait
// and epoll_pwait2 for epoll, ppoll for poll, io_uring_enter for io_uring.
// Go's runtime sleeps in epoll_pwait, which is not listed, so its
// netpoller is never mistaken for a backend.
var waitCalls = map[int]bool{
	unix.SYS_EPOLL_WAIT:     true,
	unix.SYS_EPOLL_PWAIT2:   true,
	unix.SYS_PPOLL:          true,
	unix.SYS_IO_URING_ENTER: true,
}

// Blocked reports whether some thread of the process is in one of the
// backends' wait system calls now. A thread's /proc syscall file starts
// with the number of the call it is blocked in, or says "running".
func Blocked() (bool, error) {
	files, err := filepath.Glob("/proc/self/task/*/syscall")
	if err != nil || len(files) == 0 {
		return false, fmt.Errorf("kernelwait: listing /proc/self/task/*/syscall: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread exited
		}
		nr, _, _ := strings.Cut(string(b), " ")
		if n, err := strconv.Atoi(strings.TrimSpace(nr)); err == nil && waitCalls[n] {
			return true, nil
		}
	}
	return false, nil
}

// Await returns nil once some thread is blocked in a backend's wait, and
// an error if none is within timeout.
func Await(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := Blocked()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kernelwait: no thread blocked in a backend's wait within %v", timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// Loop is what ChangeWhileAsleep drives: an *event.Base. It is an
// interface so that this package does not import event, whose own
// backend tests use Blocked.
type Loop interface {
	Dispatch() error
	LoopBreak() error
}

// ChangeWhileAsleep runs b's Dispatch on its own goroutine, waits until a
// thread sleeps in a backend's wait, makes change, and waits up to timeout
// for Dispatch to return. It reports an error if the loop never slept,
// change failed, Dispatch failed, or Dispatch was still running after
// timeout (it is then stopped with LoopBreak, so no goroutine is left
// behind).
func ChangeWhileAsleep(b Loop, change func() error, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- b.Dispatch() }()
	stop := func(err error) error {
		b.LoopBreak()
		<-done
		return err
	}
	if err := Await(timeout); err != nil {
		return stop(err)
	}
	if err := change(); err != nil {
		return stop(err)
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("kernelwait: Dispatch: %w", err)
		}
		return nil
	case <-time.After(timeout):
		return stop(fmt.Errorf("kernelwait: Dispatch still running %v after the change", timeout))
	}
}
