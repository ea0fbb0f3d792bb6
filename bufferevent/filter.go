package bufferevent

import (
	"errors"
	"fmt"

	"github.com/levent-go/levent/event"
)

// FilterResult is what a FilterFunc returns, with the values of libevent's
// enum bufferevent_filter_result.
type FilterResult int

const (
	// FilterOK means the filter wrote something to dst (BEV_OK).
	FilterOK FilterResult = 0
	// FilterNeedMore means the filter needs more input before it can
	// write anything to dst (BEV_NEED_MORE).
	FilterNeedMore FilterResult = 1
	// FilterError means the data cannot be filtered (BEV_ERROR): the
	// direction turns off and Reading|Error or Writing|Error is reported,
	// with Err returning ErrFilter.
	FilterError FilterResult = 2
)

// ErrFilter is Err after a FilterFunc returned FilterError, and what Write
// returns after the output filter did.
var ErrFilter = errors.New("bufferevent: the filter returned FilterError")

// FilterFunc transforms data (libevent's bufferevent_filter_cb): it takes
// what it can from the front of src, appends its result to dst, and says
// how it went. limit, when above 0, is how many bytes dst should take at
// most before it reaches its high watermark (dst_limit); 0 means no
// limit (libevent's -1). mode is FlushNormal as data comes and goes;
// FlushFlush asks for everything held back, and FlushFinished says no
// more input will come, so that a compressor writes its end.
//
// It runs on the loop's goroutine with no lock held, like a callback.
// src and dst are its for the duration of the call, and it may call any
// method of the filter or of the underlying BufferEvent (Write, Free):
// data written to the filter meanwhile waits for the next run, and a
// FlushWith asked for meanwhile runs later, never nested.
type FilterFunc func(src, dst *Buffer, limit int, mode FlushMode) FilterResult

// filterState is what a filter (NewFilter) holds besides a BufferEvent's
// buffers. The filter owns its underlying BufferEvent's callbacks and
// buffers: the input filter reads the underlying's Input, the output
// filter writes its Output, both on the loop's goroutine, which is the
// only one using them.
//
// Locks: the filter's functions run with no lock held. The filter's own
// Input and Output are shared with other goroutines (Write, Read), so
// the input filter writes to inStage, appended to Input under the lock
// afterwards, and the output filter reads outStage, into which Output is
// moved under the lock first; what it leaves goes back to the front of
// Output. Moving storage between empty rings copies nothing. The
// filter's lock and the underlying's are never held together: the filter
// never calls into the underlying with its own lock held, and the
// underlying runs the filter's handlers as callbacks, with none held.
type filterState struct {
	under             *BufferEvent
	in, out           FilterFunc
	free              func() // freeContext, run once on the loop after Free
	inStage, outStage Buffer
	busy              bool // a filter function runs: a step asked for meanwhile is queued (under the filter's mu)
	// A FlushWith asked for while busy, run by the queued flush (under
	// the filter's mu): the directions, and the strongest mode.
	pendWhat event.Flag
	pendMode FlushMode
	// closing is a freed TLS filter's close_notify, on its way from Free
	// (under the filter's lock) to the underlying's Output (release,
	// with no lock held). Only those two touch it, one after the other.
	closing Buffer
	// givenBack is set by release, under the underlying's lock, before
	// it gives the underlying back: from then on the filter no longer
	// turns the underlying's reading on or off (setUnderReading), which
	// a step or an Enable that began before Free would otherwise do
	// after release enabled it.
	givenBack bool
}

// underReadingHook, when set by a test, runs in setUnderReading before
// the underlying's lock is taken: where a Free on another goroutine may
// come in.
var underReadingHook func()

// setUnderReading turns the underlying's reading on or off for the
// filter, unless release has given it back meanwhile; down a chain of
// filters, each underlying is told in turn, never with two locks held.
func (f *filterState) setUnderReading(on bool) error {
	if underReadingHook != nil {
		underReadingHook()
	}
	u := f.under
	u.mu.Lock()
	if f.givenBack {
		u.mu.Unlock()
		return nil
	}
	var next *filterState
	var err error
	if on {
		if err = u.enableLocked(event.Read); err == nil {
			next = u.filterLocked()
		}
	} else {
		next, err = u.disableLocked(event.Read)
	}
	u.mu.Unlock()
	if next != nil {
		return next.setUnderReading(on)
	}
	return err
}

// NewFilter returns a BufferEvent that filters the data of underlying
// (bufferevent_filter_new): what underlying reads goes through inFilter
// into the filter's Input, and what is written to the filter goes through
// outFilter into underlying's Output. A nil filter passes data through
// unchanged, respecting limit. The filter takes over underlying's
// callbacks: its read and write callbacks drive the filters, and every
// condition underlying reports (EOF, Error, Timeout, Connected) goes on
// to the filter's event callback unchanged, with the filter's Err giving
// underlying's error. Use only the filter from then on.
//
// The filter's Input has its own watermarks: the input filter stops
// while Input holds the read high watermark, and limit tells it how much
// room is left; the output filter stops while underlying's Output holds
// underlying's write high watermark (SetWatermark(event.Write, low,
// high) on underlying), and limit is the room below it. Enabling reading
// on the filter enables it on underlying, and disabling it disables it
// there. With CloseOnFree, freeing the filter frees underlying; without
// it, underlying is given back with no callbacks and reading enabled, as
// libevent does. freeContext, if not nil, runs once on the loop's
// goroutine after the filter is freed (libevent's free_context), when no
// filter function runs any more.
//
// As on an in-memory pair, the filters run in the loop iteration after
// the call that gave them data, and Fd returns underlying's descriptor.
// Safe from any goroutine.
func NewFilter(underlying *BufferEvent, inFilter, outFilter FilterFunc, opts Options, freeContext func()) (*BufferEvent, error) {
	if underlying == nil {
		return nil, errors.New("bufferevent: NewFilter with a nil underlying BufferEvent")
	}
	underlying.mu.Lock()
	freed := underlying.life == lsFreed
	underlying.mu.Unlock()
	if freed {
		return nil, fmt.Errorf("bufferevent: NewFilter: underlying: %w", ErrFreed)
	}
	if inFilter == nil {
		inFilter = passThrough
	}
	if outFilter == nil {
		outFilter = passThrough
	}
	bev, err := newFdless(underlying.base, opts)
	if err != nil {
		return nil, err
	}
	f := &filterState{under: underlying, in: inFilter, out: outFilter, free: freeContext}
	bev.ext.filt = f
	underlying.SetCallbacks(
		func(*BufferEvent) { f.step(bev, FlushNormal, event.Read) },
		func(*BufferEvent) { f.step(bev, FlushNormal, event.Write) },
		func(u *BufferEvent, what What) { f.passEvent(bev, what) })
	if err := underlying.Enable(event.Write); err != nil {
		bev.Free()
		return nil, err
	}
	// Reading starts when the filter's does, as libevent suspends the
	// underlying's until then.
	f.setUnderReading(false)
	return bev, nil
}

// passThrough is the filter used for a nil FilterFunc (be_null_filter).
func passThrough(src, dst *Buffer, limit int, _ FlushMode) FilterResult {
	n := src.Len()
	if limit > 0 {
		n = min(n, limit)
	}
	src.MoveTo(dst, n)
	return FilterOK
}

// Underlying returns the BufferEvent a filter works on
// (bufferevent_get_underlying); nil for any other BufferEvent. Safe from
// any goroutine.
func (bev *BufferEvent) Underlying() *BufferEvent {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if f := bev.filterLocked(); f != nil {
		return f.under
	}
	return nil
}

// passEvent hands a condition the underlying reported to the filter's
// event callback (be_filter_eventcb).
func (f *filterState) passEvent(bev *BufferEvent, what What) {
	var uerr error
	if what&Error != 0 {
		uerr = f.under.Err()
	}
	bev.mu.Lock()
	if bev.life == lsFreed {
		bev.mu.Unlock()
		return
	}
	if uerr != nil {
		bev.setErrLocked(uerr)
	}
	c := bev.eventCallsLocked(what)
	bev.mu.Unlock()
	c.run(bev)
}

// step runs the input filter (what has event.Read) and the output filter
// (event.Write) with mode, on the loop, then the filter's callbacks that
// calls for.
func (f *filterState) step(bev *BufferEvent, mode FlushMode, what event.Flag) {
	if t := bev.ext.tls; t != nil { // set before the filter was handed out
		f.tlsStep(bev, t)
		return
	}
	var c calls
	if what&event.Read != 0 {
		c = f.input(bev, mode)
	}
	if what&event.Write != 0 {
		c = c.merge(f.output(bev, mode))
	}
	bev.runDue(c)
}

// queuedLocked is what the queued flush of the filter bev runs: a
// FlushWith asked for while a filter function ran, or a plain step.
func (f *filterState) queuedLocked() (what event.Flag, mode FlushMode) {
	what, mode = f.pendWhat, f.pendMode
	f.pendWhat, f.pendMode = 0, FlushNormal
	if what == 0 {
		return event.Read | event.Write, FlushNormal
	}
	return what, mode
}

// flush is FlushWith on the filter bev: its filters with mode, then the
// underlying's flush (be_filter_flush).
func (f *filterState) flush(bev *BufferEvent, what event.Flag, mode FlushMode) error {
	f.step(bev, mode, what)
	uerr := f.under.FlushWith(what, mode)
	bev.mu.Lock()
	err := bev.writeErr()
	bev.mu.Unlock()
	if err != nil {
		return err
	}
	return uerr
}

// inputFullLocked reports whether the filter's Input, with what the input
// filter has made and not yet delivered, holds the read high watermark,
// in FlushNormal only (be_readbuf_full).
func (f *filterState) inputFullLocked(bev *BufferEvent, mode FlushMode) bool {
	return mode == FlushNormal && bev.rhigh > 0 && bev.in().Len()+f.inStage.Len() >= int(bev.rhigh)
}

// inLimitLocked is the input filter's limit: the room below the read high
// watermark in FlushNormal, 0 (none) otherwise.
func (f *filterState) inLimitLocked(bev *BufferEvent, mode FlushMode) int {
	if mode != FlushNormal || bev.rhigh == 0 {
		return 0
	}
	return int(bev.rhigh) - bev.in().Len() - f.inStage.Len()
}

// beginLocked starts a run of a filter function unless bev is freed or
// the run has nothing to do (idle); while another run is under way (a
// filter function called FlushWith) it queues the run for later instead
// of nesting it.
func (f *filterState) beginLocked(bev *BufferEvent, idle bool, dir event.Flag, mode FlushMode) bool {
	switch {
	case bev.life == lsFreed || idle:
		return false
	case f.busy:
		if mode != FlushNormal {
			f.pendWhat |= dir
			f.pendMode = max(f.pendMode, mode)
		}
		bev.queueLocked(bsFlushQueued) // refused only by a closed base
		return false
	}
	f.busy = true
	return true
}

// endLocked ends the run; if bev was freed meanwhile it drops stage and
// returns false.
func (f *filterState) endLocked(bev *BufferEvent, stage *Buffer) bool {
	f.busy = false
	if bev.life == lsFreed {
		stage.reset()
		return false
	}
	return true
}

// input runs the input filter over the underlying's Input
// (be_filter_process_input) and returns the callbacks that calls for.
func (f *filterState) input(bev *BufferEvent, mode FlushMode) calls {
	src := &f.under.buffers().input
	bev.mu.Lock()
	idle := mode == FlushNormal && (bev.enabled&event.Read == 0 || f.inputFullLocked(bev, mode))
	if !f.beginLocked(bev, idle, event.Read, mode) {
		bev.mu.Unlock()
		return calls{}
	}
	limit := f.inLimitLocked(bev, mode)
	bev.mu.Unlock()
	processed := false
	var res FilterResult
	for {
		before := src.Len() + f.inStage.Len()
		res = f.in(src, &f.inStage, limit, mode)
		if res == FilterOK {
			processed = true
		}
		if res != FilterOK || src.Len() == 0 || src.Len()+f.inStage.Len() == before {
			break // failed, done, or a filter that takes nothing: do not spin
		}
		bev.mu.Lock()
		more := bev.life != lsFreed && bev.enabled&event.Read != 0 && !f.inputFullLocked(bev, mode)
		limit = f.inLimitLocked(bev, mode)
		bev.mu.Unlock()
		if !more {
			break
		}
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if !f.endLocked(bev, &f.inStage) {
		return calls{}
	}
	bev.buffers().input.addBuffer(&f.inStage)
	var c calls
	if processed {
		if bev.rhigh > 0 && bev.in().Len() >= int(bev.rhigh) {
			// Draining Input below the mark resumes the filter, which
			// takes what waits in the underlying's Input.
			bev.suspendLocked()
		}
		bev.armReadTimerLocked()
		c = bev.readDueLocked()
	}
	if res == FilterError {
		bev.setErrLocked(ErrFilter)
		bev.enabled &^= event.Read
		bev.stopReadingLocked()
		c = c.merge(bev.eventCallsLocked(Reading | Error))
	}
	return c
}

// writeRoom is what the output filter needs to know of the underlying:
// its write high watermark and how much its Output holds, and whether it
// is freed.
func (f *filterState) writeRoom() (high, queued int, freed bool) {
	u := f.under
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ext != nil {
		high = int(u.ext.whigh)
	}
	return high, u.out().Len(), u.life == lsFreed
}

// output runs the output filter over the filter's Output into the
// underlying's (be_filter_process_output) and returns the callbacks that
// calls for.
func (f *filterState) output(bev *BufferEvent, mode FlushMode) calls {
	high, queued, ufreed := f.writeRoom()
	full := mode == FlushNormal && high > 0 && queued >= high
	bev.mu.Lock()
	idle := ufreed || mode == FlushNormal && (bev.enabled&event.Write == 0 || full || bev.out().Len() == 0)
	if !f.beginLocked(bev, idle, event.Write, mode) {
		bev.mu.Unlock()
		return calls{}
	}
	f.outStage.addBuffer(&bev.buffers().output)
	bev.mu.Unlock()
	dst := &f.under.buffers().output
	processed := false
	var res FilterResult
	for {
		limit := 0
		if mode == FlushNormal && high > 0 {
			limit = high - queued
		}
		before := f.outStage.Len()
		res = f.out(&f.outStage, dst, limit, mode)
		if res == FilterOK {
			processed = true
		}
		if res != FilterOK || f.outStage.Len() == 0 || f.outStage.Len() == before {
			break
		}
		high, queued, ufreed = f.writeRoom()
		bev.mu.Lock()
		more := bev.life != lsFreed && !ufreed && bev.enabled&event.Write != 0 &&
			!(mode == FlushNormal && high > 0 && queued >= high)
		bev.mu.Unlock()
		if !more {
			break
		}
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if !f.endLocked(bev, &f.outStage) {
		return calls{}
	}
	written := bev.out().Len() > 0 // by Write while the filter ran
	if f.outStage.Len() > 0 {
		// What the filter left goes back in front of what came meanwhile.
		f.outStage.addBuffer(&bev.buffers().output)
		bev.buffers().output.addBuffer(&f.outStage)
	}
	var c calls
	if processed {
		bev.armWriteTimerLocked()
		if bev.writecb != nil && bev.out().Len() <= int(bev.wlow) {
			c = bev.dispatchLocked(calls{write: bev.writecb})
		}
	}
	if res == FilterError {
		bev.extra().werr = ErrFilter
		bev.setErrLocked(ErrFilter)
		bev.enabled &^= event.Write
		bev.stopWritingLocked()
		return c.merge(bev.eventCallsLocked(Writing | Error))
	}
	if written {
		bev.fdlessScheduleFlushLocked() // refused only by a closed base
	}
	return c
}

// release is Free's part for a filter, run with no lock held: the
// underlying is freed with CloseOnFree, or given back.
func (f *filterState) release(closeUnderlying bool) {
	if f.closing.Len() > 0 {
		f.tlsSendCloseNotify(closeUnderlying)
	}
	if closeUnderlying {
		f.under.Free()
		return
	}
	f.under.mu.Lock()
	f.givenBack = true
	f.under.mu.Unlock()
	f.under.SetCallbacks(nil, nil, nil)
	f.under.Enable(event.Read)
}

// takeFreeContextLocked returns a freed filter's freeContext, once, and
// gives its staging buffers' storage back.
func (bev *BufferEvent) takeFreeContextLocked() func() {
	f := bev.filterLocked()
	if f == nil || bev.life != lsFreed {
		return nil
	}
	f.inStage.reset()
	f.outStage.reset()
	free := f.free
	f.free = nil
	return free
}
