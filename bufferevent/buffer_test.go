package bufferevent

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// checkBuffer fails t unless b's invariants hold and b holds exactly want.
func checkBuffer(t testing.TB, b *Buffer, want []byte) {
	t.Helper()
	switch {
	case b.buf == nil && (b.n != 0 || b.off != 0):
		t.Fatalf("no storage but n=%d off=%d", b.n, b.off)
	case b.buf != nil && (len(b.buf) != cap(b.buf) || len(b.buf) < minStorage || len(b.buf)&(len(b.buf)-1) != 0):
		t.Fatalf("storage len %d cap %d, want equal powers of two >= %d", len(b.buf), cap(b.buf), minStorage)
	case b.buf != nil && (b.off < 0 || b.off >= len(b.buf)):
		t.Fatalf("off = %d, want in [0, %d)", b.off, len(b.buf))
	case b.n < 0 || b.n > len(b.buf):
		t.Fatalf("n = %d, want in [0, %d]", b.n, len(b.buf))
	case b.n == 0 && b.off != 0:
		t.Fatalf("empty buffer has off = %d, want 0", b.off)
	case b.storageHeld() != len(b.buf):
		t.Fatalf("storageHeld() = %d, want the storage's %d", b.storageHeld(), len(b.buf))
	}
	if e := b.ext; e != nil {
		if b.n == 0 && len(e.segs) > 0 && (e.segs[0].ring != nil || e.segs[0].len() == 0) {
			t.Fatalf("empty ring followed by an own ring or an empty segment: %+v", e.segs[0])
		}
		for i, s := range e.segs {
			switch {
			case s.ring != nil && (s.ring.ext != nil || s.ring.owner != nil):
				t.Fatalf("segment %d: own ring with an ext or an owner", i)
			case s.ring == nil && (s.n <= 0 || s.file == nil && len(s.p) != s.n):
				t.Fatalf("segment %d: reference or file range of %d bytes (len(p) %d)", i, s.n, len(s.p))
			}
		}
	}
	if b.Len() != len(want) {
		t.Fatalf("Len() = %d, want %d", b.Len(), len(want))
	}
	got := make([]byte, b.Len()+1)
	if k := b.CopyOut(got); k != len(want) || !bytes.Equal(got[:k], want) {
		t.Fatalf("contents = %q, want %q", got[:k], want)
	}
}

// bufPattern returns n bytes that differ from their neighbours, so that
// misplaced bytes show.
func bufPattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte('a' + i%23)
	}
	return p
}

// ringAt returns a buffer with size bytes of storage holding data from
// index off, wrapping around the end of the ring when data is long enough.
func ringAt(t testing.TB, size, off int, data []byte) *Buffer {
	t.Helper()
	b := &Buffer{}
	putStorage(b.reserve(size))
	first := min(len(data), size-off)
	b.Write(make([]byte, off))
	b.Write(data[:first])
	b.Drain(off)
	b.Write(data[first:])
	if b.Cap() != size || b.off != off {
		t.Fatalf("ringAt: Cap() = %d, off = %d; want %d, %d", b.Cap(), b.off, size, off)
	}
	checkBuffer(t, b, data)
	return b
}

func TestBufferZeroValueIsEmptyAndAllocatesNothing(t *testing.T) {
	var b Buffer
	allocs := testing.AllocsPerRun(10, func() {
		if n, err := b.Read(make([]byte, 8)); n != 0 || err != io.EOF {
			t.Fatalf("Read = %d, %v; want 0, EOF", n, err)
		}
		if c, err := b.ReadByte(); c != 0 || err != io.EOF {
			t.Fatalf("ReadByte = %q, %v; want 0, EOF", c, err)
		}
		if p := b.Peek(-1); len(p) != 0 {
			t.Fatalf("Peek(-1) = %q, want empty", p)
		}
		if n := b.Drain(10); n != 0 {
			t.Fatalf("Drain(10) = %d, want 0", n)
		}
		if i := b.Search([]byte("x")); i != -1 {
			t.Fatalf("Search = %d, want -1", i)
		}
		if line, ok := b.ReadLine(EOLLF); ok || line != nil {
			t.Fatalf("ReadLine = %q, %v; want nil, false", line, ok)
		}
		if n, err := b.WriteTo(io.Discard); n != 0 || err != nil {
			t.Fatalf("WriteTo = %d, %v; want 0, nil", n, err)
		}
		b.Write(nil)
		b.Prepend(nil)
		b.Reset()
		b.Trim()
	})
	if allocs != 0 {
		t.Errorf("operations on an empty zero Buffer allocated %v times, want 0", allocs)
	}
	if b.Cap() != 0 {
		t.Errorf("Cap() = %d, want 0", b.Cap())
	}
	checkBuffer(t, &b, nil)
}

func TestBufferWriteThenReadReturnsSameBytes(t *testing.T) {
	for _, size := range []int{1, 100, minStorage - 1, minStorage, minStorage + 1, 100000} {
		var b Buffer
		data := bufPattern(size)
		if n, err := b.Write(data); n != size || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", size, n, err)
		}
		checkBuffer(t, &b, data)
		got := make([]byte, size+10)
		if n, err := b.Read(got); n != size || err != nil || !bytes.Equal(got[:n], data) {
			t.Fatalf("Read after writing %d = %d, %v, equal=%v", size, n, err, bytes.Equal(got[:n], data))
		}
		checkBuffer(t, &b, nil)
	}
}

func TestBufferReadWithEmptySliceReturnsNothing(t *testing.T) {
	var b Buffer
	if n, err := b.Read(nil); n != 0 || err != nil {
		t.Errorf("empty buffer: Read(nil) = %d, %v; want 0, nil", n, err)
	}
	b.WriteString("x")
	if n, err := b.Read(nil); n != 0 || err != nil {
		t.Errorf("non-empty buffer: Read(nil) = %d, %v; want 0, nil", n, err)
	}
	checkBuffer(t, &b, []byte("x"))
}

func TestBufferWriteStringAndWriteByteAppend(t *testing.T) {
	var b Buffer
	if n, err := b.WriteString("hello"); n != 5 || err != nil {
		t.Fatalf("WriteString = %d, %v; want 5, nil", n, err)
	}
	if err := b.WriteByte(' '); err != nil {
		t.Fatalf("WriteByte: %v", err)
	}
	b.Write([]byte("world"))
	checkBuffer(t, &b, []byte("hello world"))
	for i := 0; i < 2*minStorage; i++ {
		b.WriteByte('x')
	}
	checkBuffer(t, &b, append([]byte("hello world"), bytes.Repeat([]byte("x"), 2*minStorage)...))
}

func TestBufferWriteWrapsAroundTheRing(t *testing.T) {
	data := bufPattern(300)
	b := ringAt(t, minStorage, minStorage-100, data)
	s1, s2 := b.data()
	if len(s1) != 100 || len(s2) != 200 {
		t.Fatalf("segments %d+%d, want 100+200", len(s1), len(s2))
	}
	if b.Cap() != minStorage {
		t.Fatalf("Cap() = %d, want %d: writing into the wrapped free space must not grow", b.Cap(), minStorage)
	}
}

func TestBufferReadAndReadByteAcrossTheWrap(t *testing.T) {
	data := bufPattern(300)
	b := ringAt(t, minStorage, minStorage-100, data)
	got := make([]byte, 150)
	if n, _ := b.Read(got); n != 150 || !bytes.Equal(got, data[:150]) {
		t.Fatalf("Read = %d %q, want %q", n, got[:n], data[:150])
	}
	checkBuffer(t, b, data[150:])
	for i, want := range data[150:] {
		if c, err := b.ReadByte(); c != want || err != nil {
			t.Fatalf("ReadByte %d = %q, %v; want %q", i, c, err, want)
		}
	}
	checkBuffer(t, b, nil)
}

func TestStorageClassIsSmallestPowerOfTwoFromFourKiB(t *testing.T) {
	for _, tc := range []struct{ size, want int }{
		{0, 4096}, {1, 4096}, {4096, 4096}, {4097, 8192}, {8192, 8192}, {1<<20 + 1, 2 << 20}, {5 << 20, 8 << 20},
	} {
		if got := storageClass(tc.size); got != tc.want {
			t.Errorf("storageClass(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}

func TestBufferGrowthDoublesAndStopsAtTheNeededClass(t *testing.T) {
	var b Buffer
	b.Write(make([]byte, minStorage))
	if b.Cap() != minStorage {
		t.Fatalf("after 4096 bytes Cap() = %d, want 4096", b.Cap())
	}
	b.WriteByte(1)
	if b.Cap() != 2*minStorage {
		t.Fatalf("after 4097 bytes Cap() = %d, want 8192", b.Cap())
	}
	b.Write(make([]byte, 40000))
	if b.Cap() != 64<<10 {
		t.Fatalf("after 44097 bytes Cap() = %d, want 65536", b.Cap())
	}
}

func TestBufferGrowthKeepsWrappedDataInOrder(t *testing.T) {
	data := bufPattern(4000)
	b := ringAt(t, minStorage, 3000, data)
	more := bufPattern(5000)
	b.Write(more)
	checkBuffer(t, b, append(append([]byte{}, data...), more...))
	if b.Cap() != 16<<10 {
		t.Errorf("Cap() = %d, want 16384", b.Cap())
	}
}

func TestBufferWriteOfItsOwnPeekDuplicatesTheData(t *testing.T) {
	for _, size := range []int{10, 3000} { // 3000: the second copy forces growth
		var b Buffer
		data := bufPattern(size)
		b.Write(data)
		b.Write(b.Peek(-1))
		checkBuffer(t, &b, append(append([]byte{}, data...), data...))
		b.Prepend(b.Peek(5))
		checkBuffer(t, &b, append(append(append([]byte{}, data[:5]...), data...), data...))
	}
}

func TestBufferPeekClampsAndDoesNotCopyContiguousData(t *testing.T) {
	var b Buffer
	b.WriteString("hello world")
	b.Drain(6)
	p := b.Peek(3)
	if string(p) != "wor" {
		t.Fatalf("Peek(3) = %q, want %q", p, "wor")
	}
	if &p[0] != &b.buf[6] {
		t.Error("Peek of contiguous data copied it")
	}
	if cap(p) != 3 {
		t.Errorf("cap(Peek(3)) = %d, want 3 so append cannot overwrite the buffer", cap(p))
	}
	if p := b.Peek(100); string(p) != "world" {
		t.Errorf("Peek(100) = %q, want %q", p, "world")
	}
	if p := b.Peek(-1); string(p) != "world" {
		t.Errorf("Peek(-1) = %q, want %q", p, "world")
	}
	checkBuffer(t, &b, []byte("world"))
}

func TestBufferPeekLinearizesWrappedData(t *testing.T) {
	for _, tc := range []struct {
		name        string
		off, n      int
		sameStorage bool
	}{
		{"head part fits in the gap", minStorage - 100, 1000, true},
		{"wrapped part fits in the gap", minStorage - 1000, 1100, true},
		{"neither part fits", minStorage - 2000, 4000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bufPattern(tc.n)
			b := ringAt(t, minStorage, tc.off, data)
			storage := &b.buf[0]
			if p := b.Peek(50); !bytes.Equal(p, data[:50]) {
				t.Fatalf("Peek(50) = %q, want %q", p, data[:50])
			}
			if b.off != tc.off {
				t.Fatalf("Peek of a contiguous prefix moved the data: off %d, want %d", b.off, tc.off)
			}
			p := b.Peek(-1)
			if !bytes.Equal(p, data) {
				t.Fatalf("Peek(-1) = %q, want %q", p, data)
			}
			if got := &b.buf[0] == storage; got != tc.sameStorage {
				t.Errorf("kept the same storage = %v, want %v", got, tc.sameStorage)
			}
			if b.Cap() != minStorage {
				t.Errorf("Cap() = %d, want %d", b.Cap(), minStorage)
			}
			checkBuffer(t, b, data)
		})
	}
}

func TestBufferPeekLinearizesInPlaceWithoutAllocating(t *testing.T) {
	for _, tc := range []struct{ off, n int }{{minStorage - 100, 1000}, {minStorage - 1000, 1100}} {
		data := bufPattern(tc.n)
		b := ringAt(t, minStorage, tc.off, data)
		allocs := testing.AllocsPerRun(100, func() {
			b.off, b.n = tc.off, 0 // rewind, so that the data wraps again
			b.Write(data)
			if p := b.Peek(-1); !bytes.Equal(p, data) {
				t.Fatalf("Peek(-1) = %q, want %q", p, data)
			}
		})
		if allocs != 0 {
			t.Errorf("off %d, %d bytes: Peek of wrapped data allocated %v times, want 0", tc.off, tc.n, allocs)
		}
	}
}

func TestBufferDrainRemovesFromTheFront(t *testing.T) {
	data := bufPattern(300)
	b := ringAt(t, minStorage, minStorage-100, data)
	if n := b.Drain(-5); n != 0 {
		t.Fatalf("Drain(-5) = %d, want 0", n)
	}
	checkBuffer(t, b, data)
	if n := b.Drain(150); n != 150 {
		t.Fatalf("Drain(150) = %d, want 150", n)
	}
	checkBuffer(t, b, data[150:])
	if n := b.Drain(1000); n != 150 {
		t.Fatalf("Drain(1000) = %d, want the 150 left", n)
	}
	checkBuffer(t, b, nil)
}

func TestBufferCopyOutLeavesDataInPlace(t *testing.T) {
	data := bufPattern(300)
	b := ringAt(t, minStorage, minStorage-100, data)
	got := make([]byte, 250)
	if n := b.CopyOut(got); n != 250 || !bytes.Equal(got, data[:250]) {
		t.Fatalf("CopyOut = %d %q, want %q", n, got[:n], data[:250])
	}
	got = make([]byte, 500)
	if n := b.CopyOut(got); n != 300 || !bytes.Equal(got[:n], data) {
		t.Fatalf("CopyOut into a larger slice = %d, want 300", n)
	}
	checkBuffer(t, b, data)
}

func TestBufferPrependUsesFreeSpaceAsHeadRoom(t *testing.T) {
	var b Buffer
	b.WriteString("world")
	b.Prepend([]byte("hello "))
	checkBuffer(t, &b, []byte("hello world"))
	if b.Cap() != minStorage || b.off != minStorage-6 {
		t.Errorf("Cap() = %d, off = %d; want %d, %d: prepending to offset 0 wraps to the end", b.Cap(), b.off, minStorage, minStorage-6)
	}

	data := bufPattern(100)
	b2 := ringAt(t, minStorage, 50, data)
	head := bufPattern(80)
	b2.Prepend(head)
	checkBuffer(t, b2, append(append([]byte{}, head...), data...))
	if b2.Cap() != minStorage {
		t.Errorf("Cap() = %d, want %d", b2.Cap(), minStorage)
	}
}

func TestBufferPrependWithoutRoomGrows(t *testing.T) {
	data := bufPattern(minStorage - 10)
	var b Buffer
	b.Write(data)
	head := bufPattern(100)
	b.Prepend(head)
	checkBuffer(t, &b, append(append([]byte{}, head...), data...))
	if b.Cap() != 2*minStorage {
		t.Errorf("Cap() = %d, want %d", b.Cap(), 2*minStorage)
	}
	var empty Buffer
	empty.Prepend([]byte("x"))
	checkBuffer(t, &empty, []byte("x"))
}

func TestBufferAddBufferToEmptyTakesTheStorage(t *testing.T) {
	var dst, src Buffer
	data := bufPattern(1000)
	src.Write(data)
	storage := &src.buf[0]
	dst.AddBuffer(&src)
	checkBuffer(t, &dst, data)
	checkBuffer(t, &src, nil)
	if &dst.buf[0] != storage {
		t.Error("AddBuffer into an empty buffer copied instead of taking the storage")
	}
	if src.Cap() != 0 {
		t.Errorf("emptied source Cap() = %d, want 0", src.Cap())
	}
}

func TestBufferAddBufferToNonEmptyAppends(t *testing.T) {
	head := bufPattern(300)
	dst := ringAt(t, minStorage, minStorage-100, head)
	tail := bufPattern(5000)
	src := ringAt(t, 8192, 8000, tail)
	dst.AddBuffer(src)
	checkBuffer(t, dst, append(append([]byte{}, head...), tail...))
	checkBuffer(t, src, nil)
	if src.Cap() != 0 {
		t.Errorf("emptied source Cap() = %d, want 0", src.Cap())
	}
}

func TestBufferAddBufferOfItselfNilOrEmptyDoesNothing(t *testing.T) {
	var b, empty Buffer
	b.WriteString("abc")
	b.AddBuffer(&b)
	b.AddBuffer(nil)
	b.AddBuffer(&empty)
	checkBuffer(t, &b, []byte("abc"))
	checkBuffer(t, &empty, nil)
}

func TestBufferResetEmptiesAndGivesStorageBack(t *testing.T) {
	b := ringAt(t, minStorage, 100, bufPattern(100))
	b.Reset()
	checkBuffer(t, b, nil)
	if b.Cap() != 0 {
		t.Errorf("Cap() after Reset = %d, want 0", b.Cap())
	}
}

func TestBufferReadFromReadsUntilEOF(t *testing.T) {
	data := bufPattern(100000)
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"whole", bytes.NewReader(data)},
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(data))},
		{"data with EOF", iotest.DataErrReader(bytes.NewReader(data))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ringAt(t, minStorage, 4000, []byte("head"))
			n, err := b.ReadFrom(tc.r)
			if n != int64(len(data)) || err != nil {
				t.Fatalf("ReadFrom = %d, %v; want %d, nil", n, err, len(data))
			}
			checkBuffer(t, b, append([]byte("head"), data...))
		})
	}
}

func TestBufferReadFromReturnsReaderError(t *testing.T) {
	var b Buffer
	errBoom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(errBoom))
	if n, err := b.ReadFrom(r); n != 3 || err != errBoom {
		t.Fatalf("ReadFrom = %d, %v; want 3, %v", n, err, errBoom)
	}
	checkBuffer(t, &b, []byte("abc"))

	var empty Buffer
	if n, err := empty.ReadFrom(strings.NewReader("")); n != 0 || err != nil || empty.Cap() != 0 {
		t.Fatalf("ReadFrom(empty reader) = %d, %v, Cap() %d; want 0, nil, 0", n, err, empty.Cap())
	}
}

// badCountReader returns a fixed count from every Read.
type badCountReader int

func (c badCountReader) Read(p []byte) (int, error) { return int(c), nil }

// fixedCountWriter returns a fixed count and error from every Write.
type fixedCountWriter struct {
	n   int
	err error
}

func (c fixedCountWriter) Write(p []byte) (int, error) { return min(c.n, len(p)), c.err }

func TestBufferReadFromRejectsBadCounts(t *testing.T) {
	for _, c := range []badCountReader{-1, 1 << 30} {
		var b Buffer
		if _, err := b.ReadFrom(c); err != errBadReadCount {
			t.Errorf("ReadFrom(reader returning %d) error = %v, want %v", c, err, errBadReadCount)
		}
		checkBuffer(t, &b, nil)
	}
}

func TestBufferWriteToWritesEverythingAcrossTheWrap(t *testing.T) {
	data := bufPattern(300)
	b := ringAt(t, minStorage, minStorage-100, data)
	var out bytes.Buffer
	if n, err := b.WriteTo(&out); n != 300 || err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("WriteTo = %d, %v, %q; want 300, nil, %q", n, err, out.Bytes(), data)
	}
	checkBuffer(t, b, nil)
	if b.Cap() != 0 {
		t.Errorf("Cap() after WriteTo = %d, want 0", b.Cap())
	}
}

func TestBufferWriteToStopsAtShortWriteOrError(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		w       io.Writer
		wantN   int64
		wantErr error
	}{
		{fixedCountWriter{n: 10}, 10, io.ErrShortWrite},
		{fixedCountWriter{n: 20, err: errBoom}, 20, errBoom},
		{fixedCountWriter{n: -1}, 0, errBadWriteCount},
	} {
		data := bufPattern(100)
		var b Buffer
		b.Write(data)
		n, err := b.WriteTo(tc.w)
		if n != tc.wantN || err != tc.wantErr {
			t.Errorf("WriteTo(%+v) = %d, %v; want %d, %v", tc.w, n, err, tc.wantN, tc.wantErr)
		}
		checkBuffer(t, &b, data[n:])
	}
}

func TestBufferEmptiedByAnyReadGivesStorageBack(t *testing.T) {
	for name, empty := range map[string]func(b *Buffer){
		"Read":     func(b *Buffer) { b.Read(make([]byte, 100)) },
		"ReadByte": func(b *Buffer) { b.ReadByte(); b.ReadByte(); b.ReadByte() },
		"ReadLine": func(b *Buffer) { b.ReadLine(EOLAny) },
		"Drain":    func(b *Buffer) { b.Drain(3) },
		"Reset":    func(b *Buffer) { b.Reset() },
		"WriteTo":  func(b *Buffer) { b.WriteTo(io.Discard) },
		"AddBuffer source": func(b *Buffer) {
			var dst Buffer
			dst.WriteString("x")
			dst.AddBuffer(b)
		},
		"AddBuffer source into empty": func(b *Buffer) {
			var dst Buffer
			dst.AddBuffer(b)
		},
	} {
		var b Buffer
		b.WriteString("ab\n")
		empty(&b)
		checkBuffer(t, &b, nil)
		if b.Cap() != 0 {
			t.Errorf("%s: Cap() of the emptied buffer = %d, want 0", name, b.Cap())
		}
	}
}

func TestBufferCyclingBufferKeepsStorageUntilTrim(t *testing.T) {
	var b Buffer
	cycle := func() {
		b.WriteString("request")
		b.Drain(b.Len())
	}
	cycle()
	if b.Cap() != 0 {
		t.Fatalf("after the first cycle Cap() = %d, want 0", b.Cap())
	}
	cycle()
	if b.Cap() != minStorage {
		t.Fatalf("after the second cycle Cap() = %d, want %d (kept for the next message)", b.Cap(), minStorage)
	}
	storage := &b.buf[0]
	cycle()
	if b.Cap() != minStorage || &b.buf[0] != storage {
		t.Fatal("a cycling buffer did not reuse its storage")
	}
	b.Trim()
	if b.Cap() != 0 {
		t.Fatalf("after Trim Cap() = %d, want 0", b.Cap())
	}
	cycle()
	if b.Cap() != 0 {
		t.Fatalf("after Trim the next cycle kept Cap() = %d, want 0", b.Cap())
	}
}

func TestBufferTrimKeepsData(t *testing.T) {
	var b Buffer
	b.WriteString("data")
	b.Trim()
	checkBuffer(t, &b, []byte("data"))
	if b.Cap() != minStorage {
		t.Errorf("Cap() = %d, want %d", b.Cap(), minStorage)
	}
}

func TestBufferLargeStorageIsDroppedWhenEmptiedEvenWhileCycling(t *testing.T) {
	var b Buffer
	big := make([]byte, maxPooled+1)
	for i := 0; i < 3; i++ {
		b.Write(big)
		if b.Cap() != 2*maxPooled {
			t.Fatalf("Cap() = %d, want %d", b.Cap(), 2*maxPooled)
		}
		b.Drain(b.Len())
		if b.Cap() != 0 {
			t.Fatalf("cycle %d: Cap() = %d after emptying a buffer above %d, want 0", i, b.Cap(), maxPooled)
		}
	}
}

func TestBufferSteadyStateDoesNotAllocate(t *testing.T) {
	if bufRaceEnabled {
		t.Skip("sync.Pool drops items on purpose under -race")
	}
	var b, out Buffer
	msg := bufPattern(100)
	got := make([]byte, 100)
	allocs := testing.AllocsPerRun(1000, func() {
		b.Write(msg)
		b.Prepend(msg[:10])
		b.Peek(50)
		b.Search([]byte("xyz"))
		out.AddBuffer(&b)
		out.Read(got)
		out.Drain(out.Len())
		b.WriteString("line\r\n")
		b.ReadLineSlice(EOLCRLF)
		b.Drain(b.Len())
	})
	if allocs != 0 {
		t.Errorf("steady-state cycle allocated %v times, want 0", allocs)
	}
}
