package poller

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// FineSleep sets the calling thread's timer slack to 1 ns, and TimerSlack
// reads it back; the goroutine is locked to its thread so that both calls
// see the same one.
func TestFineSleepSetsTimerSlack(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old, err := TimerSlack()
	if err != nil {
		t.Fatalf("TimerSlack: %v", err)
	}
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0)
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 50000, 0, 0, 0); err != nil {
		t.Fatalf("prctl PR_SET_TIMERSLACK: %v", err)
	}
	if got, err := TimerSlack(); got != 50000 || err != nil {
		t.Fatalf("TimerSlack() = %d, %v after setting 50000; want 50000, nil", got, err)
	}
	FineSleep()
	if got, err := TimerSlack(); got != 1 || err != nil {
		t.Errorf("TimerSlack() = %d, %v after FineSleep; want 1, nil", got, err)
	}
}
