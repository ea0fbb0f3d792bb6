package listener

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

func TestNewBindTCPAcceptsWithRealAddressAndPeer(t *testing.T) {
	noLeaks(t)
	b := newBase(t)
	got, cb := collect(t)
	l := bind(t, b, cb, 0, "tcp4", "127.0.0.1:0")
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok || addr.Port == 0 || !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("Addr: got %v, want 127.0.0.1 with the port the kernel chose", l.Addr())
	}
	if l.Base() != b {
		t.Errorf("Base: got %p, want %p", l.Base(), b)
	}
	if v, err := unix.GetsockoptInt(l.Fd(), unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || v != 1 {
		t.Errorf("Fd: SO_ACCEPTCONN got %d, %v, want a listening socket", v, err)
	}
	c := dial(t, l.Addr())
	loopUntil(t, b, "the accept callback", func() bool { return len(got.fds) == 1 })
	if got.addrs[0].String() != c.LocalAddr().String() {
		t.Errorf("peer address: got %v, want the client's %v", got.addrs[0], c.LocalAddr())
	}
	if nb, ce := fdFlags(t, got.fds[0]); !nb || !ce {
		t.Errorf("accepted socket: nonblock %v, cloexec %v, want both", nb, ce)
	}
	// The connection works: what the client sends arrives.
	c.Write([]byte("hi"))
	p := make([]byte, 2)
	pfd := []unix.PollFd{{Fd: int32(got.fds[0]), Events: unix.POLLIN}}
	unix.Poll(pfd, int(deadline.Milliseconds()))
	if n, err := unix.Read(got.fds[0], p); n != 2 || err != nil || string(p) != "hi" {
		t.Errorf("read on the accepted socket: got %q, %v", p[:max(n, 0)], err)
	}
}

// One readiness report drains the whole backlog: accept until EAGAIN.
func TestAcceptDrainsTheBacklogInOneIteration(t *testing.T) {
	noLeaks(t)
	const clients = 50
	b := newBase(t)
	got, cb := collect(t)
	l := bind(t, b, cb, Disabled, "tcp4", "127.0.0.1:0")
	for range clients {
		dial(t, l.Addr()) // complete in the kernel's backlog
	}
	if err := l.Enable(); err != nil {
		t.Fatal(err)
	}
	if err := b.Loop(event.LoopOnce); err != nil {
		t.Fatal(err)
	}
	if len(got.fds) != clients {
		t.Errorf("accepted in one iteration: got %d, want all %d", len(got.fds), clients)
	}
}

func TestDisableStopsAndEnableResumesAccepting(t *testing.T) {
	noLeaks(t)
	b := newBase(t)
	got, cb := collect(t)
	l := bind(t, b, cb, 0, "tcp4", "127.0.0.1:0")
	if err := l.Disable(); err != nil {
		t.Fatal(err)
	}
	dial(t, l.Addr())
	iterate(t, b)
	iterate(t, b)
	if len(got.fds) != 0 {
		t.Fatalf("accepted while disabled")
	}
	l.Enable()
	loopUntil(t, b, "the connection after Enable", func() bool { return len(got.fds) == 1 })
}

func TestSetCallbackNilPausesAndANewCallbackResumes(t *testing.T) {
	noLeaks(t)
	b := newBase(t)
	got, cb := collect(t)
	l := bind(t, b, nil, 0, "tcp4", "127.0.0.1:0") // no callback: not accepting
	dial(t, l.Addr())
	iterate(t, b)
	iterate(t, b)
	l.SetCallback(cb)
	loopUntil(t, b, "the connection after SetCallback", func() bool { return len(got.fds) == 1 })
	l.SetCallback(nil)
	dial(t, l.Addr())
	iterate(t, b)
	iterate(t, b)
	if len(got.fds) != 1 {
		t.Errorf("accepted after SetCallback(nil): got %d connections, want 1", len(got.fds))
	}
}

// Free from the accept callback stops the drain at once and closes the
// listening socket.
func TestFreeInsideAcceptCallbackStopsAccepting(t *testing.T) {
	noLeaks(t)
	b := newBase(t)
	got, collectCb := collect(t)
	l := bind(t, b, func(l *Listener, fd int, addr net.Addr) {
		collectCb(l, fd, addr)
		l.Free()
	}, 0, "tcp4", "127.0.0.1:0")
	for range 5 {
		dial(t, l.Addr())
	}
	loopUntil(t, b, "the accept callback", func() bool { return len(got.fds) > 0 })
	iterate(t, b)
	if len(got.fds) != 1 {
		t.Errorf("accepted: got %d, want 1 (Free in the callback stops the drain)", len(got.fds))
	}
	if isOpen(l.Fd()) {
		t.Errorf("listening socket %d is still open after Free", l.Fd())
	}
	if err := l.Enable(); !errors.Is(err, ErrFreed) {
		t.Errorf("Enable after Free: got %v, want ErrFreed", err)
	}
}

func TestMethodsAfterFreeReturnErrFreed(t *testing.T) {
	noLeaks(t)
	b := newBase(t)
	l := bind(t, b, func(*Listener, int, net.Addr) {}, 0, "tcp4", "127.0.0.1:0")
	l.Free()
	l.Free() // twice is fine
	for name, err := range map[string]error{
		"Enable":      l.Enable(),
		"Disable":     l.Disable(),
		"SetCallback": l.SetCallback(nil),
	} {
		if !errors.Is(err, ErrFreed) {
			t.Errorf("%s after Free: got %v, want ErrFreed", name, err)
		}
	}
	l.SetErrorCallback(func(*Listener, error) {}) // ignored, no panic
}

func TestNewBindUnixRemovesItsPathOnFree(t *testing.T) {
	noLeaks(t)
	b := newBase(t)
	got, cb := collect(t)
	path := filepath.Join(t.TempDir(), "l.sock")
	l, err := NewBind(b, cb, 0, 0, "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if a := l.Addr(); a.Network() != "unix" || a.String() != path {
		t.Errorf("Addr: got %s %q, want unix %q", a.Network(), a.String(), path)
	}
	dial(t, l.Addr())
	loopUntil(t, b, "the unix connection", func() bool { return len(got.fds) == 1 })
	l.Free()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket path after Free: got %v, want it removed", err)
	}
}

// An abstract name is no file: Free must not remove a file of that name
// in the working directory.
func TestNewBindAbstractUnixLeavesFilesAlone(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	name := "@levent-listener-test-" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	b := newBase(t)
	got, cb := collect(t)
	l, err := NewBind(b, cb, 0, 0, "unix", name)
	if err != nil {
		t.Fatal(err)
	}
	dial(t, l.Addr())
	loopUntil(t, b, "the connection", func() bool { return len(got.fds) == 1 })
	l.Free()
	if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
		t.Errorf("file named like the abstract socket: got %v after Free, want it untouched", err)
	}
}

func TestRemoveStaleUnixReplacesALeftOverSocketFile(t *testing.T) {
	noLeaks(t)
	b := newBase(t)
	path := filepath.Join(t.TempDir(), "stale.sock")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd) // the file stays, as after a crash
	if _, err := NewBind(b, nil, 0, 0, "unix", path); !errors.Is(err, unix.EADDRINUSE) {
		t.Fatalf("NewBind over a stale socket file: got %v, want EADDRINUSE", err)
	}
	bind(t, b, nil, RemoveStaleUnix, "unix", path)
}

func TestNewBindIPv6Loopback(t *testing.T) {
	skipWithoutIPv6(t)
	noLeaks(t)
	b := newBase(t)
	got, cb := collect(t)
	l := bind(t, b, cb, BindIPv6Only, "tcp6", "[::1]:0")
	if v, err := unix.GetsockoptInt(l.Fd(), unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); err != nil || v != 1 {
		t.Errorf("IPV6_V6ONLY: got %d, %v, want 1", v, err)
	}
	c := dial(t, l.Addr())
	loopUntil(t, b, "the IPv6 connection", func() bool { return len(got.fds) == 1 })
	if got.addrs[0].String() != c.LocalAddr().String() {
		t.Errorf("peer: got %v, want %v", got.addrs[0], c.LocalAddr())
	}
}

// Each socket option reaches the socket.
func TestOptionsSetSocketOptions(t *testing.T) {
	noLeaks(t)
	b := newBase(t)
	for _, tc := range []struct {
		opt         Options
		level, opt2 int
		name        string
	}{
		{Reuseable, unix.SOL_SOCKET, unix.SO_REUSEADDR, "SO_REUSEADDR"},
		{ReuseablePort, unix.SOL_SOCKET, unix.SO_REUSEPORT, "SO_REUSEPORT"},
		{DeferredAccept, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT"},
	} {
		l := bind(t, b, nil, tc.opt, "tcp4", "127.0.0.1:0")
		if v, err := unix.GetsockoptInt(l.Fd(), tc.level, tc.opt2); err != nil || v == 0 {
			t.Errorf("%s with its option: got %d, %v, want it set", tc.name, v, err)
		}
	}
}

func TestReuseablePortLetsTwoListenersShareAPort(t *testing.T) {
	noLeaks(t)
	b := newBase(t)
	first := bind(t, b, nil, ReuseablePort, "tcp4", "127.0.0.1:0")
	bind(t, b, nil, ReuseablePort, "tcp4", first.Addr().String())
	if _, err := NewBind(b, nil, 0, 0, "tcp4", first.Addr().String()); !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("third listener without ReuseablePort: got %v, want EADDRINUSE", err)
	}
}

func TestLeaveSocketsBlockingHandsOverBlockingSockets(t *testing.T) {
	noLeaks(t)
	b := newBase(t)
	got, cb := collect(t)
	l := bind(t, b, cb, LeaveSocketsBlocking, "tcp4", "127.0.0.1:0")
	dial(t, l.Addr())
	loopUntil(t, b, "the connection", func() bool { return len(got.fds) == 1 })
	if nb, ce := fdFlags(t, got.fds[0]); nb || !ce {
		t.Errorf("accepted socket: nonblock %v, cloexec %v, want blocking and close-on-exec", nb, ce)
	}
}

// newBoundSocket returns a TCP socket bound to a loopback port, blocking
// and without close-on-exec, as a parent process might hand one over.
func newBoundSocket(t *testing.T) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	return fd
}

// New takes a socket the caller bound; it stays the caller's unless
// CloseOnFree.
func TestNewOnCallersSocket(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		backlog int
		closed  bool
	}{
		{"backlog-0-not-listening", 0, 0, false},
		{"backlog-16", 0, 16, false},
		{"backlog-default", 0, -1, false},
		{"CloseOnFree", CloseOnFree, 16, true},
		{"CloseOnExec", CloseOnExec, 16, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			b := newBase(t)
			got, cb := collect(t)
			fd := newBoundSocket(t)
			l, err := New(b, cb, tc.opts, tc.backlog, fd)
			if err != nil {
				unix.Close(fd)
				t.Fatal(err)
			}
			if !tc.closed {
				// Closing it again after the listener did could close
				// a descriptor that has taken its number since.
				defer unix.Close(fd)
			}
			if nb, ce := fdFlags(t, fd); !nb || ce != (tc.opts&CloseOnExec != 0) {
				t.Errorf("listening socket: nonblock %v, cloexec %v, want non-blocking and cloexec %v", nb, ce, tc.opts&CloseOnExec != 0)
			}
			dial(t, l.Addr())
			loopUntil(t, b, "the connection", func() bool { return len(got.fds) == 1 })
			l.Free()
			if isOpen(fd) == tc.closed {
				t.Errorf("caller's socket open after Free: got %v, want %v", isOpen(fd), !tc.closed)
			}
		})
	}
}

func TestConstructorsRejectBadArguments(t *testing.T) {
	noLeaks(t)
	b := newBase(t)
	if _, err := NewBind(nil, nil, 0, 0, "tcp4", "127.0.0.1:0"); !errors.Is(err, event.ErrNilBase) {
		t.Errorf("NewBind(nil base): got %v, want event.ErrNilBase", err)
	}
	if _, err := NewBind(b, nil, 1<<12, 0, "tcp4", "127.0.0.1:0"); !errors.Is(err, ErrOptions) {
		t.Errorf("NewBind(unknown option): got %v, want ErrOptions", err)
	}
	for _, tc := range [][2]string{{"udp", "127.0.0.1:0"}, {"tcp4", "[::1]:0"}, {"tcp", "nonsense"}, {"unix", ""}} {
		if _, err := NewBind(b, nil, 0, 0, tc[0], tc[1]); err == nil {
			t.Errorf("NewBind(%q, %q): got nil, want an error", tc[0], tc[1])
		}
	}
	if _, err := New(b, nil, 0, 0, -1); !errors.Is(err, event.ErrBadFd) {
		t.Errorf("New(fd -1): got %v, want event.ErrBadFd", err)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := New(b, nil, 0, 0, int(f.Fd())); err == nil {
		t.Errorf("New on /dev/null: got nil, want an error")
	}
}

// libevent's LEV_OPT_* numbers.
func TestOptionsHaveLibeventValues(t *testing.T) {
	for i, o := range []Options{LeaveSocketsBlocking, CloseOnFree, CloseOnExec, Reuseable, ThreadSafe,
		Disabled, DeferredAccept, ReuseablePort, BindIPv6Only} {
		if o != 1<<i {
			t.Errorf("option %d: got %#x, want %#x", i, int(o), 1<<i)
		}
	}
}

// Enable, Disable and SetCallback from other goroutines while the loop
// accepts on its own: no race, and once accepting is left on, every client
// is served.
func TestEnableAndDisableFromOtherGoroutinesWhileLoopRuns(t *testing.T) {
	noLeaks(t)
	const clients = 100
	b := newBase(t)
	var n atomic.Int32
	l := bind(t, b, func(_ *Listener, fd int, _ net.Addr) {
		unix.Close(fd)
		n.Add(1)
	}, 0, "tcp4", "127.0.0.1:0")
	stop := make(chan struct{})
	loopDone := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				loopDone <- nil
				return
			default:
			}
			if err := b.Loop(event.LoopOnce); err != nil {
				loopDone <- err
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				switch (g + i) % 3 {
				case 0:
					l.Disable()
				case 1:
					l.Enable()
				default:
					l.SetErrorCallback(nil)
				}
			}
		}()
	}
	for range clients {
		c, err := net.DialTimeout("tcp4", l.Addr().String(), deadline)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	wg.Wait()
	l.Enable()
	for start := time.Now(); n.Load() < clients; time.Sleep(time.Millisecond) {
		if time.Since(start) > deadline {
			t.Fatalf("accepted %d of %d clients", n.Load(), clients)
		}
	}
	close(stop)
	b.LoopBreak() // ends a LoopOnce that waits; one starting later sees stop first
	if err := <-loopDone; err != nil {
		t.Fatal(err)
	}
}
