package listener

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// When a back-off ends and the loop refuses to watch the socket again,
// the error callback must hear of it: otherwise the listener stops
// accepting without a word. The listening descriptor is replaced by a
// regular file during the back-off, which epoll refuses with EPERM.
func TestRefusedResumeAfterBackoffReachesErrorCallback(t *testing.T) {
	// epoll refuses the regular file at once; poll and io_uring would
	// watch it and report it ready.
	t.Setenv("LEVENT_IOURING", "")
	t.Setenv("LEVENT_NOEPOLL", "")
	b, l, _, fails := failingListener(t)
	file, err := os.Create(filepath.Join(t.TempDir(), "not-a-socket"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	swapped := false
	l.SetErrorCallback(func(l *Listener, err error) {
		*fails = append(*fails, failure{err: err})
		if !swapped { // paused now: the accept event is not watched
			swapped = true
			if err := unix.Dup2(int(file.Fd()), l.Fd()); err != nil {
				t.Errorf("dup2: %v", err)
			}
		}
	})
	if err := unix.Shutdown(l.Fd(), unix.SHUT_RD); err != nil {
		t.Fatal(err)
	}
	loopUntil(t, b, "two error callbacks", func() bool { return len(*fails) >= 2 })
	if got := (*fails)[0].err; !errors.Is(got, unix.EINVAL) {
		t.Errorf("first error: got %v, want EINVAL from accept", got)
	}
	if got := (*fails)[1].err; !errors.Is(got, unix.EPERM) {
		t.Errorf("second error: got %v, want EPERM from re-arming the accept event", got)
	}
}
