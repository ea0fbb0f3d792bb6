package bufferevent

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/testcert"
	"github.com/levent-go/levent/listener"
)

// tlsConfigs returns a server configuration with the test certificate and
// a client one that trusts it, for ServerName localhost.
func tlsConfigs(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	cert, pool, err := testcert.Cert()
	if err != nil {
		t.Fatalf("test certificate: %v", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: pool, ServerName: "localhost"}
}

// writeCertFiles writes the test certificate and key as PEM files, for
// tools that take files, and returns their paths.
func writeCertFiles(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, err := testcert.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// tcpFds returns the server end of a loopback TCP connection as a
// descriptor for NewTLS, and the Go client end, closed when the test ends
// (the descriptor by the BufferEvent made on it, with CloseOnFree).
func tcpFds(t testing.TB, b *event.Base) (int, *net.TCPConn) {
	t.Helper()
	fds := make(chan int, 1)
	l, err := listener.NewBind(b, func(l *listener.Listener, fd int, _ net.Addr) {
		fds <- fd
		l.Free()
	}, 0, 0, "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp4", l.Addr().String(), deadline)
	if err != nil {
		l.Free()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(deadline))
	return wait(t, fds, "the accept callback"), c.(*net.TCPConn)
}

// tlsServer makes a TLS BufferEvent, the accepting side, on fd with an
// echo read callback and ev collecting its events; freed when the test
// ends.
func tlsServer(t testing.TB, b *event.Base, fd int, cfg *tls.Config, opts Options, ev *events) *BufferEvent {
	t.Helper()
	bev, err := NewTLS(b, fd, cfg, TLSAccepting, opts|CloseOnFree)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("NewTLS: %v", err)
	}
	t.Cleanup(bev.Free)
	bev.SetCallbacks(echoRead, nil, ev.cb)
	bev.Enable(event.Read)
	return bev
}

// tlsEchoListener is a Go crypto/tls server that echoes each connection,
// for levent's client side; it stops when the test ends.
func tlsEchoListener(t testing.TB, cfg *tls.Config) (addr string, closed <-chan error) {
	t.Helper()
	l, err := tls.Listen("tcp4", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(deadline))
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					done <- werr
					return
				}
			}
			if err != nil {
				done <- err // io.EOF after the client's close_notify
				return
			}
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l.Addr().String(), done
}

// tlsServerMaker is how a test makes its levent TLS server on a
// descriptor: tlsServer (NewTLS) or tlsFilterServer (NewTLSFilter).
type tlsServerMaker func(testing.TB, *event.Base, int, *tls.Config, Options, *events) *BufferEvent

// tlsServerAndGoClient makes a levent TLS server with makeServer on one
// end of a TCP connection, its events going to ev, and a Go crypto/tls
// client on the other, held to version unless it is 0. The handshake
// starts with the client's first Read, Write or Handshake; raw is the
// client's TCP connection under it.
func tlsServerAndGoClient(t testing.TB, b *event.Base, makeServer tlsServerMaker, version uint16) (
	bev *BufferEvent, c *tls.Conn, raw *net.TCPConn, ev *events) {
	t.Helper()
	scfg, ccfg := tlsConfigs(t)
	if version != 0 {
		ccfg.MinVersion, ccfg.MaxVersion = version, version
	}
	fd, raw := tcpFds(t, b)
	ev = newEvents()
	bev = makeServer(t, b, fd, scfg, 0, ev)
	return bev, tls.Client(raw, ccfg), raw, ev
}

// handshakeConnected completes the Go client's handshake and waits for
// the levent server's Connected.
func handshakeConnected(t testing.TB, c *tls.Conn, ev *events) {
	t.Helper()
	if err := c.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	ev.expect(t, Connected)
}
