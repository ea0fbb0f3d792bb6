package poller

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Close releases exactly the descriptors the backend opened (epoll and
// io_uring: one, poll: none).
func TestCloseReleasesDescriptors(t *testing.T) {
	tests := []struct {
		name string
		own  int
	}{
		{"epoll", 1},
		{"poll", 0},
		{"io_uring", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skipUnavailable(t, tt.name)
			before := countFDs(t)
			p, err := Open(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if got := countFDs(t) - before; got != tt.own {
				t.Errorf("Open opened %d descriptors, want %d", got, tt.own)
			}
			if err := p.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if after := countFDs(t); after != before {
				t.Errorf("after Close: %d descriptors open, want %d as before Open", after, before)
			}
		})
	}
}

// A second Close returns nil and closes nothing, not even a descriptor
// that reused the number the first Close released.
func TestSecondCloseIsHarmless(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		if err := p.Close(); err != nil {
			t.Fatalf("first Close: %v", err)
		}
		a, b := socketpair(t) // likely takes the number just released
		if err := p.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
		for _, fd := range []int{a, b} {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
				t.Errorf("fd %d opened after the first Close: %v after the second, want it still open", fd, err)
			}
		}
	})
}

// Waker.Close releases its eventfd; a second Close is harmless in the same
// way.
func TestWakerCloseReleasesDescriptor(t *testing.T) {
	before := countFDs(t)
	w, err := NewWaker()
	if err != nil {
		t.Fatal(err)
	}
	if got := countFDs(t) - before; got != 1 {
		t.Errorf("NewWaker opened %d descriptors, want 1", got)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if after := countFDs(t); after != before {
		t.Errorf("after Close: %d descriptors open, want %d as before NewWaker", after, before)
	}
	a, b := socketpair(t)
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	for _, fd := range []int{a, b} {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			t.Errorf("fd %d opened after the first Close: %v after the second, want it still open", fd, err)
		}
	}
}
