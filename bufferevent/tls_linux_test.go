package bufferevent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

// A Go crypto/tls client talks to a TLS BufferEvent server (NewTLS, or a
// TLS filter over a socket BufferEvent) in TLS 1.2 and 1.3: Connected
// comes after the handshake, the read callback sees plaintext, and what it
// writes back is encrypted, a megabyte included.
func TestTLSServerEchoesAGoClient(t *testing.T) {
	for _, kind := range tlsServerKinds {
		for _, version := range tlsVersions {
			t.Run(kind.name+"/"+tls.VersionName(version), func(t *testing.T) {
				testTLSServerEchoesAGoClient(t, kind.make, version)
			})
		}
	}
}

func testTLSServerEchoesAGoClient(t *testing.T, makeServer tlsServerMaker, version uint16) {
	checkLeaks(t)
	b := startLoop(t)
	bev, c, _, ev := tlsServerAndGoClient(t, b, makeServer, version)
	handshakeConnected(t, c, ev)
	if st, ok := bev.TLSConnectionState(); !ok || st.Version != version {
		t.Fatalf("TLSConnectionState: %v, version %#x, want %#x", ok, st.Version, version)
	}
	for _, size := range []int{1, 1000, 1 << 20} {
		if err := roundTrip(c, pattern(size, byte(size))); err != nil {
			t.Fatal(err)
		}
	}
	checkInvariants(t, b, bev)
}

// A TLS BufferEvent client connects, shakes hands with a Go crypto/tls
// server, sends what was written before the handshake ended, reads the
// echo, and on Free sends close_notify: the server reads a clean end.
func TestTLSClientConnectsWritesAndClosesCleanly(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	scfg, ccfg := tlsConfigs(t)
	addr, closed := tlsEchoListener(t, scfg)
	bev, err := NewTLS(b, -1, ccfg, TLSConnecting, CloseOnFree)
	if err != nil {
		t.Fatal(err)
	}
	ev := newEvents()
	got := make(chan string, 4)
	var in []byte
	bev.SetCallbacks(func(bev *BufferEvent) {
		in = append(in, bev.Input().Peek(-1)...)
		bev.Input().Reset()
		if len(in) >= len("early, then late") {
			got <- string(in)
		}
	}, nil, ev.cb)
	bev.Enable(event.Read)
	if err := bev.Connect("tcp4", addr); err != nil {
		t.Fatal(err)
	}
	bev.WriteString("early, ") // waits for the handshake
	ev.expect(t, Connected)
	bev.WriteString("then late")
	if s := wait(t, got, "the echo"); s != "early, then late" {
		t.Fatalf("echo %q", s)
	}
	bev.Free()
	if err := wait(t, closed, "the server's end"); err != io.EOF {
		t.Fatalf("the server's read ended with %v, want io.EOF (close_notify)", err)
	}
}

// A client that sends garbage instead of a ClientHello fails the
// handshake: Error, with Err wrapping crypto/tls's error; the loop goes
// on and the handshake's goroutine ends.
func TestTLSHandshakeFailureIsAnError(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	scfg, _ := tlsConfigs(t)
	fd, raw := tcpFds(t, b)
	ev := newEvents()
	bev := tlsServer(t, b, fd, scfg, 0, ev)
	raw.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	if w := ev.next(t); w != Reading|Writing|Error {
		t.Fatalf("event %v, want Reading|Writing|Error", w)
	}
	var rh tls.RecordHeaderError
	if err := bev.Err(); !errors.As(err, &rh) {
		t.Fatalf("Err %v (%T), want a tls.RecordHeaderError inside", err, err)
	}
	if _, ok := bev.TLSConnectionState(); ok {
		t.Fatal("TLSConnectionState ok after a failed handshake")
	}
	checkInvariants(t, b, bev)
}

// A client that does not trust the server's certificate fails its
// handshake, with the verification error inside Err.
func TestTLSClientRefusesAnUntrustedServer(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	scfg, _ := tlsConfigs(t)
	addr, _ := tlsEchoListener(t, scfg)
	bev, err := NewTLS(b, -1, &tls.Config{ServerName: "localhost", RootCAs: x509.NewCertPool()}, TLSConnecting, CloseOnFree)
	if err != nil {
		t.Fatal(err)
	}
	defer bev.Free()
	ev := newEvents()
	bev.SetCallbacks(nil, nil, ev.cb)
	if err := bev.Connect("tcp4", addr); err != nil {
		t.Fatal(err)
	}
	if w := ev.next(t); w != Reading|Writing|Error {
		t.Fatalf("event %v, want Reading|Writing|Error", w)
	}
	var verr *tls.CertificateVerificationError
	if err := bev.Err(); !errors.As(err, &verr) {
		t.Fatalf("Err %v (%T), want a certificate verification error", err, err)
	}
}

// A handshake that never completes is cut by the read timeout, even with
// reading not enabled; Free then ends the handshake's goroutine.
func TestTLSHandshakeIsCutByTheReadTimeout(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	scfg, _ := tlsConfigs(t)
	fd, _ := tcpFds(t, b) // a client that sends nothing
	bev, err := NewTLS(b, fd, scfg, TLSAccepting, CloseOnFree)
	if err != nil {
		t.Fatal(err)
	}
	ev := newEvents()
	bev.SetCallbacks(nil, nil, ev.cb)
	bev.SetTimeouts(100*time.Millisecond, 0)
	if w := ev.next(t); w != Reading|Timeout {
		t.Fatalf("event %v, want Reading|Timeout", w)
	}
	bev.Free()
}

// Misuse is refused with an error.
func TestNewTLSRefusesMisuse(t *testing.T) {
	b := startLoop(t)
	scfg, _ := tlsConfigs(t)
	if _, err := NewTLS(b, -1, nil, TLSConnecting, 0); err == nil {
		t.Error("nil config accepted")
	}
	for _, st := range []TLSState{TLSOpen, 7} {
		if _, err := NewTLS(b, -1, scfg, st, 0); !errors.Is(err, ErrTLSState) {
			t.Errorf("state %d: %v, want ErrTLSState", st, err)
		}
	}
	if _, err := NewTLS(b, -1, scfg, TLSAccepting, 0); err == nil {
		t.Error("accepting side without a descriptor accepted")
	}
	bev, err := NewTLS(b, -1, scfg, TLSConnecting, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer bev.Free()
	if err := bev.SetFd(3); err == nil {
		t.Error("SetFd on a TLS BufferEvent accepted")
	}
}

// A client that reads late fills the socket both ways: the server keeps
// the plaintext in Output meanwhile and loses nothing.
func TestTLSServerWaitsForASlowReader(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	scfg, ccfg := tlsConfigs(t)
	fd, raw := tcpFds(t, b)
	ev := newEvents()
	bev := tlsServer(t, b, fd, scfg, 0, ev)
	c := tls.Client(raw, ccfg)
	msg := pattern(4<<20, 7)
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		werr <- err
	}()
	time.Sleep(300 * time.Millisecond)
	back := make([]byte, len(msg))
	if _, err := io.ReadFull(c, back); err != nil {
		t.Fatalf("read back: %v", err)
	}
	if err := wait(t, werr, "the client's write"); err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(back, msg); i >= 0 {
		t.Fatalf("echo differs at byte %d", i)
	}
	ev.expect(t, Connected)
	checkInvariants(t, b, bev)
}

// openssl s_client, in TLS 1.2 and 1.3, talks to a TLS BufferEvent
// server: its lines come back, and the server's close_notify after "quit"
// ends the client.
func TestTLSServerTalksToOpensslSClient(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skipf("openssl is not installed (%v; Debian: apt-get install openssl)", err)
	}
	certFile, _ := writeCertFiles(t)
	for _, version := range []string{"-tls1_2", "-tls1_3"} {
		t.Run(version, func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			scfg, _ := tlsConfigs(t)
			accept := func(l *listener.Listener, fd int, _ net.Addr) {
				bev, err := NewTLS(b, fd, scfg, TLSAccepting, CloseOnFree)
				if err != nil {
					t.Errorf("NewTLS: %v", err)
					unix.Close(fd)
					return
				}
				bev.SetCallbacks(func(bev *BufferEvent) {
					quit := bytes.Contains(bev.Input().Peek(-1), []byte("quit\n"))
					bev.Output().AddBuffer(bev.Input())
					if quit { // free it, with a close_notify, once the echo is out
						bev.SetCallbacks(nil, func(bev *BufferEvent) { bev.Free() }, nil)
					}
				}, nil, func(bev *BufferEvent, w What) {
					if w&(EOF|Error|Timeout) != 0 {
						bev.Free()
					}
				})
				bev.Enable(event.Read)
				l.Free()
			}
			l, err := listener.NewBind(b, accept, listener.Reuseable, 0, "tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", l.Addr().String(), version,
				"-quiet", "-CAfile", certFile, "-verify_return_error", "-servername", "localhost")
			cmd.Stdin = strings.NewReader("hello, levent\nquit\n")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("openssl s_client: %v\n%s", err, stderr.Bytes())
			}
			if string(out) != "hello, levent\nquit\n" {
				t.Fatalf("openssl s_client printed %q\nstderr: %s", out, stderr.Bytes())
			}
		})
	}
}

// Free on a TLS BufferEvent sends close_notify: a levent TLS server sees
// a clean end (Reading|EOF), not the dirty one it reports for a bare FIN.
func TestTLSFreeSendsCloseNotify(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	scfg, ccfg := tlsConfigs(t)
	sev := newEvents()
	accept := func(l *listener.Listener, fd int, _ net.Addr) {
		tlsServer(t, b, fd, scfg, 0, sev)
		l.Free()
	}
	l, err := listener.NewBind(b, accept, listener.Reuseable, 0, "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewTLS(b, -1, ccfg, TLSConnecting, CloseOnFree)
	if err != nil {
		t.Fatal(err)
	}
	cev := newEvents()
	echoed := make(chan struct{})
	client.SetCallbacks(func(bev *BufferEvent) {
		if bev.Input().Len() == len("ping") {
			close(echoed)
		}
	}, nil, cev.cb)
	client.Enable(event.Read)
	if err := client.Connect("tcp4", l.Addr().String()); err != nil {
		t.Fatal(err)
	}
	cev.expect(t, Connected)
	sev.expect(t, Connected)
	client.WriteString("ping")
	wait(t, echoed, "the echo")
	client.Free()
	if w := sev.next(t); w != Reading|EOF {
		t.Fatalf("server event %v, want Reading|EOF", w)
	}
}

// A quiet TLS connection gives back its ciphertext buffers' storage with
// its Input's and Output's, however many messages cycled through them.
func TestTLSIdleConnectionGivesItsStorageBack(t *testing.T) {
	checkLeaks(t)
	saved := idleTrim
	idleTrim = 10 * time.Millisecond
	t.Cleanup(func() { idleTrim = saved })
	b := startLoop(t)
	scfg, ccfg := tlsConfigs(t)
	fd, raw := tcpFds(t, b)
	ev := newEvents()
	bev := tlsServer(t, b, fd, scfg, 0, ev)
	c := tls.Client(raw, ccfg)
	for i := range 5 { // enough for the buffers to keep storage as they cycle
		if err := roundTrip(c, pattern(3000, byte(i))); err != nil {
			t.Fatal(err)
		}
	}
	waitLoop(t, b, "the idle trim", func() bool {
		bev.mu.Lock()
		defer bev.mu.Unlock()
		return bev.storageLocked() == 0
	})
}
