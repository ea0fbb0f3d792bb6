package bufferevent

import (
	"io"
	"testing"
	"time"

	"github.com/levent-go/levent/event"
)

// pingPong is a pair of BufferEvents on one base that the caller drives
// with LoopOnce: x sends a message, y echoes it, x reads it back.
// newPingPong makes it with NewPair (in memory), newSocketPingPong with
// NewSocketPair.
type pingPong struct {
	b    *event.Base
	x, y *BufferEvent
	msg  []byte
	got  int // bytes x has read back
}

func newPingPong(t testing.TB, size int) *pingPong {
	t.Helper()
	return newPingPongWith(t, size, NewPair)
}

func newSocketPingPong(t testing.TB, size int) *pingPong {
	t.Helper()
	return newPingPongWith(t, size, NewSocketPair)
}

func newPingPongWith(t testing.TB, size int, newPair func(*event.Base, Options) (*BufferEvent, *BufferEvent, error)) *pingPong {
	t.Helper()
	b, err := event.NewBase()
	if err != nil {
		t.Fatal(err)
	}
	x, y, err := newPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := &pingPong{b: b, x: x, y: y, msg: pattern(size, 0)}
	t.Cleanup(func() {
		x.Free()
		y.Free()
		b.Close()
	})
	nop := func(*BufferEvent) {}
	y.SetCallbacks(echoRead, nop, nil)
	x.SetCallbacks(func(x *BufferEvent) {
		p.got += x.Input().Len()
		x.Input().Reset()
	}, nop, nil)
	x.Enable(event.Read)
	y.Enable(event.Read)
	return p
}

// roundTrip sends one message and runs the loop until it is back.
func (p *pingPong) roundTrip(t testing.TB) {
	want := p.got + len(p.msg)
	p.x.Write(p.msg)
	for p.got < want {
		if err := p.b.Loop(event.LoopOnce); err != nil {
			t.Fatal(err)
		}
	}
}

// A message's whole trip (Write, flush, read event, read callback, echo
// with AddBuffer, writev, write callbacks, read back) allocates nothing
// once the buffers are warm.
func TestEchoRoundTripDoesNotAllocate(t *testing.T) {
	if bufRaceEnabled {
		t.Skip("sync.Pool drops items on purpose under -race")
	}
	checkLeaks(t)
	for _, size := range []int{64, 16 << 10} {
		for name, p := range map[string]*pingPong{"in-memory": newPingPong(t, size), "socket pair": newSocketPingPong(t, size)} {
			for range 10 {
				p.roundTrip(t)
			}
			if a := testing.AllocsPerRun(200, func() { p.roundTrip(t) }); a != 0 {
				t.Errorf("%s, %d-byte round trip: got %v allocations, want 0", name, size, a)
			}
		}
	}
}

// countCalls hooks the readv and writev the buffers make and counts those
// on fd, which must all be made as calls on a non-blocking descriptor.
func countCalls(t *testing.T, fd func() int) (reads, writes *int) {
	reads, writes = new(int), new(int)
	for hook, n := range map[*ringIO]*int{&bufReadv: reads, &bufWritev: writes} {
		bufHook(t, hook, func(orig ringIO, f int, p0, p1 []byte, nb bool) (int, error) {
			if f == fd() {
				*n++
				if !nb {
					t.Errorf("fd %d: a BufferEvent's I/O made as on a blocking descriptor", f)
				}
			}
			return orig(f, p0, p1, nb)
		})
	}
	return reads, writes
}

// countSends counts the sends queued on fd.
func countSends(t *testing.T, fd func() int) *int {
	n := new(int)
	orig := baseSend
	baseSend = func(b *event.Base, f int, p0, p1 []byte) (int, error) {
		if f == fd() {
			*n++
		}
		return orig(b, f, p0, p1)
	}
	t.Cleanup(func() { baseSend = orig })
	return n
}

// A message that fits is taken with one readv (none where the base
// receives in the kernel) and echoed with one writev (none where it sends
// in the kernel, but one send): no read until EAGAIN, no second write.
func TestEchoMakesOneReadvAndOneWritevPerMessage(t *testing.T) {
	checkLeaks(t)
	const messages = 50
	var serverFd int
	reads, writes := countCalls(t, func() int { return serverFd })
	sends := countSends(t, func() int { return serverFd })
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0)
	serverFd = bev.Fd()
	bev.SetCallbacks(echoRead, nil, nil)
	bev.Enable(event.Read)
	msg := pattern(1000, 1)
	back := make([]byte, len(msg))
	c.SetDeadline(time.Now().Add(deadline))
	for range messages {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, back); err != nil {
			t.Fatal(err)
		}
	}
	// A base that receives in the kernel (io_uring) hands the read
	// callback data already read: no readv at all; one that sends takes
	// each message as one send, with no writev.
	wantReads, wantWrites, wantSends := messages, messages, 0
	if b.Receives() {
		wantReads = 0
	}
	if b.Sends() {
		wantWrites, wantSends = 0, messages
	}
	onLoop(t, b, func() {
		if *reads != wantReads || *writes != wantWrites || *sends != wantSends {
			t.Errorf("for %d messages on %s: got %d readv, %d writev and %d sends, want %d, %d and %d",
				messages, b.Method(), *reads, *writes, *sends, wantReads, wantWrites, wantSends)
		}
	})
}

// BenchmarkPairEcho is a round trip between two BufferEvents on one loop:
// x writes, y's read callback echoes with AddBuffer, x's read callback
// takes it. In memory (NewPair) that is two moves of the ring between the
// buffers and four callbacks per op; through a socket pair
// (NewSocketPair), two readv and two writev more. Neither allocates.
func BenchmarkPairEcho(b *testing.B) {
	for _, kind := range []struct {
		name string
		make func(testing.TB, int) *pingPong
	}{{"mem", newPingPong}, {"socket", newSocketPingPong}} {
		for _, size := range []int{64, 16 << 10} {
			b.Run(kind.name+"/"+bufSizeName(size), func(b *testing.B) {
				p := kind.make(b, size)
				for range 10 {
					p.roundTrip(b)
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					p.roundTrip(b)
				}
			})
		}
	}
}
