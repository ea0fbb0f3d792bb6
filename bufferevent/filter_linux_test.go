package bufferevent

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

func newFilter(t testing.TB, under *BufferEvent, in, out FilterFunc, opts Options, free func()) *BufferEvent {
	t.Helper()
	f, err := NewFilter(under, in, out, opts, free)
	if err != nil {
		t.Fatalf("NewFilter: %v", err)
	}
	t.Cleanup(f.Free)
	return f
}

// stripX is regress_bufferevent.c's bufferevent_input_filter: every byte
// comes as 'x' and the byte, and a '-' is dropped.
func stripX(t testing.TB) FilterFunc {
	return func(src, dst *Buffer, _ int, _ FlushMode) FilterResult {
		p := src.Peek(-1)
		i := 0
		for ; i+1 < len(p); i += 2 {
			if p[i] == '-' {
				i--
				continue
			}
			if p[i] != 'x' {
				t.Errorf("input filter: got %q where an 'x' belongs", p[i])
				return FilterError
			}
			dst.WriteByte(p[i+1])
		}
		src.Drain(i)
		return FilterOK
	}
}

// testFiltersImpl ports test_bufferevent_filters_impl(use_pair, disable):
// bev1's output filter puts an 'x' before each byte, bev2's input filter
// takes them away, and bev2 reads the 8333 bytes bev1 wrote. Its first
// call succeeds and any later one fails. With disable, the output filter
// writes a "-" to bev1 while it runs: that Write does not run the filter
// again from inside (libevent's assertion), the next run sees the "-" and
// fails, and levent, unlike libevent, reports that as Writing|Error
// (libevent drops the error).
func testFiltersImpl(t *testing.T, usePair, disable bool) {
	checkLeaks(t)
	b := newBase(t)
	newPair := NewSocketPair
	if usePair {
		newPair = NewPair
	}
	base1, base2, err := newPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	calls, depth := 0, 0
	var bev1 *BufferEvent
	outFilter := func(src, dst *Buffer, _ int, _ FlushMode) FilterResult {
		calls++
		depth++
		defer func() { depth-- }()
		if depth > 1 {
			t.Errorf("output filter entered again from inside itself")
		}
		if calls > 1 {
			return FilterError
		}
		for _, c := range src.Peek(-1) {
			dst.Write([]byte{'x', c})
		}
		src.Reset()
		if disable {
			bev1.WriteString("-")
		}
		return FilterOK
	}
	bev1 = newFilter(t, base1, nil, outFilter, CloseOnFree, nil)
	bev2 := newFilter(t, base2, stripX(t), nil, CloseOnFree, nil)
	wrote, read := false, false
	var events1, events2 []What
	bev1.SetCallbacks(nil, func(bev *BufferEvent) {
		if bev.Output().Len() == 0 {
			wrote = true
		}
	}, func(_ *BufferEvent, w What) { events1 = append(events1, w) })
	want := pattern(8333, 0)
	bev2.SetCallbacks(func(bev *BufferEvent) {
		if bev.Input().Len() == len(want) {
			read = bytes.Equal(bev.Input().Peek(-1), want)
			bev.Input().Reset()
			bev.Disable(event.Read)
		}
	}, nil, func(_ *BufferEvent, w What) { events2 = append(events2, w) })
	if bev1.Underlying() != base1 || bev2.Underlying() != base2 {
		t.Errorf("Underlying: got %p and %p, want %p and %p", bev1.Underlying(), bev2.Underlying(), base1, base2)
	}
	if bev1.Fd() != base1.Fd() || bev2.Fd() != base2.Fd() {
		t.Errorf("Fd: got %d and %d, want the underlying's %d and %d", bev1.Fd(), bev2.Fd(), base1.Fd(), base2.Fd())
	}
	bev1.Disable(event.Read)
	bev2.Enable(event.Read)
	bev1.Write(want)
	if err := b.Dispatch(); err != nil {
		t.Fatal(err)
	}
	if !read {
		t.Errorf("bev2 did not read the 8333 bytes bev1 wrote")
	}
	if len(events2) != 0 {
		t.Errorf("bev2's events: got %v, want none", events2)
	}
	if disable {
		if calls != 2 || len(events1) != 1 || events1[0] != Writing|Error || !errors.Is(bev1.Err(), ErrFilter) {
			t.Errorf("output filter runs %d, bev1's events %v, Err %v; want 2, [Writing|Error], ErrFilter", calls, events1, bev1.Err())
		}
		if _, err := bev1.WriteString("more"); !errors.Is(err, ErrFilter) {
			t.Errorf("Write after the output filter failed: got %v, want ErrFilter", err)
		}
	} else if calls != 1 || !wrote || len(events1) != 0 {
		t.Errorf("output filter runs %d, write callback saw Output empty %v, events %v; want 1, true, none", calls, wrote, events1)
	}
}

func TestFilters(t *testing.T)            { testFiltersImpl(t, false, false) }
func TestPairFilters(t *testing.T)        { testFiltersImpl(t, true, false) }
func TestFiltersDisable(t *testing.T)     { testFiltersImpl(t, false, true) }
func TestPairFiltersDisable(t *testing.T) { testFiltersImpl(t, true, true) }

// TestFilterDataStuck ports test_bufferevent_filter_data_stuck: an input
// filter that adds a 20-byte header and respects its limit, behind a read
// high watermark of 4096 on every BufferEvent. What does not fit waits in
// the underlying's Input and comes once the filter's Input is drained;
// nothing stays stuck.
func TestFilterDataStuck(t *testing.T) {
	checkLeaks(t)
	const high, header = 4096, 20
	b := newBase(t)
	opts := CloseOnFree | DeferCallbacks
	p0, p1, err := NewPair(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p0.Free()
	p0.SetWatermark(event.Read, 0, high)
	p1.SetWatermark(event.Read, 0, high)
	inserted := false
	filter := newFilter(t, p1, func(src, dst *Buffer, limit int, _ FlushMode) FilterResult {
		if src.Len() == 0 {
			return FilterNeedMore // libevent runs it only after a read
		}
		h := 0
		if !inserted {
			dst.Write(make([]byte, header))
			h, inserted = header, true
		}
		n := src.Len()
		if limit > 0 && n > limit-h {
			n = limit - h
		}
		if k, err := src.MoveTo(dst, n); k != n || err != nil {
			t.Errorf("MoveTo(%d): moved %d, %v", n, k, err)
		}
		return FilterOK
	}, nil, opts, nil)
	total := 0
	filter.SetCallbacks(func(bev *BufferEvent) {
		total += bev.Input().Len()
		bev.Input().Reset()
	}, nil, nil)
	if err := filter.Enable(event.Read | event.Write); err != nil {
		t.Fatal(err)
	}
	filter.SetWatermark(event.Read, 0, high)
	p0.Write(make([]byte, high))
	if err := b.Dispatch(); err != nil {
		t.Fatal(err)
	}
	if total != high+header {
		t.Errorf("read through the filter: got %d bytes, want %d", total, high+header)
	}
}

// The input filter's limit is the room below the filter's read high
// watermark, and the output filter's the room below the underlying's
// write high watermark; both stop there.
func TestFilterLimitsFollowWatermarks(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	var inLimits, outLimits []int
	record := func(limits *[]int) FilterFunc {
		return func(src, dst *Buffer, limit int, mode FlushMode) FilterResult {
			*limits = append(*limits, limit)
			return passThrough(src, dst, limit, mode)
		}
	}
	fy := newFilter(t, y, record(&inLimits), nil, 0, nil)
	fillToHighWatermark(t, x, fy, 25, 10)
	settle(t, b)
	onLoop(t, b, func() {
		if len(inLimits) == 0 || inLimits[0] != 10 {
			t.Errorf("input filter's limits: got %v, want 10 first", inLimits)
		}
		if n := y.Input().Len(); n != 15 {
			t.Errorf("underlying's Input while the filter's is full: got %d bytes, want 15", n)
		}
	})

	// x does not read: what the filter above y writes piles up in y's
	// Output, up to y's write high watermark.
	fx := newFilter(t, y, nil, record(&outLimits), 0, nil)
	y.SetWatermark(event.Write, 0, 16)
	fx.Write(pattern(40, 1))
	settle(t, b)
	onLoop(t, b, func() {
		if y.Output().Len() != 16 || fx.Output().Len() != 24 {
			t.Errorf("underlying's Output %d, filter's %d; want 16 and 24", y.Output().Len(), fx.Output().Len())
		}
		if !bytes.Equal(fx.Output().Peek(-1), pattern(40, 1)[16:]) {
			t.Errorf("filter's Output: got %q, want the last 24 bytes written, in order", fx.Output().Peek(-1))
		}
		if len(outLimits) != 1 || outLimits[0] != 16 {
			t.Errorf("output filter's limits: got %v, want [16]", outLimits)
		}
	})
}

// Every condition the underlying reports reaches the filter's event
// callback unchanged, with Err giving the underlying's error.
func TestFilterPassesUnderlyingEvents(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)

	t.Run("EOF", func(t *testing.T) {
		under, peer := pair(t, b, 0)
		f := newFilter(t, under, nil, nil, 0, nil)
		ev := newEvents()
		f.SetCallbacks(nil, nil, ev.cb)
		f.Enable(event.Read)
		unix.Shutdown(peer, unix.SHUT_WR)
		ev.expect(t, Reading|EOF)
	})
	t.Run("Error", func(t *testing.T) {
		under, c := tcpPair(t, b, 0)
		f := newFilter(t, under, nil, nil, 0, nil)
		ev := newEvents()
		f.SetCallbacks(nil, nil, ev.cb)
		f.Enable(event.Read)
		c.SetLinger(0)
		c.Close()
		ev.expect(t, Reading|Error)
		wantErrno(t, "the filter's Err", f.Err(), unix.ECONNRESET)
	})
	t.Run("Timeout", func(t *testing.T) {
		under, _ := pair(t, b, 0)
		f := newFilter(t, under, nil, nil, 0, nil)
		ev := newEvents()
		f.SetCallbacks(nil, nil, ev.cb)
		under.SetTimeouts(20*time.Millisecond, 0)
		f.Enable(event.Read)
		ev.expect(t, Reading|Timeout)
	})
	t.Run("Connected", func(t *testing.T) {
		l, err := listener.NewBind(b, func(_ *listener.Listener, fd int, _ net.Addr) { unix.Close(fd) },
			0, 0, "tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Free()
		under := newBev(t, b, -1, CloseOnFree) // Connect's socket is closed with it
		f := newFilter(t, under, nil, nil, CloseOnFree, nil)
		ev := newEvents()
		f.SetCallbacks(nil, nil, ev.cb)
		if err := under.Connect("tcp4", l.Addr().String()); err != nil {
			t.Fatal(err)
		}
		ev.expect(t, Connected)
	})
}

// A filter function that fails turns its direction off and reports it.
func TestFilterInputErrorIsReported(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	f := newFilter(t, y, func(*Buffer, *Buffer, int, FlushMode) FilterResult { return FilterError }, nil, 0, nil)
	ev := newEvents()
	f.SetCallbacks(nil, nil, ev.cb)
	f.Enable(event.Read)
	x.WriteString("cannot be filtered")
	ev.expect(t, Reading|Error)
	if !errors.Is(f.Err(), ErrFilter) || f.Enabled()&event.Read != 0 {
		t.Errorf("after the input filter failed: Err %v, enabled %v; want ErrFilter and no Read", f.Err(), f.Enabled())
	}
	checkInvariants(t, b, f)
}

// Freeing a filter with CloseOnFree frees the underlying (and closes its
// socket); without, the underlying is given back, callbacks cleared and
// reading enabled. freeContext runs once either way, on the loop.
func TestFilterFree(t *testing.T) {
	for _, closeOnFree := range []bool{true, false} {
		name := "without CloseOnFree"
		var opts Options
		if closeOnFree {
			name, opts = "CloseOnFree", CloseOnFree
		}
		t.Run(name, func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			under, peer := pair(t, b, 0)
			freed := make(chan struct{}, 2)
			f, err := NewFilter(under, nil, nil, opts, func() { freed <- struct{}{} })
			if err != nil {
				t.Fatal(err)
			}
			f.Free()
			wait(t, freed, "freeContext")
			settle(t, b)
			if len(freed) != 0 {
				t.Errorf("freeContext ran more than once")
			}
			_, werr := under.WriteString("after")
			if closeOnFree {
				if !errors.Is(werr, ErrFreed) {
					t.Errorf("underlying after Free with CloseOnFree: Write got %v, want ErrFreed", werr)
				}
				return
			}
			if werr != nil || under.Enabled() != event.Read|event.Write {
				t.Errorf("underlying after Free: Write %v, enabled %v; want nil and Read|Write", werr, under.Enabled())
			}
			under.mu.Lock()
			cleared := under.readcb == nil && under.writecb == nil && under.eventcb == nil
			under.mu.Unlock()
			if !cleared {
				t.Errorf("underlying after Free: the filter's callbacks are still set")
			}
			got := make([]byte, 16)
			unix.SetNonblock(peer, false)
			if n, _ := unix.Read(peer, got); string(got[:n]) != "after" {
				t.Errorf("peer read %q, want %q", got[:n], "after")
			}
			if _, err := f.Write([]byte("x")); !errors.Is(err, ErrFreed) {
				t.Errorf("Write on the freed filter: got %v, want ErrFreed", err)
			}
		})
	}
}

// A compressing output filter: FlushFlush makes what was written so far
// decodable, FlushFinished ends the stream, and the other end gets it all.
func TestFilterDeflateFlushModes(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	var zw *flate.Writer
	deflate := func(src, dst *Buffer, _ int, mode FlushMode) FilterResult {
		if zw == nil {
			zw, _ = flate.NewWriter(dst, flate.BestSpeed)
		}
		if _, err := src.WriteTo(zw); err != nil {
			return FilterError
		}
		switch mode {
		case FlushFlush:
			zw.Flush()
		case FlushFinished:
			zw.Close()
		}
		return FilterOK
	}
	fx := newFilter(t, x, nil, deflate, 0, nil)
	y.Enable(event.Read)
	want := bytes.Repeat([]byte("levent filters "), 200)
	fx.Write(want)
	settle(t, b)
	onLoop(t, b, func() {
		if err := fx.FlushWith(event.Write, FlushFlush); err != nil {
			t.Errorf("FlushWith(FlushFlush): %v", err)
		}
	})
	settle(t, b)
	onLoop(t, b, func() {
		got, _ := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(y.Input().Peek(-1))), int64(len(want))))
		if !bytes.Equal(got, want) {
			t.Errorf("after FlushFlush: the peer decodes %d bytes, want %d", len(got), len(want))
		}
		if err := fx.FlushWith(event.Write, FlushFinished); err != nil {
			t.Errorf("FlushWith(FlushFinished): %v", err)
		}
	})
	settle(t, b)
	onLoop(t, b, func() {
		got, err := io.ReadAll(flate.NewReader(bytes.NewReader(y.Input().Peek(-1))))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("after FlushFinished: decoded %d bytes, %v; want %d and the end of the stream", len(got), err, len(want))
		}
	})
}

// What the output filter leaves in Output stays in front of what was
// written while it ran.
func TestFilterKeepsOrderOfLeftoverAndNewOutput(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	runs := 0
	var f *BufferEvent
	f = newFilter(t, x, nil, func(src, dst *Buffer, _ int, _ FlushMode) FilterResult {
		if runs++; runs == 1 {
			f.WriteString("Z")
		}
		src.MoveTo(dst, 2)
		return FilterNeedMore
	}, 0, nil)
	got := make(chan string, 16)
	y.SetCallbacks(sendReads(got), nil, nil)
	y.Enable(event.Read)
	f.WriteString("abcdef")
	var all string
	for len(all) < len("abcdefZ") {
		all += wait(t, got, "the filtered data")
	}
	if all != "abcdefZ" {
		t.Errorf("filtered data: got %q, want %q", all, "abcdefZ")
	}
}

// A filter function that flushes its own filter does not run again from
// inside itself: the flush runs after it returns.
func TestFilterFlushFromInsideTheFilterIsNotNested(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	depth, runs := 0, 0
	var f *BufferEvent
	f = newFilter(t, x, nil, func(src, dst *Buffer, limit int, mode FlushMode) FilterResult {
		depth++
		defer func() { depth-- }()
		if runs++; depth > 1 {
			t.Errorf("output filter entered again from inside itself")
		}
		if runs == 1 {
			f.FlushWith(event.Write, FlushFlush)
		}
		return passThrough(src, dst, limit, mode)
	}, 0, nil)
	got := make(chan string, 4)
	y.SetCallbacks(sendReads(got), nil, nil)
	y.Enable(event.Read)
	f.WriteString("once")
	expectString(t, got, "once", "the filtered data")
	settle(t, b)
	onLoop(t, b, func() {
		if runs != 2 {
			t.Errorf("output filter runs: got %d, want 2 (the write, then the flush it asked for)", runs)
		}
	})
}

// NewFilter refuses what it cannot filter.
func TestNewFilterRejectsBadArguments(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	if _, err := NewFilter(nil, nil, nil, 0, nil); err == nil {
		t.Errorf("NewFilter(nil): got no error")
	}
	under := newBev(t, b, -1, 0)
	if _, err := NewFilter(under, nil, nil, 0x100, nil); !errors.Is(err, ErrOptions) {
		t.Errorf("NewFilter(unknown option): got %v, want ErrOptions", err)
	}
	under.Free()
	if _, err := NewFilter(under, nil, nil, 0, nil); !errors.Is(err, ErrFreed) {
		t.Errorf("NewFilter(freed underlying): got %v, want ErrFreed", err)
	}
}

// TestFilterTimeouts ports test_bufferevent_timeouts("filter") over an
// in-memory pair: the filter's own timeouts are libevent's generic ones.
// (libevent's filter also times bev2's writing out with nothing to write;
// levent's write timeout runs only while output waits.)
func TestFilterTimeouts(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	p1, p2 := newMemPair(t, b, 0)
	bev1 := newFilter(t, p1, nil, nil, 0, nil)
	bev2 := newFilter(t, p2, nil, nil, 0, nil)
	p1.SetWatermark(event.Write, 0, 4) // p2 does not read: bev1's Output waits
	testTimeouts(t, b, bev1, bev2)
}

// Writes to a filter from many goroutines while its output filter runs on
// the loop: every byte arrives, and the race detector sees no race on the
// buffers the filter function uses.
func TestFilterWriteFromManyGoroutines(t *testing.T) {
	checkLeaks(t)
	const writers, records = 4, 300
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	fx := newFilter(t, x, nil, nil, 0, nil)
	total := make(chan int, 1)
	n := 0
	y.SetCallbacks(func(y *BufferEvent) {
		n += y.Input().Len()
		y.Input().Reset()
		if n == writers*records*len("record\n") {
			total <- n
		}
	}, nil, nil)
	y.Enable(event.Read)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range records {
				fx.WriteString("record\n")
			}
		}()
	}
	wg.Wait()
	wait(t, total, "every byte through the filter")
}
