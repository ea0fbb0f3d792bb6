package bufferevent

import (
	"bytes"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// countSendfile makes bufSendfile count the bytes it sends until the test
// ends.
func countSendfile(t *testing.T) *atomic.Int64 {
	var sent atomic.Int64
	orig := bufSendfile
	bufSendfile = func(out int, f *os.File, off int64, count int) (int, error) {
		k, err := orig(out, f, off, count)
		if k > 0 {
			sent.Add(int64(k))
		}
		return k, err
	}
	t.Cleanup(func() { bufSendfile = orig })
	return &sent
}

// slowRead reads n bytes from the non-blocking fd in small pieces with
// pauses, as a slow peer does, so that the sender's socket fills.
func slowRead(t *testing.T, fd, n int) []byte {
	t.Helper()
	got := make([]byte, 0, n)
	p := make([]byte, 64<<10)
	start := time.Now()
	for i := 0; len(got) < n; i++ {
		if time.Since(start) > deadline {
			t.Fatalf("read %d of %d bytes before the deadline", len(got), n)
		}
		k, err := unix.Read(fd, p)
		switch {
		case err == unix.EAGAIN:
			time.Sleep(time.Millisecond)
			continue
		case err != nil || k == 0:
			t.Fatalf("read after %d bytes: %d, %v", len(got), k, err)
		}
		got = append(got, p[:k]...)
		if i%16 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	return got
}

// A file range on a socket's Output goes out with sendfile, all of it,
// through a reader slower than the sender, and is released once sent.
func TestAddFileOnSocketOutputUsesSendfile(t *testing.T) {
	checkLeaks(t)
	sent := countSendfile(t)
	const size = 6 << 20
	data := pattern(size, 3)
	f := tempFile(t, data)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	released := make(chan struct{}, 2)
	onLoop(t, b, func() {
		bev.Output().WriteString("head")
		if err := bev.Output().AddFile(f, 10, size-10, func() { released <- struct{}{} }); err != nil {
			t.Errorf("AddFile: %v", err)
		}
		bev.Output().WriteString("tail")
	})
	got := slowRead(t, peer, 4+size-10+4)
	want := append(append([]byte("head"), data[10:]...), "tail"...)
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("peer got %d bytes differing from the file at %d", len(got), i)
	}
	wait(t, released, "the file range's release")
	if n := sent.Load(); n != size-10 {
		t.Errorf("sendfile sent %d bytes, want %d", n, size-10)
	}
	select {
	case <-released:
		t.Error("release ran twice")
	default:
	}
}

// A reference on a socket's Output is written from the caller's bytes and
// released once, after the last byte went to the socket.
func TestAddReferenceOnSocketOutputReleasesAfterTheWrite(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	body := pattern(3<<20, 9)
	var runs atomic.Int32
	left := make(chan int, 1)
	onLoop(t, b, func() {
		bev.Output().AddReference(body, func() {
			left <- bev.Output().Len() // on the loop: Output is the loop's
			runs.Add(1)
		})
	})
	got := slowRead(t, peer, len(body))
	if !bytes.Equal(got, body) {
		t.Fatalf("peer got %d bytes, first difference at %d", len(got), firstDiff(got, body))
	}
	if n := wait(t, left, "the release"); n != 0 {
		t.Fatalf("released with %d bytes still in Output", n)
	}
	settle(t, b)
	if n := runs.Load(); n != 1 {
		t.Fatalf("release ran %d times, want 1", n)
	}
}

// Through an in-memory pair a file range is read with pread: sendfile is
// not used, and the reader gets the file's bytes.
func TestAddFileThroughAPairIsReadFromTheFile(t *testing.T) {
	checkLeaks(t)
	sent := countSendfile(t)
	data := pattern(300<<10, 5)
	f := tempFile(t, data)
	b := startLoop(t)
	x, y, err := NewPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Free()
	defer y.Free()
	got := make(chan []byte, 1)
	var in []byte
	y.SetCallbacks(func(y *BufferEvent) {
		p := make([]byte, 1000)
		for k := y.Read(p); k > 0; k = y.Read(p) {
			in = append(in, p[:k]...)
		}
		if len(in) == len(data) {
			got <- in
		}
	}, nil, nil)
	if err := y.Enable(event.Read); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	onLoop(t, b, func() {
		if err := x.Output().AddFile(f, 0, int64(len(data)), func() { close(released) }); err != nil {
			t.Error(err)
		}
	})
	if p := wait(t, got, "the file's bytes"); !bytes.Equal(p, data) {
		t.Fatalf("got %d bytes, first difference at %d", len(p), firstDiff(p, data))
	}
	wait(t, released, "the release")
	if n := sent.Load(); n != 0 {
		t.Errorf("sendfile sent %d bytes through a pair", n)
	}
}

// Changes a BufferEvent makes itself are reported to its buffers'
// callbacks on the loop with no lock held (the callback may call the
// BufferEvent), before its read callback.
func TestBufferCallbacksOnABufferEventsOwnIO(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	var inLog, outLog callbackLog
	order := make(chan string, 8)
	onLoop(t, b, func() {
		bev.Input().AddCallback(func(in *Buffer, info BufferCBInfo) {
			inLog.cb(in, info)
			if info.Added > 0 {
				bev.Write([]byte("seen ")) // would deadlock with the lock held
			}
			order <- "input callback"
		})
		bev.Output().AddCallback(outLog.cb)
	})
	bev.SetCallbacks(func(bev *BufferEvent) {
		bev.Output().AddBuffer(bev.Input())
		order <- "read callback"
	}, nil, nil)
	if err := bev.Enable(event.Read); err != nil {
		t.Fatal(err)
	}
	bufWriteAll(t, peer, []byte("ping"))
	if first := wait(t, order, "a callback"); first != "input callback" {
		t.Fatalf("first %q, want the input callback", first)
	}
	wait(t, order, "the read callback")
	if got := string(slowRead(t, peer, 9)); got != "seen ping" {
		t.Fatalf("peer got %q", got)
	}
	settle(t, b)
	onLoop(t, b, func() {
		inLog.take(t, "Input", BufferCBInfo{0, 4, 0}, BufferCBInfo{4, 0, 4})
		// "seen " from Write and "ping" from AddBuffer (reported together
		// or apart), then the socket taking all of it.
		length, added := 0, 0
		for _, info := range outLog {
			if info.OrigSize != length {
				t.Fatalf("Output reports %+v: each must start where the last ended", outLog)
			}
			length += info.Added - info.Deleted
			added += info.Added
		}
		if length != 0 || added != 9 || bev.Output().Len() != 0 {
			t.Errorf("Output reports %+v: want 9 bytes added, ending empty", outLog)
		}
	})
}

// The BufferEvent's own ReadFd, exported, reports to the callbacks.
func TestBufferCallbacksReportReadFdAndWriteFd(t *testing.T) {
	checkLeaks(t)
	a, peer := bufSocketpair(t)
	var b Buffer
	var log callbackLog
	b.AddCallback(log.cb)
	bufWriteAll(t, peer, []byte("12345"))
	if n, err := b.ReadFd(a, 0); n != 5 || err != nil {
		t.Fatalf("ReadFd = %d, %v", n, err)
	}
	log.take(t, "ReadFd", BufferCBInfo{0, 5, 0})
	if n, err := b.WriteFd(a, 3); n != 3 || err != nil {
		t.Fatalf("WriteFd = %d, %v", n, err)
	}
	log.take(t, "WriteFd", BufferCBInfo{5, 0, 3})
}

// As in libevent, a socket BufferEvent and a pair's ends keep Input's end
// and Output's front frozen; a filter's buffers are not.
func TestBufferEventsFreezeTheirBuffersLikeLibevent(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, _ := pair(t, b, 0)
	x, y, err := NewPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Free()
	defer y.Free()
	for name, e := range map[string]*BufferEvent{"socket": bev, "pair end": x} {
		if !e.Input().Frozen(false) || e.Input().Frozen(true) || !e.Output().Frozen(true) || e.Output().Frozen(false) {
			t.Errorf("%s: Input frozen end %v front %v, Output front %v end %v; want true false true false", name,
				e.Input().Frozen(false), e.Input().Frozen(true), e.Output().Frozen(true), e.Output().Frozen(false))
		}
		if _, err := e.Input().WriteString("x"); err != ErrFrozen {
			t.Errorf("%s: Input().WriteString = %v, want ErrFrozen", name, err)
		}
	}
	fl, err := NewFilter(x, nil, nil, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Free()
	if fl.Input().Frozen(false) || fl.Output().Frozen(true) {
		t.Error("a filter's buffers are frozen")
	}
}

// The frozen ends share a word with the storage bookkeeping, which every
// read and every handover of storage rewrites: the freezes stay as they
// were through an echo and the storage's return.
func TestFreezeSurvivesStorageChanges(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, fd := pair(t, b, 0)
	got := make(chan [4]bool, 64)
	onLoop(t, b, func() {
		bev.SetCallbacks(func(bev *BufferEvent) {
			bev.Output().AddBuffer(bev.Input()) // storage handed over
			in, out := bev.Input(), bev.Output()
			select { // a large write may come in several reads
			case got <- [4]bool{in.Frozen(false), in.Frozen(true), out.Frozen(true), out.Frozen(false)}:
			default:
			}
		}, nil, nil)
		if err := bev.Enable(event.Read | event.Write); err != nil {
			t.Error(err)
		}
	})
	want := [4]bool{true, false, true, false}
	for i, n := range []int{10, 5000, 70000} {
		if _, err := unix.Write(fd, pattern(n, byte(i))); err != nil {
			t.Fatal(err)
		}
		if f := wait(t, got, "the echo"); f != want {
			t.Fatalf("after echoing %d bytes: Input end/front, Output front/end frozen %v, want %v", n, f, want)
		}
	}
	onLoop(t, b, func() {
		bev.Input().Trim()
		bev.Output().Trim()
		in, out := bev.Input(), bev.Output()
		if f := [4]bool{in.Frozen(false), in.Frozen(true), out.Frozen(true), out.Frozen(false)}; f != want {
			t.Errorf("after Trim: %v, want %v", f, want)
		}
	})
}
