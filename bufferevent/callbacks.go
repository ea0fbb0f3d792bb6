package bufferevent

// Callbacks run on the loop's goroutine with the BufferEvent's lock
// released, so they may call any method, Free included. Whoever runs one
// reads it under the lock first and checks bsFreed again after it, since
// the callback, or another goroutine, may have freed the BufferEvent.
//
// With DeferCallbacks they do not run from inside the I/O handling:
// the handler records which are due (bsPendRead, bsPendWrite, pendWhat)
// and submits runDeferred, which runs them later in the same loop
// iteration or the next, as libevent's deferred callbacks do.

// reportLocked releases the lock and runs the event callback with what
// (bufferevent_run_eventcb_), or defers it.
func (bev *BufferEvent) reportLocked(what What) {
	if Options(bev.opts)&DeferCallbacks != 0 {
		bev.pendWhat |= what
		bev.queueLocked(bsDeferQueued)
		bev.mu.Unlock()
		return
	}
	cb := bev.eventcb
	bev.mu.Unlock()
	if cb != nil {
		cb(bev, what)
	}
}

// callWriteLocked releases the lock and runs the write callback, or
// defers it.
func (bev *BufferEvent) callWriteLocked() {
	if Options(bev.opts)&DeferCallbacks != 0 {
		bev.state |= bsPendWrite
		bev.queueLocked(bsDeferQueued)
		bev.mu.Unlock()
		return
	}
	cb := bev.writecb
	bev.mu.Unlock()
	if cb != nil {
		cb(bev)
	}
}

// runDeferred runs on the loop's goroutine. It runs the callbacks that
// DeferCallbacks held back, in libevent's order (read, write, event), or,
// after Free, gives the buffers' storage back.
func (bev *BufferEvent) runDeferred() {
	bev.mu.Lock()
	if bev.state&bsDeferQueued == 0 {
		bev.mu.Unlock()
		return
	}
	bev.state &^= bsDeferQueued
	due, what := bev.state&(bsPendRead|bsPendWrite), bev.pendWhat
	bev.state &^= due
	bev.pendWhat = 0
	if bev.state&bsFreed != 0 {
		bev.input.reset()
		bev.output.reset()
		bev.mu.Unlock()
		return
	}
	if cb := bev.readcb; due&bsPendRead != 0 && cb != nil {
		bev.state |= bsInCallback
		bev.mu.Unlock()
		cb(bev)
		bev.mu.Lock()
		bev.state &^= bsInCallback
		bev.flushAndReport() // may make the write callback due again
		bev.mu.Lock()
	}
	if cb := bev.writecb; due&bsPendWrite != 0 && cb != nil && bev.state&bsFreed == 0 {
		bev.mu.Unlock()
		cb(bev)
		bev.mu.Lock()
	}
	cb := bev.eventcb
	bev.mu.Unlock()
	if what != 0 && cb != nil {
		cb(bev, what)
	}
}
