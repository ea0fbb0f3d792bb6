package bufferevent

import (
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// produce writes total pattern bytes to c from a goroutine, then closes
// it; the returned channel reports the write error.
func produce(c net.Conn, total int, seed byte) <-chan error {
	done := make(chan error, 1)
	go func() {
		defer c.Close()
		c.SetWriteDeadline(time.Now().Add(deadline))
		chunk := make([]byte, 256<<10)
		for off := 0; off < total; off += len(chunk) {
			n := min(len(chunk), total-off)
			for i := range n {
				chunk[i] = patternByte(int64(off+i), seed)
			}
			if _, err := c.Write(chunk[:n]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

// checker verifies a stream of pattern bytes as it arrives.
type checker struct {
	t    testing.TB
	seed byte
	off  int64
	bad  bool
}

func (c *checker) check(p []byte) {
	for i, x := range p {
		if want := patternByte(c.off+int64(i), c.seed); x != want && !c.bad {
			c.bad = true
			c.t.Errorf("byte %d of the stream: got %#x, want %#x", c.off+int64(i), x, want)
		}
	}
	c.off += int64(len(p))
}

// A reader slower than its peer: the peer sends 64 MiB as fast as it can,
// a timer drains Input a little at a time. Reading must stop at the high
// watermark, so Input never holds more than that, and resume when the
// timer drains it, so every byte still arrives, in order.
func TestReadHighWatermarkBoundsInputWhileSlowReaderDrains(t *testing.T) {
	checkLeaks(t)
	const (
		total   = 64 << 20
		high    = 256 << 10
		perTick = 128 << 10
	)
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0)

	// Loop goroutine only.
	var maxLen, maxCap, suspensions int
	chk := &checker{t: t, seed: 3}
	done := make(chan struct{})
	observe := func() {
		maxLen = max(maxLen, bev.Input().Len())
		maxCap = max(maxCap, bev.Input().Cap())
	}
	tmp := make([]byte, perTick)
	tick, err := event.New(b, -1, event.Persist, func(int, event.Flag) {
		observe()
		if bev.work&bsSuspended != 0 {
			suspensions++
		}
		n, _ := bev.Input().Read(tmp)
		chk.check(tmp[:n])
		if chk.off == total {
			select {
			case <-done:
			default:
				close(done)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tick.Free)
	bev.SetCallbacks(func(*BufferEvent) { observe() }, nil, nil)
	if err := bev.SetWatermark(event.Read, 0, high); err != nil {
		t.Fatal(err)
	}
	bev.Enable(event.Read)
	tick.Add(time.Millisecond)

	perr := produce(c, total, 3)
	wait(t, done, "64 MiB through a slow reader")
	if err := wait(t, perr, "the producer"); err != nil {
		t.Fatalf("producer: %v", err)
	}
	// The timer and the read callback write the figures on the loop's
	// goroutine: stop both there before reading them here.
	onLoop(t, b, func() {
		tick.Del()
		bev.SetCallbacks(nil, nil, nil)
	})
	if maxLen > high {
		t.Errorf("largest Input: got %d bytes, want at most the high watermark %d", maxLen, high)
	}
	if maxCap > 2*high {
		t.Errorf("largest Input storage: got %d bytes, want at most %d", maxCap, 2*high)
	}
	if suspensions == 0 {
		t.Errorf("reading was never suspended at the high watermark: the test did not test back-pressure")
	}
	t.Logf("64 MiB: largest Input %d bytes (storage %d), suspended at %d of the timer's ticks", maxLen, maxCap, suspensions)
}

// Read from another goroutine drains Input, and draining below the high
// watermark restarts reading, also when nothing runs on the loop.
func TestReadFromAnotherGoroutineDrainsInputAndResumesReading(t *testing.T) {
	checkLeaks(t)
	const (
		total = 8 << 20
		high  = 64 << 10
	)
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0)
	more := make(chan struct{}, 1)
	bev.SetCallbacks(func(*BufferEvent) {
		select {
		case more <- struct{}{}:
		default:
		}
	}, nil, nil)
	bev.SetWatermark(event.Read, 0, high)
	bev.Enable(event.Read)
	perr := produce(c, total, 9)
	chk := &checker{t: t, seed: 9}
	p := make([]byte, 5000) // not a power of two: reads straddle the ring's wrap
	for chk.off < total {
		n := bev.Read(p)
		if n == 0 {
			wait(t, more, "more input")
			continue
		}
		if n > len(p) {
			t.Fatalf("Read: got %d bytes into a %d-byte slice", n, len(p))
		}
		chk.check(p[:n])
	}
	if err := wait(t, perr, "the producer"); err != nil {
		t.Fatalf("producer: %v", err)
	}
	if n := bev.Read(p); n != 0 {
		t.Errorf("Read after the whole stream: got %d bytes, want 0", n)
	}
}

// The read callback waits for the read low watermark.
func TestReadCallbackWaitsForLowWatermark(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	got := make(chan int, 4)
	bev.SetCallbacks(sendLens(got), nil, nil)
	if err := bev.SetWatermark(event.Read, 10, 0); err != nil {
		t.Fatal(err)
	}
	bev.Enable(event.Read)
	unix.Write(peer, []byte("1234"))
	settle(t, b)
	select {
	case n := <-got:
		t.Fatalf("read callback ran with %d bytes, below the low watermark 10", n)
	default:
	}
	unix.Write(peer, []byte("567890"))
	if n := wait(t, got, "the read callback"); n != 10 {
		t.Errorf("read callback: Input holds %d bytes, want 10", n)
	}
}

// The write callback runs once Output drains to the write low watermark,
// never while it is above it.
func TestWriteCallbackWaitsForOutputToDrainToLowWatermark(t *testing.T) {
	checkLeaks(t)
	const (
		total = 4 << 20
		low   = 100 << 10
	)
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0)
	fired := make(chan int, 1)
	bev.SetCallbacks(nil, func(bev *BufferEvent) {
		select {
		case fired <- bev.Output().Len():
		default:
		}
	}, nil)
	bev.SetWatermark(event.Write, low, 0)
	bev.Write(pattern(total, 1))
	back := make([]byte, total)
	c.SetReadDeadline(time.Now().Add(deadline))
	if _, err := io.ReadFull(c, back); err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(back, pattern(total, 1)); i >= 0 {
		t.Fatalf("data differs at byte %d", i)
	}
	if n := wait(t, fired, "the write callback"); n > low {
		t.Errorf("write callback ran with %d bytes in Output, above the low watermark %d", n, low)
	}
}

func TestSetWatermarkRejectsBadValues(t *testing.T) {
	b := startLoop(t)
	bev, _ := pair(t, b, 0)
	for _, w := range [][2]int{{-1, 0}, {0, -1}, {10, 5}} {
		if err := bev.SetWatermark(event.Read, w[0], w[1]); err == nil {
			t.Errorf("SetWatermark(Read, %d, %d): got nil, want an error", w[0], w[1])
		}
	}
	if err := bev.SetWatermark(event.Write, 10, 5); err != nil {
		t.Errorf("SetWatermark(Write, 10, 5): got %v, want nil (the write high watermark is unused)", err)
	}
}

// Lowering the high watermark below what Input holds stops reading (the
// loop's next look at Input, before any read); draining Input on the loop
// (not through Read) starts it again.
func TestLoweredHighWatermarkSuspendsAndDrainResumes(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	reads := make(chan int, 16)
	bev.SetCallbacks(sendLens(reads), nil, nil)
	bev.Enable(event.Read)
	unix.Write(peer, make([]byte, 100))
	if n := wait(t, reads, "the read callback"); n != 100 {
		t.Fatalf("Input: got %d bytes, want 100", n)
	}
	if err := bev.SetWatermark(event.Read, 0, 50); err != nil {
		t.Fatal(err)
	}
	settle(t, b)
	onLoop(t, b, func() {
		if p, _ := bev.rev.Pending(event.Read); p != 0 {
			t.Errorf("read event: got pending %v with Input above the new high watermark, want not pending", p)
		}
	})
	unix.Write(peer, make([]byte, 10))
	settle(t, b)
	if len(reads) != 0 {
		t.Fatalf("read callback ran with Input above the new high watermark")
	}
	onLoop(t, b, func() { bev.Input().Drain(100) })
	if n := wait(t, reads, "reading to resume"); n != 10 {
		t.Errorf("Input after resuming: got %d bytes, want the 10 that waited", n)
	}
}

// Output changed directly on the loop's goroutine, outside any callback,
// is flushed too.
func TestDirectOutputWriteOnTheLoopIsFlushed(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	onLoop(t, b, func() { bev.Output().WriteString("direct") })
	settle(t, b)
	p := make([]byte, 16)
	if n, err := unix.Read(peer, p); err != nil || string(p[:n]) != "direct" {
		t.Errorf("peer read: got %q, %v, want %q", p[:max(n, 0)], err, "direct")
	}
}
