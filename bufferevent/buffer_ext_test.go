package bufferevent

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// refCounter counts the runs of a release function.
type refCounter struct{ runs int }

func (r *refCounter) release() { r.runs++ }

func (r *refCounter) want(t *testing.T, when string, runs int) {
	t.Helper()
	if r.runs != runs {
		t.Fatalf("%s: release ran %d times, want %d", when, r.runs, runs)
	}
}

// A reference's release function runs once, when its last byte leaves,
// whichever method removes it; the referenced bytes are never written.
func TestAddReferenceReleasesOnceAfterTheLastByteLeft(t *testing.T) {
	body := bufPattern(10000)
	orig := append([]byte{}, body...)
	var r refCounter
	for _, tc := range []struct {
		name   string
		remove func(t *testing.T, b *Buffer) // removes everything after "head" and 9999 bytes of body
		rest   func(t *testing.T, b *Buffer) // removes the rest
	}{
		{"Drain", func(t *testing.T, b *Buffer) { b.Drain(4 + 9999) }, func(t *testing.T, b *Buffer) { b.Drain(1) }},
		{"Read", func(t *testing.T, b *Buffer) { b.Read(make([]byte, 4+9999)) }, func(t *testing.T, b *Buffer) { b.ReadByte() }},
		{"Reset", func(t *testing.T, b *Buffer) { b.Drain(4 + 9999) }, func(t *testing.T, b *Buffer) { b.Reset() }},
		{"WriteTo", func(t *testing.T, b *Buffer) { b.WriteTo(&fuzzLimitWriter{n: 4 + 9999}) }, func(t *testing.T, b *Buffer) {
			b.WriteTo(io.Discard)
		}},
		{"MoveTo", func(t *testing.T, b *Buffer) {
			var dst Buffer
			b.MoveTo(&dst, 4+9999)
			checkBuffer(t, &dst, append([]byte("head"), body[:9999]...))
		}, func(t *testing.T, b *Buffer) {
			// The last byte moves as a reference of its own, released
			// when it leaves dst.
			var dst Buffer
			b.MoveTo(&dst, 1)
			r.want(t, "moved to dst", 0)
			dst.Drain(1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b Buffer
			r = refCounter{}
			b.WriteString("head")
			if err := b.AddReference(body, r.release); err != nil {
				t.Fatal(err)
			}
			b.WriteString("tail")
			checkBuffer(t, &b, []byte("head"+string(body)+"tail"))
			tc.remove(t, &b)
			r.want(t, "with one byte left", 0)
			checkBuffer(t, &b, []byte(string(body[9999:])+"tail"))
			tc.rest(t, &b)
			r.want(t, "after the last byte left", 1)
			b.Reset()
			b.WriteString("more")
			b.Reset()
			r.want(t, "later", 1)
			if !bytes.Equal(body, orig) {
				t.Fatal("the referenced bytes were written to")
			}
		})
	}
}

// A reference moved whole to another buffer is released when it leaves
// that one; writing after it, or Peek and Search over it, copy nothing
// into it.
func TestAddReferenceMovedWholeIsReleasedByTheDestination(t *testing.T) {
	body := []byte("0123456789")
	var src, dst Buffer
	var r refCounter
	src.AddReference(body, r.release)
	dst.WriteString("x")
	dst.AddBuffer(&src)
	dst.WriteString("after")
	r.want(t, "after AddBuffer", 0)
	if p := dst.Peek(5); string(p) != "x0123" {
		t.Fatalf("Peek(5) = %q", p)
	}
	if i := dst.Search([]byte("9a")); i != 10 {
		t.Fatalf("Search = %d, want 10", i)
	}
	r.want(t, "after Peek and Search", 1) // both copied it into the ring: the reference is no longer needed
	checkBuffer(t, &dst, []byte("x0123456789after"))
	if string(body) != "0123456789" {
		t.Fatalf("reference written to: %q", body)
	}
}

// tempFile returns an open file holding data, closed when the test ends.
func tempFile(t testing.TB, data []byte) *os.File {
	t.Helper()
	name := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Outside a socket's Output, a file range is read when needed and behaves
// as ordinary data.
func TestAddFileReadsTheRangeOnDemand(t *testing.T) {
	data := []byte(strings.Repeat("line one\nline two\r\n", 500))
	f := tempFile(t, data)
	var b Buffer
	var r refCounter
	b.WriteString("<")
	if err := b.AddFile(f, 9, int64(len(data)-9), r.release); err != nil {
		t.Fatal(err)
	}
	b.WriteString(">")
	want := "<" + string(data[9:]) + ">"
	checkBuffer(t, &b, []byte(want))
	if b.Cap() > minStorage {
		t.Fatalf("Cap() = %d after AddFile: the file was read", b.Cap())
	}
	if line, ok := b.ReadLine(EOLCRLF); !ok || string(line) != "<line two" {
		t.Fatalf("ReadLine = %q, %v", line, ok)
	}
	var dst Buffer
	if n, err := b.MoveTo(&dst, 5); n != 5 || err != nil || string(dst.Peek(-1)) != "line " {
		t.Fatalf("MoveTo(5) = %d, %v; dst %q", n, err, dst.Peek(-1))
	}
	rest, err := io.ReadAll(&b)
	if err != nil || string(rest) != want[1+len("line two\r\n")+5:] {
		t.Fatalf("ReadAll = %d bytes, %v", len(rest), err)
	}
	r.want(t, "after reading all", 1)
}

// A file range beyond the file is refused; a file that shrank afterwards
// is reported by Read, and the data before it is still read.
func TestAddFileRangeOutsideTheFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(name, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b Buffer
	for _, tc := range []struct{ off, n int64 }{{0, 11}, {11, 0}, {-1, 2}, {2, -1}} {
		if err := b.AddFile(f, tc.off, tc.n, nil); err == nil {
			t.Errorf("AddFile(%d, %d) = nil, want an error", tc.off, tc.n)
		}
	}
	if err := b.AddFile(nil, 0, 1, nil); err == nil {
		t.Error("AddFile(nil) = nil, want an error")
	}
	if err := b.AddFile(f, 0, 10, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 10)
	n, err := b.Read(p)
	if n != 4 || err != nil || string(p[:n]) != "0123" {
		t.Fatalf("Read = %d %q, %v; want the 4 bytes left", n, p[:n], err)
	}
	if n, err := b.Read(p); n != 0 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Read after the file's end = %d, %v; want io.ErrUnexpectedEOF", n, err)
	}
}

// callbackLog records the reports a callback gets.
type callbackLog []BufferCBInfo

func (l *callbackLog) cb(_ *Buffer, info BufferCBInfo) { *l = append(*l, info) }

func (l *callbackLog) take(t *testing.T, what string, want ...BufferCBInfo) {
	t.Helper()
	if len(*l) != len(want) {
		t.Fatalf("%s: callback got %+v, want %+v", what, *l, want)
	}
	for i := range want {
		if (*l)[i] != want[i] {
			t.Fatalf("%s: callback got %+v, want %+v", what, *l, want)
		}
	}
	*l = (*l)[:0]
}

// Each change is reported once, with the length before it and what it
// added and removed; a disabled callback is not called.
func TestBufferCallbacksReportEachChange(t *testing.T) {
	var b, other Buffer
	var log, otherLog callbackLog
	cb, err := b.AddCallback(log.cb)
	if err != nil {
		t.Fatal(err)
	}
	other.AddCallback(otherLog.cb)
	b.WriteString("hello")
	log.take(t, "WriteString", BufferCBInfo{0, 5, 0})
	b.Drain(2)
	log.take(t, "Drain", BufferCBInfo{5, 0, 2})
	other.WriteString("abcd")
	otherLog.take(t, "other WriteString", BufferCBInfo{0, 4, 0})
	b.AddBuffer(&other)
	log.take(t, "AddBuffer", BufferCBInfo{3, 4, 0})
	otherLog.take(t, "AddBuffer's source", BufferCBInfo{4, 0, 4})
	b.MoveTo(&other, 6)
	log.take(t, "MoveTo", BufferCBInfo{7, 0, 6})
	otherLog.take(t, "MoveTo's destination", BufferCBInfo{0, 6, 0})
	b.AddReference([]byte("ref"), nil)
	log.take(t, "AddReference", BufferCBInfo{1, 3, 0})
	b.Peek(-1)
	b.Search([]byte("x"))
	log.take(t, "Peek and Search")
	b.Drain(0)
	b.Write(nil)
	log.take(t, "changing nothing")

	cb.Disable()
	b.WriteString("quiet")
	log.take(t, "disabled")
	cb.Enable()
	b.Reset()
	log.take(t, "enabled again", BufferCBInfo{9, 0, 9})
	if err := cb.Remove(); err != nil {
		t.Fatal(err)
	}
	b.WriteString("gone")
	log.take(t, "removed")
	if err := cb.Remove(); err == nil {
		t.Error("second Remove = nil, want an error")
	}
	if err := cb.Enable(); err == nil {
		t.Error("Enable after Remove = nil, want an error")
	}
	if _, err := b.AddCallback(nil); err == nil {
		t.Error("AddCallback(nil) = nil error")
	}
}

// A callback may remove itself, or another not yet called, while the
// callbacks run; it may change the buffer, which reports that change
// nested. Callbacks run newest first, as in libevent.
func TestBufferCallbackRemovingCallbacksWhileRunning(t *testing.T) {
	var b Buffer
	var order []string
	var first, second, third *BufferCB
	first, _ = b.AddCallback(func(*Buffer, BufferCBInfo) { order = append(order, "first") })
	second, _ = b.AddCallback(func(b *Buffer, info BufferCBInfo) {
		order = append(order, "second")
		if err := second.Remove(); err != nil {
			t.Errorf("Remove of itself: %v", err)
		}
		first.Remove()
	})
	third, _ = b.AddCallback(func(b *Buffer, info BufferCBInfo) {
		order = append(order, "third")
		if info.Added == 1 {
			b.WriteString("nested") // reported to the callbacks left, nested
		}
	})
	b.WriteByte('x')
	if got := strings.Join(order, " "); got != "third third second" {
		t.Fatalf("order %q, want %q", got, "third third second")
	}
	order = order[:0]
	b.WriteByte('y')
	if got := strings.Join(order, " "); got != "third third" {
		t.Fatalf("after the removals: order %q, want %q", got, "third third")
	}
	if len(b.ext.cbs) != 1 || b.ext.cbs[0] != third {
		t.Fatalf("%d callbacks left, want third only", len(b.ext.cbs))
	}
}

// A frozen end refuses every change there and changes nothing; the other
// end and looking stay allowed.
func TestFrozenEndsRefuse(t *testing.T) {
	f := tempFile(t, []byte("file"))
	front := map[string]func(b *Buffer) error{
		"Read":     func(b *Buffer) error { _, err := b.Read(make([]byte, 2)); return err },
		"ReadByte": func(b *Buffer) error { _, err := b.ReadByte(); return err },
		"Drain": func(b *Buffer) error {
			if b.Drain(1) == 1 {
				return nil
			}
			return ErrFrozen
		},
		"Reset":   func(b *Buffer) error { return b.Reset() },
		"Prepend": func(b *Buffer) error { return b.Prepend([]byte("p")) },
		"MoveTo":  func(b *Buffer) error { _, err := b.MoveTo(&Buffer{}, 1); return err },
		"AddBuffer from it": func(b *Buffer) error {
			var dst Buffer
			return dst.AddBuffer(b)
		},
		"WriteTo": func(b *Buffer) error { _, err := b.WriteTo(io.Discard); return err },
		"ReadLine": func(b *Buffer) error {
			if _, ok := b.ReadLine(EOLAny); ok {
				return nil
			}
			return ErrFrozen
		},
		"ReadLineSlice": func(b *Buffer) error {
			if _, ok := b.ReadLineSlice(EOLAny); ok {
				return nil
			}
			return ErrFrozen
		},
	}
	end := map[string]func(b *Buffer) error{
		"Write":        func(b *Buffer) error { _, err := b.Write([]byte("w")); return err },
		"WriteString":  func(b *Buffer) error { _, err := b.WriteString("w"); return err },
		"WriteByte":    func(b *Buffer) error { return b.WriteByte('w') },
		"ReadFrom":     func(b *Buffer) error { _, err := b.ReadFrom(strings.NewReader("r")); return err },
		"Reserve":      func(b *Buffer) error { _, _, err := b.Reserve(1); return err },
		"Commit":       func(b *Buffer) error { return b.Commit(0) },
		"AddReference": func(b *Buffer) error { return b.AddReference([]byte("ref"), nil) },
		"AddFile":      func(b *Buffer) error { return b.AddFile(f, 0, 4, nil) },
		"AddBuffer into it": func(b *Buffer) error {
			var src Buffer
			src.WriteString("s")
			return b.AddBuffer(&src)
		},
		"MoveTo into it": func(b *Buffer) error {
			var src Buffer
			src.WriteString("s")
			_, err := src.MoveTo(b, 1)
			return err
		},
	}
	for _, side := range []struct {
		front bool
		ops   map[string]func(*Buffer) error
		other map[string]func(*Buffer) error
	}{{true, front, end}, {false, end, front}} {
		for name, op := range side.ops {
			var b Buffer
			b.WriteString("line\nmore")
			var log callbackLog
			b.AddCallback(log.cb)
			b.Freeze(side.front)
			if !b.Frozen(side.front) || b.Frozen(!side.front) {
				t.Fatalf("Frozen(%v), Frozen(%v) = %v, %v", side.front, !side.front, b.Frozen(side.front), b.Frozen(!side.front))
			}
			if err := op(&b); !errors.Is(err, ErrFrozen) {
				t.Errorf("%s at a frozen end (front %v): %v, want ErrFrozen", name, side.front, err)
			}
			checkBuffer(t, &b, []byte("line\nmore"))
			log.take(t, name+" refused")
			b.Unfreeze(side.front)
			if err := op(&b); err != nil {
				t.Errorf("%s after Unfreeze(%v): %v", name, side.front, err)
			}
		}
		for name, op := range side.other {
			var b Buffer
			b.WriteString("line\nmore")
			b.Freeze(side.front)
			if err := op(&b); err != nil {
				t.Errorf("%s with the other end frozen (front %v): %v", name, side.front, err)
			}
		}
	}
	var b Buffer
	b.WriteString("look")
	b.Freeze(true)
	b.Freeze(false)
	if string(b.Peek(-1)) != "look" || b.Search([]byte("o")) != 1 || b.CopyOut(make([]byte, 4)) != 4 {
		t.Error("looking at a frozen buffer failed")
	}
}

// A file range read in pieces, into a ring whose free space wraps and by
// CopyOut in chunks, keeps every byte in its place.
func TestAddFileReadInPiecesKeepsTheOrder(t *testing.T) {
	data := make([]byte, 3*fileChunk+7)
	for i := range data {
		data[i] = byte(i*7 ^ i>>8)
	}
	f := tempFile(t, data)
	b := ringAt(t, minStorage, minStorage-100, []byte("ab")) // free space wraps after 98 bytes
	if err := b.AddFile(f, 1, int64(len(data)-1), nil); err != nil {
		t.Fatal(err)
	}
	want := append([]byte("ab"), data[1:]...)
	p := make([]byte, len(want))
	if n := b.CopyOut(p); n != len(want) || firstDiffBytes(p, want) >= 0 {
		t.Fatalf("CopyOut = %d, first difference at %d", n, firstDiffBytes(p, want))
	}
	if got := b.Peek(3000); firstDiffBytes(got, want[:3000]) >= 0 {
		t.Fatalf("Peek(3000): first difference at %d", firstDiffBytes(got, want[:3000]))
	}
	checkBuffer(t, b, want)
}

// firstDiffBytes returns the first index where a and b differ, or -1.
func firstDiffBytes(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
