package bufferevent

// Three kinds of work are handed from any goroutine to the loop's: a
// flush of Output written outside the loop (bsFlushQueued,
// flushSubmitted), the callbacks DeferCallbacks held back or, after Free,
// the return of the buffers' storage (bsDeferQueued, runDeferred), and
// the decisions that depend on what Input and Output hold, which methods
// safe from any goroutine leave to the loop (bsCheckQueued, recheckLocked).
// All go through one method value, runQueued, submitted once for whatever
// is due: a connection keeps one func field for it instead of three, bytes
// that keep BufferEvent in the 224-byte size class.
//
//	queueLocked(x): x due; if not bsQueued, Submit(runQueued) and set bsQueued
//	runQueued:      the recheck, then clear bsQueued, then run each other
//	                due kind in the order asked
//
// A kind asked for while runQueued runs, after it cleared bsQueued, is
// either still due when runQueued reaches it, or submitted again: never
// lost. A kind found not due does nothing, so a run made redundant by an
// earlier one is harmless. The recheck runs first, with bsQueued still
// set, so that the flush it asks for joins the same run.

// queueLocked marks the work kind (bsFlushQueued, bsDeferQueued or
// bsCheckQueued) due and makes sure runQueued is submitted. If the loop
// refuses (it is closed), the work is dropped, as the loop would never run
// it, and the refusal returned.
func (bev *BufferEvent) queueLocked(kind uint16) error {
	if bev.work&kind != 0 {
		return nil
	}
	if kind != bsCheckQueued && bev.work&(bsFlushQueued|bsDeferQueued) == 0 {
		// Of a flush and the deferred callbacks, the first asked for runs first.
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
	if bev.work&bsCheckQueued != 0 {
		bev.recheckLocked()
	}
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

// recheckLocked is the transition for a queued recheck: on the loop, with
// Input and Output in hand, what SetWatermark, Enable and SetTimeouts
// could not decide on another goroutine. Reading stops if Input holds the
// read high watermark and resumes if it is below it after a stop; Output
// waiting with writing enabled gets its flush (and, without a descriptor,
// its write timer). Each decision taken again on the same buffers changes
// nothing, so a recheck made redundant by a later call, or by the loop's
// own read, drain or flush, is harmless; and the loop, not the caller,
// sees a resume refused, reported as Reading|Error.
func (bev *BufferEvent) recheckLocked() {
	bev.work &^= bsCheckQueued
	if bev.life == lsFreed {
		return
	}
	if bev.rhigh > 0 && bev.in().Len() >= int(bev.rhigh) {
		bev.suspendLocked()
	} else {
		bev.inputDrainedLocked()
	}
	bev.scheduleFlushLocked() // refused only by a closed base
}
