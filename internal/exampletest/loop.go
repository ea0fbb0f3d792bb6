package exampletest

import (
	"testing"
	"time"

	"github.com/levent-go/levent/event"
)

// RunLoop runs base's loop on a goroutine of its own for the rest of the
// test: the way to run an example's server inside the test process, where
// the race detector sees its code. The loop runs with LoopNoExitOnEmpty,
// so that it lasts until the test ends even while nothing is pending. Then
// stop runs on the loop to close what the test set up there, the loop is
// told to exit, its error is checked and base is closed. Cleanups run
// last registered first: call NoLeaks before RunLoop to check, after all
// this, that nothing was left behind.
func RunLoop(t testing.TB, base *event.Base, stop func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- base.Loop(event.LoopNoExitOnEmpty) }()
	t.Cleanup(func() {
		err := base.Submit(func() {
			stop()
			base.LoopExit(0)
		})
		if err != nil {
			t.Errorf("Submit the stop: %v", err)
			return
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Loop: %v", err)
			}
		case <-time.After(Timeout):
			t.Errorf("the loop still runs %v after it was told to stop", Timeout)
			return // closing the base under a running loop would race
		}
		base.Close()
	})
}
