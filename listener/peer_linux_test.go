package listener

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// netPeer is what Go's net package reports as the peer of connection fd:
// the RemoteAddr of a net.Conn made from a duplicate of it (FileConn
// duplicates again and asks getpeername, as net's own accept does).
func netPeer(t *testing.T, fd int) net.Addr {
	t.Helper()
	dup, err := unix.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(dup), "peer")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.RemoteAddr()
}

// The callback's peer address is the one Go's net reports for the same
// connection: same type, same IP length (4 bytes for an IPv4 peer, 16 on
// an IPv6 socket, v4-mapped peers included), same Net and Name for unix
// peers, abstract ones written with '@'. The one deliberate difference is
// the unnamed unix peer, a client that never bound: net reports "@",
// because syscall reads the zeroed buffer as an abstract name without
// looking at the length, so it cannot be told from a client bound to the
// empty abstract name; levent reports the empty name.
func TestCallbackGetsThePeerAddressNetReports(t *testing.T) {
	dir := t.TempDir()
	abstract := "@levent-listener-peer-" + strconv.Itoa(os.Getpid())
	for _, tc := range []struct {
		name, network, address string
		dialNet                string   // "" for the listener's own network
		local                  net.Addr // the client binds this first
		needIPv6               bool
		unnamed                bool
	}{
		{name: "tcp4", network: "tcp4", address: "127.0.0.1:0"},
		{name: "tcp6", network: "tcp6", address: "[::1]:0", needIPv6: true},
		{name: "v4-on-dual-stack", network: "tcp", address: ":0", dialNet: "tcp4", needIPv6: true},
		{name: "unix-unnamed", network: "unix", address: filepath.Join(dir, "a.sock"), unnamed: true},
		{name: "unix-path", network: "unix", address: filepath.Join(dir, "b.sock"),
			local: &net.UnixAddr{Name: filepath.Join(dir, "client.sock"), Net: "unix"}},
		{name: "unix-abstract", network: "unix", address: filepath.Join(dir, "c.sock"),
			local: &net.UnixAddr{Name: abstract, Net: "unix"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needIPv6 {
				skipWithoutIPv6(t)
			}
			noLeaks(t)
			b := newBase(t)
			got, cb := collect(t)
			l := bind(t, b, cb, 0, tc.network, tc.address)
			d := net.Dialer{Timeout: deadline, LocalAddr: tc.local}
			dialNet, raddr := tc.dialNet, l.Addr().String()
			if dialNet == "" {
				dialNet = l.Addr().Network()
			} else {
				raddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
			}
			c, err := d.Dial(dialNet, raddr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			loopUntil(t, b, "the connection", func() bool { return len(got.fds) == 1 })
			want := netPeer(t, got.fds[0])
			if tc.unnamed {
				if !reflect.DeepEqual(want, &net.UnixAddr{Name: "@", Net: "unix"}) {
					t.Fatalf("net's report of an unnamed unix peer: got %#v, want \"@\" (update this test)", want)
				}
				want = &net.UnixAddr{Name: "", Net: "unix"}
			}
			if !reflect.DeepEqual(got.addrs[0], want) {
				t.Errorf("peer address: got %#v, want %#v", got.addrs[0], want)
			}
		})
	}
}

// An accept costs the peer's net.Addr and nothing more: one allocation,
// where decoding into a unix.Sockaddr and converting that took three for
// a TCP peer (the sockaddr, the net.TCPAddr and its IP) and two for an
// unnamed unix one. The clients are connected beforehand, so only the
// accept and the callback are counted.
func TestAcceptAllocatesOnlyThePeerAddress(t *testing.T) {
	for _, tc := range []struct{ network, address string }{
		{"tcp4", "127.0.0.1:0"},
		{"unix", filepath.Join(t.TempDir(), "l.sock")},
	} {
		t.Run(tc.network, func(t *testing.T) {
			noLeaks(t)
			const runs = 20
			b := newBase(t)
			taken := 0
			l := bind(t, b, func(l *Listener, fd int, _ net.Addr) {
				unix.Close(fd)
				taken++
				// End the drain after this connection, so that each
				// onAccept below takes exactly one. The loop never runs
				// here, so the accept event need not follow.
				l.mu.Lock()
				l.enabled = false
				l.mu.Unlock()
			}, Disabled, tc.network, tc.address)
			for range runs + 1 { // AllocsPerRun calls f once more to warm up
				dial(t, l.Addr())
			}
			pfd := []unix.PollFd{{Fd: int32(l.Fd()), Events: unix.POLLIN}}
			allocs := testing.AllocsPerRun(runs, func() {
				for want := taken + 1; taken < want; {
					l.mu.Lock()
					l.enabled = true
					l.mu.Unlock()
					l.onAccept(l.Fd(), event.Read)
					if taken < want { // the handshake may still be on its way
						unix.Poll(pfd, 1000)
					}
				}
			})
			if taken != runs+1 {
				t.Fatalf("accepted %d connections, want %d", taken, runs+1)
			}
			if allocs != 1 {
				t.Errorf("allocations per accept: got %v, want 1", allocs)
			}
		})
	}
}
