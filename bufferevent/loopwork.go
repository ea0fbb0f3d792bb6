package bufferevent

// Two kinds of work are handed from any goroutine to the loop's: a flush
// of Output written outside the loop (bsFlushQueued, flushSubmitted), and
// the callbacks DeferCallbacks held back or, after Free, the return of the
// buffers' storage (bsDeferQueued, runDeferred). Both go through one
// method value, runQueued, submitted once for whatever is due: a
// connection keeps one func field for it instead of two, 8 bytes that
// keep BufferEvent in the 352-byte size class.
//
//	queueLocked(x): x due; if not bsQueued, Submit(runQueued) and set bsQueued
//	runQueued:      clear bsQueued, then run each due kind in the order asked
//
// A kind asked for while runQueued runs, after it cleared bsQueued, is
// either still due when runQueued reaches it, or submitted again: never
// lost. A kind found not due does nothing, so a run made redundant by an
// earlier one is harmless.

// queueLocked marks the work kind (bsFlushQueued or bsDeferQueued) due and
// makes sure runQueued is submitted. If the loop refuses (it is closed),
// the work is dropped, as the loop would never run it, and the refusal
// returned.
func (bev *BufferEvent) queueLocked(kind uint16) error {
	if bev.work&kind != 0 {
		return nil
	}
	other := (bsFlushQueued | bsDeferQueued) &^ kind
	if bev.work&other == 0 { // the first kind asked for runs first
		if kind == bsDeferQueued {
			bev.work |= bsDeferFirst
		} else {
			bev.work &^= bsDeferFirst
		}
	}
	if bev.work&bsQueued == 0 {
		if bev.queuedFn == nil {
			bev.queuedFn = bev.runQueued
		}
		if err := bev.base.Submit(bev.queuedFn); err != nil {
			return err
		}
		bev.work |= bsQueued
	}
	bev.work |= kind
	return nil
}

// runQueued runs on the loop's goroutine the work queueLocked asked for,
// in the order it was asked. A flush alone, the common case (a Write from
// another goroutine or a callback), takes the lock once.
func (bev *BufferEvent) runQueued() {
	bev.mu.Lock()
	bev.work &^= bsQueued
	if bev.work&bsDeferQueued == 0 && !bev.fdlessLocked() {
		c := bev.queuedFlushLocked()
		bev.mu.Unlock()
		c.run(bev)
		return
	}
	deferFirst := bev.work&bsDeferFirst != 0
	bev.mu.Unlock()
	if deferFirst {
		bev.runDeferred()
		bev.flushSubmitted()
	} else {
		bev.flushSubmitted()
		bev.runDeferred()
	}
}
