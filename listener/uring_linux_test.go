package listener

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// newURingBase is newBase on io_uring with the kernel accepting, or skips.
func newURingBase(t *testing.T) *event.Base {
	t.Helper()
	b, err := event.NewBaseWithConfig(event.Config{Method: "io_uring", IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.MethodFallback(); err != nil || !b.Accepts() {
		t.Skipf("io_uring does not accept in the kernel here (%v)", err)
	}
	tick, err := event.New(b, -1, event.Persist, func(int, event.Flag) {})
	if err != nil {
		t.Fatal(err)
	}
	tick.Add(time.Second)
	t.Cleanup(tick.Free)
	return b
}

// kernelListener binds a TCP listener on an io_uring base whose callback
// collects the connections and, after the first, calls then (Disable,
// Free...), and dials n clients before the loop runs, so that the kernel's
// accept takes them all at once and holds the rest when then runs.
func kernelListener(t *testing.T, n int, then func(*Listener)) (*event.Base, *Listener, *accepted, []net.Conn) {
	noLeaks(t)
	b := newURingBase(t)
	got, collectCb := collect(t)
	l := bind(t, b, func(l *Listener, fd int, addr net.Addr) {
		collectCb(l, fd, addr)
		if len(got.fds) == 1 {
			then(l)
		}
	}, 0, "tcp4", "127.0.0.1:0")
	if !l.kernel {
		t.Fatal("listener on io_uring does not take the kernel's connections")
	}
	var cs []net.Conn
	for range n {
		cs = append(cs, dial(t, l.Addr()))
	}
	loopUntil(t, b, "the first connection", func() bool { return len(got.fds) >= 1 })
	if nfd, _, err := unix.Accept4(l.Fd(), unix.SOCK_CLOEXEC); err != unix.EAGAIN && err != unix.EBADF { // EBADF: freed
		unix.Close(nfd)
		t.Fatalf("accept4 on the listening socket: %v, want EAGAIN (the kernel took every connection)", err)
	}
	return b, l, got, cs
}

// checkPeers checks that the callback got each client's own address.
func checkPeers(t *testing.T, got *accepted, cs []net.Conn) {
	t.Helper()
	for i, c := range cs {
		if i >= len(got.addrs) || got.addrs[i] == nil || got.addrs[i].String() != c.LocalAddr().String() {
			t.Errorf("connection %d: callback got %v, want the client's %v (all: %v)", i, got.addrs, c.LocalAddr(), got.addrs)
			return
		}
	}
}

// Connections the kernel accepted while the listener is disabled are
// handed over, in order and with their addresses, once it is enabled.
func TestIOURingDisableKeepsAcceptedConnections(t *testing.T) {
	b, l, got, cs := kernelListener(t, 3, func(l *Listener) { l.Disable() })
	for range 3 {
		iterate(t, b)
	}
	if len(got.fds) != 1 {
		t.Fatalf("disabled listener handed over %d connections, want 1", len(got.fds))
	}
	if err := l.Enable(); err != nil {
		t.Fatal(err)
	}
	loopUntil(t, b, "the connections held while disabled", func() bool { return len(got.fds) == 3 })
	checkPeers(t, got, cs)
}

// Freed with connections the kernel accepted for it, a listener closes
// them: their clients see the end of the stream while the base lives on.
func TestIOURingFreeClosesAcceptedConnections(t *testing.T) {
	_, _, got, cs := kernelListener(t, 3, func(l *Listener) { l.Free() })
	if len(got.fds) != 1 {
		t.Fatalf("handed over %d connections, want 1 before Free", len(got.fds))
	}
	for i, c := range cs[1:] {
		c.SetReadDeadline(time.Now().Add(deadline))
		if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil || isTimeout(err) {
			t.Errorf("client %d after Free: read %d, %v; want the end of stream", i+1, n, err)
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// A connection reset after the kernel accepted it, before the callback
// runs, is handed over with its peer's address, as accept4 would give it.
func TestIOURingResetConnectionKeepsItsAddress(t *testing.T) {
	b, l, got, cs := kernelListener(t, 2, func(l *Listener) { l.Disable() })
	addr := cs[1].LocalAddr()
	cs[1].(*net.TCPConn).SetLinger(0)
	cs[1].Close()
	if err := l.Enable(); err != nil {
		t.Fatal(err)
	}
	loopUntil(t, b, "the reset connection", func() bool { return len(got.fds) == 2 })
	if got.addrs[1] == nil || got.addrs[1].String() != addr.String() {
		t.Errorf("reset connection's address: got %v, want %v", got.addrs[1], addr)
	}
}
