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
	// len(buf), 0 with no storage (bits 8-15). Only the goroutine that
	// owns the buffer stores it, and only when it changes; a BufferEvent's
	// methods on other goroutines load it to learn whether there is
	// storage to trim (storageHeld) without touching buf, which a callback
	// may be changing at that moment. One 32-bit word, because fills and
	// the padding after it are all the room Buffer has.
	held atomic.Uint32

	// A send in the kernel (a BufferEvent's Output on io_uring) was
	// given the first pinLen bytes, of which the first inflight are
	// still held: see pin.
	inflight, pinLen int32

	// owner is the BufferEvent holding this buffer as its Input or
	// Output, nil for a standalone Buffer. It is told after an exported
	// method other than ReadFd, WriteFd and Trim has changed the
	// contents, to notice user code writing to its output or draining its
	// input; its own I/O uses ReadFd and WriteFd, which do not tell it.
	// The owner must not change the buffer.
	owner *BufferEvent
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

// Len returns the number of bytes held.
func (b *Buffer) Len() int { return b.n }

// Cap returns the size of the storage the buffer holds now: 0 when it holds
// none.
func (b *Buffer) Cap() int { return len(b.buf) }

// heldFillsMask is the part of held that counts fills.
const heldFillsMask = 1<<8 - 1

// fills is the fill count kept in held.
func (b *Buffer) fills() int { return int(b.held.Load() & heldFillsMask) }

// noteStorage records fills and the current storage in held, storing
// only what changed: in an echo loop storage changes hands between two
// buffers of the same size, and held stays as it was.
func (b *Buffer) noteStorage(fills int) {
	h := uint32(fills)
	if len(b.buf) > 0 {
		h |= uint32(bits.TrailingZeros(uint(len(b.buf)))) << 8
	}
	if b.held.Load() != h {
		b.held.Store(h)
	}
}

// storageHeld is Cap for any goroutine: the size of the storage the
// buffer held when its goroutine last changed it. Callers use it only
// where an answer already out of date is harmless (the idle trim).
func (b *Buffer) storageHeld() int {
	if shift := b.held.Load() >> 8; shift > 0 {
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
	b.CopyOut(buf)
	old, b.buf, b.off = b.buf, buf, 0
	if b.inflight > 0 {
		old = nil // a send may read it: the collector has it afterwards
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

// changed tells the owner if k bytes were added or removed, k > 0.
func (b *Buffer) changed(k int) {
	if k > 0 && b.owner != nil {
		b.owner.bufferChanged(b)
	}
}

// reset empties the buffer and gives its storage back whatever the policy,
// without telling the owner. A freed BufferEvent uses it.
func (b *Buffer) reset() {
	b.giveBack(b.buf)
	*b = Buffer{owner: b.owner}
}

// release gives the storage back; the buffer must be empty.
func (b *Buffer) release() {
	b.giveBack(b.buf)
	b.buf, b.off = nil, 0
	b.noteStorage(b.fills())
}

// Sends in the kernel (a BufferEvent's Output on a base that Sends).
//
// The kernel reads a send's bytes from the storage after the send was
// queued, until its completion, so the buffer keeps its first inflight
// bytes where they are: while inflight > 0, it never writes into, moves
// or gives back to the pool the array under them (the base keeps the
// array referenced until the kernel is done). Appending writes only into the free space, which the data
// does not overlap; growing copies into new storage and leaves the old
// array to the collector instead of the pool; Peek's pull-up and Prepend
// build new storage; removing in-flight bytes from the front (user code
// draining Output) first moves the data to new storage, since the space
// freed would be written next. The bytes still count as held until the
// send's completion drains the ones it sent (unpinSent); bytes removed
// meanwhile go out all the same (the kernel has them), and a Prepend
// goes after them, where it would have gone had they already been
// written.

// Once the data moved, the kernel no longer reads the buffer's storage,
// but the buffer does not track that: until the send ends it treats
// whatever storage it has as the kernel's, which costs a copy or an array
// left to the collector in these rare cases, and nothing else.

// pin marks the first k bytes, 0 < k <= b.n, as given to a send in the
// kernel.
func (b *Buffer) pin(k int) { b.inflight, b.pinLen = int32(k), int32(k) }

// unpinSent ends the send, of whose bytes the kernel sent the first sent,
// and removes from the front those of them still held: user code may
// have removed some already.
func (b *Buffer) unpinSent(sent int) {
	held, gone := int(b.inflight), int(b.pinLen-b.inflight)
	b.inflight, b.pinLen = 0, 0
	b.drain(min(held, max(0, sent-gone)))
}

// giveBack returns storage the buffer drops to the pool, unless a send
// in the kernel may read it: then the collector has it once the send is
// done with it.
func (b *Buffer) giveBack(buf []byte) {
	if b.inflight == 0 {
		putStorage(buf)
	}
}

// unshare moves the data to new storage of the same size, leaving the
// old array to the send reading it.
func (b *Buffer) unshare() {
	buf := getStorage(len(b.buf))
	b.CopyOut(buf)
	b.buf, b.off = buf, 0
}

// advance removes k bytes from the front, 0 <= k <= b.n, keeping the storage.
func (b *Buffer) advance(k int) {
	if b.inflight > 0 && k > 0 {
		b.unshare() // the space freed must not be written into
		b.inflight -= int32(min(k, int(b.inflight)))
	}
	b.n -= k
	if b.n == 0 {
		b.off = 0
		return
	}
	b.off = (b.off + k) & (len(b.buf) - 1)
}

// drain removes k bytes from the front, 0 <= k <= b.n, and applies the
// storage policy described on Buffer if that empties the buffer.
func (b *Buffer) drain(k int) {
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

// ringWrite appends p, which may point into b's own storage.
func ringWrite[T string | []byte](b *Buffer, p T) {
	old := b.reserve(len(p))
	s1, s2 := b.space()
	k := copy(s1, p)
	copy(s2, p[k:])
	b.n += len(p)
	putStorage(old)
}

// Write appends p to the buffer. It always returns len(p), nil.
func (b *Buffer) Write(p []byte) (int, error) {
	ringWrite(b, p)
	b.changed(len(p))
	return len(p), nil
}

// WriteString appends s to the buffer. It always returns len(s), nil.
func (b *Buffer) WriteString(s string) (int, error) {
	ringWrite(b, s)
	b.changed(len(s))
	return len(s), nil
}

// WriteByte appends c to the buffer. It always returns nil.
func (b *Buffer) WriteByte(c byte) error {
	putStorage(b.reserve(1))
	b.buf[(b.off+b.n)&(len(b.buf)-1)] = c
	b.n++
	b.changed(1)
	return nil
}

// Prepend inserts p at the front of the buffer. In a ring the free space is
// room at the front as much as at the end, so this copies only p unless
// the buffer has to grow.
func (b *Buffer) Prepend(p []byte) {
	if len(p) == 0 {
		return
	}
	if b.inflight > 0 {
		b.insertAfterInflight(p)
		b.changed(len(p))
		return
	}
	old := b.reserve(len(p))
	b.off = (b.off - len(p)) & (len(b.buf) - 1)
	k := copy(b.buf[b.off:], p)
	copy(b.buf, p[k:])
	b.n += len(p)
	putStorage(old)
	b.changed(len(p))
}

// insertAfterInflight is Prepend while a send reads the first inflight
// bytes: p goes after them, in new storage.
func (b *Buffer) insertAfterInflight(p []byte) {
	k := int(b.inflight)
	buf := getStorage(storageClass(b.n + len(p)))
	b.CopyOut(buf)
	copy(buf[k+len(p):], buf[k:b.n])
	copy(buf[k:], p)
	b.giveBack(b.buf)
	b.buf, b.off, b.n = buf, 0, b.n+len(p)
	b.noteStorage(b.fills())
}

// Read removes up to len(p) bytes from the front of the buffer into p.
// When the buffer is empty it returns 0, io.EOF, or 0, nil if len(p) is 0.
func (b *Buffer) Read(p []byte) (int, error) {
	if b.n == 0 {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	k := b.CopyOut(p)
	b.drain(k)
	b.changed(k)
	return k, nil
}

// ReadByte removes and returns the first byte, or returns 0, io.EOF when
// the buffer is empty.
func (b *Buffer) ReadByte() (byte, error) {
	if b.n == 0 {
		return 0, io.EOF
	}
	c := b.buf[b.off]
	b.drain(1)
	b.changed(1)
	return c, nil
}

// CopyOut copies up to len(p) bytes from the front of the buffer into p
// without removing them, and returns how many it copied
// (evbuffer_copyout).
func (b *Buffer) CopyOut(p []byte) int {
	s1, s2 := b.data()
	k := copy(p, s1)
	return k + copy(p[k:], s2)
}

// Drain removes the first n bytes, or all of them when n > Len, and returns
// how many it removed. A negative n removes nothing.
func (b *Buffer) Drain(n int) int {
	n = min(max(n, 0), b.n)
	if n > 0 {
		b.drain(n)
		b.changed(n)
	}
	return n
}

// Reset empties the buffer, as Drain(Len()) does.
func (b *Buffer) Reset() { b.Drain(b.n) }

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
// size.
func (b *Buffer) Peek(n int) []byte {
	if n < 0 || n > b.n {
		n = b.n
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
	case b.inflight > 0:
		b.unshare() // a send may read the bytes in place
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
		b.CopyOut(buf)
		b.giveBack(b.buf)
		b.buf, b.off = buf, 0
	}
}

// AddBuffer moves all of src to the end of b, leaving src empty
// (evbuffer_add_buffer). When b is empty it takes src's storage instead of
// copying. Adding a buffer to itself, or a nil buffer, does nothing.
func (b *Buffer) AddBuffer(src *Buffer) {
	if src == nil || src == b {
		return
	}
	if k := b.addBuffer(src); k > 0 {
		b.changed(k)
		src.changed(k)
	}
}

// addBuffer is AddBuffer without telling the owners: a BufferEvent moving
// data between buffers it holds locked uses it. It returns how many bytes
// moved.
func (b *Buffer) addBuffer(src *Buffer) int {
	k := src.n
	if k == 0 {
		return 0
	}
	if b.n == 0 && src.inflight == 0 {
		// Swap storage: b's empty array, if it kept one, goes to src, whose
		// storage policy then decides whether to keep it.
		// Arrays of one size changing hands, an echo's every message,
		// leave both helds as they were.
		same := b.buf != nil && len(b.buf) == len(src.buf)
		fills := 0
		if !same {
			fills = b.countFill()
		}
		b.buf, src.buf = src.buf, b.buf
		b.off, b.n = src.off, src.n
		src.off, src.n = 0, 0
		if !same {
			b.noteStorage(fills)
			src.noteStorage(src.fills())
		}
		src.drain(0)
	} else {
		putStorage(b.reserve(k)) // src's storage is not b's: nothing points into the old array
		s1, s2 := src.data()
		ringWrite(b, s1)
		ringWrite(b, s2)
		src.drain(k)
	}
	return k
}

// ReadFrom reads from r until io.EOF and appends what it read. It returns
// the number of bytes read and the first error other than io.EOF.
func (b *Buffer) ReadFrom(r io.Reader) (total int64, err error) {
	for err == nil {
		putStorage(b.reserve(readFromMin))
		s1, _ := b.space()
		var k int
		k, err = r.Read(s1)
		if k < 0 || k > len(s1) {
			k, err = 0, errBadReadCount
		}
		b.n += k
		total += int64(k)
	}
	b.drain(0) // applies the storage policy if nothing came
	b.changed(int(total))
	if err == io.EOF {
		err = nil
	}
	return total, err
}

// WriteTo writes the buffer's contents to w, removing what was written,
// until the buffer is empty or w fails. It returns the number of bytes
// written and the error, io.ErrShortWrite when w wrote less without one.
func (b *Buffer) WriteTo(w io.Writer) (total int64, err error) {
	for b.n > 0 && err == nil {
		s1, _ := b.data()
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
