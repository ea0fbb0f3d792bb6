package bufferevent

import (
	"github.com/levent-go/levent/event"
)

// A BufferEvent without a descriptor of its own, an end of an in-memory
// pair (NewPair) or a filter (NewFilter), moves data with loop work
// instead of socket I/O: whatever could make data move (a Write, Output
// filled by a callback, Enable, Input drained below the read high
// watermark, new watermarks) queues the flush kind of runQueued
// (bsFlushQueued), and that flush, on the loop, moves what the enabled
// directions and the watermarks allow: pairLink.sync for a pair end,
// filterState.step for a filter. Data therefore moves in the loop
// iteration after the call that made it movable, never inside the call:
// Write does not run callbacks, and two ends that answer each other
// cannot recurse, whatever the options.
//
// Their timeouts are libevent's generic ones: rev, bound to no descriptor,
// is the read timer, pending (bsReading) while reading is enabled and not
// suspended, and restarted whenever data comes into Input; wev, made on
// first need, is the write timer, pending (bsWriting) while Output holds
// data that writing is enabled for, and restarted whenever some of it
// moves on.

// newFdless returns a BufferEvent on no descriptor whose read event is its
// read timer; the caller sets ext.pair or ext.filt before handing it out.
func newFdless(b *event.Base, opts Options) (*BufferEvent, error) {
	bev, err := New(b, -1, opts)
	if err != nil {
		return nil, err
	}
	if err := bev.rev.Assign(b, -1, 0, bev.onReadTimer); err != nil {
		return nil, err
	}
	bev.ext = &bevExt{}
	bev.buffers().input.setFrozen(0) // as bufferevent_filter_new; NewPair freezes its ends again
	bev.buffers().output.setFrozen(0)
	return bev, nil
}

// fdlessLocked reports whether bev is a pair end or a filter.
func (bev *BufferEvent) fdlessLocked() bool {
	return bev.ext != nil && (bev.ext.pair != nil || bev.ext.filt != nil)
}

// pairLocked is a pair end's link; nil on any other BufferEvent.
func (bev *BufferEvent) pairLocked() *pairLink {
	if bev.ext == nil {
		return nil
	}
	return bev.ext.pair
}

// filterLocked is a filter's state; nil on any other BufferEvent.
func (bev *BufferEvent) filterLocked() *filterState {
	if bev.ext == nil {
		return nil
	}
	return bev.ext.filt
}

// fdlessStartReadingLocked is startReadingLocked without a descriptor:
// reading that becomes possible asks for a flush, which brings in what
// waits (the partner's Output, the underlying's Input), and starts the
// read timer. It returns the loop's refusal of the flush.
func (bev *BufferEvent) fdlessStartReadingLocked() error {
	if bev.enabled&event.Read == 0 || bev.work&bsSuspended != 0 {
		return nil
	}
	bev.armReadTimerLocked()
	return bev.queueLocked(bsFlushQueued)
}

// fdlessScheduleFlushLocked is scheduleFlushLocked without a descriptor:
// Output waiting with writing enabled asks for a flush and starts the
// write timer, unless it already runs (progress restarts it, new data does
// not).
func (bev *BufferEvent) fdlessScheduleFlushLocked() error {
	if bev.out().Len() == 0 || bev.enabled&event.Write == 0 {
		return nil
	}
	if bev.work&bsWriting == 0 {
		bev.armWriteTimerLocked()
	}
	return bev.queueLocked(bsFlushQueued)
}

// armReadTimerLocked (re)starts the read timer if a read timeout is set
// and reading is enabled and not suspended, and stops it otherwise.
func (bev *BufferEvent) armReadTimerLocked() {
	if bev.rtimeout == 0 || bev.enabled&event.Read == 0 || bev.work&bsSuspended != 0 || bev.life == lsFreed {
		bev.stopReadingLocked()
		return
	}
	if bev.rev.Add(bev.rtimeout) == nil { // refused only by a closed base, which runs nothing more
		bev.work |= bsReading
	}
}

// armWriteTimerLocked (re)starts the write timer if a write timeout is set
// and Output holds data that writing is enabled for, and stops it
// otherwise.
func (bev *BufferEvent) armWriteTimerLocked() {
	if bev.wtimeout == 0 || bev.enabled&event.Write == 0 || bev.out().Len() == 0 || bev.life == lsFreed {
		bev.stopWritingLocked()
		return
	}
	if bev.wev == nil {
		ev := new(writeEv)
		if ev.Assign(bev.base, -1, 0, bev.onWriteTimer) != nil {
			return // a closed base
		}
		bev.wev = ev
	}
	if bev.wev.Add(bev.wtimeout) == nil {
		bev.work |= bsWriting
	}
}

// fdlessRearmLocked applies new timeouts (SetTimeouts), from any
// goroutine: the read timer at once; the write timer runs only while
// Output holds data, which only the loop may look at, so it stops here
// and the loop starts it again with the new timeout if Output holds data
// (recheckLocked), as a restart would.
func (bev *BufferEvent) fdlessRearmLocked() error {
	bev.armReadTimerLocked()
	bev.stopWritingLocked()
	return bev.queueLocked(bsCheckQueued)
}

// onReadTimer handles the read timer: nothing came into Input for the
// read timeout. As for a socket, reading is disabled and Reading|Timeout
// reported; a filter stops its underlying's reading too.
func (bev *BufferEvent) onReadTimer(int, event.Flag) { bev.timerFired(bsReading, event.Read) }

// onWriteTimer handles the write timer: Output made no progress for the
// write timeout. Writing is disabled and Writing|Timeout reported.
func (bev *BufferEvent) onWriteTimer(int, event.Flag) { bev.timerFired(bsWriting, event.Write) }

// timerFired is the transition for the timer of dir, whose pending bit is
// bit.
func (bev *BufferEvent) timerFired(bit uint16, dir event.Flag) {
	bev.mu.Lock()
	if bev.life == lsFreed || bev.work&bit == 0 {
		bev.mu.Unlock()
		return
	}
	bev.work &^= bit
	bev.enabled &^= dir
	what := Writing | Timeout
	if dir == event.Read {
		what = Reading | Timeout
	}
	c := bev.eventCallsLocked(what)
	f := bev.filterLocked()
	bev.mu.Unlock()
	if f != nil && dir == event.Read {
		f.under.Disable(event.Read)
	}
	c.run(bev)
}

// fdlessFlush runs the flush runQueued was asked for on a pair end or a
// filter.
func (bev *BufferEvent) fdlessFlush() {
	bev.mu.Lock()
	if bev.work&bsFlushQueued == 0 || bev.life == lsFreed {
		bev.mu.Unlock()
		return
	}
	bev.work &^= bsFlushQueued
	p, f := bev.pairLocked(), bev.filterLocked()
	if p != nil {
		bev.mu.Unlock()
		p.sync(bev)
		return
	}
	what, mode := f.queuedLocked()
	bev.mu.Unlock()
	if mode == FlushNormal {
		f.step(bev, mode, what)
	} else {
		f.flush(bev, what, mode)
	}
}

// runDue runs on bev the callbacks c marks as due, read again under bev's
// lock at that moment: a callback of another BufferEvent that ran before
// (the pair's other end, a filter's underlying) may have freed bev or
// replaced its callbacks. With the read callback, what it writes is
// flushed when it returns, as after a socket read.
func (bev *BufferEvent) runDue(c calls) {
	if c.read == nil && c.write == nil && c.what == 0 {
		bev.settleBuffers() // a step that calls nobody may still have released a reference
		return
	}
	bev.mu.Lock()
	if bev.life == lsFreed {
		bev.mu.Unlock()
		return
	}
	if c.read != nil {
		if c.read = bev.readcb; c.read != nil {
			bev.work |= bsInCallback
		}
	}
	if c.write != nil {
		c.write = bev.writecb
	}
	c.event = nil
	if c.what != 0 {
		c.event = bev.eventcb
	}
	bev.mu.Unlock()
	c.runAll(bev)
}

// readDueLocked calls for the read callback after data came into Input,
// or records it as due with DeferCallbacks.
func (bev *BufferEvent) readDueLocked() calls {
	if bev.readcb == nil || bev.in().Len() < max(int(bev.rlow), 1) {
		return calls{}
	}
	return bev.dispatchLocked(calls{read: bev.readcb})
}
