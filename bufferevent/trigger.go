package bufferevent

import (
	"fmt"

	"github.com/levent-go/levent/event"
)

// TriggerOptions change how Trigger and TriggerEvent run callbacks, with
// libevent's BEV_TRIG_* values.
type TriggerOptions int

// Options for Trigger and TriggerEvent.
const (
	// TriggerDefer runs the callbacks later on the loop's goroutine, as
	// the DeferCallbacks option does for every callback
	// (BEV_TRIG_DEFER_CALLBACKS).
	TriggerDefer TriggerOptions = TriggerOptions(DeferCallbacks)
	// TriggerIgnoreWatermarks runs the read or write callback whatever
	// the watermarks say (BEV_TRIG_IGNORE_WATERMARKS); Trigger only.
	TriggerIgnoreWatermarks TriggerOptions = 1 << 16
)

const allTriggerOptions = TriggerDefer | TriggerIgnoreWatermarks

// String names the set options, such as "TriggerDefer".
func (o TriggerOptions) String() string {
	s := ""
	if o&TriggerDefer != 0 {
		s = "TriggerDefer"
	}
	if o&TriggerIgnoreWatermarks != 0 {
		if s != "" {
			s += "|"
		}
		s += "TriggerIgnoreWatermarks"
	}
	if rest := o &^ allTriggerOptions; rest != 0 || s == "" {
		if s != "" {
			s += "|"
		}
		s += fmt.Sprintf("%#x", int(rest))
	}
	return s
}

// Trigger runs the read callback (what has event.Read) and the write
// callback (event.Write) as if data had just been read or written
// (bufferevent_trigger): the read callback if Input holds at least the read
// low watermark, the write callback if Output holds at most the write low
// watermark, either whatever the watermarks say with
// TriggerIgnoreWatermarks. With TriggerDefer, or a BufferEvent made with
// DeferCallbacks, they run later on the loop's goroutine and Trigger may
// be called from any goroutine; the watermarks are then checked on the
// loop, when it takes the trigger up, and a closed base refuses it with
// its error. Otherwise they run before Trigger returns,
// on the caller's goroutine, which must be the loop's (a callback or a
// function given to Submit), as for Input and Output. What the read
// callback writes goes out when it returns, as after a read.
func (bev *BufferEvent) Trigger(what event.Flag, opts TriggerOptions) error {
	if what&^(event.Read|event.Write) != 0 || what == 0 {
		return fmt.Errorf("%w: Trigger takes Read and Write, not %v", event.ErrBadFlags, what)
	}
	if opts&^allTriggerOptions != 0 {
		return fmt.Errorf("%w: trigger options %#x", ErrOptions, int(opts&^allTriggerOptions))
	}
	bev.mu.Lock()
	if bev.life == lsFreed {
		bev.mu.Unlock()
		return ErrFreed
	}
	ignore := opts&TriggerIgnoreWatermarks != 0
	if bev.triggerDefersLocked(opts) {
		if !ignore {
			// The caller may be on any goroutine, and only the loop may
			// look at Input and Output: the watermarks are checked there.
			bev.mu.Unlock()
			return bev.base.Submit(func() { bev.triggerChecked(what) })
		}
		bev.deferLocked(bev.triggerCallsLocked(what, true))
		bev.mu.Unlock()
		return nil
	}
	c := bev.triggerCallsLocked(what, ignore)
	// Called from inside a read callback, the flush waits for that one.
	nested := bev.work&bsInCallback != 0
	if c.read != nil {
		bev.work |= bsInCallback
	}
	bev.mu.Unlock()
	if c.read != nil {
		c.read(bev)
		bev.mu.Lock()
		if nested {
			// Read the write callback again: the read callback may have
			// replaced it, or freed the BufferEvent.
			if c.write != nil && bev.life != lsFreed {
				c.write = bev.writecb
			} else {
				c.write = nil
			}
		} else {
			c = bev.readReturnedLocked(calls{write: c.write})
		}
		bev.mu.Unlock()
	}
	c.run(bev)
	return nil
}

// TriggerEvent runs the event callback with what, as if the conditions in
// what had happened (bufferevent_trigger_event). With TriggerDefer, or a
// BufferEvent made with DeferCallbacks, it runs later on the loop's
// goroutine and TriggerEvent may be called from any goroutine; otherwise it
// runs before TriggerEvent returns, on the caller's goroutine, which must
// be the loop's. TriggerIgnoreWatermarks means nothing here and is
// accepted, as in libevent.
func (bev *BufferEvent) TriggerEvent(what What, opts TriggerOptions) error {
	if opts&^allTriggerOptions != 0 {
		return fmt.Errorf("%w: trigger options %#x", ErrOptions, int(opts&^allTriggerOptions))
	}
	if what == 0 {
		return fmt.Errorf("%w: TriggerEvent with no condition", event.ErrBadFlags)
	}
	bev.mu.Lock()
	if bev.life == lsFreed {
		bev.mu.Unlock()
		return ErrFreed
	}
	c := calls{event: bev.eventcb, what: what}
	if bev.triggerDefersLocked(opts) {
		bev.deferLocked(c)
		bev.mu.Unlock()
		return nil
	}
	bev.mu.Unlock()
	c.run(bev)
	return nil
}

// triggerCallsLocked is the callbacks Trigger runs for what: the read
// callback if Input holds at least the read low watermark, the write
// callback if Output holds at most the write low watermark, or both
// whatever the watermarks say with ignore. Loop's goroutine only, unless
// ignore is set.
func (bev *BufferEvent) triggerCallsLocked(what event.Flag, ignore bool) calls {
	var c calls
	if what&event.Read != 0 && (ignore || bev.in().Len() >= int(bev.rlow)) {
		c.read = bev.readcb
	}
	if what&event.Write != 0 && (ignore || bev.out().Len() <= int(bev.wlow)) {
		c.write = bev.writecb
	}
	return c
}

// triggerChecked is a deferred Trigger that honours the watermarks, on
// the loop: it checks them and defers the callbacks they allow, which run
// at the loop's next queued work, as every deferred callback does.
func (bev *BufferEvent) triggerChecked(what event.Flag) {
	bev.mu.Lock()
	if bev.life != lsFreed {
		bev.deferLocked(bev.triggerCallsLocked(what, false))
	}
	bev.mu.Unlock()
}

// triggerDefersLocked reports whether a trigger with opts runs its
// callbacks later, from the loop: asked for, or as every callback of a
// BufferEvent made with DeferCallbacks.
func (bev *BufferEvent) triggerDefersLocked(opts TriggerOptions) bool {
	return opts&TriggerDefer != 0 || Options(bev.opts)&DeferCallbacks != 0
}
