package bufferevent

import (
	"errors"
	"fmt"
	"math"
	"sync"
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
// Write, WriteString, Read, Enable, Disable, Enabled, SetWatermark,
// SetTimeouts, SetCallbacks, Fd, Err and Free are safe from any goroutine.
// Input and Output return the buffers themselves, which belong to the
// loop's goroutine: use them only in callbacks or in functions handed to
// (*event.Base).Submit, and not at the same time as other goroutines call
// Write or Read. Callbacks run on the loop's goroutine without any lock
// held, so they may call any method, Free included.
type BufferEvent struct {
	mu   sync.Mutex
	base *event.Base

	rev event.Event // Read|Persist on fd
	// wev is Write|Persist on fd, made when first needed (writeEvent):
	// a connection whose writes never find the socket full (most of them,
	// and every idle one) never needs it, and saves its 96 bytes.
	wev           *event.Event
	input, output Buffer

	readcb, writecb func(*BufferEvent)
	eventcb         func(*BufferEvent, What)

	rtimeout time.Duration
	wtimeout time.Duration
	err      error // the socket error behind the last Error event (or a connect refused at once)
	werr     error // sticky: after a write error Write refuses

	// The small fields, packed: a BufferEvent is what every connection
	// costs, and it stays in the 352-byte size class (TestBufferEventSize).
	fd          int32
	rlow, rhigh int32      // read watermarks; rhigh 0: no limit
	wlow        int32      // write low watermark
	enabled     event.Flag // Read and Write as the user asked
	state       uint16
	pendWhat    What  // event callback conditions held back by DeferCallbacks
	opts        uint8 // the Options given to New

	// runQueued's method value, made the first time it is handed to
	// Submit and kept, so that doing it again allocates nothing.
	queuedFn func()
}

// BufferEvent state bits.
//
//	bsReading  ⇔ rev is pending (reading enabled, connected, not suspended)
//	bsWriting  ⇔ wev is pending (connecting, or output waits for room)
//	bsSuspended: input reached the read high watermark; reading resumes
//	             when it is drained below.
const (
	bsFreed       uint16 = 1 << iota
	bsConnecting         // waiting for a non-blocking connect to finish
	bsResolving          // ConnectHostname is resolving
	bsSuspended          // reading stopped at the read high watermark
	bsWriting            // wev is pending
	bsReading            // rev is pending
	bsFlushQueued        // a flush is due on the loop (see queueLocked)
	bsInCallback         // the read callback runs: its output is written when it returns
	bsTrimArmed          // rev's timeout is the idle trim, not a read timeout
	bsDeferQueued        // runDeferred is due on the loop
	bsPendRead           // DeferCallbacks: the read callback is due
	bsPendWrite          // DeferCallbacks: the write callback is due
	bsRefused            // Connect failed at once; err holds why
	bsQueued             // runQueued is submitted and has not started
	bsDeferFirst         // with both due, runDeferred was asked for first
)

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
	bev.output.owner = bev
	bev.input.owner = bev
	if fd >= 0 {
		if err := bev.setFd(fd); err != nil {
			return nil, err
		}
	}
	return bev, nil
}

// setFd binds the read and write events to fd, which it makes
// non-blocking if it is not: the loop must never sleep in a read or write,
// and the buffers' I/O relies on it (see ringSyscall).
func (bev *BufferEvent) setFd(fd int) error {
	if err := setNonblock(fd); err != nil {
		return err
	}
	if err := bev.rev.Assign(bev.base, fd, event.Read|event.Persist, bev.onRead); err != nil {
		return err
	}
	if bev.wev != nil {
		if err := bev.wev.Assign(bev.base, fd, event.Write|event.Persist, bev.onWrite); err != nil {
			return err
		}
	}
	bev.fd = int32(fd)
	return nil
}

// writeEvent returns wev, making it on first use; fd must be set.
func (bev *BufferEvent) writeEvent() (*event.Event, error) {
	if bev.wev == nil {
		ev, err := event.New(bev.base, int(bev.fd), event.Write|event.Persist, bev.onWrite)
		if err != nil {
			return nil, err
		}
		bev.wev = ev
	}
	return bev.wev, nil
}

// SetFd makes the BufferEvent work on fd, a connected socket (made
// non-blocking if it is not), from now on, or on no descriptor with -1 (bufferevent_setfd).
// The previous descriptor is not closed, whatever the options say; data
// already buffered stays, and reading and writing resume on fd as enabled.
// It is refused while a Connect is under way. Loop goroutine only (or
// before the loop runs): it re-binds the events the loop dispatches.
func (bev *BufferEvent) SetFd(fd int) error {
	if fd < -1 {
		return fmt.Errorf("%w: %d", event.ErrBadFd, fd)
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.state&bsFreed != 0 {
		return ErrFreed
	}
	if bev.state&(bsConnecting|bsResolving) != 0 {
		return ErrConnecting
	}
	bev.stopReadingLocked()
	bev.stopWritingLocked()
	bev.rev.Del()
	if bev.wev != nil {
		bev.wev.Del()
	}
	if fd < 0 {
		bev.fd = -1
		return nil
	}
	if err := bev.setFd(fd); err != nil {
		bev.fd = -1
		return err
	}
	if err := bev.startReadingLocked(); err != nil {
		return err
	}
	bev.scheduleFlushLocked()
	return nil
}

// SetCallbacks sets the read, write and event callbacks; nil disables one
// (bufferevent_setcb). Safe from any goroutine.
func (bev *BufferEvent) SetCallbacks(read, write func(*BufferEvent), eventcb func(*BufferEvent, What)) {
	bev.mu.Lock()
	if bev.state&bsFreed == 0 {
		bev.readcb, bev.writecb, bev.eventcb = read, write, eventcb
	}
	bev.mu.Unlock()
}

// Base returns the BufferEvent's base (bufferevent_get_base). Safe from any
// goroutine.
func (bev *BufferEvent) Base() *event.Base { return bev.base }

// Fd returns the descriptor (bufferevent_getfd): -1 before Connect and
// after Free. Safe from any goroutine.
func (bev *BufferEvent) Fd() int {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	return int(bev.fd)
}

// Err returns the error behind the last Error event: a syscall.Errno
// such as ECONNREFUSED or ECONNRESET, or the resolver's error after
// ConnectHostname (bufferevent_socket_get_dns_error and
// EVUTIL_SOCKET_ERROR together). nil if there was none. Safe from any
// goroutine.
func (bev *BufferEvent) Err() error {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	return bev.err
}

// Input returns the input buffer (bufferevent_get_input). Loop goroutine
// only. Draining it below the read high watermark resumes reading.
func (bev *BufferEvent) Input() *Buffer { return &bev.input }

// Output returns the output buffer (bufferevent_get_output). Loop goroutine
// only; data added to it is written as soon as the socket allows.
func (bev *BufferEvent) Output() *Buffer { return &bev.output }

// Enabled reports which of event.Read and event.Write are enabled
// (bufferevent_get_enabled). Safe from any goroutine.
func (bev *BufferEvent) Enabled() event.Flag {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	return bev.enabled
}

// Enable turns reading and/or writing on (bufferevent_enable); other bits
// of what are ignored. Safe from any goroutine.
func (bev *BufferEvent) Enable(what event.Flag) error {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.state&bsFreed != 0 {
		return ErrFreed
	}
	bev.enabled |= what & (event.Read | event.Write)
	if what&event.Read != 0 {
		if err := bev.startReadingLocked(); err != nil {
			return err
		}
	}
	if what&event.Write != 0 {
		bev.scheduleFlushLocked()
	}
	return nil
}

// Disable turns reading and/or writing off (bufferevent_disable). Data
// already buffered stays. Disabling writing does not stop a Connect in
// progress. Safe from any goroutine.
func (bev *BufferEvent) Disable(what event.Flag) error {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.state&bsFreed != 0 {
		return ErrFreed
	}
	bev.enabled &^= what & (event.Read | event.Write)
	if what&event.Read != 0 {
		bev.stopReadingLocked()
	}
	if what&event.Write != 0 && bev.state&bsConnecting == 0 {
		bev.stopWritingLocked()
	}
	return nil
}

// startReadingLocked makes the read event pending, or re-arms its timeout,
// if reading is enabled and nothing holds it back. Without a read timeout
// the event carries the idle-trim timeout instead, if a buffer holds
// storage to trim, and no timeout otherwise.
func (bev *BufferEvent) startReadingLocked() error {
	if bev.fd < 0 || bev.enabled&event.Read == 0 || bev.state&(bsConnecting|bsSuspended|bsFreed) != 0 {
		return nil
	}
	t := bev.rtimeout
	trim := t == 0 && bev.input.Cap()+bev.output.Cap() > 0
	if trim {
		t = idleTrim
	}
	if t == 0 && bev.state&bsReading != 0 {
		bev.rev.RemoveTimer() // Add(0) would keep a read timeout just cleared
	}
	if err := bev.rev.Add(t); err != nil {
		return err
	}
	bev.state |= bsReading
	if trim {
		bev.state |= bsTrimArmed
	} else {
		bev.state &^= bsTrimArmed
	}
	return nil
}

func (bev *BufferEvent) stopReadingLocked() {
	if bev.state&bsReading != 0 {
		bev.rev.Del()
		bev.state &^= bsReading | bsTrimArmed
	}
}

func (bev *BufferEvent) startWritingLocked() {
	if bev.state&bsWriting == 0 && bev.fd >= 0 {
		if ev, err := bev.writeEvent(); err == nil && ev.Add(bev.wtimeout) == nil {
			bev.state |= bsWriting
		}
	}
}

func (bev *BufferEvent) stopWritingLocked() {
	if bev.state&bsWriting != 0 {
		bev.wev.Del()
		bev.state &^= bsWriting
	}
}

// SetWatermark sets the low and high watermarks for reading (event.Read)
// and/or the low watermark for writing (event.Write)
// (bufferevent_setwatermark). The read callback runs once Input holds at
// least the read low watermark; reading from the socket stops while Input
// holds the read high watermark (0: no limit), so a slow consumer bounds
// the memory a fast peer can make it use. The write callback runs when
// Output drains to the write low watermark. high is ignored for writing,
// as libevent ignores it for a socket. Safe from any goroutine.
func (bev *BufferEvent) SetWatermark(what event.Flag, low, high int) error {
	if low < 0 || high < 0 || low > math.MaxInt32 || high > math.MaxInt32 ||
		(what&event.Read != 0 && high > 0 && low > high) {
		return fmt.Errorf("%w: low %d, high %d", ErrWatermark, low, high)
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.state&bsFreed != 0 {
		return ErrFreed
	}
	if what&event.Write != 0 {
		bev.wlow = int32(low)
	}
	if what&event.Read != 0 {
		bev.rlow, bev.rhigh = int32(low), int32(high)
		if high > 0 && bev.input.Len() >= high {
			bev.suspendLocked()
		} else {
			bev.resumeLocked()
		}
	}
	return nil
}

func (bev *BufferEvent) suspendLocked() {
	bev.state |= bsSuspended
	bev.stopReadingLocked()
}

// resumeLocked restarts reading stopped at the high watermark once Input is
// below it again.
func (bev *BufferEvent) resumeLocked() {
	if bev.state&bsSuspended != 0 && (bev.rhigh == 0 || bev.input.Len() < int(bev.rhigh)) {
		bev.state &^= bsSuspended
		bev.startReadingLocked()
	}
}

// SetTimeouts sets the read and write timeouts; 0 disables one
// (bufferevent_set_timeouts). A read timeout passes when the socket stays
// unreadable that long while reading is enabled; a write timeout when
// pending output (or a Connect) makes no progress for that long. Either
// disables its direction and reports Reading|Timeout or Writing|Timeout;
// Enable turns it back on. Safe from any goroutine.
func (bev *BufferEvent) SetTimeouts(read, write time.Duration) error {
	if read < 0 || write < 0 {
		return fmt.Errorf("%w: %v, %v", event.ErrTimeout, read, write)
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.state&bsFreed != 0 {
		return ErrFreed
	}
	bev.rtimeout, bev.wtimeout = read, write
	if bev.state&bsReading != 0 {
		bev.startReadingLocked() // re-arms with the new timeout
	}
	if bev.state&bsWriting != 0 {
		if write > 0 {
			bev.wev.Add(write)
		} else {
			bev.wev.RemoveTimer()
		}
	}
	return nil
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
	case bev.state&bsFreed != 0:
		return 0, ErrFreed
	case bev.werr != nil:
		return 0, bev.werr
	case len(p) == 0:
		return 0, nil
	}
	ringWrite(&bev.output, p)
	bev.scheduleFlushLocked()
	return len(p), nil
}

// Read removes up to len(p) bytes from Input into p and returns how many
// (bufferevent_read); 0 when Input is empty. Safe from any goroutine, but
// not at the same time as the loop's goroutine uses Input directly.
func (bev *BufferEvent) Read(p []byte) int {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.state&bsFreed != 0 {
		return 0
	}
	k := bev.input.CopyOut(p)
	bev.input.drain(k)
	bev.resumeLocked()
	return k
}

// bufferChanged runs when user code changes Input or Output.
func (bev *BufferEvent) bufferChanged(b *Buffer) {
	if b == &bev.output {
		bev.outputChanged()
	} else {
		bev.inputChanged()
	}
}

// outputChanged runs when user code changes Output directly.
func (bev *BufferEvent) outputChanged() {
	bev.mu.Lock()
	bev.scheduleFlushLocked()
	bev.mu.Unlock()
}

// inputChanged runs when user code drains Input directly.
func (bev *BufferEvent) inputChanged() {
	bev.mu.Lock()
	bev.resumeLocked()
	bev.mu.Unlock()
}

// Free releases the BufferEvent (bufferevent_free): its events leave the
// loop, buffered data is dropped, and with CloseOnFree the descriptor is
// closed. Safe inside any of its callbacks and from any goroutine; no
// callback of it starts afterwards, and every later method returns
// ErrFreed (or nothing). The buffers' storage goes back to the pool on the
// loop's goroutine, which may be using them at this very moment.
func (bev *BufferEvent) Free() {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.state&bsFreed != 0 {
		return
	}
	bev.state = bsFreed | bev.state&(bsDeferQueued|bsQueued|bsDeferFirst)
	bev.rev.Free()
	if bev.wev != nil {
		bev.wev.Free()
	}
	if Options(bev.opts)&CloseOnFree != 0 && bev.fd >= 0 {
		sock.Close(int(bev.fd))
	}
	bev.fd = -1
	bev.readcb, bev.writecb, bev.eventcb = nil, nil, nil
	bev.pendWhat = 0
	bev.queueLocked(bsDeferQueued)
}
