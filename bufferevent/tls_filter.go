package bufferevent

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/levent-go/levent/event"
)

// A TLS filter (NewTLSFilter) is a filter whose filtering is TLS: it has
// the filterState of NewFilter, which gives it the underlying's callbacks,
// Enable and Disable forwarded to it, the generic timeouts, Fd and Free's
// release, and the tlsConn of NewTLS, whose handshake goroutine and
// transport work unchanged. Only the ciphertext's way differs: instead of
// readSocket and writeSocket, the loop moves it with takeIn from the
// underlying's Input into rawIn and with giveOut from rawOut to the end of
// the underlying's Output. tlsStep replaces the filter functions: it
// takes the ciphertext in, decrypts into Input as far as the read high
// watermark lets it, encrypts Output as far as the underlying's write high
// watermark (or tlsOutLimit) lets it, and hands the ciphertext on.
//
// Locks: as for any filter, the filter's lock and the underlying's are
// never held together; the tlsConn's lock is taken after either.
//
// The underlying reads while the handshake runs, and afterwards while the
// filter's reading is enabled and its Input is below the read high
// watermark (tlsSyncRead); otherwise its data waits in its socket, or in
// its partner's Output, as libevent suspends the underlying's reading.

// NewTLSFilter returns a BufferEvent that speaks TLS over underlying, an
// already connected BufferEvent (bufferevent_openssl_filter_new): the
// ciphertext goes through underlying's Input and Output instead of a
// socket of its own, so TLS runs over an in-memory pair, a filter, a
// rate-limited BufferEvent, or a connection that began in plaintext
// (STARTTLS: what underlying already holds in Input is taken as the start
// of the TLS stream). cfg and state are as for NewTLS; TLSOpen is refused
// as there.
//
// The filter behaves as a NewTLS BufferEvent does: the handshake starts at
// once and reads from underlying whether or not reading is enabled,
// Connected is reported when it is done, a failed handshake as
// Reading|Writing|Error with Err wrapping crypto/tls's error, the peer's
// close_notify as Reading|EOF, and underlying's end without one as
// Reading|Error with ErrTLSDirtyShutdown unless SetAllowDirtyShutdown;
// Free sends close_notify. An error, timeout or write error of underlying
// reaches the filter's event callback as it came, with the filter's Err
// giving underlying's error; underlying's Connected is dropped, as the
// handshake's end is what the filter reports. Watermarks and timeouts are
// the filter's own, on the plaintext (libevent's generic timeouts, as for
// NewFilter). Encryption stops while underlying's Output holds its write
// high watermark (64 KiB without one), so that a slow peer leaves
// plaintext in the filter's Output.
//
// As NewFilter does, the filter takes over underlying's callbacks, sets
// its read watermarks to none (as libevent does) and enables its writing;
// use only the filter from then on. With CloseOnFree, freeing the filter
// frees underlying, after writing the close_notify to it at once (what a
// socket takes now); without it, underlying is given back with no
// callbacks, reading enabled and the close_notify in its Output. The
// handshake runs on a goroutine of its own, fed by the loop; afterwards
// the connection holds none. Over a socket BufferEvent a 64-byte round
// trip costs about 1.25 times NewTLS's on the socket (BenchmarkTLSEcho),
// since the ciphertext moves in the loop iteration after the plaintext,
// and allocates as little: crypto/tls's one small reader per read. Safe
// from any goroutine.
func NewTLSFilter(underlying *BufferEvent, cfg *tls.Config, state TLSState, opts Options) (*BufferEvent, error) {
	if underlying == nil {
		return nil, errors.New("bufferevent: NewTLSFilter with a nil underlying BufferEvent")
	}
	if err := checkTLSArgs("NewTLSFilter", cfg, state); err != nil {
		return nil, err
	}
	underlying.mu.Lock()
	freed := underlying.life == lsFreed
	underlying.mu.Unlock()
	if freed {
		return nil, fmt.Errorf("bufferevent: NewTLSFilter: underlying: %w", ErrFreed)
	}
	bev, err := newFdless(underlying.base, opts)
	if err != nil {
		return nil, err
	}
	f := &filterState{under: underlying, in: passThrough, out: passThrough}
	bev.ext.filt = f
	var t *tlsConn
	t = newTLSConn(bev, cfg, state, func() { f.tlsGiveOut(t) })
	bev.ext.tls = t
	underlying.mu.Lock()
	underlying.extra().noSend = true // its close_notify must go out at Free: see sendsLocked
	underlying.mu.Unlock()
	underlying.SetCallbacks(
		func(*BufferEvent) { f.tlsStep(bev, t) },
		func(*BufferEvent) { f.tlsStep(bev, t) },
		func(_ *BufferEvent, what What) { f.tlsEvent(bev, t, what) })
	err = underlying.SetWatermark(event.Read, 0, 0)
	if err == nil {
		err = underlying.Enable(event.Read | event.Write)
	}
	if err == nil {
		bev.mu.Lock()
		err = bev.startHandshakeLocked()
		if err == nil {
			// The first step takes what underlying holds already.
			err = bev.queueLocked(bsFlushQueued)
		}
		bev.mu.Unlock()
	}
	if err != nil {
		bev.Free()
		return nil, err
	}
	return bev, nil
}

// tlsStep is the TLS filter's step, run on the loop with no lock held
// whenever ciphertext may move: underlying read or drained its Output,
// the filter's Input drained or Output filled (its queued flush), the
// handshake ended. Then the callbacks that calls for.
func (f *filterState) tlsStep(bev *BufferEvent, t *tlsConn) {
	c := f.tlsInput(bev, t)
	c = c.merge(f.tlsOutput(bev, t))
	f.tlsSyncRead(bev)
	bev.runDue(c)
}

// tlsTakeIn moves the ciphertext underlying has read into rawIn.
func (f *filterState) tlsTakeIn(t *tlsConn) {
	u := f.under
	u.mu.Lock()
	if u.life != lsFreed && t.takeIn(&u.buffers().input) > 0 {
		u.inputDrainedLocked()
	}
	u.mu.Unlock()
}

// tlsGiveOut moves the ciphertext in rawOut to the end of underlying's
// Output, to be written. Inside underlying's read callback that is
// flushed when the callback returns, as an echo's reply is.
func (f *filterState) tlsGiveOut(t *tlsConn) {
	u := f.under
	u.mu.Lock()
	if u.life != lsFreed && t.giveOut(&u.buffers().output) > 0 {
		u.scheduleFlushLocked() // refused only by a closed base
	}
	u.mu.Unlock()
}

// tlsInput takes the ciphertext in and, once the handshake is done,
// decrypts what reading and the read high watermark allow into Input. It
// returns the callbacks that calls for: the read callback, and the event
// callback at the end of the stream.
func (f *filterState) tlsInput(bev *BufferEvent, t *tlsConn) calls {
	f.tlsTakeIn(t)
	bev.mu.Lock()
	defer bev.mu.Unlock()
	// While handshaking, the handshake goroutine takes rawIn.
	if bev.life != lsIdle || bev.enabled&event.Read == 0 || bev.work&bsSuspended != 0 ||
		!t.unread && !t.pendingIn() {
		return calls{} // nothing to decrypt: each try costs crypto/tls an allocation
	}
	limit := 0
	if bev.rhigh > 0 {
		if limit = int(bev.rhigh) - bev.in().Len(); limit <= 0 {
			bev.suspendLocked()
			return calls{}
		}
	}
	got, end := bev.tlsDecryptIntoLocked(limit)
	var c calls
	if got > 0 {
		if bev.rhigh > 0 && bev.in().Len() >= int(bev.rhigh) {
			// Draining Input below the mark queues the next step, which
			// decrypts what crypto/tls and rawIn still hold.
			bev.suspendLocked()
		}
		bev.armReadTimerLocked()
		c = bev.readDueLocked()
	}
	if end != 0 {
		c = c.merge(bev.eventCallsLocked(end))
	}
	return c
}

// tlsOutput encrypts Output while underlying's Output is below its write
// high watermark (tlsOutLimit without one), once the handshake is done
// and with writing enabled, and hands all ciphertext on (a reply that
// decryption made, a key update, included). It returns the callbacks that
// calls for.
func (f *filterState) tlsOutput(bev *BufferEvent, t *tlsConn) calls {
	high, queued, ufreed := f.writeRoom()
	if ufreed {
		return calls{}
	}
	if high == 0 {
		high = tlsOutLimit
	}
	var c calls
	bev.mu.Lock()
	if bev.life == lsIdle && t.handshakeDone && bev.enabled&event.Write != 0 && bev.writeErr() == nil &&
		bev.out().Len() > 0 {
		wrote, err := bev.tlsEncryptLocked(high - queued)
		switch {
		case err != nil:
			c = bev.tlsWriteFailedLocked(err, fmt.Errorf("bufferevent: TLS: %w", err))
		case wrote:
			bev.armWriteTimerLocked()
			if bev.writecb != nil && bev.out().Len() <= int(bev.wlow) {
				c = bev.dispatchLocked(calls{write: bev.writecb})
			}
		}
	}
	bev.mu.Unlock()
	f.tlsGiveOut(t)
	return c
}

// tlsSyncRead makes underlying read exactly while the filter needs
// ciphertext: during the handshake, and afterwards while reading is
// enabled and Input is below the read high watermark.
func (f *filterState) tlsSyncRead(bev *BufferEvent) {
	bev.mu.Lock()
	if bev.life == lsFreed {
		bev.mu.Unlock()
		return // release gives underlying back
	}
	want := bev.life == lsHandshaking || bev.enabled&event.Read != 0 && bev.work&bsSuspended == 0
	bev.mu.Unlock()
	if on := f.under.Enabled()&event.Read != 0; want != on {
		f.setUnderReading(want) // a refusal comes back as underlying's Error event
	}
}

// tlsEvent handles a condition underlying reports (be_ssl_eventcb). The
// end of its input (EOF, or a read error) is the end of the ciphertext:
// what it still holds is decrypted first, then crypto/tls tells a
// close_notify (Reading|EOF) from a dirty end (ErrTLSDirtyShutdown, or
// underlying's error), or the waiting handshake fails. Connected is the
// handshake's to report; the rest goes on to the filter's event callback.
func (f *filterState) tlsEvent(bev *BufferEvent, t *tlsConn, what What) {
	switch {
	case what&Reading != 0 && what&(EOF|Error) != 0:
		var uerr error
		if what&Error != 0 {
			uerr = f.under.Err()
		}
		f.tlsTakeIn(t)
		bev.mu.Lock()
		if uerr != nil {
			t.sockErr = uerr
		}
		t.unread = true // crypto/tls is to see the end
		bev.mu.Unlock()
		t.endInput()
		f.tlsStep(bev, t)
	case what&^(Reading|Writing) == Connected:
	default:
		f.passEvent(bev, what)
	}
}

// tlsHandshakeDone is the TLS filter's transition out of handshaking, on
// the loop: Connected, or Reading|Writing|Error, reported first, then a
// step decrypts what came with the end of the handshake and encrypts what
// was written meanwhile.
func (f *filterState) tlsHandshakeDone(bev *BufferEvent, t *tlsConn, err error) {
	bev.mu.Lock()
	if bev.life != lsHandshaking {
		bev.mu.Unlock()
		return // freed meanwhile
	}
	bev.life = lsIdle
	var c calls
	if err != nil {
		c = bev.tlsHandshakeFailedLocked(err)
	} else {
		t.handshakeDone = true
		t.unread = true // crypto/tls may have read ahead of the handshake's end
		c = bev.eventCallsLocked(Connected)
	}
	bev.mu.Unlock()
	c.run(bev)
	f.tlsStep(bev, t)
}

// tlsSendCloseNotify is release's part for a TLS filter, with no lock
// held: the close_notify Free kept goes to the end of underlying's
// Output, written at once if underlying is about to be freed with the
// filter.
func (f *filterState) tlsSendCloseNotify(freeing bool) {
	u := f.under
	u.mu.Lock()
	if u.life != lsFreed {
		u.buffers().output.addBuffer(&f.closing)
		if freeing {
			u.flushLocked() // no callback runs: underlying is freed next
		} else {
			u.scheduleFlushLocked() // refused only by a closed base
		}
	}
	u.mu.Unlock()
	f.closing.reset()
}
