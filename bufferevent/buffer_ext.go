package bufferevent

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// ErrFrozen is returned by a Buffer method that would add data at a
// frozen end or remove data at a frozen front (see Freeze).
var ErrFrozen = errors.New("bufferevent: change at a frozen end of the buffer")

var (
	errNilFile        = errors.New("bufferevent: AddFile of a nil *os.File")
	errFileRange      = errors.New("bufferevent: AddFile range outside the file")
	errNotRegular     = errors.New("bufferevent: AddFile of something other than a regular file")
	errFileShrank     = errors.New("bufferevent: file range no longer in the file")
	errNilCallback    = errors.New("bufferevent: AddCallback of a nil function")
	errCallbackGone   = errors.New("bufferevent: BufferCB already removed")
	errNilBufferCB    = errors.New("bufferevent: nil *BufferCB")
	errNegativeLength = errors.New("bufferevent: AddFile of a negative offset or length")
)

// The frozen ends, as Buffer.held keeps them from heldFrozenShift.
const (
	frozenFront uint8 = 1 << iota // removing at the front is refused
	frozenEnd                     // adding at the end is refused
)

// fileChunk is how much of a file range is read into the ring at a time
// when its bytes must be in memory (WriteTo, a TLS BufferEvent's Output).
const fileChunk = 64 << 10

// bufferExt is what few buffers need, kept out of Buffer so that a plain
// one stays small and its methods keep their short paths: the callbacks,
// and data the ring does not hold.
//
// The data of a buffer with segments is the ring's, then each segment's in
// order: new data goes to the last segment when that is an own ring,
// otherwise to a new own ring after it (appendTarget), so that order is
// kept without moving anything. Invariant, after every change: when the
// ring is empty, segs is empty or segs[0] is a non-empty reference or
// file range (normalize), so that the front of the data is either in the
// ring or in segs[0].
type bufferExt struct {
	segs []segment

	// The callbacks, oldest first; they run newest first, as libevent's
	// list does. A callback removed while callbacks run is marked and
	// taken out once the outermost run ends.
	cbs     []*BufferCB
	running int  // runs of the callbacks in progress (they nest)
	gone    bool // some cbs were removed during a run

	scratch        []byte   // for CopyOut of file ranges, made when first needed
	added, deleted int      // bytes added and removed since the callbacks last ran
	released       []func() // release functions due, in the order their data left
}

// segment is a run of data after the ring: a reference to the caller's
// bytes (p), a range of a file, or the buffer's own ring (data written
// after a reference or file range).
type segment struct {
	ring *Buffer  // own data: a plain Buffer (no ext, no owner), or nil
	p    []byte   // a reference: the bytes not yet removed
	file *os.File // a file range, read at off
	off  int64    // offset in file of the next byte
	n    int      // bytes left of a reference or file range
	rel  func()   // runs once the last byte has left; may be nil
}

// len returns the bytes the segment holds.
func (s *segment) len() int {
	if s.ring != nil {
		return s.ring.n
	}
	return s.n
}

// advance removes k bytes from the front of a reference or file range,
// 0 < k < s.n.
func (s *segment) advance(k int) {
	if s.file == nil {
		s.p = s.p[k:]
	}
	s.off += int64(k)
	s.n -= k
}

// readAt reads len(p) bytes of a file range from its front plus skip.
// A file that ends before is an error matching io.ErrUnexpectedEOF.
func (s *segment) readAt(p []byte, skip int) (int, error) {
	k, err := s.file.ReadAt(p, s.off+int64(skip))
	if k == len(p) {
		return k, nil
	}
	if err == io.EOF {
		err = fmt.Errorf("%w: %w", errFileShrank, io.ErrUnexpectedEOF)
	}
	return k, err
}

// extra returns b's ext, making it.
func (b *Buffer) extra() *bufferExt {
	if b.ext == nil {
		b.ext = &bufferExt{}
	}
	return b.ext
}

// segsLen returns the bytes the segments hold.
func (e *bufferExt) segsLen() int {
	n := 0
	for i := range e.segs {
		n += e.segs[i].len()
	}
	return n
}

// hasSegs reports whether b holds data outside its ring.
func (b *Buffer) hasSegs() bool { return b.ext != nil && len(b.ext.segs) > 0 }

// appendTarget returns the ring new data goes to: b itself, or an own ring
// after the last segment.
func (b *Buffer) appendTarget() *Buffer {
	e := b.ext
	if e == nil || len(e.segs) == 0 {
		return b
	}
	if last := &e.segs[len(e.segs)-1]; last.ring != nil {
		return last.ring
	}
	e.segs = append(e.segs, segment{ring: new(Buffer)})
	return e.segs[len(e.segs)-1].ring
}

// pushSeg appends s to the end of b's data. An own ring joins b's ring
// when no segment comes between them.
func (b *Buffer) pushSeg(s segment) {
	if s.ring != nil && !b.hasSegs() {
		if s.ring.n > 0 {
			ringMove(b, s.ring, s.ring.n)
		}
		s.ring.release()
		return
	}
	e := b.extra()
	e.segs = append(e.segs, s)
}

// popSeg removes segs[0] and returns it.
func (e *bufferExt) popSeg() segment {
	s := e.segs[0]
	copy(e.segs, e.segs[1:])
	e.segs[len(e.segs)-1] = segment{}
	e.segs = e.segs[:len(e.segs)-1]
	return s
}

// retire ends a segment whose data has all left: its release function is
// due, and an own ring's storage goes back.
func (e *bufferExt) retire(s segment) {
	if s.ring != nil {
		s.ring.reset()
	}
	if s.rel != nil {
		e.released = append(e.released, s.rel)
	}
}

// dropSegs retires every segment.
func (e *bufferExt) dropSegs() {
	for len(e.segs) > 0 {
		e.retire(e.popSeg())
	}
}

// normalize restores the invariant on bufferExt once data left the front:
// while the ring is empty, an own ring in front becomes the ring, and an
// empty segment in front goes.
func (b *Buffer) normalize() {
	e := b.ext
	for b.n == 0 && len(e.segs) > 0 {
		s := &e.segs[0]
		switch {
		case s.ring != nil:
			r := e.popSeg().ring
			if r.n > 0 {
				ringMove(b, r, r.n)
			}
			r.release()
		case s.n == 0:
			e.retire(e.popSeg())
		default:
			return
		}
	}
}

// drainExt is drain for a buffer with an ext: the ring first, then the
// segments, whose release functions become due as they empty.
func (b *Buffer) drainExt(k int) {
	e := b.ext
	e.deleted += k
	r := min(k, b.n)
	b.advance(r)
	if b.n == 0 {
		b.emptied()
	}
	k -= r
	for k > 0 {
		s := &e.segs[0]
		if l := s.len(); l <= k {
			k -= l
			e.retire(e.popSeg())
			continue
		}
		if s.ring != nil {
			s.ring.drain(k)
		} else {
			s.advance(k)
		}
		k = 0
	}
	b.normalize()
}

// copyOut copies into p[k:] from the segments, k being what the ring gave.
func (e *bufferExt) copyOut(p []byte, k int) (int, error) {
	for i := range e.segs {
		if k == len(p) {
			break
		}
		s := &e.segs[i]
		switch {
		case s.ring != nil:
			s1, s2 := s.ring.data()
			k += copy(p[k:], s1)
			k += copy(p[k:], s2)
		case s.file == nil:
			k += copy(p[k:], s.p)
		default:
			// Through scratch storage: reading into p would make every
			// caller's p escape to the heap (os.File.ReadAt keeps it).
			for skip := 0; skip < s.n && k < len(p); {
				if e.scratch == nil {
					e.scratch = make([]byte, fileChunk)
				}
				c := e.scratch[:min(len(p)-k, s.n-skip, fileChunk)]
				m, err := s.readAt(c, skip)
				k += copy(p[k:], c[:m])
				skip += m
				if err != nil {
					return k, err
				}
			}
		}
	}
	return k, nil
}

// pull moves data from the segments into the ring until the ring holds n
// bytes or all of them: references are copied, file ranges read with
// pread. It returns the error of a file range that cannot be read, which
// stays in front.
func (b *Buffer) pull(n int) error {
	e := b.ext
	for b.n < n && len(e.segs) > 0 {
		s := &e.segs[0]
		want := min(n-b.n, s.len())
		whole := want == s.len()
		switch {
		case s.ring != nil:
			ringMove(b, s.ring, want)
		case s.file == nil:
			ringCopyIn(b, s.p[:want])
		default:
			if err := b.readFile(s, want); err != nil {
				return err
			}
		}
		if whole {
			e.retire(e.popSeg())
		} else if s.ring == nil {
			s.advance(want)
		}
	}
	return nil
}

// pullAll is pull of all the data, for the methods that need it in the
// ring; a file range that cannot be read stays in front.
func (b *Buffer) pullAll() {
	if b.hasSegs() {
		b.pull(b.Len())
		b.settle() // release functions of references now copied
	}
}

// readFile appends the first k bytes of the file range s to b's ring,
// all or nothing.
func (b *Buffer) readFile(s *segment, k int) error {
	putStorage(b.reserve(k))
	s1, s2 := b.space()
	s1, s2 = ringPrefix(s1, s2, k)
	if _, err := s.readAt(s1, 0); err != nil {
		return err
	}
	if _, err := s.readAt(s2, len(s1)); err != nil {
		return err
	}
	b.n += k
	return nil
}

// front returns the first contiguous bytes of the data, to be removed
// with drain: the ring's first part, a reference, or a chunk of a file
// range read into the ring, with the error if that read failed.
func (b *Buffer) front() ([]byte, error) {
	if b.n == 0 && b.hasSegs() {
		s := &b.ext.segs[0] // normalized: a reference or a file range
		if s.file == nil {
			return s.p, nil
		}
		if err := b.pull(min(s.n, fileChunk)); err != nil {
			return nil, err
		}
	}
	s1, _ := b.data()
	return s1, nil
}

// moveToExt is moveTo when either buffer has an ext: ring data is moved
// as ringMove does, whole segments move as they are, and the bytes of a
// segment that n cuts are copied.
func (b *Buffer) moveToExt(dst *Buffer, n int) int {
	n = min(n, b.Len())
	moved := min(n, b.n)
	if moved > 0 {
		ringMove(dst.appendTarget(), b, moved)
	}
	for moved < n {
		s := &b.ext.segs[0]
		k := n - moved
		if l := s.len(); l <= k {
			dst.pushSeg(b.ext.popSeg())
			moved += l
			continue
		}
		switch {
		case s.ring != nil:
			ringMove(dst.appendTarget(), s.ring, k)
		case s.file == nil:
			ringCopyIn(dst.appendTarget(), s.p[:k])
			s.advance(k)
		default:
			if dst.appendTarget().readFile(s, k) != nil {
				n = moved // the error comes back from a method that can return it
				continue
			}
			s.advance(k)
		}
		moved += k
	}
	if b.ext != nil {
		b.normalize()
	}
	b.record(0, moved)
	dst.record(moved, 0)
	return moved
}

// AddReference appends p to the buffer without copying it
// (evbuffer_add_reference). The buffer never writes to p, and the caller
// must not change it until release runs: release (may be nil) runs once,
// after the last byte of p has left the buffer (read, drained, written to
// a descriptor, or Reset) or, when p is moved whole to another buffer
// (AddBuffer, MoveTo, a pair's transfer), has left that one. It runs on
// the goroutine that removed the byte, right after the method that did;
// for a BufferEvent's Input or Output, after the BufferEvent's step that
// did, on the loop's goroutine with no lock held. A buffer dropped without
// being emptied never runs it.
//
// On a socket BufferEvent's Output the bytes are written from p. Methods
// that need the bytes in the ring (Peek over them, Search, ReadLine) copy
// them there. An empty p adds nothing and runs release at once. A frozen
// end is an error (ErrFrozen); release is then not run.
//
// Loop goroutine only for a BufferEvent's buffers, like every Buffer
// method.
func (b *Buffer) AddReference(p []byte, release func()) error {
	if b.frozenBits()&frozenEnd != 0 {
		return ErrFrozen
	}
	if len(p) == 0 {
		if release != nil {
			release()
		}
		return nil
	}
	b.pushSeg(segment{p: p[:len(p):len(p)], n: len(p), rel: release})
	b.record(len(p), 0)
	b.changed(len(p))
	return nil
}

// AddFile appends length bytes of f, from offset, to the buffer without
// reading them (evbuffer_add_file, or evbuffer_file_segment_new with
// evbuffer_add_file_segment). f must be a regular file holding the range
// now; it stays the caller's, who must keep it open and the range
// unchanged until release runs (it may close f there). release (may be
// nil) runs as it does for AddReference: once the last byte of the range
// has left the buffer, or the buffer it was moved to whole.
//
// On a socket BufferEvent's Output, or through WriteFd, the bytes go from
// the file to the descriptor with sendfile(2), never through memory.
// Anywhere else (Read, CopyOut, Peek, MoveTo of part of it, WriteTo, a
// pair end, a filter or TLS BufferEvent) they are read from f with pread
// when needed, and behave as ordinary data. A range that can no longer be
// read (the file shrank) is reported by the first method able to return an
// error; methods that cannot see the data stop before it.
//
// A negative offset or length, a range beyond the end of the file, or a
// frozen end (ErrFrozen) is an error and adds nothing; release is not
// run. A zero length adds nothing and runs release at once.
func (b *Buffer) AddFile(f *os.File, offset, length int64, release func()) error {
	switch {
	case f == nil:
		return errNilFile
	case offset < 0 || length < 0:
		return errNegativeLength
	case b.frozenBits()&frozenEnd != 0:
		return ErrFrozen
	case length > int64(math.MaxInt-b.Len()):
		return errFileRange
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errNotRegular
	}
	if offset > fi.Size() || length > fi.Size()-offset {
		return fmt.Errorf("%w: %d bytes from %d in a file of %d", errFileRange, length, offset, fi.Size())
	}
	if length == 0 {
		if release != nil {
			release()
		}
		return nil
	}
	b.pushSeg(segment{file: f, off: offset, n: int(length), rel: release})
	b.record(int(length), 0)
	b.changed(int(length))
	return nil
}

// Freeze refuses changes at one end of the buffer (evbuffer_freeze): with
// front, removing data (Read, Drain, MoveTo and AddBuffer from it, WriteFd,
// Prepend...); otherwise adding it (Write, ReadFd, AddBuffer and MoveTo
// into it, Reserve, AddReference...). Those methods then return ErrFrozen,
// or fail as their comments say, and change nothing. Looking (Peek,
// Search, CopyOut, Len) stays allowed.
//
// As in libevent, a socket BufferEvent (New, NewSocketPair, NewTLS) and
// both ends of a pair (NewPair) keep their Input's end and their Output's
// front frozen: only the BufferEvent adds to its Input and removes from
// its Output. A filter's buffers are not frozen.
func (b *Buffer) Freeze(front bool) { b.setFrozen(b.frozenBits() | freezeBit(front)) }

// Unfreeze allows changes at the end Freeze refused (evbuffer_unfreeze).
func (b *Buffer) Unfreeze(front bool) { b.setFrozen(b.frozenBits() &^ freezeBit(front)) }

// Frozen reports whether that end of the buffer is frozen.
func (b *Buffer) Frozen(front bool) bool { return b.frozenBits()&freezeBit(front) != 0 }

func freezeBit(front bool) uint8 {
	if front {
		return frozenFront
	}
	return frozenEnd
}

// BufferCBInfo describes a change to a Buffer, for its callbacks
// (struct evbuffer_cb_info): the length before it, and the bytes it added
// and removed.
type BufferCBInfo struct {
	OrigSize int // orig_size
	Added    int // n_added
	Deleted  int // n_deleted
}

// BufferCB is a callback added to a Buffer (struct evbuffer_cb_entry).
type BufferCB struct {
	b        *Buffer // nil once removed
	fn       func(*Buffer, BufferCBInfo)
	disabled bool
}

// AddCallback adds fn to the functions run after every change to the
// buffer's contents (evbuffer_add_cb), enabled. Callbacks are immediate,
// as libevent's are unless deferred: fn runs before the method that made
// the change returns, on its goroutine, once per method, with the length
// before the change and what it added and removed. For a BufferEvent's
// Input and Output, changes the BufferEvent makes itself (reading from and
// writing to its socket, a pair's transfer, Write and Read of the
// BufferEvent) are reported after its step, on the loop's goroutine with
// no lock held, before its own read, write or event callback, with what
// changed since the last report.
//
// Callbacks run newest first. fn may change the buffer (its callbacks
// then run again, nested, as in libevent), and may remove or disable any
// callback, itself included: a callback removed or disabled while
// callbacks run is not called afterwards. A nil fn is an error.
func (b *Buffer) AddCallback(fn func(*Buffer, BufferCBInfo)) (*BufferCB, error) {
	if fn == nil {
		return nil, errNilCallback
	}
	cb := &BufferCB{b: b, fn: fn}
	e := b.extra()
	e.cbs = append(e.cbs, cb)
	return cb, nil
}

// Remove takes the callback off its buffer (evbuffer_remove_cb_entry, or
// evbuffer_remove_cb); it is not called afterwards, even by a run in
// progress. Removing it again is an error.
func (cb *BufferCB) Remove() error {
	if cb == nil {
		return errNilBufferCB
	}
	if cb.b == nil {
		return errCallbackGone
	}
	e := cb.b.ext
	cb.b = nil
	if e.running > 0 {
		e.gone = true
		return nil
	}
	e.compact()
	return nil
}

// Enable lets the callback run again after Disable
// (evbuffer_cb_set_flags(buf, cb, EVBUFFER_CB_ENABLED)).
func (cb *BufferCB) Enable() error { return cb.setDisabled(false) }

// Disable keeps the callback from running until Enable
// (evbuffer_cb_clear_flags(buf, cb, EVBUFFER_CB_ENABLED)); changes made
// meanwhile are not reported to it later.
func (cb *BufferCB) Disable() error { return cb.setDisabled(true) }

func (cb *BufferCB) setDisabled(d bool) error {
	if cb == nil {
		return errNilBufferCB
	}
	if cb.b == nil {
		return errCallbackGone
	}
	cb.disabled = d
	return nil
}

// compact takes removed callbacks out of the list.
func (e *bufferExt) compact() {
	live := e.cbs[:0]
	for _, cb := range e.cbs {
		if cb.b != nil {
			live = append(live, cb)
		}
	}
	clear(e.cbs[len(live):])
	e.cbs = live
	e.gone = false
}

// due is what a buffer's changes left to run: release functions and one
// report to the callbacks.
type due struct {
	released []func()
	info     BufferCBInfo
	report   bool
}

// takeDue returns what is due and forgets it. The caller runs it with
// run, with no lock held.
func (b *Buffer) takeDue() due {
	e := b.ext
	if e == nil {
		return due{}
	}
	d := due{released: e.released}
	e.released = nil
	if (e.added != 0 || e.deleted != 0) && len(e.cbs) > 0 {
		d.report = true
		d.info = BufferCBInfo{OrigSize: b.Len() - e.added + e.deleted, Added: e.added, Deleted: e.deleted}
	}
	e.added, e.deleted = 0, 0
	return d
}

// run runs the release functions, then the callbacks.
func (d due) run(b *Buffer) {
	for _, fn := range d.released {
		fn()
	}
	if !d.report {
		return
	}
	e := b.ext
	e.running++
	for i := len(e.cbs) - 1; i >= 0; i-- {
		if cb := e.cbs[i]; cb.b != nil && !cb.disabled {
			cb.fn(b, d.info)
		}
	}
	e.running--
	if e.running == 0 && e.gone {
		e.compact()
	}
}

// settle runs what b's changes left due; b has an ext.
func (b *Buffer) settle() {
	if e := b.ext; e.released != nil || e.added != 0 || e.deleted != 0 {
		b.takeDue().run(b)
	}
}

// settleBuffers runs what changes the BufferEvent made to its buffers
// left due (see AddCallback). Every entry point from the loop runs it,
// with no lock held, before the BufferEvent's own callbacks. The buffers'
// ext is set only on the loop's goroutine, which this is.
func (bev *BufferEvent) settleBuffers() {
	b := bev.bufs.Load()
	if b == nil || b.input.ext == nil && b.output.ext == nil {
		return
	}
	bev.mu.Lock()
	in, out := b.input.takeDue(), b.output.takeDue()
	bev.mu.Unlock()
	in.run(&b.input)
	out.run(&b.output)
}
