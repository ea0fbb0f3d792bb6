package bufferevent

import (
	"errors"
	"sync"
	"testing"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// A connection makes its Input and Output when the first byte comes or
// goes, not before: one that is only accepted, read from and timed out
// on carries a nil pointer for both. Once made, they are the same
// Buffers for the rest of its life.
func TestBufferEventMakesItsBuffersOnFirstData(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	reads := make(chan *Buffer, 4)
	bev.SetCallbacks(func(bev *BufferEvent) {
		reads <- bev.Input()
		echoRead(bev)
	}, nil, nil)
	if err := bev.Enable(event.Read | event.Write); err != nil {
		t.Fatal(err)
	}
	settle(t, b)
	if bev.Err() != nil || bev.Enabled() != event.Read|event.Write {
		t.Fatalf("Err %v, Enabled %v", bev.Err(), bev.Enabled())
	}
	if bev.bufs.Load() != nil {
		t.Fatalf("a connection that carried nothing made its buffers")
	}
	if _, err := unix.Write(peer, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	in := wait(t, reads, "the read callback")
	if bev.bufs.Load() == nil {
		t.Fatalf("no buffers after a read")
	}
	var out *Buffer
	onLoop(t, b, func() { out = bev.Output() })
	if got := readAll(t, peer, 5, false); string(got) != "hello" {
		t.Fatalf("echoed %q", got)
	}
	if _, err := unix.Write(peer, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if again := wait(t, reads, "the second read callback"); again != in {
		t.Fatalf("Input changed between two reads")
	}
	onLoop(t, b, func() {
		if bev.Input() != in || bev.Output() != out {
			t.Errorf("Input or Output changed")
		}
	})
}

// Writing makes the buffers too, from any goroutine, and an untouched
// connection's Free makes none.
func TestBufferEventWriteMakesItsBuffers(t *testing.T) {
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	if n, err := bev.Write([]byte("x")); n != 1 || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
	if bev.bufs.Load() == nil {
		t.Fatalf("no buffers after a Write")
	}
	if got := readAll(t, peer, 1, false); string(got) != "x" {
		t.Fatalf("read %q", got)
	}
	idle, _ := pair(t, b, 0)
	idle.Free()
	if idle.bufs.Load() != nil {
		t.Fatalf("Free made the buffers of a connection that never had them")
	}
}

// The buffers are made once whichever goroutines ask first, and a
// socket's are frozen as bufferevent_socket_new leaves them: Input at its
// end, Output at its front.
func TestBufferEventBuffersAreMadeOnce(t *testing.T) {
	b := startLoop(t)
	for range 300 {
		bev := newBev(t, b, -1, 0)
		const n = 8
		got := make([]*bevBuffers, n)
		var start, done sync.WaitGroup
		start.Add(1)
		for i := range n {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				got[i] = bev.buffers()
			}()
		}
		start.Done()
		done.Wait()
		for i := range got {
			if got[i] != got[0] {
				t.Fatalf("goroutine %d got other buffers than goroutine 0", i)
			}
		}
		if got[0] != bev.bufs.Load() || &got[0].input != bev.Input() {
			t.Fatalf("the buffers handed out are not the BufferEvent's")
		}
		if _, err := bev.Input().Write([]byte("x")); !errors.Is(err, ErrFrozen) {
			t.Fatalf("adding to a socket's Input: %v, want ErrFrozen", err)
		}
		bev.Output().Write([]byte("y"))
		if err := bev.Output().Reset(); !errors.Is(err, ErrFrozen) {
			t.Fatalf("draining a socket's Output: %v, want ErrFrozen", err)
		}
		bev.Free()
	}
}
