package bufferevent

import "github.com/levent-go/levent/event"

// Every entry point from the loop (onRead, onWrite, runQueued, Flush, the
// end of a connect or of a lookup) has libevent's shape: take the lock
// once, apply one transition (a *Locked method that neither takes nor
// releases the lock), which returns the callbacks it calls for as a calls
// value, release the lock, and run them last. The read callback is the one
// exception, because what it writes is flushed when it returns: onRead and
// runDeferred run it between two transitions (the read, then
// readReturnedLocked with the flush).
//
// Callbacks run on the loop's goroutine with no lock held, so they may
// call any method, Free included. Before running a second callback after a
// first, run reads it again under the lock: the first may have freed the
// BufferEvent or replaced its callbacks.
//
// With DeferCallbacks they do not run from inside the I/O handling:
// dispatchLocked records which are due (bsPendRead, bsPendWrite,
// pendWhat) and queues runDeferred, which runs them later in the same loop
// iteration or the next, as libevent's deferred callbacks do.

// calls is the callbacks a transition calls for, read under the lock: at
// most one of each, run in libevent's order (read, write, event). A value
// type, so that collecting them allocates nothing.
type calls struct {
	read, write func(*BufferEvent)
	event       func(*BufferEvent, What)
	what        What // the conditions for event; set even when event is nil
}

// eventCallsLocked calls for the event callback with what
// (bufferevent_run_eventcb_).
func (bev *BufferEvent) eventCallsLocked(what What) calls {
	return bev.dispatchLocked(calls{event: bev.eventcb, what: what})
}

// dispatchLocked returns c to run now, or, with DeferCallbacks, records it
// as due and queues runDeferred, returning nothing to run.
func (bev *BufferEvent) dispatchLocked(c calls) calls {
	if Options(bev.opts)&DeferCallbacks == 0 {
		return c
	}
	bev.deferLocked(c)
	return calls{}
}

// deferLocked records c as due and queues runDeferred to run it from the
// loop. Entry points that may run on any goroutine, or inside user code,
// use it whatever the options say.
func (bev *BufferEvent) deferLocked(c calls) {
	if c.read == nil && c.write == nil && c.what == 0 {
		return
	}
	if c.read != nil {
		bev.work |= bsPendRead
	}
	if c.write != nil {
		bev.work |= bsPendWrite
	}
	bev.pendWhat |= c.what
	bev.queueLocked(bsDeferQueued) // refused only by a closed base, which runs nothing more
}

// armFailedLocked is the transition taken when the loop refuses to watch
// the descriptor for dir (event.Read or event.Write): the direction is
// turned off, as after a socket error, and Err gives the refusal. It
// returns what to report: Reading|Error or Writing|Error.
func (bev *BufferEvent) armFailedLocked(dir event.Flag, err error) What {
	bev.setErrLocked(err)
	bev.enabled &^= dir
	if dir == event.Read {
		bev.stopReadingLocked()
		return Reading | Error
	}
	bev.stopWritingLocked()
	return Writing | Error
}

// run runs the write and event callbacks of c (the read callback has its
// own step, see above), after what the buffers' changes left due (their
// callbacks, release functions of references: settleBuffers). Between the
// two it reads the event callback again: none after Free.
func (c calls) run(bev *BufferEvent) {
	bev.settleBuffers()
	if c.write != nil {
		c.write(bev)
		if c.event == nil {
			return
		}
		bev.mu.Lock()
		c.event = bev.eventcb // nil after Free
		bev.mu.Unlock()
	}
	if c.event != nil {
		c.event(bev, c.what)
	}
}

// runAll runs the callbacks of c, the read callback first (bsInCallback
// set for it) with the flush of what it wrote when it returns, then the
// others as run does.
func (c calls) runAll(bev *BufferEvent) {
	if c.read != nil {
		bev.settleBuffers()
		c.read(bev)
		bev.mu.Lock()
		c = bev.readReturnedLocked(calls{write: c.write, what: c.what})
		bev.mu.Unlock()
	}
	c.run(bev)
}

// merge is the callbacks of c and d together.
func (c calls) merge(d calls) calls {
	if d.read != nil {
		c.read = d.read
	}
	if d.write != nil {
		c.write = d.write
	}
	if d.event != nil {
		c.event = d.event
	}
	c.what |= d.what
	return c
}

// runDeferred runs on the loop's goroutine. It runs the callbacks that
// DeferCallbacks held back, in libevent's order (read, write, event), or,
// after Free, gives the buffers' storage back.
func (bev *BufferEvent) runDeferred() {
	bev.mu.Lock()
	c := bev.takeDeferredLocked()
	free := bev.takeFreeContextLocked()
	bev.mu.Unlock()
	if free != nil {
		free()
	}
	c.runAll(bev)
}

// takeDeferredLocked is the transition that takes the held-back
// callbacks, or, after Free, the buffers' storage.
func (bev *BufferEvent) takeDeferredLocked() calls {
	if bev.work&bsDeferQueued == 0 {
		return calls{}
	}
	due := bev.work & (bsPendRead | bsPendWrite)
	c := calls{what: bev.pendWhat}
	bev.work &^= bsDeferQueued | due
	bev.pendWhat = 0
	if bev.life == lsFreed {
		if b := bev.bufs.Load(); b != nil {
			b.input.reset()
			b.output.reset()
		}
		return calls{}
	}
	if due&bsPendRead != 0 && bev.readcb != nil {
		c.read = bev.readcb
		bev.work |= bsInCallback
	}
	if due&bsPendWrite != 0 {
		c.write = bev.writecb
	}
	if c.what != 0 {
		c.event = bev.eventcb
	}
	return c
}

// readReturnedLocked is the transition after the read callback returns:
// Output, which the callback may have filled, goes out in one writev. rest
// is what was due besides the read callback (runDeferred); its callbacks
// are read again, since the read callback may have replaced them or freed
// the BufferEvent. The result holds the callbacks the flush calls for and
// those of rest.
func (bev *BufferEvent) readReturnedLocked(rest calls) calls {
	bev.work &^= bsInCallback
	c := bev.flushLocked()
	if bev.life == lsFreed {
		return calls{}
	}
	if rest.write != nil {
		c.write = bev.writecb
	}
	if rest.what != 0 {
		c.event, c.what = bev.eventcb, c.what|rest.what
	}
	return c
}
