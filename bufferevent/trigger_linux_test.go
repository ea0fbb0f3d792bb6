package bufferevent

import (
	"errors"
	"fmt"
	"testing"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// TestTrigger ports regress_bufferevent.c test_bufferevent_trigger and its
// defer, postpone and defer-postpone variants: from the read callback, a
// Trigger held back by the read low watermark runs nothing, one with
// TriggerIgnoreWatermarks runs the read callback at once (later when
// deferred), and that callback's TriggerEvent reaches the event callback.
func TestTrigger(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		trig TriggerOptions
	}{
		{"plain", 0, 0},
		{"defer", DeferCallbacks, 0},
		{"postpone", 0, TriggerDefer},
		{"defer postpone", DeferCallbacks, TriggerDefer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			bev, peer := pair(t, b, tc.opts)
			deferred := tc.opts&DeferCallbacks != 0 || tc.trig&TriggerDefer != 0
			reads := 0
			done := make(chan What, 1)
			fail := make(chan string, 4)
			eventcb := func(_ *BufferEvent, w What) { done <- w }
			triggered := func(bev *BufferEvent) {
				reads++
				if err := bev.TriggerEvent(^What(0), tc.trig); err != nil {
					fail <- fmt.Sprintf("TriggerEvent: %v", err)
				}
			}
			first := func(bev *BufferEvent) {
				reads++
				bev.SetCallbacks(triggered, nil, eventcb)
				low, high, _ := bev.GetWatermark(event.Read)
				bev.SetWatermark(event.Read, bev.Input().Len()+1, 0)
				if err := bev.Trigger(event.Read, tc.trig); err != nil {
					fail <- fmt.Sprintf("Trigger: %v", err)
				}
				if reads != 1 {
					fail <- fmt.Sprintf("below the low watermark Trigger ran the read callback (%d reads)", reads)
				}
				if err := bev.Trigger(event.Read, tc.trig|TriggerIgnoreWatermarks); err != nil {
					fail <- fmt.Sprintf("Trigger: %v", err)
				}
				want := 2
				if deferred {
					want = 1
				}
				if reads != want {
					fail <- fmt.Sprintf("after Trigger ignoring the watermarks: %d reads, want %d", reads, want)
				}
				bev.SetWatermark(event.Read, low, high)
			}
			onLoop(t, b, func() {
				bev.SetCallbacks(first, nil, eventcb)
				bev.Enable(event.Read)
			})
			unix.Write(peer, []byte("data"))
			if w := wait(t, done, "the triggered event callback"); w != ^What(0) {
				t.Fatalf("event callback got %v, want every bit", w)
			}
			onLoop(t, b, func() {
				if reads != 2 {
					t.Errorf("%d reads, want 2", reads)
				}
			})
			close(fail)
			for msg := range fail {
				t.Error(msg)
			}
		})
	}
}

// Trigger(Write) runs the write callback only while Output is at or below
// the write low watermark, unless told to ignore it.
func TestTriggerWriteHonoursTheWatermark(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, _ := pair(t, b, 0)
	writes := 0
	onLoop(t, b, func() {
		bev.SetCallbacks(nil, func(*BufferEvent) { writes++ }, nil)
		bev.Disable(event.Write) // keep the data in Output
		bev.Output().WriteString("0123456789")
		bev.SetWatermark(event.Write, 4, 0)
		bev.Trigger(event.Write, 0)
		if writes != 0 {
			t.Errorf("10 bytes over a low watermark of 4: %d writes, want 0", writes)
		}
		bev.Trigger(event.Write, TriggerIgnoreWatermarks)
		if writes != 1 {
			t.Errorf("ignoring the watermark: %d writes, want 1", writes)
		}
		bev.SetWatermark(event.Write, 10, 0)
		bev.Trigger(event.Write|event.Read, 0) // no read callback: only the write runs
		if writes != 2 {
			t.Errorf("at the watermark: %d writes, want 2", writes)
		}
	})
}

// What a read callback run by Trigger writes goes out when it returns, as
// after a read, and so does what it writes when the Trigger is nested in
// another read callback.
func TestTriggeredReadCallbackWritesGoOut(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	reply := func(bev *BufferEvent) { bev.WriteString("triggered;") }
	held := make(chan int, 1)
	outer := func(bev *BufferEvent) {
		bev.Input().Reset()
		bev.SetCallbacks(reply, nil, nil)
		bev.Trigger(event.Read, 0)
		held <- bev.Output().Len() // not written yet: the outer callback runs
		bev.WriteString("outer;")
	}
	onLoop(t, b, func() {
		bev.SetCallbacks(outer, nil, nil)
		bev.Enable(event.Read)
	})
	unix.Write(peer, []byte("go"))
	if got := readFull(t, peer, len("triggered;outer;")); got != "triggered;outer;" {
		t.Fatalf("peer read %q", got)
	}
	if n := <-held; n != len("triggered;") {
		t.Errorf("inside the outer read callback Output held %d bytes, want the %d the nested one wrote", n, len("triggered;"))
	}
	onLoop(t, b, func() { bev.Trigger(event.Read, 0) })
	if got := readFull(t, peer, len("triggered;")); got != "triggered;" {
		t.Fatalf("peer read %q", got)
	}
}

// readFull reads n bytes from the non-blocking descriptor fd.
func readFull(t *testing.T, fd, n int) string {
	t.Helper()
	buf := make([]byte, n)
	got := 0
	for got < n {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if k, err := unix.Poll(pfd, int(deadline.Milliseconds())); err == unix.EINTR {
			continue
		} else if err != nil || k == 0 {
			t.Fatalf("read %q, then poll: %d %v", buf[:got], k, err)
		}
		k, err := unix.Read(fd, buf[got:])
		if err != nil || k == 0 {
			t.Fatalf("read %q, then: %d %v", buf[:got], k, err)
		}
		got += k
	}
	return string(buf)
}

// With TriggerDefer, Trigger and TriggerEvent may come from any goroutine:
// the callbacks run on the loop's.
func TestTriggerDeferFromAnotherGoroutine(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, _ := pair(t, b, 0)
	ran := make(chan string, 2)
	bev.SetCallbacks(func(*BufferEvent) { ran <- "read" }, nil,
		func(_ *BufferEvent, w What) { ran <- "event " + w.String() })
	if err := bev.Trigger(event.Read, TriggerDefer); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, ran, "the read callback"); got != "read" {
		t.Fatalf("got %q", got)
	}
	if err := bev.TriggerEvent(EOF|Reading, TriggerDefer); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, ran, "the event callback"); got != "event Reading|EOF" {
		t.Fatalf("got %q", got)
	}
	// The watermarks are checked on the loop, and still hold.
	if err := bev.SetWatermark(event.Read, 100, 0); err != nil {
		t.Fatal(err)
	}
	if err := bev.Trigger(event.Read, TriggerDefer); err != nil {
		t.Fatal(err)
	}
	settle(t, b)
	settle(t, b)
	select {
	case got := <-ran:
		t.Fatalf("below the read low watermark a deferred Trigger ran %q", got)
	default:
	}
}

// Bad flags and options are refused with an error, and a freed
// BufferEvent refuses both calls.
func TestTriggerRefusesMisuse(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev := newBev(t, b, -1, 0)
	for _, err := range []error{
		bev.Trigger(0, 0),
		bev.Trigger(event.Timeout, 0),
		bev.TriggerEvent(0, 0),
	} {
		if !errors.Is(err, event.ErrBadFlags) {
			t.Errorf("got %v, want ErrBadFlags", err)
		}
	}
	for _, err := range []error{
		bev.Trigger(event.Read, 1<<20),
		bev.TriggerEvent(EOF, 1<<20),
	} {
		if !errors.Is(err, ErrOptions) {
			t.Errorf("got %v, want ErrOptions", err)
		}
	}
	bev.Free()
	if err := bev.Trigger(event.Read, 0); !errors.Is(err, ErrFreed) {
		t.Errorf("Trigger after Free: %v", err)
	}
	if err := bev.TriggerEvent(EOF, 0); !errors.Is(err, ErrFreed) {
		t.Errorf("TriggerEvent after Free: %v", err)
	}
	if s := (TriggerDefer | TriggerIgnoreWatermarks | 1<<20).String(); s != "TriggerDefer|TriggerIgnoreWatermarks|0x100000" {
		t.Errorf("String: %q", s)
	}
}
