package bufferevent

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// TLSState is where a new TLS BufferEvent's connection stands, with the
// values of libevent's enum bufferevent_ssl_state.
type TLSState int

const (
	// TLSOpen is BUFFEREVENT_SSL_OPEN: the handshake is already done.
	// crypto/tls cannot take over a finished handshake, so NewTLS refuses
	// it; it is here so that ported code keeps its names.
	TLSOpen TLSState = 0
	// TLSConnecting is BUFFEREVENT_SSL_CONNECTING: the client side.
	TLSConnecting TLSState = 1
	// TLSAccepting is BUFFEREVENT_SSL_ACCEPTING: the server side.
	TLSAccepting TLSState = 2
)

// Errors of TLS BufferEvents.
var (
	ErrTLSState = errors.New("bufferevent: TLS state must be TLSConnecting or TLSAccepting")
	// ErrTLSDirtyShutdown is Err after the peer closed the connection
	// without a TLS close_notify, which libevent also reports as an error
	// unless told to allow it (SetAllowDirtyShutdown).
	ErrTLSDirtyShutdown = errors.New("bufferevent: TLS connection closed without close_notify")

	errTLSSetFd = errors.New("bufferevent: SetFd on a TLS BufferEvent: its connection is bound to its descriptor")
)

// tlsChunk is the most plaintext one tls.Conn.Write takes at a time: one
// full record. tlsOutLimit bounds the ciphertext encrypted ahead of the
// socket: Output is encrypted only while less than this waits, so a slow
// peer leaves plaintext in Output, where watermarks and Len see it.
const (
	tlsChunk    = 16 << 10
	tlsOutLimit = 64 << 10
	// tlsReadRoom is the free space in Input each decryption step asks
	// for: a record of plaintext takes a few steps, but an idle
	// connection's Input stays small.
	tlsReadRoom = 4 << 10
)

// NewTLS returns a TLS BufferEvent on fd, a connected socket, or on no
// descriptor yet (fd == -1) for Connect, with cfg as its crypto/tls
// configuration (bufferevent_openssl_socket_new). state is TLSAccepting for
// the server side and TLSConnecting for the client side; a client needs
// cfg.ServerName (or InsecureSkipVerify) as crypto/tls does.
//
// The handshake starts at once on a descriptor, or when Connect succeeds,
// and reads from the socket whatever reading is enabled; the read timeout
// bounds it. Its end is reported to the event callback: Connected, or
// Reading|Writing|Error with Err wrapping crypto/tls's error. Until then
// what is written waits in Output. The callbacks then see plaintext in
// Input and Output, with watermarks, timeouts and EOF as on a plain
// socket. The peer's close_notify ends the stream as Reading|EOF; an end
// without it as Reading|Error with ErrTLSDirtyShutdown, unless
// SetAllowDirtyShutdown. Free sends close_notify, if the socket takes it
// at once, before it closes the descriptor.
//
// Cost: during its handshake a connection has a goroutine; once the
// handshake is done, it holds none, and its crypto/tls state and
// ciphertext buffers come on top of a plain BufferEvent's.
func NewTLS(b *event.Base, fd int, cfg *tls.Config, state TLSState, opts Options) (*BufferEvent, error) {
	if err := checkTLSArgs("NewTLS", cfg, state); err != nil {
		return nil, err
	}
	if state == TLSAccepting && fd < 0 {
		return nil, errors.New("bufferevent: NewTLS: the accepting side needs a descriptor")
	}
	bev, err := New(b, -1, opts)
	if err != nil {
		return nil, err
	}
	bev.extra().tls = newTLSConn(bev, cfg, state, bev.tlsFlushSubmitted)
	if fd >= 0 {
		bev.mu.Lock()
		err := bev.setFd(fd)
		if err == nil {
			err = bev.startHandshakeLocked()
		}
		bev.mu.Unlock()
		if err != nil {
			bev.Free()
			return nil, err
		}
	}
	return bev, nil
}

// checkTLSArgs checks what NewTLS and NewTLSFilter (named by maker) are
// given in common.
func checkTLSArgs(maker string, cfg *tls.Config, state TLSState) error {
	if cfg == nil {
		return fmt.Errorf("bufferevent: %s with a nil *tls.Config", maker)
	}
	if state != TLSConnecting && state != TLSAccepting {
		return fmt.Errorf("%w, not %d", ErrTLSState, int(state))
	}
	return nil
}

// newTLSConn makes bev's crypto/tls connection, the side state says, over
// the transport; flush is what the handshake goroutine hands the loop
// after each write, to move the ciphertext on.
func newTLSConn(bev *BufferEvent, cfg *tls.Config, state TLSState, flush func()) *tlsConn {
	t := &tlsConn{flushFn: flush}
	t.cond.L = &t.mu
	tr := tlsTransport{t: t, bev: bev, addr: tlsAddr{}}
	if state == TLSAccepting {
		t.conn = tls.Server(tr, cfg)
	} else {
		t.conn = tls.Client(tr, cfg)
	}
	return t
}

// tlsAddr is the transport's address: crypto/tls only prints it.
type tlsAddr struct{}

func (tlsAddr) Network() string { return "tcp" }
func (tlsAddr) String() string  { return "levent-bufferevent" }

// SetAllowDirtyShutdown makes the end of the stream without a TLS
// close_notify count as a plain EOF (Reading|EOF) instead of an error
// (bufferevent_openssl_set_allow_dirty_shutdown). Many servers close so.
// It does nothing on a plain BufferEvent. Safe from any goroutine.
func (bev *BufferEvent) SetAllowDirtyShutdown(allow bool) {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.tlsConn() != nil {
		bev.tlsConn().allowDirty = allow
	}
}

// TLSConnectionState returns the TLS connection's state once its handshake
// is done (in libevent, what bufferevent_openssl_get_ssl gives access to):
// the version, cipher suite, peer certificates, negotiated protocol. ok is
// false on a plain BufferEvent and before the handshake is done. Safe from
// any goroutine.
func (bev *BufferEvent) TLSConnectionState() (state tls.ConnectionState, ok bool) {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.tlsConn() == nil || !bev.tlsConn().handshakeDone || bev.life == lsFreed {
		return tls.ConnectionState{}, false
	}
	return bev.tlsConn().conn.ConnectionState(), true
}

// startHandshakeLocked is the transition into handshaking, from a new
// descriptor or the end of a connect: reading starts (the handshake needs
// it whether or not the user enabled it) and the handshake goroutine runs.
func (bev *BufferEvent) startHandshakeLocked() error {
	bev.life = lsHandshaking
	t := bev.tlsConn()
	t.mu.Lock()
	t.blocking = true
	t.mu.Unlock()
	if err := bev.startReadingLocked(); err != nil {
		return err
	}
	go bev.handshake(t)
	return nil
}

// handshake runs on its own goroutine: crypto/tls's handshake, whose reads
// wait for the loop to bring ciphertext. The outcome goes to the loop.
func (bev *BufferEvent) handshake(t *tlsConn) {
	err := t.conn.Handshake()
	t.stopBlocking()
	bev.base.Submit(func() { // refused only by a closed base: nobody waits then
		if f := bev.ext.filt; f != nil { // set before the goroutine started
			f.tlsHandshakeDone(bev, t, err)
			return
		}
		bev.mu.Lock()
		c := bev.handshakeDoneLocked(err)
		bev.mu.Unlock()
		c.run(bev)
	})
}

// handshakeDoneLocked is the transition out of handshaking: to open with
// Connected reported, or, on failure, to open with both directions off and
// Reading|Writing|Error reported. Ciphertext that came with the end of
// the handshake is decrypted by a read made due now, and plaintext written
// meanwhile goes out.
func (bev *BufferEvent) handshakeDoneLocked(err error) calls {
	if bev.life != lsHandshaking {
		return calls{} // freed meanwhile
	}
	bev.life = lsOpen
	t := bev.tlsConn()
	if err != nil {
		return bev.tlsHandshakeFailedLocked(err)
	}
	t.handshakeDone = true
	if bev.enabled&event.Read == 0 {
		bev.stopReadingLocked()
	} else if err := bev.startReadingLocked(); err != nil {
		return bev.eventCallsLocked(bev.armFailedLocked(event.Read, err))
	}
	if bev.work&bsReading != 0 {
		// Decrypt what came with the end of the handshake: crypto/tls may
		// already hold it, read ahead from rawIn.
		bev.rev.Active(event.Read)
	}
	if err := bev.scheduleFlushLocked(); err != nil {
		return calls{}
	}
	return bev.eventCallsLocked(Connected)
}

// tlsHandshakeFailedLocked is the failure's part of the transition out of
// handshaking: both directions off, and Reading|Writing|Error reported
// with Err wrapping err. An alert crypto/tls wrote went out before: the
// goroutine handed its flush to the loop ahead of this.
func (bev *BufferEvent) tlsHandshakeFailedLocked(err error) calls {
	bev.tlsConn().handshakeErr = err
	bev.setErrLocked(fmt.Errorf("bufferevent: TLS handshake: %w", err))
	bev.enabled &^= event.Read | event.Write
	bev.stopReadingLocked()
	bev.stopWritingLocked()
	return bev.eventCallsLocked(Reading | Writing | Error)
}

// tlsReadLocked is readLocked for a TLS BufferEvent: the ciphertext the
// socket has goes to rawIn; during the handshake the handshake goroutine
// takes it from there, afterwards it is decrypted into Input here.
func (bev *BufferEvent) tlsReadLocked(fd int, what event.Flag) calls {
	if what&event.Read == 0 {
		return bev.readTimeoutLocked()
	}
	t := bev.tlsConn()
	atmost, ok := bev.rateCapLocked(dirRead, bev.maxReadLocked())
	if !ok {
		return calls{} // held: the refill resumes reading
	}
	n, err := t.readSocket(fd, atmost)
	bev.rateSpentLocked(dirRead, n)
	if err != nil && err != unix.EAGAIN {
		if err != io.EOF {
			t.sockErr = errnoOf(err)
		}
		if bev.life == lsHandshaking {
			// The handshake fails on the end of its input and reports it.
			bev.stopReadingLocked()
			return calls{}
		}
	}
	if bev.life == lsHandshaking {
		return calls{}
	}
	if bev.work&bsTrimArmed == 0 && bev.rtimeout == 0 && bev.work&bsReading != 0 {
		// After an idle trim: arm it again.
		if err := bev.startReadingLocked(); err != nil {
			return bev.eventCallsLocked(bev.armFailedLocked(event.Read, err))
		}
	}
	return bev.tlsDecryptLocked()
}

// tlsDecryptLocked moves every plaintext byte crypto/tls can make from
// rawIn into Input, then calls for the read callback as a plain read
// does, or for the event callback at the end of the stream. Input may go
// past the read high watermark by up to one record: what crypto/tls has
// decrypted cannot stay there, or no readiness would ever bring it back.
func (bev *BufferEvent) tlsDecryptLocked() calls {
	t := bev.tlsConn()
	got, end := bev.tlsDecryptIntoLocked(0)
	var c calls
	if t.pendingOut() > 0 { // a post-handshake reply (a key update)
		c = bev.tlsWriteOutLocked()
	}
	if bev.rhigh > 0 && bev.in().Len() >= int(bev.rhigh) {
		bev.suspendLocked()
	}
	if end != 0 {
		c.event, c.what = bev.eventcb, c.what|end
	}
	if got > 0 && bev.in().Len() >= max(int(bev.rlow), 1) && bev.readcb != nil {
		if Options(bev.opts)&DeferCallbacks == 0 {
			bev.work |= bsInCallback
			c.read = bev.readcb
			return c
		}
		bev.deferLocked(calls{read: bev.readcb})
	}
	return bev.dispatchLocked(c)
}

// tlsDecryptIntoLocked appends to Input the plaintext crypto/tls can make
// from rawIn and what it already holds, at most limit bytes (0: all). It
// returns how much came, and what to report if the stream ended. What
// limit leaves stays in crypto/tls, decrypted by the next call: unread
// says so until a call ends for want of ciphertext.
func (bev *BufferEvent) tlsDecryptIntoLocked(limit int) (got int, end What) {
	t := bev.tlsConn()
	t.unread = true
	in := bev.buffers().input.appendTarget() // the ring, or where data goes after a reference
	for limit == 0 || got < limit {
		putStorage(in.reserve(tlsReadRoom))
		s1, _ := in.space()
		if limit > 0 {
			s1 = s1[:min(len(s1), limit-got)]
		}
		k, err := t.conn.Read(s1)
		in.n += k
		got += k
		if err == nil {
			continue
		}
		if !errors.Is(err, errWouldBlock) {
			end = bev.tlsEndLocked(err)
		}
		t.unread = false
		break
	}
	if in.n == 0 {
		in.emptied()
	}
	bev.buffers().input.record(got, 0)
	return got, end
}

// tlsEndLocked handles the error that ended decryption: the peer's
// close_notify (a clean EOF), the socket's end without one, or a TLS
// error. Reading is turned off; the result is what to report.
func (bev *BufferEvent) tlsEndLocked(err error) What {
	t := bev.tlsConn()
	bev.enabled &^= event.Read
	bev.stopReadingLocked()
	t.mu.Lock()
	dirty := t.endRead // crypto/tls saw the socket end, not a close_notify
	t.mu.Unlock()
	switch {
	case err == io.EOF && !dirty:
		return Reading | EOF
	case (err == io.EOF || err == io.ErrUnexpectedEOF) && dirty:
		if t.sockErr != nil { // the socket failed: ECONNRESET...
			bev.setErrLocked(t.sockErr)
			return Reading | Error
		}
		if t.allowDirty {
			return Reading | EOF
		}
		bev.setErrLocked(ErrTLSDirtyShutdown)
		return Reading | Error
	}
	bev.setErrLocked(fmt.Errorf("bufferevent: TLS: %w", err))
	return Reading | Error
}

// tlsWriteOutLocked is writeOutLocked for a TLS BufferEvent: Output is
// encrypted into rawOut (not during the handshake, nor ahead of a slow
// socket by more than tlsOutLimit), and rawOut is written with one
// writev. The write event stays pending while ciphertext waits. It calls
// for the write callback once some plaintext went and Output drained to
// the write low watermark, and for the event callback on an error.
func (bev *BufferEvent) tlsWriteOutLocked() calls {
	t := bev.tlsConn()
	wrote, left := false, false
	encrypt := t.handshakeDone && bev.enabled&event.Write != 0 && bev.writeErr() == nil
	for {
		atmost, ok := bev.rateCapLocked(dirWrite, bev.maxWriteLocked())
		if !ok {
			break // held, Output waiting: the refill resumes writing
		}
		if encrypt {
			w, err := bev.tlsEncryptLocked(tlsOutLimit)
			wrote = wrote || w
			if err != nil {
				return bev.tlsWriteFailedLocked(err, fmt.Errorf("bufferevent: TLS: %w", err))
			}
		}
		var n int
		var err error
		n, left, err = t.writeSocket(int(bev.fd), atmost)
		bev.rateSpentLocked(dirWrite, n)
		if err == unix.EAGAIN {
			left = true
		} else if err != nil {
			return bev.tlsWriteFailedLocked(err, errnoOf(err))
		}
		// The socket took it all: encrypt what the limit held back.
		if left || !encrypt || bev.out().Len() == 0 {
			break
		}
	}
	if left {
		if err := bev.startWritingLocked(); err != nil {
			return bev.eventCallsLocked(bev.armFailedLocked(event.Write, err))
		}
	} else {
		bev.stopWritingLocked()
		if bev.work&bsCloseWrite != 0 && bev.out().Len() == 0 {
			if c, done := bev.closeWriteLocked(); done {
				return c
			}
		}
	}
	if wrote && bev.out().Len() <= int(bev.wlow) && bev.writecb != nil {
		return bev.dispatchLocked(calls{write: bev.writecb})
	}
	return calls{}
}

// tlsEncryptLocked encrypts Output into rawOut, a record at a time, while
// less than limit bytes of ciphertext wait there. wrote says whether some
// plaintext went; err is crypto/tls's.
func (bev *BufferEvent) tlsEncryptLocked(limit int) (wrote bool, err error) {
	t := bev.tlsConn()
	for bev.out().Len() > 0 && t.pendingOut() < limit {
		s1, err := bev.buffers().output.front() // a file range is read into the ring
		if len(s1) == 0 {
			return wrote, err
		}
		k, err := t.conn.Write(s1[:min(len(s1), tlsChunk)])
		bev.buffers().output.drain(k)
		wrote = wrote || k > 0
		if err != nil {
			return wrote, err
		}
	}
	return wrote, nil
}

// tlsWriteFailedLocked turns writing off after err, keeps it for Write to
// return, and calls for Writing|Error with reported as Err.
func (bev *BufferEvent) tlsWriteFailedLocked(err, reported error) calls {
	bev.extra().werr = err
	bev.setErrLocked(reported)
	bev.enabled &^= event.Write
	bev.stopWritingLocked()
	return bev.eventCallsLocked(Writing | Error)
}

// tlsFlushSubmitted writes the ciphertext the handshake goroutine wrote.
func (bev *BufferEvent) tlsFlushSubmitted() {
	bev.mu.Lock()
	var c calls
	if bev.life == lsHandshaking || bev.life == lsOpen {
		c = bev.tlsWriteOutLocked()
	}
	bev.mu.Unlock()
	c.run(bev)
}

// tlsCloseLocked is Free's part for TLS: after a successful handshake a
// close_notify goes out if the socket takes it at once, and the transport
// closes, which ends a handshake still waiting for data. A TLS filter
// keeps the close_notify, with any ciphertext not yet handed on, for its
// release to put in the underlying's Output once bev's lock is let go.
func (bev *BufferEvent) tlsCloseLocked() {
	t := bev.tlsConn()
	f := bev.filterLocked()
	if t.handshakeDone && (bev.fd >= 0 || f != nil) && !t.notifySent && bev.writeErr() == nil {
		t.conn.CloseWrite() // writes the alert into rawOut
		if f != nil {
			t.giveOut(&f.closing)
		} else {
			t.writeSocket(int(bev.fd), bev.maxWriteLocked())
		}
	}
	t.close()
}
