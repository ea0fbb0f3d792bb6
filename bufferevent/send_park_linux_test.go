package bufferevent

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// workOf returns bev's work bits and whether wev is pending, read on the
// loop.
func workOf(t *testing.T, b *event.Base, bev *BufferEvent) (work uint16, wevPending bool) {
	t.Helper()
	onLoop(t, b, func() {
		bev.mu.Lock()
		defer bev.mu.Unlock()
		work = bev.work
		if bev.wev != nil {
			p, _ := bev.wev.Pending(event.Write)
			wevPending = p != 0
		}
	})
	return work, wevPending
}

// echoOnce sends msg from peer and reads its echo back.
func echoOnce(t *testing.T, peer int, msg string) {
	t.Helper()
	if _, err := unix.Write(peer, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, peer, len(msg), false); string(got) != msg {
		t.Fatalf("echoed %q, want %q", got, msg)
	}
}

// waitParked waits until bev's write event is parked, failing the test
// after deadline.
func waitParked(t *testing.T, b *event.Base, bev *BufferEvent) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		if w, pending := workOf(t, b, bev); w&bsParked != 0 && pending {
			return
		}
		if time.Since(start) > deadline {
			w, pending := workOf(t, b, bev)
			t.Fatalf("the write event is not parked after a send: work %s, pending %v", workNames(w), pending)
		}
	}
}

// sendingPair returns a base whose loop runs until the test ends, and
// readingEcho's BufferEvent and peer on it.
func sendingPair(t *testing.T) (*event.Base, *BufferEvent, int) {
	t.Helper()
	b := startLoop(t)
	bev, peer := readingEcho(t, b)
	return b, bev, peer
}

// readingEcho returns an echo BufferEvent reading on a socket pair on b,
// and the peer's end, skipping where b does not send in the kernel.
func readingEcho(t *testing.T, b *event.Base) (*BufferEvent, int) {
	t.Helper()
	if !b.Sends() {
		t.Skip("the base does not send in the kernel (io_uring with IORING_OP_SEND only)")
	}
	bev, peer := pair(t, b, 0)
	bev.SetCallbacks(echoRead, nil, nil)
	if err := bev.Enable(event.Read); err != nil {
		t.Fatal(err)
	}
	return bev, peer
}

// Between the messages of a conversation the write event stays pending,
// so that the next send changes nothing in the loop, and the messages go
// on as before; a write from another goroutine while it is parked goes
// out.
func TestSendParksTheWriteEventBetweenMessages(t *testing.T) {
	checkLeaks(t)
	b, bev, peer := sendingPair(t)
	for i, msg := range []string{"one", "two", "three"} {
		echoOnce(t, peer, msg)
		waitParked(t, b, bev)
		onLoop(t, b, func() { checkInvariantsLocked(t, bev) })
		if i == 1 {
			if n, err := bev.Write([]byte("from elsewhere")); n != 14 || err != nil {
				t.Fatalf("Write: %d, %v", n, err)
			}
			if got := readAll(t, peer, 14, false); string(got) != "from elsewhere" {
				t.Fatalf("a Write while the write event was parked: the peer got %q", got)
			}
		}
	}
}

// Reading stopped, a parked write event leaves the loop, which exits when
// nothing else is pending, as it would with no write event.
func TestSendParkedWriteEventLetsTheLoopExit(t *testing.T) {
	checkLeaks(t)
	b, err := event.NewBase()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bev, peer := readingEcho(t, b)
	done := make(chan error, 1)
	go func() { done <- b.Dispatch() }()
	echoOnce(t, peer, "ping")
	waitParked(t, b, bev)
	if err := bev.Disable(event.Read); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, done, "the loop to exit with nothing pending"); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	if bev.work&(bsWriting|bsParked) != 0 {
		t.Fatalf("work %s after reading stopped", workNames(bev.work))
	}
}

// A write timeout never fires on a parked write event: set while it is
// parked, it takes the event off the loop, and set before, it keeps the
// event from parking; either way only output waiting to go is timed.
func TestSendParkedWriteEventIsNotTimed(t *testing.T) {
	checkLeaks(t)
	b, bev, peer := sendingPair(t)
	ev := newEvents()
	bev.SetCallbacks(echoRead, nil, ev.cb)
	echoOnce(t, peer, "before")
	waitParked(t, b, bev)
	if err := bev.SetTimeouts(0, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if w, pending := workOf(t, b, bev); w&bsParked != 0 || pending {
		t.Fatalf("a write timeout left the write event parked: work %s, pending %v", workNames(w), pending)
	}
	echoOnce(t, peer, "after")
	select {
	case what := <-ev.ch:
		t.Fatalf("event callback %v with nothing to write", what)
	case <-time.After(200 * time.Millisecond):
	}
	if w, pending := workOf(t, b, bev); w&bsParked != 0 || pending {
		t.Fatalf("the write event parked with a write timeout: work %s, pending %v", workNames(w), pending)
	}
	if bev.Enabled()&event.Write == 0 {
		t.Fatalf("writing was disabled")
	}
}

// The idle trim frees a parked write event, as it frees an idle one.
func TestSendIdleTrimFreesTheParkedWriteEvent(t *testing.T) {
	checkLeaks(t)
	saved := idleTrim
	idleTrim = 20 * time.Millisecond
	t.Cleanup(func() { idleTrim = saved })
	b, bev, peer := sendingPair(t)
	echoOnce(t, peer, "hello")
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		var gone bool
		onLoop(t, b, func() {
			bev.mu.Lock()
			gone = bev.wev == nil && bev.work&(bsWriting|bsParked) == 0
			bev.mu.Unlock()
		})
		if gone {
			break
		}
		if time.Since(start) > deadline {
			w, pending := workOf(t, b, bev)
			t.Fatalf("the idle trim left the write event: work %s, pending %v", workNames(w), pending)
		}
	}
	echoOnce(t, peer, "again")
	waitParked(t, b, bev)
}
