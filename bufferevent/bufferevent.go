package bufferevent

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
)

// Errors returned for misuse. Socket errors are not among them: they are
// reported to the event callback and kept for Err.
var (
	ErrFreed      = errors.New("bufferevent: freed")
	ErrNoFd       = errors.New("bufferevent: no descriptor (use Connect)")
	ErrConnecting = errors.New("bufferevent: already connecting")
	ErrOptions    = errors.New("bufferevent: unknown options")
	ErrWatermark  = errors.New("bufferevent: bad watermarks")
	// ErrNotSocket is returned by the calls that need a socket of the
	// BufferEvent's own (SetFd, Connect, ConnectHostname, CloseWrite) on
	// an end of an in-memory pair or on a filter.
	ErrNotSocket = errors.New("bufferevent: not on a socket (an in-memory pair end or a filter)")
	// ErrNoPartner is what Flush and FlushWith return on an end of an
	// in-memory pair whose partner was freed.
	ErrNoPartner = errors.New("bufferevent: the pair's other end is freed")
)

// idleTrim is how long a connection must be quiet before its empty
// buffers give their storage back, when the user set no read timeout. The
// trim is armed only while a buffer holds storage: a connection that has
// not sent anything yet, such as most of a server's idle ones, has none to
// give back, and costs the timer queue nothing. A variable so that tests
// need not wait that long.
var idleTrim = 2 * time.Second

// BufferEvent is a buffered connection: libevent's bufferevent on a socket.
// It reads into Input whenever the descriptor is readable and reading is
// enabled, runs the read callback, and writes Output to the descriptor as
// soon as it can, running the write callback when Output drains.
//
// Each method says which goroutines may call it. Input and Output return
// the buffers themselves, which belong to the loop's goroutine: use them
// only in callbacks or in functions handed to (*event.Base).Submit, and not
// at the same time as other goroutines call Write or Read. Callbacks run on
// the loop's goroutine without any lock held, so they may call any method,
// Free included.
type BufferEvent struct {
	mu   sync.Mutex
	base *event.Base

	rev event.Event // Read|Persist on fd
	// wev is Write|Persist on fd, made when first needed (writeEvent):
	// a connection whose writes never find the socket full (most of them,
	// and every idle one) never needs it, and saves its 96 bytes. On a
	// base that sends in the kernel it is Write|Persist|Send while it
	// carries sends (send.go), and is dropped at the idle trim.
	wev *writeEv
	// bufs holds Input and Output, made when first needed (buffers): a
	// connection that has not carried a byte yet, as most of the idle
	// connections a server holds have not (accepted, the first request
	// still to come), saves their 128 bytes. Once made they stay, so
	// that the *Buffer Input and Output return is the connection's for
	// as long as it lives.
	bufs atomic.Pointer[bevBuffers]

	readcb, writecb func(*BufferEvent)
	eventcb         func(*BufferEvent, What)

	rtimeout time.Duration
	wtimeout time.Duration

	// The small fields, packed: a BufferEvent is what every connection
	// costs, and it stays in the 224-byte size class (TestBufferEventSize).
	fd          int32
	rlow, rhigh int32      // read watermarks; rhigh 0: no limit
	wlow        int32      // write low watermark
	enabled     event.Flag // Read and Write as the user asked
	work        uint16     // pending work: the bs* bits below
	pendWhat    What       // event callback conditions held back by DeferCallbacks
	life        lifecycle
	opts        uint8 // the Options given to New

	// runQueued's method value, made the first time it is handed to
	// Submit and kept, so that doing it again allocates nothing.
	queuedFn func()

	// ext holds what few connections need, so that the others do not
	// pay for it: made on first use.
	ext *bevExt
}

// bevExt is the part of a BufferEvent that only some need: a TLS one, an
// end of an in-memory pair, a filter, one with limits or a priority, or
// one that met an error. tls, pair and filt are set before the
// BufferEvent is returned to its maker and never change.
type bevExt struct {
	err      error        // the error behind the last Error event (or a connect refused at once): see errLocked
	werr     error        // sticky: after a write error Write refuses
	tls      *tlsConn     // a TLS BufferEvent's connection (NewTLS, NewTLSFilter)
	pair     *pairLink    // an in-memory pair end's link to its partner (NewPair)
	filt     *filterState // a filter's underlying BufferEvent and functions (NewFilter)
	rl       *rateLimit   // SetRateLimit, AddToRateLimitGroup; kept once made
	maxRead  int32        // SetMaxSingleRead; 0: no cap
	maxWrite int32        // SetMaxSingleWrite; 0: no cap
	whigh    int32        // write high watermark: what a filter above may queue in Output; 0: no limit
	pri      int16        // SetPriority's priority + 1; 0: the default
	pairEOF  bool         // a pair end's partner was freed: report Reading|EOF once reading can take it
	noSend   bool         // a TLS filter's underlying: Output goes out with writev, never as sends (sendsLocked)
}

// extra returns ext, making it if need be.
func (bev *BufferEvent) extra() *bevExt {
	if bev.ext == nil {
		bev.ext = &bevExt{}
	}
	return bev.ext
}

// errLocked is the error behind the last Error event (Err). It lives in
// ext, as errors are what few connections have, and those that have one
// are mostly about to be freed.
func (bev *BufferEvent) errLocked() error {
	if bev.ext == nil {
		return nil
	}
	return bev.ext.err
}

// setErrLocked records the error behind an Error event about to be
// reported (or a connect refused at once).
func (bev *BufferEvent) setErrLocked(err error) {
	if err == nil && bev.ext == nil {
		return
	}
	bev.extra().err = err
}

// writeErr is the sticky write error, nil while writes succeed.
func (bev *BufferEvent) writeErr() error {
	if bev.ext == nil {
		return nil
	}
	return bev.ext.werr
}

// tlsConn is a TLS BufferEvent's connection; nil on a plain one.
func (bev *BufferEvent) tlsConn() *tlsConn {
	if bev.ext == nil {
		return nil
	}
	return bev.ext.tls
}

// lifecycle is where a BufferEvent is in its life. Every edge, and the
// method that takes it:
//
//	           New(-1)                          New(fd)
//	              │                                │
//	              ▼          SetFd(fd)             ▼
//	         ┌─────────┐ ─────────────────▶ ┌─────────┐
//	         │  idle   │ ◀───────────────── │  open   │ ◀────────────┐
//	         └─────────┘     SetFd(-1)      └─────────┘              │
//	           │  ▲   │                        │    │                │
//	Connect    │  │   │ ConnectHostname        │    │ Connect        │
//	(socket    │  │   ▼                        │    │                │ connectDoneLocked
//	 made)     │  │ ┌───────────┐ ◀────────────┘    │                │ (Connected, Error
//	           │  └─│ resolving │ ConnectHostname   │                │  or Writing|Timeout:
//	           │    └───────────┘                   │                │  the fd stays)
//	           │  resolvedLocked│ resolvedLocked    │                │
//	           │  (error, no fd)│ (address)         ▼                │
//	           │                └────────────▶ ┌────────────┐        │
//	           └─────────────────────────────▶ │ connecting │ ───────┘
//	                                           └────────────┘
//	   resolvedLocked with an error and an fd goes back to open.
//	   Free takes every state to freed, which is final.
//
// A TLS BufferEvent (NewTLS) passes through one more state on its way to
// open, and never leaves open by SetFd:
//
//	NewTLS(fd), or connectDoneLocked     ┌─────────────┐  handshakeDoneLocked
//	after a connect ───────────────────▶ │ handshaking │ ─────────────────────▶ open
//	(startHandshakeLocked)               └─────────────┘  (Connected, or Error)
//
// A TLS filter (NewTLSFilter) starts in handshaking, with no descriptor of
// its own, and its handshake's end (tlsHandshakeDone) takes it to idle,
// where every filter lives.
//
// Invariants: fd == -1 in idle and freed; fd >= 0 in open, connecting and
// handshaking (but for a TLS filter); resolving keeps the fd it was entered with. Reading and
// writing happen only with fd >= 0 outside connecting (hasIO); while
// handshaking, only ciphertext moves, and reading is on whatever the user
// enabled.
type lifecycle uint8

const (
	lsIdle        lifecycle = iota // no descriptor
	lsOpen                         // a descriptor, reading and writing as enabled
	lsResolving                    // ConnectHostname's lookup runs on its own goroutine
	lsConnecting                   // a non-blocking connect waits for wev
	lsFreed                        // Free ran: no callback starts any more
	lsHandshaking                  // TLS: the handshake runs; Input and Output wait for it
)

// Pending work: the bits of BufferEvent.work, each with what holds while
// it is set (checked by checkInvariants in the tests, between operations
// on the loop's goroutine).
const (
	bsReading     uint16 = 1 << iota // ⇔ rev is pending (reading enabled, hasIO, not suspended, no rate limit holding it)
	bsWriting                        // ⇔ wev is pending (connecting, Output waits for room, or a rate limit let it go)
	bsSuspended                      // Input holds the read high watermark; ⇒ !bsReading
	bsTrimArmed                      // rev's timeout is the idle trim, not a read timeout; ⇒ bsReading
	bsInCallback                     // the read callback runs: its output is written when it returns
	bsRefused                        // Connect failed at once; err holds why; ⇒ lsConnecting
	bsFlushQueued                    // flushSubmitted is due on the loop; ⇒ bsQueued or runQueued runs
	bsDeferQueued                    // runDeferred is due on the loop; ⇒ bsQueued or runQueued runs
	bsQueued                         // runQueued is submitted and has not started
	bsDeferFirst                     // with both kinds due, runDeferred was asked for first
	bsPendRead                       // DeferCallbacks: the read callback is due; ⇒ bsDeferQueued
	bsPendWrite                      // DeferCallbacks: the write callback is due; ⇒ bsDeferQueued
	bsCloseWrite                     // CloseWrite: once Output drains, end the sending side
	bsCheckQueued                    // recheckLocked is due on the loop; ⇒ bsQueued or runQueued runs
	bsSending                        // a send of Output's first bytes is in the kernel (send.go); ⇒ bsWriting, wev has Send
	bsParked                         // wev stays pending for the next send, none in the kernel (send.go); ⇒ bsWriting, bsReading, wev has Send, !bsSending
)

// hasIO reports whether the descriptor is there to read and write: not
// before a descriptor is set, nor while a connect is under way.
func (bev *BufferEvent) hasIO() bool { return bev.fd >= 0 && bev.life != lsConnecting }

// settleLocked sets the lifecycle a descriptor change or the end of a
// lookup leaves: open with a descriptor, idle without.
func (bev *BufferEvent) settleLocked() {
	if bev.fd >= 0 {
		bev.life = lsOpen
	} else {
		bev.life = lsIdle
	}
}

// New returns a BufferEvent on fd, a connected socket, or on
// no descriptor yet (fd == -1) for Connect (bufferevent_socket_new). As in
// libevent, writing is enabled and reading is not: call Enable(event.Read).
// The descriptor stays the caller's unless opts has CloseOnFree. Safe from
// any goroutine.
func New(b *event.Base, fd int, opts Options) (*BufferEvent, error) {
	if b == nil {
		return nil, event.ErrNilBase
	}
	if opts&^allOptions != 0 {
		return nil, fmt.Errorf("%w: %#x", ErrOptions, int(opts&^allOptions))
	}
	if fd < -1 {
		return nil, fmt.Errorf("%w: %d", event.ErrBadFd, fd)
	}
	bev := &BufferEvent{base: b, fd: -1, opts: uint8(opts), enabled: event.Write}
	if fd >= 0 {
		if err := bev.setFd(fd); err != nil {
			return nil, err
		}
	}
	bev.settleLocked()
	return bev, nil
}

// setFd binds the read and write events to fd, which it makes
// non-blocking if it is not: the loop must never sleep in a read or write,
// and the buffers' I/O relies on it (see ringSyscall).
func (bev *BufferEvent) setFd(fd int) error {
	if err := setNonblock(fd); err != nil {
		return err
	}
	if err := bev.rev.Assign(bev.base, fd, bev.readFlags(), bev.onRead); err != nil {
		return err
	}
	if err := bev.applyPriorityLocked(&bev.rev); err != nil {
		return err
	}
	if bev.wev != nil {
		if err := bev.wev.Assign(bev.base, fd, event.Write|event.Persist, bev.onWrite); err != nil {
			return err
		}
		if err := bev.applyPriorityLocked(&bev.wev.Event); err != nil {
			return err
		}
	}
	bev.fd = int32(fd)
	return nil
}

// kernelRecv lets readFlags ask for Recv; tests turn it off to compare
// the readv path on the same base.
var kernelRecv = true

// readFlags are the read event's: Read|Persist, and Recv where the base
// receives in the kernel (io_uring), so that the read callback finds the
// data already read (see recvFd). A TLS BufferEvent reads its records
// with readv itself.
func (bev *BufferEvent) readFlags() event.Flag {
	if kernelRecv && bev.base.Receives() && bev.tlsConn() == nil {
		return event.Read | event.Persist | event.Recv
	}
	return event.Read | event.Persist
}

// writeEvent returns wev as Write|Persist, making it on first use; fd
// must be set.
func (bev *BufferEvent) writeEvent() (*event.Event, error) {
	return bev.writeEventFor(event.Write | event.Persist)
}

// writeEventFor returns wev watching for what (Write|Persist, or with
// Send to carry sends), making it on first use, or re-assigning it,
// which takes it off the loop, if it watched for something else.
func (bev *BufferEvent) writeEventFor(what event.Flag) (*event.Event, error) {
	if bev.wev != nil && bev.wev.Events() != what {
		bev.wev.Del()
		bev.work &^= bsWriting | bsParked
		err := bev.wev.Assign(bev.base, int(bev.fd), what, bev.wev.Callback())
		if err == nil {
			err = bev.applyPriorityLocked(&bev.wev.Event)
		}
		if err != nil {
			return nil, err
		}
	}
	if bev.wev == nil {
		ev := new(writeEv)
		err := ev.Assign(bev.base, int(bev.fd), what, bev.onWrite)
		if err == nil {
			err = bev.applyPriorityLocked(&ev.Event)
		}
		if err != nil {
			return nil, err
		}
		bev.wev = ev
	}
	return &bev.wev.Event, nil
}

// SetFd makes the BufferEvent work on fd, a connected socket (made
// non-blocking if it is not), from now on, or on no descriptor with -1 (bufferevent_setfd).
// The previous descriptor is not closed, whatever the options say; data
// already buffered stays, and reading and writing resume on fd as enabled.
// It is refused while a Connect is under way, and returns the error if the
// loop refuses to watch fd (or to take the flush of buffered output).
// Loop goroutine only (or before the loop runs): it re-binds the events
// the loop dispatches.
func (bev *BufferEvent) SetFd(fd int) error {
	if fd < -1 {
		return fmt.Errorf("%w: %d", event.ErrBadFd, fd)
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	switch {
	case bev.life == lsFreed:
		return ErrFreed
	case bev.life == lsConnecting || bev.life == lsResolving:
		return ErrConnecting
	case bev.tlsConn() != nil:
		return errTLSSetFd
	case bev.fdlessLocked():
		return ErrNotSocket
	}
	bev.abandonSendLocked()
	bev.stopReadingLocked()
	bev.stopWritingLocked()
	bev.rev.Del()
	if bev.wev != nil {
		bev.wev.Del()
	}
	bev.fd = -1
	if fd >= 0 {
		if err := bev.setFd(fd); err != nil {
			bev.settleLocked()
			return err
		}
	}
	bev.settleLocked()
	if err := bev.startReadingLocked(); err != nil {
		return err
	}
	return bev.scheduleFlushLocked()
}

// SetCallbacks sets the read, write and event callbacks; nil disables one
// (bufferevent_setcb). Safe from any goroutine.
func (bev *BufferEvent) SetCallbacks(read, write func(*BufferEvent), eventcb func(*BufferEvent, What)) {
	bev.mu.Lock()
	if bev.life != lsFreed {
		bev.readcb, bev.writecb, bev.eventcb = read, write, eventcb
	}
	bev.mu.Unlock()
}

// Base returns the BufferEvent's base (bufferevent_get_base). Safe from any
// goroutine.
func (bev *BufferEvent) Base() *event.Base { return bev.base }

// Fd returns the descriptor (bufferevent_getfd): -1 before Connect and
// after Free. An end of an in-memory pair has none and returns -1, as
// libevent's does; a filter returns its underlying BufferEvent's, as
// libevent's forwards BEV_CTRL_GET_FD. Safe from any goroutine.
func (bev *BufferEvent) Fd() int {
	bev.mu.Lock()
	if f := bev.filterLocked(); f != nil {
		bev.mu.Unlock()
		return f.under.Fd()
	}
	defer bev.mu.Unlock()
	return int(bev.fd)
}

// Err returns the error behind the last Error event: a syscall.Errno
// such as ECONNREFUSED or ECONNRESET, the resolver's error after
// ConnectHostname (bufferevent_socket_get_dns_error and
// EVUTIL_SOCKET_ERROR together), or the loop's refusal to watch the
// descriptor. nil if there was none. Safe from any goroutine.
func (bev *BufferEvent) Err() error {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	return bev.errLocked()
}

// Input returns the input buffer (bufferevent_get_input), the same one
// for as long as the BufferEvent lives. Loop goroutine only. Draining it
// below the read high watermark resumes reading.
func (bev *BufferEvent) Input() *Buffer { return &bev.buffers().input }

// Output returns the output buffer (bufferevent_get_output), the same one
// for as long as the BufferEvent lives. Loop goroutine only; data added
// to it is written as soon as the socket allows.
func (bev *BufferEvent) Output() *Buffer { return &bev.buffers().output }

// Enabled reports which of event.Read and event.Write are enabled
// (bufferevent_get_enabled). Safe from any goroutine.
func (bev *BufferEvent) Enabled() event.Flag {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	return bev.enabled
}

// Enable turns reading and/or writing on (bufferevent_enable); other bits
// of what are ignored. It returns the error if the loop refuses to watch
// the descriptor. Safe from any goroutine: it does not look at Output,
// which a callback may be changing, so enabling writing hands the flush
// of what Output holds to the loop, which finds nothing to do if it is
// empty.
func (bev *BufferEvent) Enable(what event.Flag) error {
	bev.mu.Lock()
	err := bev.enableLocked(what)
	f := bev.filterLocked()
	bev.mu.Unlock()
	if err == nil && f != nil && what&event.Read != 0 {
		// A filter reads through its underlying BufferEvent, whose
		// lock is never taken with the filter's held.
		return f.setUnderReading(true)
	}
	return err
}

func (bev *BufferEvent) enableLocked(what event.Flag) error {
	if bev.life == lsFreed {
		return ErrFreed
	}
	bev.enabled |= what & (event.Read | event.Write)
	if what&event.Read != 0 {
		if err := bev.startReadingLocked(); err != nil {
			return err
		}
	}
	if what&event.Write != 0 {
		// Whether Output holds anything is for the loop to see: the
		// caller may be on another goroutine.
		return bev.flushSoonLocked()
	}
	return nil
}

// Disable turns reading and/or writing off (bufferevent_disable). Data
// already buffered stays. Disabling writing does not stop a Connect in
// progress. Safe from any goroutine.
func (bev *BufferEvent) Disable(what event.Flag) error {
	bev.mu.Lock()
	f, err := bev.disableLocked(what)
	bev.mu.Unlock()
	if f != nil {
		return f.setUnderReading(false)
	}
	return err
}

// disableLocked is Disable under bev's lock. It returns the filter whose
// underlying must stop reading too, for the caller to tell once the lock
// is released: a filter that does not read leaves its underlying's data
// unread, as libevent suspends the underlying's reading, but a TLS
// filter's handshake reads all the same.
func (bev *BufferEvent) disableLocked(what event.Flag) (*filterState, error) {
	if bev.life == lsFreed {
		return nil, ErrFreed
	}
	bev.enabled &^= what & (event.Read | event.Write)
	if what&event.Read != 0 && bev.life != lsHandshaking {
		bev.stopReadingLocked()
	}
	if what&event.Write != 0 && bev.life != lsConnecting {
		bev.stopWritingLocked()
	}
	if f := bev.filterLocked(); f != nil && what&event.Read != 0 && bev.life != lsHandshaking {
		return f, nil
	}
	return nil, nil
}

// startReadingLocked makes the read event pending, or re-arms its timeout,
// if reading is enabled and nothing holds it back. Without a read timeout
// the event carries the idle-trim timeout instead, if a buffer holds
// storage to trim, and no timeout otherwise. It returns the loop's refusal
// to watch the descriptor.
func (bev *BufferEvent) startReadingLocked() error {
	if bev.fdlessLocked() {
		return bev.fdlessStartReadingLocked()
	}
	// A TLS handshake reads whether or not the user enabled reading.
	if !bev.hasIO() || bev.enabled&event.Read == 0 && bev.life != lsHandshaking || bev.work&bsSuspended != 0 ||
		bev.rateHeldLocked(dirRead) {
		return nil
	}
	t := bev.rtimeout
	trim := t == 0 && bev.storageLocked() > 0
	if trim {
		t = idleTrim
	}
	if t == 0 && bev.work&bsReading != 0 {
		bev.rev.RemoveTimer() // Add(0) would keep a read timeout just cleared
	}
	if err := bev.rev.Add(t); err != nil {
		return err
	}
	bev.work |= bsReading
	if trim {
		bev.work |= bsTrimArmed
	} else {
		bev.work &^= bsTrimArmed
	}
	return nil
}

// storageLocked is the buffer storage an idle trim would give back. Its
// callers run on any goroutine (Enable, SetTimeouts), while a callback on
// the loop's may be handing Input's storage to Output, so it reads the
// copy the buffers keep for that (storageHeld), not the buffers. An answer
// out of date by that callback is harmless: a trim armed for storage
// given back meanwhile trims nothing, and storage taken meanwhile arms the
// trim at the next read, as after a trim.
func (bev *BufferEvent) storageLocked() int {
	n := bev.in().storageHeld() + bev.out().storageHeld()
	if bev.tlsConn() != nil {
		n += bev.tlsConn().storage()
	}
	return n
}

func (bev *BufferEvent) stopReadingLocked() {
	if bev.work&bsReading != 0 {
		bev.rev.Del()
		bev.work &^= bsReading | bsTrimArmed
	}
	bev.unparkLocked() // a parked wev alone must not keep the loop running
}

// startWritingLocked makes the write event pending, making it first if
// need be, unless a rate limit holds writing back (a connect waits for it
// all the same); it returns the loop's refusal.
func (bev *BufferEvent) startWritingLocked() error {
	if bev.work&bsWriting != 0 && !bev.sendingModeLocked() || bev.work&bsSending != 0 ||
		bev.fd < 0 || bev.life != lsConnecting && bev.rateHeldLocked(dirWrite) {
		return nil // a send in the kernel goes on first
	}
	ev, err := bev.writeEvent()
	if err == nil {
		err = ev.Add(bev.wtimeout)
	}
	if err != nil {
		return err
	}
	bev.work |= bsWriting
	return nil
}

// stopWritingLocked takes wev off the loop, but for a send in the
// kernel, which is not taken back: wev waits for it with no timeout.
func (bev *BufferEvent) stopWritingLocked() {
	if bev.work&bsSending != 0 {
		bev.wev.RemoveTimer()
		return
	}
	if bev.work&bsWriting != 0 {
		bev.wev.Del()
		bev.work &^= bsWriting | bsParked
	}
}

// SetWatermark sets the low and high watermarks for reading (event.Read)
// and/or the low watermark for writing (event.Write)
// (bufferevent_setwatermark). The read callback runs once Input holds at
// least the read low watermark; reading from the socket stops while Input
// holds the read high watermark (0: no limit), so a slow consumer bounds
// the memory a fast peer can make it use. The write callback runs when
// Output drains to the write low watermark. The write high watermark
// does not limit a socket, as in libevent; it bounds what a filter above
// this BufferEvent queues in its Output (NewFilter). Safe from any
// goroutine: it does not look at Input, which a callback may be
// draining, so with a read high watermark the loop compares Input with
// it, in the iteration after the call, and stops reading there or
// resumes it (a refused resume is reported as Reading|Error). It returns
// the loop's refusal of that work, or, when the read high watermark is
// 0, the loop's refusal to resume reading.
func (bev *BufferEvent) SetWatermark(what event.Flag, low, high int) error {
	if low < 0 || high < 0 || low > math.MaxInt32 || high > math.MaxInt32 ||
		(what&event.Read != 0 && high > 0 && low > high) {
		return fmt.Errorf("%w: low %d, high %d", ErrWatermark, low, high)
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.life == lsFreed {
		return ErrFreed
	}
	if what&event.Write != 0 {
		bev.wlow = int32(low)
		if high > 0 || bev.ext != nil {
			bev.extra().whigh = int32(high)
		}
	}
	if what&event.Read != 0 {
		bev.rlow, bev.rhigh = int32(low), int32(high)
		if high == 0 {
			return bev.resumeLocked() // no limit: reading resumes whatever Input holds
		}
		// Whether Input holds the new mark only the loop may look at: it
		// stops or resumes reading there (recheckLocked).
		return bev.queueLocked(bsCheckQueued)
	}
	return nil
}

func (bev *BufferEvent) suspendLocked() {
	bev.work |= bsSuspended
	bev.stopReadingLocked()
}

// resumeLocked restarts reading stopped at the high watermark once Input is
// below it again; it returns the loop's refusal.
func (bev *BufferEvent) resumeLocked() error {
	if bev.work&bsSuspended != 0 && (bev.rhigh == 0 || bev.in().Len() < int(bev.rhigh)) {
		bev.work &^= bsSuspended
		return bev.startReadingLocked()
	}
	return nil
}

// SetTimeouts sets the read and write timeouts; 0 disables one
// (bufferevent_set_timeouts). A read timeout passes when the socket stays
// unreadable that long while reading is enabled; a write timeout when
// pending output (or a Connect) makes no progress for that long. Either
// disables its direction and reports Reading|Timeout or Writing|Timeout;
// Enable turns it back on. It returns the error if the loop refuses the
// new timeouts. Safe from any goroutine; on an in-memory pair end or a
// filter, whose write timer runs only while Output holds data, the loop
// restarts that timer with the new timeout, as it looks at Output.
func (bev *BufferEvent) SetTimeouts(read, write time.Duration) error {
	if read < 0 || write < 0 {
		return fmt.Errorf("%w: %v, %v", event.ErrTimeout, read, write)
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.life == lsFreed {
		return ErrFreed
	}
	bev.rtimeout, bev.wtimeout = read, write
	if bev.fdlessLocked() {
		return bev.fdlessRearmLocked()
	}
	var rerr, werr error
	if bev.work&bsReading != 0 {
		rerr = bev.startReadingLocked() // re-arms with the new timeout
	}
	bev.unparkLocked() // nothing to time: the next send adds wev with its timeout
	if bev.work&bsWriting != 0 && (bev.work&bsSending == 0 || bev.enabled&event.Write != 0) {
		if write > 0 {
			werr = bev.wev.Add(write)
		} else {
			werr = bev.wev.RemoveTimer()
		}
	}
	return errors.Join(rerr, werr)
}

// Write appends p to Output; it is written to the socket as soon as it
// can be, never blocking the loop (bufferevent_write). It copies p, which
// the caller may reuse at once. After a write error it keeps returning
// that error, as bufio.Writer does. Safe from any goroutine.
func (bev *BufferEvent) Write(p []byte) (int, error) { return write(bev, p) }

// WriteString is Write for a string. Safe from any goroutine.
func (bev *BufferEvent) WriteString(s string) (int, error) { return write(bev, s) }

func write[T string | []byte](bev *BufferEvent, p T) (int, error) {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	switch {
	case bev.life == lsFreed:
		return 0, ErrFreed
	case bev.writeErr() != nil:
		return 0, bev.writeErr()
	case bev.work&bsCloseWrite != 0: // the shutdown waits for Output to drain
		return 0, ErrWriteClosed
	case len(p) == 0:
		return 0, nil
	}
	ringWrite(&bev.buffers().output, p)
	bev.scheduleFlushLocked() // refused only by a closed base, which runs nothing more
	return len(p), nil
}

// Read removes up to len(p) bytes from Input into p and returns how many
// (bufferevent_read); 0 when Input is empty. Safe from any goroutine, but
// not at the same time as the loop's goroutine uses Input directly.
func (bev *BufferEvent) Read(p []byte) int {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.life == lsFreed {
		return 0
	}
	k := bev.buffers().input.CopyOut(p)
	bev.buffers().input.drain(k)
	bev.inputDrainedLocked()
	return k
}

// bufferChanged runs when user code changes Input or Output.
func (bev *BufferEvent) bufferChanged(b *Buffer) {
	bev.mu.Lock()
	if bb := bev.bufs.Load(); bb != nil && b == &bb.output {
		bev.scheduleFlushLocked() // refused only by a closed base
	} else {
		bev.inputDrainedLocked()
	}
	bev.mu.Unlock()
}

// inputDrainedLocked resumes reading once Input is below the high
// watermark. Its callers (Read, user code draining Input) may run on any
// goroutine or inside a callback, so a refusal to resume is reported from
// the loop, through runDeferred, as Reading|Error.
func (bev *BufferEvent) inputDrainedLocked() {
	if err := bev.resumeLocked(); err != nil {
		bev.deferLocked(calls{what: bev.armFailedLocked(event.Read, err)})
	}
}

// Free releases the BufferEvent (bufferevent_free): its events (a rate
// limit's timer included) leave the loop, it leaves its rate-limit group,
// buffered data is dropped, and with CloseOnFree the descriptor is
// closed. Safe inside any of its callbacks and from any goroutine; no
// callback of it starts afterwards, and every later method returns
// ErrFreed (or nothing). The buffers' storage goes back to the pool on the
// loop's goroutine, which may be using them at this very moment.
//
// Freeing an end of an in-memory pair first hands its partner what the
// partner can take of Output now, as libevent's eager transfer would
// have, then unlinks the two: Partner returns nil, and the partner reads
// the end of the stream (Reading|EOF) as it would a closed socket's.
// Freeing a filter frees its underlying BufferEvent with CloseOnFree;
// without it, it gives the underlying back with no callbacks and reading
// enabled, as libevent does.
func (bev *BufferEvent) Free() {
	p := bev.lockWithPair()
	if bev.life == lsFreed {
		bev.mu.Unlock()
		p.unlock()
		return
	}
	partner := p.unlinkLocked(bev)
	f := bev.filterLocked()
	bev.freeLocked()
	if partner != nil {
		partner.mu.Unlock()
	}
	bev.mu.Unlock()
	p.unlock()
	if f != nil {
		f.release(Options(bev.opts)&CloseOnFree != 0)
	}
}

// freeLocked is the transition to freed.
func (bev *BufferEvent) freeLocked() {
	if bev.tlsConn() != nil {
		bev.tlsCloseLocked()
	}
	bev.life = lsFreed
	bev.work &= bsDeferQueued | bsQueued | bsDeferFirst
	bev.rev.Free()
	if bev.wev != nil {
		bev.wev.Free() // a send in the kernel finishes there, and the base keeps its bytes until then
	}
	if Options(bev.opts)&CloseOnFree != 0 && bev.fd >= 0 {
		sock.Close(int(bev.fd))
	}
	bev.fd = -1
	bev.readcb, bev.writecb, bev.eventcb = nil, nil, nil
	bev.pendWhat = 0
	bev.freeRateLimitLocked()
	bev.queueLocked(bsDeferQueued)
}
