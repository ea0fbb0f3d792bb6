package bufferevent

import (
	"errors"
	"io"
	"math/bits"
	"sync/atomic"
)

// Buffer is a queue of bytes: data is added at the end and removed from the
// front. It is levent's evbuffer, and a BufferEvent keeps one for input and
// one for output. Unlike evbuffer's chain of chunks it is a single growable
// ring, so adding and removing never allocate once the ring is big enough,
// and the data is at most two slices, which ReadFd and WriteFd pass to one
// readv or writev (a plain read or write when there is only one).
//
// The zero value is an empty buffer ready to use; it allocates nothing until
// data is first written. A Buffer is not safe for concurrent use: a
// BufferEvent's buffers belong to its Base's loop goroutine.
//
// AddReference and AddFile add data the ring does not hold: the caller's
// bytes, a range of a file. It follows the ring's data in order, and data
// added after it goes to storage of its own, so that every method sees one
// sequence of bytes; a buffer that never held such data, nor had a
// callback (AddCallback), carries one nil pointer for all of it.
//
// # Memory
//
// Storage is a power-of-two array of at least 4 KiB, taken from a pool per
// size class and given back to it. Growth doubles, and never goes beyond the
// smallest class holding the data plus what is being added. Arrays above
// 4 MiB come from make and are left to the garbage collector when the buffer
// empties.
//
// A buffer gives its storage back when Read, ReadByte, ReadLine, Drain,
// Reset, WriteTo, WriteFd or AddBuffer (as the source) empties it, so an
// idle connection holds no buffer memory. The exception is a buffer that
// cycles: once it has been refilled after giving its storage back, without
// a Trim in between, it is serving a request/response loop. Returning the
// array and taking it again for every message would cost two pool
// operations per message, about as much as the rest of the buffers' work in
// an echo loop (BenchmarkEchoCycleBuffers), so such a buffer keeps its
// empty storage until Trim, which a BufferEvent calls when it finds the
// connection idle. ReadLineSlice never gives storage back, because the line
// it returns points into it; Trim does, or the buffer's next emptying.
type Buffer struct {
	buf      []byte // nil, or the ring: len(buf) == cap(buf), a storage class
	off      int    // index of the first byte: 0 <= off < len(buf), and off == 0 when n == 0
	n        int    // bytes held: 0 <= n <= len(buf)
	readHint int32  // free space ReadFd wants before it reads; 0 means minStorage

	// held packs, for the storage changes (getStorage and putStorage
	// paths), fills, the times storage was taken while the buffer had
	// none since the last Trim (bits 0-7, saturating), and log2 of
	// len(buf), 0 with no storage (bits 8-15), and the ends Freeze closed
	// (bits 16-17, frozenFront | frozenEnd). Only the goroutine that
	// owns the buffer stores it, and only when it changes; a BufferEvent's
	// methods on other goroutines load it to learn whether there is
	// storage to trim (storageHeld) without touching buf, which a callback
	// may be changing at that moment; and heldPinned (bit 18, see pin).
	// One 32-bit word, because the padding after readHint is all the
	// room Buffer has in its size class.
	held atomic.Uint32

	// owner is the BufferEvent holding this buffer as its Input or
	// Output, nil for a standalone Buffer. It is told after an exported
	// method other than ReadFd, WriteFd and Trim has changed the
	// contents, to notice user code writing to its output or draining its
	// input; its own I/O uses ReadFd and WriteFd, which do not tell it.
	// The owner must not change the buffer.
	owner *BufferEvent

	// ext is nil for a buffer that never held a reference or a file
	// range and never had a callback: see bufferExt.
	ext *bufferExt
}

// keepStorageAfter is how many times a buffer must take storage, between
// Trims, before it keeps its storage when it empties. The first fill is
// every connection's first message; the second shows a loop.
// Benchmarks set it to math.MaxInt to measure giving storage back at once.
var keepStorageAfter = 2

// ReadFrom makes room for at least this much before each read, like bytes.MinRead.
const readFromMin = 512

var (
	errBadReadCount  = errors.New("bufferevent: reader returned a count out of range")
	errBadWriteCount = errors.New("bufferevent: writer returned a count out of range")
)

// Len returns the number of bytes held (evbuffer_get_length).
func (b *Buffer) Len() int {
	if b.ext == nil {
		return b.n
	}
	return b.n + b.ext.segsLen()
}

// Cap returns the size of the storage the buffer holds now: 0 when it holds
// none. References and file ranges (AddReference, AddFile) are not storage.
func (b *Buffer) Cap() int { return len(b.buf) }

// The parts of held: fills below bit 8, log2 of the storage from bit 8,
// the frozen ends from bit 16, the pin at bit 18.
const (
	heldFillsMask   = 1<<8 - 1
	heldShiftMask   = 1<<8 - 1
	heldFrozenShift = 16
	heldStorageMask = 1<<heldFrozenShift - 1
	heldFrozenMask  = uint32(frozenFront|frozenEnd) << heldFrozenShift
	heldPinned      = 1 << 18 // a send in the kernel reads the ring's first bytes: see pin
)

// fills is the fill count kept in held.
func (b *Buffer) fills() int { return int(b.held.Load() & heldFillsMask) }

// noteStorage records fills and the current storage in held, storing
// only what changed: in an echo loop storage changes hands between two
// buffers of the same size, and held stays as it was.
func (b *Buffer) noteStorage(fills int) {
	old := b.held.Load()
	h := uint32(fills) | old&^heldStorageMask
	if len(b.buf) > 0 {
		h |= uint32(bits.TrailingZeros(uint(len(b.buf)))) << 8
	}
	if old != h {
		b.held.Store(h)
	}
}

// frozenBits is frozenFront | frozenEnd, the ends Freeze closed.
func (b *Buffer) frozenBits() uint8 {
	return uint8(b.held.Load() & heldFrozenMask >> heldFrozenShift)
}

// setFrozen sets the ends Freeze closed, keeping the rest of held.
func (b *Buffer) setFrozen(f uint8) {
	b.held.Store(b.held.Load()&^heldFrozenMask | uint32(f)<<heldFrozenShift)
}

// storageHeld is Cap for any goroutine: the size of the storage the
// buffer held when its goroutine last changed it. Callers use it only
// where an answer already out of date is harmless (the idle trim).
func (b *Buffer) storageHeld() int {
	if shift := b.held.Load() >> 8 & heldShiftMask; shift > 0 {
		return 1 << shift
	}
	return 0
}

// data returns the bytes held, in order, as at most two slices of the ring.
func (b *Buffer) data() (s1, s2 []byte) {
	end := b.off + b.n
	if end <= len(b.buf) {
		return b.buf[b.off:end], nil
	}
	return b.buf[b.off:], b.buf[:end-len(b.buf)]
}

// space returns the free space after the data, in order, as at most two
// slices of the ring.
func (b *Buffer) space() (s1, s2 []byte) {
	end := b.off + b.n
	if end >= len(b.buf) {
		return b.buf[end-len(b.buf) : b.off], nil
	}
	return b.buf[end:], b.buf[:b.off]
}

// at returns the byte i places from the front; 0 <= i < b.n.
func (b *Buffer) at(i int) byte { return b.buf[(b.off+i)&(len(b.buf)-1)] }

// ringPrefix returns the first n bytes of the sequence s1 followed by s2, or
// all of it when it is shorter.
func ringPrefix(s1, s2 []byte, n int) ([]byte, []byte) {
	if n <= len(s1) {
		return s1[:n], nil
	}
	return s1, s2[:min(n-len(s1), len(s2))]
}

// reserve makes room for k more bytes. When it has to move the data to
// larger storage it returns the old storage instead of giving it back, so
// that the caller can still copy from it (Write(b.Peek(n)) is allowed);
// the caller passes it to putStorage when done.
func (b *Buffer) reserve(k int) (old []byte) {
	if len(b.buf)-b.n >= k {
		return nil // the common case, kept small enough to inline
	}
	return b.grow(k)
}

// grow moves the data to storage with room for k more bytes and returns
// the old storage; see reserve.
func (b *Buffer) grow(k int) (old []byte) {
	fills := b.countFill()
	buf := getStorage(storageClass(b.n + k))
	b.ringCopyOut(buf)
	old, b.buf, b.off = b.buf, buf, 0
	if b.pinned() {
		old = nil // a send in the kernel reads it: the collector has it afterwards
	}
	b.noteStorage(fills)
	return old
}

// countFill returns the fill count, counting the storage the buffer is
// about to take if it has none; the caller passes it to noteStorage.
func (b *Buffer) countFill() int {
	fills := b.fills()
	if b.buf == nil && fills < heldFillsMask {
		fills++
	}
	return fills
}

// changed tells the owner if k bytes were added or removed, k > 0, and
// then runs what the change left due: release functions and callbacks
// (see settle). Exported methods call it last.
func (b *Buffer) changed(k int) {
	if b.owner != nil || b.ext != nil {
		b.notify(k)
	}
}

// notify is changed for a buffer with an owner or an ext.
func (b *Buffer) notify(k int) {
	if k > 0 && b.owner != nil {
		b.owner.bufferChanged(b)
	}
	if b.ext != nil {
		b.settle()
	}
}

// record counts added and removed bytes for the callbacks.
func (b *Buffer) record(added, deleted int) {
	if b.ext != nil {
		b.ext.added += added
		b.ext.deleted += deleted
	}
}

// reset empties the buffer and gives its storage back whatever the policy,
// without telling the owner; release functions of what it held become
// due. A freed BufferEvent uses it.
func (b *Buffer) reset() {
	b.giveBack(b.buf)
	if b.ext != nil {
		b.ext.dropSegs()
	}
	frozen := b.frozenBits()
	*b = Buffer{owner: b.owner, ext: b.ext}
	if frozen != 0 {
		b.setFrozen(frozen)
	}
}

// release gives the storage back; the buffer must be empty.
func (b *Buffer) release() {
	b.giveBack(b.buf)
	b.buf, b.off = nil, 0
	b.noteStorage(b.fills())
}

// advance removes k bytes from the front, 0 <= k <= b.n, keeping the storage.
func (b *Buffer) advance(k int) {
	if k > 0 && b.pinned() {
		b.unpinFront(k)
	}
	b.n -= k
	if b.n == 0 {
		b.off = 0
		return
	}
	b.off = (b.off + k) & (len(b.buf) - 1)
}

// drain removes k bytes from the front, 0 <= k <= Len, and applies the
// storage policy described on Buffer if that empties the ring.
func (b *Buffer) drain(k int) {
	if b.ext != nil {
		b.drainExt(k)
		return
	}
	b.advance(k)
	if b.n == 0 {
		b.emptied()
	}
}

// emptied gives the storage of a buffer that has just become empty back,
// unless the buffer is cycling (see Buffer).
func (b *Buffer) emptied() {
	if b.fills() < keepStorageAfter || len(b.buf) > maxPooled {
		b.release()
	}
}

// ringWrite appends p, which may point into b's own storage, at the end
// of the data: to the ring, or after the last reference or file range.
func ringWrite[T string | []byte](b *Buffer, p T) {
	if b.ext != nil {
		b.record(len(p), 0)
		b = b.appendTarget()
	}
	ringCopyIn(b, p)
}

// ringCopyIn appends p to the ring, whatever segments follow it.
func ringCopyIn[T string | []byte](b *Buffer, p T) {
	old := b.reserve(len(p))
	s1, s2 := b.space()
	k := copy(s1, p)
	copy(s2, p[k:])
	b.n += len(p)
	putStorage(old)
}

// Write appends p to the buffer (evbuffer_add). It returns len(p), nil, or
// 0, ErrFrozen when the end is frozen.
func (b *Buffer) Write(p []byte) (int, error) {
	if b.frozenBits()&frozenEnd != 0 {
		return 0, ErrFrozen
	}
	ringWrite(b, p)
	b.changed(len(p))
	return len(p), nil
}

// WriteString appends s to the buffer. It returns len(s), nil, or 0,
// ErrFrozen when the end is frozen.
func (b *Buffer) WriteString(s string) (int, error) {
	if b.frozenBits()&frozenEnd != 0 {
		return 0, ErrFrozen
	}
	ringWrite(b, s)
	b.changed(len(s))
	return len(s), nil
}

// WriteByte appends c to the buffer. It returns nil, or ErrFrozen when the
// end is frozen.
func (b *Buffer) WriteByte(c byte) error {
	if b.frozenBits()&frozenEnd != 0 {
		return ErrFrozen
	}
	t := b
	if b.ext != nil {
		b.record(1, 0)
		t = b.appendTarget()
	}
	putStorage(t.reserve(1))
	t.buf[(t.off+t.n)&(len(t.buf)-1)] = c
	t.n++
	b.changed(1)
	return nil
}

// Prepend inserts p at the front of the buffer (evbuffer_prepend). In a
// ring the free space is room at the front as much as at the end, so this
// copies only p unless the buffer has to grow. It returns ErrFrozen, and
// inserts nothing, when the front is frozen.
func (b *Buffer) Prepend(p []byte) error {
	if b.frozenBits()&frozenFront != 0 {
		return ErrFrozen
	}
	if len(p) == 0 {
		return nil
	}
	b.record(len(p), 0)
	if b.pinned() {
		b.insertAfterPinned(p)
		b.changed(len(p))
		return nil
	}
	old := b.reserve(len(p))
	b.off = (b.off - len(p)) & (len(b.buf) - 1)
	k := copy(b.buf[b.off:], p)
	copy(b.buf, p[k:])
	b.n += len(p)
	putStorage(old)
	b.changed(len(p))
	return nil
}

// Read removes up to len(p) bytes from the front of the buffer into p
// (evbuffer_remove). When the buffer is empty it returns 0, io.EOF, or 0,
// nil if len(p) is 0. It returns 0, ErrFrozen when the front is frozen,
// and the error of a file range (AddFile) that cannot be read when it
// comes first.
func (b *Buffer) Read(p []byte) (int, error) {
	if b.frozenBits()&frozenFront != 0 {
		return 0, ErrFrozen
	}
	if b.Len() == 0 {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	k, err := b.copyOut(p)
	if k == 0 && err != nil {
		return 0, err
	}
	b.drain(k)
	b.changed(k)
	return k, nil
}

// ReadByte removes and returns the first byte, or returns 0, io.EOF when
// the buffer is empty, or 0, ErrFrozen when its front is frozen.
func (b *Buffer) ReadByte() (byte, error) {
	if b.frozenBits()&frozenFront != 0 {
		return 0, ErrFrozen
	}
	if b.n == 0 {
		if b.Len() == 0 {
			return 0, io.EOF
		}
		if err := b.pull(1); err != nil {
			return 0, err
		}
	}
	c := b.buf[b.off]
	b.drain(1)
	b.changed(1)
	return c, nil
}

// CopyOut copies up to len(p) bytes from the front of the buffer into p
// without removing them, and returns how many it copied
// (evbuffer_copyout). A file range that cannot be read ends the copy.
func (b *Buffer) CopyOut(p []byte) int {
	k, _ := b.copyOut(p)
	return k
}

// copyOut is CopyOut with the error of a file range that cannot be read.
func (b *Buffer) copyOut(p []byte) (int, error) {
	k := b.ringCopyOut(p)
	if b.ext == nil || k == len(p) {
		return k, nil
	}
	return b.ext.copyOut(p, k)
}

// ringCopyOut copies up to len(p) bytes from the front of the ring.
func (b *Buffer) ringCopyOut(p []byte) int {
	s1, s2 := b.data()
	k := copy(p, s1)
	return k + copy(p[k:], s2)
}

// Drain removes the first n bytes, or all of them when n > Len, and returns
// how many it removed (evbuffer_drain). A negative n removes nothing, and
// so does a frozen front: it returns 0 then, where evbuffer_drain returns
// -1 (Frozen tells the two apart from an empty buffer).
func (b *Buffer) Drain(n int) int {
	if b.frozenBits()&frozenFront != 0 {
		return 0
	}
	n = min(max(n, 0), b.Len())
	if n > 0 {
		b.drain(n)
		b.changed(n)
	}
	return n
}

// Reset empties the buffer, as Drain(Len()) does, and returns ErrFrozen,
// changing nothing, when the front is frozen.
func (b *Buffer) Reset() error {
	if b.frozenBits()&frozenFront != 0 {
		return ErrFrozen
	}
	b.Drain(b.Len())
	return nil
}

// Trim gives the storage back now if the buffer is empty, and ends the
// request/response hold described on Buffer, so that the buffer gives its
// storage back the next time it empties. A BufferEvent calls it when its
// connection looks idle.
func (b *Buffer) Trim() {
	b.noteStorage(0) // no fills since this Trim
	if b.n == 0 {
		b.release()
	}
}

// Peek returns the first n bytes (all of them when n < 0 or n > Len) as one
// slice, valid until the next change to the buffer; the buffer keeps them.
// It copies nothing when the bytes are contiguous in the ring. When they
// wrap, it first makes the data contiguous (evbuffer_pullup): in place when
// the free space allows, otherwise by moving it to fresh storage of the same
// size. Bytes of references and file ranges (AddReference, AddFile) are
// copied into the ring first, a file's read with pread; if a file range
// cannot be read, Peek returns the bytes before it.
func (b *Buffer) Peek(n int) []byte {
	if n < 0 || n > b.Len() {
		n = b.Len()
	}
	if n > b.n {
		b.pull(n) // an error leaves fewer bytes in the ring
		b.settle()
		n = min(n, b.n)
	}
	if b.off+n > len(b.buf) {
		b.linearize()
	}
	return b.buf[b.off : b.off+n : b.off+n]
}

// linearize makes the data, which wraps, contiguous.
func (b *Buffer) linearize() {
	head := len(b.buf) - b.off // bytes before the wrap, at buf[off:]
	wrapped := b.n - head      // bytes after it, at buf[:wrapped]
	free := len(b.buf) - b.n   // the gap buf[wrapped:off]
	switch {
	case b.pinned():
		b.unshare() // a send in the kernel reads the bytes where they are
	case head <= free:
		// Slide the wrapped part up by head, then put the head part below it.
		copy(b.buf[head:], b.buf[:wrapped])
		copy(b.buf, b.buf[b.off:])
		b.off = 0
	case wrapped <= free:
		// Slide the head part down by wrapped, then put the wrapped part after it.
		copy(b.buf[b.off-wrapped:], b.buf[b.off:])
		copy(b.buf[len(b.buf)-wrapped:], b.buf[:wrapped])
		b.off -= wrapped
	default:
		buf := getStorage(len(b.buf))
		b.ringCopyOut(buf)
		putStorage(b.buf)
		b.buf, b.off = buf, 0
	}
}

// AddBuffer moves all of src to the end of b, leaving src empty
// (evbuffer_add_buffer). When b is empty it takes src's storage instead of
// copying; references and file ranges move as they are. Adding a buffer to
// itself, or a nil buffer, does nothing. It returns ErrFrozen, and moves
// nothing, when b's end or src's front is frozen.
func (b *Buffer) AddBuffer(src *Buffer) error {
	if src == nil || src == b {
		return nil
	}
	if b.frozenBits()&frozenEnd != 0 || src.frozenBits()&frozenFront != 0 {
		return ErrFrozen
	}
	if k := b.addBuffer(src); k > 0 {
		b.changed(k)
		src.changed(k)
	}
	return nil
}

// addBuffer is AddBuffer without telling the owners: a BufferEvent moving
// data between buffers it holds locked uses it. It returns how many bytes
// moved.
func (b *Buffer) addBuffer(src *Buffer) int {
	if b.ext != nil || src.ext != nil {
		return src.moveToExt(b, src.Len())
	}
	k := src.n
	if k > 0 {
		ringMove(b, src, k)
	}
	return k
}

// ringMove moves the first k bytes of src's ring, 0 < k <= src.n, to the
// end of dst's ring, whatever segments follow either. When that is all of
// src's ring and dst's is empty, the two swap storage: dst's empty array,
// if it kept one, goes to src, whose storage policy then decides whether
// to keep it.
func ringMove(dst, src *Buffer, k int) {
	if k == src.n && dst.n == 0 && !src.pinned() {
		// Arrays of one size changing hands, an echo's every message,
		// leave both helds as they were.
		same := dst.buf != nil && len(dst.buf) == len(src.buf)
		fills := 0
		if !same {
			fills = dst.countFill()
		}
		dst.buf, src.buf = src.buf, dst.buf
		dst.off, dst.n = src.off, src.n
		src.off, src.n = 0, 0
		if !same {
			dst.noteStorage(fills)
			src.noteStorage(src.fills())
		}
		src.emptied()
		return
	}
	putStorage(dst.reserve(k)) // src's storage is not dst's: nothing points into the old array
	s1, s2 := src.data()
	s1, s2 = ringPrefix(s1, s2, k)
	ringCopyIn(dst, s1)
	ringCopyIn(dst, s2)
	src.advance(k)
	if src.n == 0 {
		src.emptied()
	}
}

// ReadFrom reads from r until io.EOF and appends what it read. It returns
// the number of bytes read and the first error other than io.EOF, or 0,
// ErrFrozen when the end is frozen.
func (b *Buffer) ReadFrom(r io.Reader) (total int64, err error) {
	if b.frozenBits()&frozenEnd != 0 {
		return 0, ErrFrozen
	}
	t := b
	if b.ext != nil {
		t = b.appendTarget()
	}
	for err == nil {
		putStorage(t.reserve(readFromMin))
		s1, _ := t.space()
		var k int
		k, err = r.Read(s1)
		if k < 0 || k > len(s1) {
			k, err = 0, errBadReadCount
		}
		t.n += k
		total += int64(k)
	}
	t.drain(0) // applies the storage policy if nothing came
	b.record(int(total), 0)
	b.changed(int(total))
	if err == io.EOF {
		err = nil
	}
	return total, err
}

// WriteTo writes the buffer's contents to w, removing what was written,
// until the buffer is empty or w fails. It returns the number of bytes
// written and the error, io.ErrShortWrite when w wrote less without one,
// or 0, ErrFrozen when the front is frozen. References go to w as they
// are; file ranges are read in chunks through the ring.
func (b *Buffer) WriteTo(w io.Writer) (total int64, err error) {
	if b.frozenBits()&frozenFront != 0 {
		return 0, ErrFrozen
	}
	for b.Len() > 0 && err == nil {
		var s1 []byte
		if s1, err = b.front(); len(s1) == 0 {
			break
		}
		var k int
		k, err = w.Write(s1)
		switch {
		case k < 0 || k > len(s1):
			k, err = 0, errBadWriteCount
		case k < len(s1) && err == nil:
			err = io.ErrShortWrite
		}
		b.drain(k)
		total += int64(k)
	}
	b.changed(int(total))
	return total, err
}
