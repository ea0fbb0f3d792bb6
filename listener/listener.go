package listener

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
)

// Callback receives each accepted connection (evconnlistener_cb): its
// descriptor, non-blocking and close-on-exec (blocking with
// LeaveSocketsBlocking), and the peer's address, as Go's net package would
// report it (*net.TCPAddr or *net.UnixAddr; the empty name for a unix
// client that never bound, where net says "@"; nil for a socket family net
// has no address type for). The address is the callback's to keep. The
// callback owns the descriptor: hand it to bufferevent.New with
// CloseOnFree, or close it.
type Callback func(l *Listener, fd int, addr net.Addr)

// ErrorCallback receives accept errors (evconnlistener_errorcb), such as
// EMFILE (a unix.Errno) when the process is out of descriptors. Accepting
// is paused when it runs and resumes by itself; see Listener.
type ErrorCallback func(l *Listener, err error)

// Errors returned for misuse.
var (
	ErrFreed   = errors.New("listener: freed")
	ErrOptions = errors.New("listener: unknown options")
)

// Listener accepts connections on a listening socket and hands each to a
// callback on the loop's goroutine: libevent's evconnlistener.
//
// When accept fails for any reason other than an empty backlog (EMFILE,
// ENFILE, ENOBUFS...), the error callback runs and accepting pauses,
// 5 ms after the first failure, doubling with each failure in a row up to
// one second, so that a process out of descriptors neither spins on the
// connection it cannot take nor stops accepting for good.
//
// Enable, Disable, SetCallback, SetErrorCallback and Free are safe from
// any goroutine, Free also from inside the callbacks.
//
// Locks: l.mu is taken before the base's lock (l.mu → base.mu), never
// the other way, and never held while a callback runs.
type Listener struct {
	mu      sync.Mutex
	base    *event.Base
	ev      event.Event // Read|Persist on fd
	pause   event.Event // back-off timer
	fd      int
	network string
	addr    net.Addr
	opts    Options
	kernel  bool   // the base accepts in the kernel for ev (Accept flag)
	owned   bool   // NewBind created fd: Free closes it
	path    string // unix socket path NewBind bound: Free removes it
	cb      Callback
	errcb   ErrorCallback
	enabled bool          // the user wants accepting
	paused  bool          // backing off after a failed accept
	delay   time.Duration // the next back-off
	freed   bool
}

// NewBind listens on address and accepts connections from it
// (evconnlistener_new_bind). network is "tcp", "tcp4", "tcp6" or "unix";
// address is written as Go writes it: ":9527", "127.0.0.1:0", "[::1]:0",
// "/tmp/x.sock", or "@name" for Linux's abstract namespace. Addr reports
// the address really bound, so port 0 works. backlog <= 0 picks the system
// maximum. Safe from any goroutine.
//
// The socket is levent's: Free always closes it and removes a unix socket
// path it created, CloseOnFree or not (libevent leaks the socket without
// LEV_OPT_CLOSE_ON_FREE; nothing could use it after Free).
func NewBind(b *event.Base, cb Callback, opts Options, backlog int, network, address string) (*Listener, error) {
	if err := checkArgs(b, opts); err != nil {
		return nil, err
	}
	fd, addr, err := sock.Listen(network, address, sock.ListenOptions{
		ReuseAddr:       opts&Reuseable != 0,
		ReusePort:       opts&ReuseablePort != 0,
		IPv6Only:        opts&BindIPv6Only != 0,
		DeferAccept:     opts&DeferredAccept != 0,
		RemoveStaleUnix: opts&RemoveStaleUnix != 0,
		Backlog:         max(backlog, 0),
	})
	if err != nil {
		return nil, err
	}
	path := ""
	if network == "unix" && !strings.HasPrefix(address, "@") {
		path = address
	}
	l := &Listener{owned: true, path: path}
	if err := l.init(b, cb, opts, fd, network, addr); err != nil {
		sock.Close(fd)
		if path != "" {
			os.Remove(path)
		}
		return nil, err
	}
	return l, nil
}

// New accepts connections on fd, a stream socket the caller created and
// bound (evconnlistener_new). backlog > 0 makes New call listen with it,
// backlog < 0 with SOMAXCONN; with 0 a socket that is not listening yet
// gets the system maximum. New makes fd non-blocking, and close-on-exec
// with CloseOnExec. The descriptor stays the caller's unless CloseOnFree.
// Safe from any goroutine.
func New(b *event.Base, cb Callback, opts Options, backlog int, fd int) (*Listener, error) {
	if err := checkArgs(b, opts); err != nil {
		return nil, err
	}
	if fd < 0 {
		return nil, fmt.Errorf("%w: %d", event.ErrBadFd, fd)
	}
	if backlog != 0 {
		if backlog < 0 {
			backlog = unix.SOMAXCONN
		}
		if err := unix.Listen(fd, backlog); err != nil {
			return nil, os.NewSyscallError("listen", err)
		}
	}
	addr, err := sock.ListenFd(fd)
	if err != nil {
		return nil, err
	}
	if opts&CloseOnExec != 0 {
		unix.CloseOnExec(fd)
	}
	l := new(Listener)
	if err := l.init(b, cb, opts, fd, addr.Network(), addr); err != nil {
		return nil, err
	}
	return l, nil
}

func checkArgs(b *event.Base, opts Options) error {
	if b == nil {
		return event.ErrNilBase
	}
	if opts&^allOptions != 0 {
		return fmt.Errorf("%w: %#x", ErrOptions, int(opts&^allOptions))
	}
	return nil
}

// init sets l up and, unless Disabled, starts accepting: from then on the
// loop may run the callback, which may call Free, so every field must be
// set before.
func (l *Listener) init(b *event.Base, cb Callback, opts Options, fd int, network string, addr net.Addr) error {
	if network == "tcp4" || network == "tcp6" {
		network = "tcp"
	}
	l.base, l.fd, l.network, l.addr, l.opts, l.cb, l.delay = b, fd, network, addr, opts, cb, minBackoff
	what := event.Read | event.Persist
	if b.Accepts() && opts&LeaveSocketsBlocking == 0 {
		// io_uring accepts as connections arrive, always non-blocking.
		what |= event.Accept
		l.kernel = true
	}
	if err := l.ev.Assign(b, fd, what, l.onAccept); err != nil {
		return err
	}
	if err := l.pause.Assign(b, -1, 0, l.onPauseEnd); err != nil {
		return err
	}
	if opts&Disabled == 0 {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.enabled = true
		if err := l.syncLocked(); err != nil {
			l.ev.Free()
			return err
		}
	}
	return nil
}

// syncLocked makes the accept event pending exactly when the listener is
// enabled, has a callback and is not backing off.
func (l *Listener) syncLocked() error {
	if l.enabled && l.cb != nil && !l.paused && !l.freed {
		return l.ev.Add(0)
	}
	return l.ev.Del()
}

// Enable starts accepting (evconnlistener_enable). It returns the error
// if the loop refuses to watch the socket. Safe from any goroutine.
func (l *Listener) Enable() error { return l.setEnabled(true) }

// Disable stops accepting; connections wait in the kernel's backlog
// (evconnlistener_disable). Safe from any goroutine.
func (l *Listener) Disable() error { return l.setEnabled(false) }

func (l *Listener) setEnabled(on bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.freed {
		return ErrFreed
	}
	l.enabled = on
	return l.syncLocked()
}

// SetCallback replaces the accept callback (evconnlistener_set_cb); with
// nil the listener stops accepting until a callback is set again. Safe
// from any goroutine.
func (l *Listener) SetCallback(cb Callback) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.freed {
		return ErrFreed
	}
	l.cb = cb
	return l.syncLocked()
}

// SetErrorCallback sets the callback for accept errors
// (evconnlistener_set_error_cb). Safe from any goroutine.
func (l *Listener) SetErrorCallback(cb ErrorCallback) {
	l.mu.Lock()
	if !l.freed {
		l.errcb = cb
	}
	l.mu.Unlock()
}

// Fd returns the listening descriptor (evconnlistener_get_fd). Safe from
// any goroutine.
func (l *Listener) Fd() int { return l.fd }

// Addr returns the address the listener is bound to, as the kernel reports
// it (getsockname): the port chosen for port 0 included. Safe from any
// goroutine.
func (l *Listener) Addr() net.Addr { return l.addr }

// Base returns the listener's base (evconnlistener_get_base). Safe from
// any goroutine.
func (l *Listener) Base() *event.Base { return l.base }

// Free stops accepting and releases the listener (evconnlistener_free).
// The descriptor is closed if NewBind created it or with CloseOnFree, and
// a unix socket path NewBind created is removed. Safe from the callbacks
// and from any goroutine; no callback starts after it returns.
func (l *Listener) Free() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.freed {
		return
	}
	l.freed = true
	l.ev.Free()
	l.pause.Free()
	if l.owned || l.opts&CloseOnFree != 0 {
		sock.Close(l.fd)
	}
	if l.path != "" {
		os.Remove(l.path)
	}
	l.cb, l.errcb = nil, nil
}
