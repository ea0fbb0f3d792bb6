package bufferevent

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// fiddle calls the methods documented as safe from any goroutine that
// change reading and writing (SetWatermark, Enable, SetTimeouts, Disable
// of nothing) and a deferred Trigger, which checks the watermarks, over and over on a goroutine of its own, until the
// returned stop is called. Those calls must not look at Input and Output,
// which the loop's callbacks change with no lock held: under -race, a
// look is reported as a data race. The read high watermark and the write
// timeout are far above what the tests reach, so the calls change nothing
// the echo notices.
func fiddle(t *testing.T, bev *BufferEvent) (stop func()) {
	t.Helper()
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			default:
			}
			err := errors.Join(
				bev.SetWatermark(event.Read, 0, 1<<24),
				bev.Enable(event.Read|event.Write),
				bev.SetTimeouts(0, time.Duration(i%2)*deadline),
				bev.Disable(0))
			if i%16 == 0 && err == nil {
				err = bev.Trigger(event.Read|event.Write, TriggerDefer)
			}
			if err != nil {
				t.Errorf("call %d from another goroutine: %v", i, err)
				return
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-done }) }
	t.Cleanup(stop) // before the BufferEvent's Free, registered earlier
	return stop
}

// echoSizes are the messages the echoes below send: sizes that make the
// rings wrap, grow and hand their storage over (AddBuffer).
var echoSizes = []int{1, 100, 4095, 4097, 20000, 70000}

// echoWhileFiddled sends messages through c, whose other end echoes them
// with echoRead on the loop, while fiddle works on bev.
func echoWhileFiddled(t *testing.T, b *event.Base, bev *BufferEvent, c net.Conn) {
	t.Helper()
	stop := fiddle(t, bev)
	for i := range 40 {
		size := echoSizes[i%len(echoSizes)]
		if err := roundTrip(c, pattern(size, byte(i))); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	stop()
	settle(t, b)
	checkInvariants(t, b, bev)
}

// The loop's read callback moves Input to Output directly while another
// goroutine keeps calling SetWatermark, Enable and SetTimeouts on the same
// BufferEvent: everything echoes, and under -race nothing is reported.
func TestAnyGoroutineSettersWhileCallbackEchoesOnSocket(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0)
	bev.SetCallbacks(echoRead, nil, nil)
	if err := bev.Enable(event.Read); err != nil {
		t.Fatal(err)
	}
	echoWhileFiddled(t, b, bev, c)
}

func TestAnyGoroutineSettersWhileCallbackEchoesOnFilter(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	under, c := tcpPair(t, b, 0)
	f := newFilter(t, under, nil, nil, 0, nil)
	f.SetCallbacks(echoRead, nil, nil)
	if err := f.Enable(event.Read); err != nil {
		t.Fatal(err)
	}
	echoWhileFiddled(t, b, f, c)
	checkInvariants(t, b, under)
}

func TestAnyGoroutineSettersWhileCallbackEchoesOnTLS(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, c, _, ev := tlsServerAndGoClient(t, b, tlsServer, 0)
	handshakeConnected(t, c, ev)
	echoWhileFiddled(t, b, bev, c)
}

// On an in-memory pair the echoing end is the one fiddled with; the test
// writes with Write from its own goroutine to the other end, whose read
// callback hands each arrival over.
func TestAnyGoroutineSettersWhileCallbackEchoesOnPair(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	got := make(chan []byte, 64)
	x.SetCallbacks(func(bev *BufferEvent) {
		in := bev.Input()
		p := make([]byte, in.Len())
		in.Read(p)
		got <- p
	}, nil, nil)
	y.SetCallbacks(echoRead, nil, nil)
	for _, bev := range []*BufferEvent{x, y} {
		if err := bev.Enable(event.Read); err != nil {
			t.Fatal(err)
		}
	}
	stop := fiddle(t, y)
	for i := range 40 {
		msg := pattern(echoSizes[i%len(echoSizes)], byte(i))
		if _, err := x.Write(msg); err != nil {
			t.Fatal(err)
		}
		var back []byte
		for len(back) < len(msg) {
			back = append(back, wait(t, got, "the echo")...)
		}
		if d := firstDiff(back, msg); d >= 0 {
			t.Fatalf("message %d: echo of %d bytes differs at byte %d (got %d bytes)", i, len(msg), d, len(back))
		}
	}
	stop()
	settle(t, b)
	checkInvariants(t, b, x)
	checkInvariants(t, b, y)
}

// A read high watermark raised from another goroutine while reading is
// stopped at the old one resumes reading: the loop finds Input below the
// new mark and reads what waited.
func TestRaisedHighWatermarkFromAnotherGoroutineResumesReading(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	reads := make(chan int, 16)
	bev.SetCallbacks(sendLens(reads), nil, nil)
	if err := bev.SetWatermark(event.Read, 0, 10); err != nil {
		t.Fatal(err)
	}
	bev.Enable(event.Read)
	unix.Write(peer, make([]byte, 25))
	if n := wait(t, reads, "the read callback"); n != 10 {
		t.Fatalf("Input: got %d bytes, want 10 (the high watermark)", n)
	}
	settle(t, b)
	if len(reads) != 0 {
		t.Fatalf("read callback ran again with Input at the high watermark")
	}
	if err := bev.SetWatermark(event.Read, 0, 100); err != nil {
		t.Fatal(err)
	}
	if n := wait(t, reads, "reading to resume"); n != 25 {
		t.Errorf("Input after raising the mark: got %d bytes, want all 25", n)
	}
	checkInvariants(t, b, bev)
}

// The read high watermark of a pair end lowered below what its Input
// holds, just after its partner wrote: the partner's move may run before
// the loop has looked at the new mark, and must move nothing (nor panic on
// the negative room) until the reader drains.
func TestPairHighWatermarkLoweredBelowInputJustAfterAWrite(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	lens := make(chan int, 16)
	y.SetCallbacks(sendLens(lens), nil, nil)
	y.Enable(event.Read)
	x.WriteString("abc")
	if n := wait(t, lens, "the first read"); n != 3 {
		t.Fatalf("y's Input: got %d bytes, want 3", n)
	}
	onLoop(t, b, func() {
		x.WriteString("d")
		if err := y.SetWatermark(event.Read, 0, 1); err != nil {
			t.Errorf("SetWatermark: %v", err)
		}
	})
	settle(t, b)
	onLoop(t, b, func() {
		if n, m := x.Output().Len(), y.Input().Len(); n != 1 || m != 3 {
			t.Errorf("with y above its mark: x's Output %d bytes, y's Input %d, want 1 and 3", n, m)
		}
	})
	checkInvariants(t, b, y)
	onLoop(t, b, func() { y.Input().Drain(3) })
	if n := wait(t, lens, "y's read after the drain"); n != 1 {
		t.Errorf("y's Input after the drain: got %d bytes, want the 1 that waited", n)
	}
}

// CloseWrite from another goroutine while the loop's read callback is
// adding to Output: the call leaves Output to the loop (under -race a
// look at it is a data race), the peer reads a prefix of its own bytes
// and then the end of the stream, and Write refuses at once.
func TestAnyGoroutineCloseWriteWhileCallbackEchoes(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	for round := range 8 {
		bev, c := tcpPair(t, b, 0)
		bev.SetCallbacks(echoRead, nil, nil)
		if err := bev.Enable(event.Read | event.Write); err != nil {
			t.Fatal(err)
		}
		msg := pattern(200<<10, byte(round))
		wrote := make(chan error, 1)
		go func() {
			_, err := c.Write(msg)
			wrote <- err
		}()
		got := make([]byte, 1+round*1000)
		if _, err := io.ReadFull(c, got); err != nil { // the echo is under way
			t.Fatal(err)
		}
		if err := bev.CloseWrite(); err != nil {
			t.Fatalf("round %d: CloseWrite: %v", round, err)
		}
		if _, err := bev.WriteString("x"); !errors.Is(err, ErrWriteClosed) {
			t.Fatalf("round %d: Write after CloseWrite: %v, want ErrWriteClosed", round, err)
		}
		rest, err := io.ReadAll(c) // up to the end of the stream
		if err != nil {
			t.Fatalf("round %d: reading to the end: %v", round, err)
		}
		got = append(got, rest...)
		if len(got) > len(msg) || firstDiff(got, msg[:len(got)]) >= 0 {
			t.Fatalf("round %d: read %d bytes, not a prefix of the %d sent", round, len(got), len(msg))
		}
		if err := wait(t, wrote, "the client's write"); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		bev.Free()
	}
}
