package listener

import (
	"net"
	"testing"

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
			if err := kernelwait.ChangeWhileAsleep(b, func() error { return f.free(b, l) }, deadline); err != nil {
				t.Fatalf("%s of the only Listener: %v", f.name, err)
			}
		})
	}
}
