package bufferevent

import (
	"sync"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
)

// pairLink joins the two ends of an in-memory pair (bufferevent_pair.c).
// Data moves from one end's Output straight into the other's Input, by
// moving the ring's storage when Input is empty, so nothing is copied in
// an echo.
//
// Locks: an end's methods take its own mu only, as any BufferEvent's do.
// Whatever needs both ends (moving data, Free's unlinking, FlushWith,
// Partner) takes mu first, then the ends' locks:
//
//	pairLink.mu → ends' BufferEvent.mu (either, or both) → Base's lock
//
// This cannot deadlock: a goroutine holding an end's lock never waits for
// pairLink.mu, nor for the other end's lock unless it holds pairLink.mu,
// and only one goroutine at a time holds that; nothing waits for a
// BufferEvent's lock while holding the Base's, and no callback or filter
// function runs with any of them held.
type pairLink struct {
	mu   sync.Mutex
	ends [2]*BufferEvent // guarded by mu; an end is nil once it is freed
}

// NewPair returns the two ends of an in-memory pair (bufferevent_pair_new):
// what one writes lands in the other's Input, moved by the loop with no
// descriptor and no system call. Each end behaves as a socket BufferEvent:
// writing is enabled and reading is not; data moves while the writer's
// writing and the reader's reading are enabled, and stops while the
// reader's Input holds its read high watermark, as libevent's be_pair
// does; callbacks, DeferCallbacks, watermarks, timeouts (as libevent's
// generic ones: the read timeout passes when nothing comes for that long,
// the write timeout when Output makes no progress) and Trigger work as on
// a socket. Data moves in the loop iteration after the Write (or other
// call) that made it movable, not inside that call: a Write never runs
// callbacks, which is why, unlike libevent, a pair does not need
// DeferCallbacks to keep two ends that answer each other from recursing.
//
// Freeing an end hands the other what it can take of the freed end's
// Output, then the other reads the end of the stream (Reading|EOF) as it
// would a closed socket's, once its reading is enabled and below its
// high watermark. libevent reports nothing there: use FlushWith with
// FlushFinished for the same report from a live end. Fd returns -1, and
// CloseOnFree has nothing to close. Safe from any goroutine.
//
// Use NewPair to connect two parts of a program through the BufferEvent
// API (a test's client and server, a filter's test double, a producer and
// a consumer on one loop); use NewSocketPair when something must see a
// descriptor (a child process, or code that watches the fd).
func NewPair(b *event.Base, opts Options) (*BufferEvent, *BufferEvent, error) {
	if b == nil {
		return nil, nil, event.ErrNilBase
	}
	x, err := newFdless(b, opts)
	if err != nil {
		return nil, nil, err
	}
	y, err := newFdless(b, opts)
	if err != nil {
		x.Free()
		return nil, nil, err
	}
	for _, end := range []*BufferEvent{x, y} { // as bufferevent_pair_new: see Freeze
		end.buffers().input.setFrozen(frozenEnd)
		end.buffers().output.setFrozen(frozenFront)
	}
	p := &pairLink{ends: [2]*BufferEvent{x, y}}
	x.ext.pair, y.ext.pair = p, p
	return x, y, nil
}

// NewSocketPair returns two BufferEvents connected to each other through
// a Unix socket pair: what one writes, the other reads, through the
// kernel. Both own their descriptors and close them on Free, whatever
// opts says. It costs two system calls per message more than NewPair; use
// it when a descriptor must exist. Safe from any goroutine.
func NewSocketPair(b *event.Base, opts Options) (*BufferEvent, *BufferEvent, error) {
	if b == nil {
		return nil, nil, event.ErrNilBase
	}
	fds, err := sockPair()
	if err != nil {
		return nil, nil, err
	}
	x, err := New(b, fds[0], opts|CloseOnFree)
	if err != nil {
		sock.Close(fds[0])
		sock.Close(fds[1])
		return nil, nil, err
	}
	y, err := New(b, fds[1], opts|CloseOnFree)
	if err != nil {
		x.Free()
		sock.Close(fds[1])
		return nil, nil, err
	}
	return x, y, nil
}

// Partner returns the other end of an in-memory pair
// (bufferevent_pair_get_partner): nil once that end is freed, and nil on
// a BufferEvent that is not a pair end (a socket pair's ends included).
// Safe from any goroutine.
func (bev *BufferEvent) Partner() *BufferEvent {
	p := bev.lockWithPair()
	var other *BufferEvent
	if p != nil {
		other = p.otherLocked(bev)
	}
	bev.mu.Unlock()
	p.unlock()
	return other
}

// lockWithPair locks bev.mu and, for a pair end, the pair's lock before
// it, so that the partner's lock may be taken too. It returns the pair,
// nil if bev is not a pair end.
func (bev *BufferEvent) lockWithPair() *pairLink {
	bev.mu.Lock()
	p := bev.pairLocked()
	if p == nil {
		return nil
	}
	bev.mu.Unlock()
	p.mu.Lock()
	bev.mu.Lock()
	return p
}

// unlock releases the pair's lock; nothing for no pair.
func (p *pairLink) unlock() {
	if p != nil {
		p.mu.Unlock()
	}
}

// otherLocked is bev's partner, nil if either is freed.
func (p *pairLink) otherLocked(bev *BufferEvent) *BufferEvent {
	switch bev {
	case p.ends[0]:
		return p.ends[1]
	case p.ends[1]:
		return p.ends[0]
	}
	return nil
}

// unlinkLocked is Free's part for a pair end, with p.mu and bev.mu held
// (nothing for a nil p): the partner takes what it can of bev's Output,
// as libevent's eager transfer would have given it, and learns of the end
// of the stream. It returns the partner, locked, or nil.
func (p *pairLink) unlinkLocked(bev *BufferEvent) *BufferEvent {
	if p == nil {
		return nil
	}
	other := p.otherLocked(bev)
	if p.ends[0] == bev {
		p.ends[0] = nil
	} else if p.ends[1] == bev {
		p.ends[1] = nil
	}
	if other == nil {
		return nil
	}
	other.mu.Lock()
	_, c := pairMoveLocked(bev, other, false)
	other.ext.pairEOF = true
	c.what |= other.pairEOFLocked()
	if c.what != 0 {
		c.event = other.eventcb
	}
	// Free may run on any goroutine: the partner's callbacks run from
	// the loop.
	other.deferLocked(c)
	return other
}

// pairEOFLocked reports the freed partner's end of the stream, if it is
// due and reading can take it (enabled, below the high watermark): reading
// turns off, as at a socket's end. It returns what to report.
func (bev *BufferEvent) pairEOFLocked() What {
	if !bev.ext.pairEOF || bev.enabled&event.Read == 0 || bev.work&bsSuspended != 0 {
		return 0
	}
	bev.ext.pairEOF = false
	bev.enabled &^= event.Read
	bev.stopReadingLocked()
	return Reading | EOF
}

// lockEndsLocked locks the live ends (p.mu held) and returns them; a
// freed end is nil.
func (p *pairLink) lockEndsLocked() (a, b *BufferEvent) {
	a, b = p.ends[0], p.ends[1]
	if a != nil {
		a.mu.Lock()
	}
	if b != nil {
		b.mu.Lock()
	}
	return a, b
}

func unlockEnds(a, b *BufferEvent) {
	if b != nil {
		b.mu.Unlock()
	}
	if a != nil {
		a.mu.Unlock()
	}
}

// sync is a pair end's flush, on the loop: it moves what can move in both
// directions, reports a freed partner's end of the stream when it can,
// then runs the callbacks that calls for, the reader's first.
func (p *pairLink) sync(from *BufferEvent) {
	p.mu.Lock()
	a, b := p.lockEndsLocked()
	var ca, cb calls
	if a != nil && b != nil {
		wa, rb := pairMoveLocked(a, b, false)
		wb, ra := pairMoveLocked(b, a, false)
		ca, cb = wa.merge(ra), wb.merge(rb)
	}
	ca = ca.merge(eofCallsLocked(a))
	cb = cb.merge(eofCallsLocked(b))
	unlockEnds(a, b)
	p.mu.Unlock()
	// The reader of what moved runs first, as be_pair_transfer
	// triggers the reader before the writer; with data moving both ways,
	// from's partner (the reader of what from wrote).
	if cb.read != nil && ca.read == nil || (cb.read == nil) == (ca.read == nil) && from == a {
		a, b, ca, cb = b, a, cb, ca
	}
	if a != nil {
		a.runDue(ca)
	}
	if b != nil {
		b.runDue(cb)
	}
}

// eofCallsLocked calls for a live end's report of its partner's end.
func eofCallsLocked(bev *BufferEvent) calls {
	if bev == nil {
		return calls{}
	}
	if what := bev.pairEOFLocked(); what != 0 {
		return bev.eventCallsLocked(what)
	}
	return calls{}
}

// flush is FlushWith on the pair end bev.
func (p *pairLink) flush(bev *BufferEvent, what event.Flag, mode FlushMode) error {
	p.mu.Lock()
	bev.mu.Lock()
	other := p.otherLocked(bev)
	switch {
	case bev.life == lsFreed:
		bev.mu.Unlock()
		p.mu.Unlock()
		return ErrFreed
	case other == nil:
		bev.mu.Unlock()
		p.mu.Unlock()
		return ErrNoPartner
	}
	other.mu.Lock()
	force := mode != FlushNormal
	var cb, co calls
	if what&event.Read != 0 {
		wo, rb := pairMoveLocked(other, bev, force)
		cb, co = cb.merge(rb), co.merge(wo)
	}
	if what&event.Write != 0 {
		wb, ro := pairMoveLocked(bev, other, force)
		cb, co = cb.merge(wb), co.merge(ro)
	}
	if mode == FlushFinished {
		end := EOF
		if what&event.Read != 0 {
			end |= Writing
		}
		if what&event.Write != 0 {
			end |= Reading
		}
		co = co.merge(other.eventCallsLocked(end))
	}
	other.mu.Unlock()
	bev.mu.Unlock()
	p.mu.Unlock()
	other.runDue(co)
	bev.runDue(cb)
	return nil
}

// pairMoveLocked moves src's Output into dst's Input (be_pair_transfer),
// both locked: if src's writing and dst's reading are enabled and dst is
// below its read high watermark, up to that watermark; with force, all of
// it whatever the watermarks and the enabled directions. It returns the
// callbacks that calls for on each side: dst's read callback, src's write
// callback once Output drained to its low watermark (or nothing, recorded
// as due, with DeferCallbacks). Both timers restart on progress.
func pairMoveLocked(src, dst *BufferEvent, force bool) (srcCalls, dstCalls calls) {
	n := src.out().Len()
	if n == 0 {
		return
	}
	if !force {
		if src.enabled&event.Write == 0 || dst.enabled&event.Read == 0 || dst.work&bsSuspended != 0 {
			return
		}
		if dst.rhigh > 0 {
			room := int(dst.rhigh) - dst.in().Len()
			if room <= 0 {
				// A high watermark set from another goroutine is
				// checked against Input on the loop, maybe after this.
				dst.suspendLocked()
				return
			}
			n = min(n, room)
		}
	}
	k := src.buffers().output.moveTo(&dst.buffers().input, n)
	if k == 0 {
		return
	}
	if dst.rhigh > 0 && dst.in().Len() >= int(dst.rhigh) {
		dst.suspendLocked()
	}
	dst.armReadTimerLocked()
	src.armWriteTimerLocked()
	dstCalls = dst.readDueLocked()
	if src.writecb != nil && src.out().Len() <= int(src.wlow) {
		srcCalls = src.dispatchLocked(calls{write: src.writecb})
	}
	return
}
