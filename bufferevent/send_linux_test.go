package bufferevent

import (
	"bytes"
	"math"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// readAll reads fd (non-blocking) until want bytes came or the end of the
// stream, slowly if slow, and returns them.
func readAll(t *testing.T, fd, want int, slow bool) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 16<<10)
	for start := time.Now(); len(got) < want && time.Since(start) < deadline; {
		n, err := unix.Read(fd, buf)
		if err == nil && n == 0 {
			break
		}
		if err == nil {
			got = append(got, buf[:n]...)
		}
		if slow || err != nil {
			time.Sleep(100 * time.Microsecond)
		}
	}
	return got
}

// sendLarge lets output of any size go as sends until the test ends:
// the tests of the send machinery use large output to keep sends in the
// kernel.
func sendLarge(t *testing.T) {
	t.Helper()
	saved := sendMax
	sendMax = math.MaxInt
	t.Cleanup(func() { sendMax = saved })
}

// Output up to sendMax goes as a send, larger output with writev.
func TestSendOnlyOutputUpToSendMax(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	if !b.Sends() {
		t.Skip("the base does not send in the kernel (io_uring with IORING_OP_SEND only)")
	}
	bev, peer := pair(t, b, 0)
	fd := bev.Fd()
	sends := countSends(t, func() int { return fd })
	for _, c := range []struct {
		size  int
		sends int
	}{{sendMax, 1}, {sendMax + 1, 0}, {64 << 10, 0}, {100, 1}} {
		before := 0
		onLoop(t, b, func() { before = *sends })
		msg := pattern(c.size, 5)
		bev.Write(msg)
		if got := readAll(t, peer, len(msg), false); !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes: peer got %d", c.size, len(got))
		}
		onLoop(t, b, func() {
			if n := *sends - before; n != c.sends {
				t.Errorf("%d bytes of output went as %d sends, want %d", c.size, n, c.sends)
			}
		})
	}
}

// waitSending waits until bev has a send in the kernel (at once where
// the base does not send: there is nothing to wait for).
func waitSending(t *testing.T, bev *BufferEvent) {
	t.Helper()
	if !bev.base.Sends() {
		return
	}
	waitLoop(t, bev.base, "a send in the kernel", func() bool {
		bev.mu.Lock()
		defer bev.mu.Unlock()
		return bev.work&bsSending != 0
	})
}

// Several MiB to a slow reader arrive byte for byte, through short sends
// sent again and sends waiting for room.
func TestSendLargeStreamToSlowReaderIsByteExact(t *testing.T) {
	sendLarge(t)
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	fd := bev.Fd() // not in the hook: it runs with bev's lock held
	sends := countSends(t, func() int { return fd })
	msg := pattern(6<<20, 3)
	for i := 0; i < len(msg); i += 1 << 20 {
		bev.Write(msg[i : i+1<<20])
	}
	if got := readAll(t, peer, len(msg), true); !bytes.Equal(got, msg) {
		t.Fatalf("peer got %d bytes, want %d; a prefix: %v", len(got), len(msg), bytes.HasPrefix(msg, got))
	}
	onLoop(t, b, func() {
		if b.Sends() && *sends < 2 {
			t.Errorf("%d sends for %d bytes, want short ones sent again", *sends, len(msg))
		}
		checkInvariantsLocked(t, bev)
	})
}

func checkInvariantsLocked(t *testing.T, bev *BufferEvent) {
	bev.mu.Lock()
	bad := bev.brokenInvariantsLocked()
	bev.mu.Unlock()
	for _, p := range bad {
		t.Errorf("invariant broken: %s", p)
	}
}

// Output grows (to new storage), is prepended to and drained while a send
// reads its first bytes: what the peer gets is the bytes as written, a
// Prepend after the bytes already handed over.
func TestSendOutputChangesWhileInFlight(t *testing.T) {
	sendLarge(t)
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	first := pattern(1<<20, 5) // more than the socket takes: the send waits
	bev.Write(first)
	waitSending(t, bev)
	more := pattern(3<<20, 9)
	var want []byte
	onLoop(t, b, func() {
		bev.mu.Lock()
		k := len(first) - bev.out().Len() + int(bev.wev.sendHeld) // where the send's bytes end
		bev.mu.Unlock()
		bev.Output().Write(more) // grows: the storage under the send moves
		bev.Output().Unfreeze(true)
		if err := bev.Output().Prepend([]byte("HEAD")); err != nil {
			t.Errorf("Prepend: %v", err)
		}
		bev.Output().Freeze(true)
		bev.Output().Peek(-1)
		scribblePool()
		want = append(append(append(want, first[:k]...), "HEAD"...), first[k:]...)
		want = append(want, more...)
	})
	if got := readAll(t, peer, len(want), false); !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("peer got %d bytes, want %d; first difference at %d", len(got), len(want), i)
	}
}

// Draining Output while a send reads it removes what is not handed over
// yet; the bytes the kernel has go out, then what is written next.
func TestSendDrainWhileInFlight(t *testing.T) {
	sendLarge(t)
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	first := pattern(1<<20, 7)
	bev.Write(first)
	waitSending(t, bev)
	onLoop(t, b, func() {
		bev.Output().Unfreeze(true)
		if err := bev.Output().Reset(); err != nil {
			t.Errorf("Reset: %v", err)
		}
		bev.Output().Freeze(true)
		scribblePool()
		bev.Output().WriteString("tail")
	})
	var got []byte
	for start := time.Now(); !bytes.HasSuffix(got, []byte("tail")) && time.Since(start) < deadline; {
		got = append(got, readAll(t, peer, 1, false)...)
	}
	if !bytes.HasSuffix(got, []byte("tail")) || !bytes.HasPrefix(first, got[:len(got)-4]) {
		t.Fatalf("peer got %d bytes ending %q, want a prefix of the first write, then tail", len(got), got[max(0, len(got)-8):])
	}
}

// Freeing a BufferEvent with a send in the kernel leaves the send to
// finish: the bytes the peer gets are intact, even once the freed Output's
// storage would have gone to the pool and been written over; the
// descriptor is closed (the peer sees the end of the stream), nothing
// leaks.
func TestSendFreeWhileInFlight(t *testing.T) {
	sendLarge(t)
	checkLeaks(t)
	b := startLoop(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	bev := newBev(t, b, fds[0], CloseOnFree)
	filled := fillSocket(t, fds[0]) // the send waits in the kernel for all its bytes
	msg := pattern(48<<10, 11)      // in a 64 KiB array, which the pool would take
	bev.Write(msg)
	waitSending(t, bev)
	onLoop(t, b, bev.Free)
	onLoop(t, b, scribblePool) // after the freed BufferEvent's buffers have gone
	want := msg
	if !b.Sends() {
		want = nil // a writev found no room: the bytes were still Output's, freed with it
	}
	expectAfterFiller(t, fds[1], filled, want, len(msg)+1)
}

// A peer that closed makes the send fail: Writing|Error, Err EPIPE.
func TestSendToClosedPeerReportsEPIPE(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	ev := newEvents()
	bev.SetCallbacks(nil, nil, ev.cb)
	unix.Close(peer)
	bev.Write([]byte("to nobody"))
	ev.expect(t, Writing|Error)
	wantErrno(t, "Err after writing to a closed peer", bev.Err(), unix.EPIPE)
}

// scribblePool overwrites the arrays the storage pools hold, as their next
// users would: an array a send still reads must not be among them.
func scribblePool() {
	runtime.GC()
	for size := minStorage; size <= maxPooled; size *= 2 {
		var held [][]byte
		for range 4 {
			s := getStorage(size)
			for i := range s {
				s[i] = 0xee
			}
			held = append(held, s)
		}
		for _, s := range held {
			putStorage(s)
		}
	}
}

// expectAfterFiller reads from peer up to filled+most bytes, or to the
// end of the stream, and fails unless what follows the filler's filled
// bytes is want.
func expectAfterFiller(t *testing.T, peer, filled int, want []byte, most int) {
	t.Helper()
	got := readAll(t, peer, filled+most, false)
	if len(got) < filled || !bytes.Equal(got[filled:], want) {
		t.Fatalf("peer got %d bytes after the %d of the filler, want %d; first difference at %d",
			len(got)-filled, filled, len(want), firstDiff(got[min(filled, len(got)):], want))
	}
}

// fillSocket writes to fd until it takes no more and returns how much it
// wrote, so that a send queued next waits in the kernel with none of its
// bytes copied yet: the kernel reads them only once the peer reads.
func fillSocket(t *testing.T, fd int) int {
	t.Helper()
	total, chunk := 0, make([]byte, 64<<10)
	for size := len(chunk); size > 0; size /= 8 {
		for {
			n, err := unix.Write(fd, chunk[:size])
			if err == unix.EAGAIN {
				break
			}
			if err != nil {
				t.Fatalf("filling the socket: %v", err)
			}
			total += n
		}
	}
	return total
}

// Output grows while a send waits in the kernel for its bytes: the old
// array goes to the collector, not to the pool, where another buffer
// would take it and write over the bytes before the kernel reads them.
func TestSendGrowWhileInFlightKeepsTheOldArrayOutOfThePool(t *testing.T) {
	sendLarge(t)
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	filled := fillSocket(t, bev.Fd())
	first := pattern(48<<10, 5) // in a 64 KiB array
	bev.Write(first)
	waitSending(t, bev)
	more := pattern(200<<10, 9)
	onLoop(t, b, func() {
		bev.Output().Write(more) // grows to 256 KiB: the 64 KiB array is the send's
		// Another buffer takes a 64 KiB array from the pool at once, on
		// the goroutine that would have put it there, and writes into it.
		var other Buffer
		other.Write(bytes.Repeat([]byte{0xdd}, len(first)))
		scribblePool()
		other.Reset()
	})
	want := append(append([]byte{}, first...), more...)
	expectAfterFiller(t, peer, filled, want, len(want))
}

// User code drains bytes a send waiting in the kernel has been given,
// then appends enough to wrap into the space that frees: the data moves
// first, so the kernel still reads the send's bytes as written. They go
// out (the kernel has them), but for any the send left short, which the
// drain removed; then the rest of Output.
func TestSendDrainOfInFlightBytesThenAppendsLeavesThemIntact(t *testing.T) {
	sendLarge(t)
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	filled := fillSocket(t, bev.Fd())
	first := pattern(40<<10, 7) // in a 64 KiB array, from its start
	bev.Write(first)
	waitSending(t, bev)
	const drained = 30 << 10
	more := pattern(50<<10, 13) // fits in the 54 KiB left free: wraps over the front
	onLoop(t, b, func() {
		out := bev.Output()
		out.Unfreeze(true)
		if n := out.Drain(drained); n != drained {
			t.Errorf("Drain: %d, want %d", n, drained)
		}
		out.Freeze(true)
		out.Write(more)
		scribblePool()
	})
	tail := append(append([]byte{}, first[drained:]...), more...)
	var got []byte
	for start := time.Now(); !bytes.HasSuffix(got, tail) && time.Since(start) < deadline; {
		got = append(got, readAll(t, peer, 1, false)...)
	}
	if len(got) < filled+len(tail) || !bytes.HasSuffix(got, tail) {
		t.Fatalf("peer got %d bytes after the %d of the filler, want them to end with the %d not drained, then the %d appended",
			len(got)-filled, filled, len(first)-drained, len(more))
	}
	if head := got[filled : len(got)-len(tail)]; !bytes.HasPrefix(first, head) {
		t.Fatalf("the %d bytes before those are not the first written; first difference at %d", len(head), firstDiff(head, first))
	}
}

// A send waits in the kernel for Output's bytes, which wrap around the
// ring; Peek then makes them contiguous in new storage instead of sliding
// them in place, where the kernel is still to read them.
func TestSendPullUpWhileInFlightLeavesTheSendsBytes(t *testing.T) {
	sendLarge(t)
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	filled := fillSocket(t, bev.Fd())
	first, more := pattern(40<<10, 17), pattern(30<<10, 19)
	onLoop(t, b, func() {
		bev.Disable(event.Write)
		out := bev.Output()
		out.Unfreeze(true)
		out.Write(first) // a 64 KiB array, from its start
		out.Drain(30 << 10)
		out.Write(more) // 40 KiB from offset 30 KiB: wraps by 6 KiB
		out.Freeze(true)
		if err := bev.Enable(event.Write); err != nil {
			t.Errorf("Enable: %v", err)
		}
	})
	waitSending(t, bev)
	onLoop(t, b, func() {
		out := bev.Output()
		if p := out.Peek(-1); len(p) != out.Len() {
			t.Errorf("Peek gave %d of %d bytes", len(p), out.Len())
		}
	})
	want := append(append([]byte{}, first[30<<10:]...), more...)
	expectAfterFiller(t, peer, filled, want, len(want))
}
