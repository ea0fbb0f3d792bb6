package bufferevent

import (
	"io"
	"strings"
	"testing"

	"github.com/levent-go/levent/event"
)

// notifyBev returns a BufferEvent reading from one end of a socket pair,
// on a base whose loop does not run, so that the test's goroutine plays
// the loop's and may use the buffers, with Input's end unfrozen. The
// other end is returned too.
func notifyBev(t *testing.T) (*BufferEvent, int) {
	t.Helper()
	checkLeaks(t)
	b, err := event.NewBase()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	bev, peer := pair(t, b, 0)
	if err := bev.Enable(event.Read); err != nil {
		t.Fatal(err)
	}
	bev.Input().Unfreeze(false) // frozen as in libevent; these tests add to Input
	return bev, peer
}

// suspend stops bev reading as a full Input does. No high watermark is
// set, so a notification of any change to Input resumes reading.
func suspend(bev *BufferEvent) {
	bev.mu.Lock()
	bev.suspendLocked()
	bev.mu.Unlock()
}

// readState reports whether bev is suspended and whether it is reading.
func readState(bev *BufferEvent) (suspended, reading bool) {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	pending, _ := bev.rev.Pending(event.Read)
	return bev.work&bsSuspended != 0, bev.work&bsReading != 0 && pending != 0
}

// Every exported method that changes Input tells its BufferEvent, which
// resumes reading suspended at the high watermark; methods that change
// nothing, or only look, leave it suspended.
func TestBufferNotifyRunsAfterEachChangeByUserCode(t *testing.T) {
	bev, _ := notifyBev(t)
	b := bev.Input()
	var other Buffer // standalone: tells no one
	for _, tc := range []struct {
		name    string
		prep    func() // before the suspension
		op      func()
		changed bool
	}{
		{"Write", nil, func() { b.Write([]byte("abc\n")) }, true},
		{"WriteString", nil, func() { b.WriteString("def\n") }, true},
		{"WriteByte", nil, func() { b.WriteByte('g') }, true},
		{"Prepend", nil, func() { b.Prepend([]byte("0")) }, true},
		{"Read", nil, func() { b.Read(make([]byte, 1)) }, true},
		{"ReadByte", nil, func() { b.ReadByte() }, true},
		{"ReadLine", nil, func() { b.ReadLine(EOLLF) }, true},
		{"ReadLineSlice", nil, func() { b.ReadLineSlice(EOLLF) }, true},
		{"Drain", nil, func() { b.Drain(1) }, true},
		{"ReadFrom", nil, func() { b.ReadFrom(strings.NewReader("xyz")) }, true},
		{"WriteTo", nil, func() { b.WriteTo(io.Discard) }, true},
		{"AddBuffer as destination", func() { other.WriteString("in") }, func() { b.AddBuffer(&other) }, true},
		{"AddBuffer as source", nil, func() { other.AddBuffer(b) }, true},
		{"Reset", func() { b.WriteString("x") }, func() { b.Reset() }, true},
		{"nothing changed", nil, func() {
			b.Write(nil)
			b.WriteString("")
			b.Prepend(nil)
			b.Read(make([]byte, 4))
			b.ReadByte()
			b.ReadLine(EOLLF)
			b.Drain(5)
			b.Reset()
			b.ReadFrom(strings.NewReader(""))
			b.WriteTo(io.Discard)
			b.AddBuffer(&other)
		}, false},
		{"reading without change", func() { b.WriteString("a\r\nb") }, func() {
			b.Peek(-1)
			b.CopyOut(make([]byte, 2))
			b.Search([]byte("b"))
			b.Trim()
			b.Len()
			b.Cap()
		}, false},
		{"ReadLine after reading", nil, func() { b.ReadLine(EOLCRLFStrict) }, true},
	} {
		other.Reset()
		if tc.prep != nil {
			tc.prep()
		}
		suspend(bev)
		tc.op()
		suspended, reading := readState(bev)
		if tc.changed && (suspended || !reading) {
			t.Errorf("%s: suspended %v, reading %v; want reading resumed", tc.name, suspended, reading)
		}
		if !tc.changed && (!suspended || reading) {
			t.Errorf("%s: suspended %v, reading %v; want still suspended", tc.name, suspended, reading)
		}
	}
}

// A change user code makes to Output asks the loop for a flush.
func TestOutputChangeByUserCodeQueuesAFlush(t *testing.T) {
	bev, _ := notifyBev(t)
	bev.Output().WriteString("ping")
	bev.mu.Lock()
	queued := bev.work&bsFlushQueued != 0
	bev.mu.Unlock()
	if !queued {
		t.Error("Output().WriteString queued no flush")
	}
}

// reset, which Free uses, empties Input and gives its storage back
// without telling the BufferEvent, and keeps Input owned.
func TestBufferResetForFreeGivesStorageBackWithoutNotify(t *testing.T) {
	bev, _ := notifyBev(t)
	b := bev.Input()
	for i := 0; i < 3; i++ { // cycle, so that the buffer keeps its storage
		b.WriteString("x")
		b.Drain(1)
	}
	b.WriteString("pending")
	suspend(bev)
	b.reset()
	checkBuffer(t, b, nil)
	if suspended, _ := readState(bev); b.Cap() != 0 || !suspended || b.owner != bev {
		t.Errorf("after reset: Cap() %d, suspended %v, owned by its BufferEvent %v; want 0, true, true",
			b.Cap(), suspended, b.owner == bev)
	}
}

// The BufferEvent's own I/O, ReadFd and WriteFd, does not tell it.
func TestBufferFdIODoesNotNotify(t *testing.T) {
	bev, _ := notifyBev(t)
	b := bev.Input()
	a, peer := bufSocketpair(t)
	bufWriteAll(t, peer, []byte("ping"))
	suspend(bev)
	if n, err := b.ReadFd(a, 0); n != 4 || err != nil {
		t.Fatalf("ReadFd = %d, %v", n, err)
	}
	if n, err := b.WriteFd(a, 0); n != 4 || err != nil {
		t.Fatalf("WriteFd = %d, %v", n, err)
	}
	if suspended, reading := readState(bev); !suspended || reading {
		t.Errorf("after ReadFd and WriteFd: suspended %v, reading %v; want still suspended", suspended, reading)
	}
}
