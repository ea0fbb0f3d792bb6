package signal_test

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/signal"
)

// A loop waits on Fd with everything else it watches, and calls Read when
// Fd is readable.
func ExampleSource() {
	src, err := signal.NewSource()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	if err := src.Watch(syscall.SIGUSR1); err != nil {
		fmt.Println(err)
		return
	}

	syscall.Kill(os.Getpid(), syscall.SIGUSR1)

	fds := []unix.PollFd{{Fd: int32(src.Fd()), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != unix.EINTR {
			break
		}
	}
	for _, d := range src.Read(nil) {
		fmt.Printf("%v: %d\n", d.Sig, d.Count)
	}
	// Output: user defined signal 1: 1
}
