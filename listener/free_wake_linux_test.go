package listener

import (
	"net"
	"testing"
	"time"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/kernelwait"
)

// A Listener freed from another goroutine, directly or handed over with
// Submit, while the loop sleeps with nothing else to wait for, lets
// Dispatch return.
func TestFreeFromAnotherGoroutineEndsDispatch(t *testing.T) {
	frees := []struct {
		name string
		free func(b *event.Base, l *Listener) error
	}{
		{"Free", func(_ *event.Base, l *Listener) error { l.Free(); return nil }},
		{"Submit(Free)", func(b *event.Base, l *Listener) error { return b.Submit(l.Free) }},
	}
	for _, f := range frees {
		t.Run(f.name, func(t *testing.T) {
			noLeaks(t)
			b, err := event.NewBase()
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			l, err := NewBind(b, func(_ *Listener, fd int, _ net.Addr) {}, Reuseable, 0, "tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- b.Dispatch() }()
			if err := kernelwait.Await(deadline); err != nil {
				l.Free()
				<-done
				t.Fatal(err)
			}
			if err := f.free(b, l); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Dispatch: %v", err)
				}
			case <-time.After(deadline):
				b.LoopBreak()
				<-done
				t.Fatalf("Dispatch still running %v after %s of the only Listener", deadline, f.name)
			}
		})
	}
}
