package bufferevent

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/levent-go/levent/event"
)

// newBase returns a base for a test that runs its loop itself, closed
// when the test ends.
func newBase(t testing.TB) *event.Base {
	t.Helper()
	b, err := event.NewBase()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// expectString waits for what ch delivers and checks it is want.
func expectString(t testing.TB, ch <-chan string, want, what string) {
	t.Helper()
	if got := wait(t, ch, what); got != want {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func newMemPair(t testing.TB, b *event.Base, opts Options) (*BufferEvent, *BufferEvent) {
	t.Helper()
	x, y, err := NewPair(b, opts)
	if err != nil {
		t.Fatalf("NewPair(%v): %v", opts, err)
	}
	t.Cleanup(func() {
		x.Free()
		y.Free()
	})
	return x, y
}

// An in-memory pair opens no descriptor, has none (Fd is -1, as
// bufferevent_getfd returns for libevent's pairs), knows its partner, and
// moves what one end writes into the other's Input.
func TestPairMovesDataInMemoryWithoutDescriptors(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	fds := bufOpenFds(t)
	x, y := newMemPair(t, b, 0)
	if got := bufOpenFds(t); got != fds {
		t.Errorf("descriptors after NewPair: got %d open, want %d as before", got, fds)
	}
	for _, e := range []*BufferEvent{x, y} {
		if fd := e.Fd(); fd != -1 {
			t.Errorf("Fd of a pair end: got %d, want -1", fd)
		}
		if u := e.Underlying(); u != nil {
			t.Errorf("Underlying of a pair end: got %p, want nil", u)
		}
	}
	if x.Partner() != y || y.Partner() != x {
		t.Errorf("Partner: got %p and %p, want %p and %p", x.Partner(), y.Partner(), y, x)
	}
	got := make(chan string, 4)
	y.SetCallbacks(sendReads(got), nil, nil)
	y.Enable(event.Read)
	x.WriteString("over memory")
	expectString(t, got, "over memory", "y's read callback")
	checkInvariants(t, b, x)
	checkInvariants(t, b, y)
}

// When data moves, the reader's read callback runs before the writer's
// write callback, as libevent's be_pair_transfer triggers them.
func TestPairRunsReaderBeforeWriter(t *testing.T) {
	checkLeaks(t)
	b := newBase(t)
	x, y := newMemPair(t, b, 0)
	var order []string
	y.SetCallbacks(func(y *BufferEvent) { order = append(order, "y read"); y.Input().Reset() }, nil, nil)
	x.SetCallbacks(nil, func(*BufferEvent) { order = append(order, "x write") }, nil)
	y.Enable(event.Read)
	x.WriteString("ping")
	if err := b.Dispatch(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[y read x write]" {
		t.Errorf("callbacks: got %v, want [y read x write]", order)
	}
}

// A socket pair's ends are not a pair's: Partner is nil.
func TestSocketPairEndsHaveNoPartner(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y, err := NewSocketPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Free()
	defer y.Free()
	if x.Partner() != nil || x.Fd() < 0 {
		t.Errorf("socket pair end: Partner %p, Fd %d; want nil and a descriptor", x.Partner(), x.Fd())
	}
}

// testPairImpl ports regress_bufferevent.c test_bufferevent_impl(1, flush):
// bev1 writes 8333 bytes, bev2 reads them all at once and stops reading,
// bev1's write callback sees Output empty. With FlushFinished the flush
// also reports the end to bev2, whose event callback runs after its read
// callback and before bev1's write callback, as in libevent.
func testPairImpl(t *testing.T, flush FlushMode, useFlush bool) {
	checkLeaks(t)
	b := newBase(t)
	bev1, bev2, err := NewPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	testOK := 0
	readcb := func(bev *BufferEvent) {
		if bev.Input().Len() == 8333 {
			var got Buffer
			got.AddBuffer(bev.Input())
			bev.Disable(event.Read)
			if got.Len() == 8333 {
				testOK++
			}
		}
	}
	writecb := func(bev *BufferEvent) {
		if bev.Output().Len() == 0 {
			testOK++
		}
	}
	errorcb := func(*BufferEvent, What) { testOK = -2 }
	bev1.SetCallbacks(readcb, writecb, errorcb)
	bev2.SetCallbacks(readcb, writecb, errorcb)
	if bev1.Fd() != -1 || bev1.Underlying() != nil || bev1.Partner() != bev2 || bev2.Partner() != bev1 {
		t.Fatalf("pair: Fd %d, Underlying %p, partners %p %p", bev1.Fd(), bev1.Underlying(), bev1.Partner(), bev2.Partner())
	}
	bev1.Disable(event.Read)
	bev2.Enable(event.Read)
	if e1, e2 := bev1.Enabled(), bev2.Enabled(); e1 != event.Write || e2 != event.Write|event.Read {
		t.Fatalf("Enabled: got %v and %v, want Write and Read|Write", e1, e2)
	}
	bev1.Write(pattern(8333, 0))
	if useFlush {
		if err := bev1.FlushWith(event.Write, flush); err != nil {
			t.Fatalf("FlushWith(Write, %v): %v", flush, err)
		}
	}
	if err := b.Dispatch(); err != nil {
		t.Fatal(err)
	}
	bev2.Free()
	if p := bev1.Partner(); p != nil {
		t.Errorf("Partner after the other end's Free: got %p, want nil", p)
	}
	bev1.Free()
	want := 2
	if useFlush && flush == FlushFinished {
		want = -1
	}
	if testOK != want {
		t.Errorf("test_ok: got %d, want %d", testOK, want)
	}
}

func TestPair(t *testing.T)              { testPairImpl(t, 0, false) }
func TestPairFlushNormal(t *testing.T)   { testPairImpl(t, FlushNormal, true) }
func TestPairFlushFlush(t *testing.T)    { testPairImpl(t, FlushFlush, true) }
func TestPairFlushFinished(t *testing.T) { testPairImpl(t, FlushFinished, true) }

// TestPairWatermarks ports test_bufferevent_watermarks_impl(1): the reader
// sets read watermarks 10 and 20, so every read callback sees between 10
// and 20 bytes; the writer's write callback, with a low watermark of 100,
// never sees more than 100 bytes waiting, and sees Output empty at the end.
func TestPairWatermarks(t *testing.T) {
	checkLeaks(t)
	b := newBase(t)
	bev1, bev2 := newMemPair(t, b, 0)
	testOK, nread := 0, 0
	bev2.SetCallbacks(func(bev *BufferEvent) {
		n := bev.Input().Len()
		if n < 10 || n > 20 {
			t.Errorf("read callback with %d bytes in Input, want 10 to 20", n)
		}
		bev.Input().Reset()
		if nread += n; nread == 65000 {
			bev.Disable(event.Read)
			testOK++
		}
	}, nil, func(*BufferEvent, What) { testOK = -2 })
	bev1.SetCallbacks(nil, func(bev *BufferEvent) {
		if n := bev.Output().Len(); n > 100 {
			t.Errorf("write callback with %d bytes in Output, want at most 100", n)
		} else if n == 0 {
			testOK++
		}
	}, func(*BufferEvent, What) { testOK = -2 })
	bev1.Disable(event.Read)
	bev2.Enable(event.Read)
	if low, _, _ := bev1.GetWatermark(event.Read); low != 0 {
		t.Errorf("default read low watermark: got %d, want 0", low)
	}
	bev2.SetWatermark(event.Read, 10, 20)
	if low, high, _ := bev2.GetWatermark(event.Read); low != 10 || high != 20 {
		t.Errorf("read watermarks: got %d, %d, want 10, 20", low, high)
	}
	bev1.SetWatermark(event.Write, 100, 2000)
	if low, high, _ := bev1.GetWatermark(event.Write); low != 100 || high != 2000 {
		t.Errorf("write watermarks: got %d, %d, want 100, 2000", low, high)
	}
	bev1.Write(pattern(65000, 0))
	if err := b.Dispatch(); err != nil {
		t.Fatal(err)
	}
	if testOK != 2 {
		t.Errorf("test_ok: got %d, want 2", testOK)
	}
}

// TestPairFlushFinishedReportsEOF ports test_bufferevent_pair_flush.
func TestPairFlushFinishedReportsEOF(t *testing.T) {
	checkLeaks(t)
	b := newBase(t)
	bev1, bev2 := newMemPair(t, b, 0)
	bev1.Enable(event.Write)
	bev2.Enable(event.Read)
	var got What
	bev2.SetCallbacks(nil, nil, func(_ *BufferEvent, what What) { got = what })
	if err := bev1.FlushWith(event.Write, FlushFinished); err != nil {
		t.Fatal(err)
	}
	b.Loop(event.LoopOnce)
	if got != Reading|EOF {
		t.Errorf("partner's event callback: got %v, want Reading|EOF", got)
	}
}

// Data moves only while the writer's writing and the reader's reading are
// both enabled; enabling the missing one moves what waited.
func TestPairMovesOnlyWhileWriterWritesAndReaderReads(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	got := make(chan string, 4)
	y.SetCallbacks(sendReads(got), nil, nil)
	noRead := func(what string) {
		t.Helper()
		settle(t, b)
		select {
		case s := <-got:
			t.Fatalf("%s: y read %q, want nothing", what, s)
		default:
		}
	}
	x.WriteString("one")
	noRead("y's reading disabled")
	y.Enable(event.Read)
	expectString(t, got, "one", "the data once y reads")
	x.Disable(event.Write)
	x.WriteString("two")
	noRead("x's writing disabled")
	x.Enable(event.Write)
	expectString(t, got, "two", "the data once x writes")
	checkInvariants(t, b, x)
	checkInvariants(t, b, y)
}

// fillToHighWatermark has reader report its Input's length at each read
// callback, with a read high watermark of high, and writer write n bytes
// to it; it checks that the first read stops at high, and returns the
// channel of later reports.
func fillToHighWatermark(t *testing.T, writer, reader *BufferEvent, n, high int) chan int {
	t.Helper()
	lens := make(chan int, 16)
	reader.SetCallbacks(sendLens(lens), nil, nil)
	reader.SetWatermark(event.Read, 0, high)
	reader.Enable(event.Read)
	writer.Write(pattern(n, 0))
	if got := wait(t, lens, "the first read"); got != high {
		t.Fatalf("reader's Input: got %d bytes, want %d (its high watermark)", got, high)
	}
	return lens
}

// The writer stops moving data while the reader's Input holds its read
// high watermark, and goes on when the reader drains it.
func TestPairStopsAtThePartnersHighWatermark(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	lens := fillToHighWatermark(t, x, y, 20, 8)
	settle(t, b)
	onLoop(t, b, func() {
		if n := x.Output().Len(); n != 12 {
			t.Errorf("x's Output while y is full: got %d bytes, want 12", n)
		}
		y.Input().Drain(8)
	})
	if n := wait(t, lens, "y's second read"); n != 8 {
		t.Fatalf("y's Input after a drain: got %d bytes, want 8", n)
	}
	checkInvariants(t, b, y)
}

// Freeing one end hands the other what it can take, then the end of the
// stream; an end that is not reading learns of it once it reads.
func TestPairFreeGivesPartnerEOF(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	got := make(chan string, 4)
	ev := newEvents()
	y.SetCallbacks(sendReads(got), nil, ev.cb)
	y.Enable(event.Read)
	x.WriteString("last words")
	x.Free()
	expectString(t, got, "last words", "the freed end's last data")
	ev.expect(t, Reading|EOF)
	if p := y.Partner(); p != nil {
		t.Errorf("Partner after Free: got %p, want nil", p)
	}
	if y.Enabled()&event.Read != 0 {
		t.Errorf("y's reading after the EOF: still enabled")
	}
	if err := y.Flush(); !errors.Is(err, ErrNoPartner) {
		t.Errorf("Flush without a partner: got %v, want ErrNoPartner", err)
	}

	x2, y2 := newMemPair(t, b, 0)
	ev2 := newEvents()
	y2.SetCallbacks(nil, nil, ev2.cb)
	x2.Free()
	settle(t, b)
	select {
	case w := <-ev2.ch:
		t.Fatalf("an end not reading: got %v, want nothing until it reads", w)
	default:
	}
	y2.Enable(event.Read)
	ev2.expect(t, Reading|EOF)
	checkInvariants(t, b, y2)
}

// With DeferCallbacks the callbacks a flush makes due run later on the
// loop; without it, before FlushWith returns.
func TestPairDeferCallbacks(t *testing.T) {
	for _, opts := range []Options{0, DeferCallbacks} {
		t.Run(opts.String(), func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			x, y := newMemPair(t, b, opts)
			read := make(chan struct{}, 1)
			y.SetCallbacks(func(y *BufferEvent) { y.Input().Reset(); read <- struct{}{} }, nil, nil)
			y.Enable(event.Read)
			ranInside := false
			onLoop(t, b, func() {
				x.Output().WriteString("now")
				x.FlushWith(event.Write, FlushFlush)
				select {
				case <-read:
					ranInside = true
				default:
				}
			})
			if want := opts == 0; ranInside != want {
				t.Errorf("read callback ran inside FlushWith: got %v, want %v", ranInside, want)
			}
			if !ranInside {
				wait(t, read, "the deferred read callback")
			}
		})
	}
}

// TestPairTimeouts ports test_bufferevent_timeouts("pair").
func TestPairTimeouts(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev1, bev2 := newMemPair(t, b, 0)
	testTimeouts(t, b, bev1, bev2)
}

// testTimeouts is test_bufferevent_timeouts on two BufferEvents connected
// to each other: bev1 writes to bev2, which does not read, and both of
// bev1's timeouts pass; bev2, which has nothing to write and does not
// read, gets none. Only the events are checked, not when they came.
func testTimeouts(t *testing.T, b *event.Base, bev1, bev2 *BufferEvent) {
	t.Helper()
	bev2.Disable(event.Read)
	ev1, ev2 := newEvents(), newEvents()
	bev1.SetCallbacks(nil, nil, ev1.cb)
	bev1.SetTimeouts(150*time.Millisecond, 100*time.Millisecond)
	bev1.WriteString("ABCDEFG")
	bev1.Enable(event.Read | event.Write)
	bev2.SetCallbacks(nil, nil, ev2.cb)
	bev2.SetTimeouts(100*time.Millisecond, 200*time.Millisecond)
	bev2.Enable(event.Write)
	if got := ev1.next(t) | ev1.next(t); got != Reading|Writing|Timeout {
		t.Errorf("bev1's events: got %v, want Reading|Timeout and Writing|Timeout", got)
	}
	time.Sleep(300 * time.Millisecond) // bev2's timeouts would have passed
	settle(t, b)
	select {
	case w := <-ev2.ch:
		t.Errorf("bev2: got %v, want no event", w)
	default:
	}
	if e := bev1.Enabled(); e != 0 {
		t.Errorf("bev1 after both timeouts: %v enabled, want nothing", e)
	}
	checkInvariants(t, b, bev1)
	checkInvariants(t, b, bev2)
}

// Data coming in restarts the read timer: a reader fed more often than its
// read timeout never times out.
func TestPairReadTimeoutRestartsOnData(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y := newMemPair(t, b, 0)
	ev := newEvents()
	got := make(chan string, 64)
	y.SetCallbacks(sendReads(got), nil, ev.cb)
	y.SetTimeouts(200*time.Millisecond, 0)
	y.Enable(event.Read)
	for range 10 {
		x.WriteString("x")
		wait(t, got, "a read")
		select {
		case w := <-ev.ch:
			t.Fatalf("got %v while data kept coming", w)
		case <-time.After(50 * time.Millisecond):
		}
	}
	ev.expect(t, Reading|Timeout)
}

// What needs a socket is refused on a pair end with ErrNotSocket: rate
// limits too, since they count the bytes that cross a socket.
func TestPairRefusesSocketCalls(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, _ := newMemPair(t, b, 0)
	for name, err := range map[string]error{
		"SetFd":               x.SetFd(0),
		"Connect":             x.Connect("tcp", "127.0.0.1:1"),
		"ConnectHostname":     x.ConnectHostname("tcp", "localhost", 1),
		"CloseWrite":          x.CloseWrite(),
		"SetRateLimit":        x.SetRateLimit(mustTokenBucketConfig(t)),
		"AddToRateLimitGroup": x.AddToRateLimitGroup(mustRateLimitGroup(t, b)),
	} {
		if !errors.Is(err, ErrNotSocket) {
			t.Errorf("%s on a pair end: got %v, want ErrNotSocket", name, err)
		}
	}
	if err := x.FlushWith(event.Timeout, FlushNormal); !errors.Is(err, event.ErrBadFlags) {
		t.Errorf("FlushWith(Timeout): got %v, want event.ErrBadFlags", err)
	}
	if err := x.FlushWith(event.Write, FlushMode(7)); !errors.Is(err, ErrOptions) {
		t.Errorf("FlushWith(mode 7): got %v, want ErrOptions", err)
	}
	if _, _, err := NewPair(b, 0x100); !errors.Is(err, ErrOptions) {
		t.Errorf("NewPair(unknown option): got %v, want ErrOptions", err)
	}
}

// Both ends written from many goroutines at once, while each echoes what
// it reads back and Partner and Free run from other goroutines: every
// byte arrives in each writer's order, and nothing deadlocks (run with
// -race).
func TestPairFromManyGoroutines(t *testing.T) {
	checkLeaks(t)
	const writers, records = 4, 500
	b := startLoop(t)
	x, y, err := NewPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var atX, atY bytes.Buffer
	done := make(chan struct{})
	total := 2 * writers * records * len("w0:00000\n")
	collect := func(into *bytes.Buffer) func(*BufferEvent) {
		return func(bev *BufferEvent) {
			mu.Lock()
			into.Write(bev.Input().Peek(-1))
			n := atX.Len() + atY.Len()
			mu.Unlock()
			bev.Input().Reset()
			if n == total {
				close(done)
			}
		}
	}
	x.SetCallbacks(collect(&atX), nil, nil)
	y.SetCallbacks(collect(&atY), nil, nil)
	x.Enable(event.Read)
	y.Enable(event.Read)
	var wg sync.WaitGroup
	for g := range writers {
		for _, to := range []*BufferEvent{x, y} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range records {
					fmt.Fprintf(to, "w%d:%05d\n", g, i)
					if i%50 == 0 {
						to.Partner()
					}
				}
			}()
		}
	}
	wg.Wait()
	wait(t, done, "every record")
	for name, got := range map[string]*bytes.Buffer{"x": &atX, "y": &atY} {
		next := make([]int, writers)
		for _, line := range bytes.Split(bytes.TrimSuffix(got.Bytes(), []byte("\n")), []byte("\n")) {
			var g, i int
			if _, err := fmt.Sscanf(string(line), "w%d:%05d", &g, &i); err != nil || i != next[g] {
				t.Fatalf("%s: got record %q, want writer %d's record %d", name, line, g, next[g])
			}
			next[g]++
		}
	}
	var fw sync.WaitGroup
	for _, e := range []*BufferEvent{x, y} {
		fw.Add(1)
		go func() { defer fw.Done(); e.Free() }()
	}
	fw.Wait()
	if x.Partner() != nil || y.Partner() != nil {
		t.Errorf("Partner after both Frees: got %p and %p, want nil", x.Partner(), y.Partner())
	}
}

func mustTokenBucketConfig(t *testing.T) *TokenBucketConfig {
	t.Helper()
	cfg, err := NewTokenBucketConfig(1000, 1000, 1000, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func mustRateLimitGroup(t *testing.T, b *event.Base) *RateLimitGroup {
	t.Helper()
	g, err := NewRateLimitGroup(b, mustTokenBucketConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Free)
	return g
}
