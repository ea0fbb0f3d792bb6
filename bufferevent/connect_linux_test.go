package bufferevent

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
)

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	fd, addr, err := sock.Listen("tcp4", "127.0.0.1:0", sock.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	return addr.String()
}

// connectClient returns a BufferEvent without a descriptor, reading
// enabled, whose read callback sends what it reads to the returned channel.
func connectClient(t *testing.T, b *event.Base) (*BufferEvent, *events, chan string) {
	t.Helper()
	bev := newBev(t, b, -1, CloseOnFree)
	t.Cleanup(bev.Free)
	ev := newEvents()
	reads := make(chan string, 16)
	bev.SetCallbacks(sendReads(reads), nil, ev.cb)
	bev.Enable(event.Read)
	return bev, ev, reads
}

// Data written before the connection is up goes out once it is, whether
// the connect finishes in the background (TCP) or at once (unix sockets).
func TestConnectReportsConnectedAndSendsEarlyWrites(t *testing.T) {
	for _, network := range []string{"tcp4", "unix"} {
		t.Run(network, func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			address := "127.0.0.1:0"
			if network == "unix" {
				address = filepath.Join(t.TempDir(), "s.sock")
			}
			s := startEchoServer(t, b, network, address)
			bev, ev, reads := connectClient(t, b)
			if fd := bev.Fd(); fd != -1 {
				t.Fatalf("Fd before Connect: got %d, want -1", fd)
			}
			bev.Write([]byte("early"))
			if err := bev.Connect(network, s.l.Addr().String()); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			ev.expect(t, Connected)
			if got := wait(t, reads, "the echo"); got != "early" {
				t.Errorf("echo of data written before Connect: got %q, want %q", got, "early")
			}
			bev.Write([]byte("later"))
			if got := wait(t, reads, "the echo"); got != "later" {
				t.Errorf("echo: got %q, want %q", got, "later")
			}
			if bev.Fd() < 0 || bev.Err() != nil {
				t.Errorf("after Connected: Fd %d, Err %v; want a descriptor and no error", bev.Fd(), bev.Err())
			}
		})
	}
}

func TestConnectToClosedPortReportsECONNREFUSED(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, ev, _ := connectClient(t, b)
	if err := bev.Connect("tcp4", closedPort(t)); err != nil {
		t.Fatalf("Connect: got %v, want nil (the refusal comes through the event callback)", err)
	}
	ev.expect(t, Error)
	wantErrno(t, "Err", bev.Err(), unix.ECONNREFUSED)
}

// A unix connect fails at once; Connect still returns nil and the error
// arrives from the loop, as libevent's connection_refused does.
func TestConnectRefusedAtOnceIsReportedThroughEventCallback(t *testing.T) {
	dir := t.TempDir()
	dead := filepath.Join(dir, "dead.sock")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: dead}); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd) // the socket file stays, nothing listens
	for _, tc := range []struct {
		name, path string
		want       unix.Errno
	}{
		{"missing-path", filepath.Join(dir, "none.sock"), unix.ENOENT},
		{"nobody-listening", dead, unix.ECONNREFUSED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			bev, ev, _ := connectClient(t, b)
			called := false
			bev.SetCallbacks(nil, nil, func(bev *BufferEvent, w What) { called = true; ev.cb(bev, w) })
			onLoop(t, b, func() {
				if err := bev.Connect("unix", tc.path); err != nil {
					t.Errorf("Connect: got %v, want nil", err)
				}
				if called {
					t.Errorf("event callback ran inside Connect")
				}
			})
			ev.expect(t, Error)
			wantErrno(t, "Err", bev.Err(), tc.want)
		})
	}
}

func TestConnectRejectsBadArguments(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev := newBev(t, b, -1, CloseOnFree)
	defer bev.Free()
	for _, tc := range [][2]string{
		{"tcp", "localhost:80"}, // names need ConnectHostname
		{"tcp", "127.0.0.1"},    // no port
		{"udp", "127.0.0.1:80"}, // not a stream network
		{"unix", ""},
		{"tcp4", "[::1]:80"},
	} {
		if err := bev.Connect(tc[0], tc[1]); err == nil {
			t.Errorf("Connect(%q, %q): got nil, want an error", tc[0], tc[1])
		}
	}
	if fd := bev.Fd(); fd != -1 {
		t.Errorf("Fd after failed Connects: got %d, want -1 (no socket left behind)", fd)
	}
}

func TestConnectWhileConnectingIsRefused(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	s := startEchoServer(t, b, "tcp4", "127.0.0.1:0")
	bev, ev, _ := connectClient(t, b)
	onLoop(t, b, func() {
		if err := bev.Connect("tcp4", s.l.Addr().String()); err != nil {
			t.Errorf("Connect: %v", err)
		}
		if err := bev.Connect("tcp4", s.l.Addr().String()); !errors.Is(err, ErrConnecting) {
			t.Errorf("second Connect: got %v, want ErrConnecting", err)
		}
	})
	ev.expect(t, Connected)
}

func TestConnectHostnameResolvesLocalhost(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	s := startEchoServer(t, b, "tcp4", "127.0.0.1:0")
	bev, ev, reads := connectClient(t, b)
	port := s.l.Addr().(*net.TCPAddr).Port
	if err := bev.ConnectHostname("tcp", "localhost", port); err != nil {
		t.Fatalf("ConnectHostname: %v", err)
	}
	ev.expect(t, Connected)
	bev.Write([]byte("by name"))
	if got := wait(t, reads, "the echo"); got != "by name" {
		t.Errorf("echo: got %q, want %q", got, "by name")
	}
}

// A resolver failure arrives as Error, with Err holding the resolver's
// error. The resolver is replaced so that the test sends no query.
func TestConnectHostnameReportsResolverError(t *testing.T) {
	checkLeaks(t)
	notFound := &net.DNSError{Err: "no such host", Name: "nowhere.test", IsNotFound: true}
	saved := lookupNetIP
	lookupNetIP = func(context.Context, string, string) ([]netip.Addr, error) { return nil, notFound }
	t.Cleanup(func() { lookupNetIP = saved })
	b := startLoop(t)
	bev, ev, _ := connectClient(t, b)
	if err := bev.ConnectHostname("tcp", "nowhere.test", 80); err != nil {
		t.Fatalf("ConnectHostname: %v", err)
	}
	ev.expect(t, Error)
	if err := bev.Err(); !errors.Is(err, notFound) {
		t.Errorf("Err: got %v, want the resolver's %v", err, notFound)
	}
	if err := bev.DNSErr(); err != notFound {
		t.Errorf("DNSErr: got %v, want the resolver's %v", err, notFound)
	}
}

// A connect refused after a good lookup is no resolver error: DNSErr is
// nil, as bufferevent_socket_get_dns_error is 0.
func TestDNSErrIsNilForARefusedConnect(t *testing.T) {
	checkLeaks(t)
	saved := lookupNetIP
	lookupNetIP = func(context.Context, string, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	t.Cleanup(func() { lookupNetIP = saved })
	b := startLoop(t)
	bev, ev, _ := connectClient(t, b)
	if err := bev.DNSErr(); err != nil {
		t.Errorf("DNSErr before any connect: %v", err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	if err := bev.ConnectHostname("tcp", "refusing.test", port); err != nil {
		t.Fatalf("ConnectHostname: %v", err)
	}
	ev.expect(t, Error)
	wantErrno(t, "Err", bev.Err(), unix.ECONNREFUSED)
	if err := bev.DNSErr(); err != nil {
		t.Errorf("DNSErr after a refused connect: %v", err)
	}
}

// For "tcp", an IPv4 address wins over an IPv6 one listed first, as in Go's
// net package; "tcp6" takes the IPv6 one.
func TestLookupFirstPrefersIPv4ForTCP(t *testing.T) {
	saved := lookupNetIP
	t.Cleanup(func() { lookupNetIP = saved })
	lookupNetIP = func(_ context.Context, network, _ string) ([]netip.Addr, error) {
		all := []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("::ffff:127.0.0.1")}
		if network == "ip6" {
			return all[:1], nil
		}
		return all, nil
	}
	for _, tc := range [][2]string{{"ip", "127.0.0.1"}, {"ip6", "::1"}} {
		if got, err := lookupFirst(tc[0], "h"); err != nil || got.String() != tc[1] {
			t.Errorf("lookupFirst(%s): got %v, %v, want %s", tc[0], got, err, tc[1])
		}
	}
}

func TestConnectHostnameRejectsBadArguments(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev := newBev(t, b, -1, CloseOnFree)
	defer bev.Free()
	for _, tc := range []struct {
		network, host string
		port          int
	}{{"unix", "localhost", 80}, {"udp", "localhost", 80}, {"tcp", "localhost", -1}, {"tcp", "localhost", 65536}, {"tcp", "", 80}} {
		if err := bev.ConnectHostname(tc.network, tc.host, tc.port); err == nil {
			t.Errorf("ConnectHostname(%q, %q, %d): got nil, want an error", tc.network, tc.host, tc.port)
		}
	}
}

// Free while the name is being resolved: the result is dropped, no
// callback runs and no socket is made.
func TestFreeWhileResolvingDropsTheResult(t *testing.T) {
	checkLeaks(t)
	release := make(chan struct{})
	saved := lookupNetIP
	lookupNetIP = func(context.Context, string, string) ([]netip.Addr, error) {
		<-release
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	t.Cleanup(func() { lookupNetIP = saved })
	b := startLoop(t)
	bev, ev, _ := connectClient(t, b)
	if err := bev.ConnectHostname("tcp", "h", 1); err != nil {
		t.Fatal(err)
	}
	bev.Free()
	close(release)
	settle(t, b)
	settle(t, b)
	select {
	case w := <-ev.ch:
		t.Errorf("event callback after Free: got %v", w)
	default:
	}
	if fd := bev.Fd(); fd != -1 {
		t.Errorf("Fd: got %d, want -1", fd)
	}
}

// A listener whose accept queue is full drops new SYNs, so a connect to it
// stays in progress: the write timeout must end it with Writing|Timeout,
// not report it as Connected.
func TestWriteTimeoutBoundsConnect(t *testing.T) {
	checkLeaks(t)
	lfd, addr, err := sock.Listen("tcp4", "127.0.0.1:0", sock.ListenOptions{Backlog: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(lfd)
	_, sa, _ := sock.ResolveAddr("tcp4", addr.String())
	// Fill the accept queue (backlog+1 on Linux) and then some; nothing
	// accepts.
	for range 4 {
		fd, err := sock.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		sock.Connect(fd, sa)
	}
	b := startLoop(t)
	bev, ev, _ := connectClient(t, b)
	bev.SetTimeouts(0, 50*time.Millisecond)
	if err := bev.Connect("tcp4", addr.String()); err != nil {
		t.Fatal(err)
	}
	ev.expect(t, Writing|Timeout)
	if got := bev.Enabled(); got&event.Write != 0 {
		t.Errorf("Enabled after a connect timeout: got %v, want writing off", got)
	}
}
