package event

import (
	"runtime"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/poller"
	"golang.org/x/sys/unix"
)

// With PreciseTimer the loop sleeps for a timer with its thread's timer
// slack at 1 ns; without it, the loop leaves the slack as it found it. The
// test goroutine is locked to its thread, so the loop sleeps and the
// callback reads the slack on that thread.
func TestPreciseTimerSetsTimerSlack(t *testing.T) {
	const usual = 123456 // ns: a slack the test sets, so that a change shows
	for _, tc := range []struct {
		name    string
		precise bool
		want    int
	}{
		{"default", false, usual},
		{"precise", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, cfg Config) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				old, err := poller.TimerSlack()
				if err != nil {
					t.Fatalf("TimerSlack: %v", err)
				}
				if err := unix.Prctl(unix.PR_SET_TIMERSLACK, usual, 0, 0, 0); err != nil {
					t.Fatalf("prctl PR_SET_TIMERSLACK: %v", err)
				}
				defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0)

				cfg.PreciseTimer = tc.precise
				b := newBase(t, cfg)
				got, calls := 0, 0
				ev, err := NewTimer(b, func(int, Flag) {
					calls++
					got, err = poller.TimerSlack()
				})
				if err != nil {
					t.Fatalf("NewTimer: %v", err)
				}
				mustAdd(t, ev, time.Millisecond)
				mustDispatch(t, b)
				if calls != 1 || err != nil {
					t.Fatalf("%s: callback ran %d times, TimerSlack error %v; want once, nil", tc.name, calls, err)
				}
				if got != tc.want {
					t.Errorf("%s: timer slack %d ns while the loop ran, want %d", tc.name, got, tc.want)
				}
			})
		})
	}
}
