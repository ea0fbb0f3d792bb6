package bufferevent

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

var tlsVersions = []uint16{tls.VersionTLS12, tls.VersionTLS13}

// newTLSFilter wraps NewTLSFilter for tests; freed when the test ends.
func newTLSFilter(t testing.TB, under *BufferEvent, cfg *tls.Config, state TLSState, opts Options) *BufferEvent {
	t.Helper()
	bev, err := NewTLSFilter(under, cfg, state, opts)
	if err != nil {
		t.Fatalf("NewTLSFilter: %v", err)
	}
	t.Cleanup(bev.Free)
	return bev
}

// tlsFilterServer is tlsServer with a TLS filter, over a socket
// BufferEvent on fd, instead of NewTLS.
func tlsFilterServer(t testing.TB, b *event.Base, fd int, cfg *tls.Config, opts Options, ev *events) *BufferEvent {
	t.Helper()
	under, err := New(b, fd, CloseOnFree)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("New: %v", err)
	}
	bev, err := NewTLSFilter(under, cfg, TLSAccepting, opts|CloseOnFree)
	if err != nil {
		under.Free()
		t.Fatalf("NewTLSFilter: %v", err)
	}
	t.Cleanup(bev.Free)
	bev.SetCallbacks(echoRead, nil, ev.cb)
	bev.Enable(event.Read)
	return bev
}

// tlsServerKinds are the two ways of making a levent TLS server on a
// descriptor: NewTLS on it, or NewTLSFilter over a BufferEvent on it.
var tlsServerKinds = []struct {
	name string
	make tlsServerMaker
}{{"NewTLS", tlsServer}, {"NewTLSFilter", tlsFilterServer}}

// underKinds make the two BufferEvents a test puts TLS filters over: the
// ends of a socket pair or of an in-memory pair.
var underKinds = []struct {
	name string
	make func(*event.Base, Options) (*BufferEvent, *BufferEvent, error)
}{{"socket", NewSocketPair}, {"memory", NewPair}}

// tlsFilterPair makes a client and a server TLS filter over the two ends
// of newPair, with CloseOnFree, in the given TLS version; the server
// echoes and sev collects its events.
func tlsFilterPair(t testing.TB, b *event.Base, newPair func(*event.Base, Options) (*BufferEvent, *BufferEvent, error),
	version uint16, sev *events) (client, server *BufferEvent) {
	t.Helper()
	scfg, ccfg := tlsConfigs(t)
	ccfg.MinVersion, ccfg.MaxVersion = version, version
	cu, su, err := newPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	server = newTLSFilter(t, su, scfg, TLSAccepting, CloseOnFree)
	server.SetCallbacks(echoRead, nil, sev.cb)
	server.Enable(event.Read)
	client = newTLSFilter(t, cu, ccfg, TLSConnecting, CloseOnFree)
	return client, server
}

// echoCheck is the client side of an echo test: its read callback
// collects what comes back.
type echoCheck struct {
	t    testing.TB
	b    *event.Base
	bev  *BufferEvent
	ev   *events
	got  []byte // loop goroutine only
	sent []byte
	lens chan int
}

// newEchoCheck sets bev's callbacks to collect what it reads and enables
// reading; its events go to ev.
func newEchoCheck(t testing.TB, b *event.Base, bev *BufferEvent) *echoCheck {
	e := &echoCheck{t: t, b: b, bev: bev, ev: newEvents(), lens: make(chan int, 1024)}
	bev.SetCallbacks(func(bev *BufferEvent) {
		e.got = append(e.got, bev.Input().Peek(-1)...)
		bev.Input().Reset()
		select {
		case e.lens <- len(e.got):
		default:
		}
	}, nil, e.ev.cb)
	bev.Enable(event.Read)
	return e
}

// send writes msg and waits until all that was sent is back, checking
// every byte.
func (e *echoCheck) send(msg []byte) {
	e.t.Helper()
	e.sent = append(e.sent, msg...)
	e.bev.Write(msg)
	for wait(e.t, e.lens, "the echo") < len(e.sent) {
	}
	onLoop(e.t, e.b, func() {
		if i := firstDiff(e.got, e.sent); i >= 0 {
			e.t.Errorf("echo differs at byte %d of %d", i, len(e.sent))
		}
	})
}

// freeSendsCloseNotify frees bev and checks that its peer, whose events
// sev collects, reads a clean end.
func freeSendsCloseNotify(t testing.TB, bev *BufferEvent, sev *events) {
	t.Helper()
	bev.Free()
	if w := sev.next(t); w != Reading|EOF {
		t.Fatalf("server event %v, want Reading|EOF (close_notify)", w)
	}
}

// A TLS filter client over a socket BufferEvent talks to a NewTLS server
// on the other end of a socket pair, in TLS 1.2 and 1.3: Connected after
// the handshake, plaintext echoed byte for byte, and on Free a
// close_notify that the server reads as a clean end; the underlying is
// freed with the filter (CloseOnFree), so no descriptor is left.
func TestTLSFilterClientTalksToNewTLSServer(t *testing.T) {
	for _, version := range tlsVersions {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			scfg, ccfg := tlsConfigs(t)
			ccfg.MinVersion, ccfg.MaxVersion = version, version
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			sev := newEvents()
			tlsServer(t, b, fds[1], scfg, 0, sev)
			under := newBev(t, b, fds[0], CloseOnFree)
			client := newTLSFilter(t, under, ccfg, TLSConnecting, CloseOnFree)
			if client.Underlying() != under || client.Fd() != fds[0] {
				t.Errorf("Underlying %p, Fd %d; want %p, %d", client.Underlying(), client.Fd(), under, fds[0])
			}
			e := newEchoCheck(t, b, client)
			e.sent = []byte("early")
			client.WriteString("early") // waits for the handshake
			e.ev.expect(t, Connected)
			sev.expect(t, Connected)
			if st, ok := client.TLSConnectionState(); !ok || st.Version != version {
				t.Fatalf("TLSConnectionState: %v, version %#x, want %#x", ok, st.Version, version)
			}
			for _, size := range []int{1, 1000, 1 << 20} {
				e.send(pattern(size, byte(size)))
			}
			checkInvariants(t, b, client)
			freeSendsCloseNotify(t, client, sev)
		})
	}
}

// Both ends of an in-memory pair are TLS filters, client and server, in
// TLS 1.2 and 1.3: they shake hands with no descriptor, echo, and the
// client's Free reaches the server as close_notify, a clean Reading|EOF.
// Neither holds a goroutine once the handshake is done.
func TestTLSFilterOverAnInMemoryPair(t *testing.T) {
	for _, version := range tlsVersions {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			goroutines := runtime.NumGoroutine()
			sev := newEvents()
			client, server := tlsFilterPair(t, b, NewPair, version, sev)
			if client.Fd() != -1 {
				t.Errorf("Fd %d, want -1 over a pair", client.Fd())
			}
			e := newEchoCheck(t, b, client)
			e.ev.expect(t, Connected)
			sev.expect(t, Connected)
			waitFor(t, "the handshake goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
			e.send([]byte("over the pair"))
			checkInvariants(t, b, client)
			checkInvariants(t, b, server)
			freeSendsCloseNotify(t, client, sev)
		})
	}
}

// STARTTLS (le-proxy's and regress_ssl's upgrade): two socket
// BufferEvents exchange plaintext, then each side puts a TLS filter over
// its own. The client upgrades right after sending its request, so its
// ClientHello reaches the server in the same read as the request: what
// the server's BufferEvent already holds in Input when it upgrades is
// the start of the TLS stream.
func TestTLSFilterStartTLS(t *testing.T) {
	for _, version := range tlsVersions {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			scfg, ccfg := tlsConfigs(t)
			ccfg.MinVersion, ccfg.MaxVersion = version, version
			cu, su, err := NewSocketPair(b, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cu.Free)
			t.Cleanup(su.Free)
			// Plaintext first: a greeting and its answer.
			greeted := make(chan string, 1)
			su.SetCallbacks(func(su *BufferEvent) {
				if line, ok := su.Input().ReadLine(EOLCRLF); ok {
					su.WriteString("hi " + string(line) + "\r\n")
				}
			}, nil, nil)
			su.Enable(event.Read)
			cu.SetCallbacks(func(cu *BufferEvent) {
				if line, ok := cu.Input().ReadLine(EOLCRLF); ok {
					greeted <- string(line)
				}
			}, nil, nil)
			cu.Enable(event.Read)
			cu.WriteString("hello\r\n")
			if g := wait(t, greeted, "the plaintext answer"); g != "hi hello" {
				t.Fatalf("plaintext answer %q", g)
			}
			// The server reads nothing until the request and the
			// ClientHello after it are both in its socket.
			su.Disable(event.Read)
			settle(t, b)
			var client *BufferEvent
			onLoop(t, b, func() {
				cu.WriteString("STARTTLS\r\n")
				client = newTLSFilter(t, cu, ccfg, TLSConnecting, 0)
			})
			sfd := su.Fd()
			waitFor(t, "the request and the ClientHello in the server's socket", func() bool {
				n, err := unix.IoctlGetInt(sfd, unix.SIOCINQ)
				return err == nil && n > len("STARTTLS\r\n")+5
			})
			sev := newEvents()
			upgraded := make(chan *BufferEvent, 1)
			su.SetCallbacks(func(su *BufferEvent) {
				line, ok := su.Input().ReadLine(EOLCRLF)
				if !ok || string(line) != "STARTTLS" {
					t.Errorf("server read %q, %v; want the STARTTLS line", line, ok)
					return
				}
				if su.Input().Len() == 0 {
					t.Errorf("the ClientHello did not come with the request")
				}
				server, err := NewTLSFilter(su, scfg, TLSAccepting, 0)
				if err != nil {
					t.Errorf("NewTLSFilter: %v", err)
					return
				}
				// Reading is enabled only once the handshake is done: the
				// handshake itself takes what su holds.
				server.SetCallbacks(echoRead, nil, func(s *BufferEvent, w What) {
					if w == Connected {
						s.Enable(event.Read)
					}
					sev.cb(s, w)
				})
				upgraded <- server
			}, nil, nil)
			su.Enable(event.Read)
			server := wait(t, upgraded, "the server's upgrade")
			t.Cleanup(server.Free)
			e := newEchoCheck(t, b, client)
			e.ev.expect(t, Connected)
			sev.expect(t, Connected)
			e.send([]byte("secret"))
		})
	}
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(time.Millisecond) {
		if time.Since(start) > deadline {
			t.Fatalf("timed out after %v waiting for %s", deadline, what)
		}
	}
}

// A client that does not trust the server's certificate, or asks for
// another name, fails its handshake with crypto/tls's verification error
// inside Err; the server learns of it from the alert the client sends.
func TestTLSFilterHandshakeFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*tls.Config)
		want func(error) bool
	}{
		{"untrusted", func(c *tls.Config) { c.RootCAs = x509.NewCertPool() }, func(err error) bool {
			var verr *tls.CertificateVerificationError
			return errors.As(err, &verr)
		}},
		{"wrong name", func(c *tls.Config) { c.ServerName = "elsewhere.example" }, func(err error) bool {
			var herr x509.HostnameError
			return errors.As(err, &herr)
		}},
	} {
		for _, kind := range underKinds {
			t.Run(tc.name+"/"+kind.name, func(t *testing.T) {
				checkLeaks(t)
				b := startLoop(t)
				scfg, ccfg := tlsConfigs(t)
				tc.cfg(ccfg)
				cu, su, err := kind.make(b, 0)
				if err != nil {
					t.Fatal(err)
				}
				sev, cev := newEvents(), newEvents()
				server := newTLSFilter(t, su, scfg, TLSAccepting, CloseOnFree)
				server.SetCallbacks(nil, nil, sev.cb)
				client := newTLSFilter(t, cu, ccfg, TLSConnecting, CloseOnFree)
				client.SetCallbacks(nil, nil, cev.cb)
				cev.expect(t, Reading|Writing|Error)
				if err := client.Err(); !tc.want(err) {
					t.Fatalf("client Err %v (%T), want crypto/tls's verification error inside", err, err)
				}
				sev.expect(t, Reading|Writing|Error)
				var alert *net.OpError // crypto/tls's "remote error"
				if err := server.Err(); !errors.As(err, &alert) || alert.Op != "remote error" {
					t.Fatalf("server Err %v (%T), want the client's alert inside", err, err)
				}
				if _, ok := client.TLSConnectionState(); ok {
					t.Error("TLSConnectionState ok after a failed handshake")
				}
				checkInvariants(t, b, client)
				checkInvariants(t, b, server)
			})
		}
	}
}

// The peer's close_notify ends the stream as Reading|EOF; the socket's
// end without one is an error, ErrTLSDirtyShutdown, unless the
// BufferEvent allows a dirty shutdown; a reset is the errno. The same
// for NewTLS and for a TLS filter over a socket BufferEvent.
func TestTLSReportsCleanAndDirtyShutdown(t *testing.T) {
	for _, kind := range tlsServerKinds {
		for _, tc := range []struct {
			name       string
			end        func(c *tls.Conn, raw interface{ CloseWrite() error })
			allowDirty bool
			want       What
			err        error
		}{
			{"close_notify", func(c *tls.Conn, _ interface{ CloseWrite() error }) { c.CloseWrite() }, false, Reading | EOF, nil},
			{"dirty", func(_ *tls.Conn, raw interface{ CloseWrite() error }) { raw.CloseWrite() }, false, Reading | Error, ErrTLSDirtyShutdown},
			{"dirty allowed", func(_ *tls.Conn, raw interface{ CloseWrite() error }) { raw.CloseWrite() }, true, Reading | EOF, nil},
		} {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				checkLeaks(t)
				b := startLoop(t)
				bev, c, raw, ev := tlsServerAndGoClient(t, b, kind.make, 0)
				bev.SetAllowDirtyShutdown(tc.allowDirty)
				if err := roundTrip(c, []byte("before the end")); err != nil {
					t.Fatal(err)
				}
				ev.expect(t, Connected)
				tc.end(c, raw)
				if w := ev.next(t); w != tc.want {
					t.Fatalf("event %v, want %v", w, tc.want)
				}
				if err := bev.Err(); tc.err != nil && !errors.Is(err, tc.err) {
					t.Fatalf("Err %v, want %v", err, tc.err)
				}
			})
		}
	}
}

// A connection reset under a TLS filter is a read error with the errno,
// not a dirty shutdown.
func TestTLSFilterReportsTheUnderlyingsReset(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, c, raw, ev := tlsServerAndGoClient(t, b, tlsFilterServer, 0)
	if err := roundTrip(c, []byte("before the reset")); err != nil {
		t.Fatal(err)
	}
	ev.expect(t, Connected)
	raw.SetLinger(0)
	raw.Close() // RST
	if w := ev.next(t); w != Reading|Error {
		t.Fatalf("event %v, want Reading|Error", w)
	}
	wantErrno(t, "Err", bev.Err(), unix.ECONNRESET)
}

// Several MiB go each way between two TLS filters, over a socket pair
// and over an in-memory pair, in TLS 1.2 and 1.3, while the client reads
// slowly through a read high watermark: it takes a little of Input at a
// time, from the loop, Input never holds more than the mark, the server stops
// reading while its Output is full, and every byte comes back in order.
func TestTLSFilterLargeTransferWithASlowReader(t *testing.T) {
	const (
		size  = 4 << 20
		high  = 16 << 10
		taken = 5000 // per read callback
	)
	for _, kind := range underKinds {
		for _, version := range tlsVersions {
			t.Run(kind.name+"/"+tls.VersionName(version), func(t *testing.T) {
				checkLeaks(t)
				b := startLoop(t)
				sev := newEvents()
				client, server := tlsFilterPair(t, b, kind.make, version, sev)
				// The server echoes, and reads only while its Output is
				// below 256 KiB: back-pressure from the slow client.
				server.SetWatermark(event.Read, 0, 64<<10)
				server.SetWatermark(event.Write, 64<<10, 0)
				server.SetCallbacks(func(s *BufferEvent) {
					s.Output().AddBuffer(s.Input())
					if s.Output().Len() >= 256<<10 {
						s.Disable(event.Read)
					}
				}, func(s *BufferEvent) { s.Enable(event.Read) }, sev.cb)
				// The client reads slowly: a little at a time, from the
				// loop between its iterations, whatever Input holds.
				client.SetWatermark(event.Read, 0, high)
				client.SetCallbacks(nil, nil, nil)
				client.Enable(event.Read)
				msg := pattern(size, 3)
				client.Write(msg)
				var got []byte
				var bad error
				for start := time.Now(); len(got) < size && bad == nil; {
					onLoop(t, b, func() {
						in := client.Input()
						if in.Len() > high {
							bad = fmt.Errorf("client's Input holds %d bytes, past its read high watermark %d", in.Len(), high)
						}
						// Nor does ciphertext pile up below it: the underlying
						// stops reading while the filter does.
						tc := client.ext.tls
						tc.mu.Lock()
						raw := tc.rawIn.Len() + client.Underlying().Input().Len()
						tc.mu.Unlock()
						if raw > 1<<20 {
							bad = fmt.Errorf("%d bytes of ciphertext wait below the client, want at most 1 MiB", raw)
						}
						n := min(taken, in.Len())
						got = append(got, in.Peek(n)...)
						in.Drain(n)
					})
					if time.Since(start) > deadline {
						t.Fatalf("timed out after %v with %d of %d bytes echoed", deadline, len(got), size)
					}
				}
				if bad != nil {
					t.Fatal(bad)
				}
				sev.expect(t, Connected)
				if i := firstDiff(got, msg); i >= 0 {
					t.Errorf("echo differs at byte %d", i)
				}
				checkInvariants(t, b, client)
				checkInvariants(t, b, server)
			})
		}
	}
}

// A TLS filter can go over a BufferEvent still connecting: the handshake
// waits for the connect, and the filter reports Connected once, at the
// handshake's end, not the underlying's.
func TestTLSFilterOverAConnectingBufferEvent(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	scfg, ccfg := tlsConfigs(t)
	addr, closed := tlsEchoListener(t, scfg)
	under := newBev(t, b, -1, CloseOnFree)
	if err := under.Connect("tcp4", addr); err != nil {
		t.Fatal(err)
	}
	client := newTLSFilter(t, under, ccfg, TLSConnecting, CloseOnFree)
	e := newEchoCheck(t, b, client)
	e.ev.expect(t, Connected)
	e.send([]byte("after the connect"))
	select {
	case w := <-e.ev.ch:
		t.Fatalf("event %v after Connected, want none", w)
	default:
	}
	client.Free()
	if err := wait(t, closed, "the server's end"); err != io.EOF {
		t.Fatalf("the server's read ended with %v, want io.EOF (close_notify)", err)
	}
}

// Free is safe in every callback of a TLS filter: in the event callback
// on Connected, in the read callback, and in the write callback; the
// peer then reads close_notify as a clean end, and nothing leaks.
func TestTLSFilterFreeInsideCallbacks(t *testing.T) {
	for _, where := range []string{"connected", "read", "write"} {
		for _, kind := range underKinds {
			t.Run(where+"/"+kind.name, func(t *testing.T) {
				checkLeaks(t)
				b := startLoop(t)
				sev := newEvents()
				client, _ := tlsFilterPair(t, b, kind.make, tls.VersionTLS13, sev)
				free := func(bev *BufferEvent) { bev.Free() }
				var read, written func(*BufferEvent)
				switch where {
				case "read":
					read = free
				case "write":
					written = free
				}
				client.SetCallbacks(read, written, func(bev *BufferEvent, w What) {
					if w == Connected {
						if where == "connected" {
							bev.Free()
							return
						}
						bev.WriteString("ping")
					}
				})
				client.Enable(event.Read)
				sev.expect(t, Connected)
				if w := sev.next(t); w != Reading|EOF {
					t.Fatalf("server event %v, want Reading|EOF", w)
				}
				if _, err := client.WriteString("more"); !errors.Is(err, ErrFreed) {
					t.Fatalf("Write after Free: %v, want ErrFreed", err)
				}
			})
		}
	}
}

// Without CloseOnFree, freeing a TLS filter gives its underlying back
// with no callbacks and reading enabled, and the close_notify in its
// Output, which goes out.
func TestTLSFilterFreeGivesTheUnderlyingBack(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	scfg, ccfg := tlsConfigs(t)
	cu, su, err := NewPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cu.Free)
	sev := newEvents()
	server := newTLSFilter(t, su, scfg, TLSAccepting, CloseOnFree)
	server.SetCallbacks(nil, nil, sev.cb)
	server.Enable(event.Read)
	client := newTLSFilter(t, cu, ccfg, TLSConnecting, 0)
	cev := newEvents()
	client.SetCallbacks(nil, nil, cev.cb)
	cev.expect(t, Connected)
	sev.expect(t, Connected)
	client.Free()
	if w := sev.next(t); w != Reading|EOF {
		t.Fatalf("server event %v, want Reading|EOF (close_notify)", w)
	}
	onLoop(t, b, func() {
		if cu.Enabled()&event.Read == 0 || cu.readcb != nil || cu.eventcb != nil {
			t.Errorf("underlying after Free: enabled %v, callbacks set %v; want reading, none",
				cu.Enabled(), cu.readcb != nil || cu.eventcb != nil)
		}
	})
}

// A handshake that never completes leaves with Free: its goroutine ends,
// and nothing leaks.
func TestTLSFilterFreeDuringTheHandshake(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	_, ccfg := tlsConfigs(t)
	cu, su, err := NewPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(su.Free) // a peer that never answers
	client, err := NewTLSFilter(cu, ccfg, TLSConnecting, CloseOnFree)
	if err != nil {
		t.Fatal(err)
	}
	su.Enable(event.Read)
	waitLoop(t, b, "the ClientHello", func() bool { return su.Input().Len() > 0 })
	client.Free()
}

// Misuse is refused with an error, and the calls that need a socket of
// the BufferEvent's own refuse a TLS filter.
func TestNewTLSFilterRefusesMisuse(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	scfg, _ := tlsConfigs(t)
	x, y, err := NewPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Free)
	if _, err := NewTLSFilter(nil, scfg, TLSAccepting, 0); err == nil {
		t.Error("nil underlying accepted")
	}
	if _, err := NewTLSFilter(x, nil, TLSAccepting, 0); err == nil {
		t.Error("nil config accepted")
	}
	for _, st := range []TLSState{TLSOpen, 7} {
		if _, err := NewTLSFilter(x, scfg, st, 0); !errors.Is(err, ErrTLSState) {
			t.Errorf("state %d: %v, want ErrTLSState", st, err)
		}
	}
	if _, err := NewTLSFilter(x, scfg, TLSAccepting, 1<<7); !errors.Is(err, ErrOptions) {
		t.Errorf("bad options: %v, want ErrOptions", err)
	}
	y.Free()
	if _, err := NewTLSFilter(y, scfg, TLSAccepting, 0); !errors.Is(err, ErrFreed) {
		t.Errorf("freed underlying: %v, want ErrFreed", err)
	}
	f := newTLSFilter(t, x, scfg, TLSAccepting, 0)
	if err := f.SetFd(3); err == nil {
		t.Error("SetFd on a TLS filter accepted")
	}
	if err := f.Connect("tcp4", "127.0.0.1:1"); err == nil {
		t.Error("Connect on a TLS filter accepted")
	}
	if err := f.CloseWrite(); !errors.Is(err, ErrNotSocket) {
		t.Errorf("CloseWrite: %v, want ErrNotSocket", err)
	}
}

// The read timeout is the filter's, on the plaintext: a peer that stops
// sending after the handshake makes Reading|Timeout.
func TestTLSFilterReadTimeout(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	sev := newEvents()
	client, _ := tlsFilterPair(t, b, NewPair, tls.VersionTLS13, sev)
	cev := newEvents()
	client.SetCallbacks(nil, nil, cev.cb)
	client.Enable(event.Read)
	cev.expect(t, Connected)
	client.SetTimeouts(50*time.Millisecond, 0)
	cev.expect(t, Reading|Timeout)
	if client.Enabled()&event.Read != 0 {
		t.Error("reading still enabled after its timeout")
	}
}

// The filter's Disable(event.Read) during the handshake does not stop
// it: the handshake reads whatever reading is enabled, as NewTLS's does.
// The client disables reading once its ClientHello is out, when no more
// ciphertext of its own would make it step again.
func TestTLSFilterHandshakeReadsWithReadingDisabled(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	scfg, ccfg := tlsConfigs(t)
	cu, su, err := NewPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	client := newTLSFilter(t, cu, ccfg, TLSConnecting, CloseOnFree)
	cev := newEvents()
	client.SetCallbacks(nil, nil, cev.cb)
	su.Enable(event.Read)
	waitLoop(t, b, "the ClientHello", func() bool { return su.Input().Len() > 0 })
	client.Disable(event.Read)
	settle(t, b)
	server := newTLSFilter(t, su, scfg, TLSAccepting, CloseOnFree)
	sev := newEvents()
	server.SetCallbacks(nil, nil, sev.cb)
	cev.expect(t, Connected)
	sev.expect(t, Connected)
	if client.Enabled()&event.Read != 0 {
		t.Error("the handshake enabled the filter's reading")
	}
}

// gateConn calls before ahead of each Write, with its number from 1.
type gateConn struct {
	net.Conn
	writes int
	before func(n int)
}

func (g *gateConn) Write(p []byte) (int, error) {
	g.writes++
	g.before(g.writes)
	return g.Conn.Write(p)
}

// crypto/tls may read the peer's first data with the handshake's last
// message, and keep it: a TLS 1.3 client's Finished and the request after
// it reach the server filter's socket while its loop is held, so one read
// brings both. The filter decrypts the request when the handshake ends,
// without waiting for more ciphertext.
func TestTLSFilterDecryptsWhatCameWithTheHandshakesEnd(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	scfg, ccfg := tlsConfigs(t)
	fd, raw := tcpFds(t, b)
	ev := newEvents()
	tlsFilterServer(t, b, fd, scfg, 0, ev)
	release := make(chan struct{})
	let := sync.OnceFunc(func() { close(release) })
	t.Cleanup(let)
	g := &gateConn{Conn: raw, before: func(n int) {
		if n == 2 { // the client's second flight: hold the loop from now on
			held := make(chan struct{})
			b.Submit(func() { close(held); <-release })
			<-held
		}
	}}
	c := tls.Client(g, ccfg)
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	msg := []byte("right after the Finished")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	let()
	back := make([]byte, len(msg))
	if _, err := io.ReadFull(c, back); err != nil || !bytes.Equal(back, msg) {
		t.Fatalf("echo %q, %v; want %q", back, err, msg)
	}
	ev.expect(t, Connected)
}

// newTLSPingPong is a pingPong whose two ends speak TLS over a socket
// pair: NewTLS on each descriptor, or, with filter, NewTLSFilter over a
// socket BufferEvent on each. The handshake is done before it returns.
func newTLSPingPong(t testing.TB, size int, filter bool) *pingPong {
	t.Helper()
	scfg, ccfg := tlsConfigs(t)
	p := newPingPongWith(t, size, func(b *event.Base, opts Options) (*BufferEvent, *BufferEvent, error) {
		fds, err := sockPair()
		if err != nil {
			return nil, nil, err
		}
		var x, y *BufferEvent
		if filter {
			xu, _ := New(b, fds[0], CloseOnFree)
			yu, _ := New(b, fds[1], CloseOnFree)
			x, _ = NewTLSFilter(xu, ccfg, TLSConnecting, opts|CloseOnFree)
			y, err = NewTLSFilter(yu, scfg, TLSAccepting, opts|CloseOnFree)
		} else {
			x, _ = NewTLS(b, fds[0], ccfg, TLSConnecting, opts|CloseOnFree)
			y, err = NewTLS(b, fds[1], scfg, TLSAccepting, opts|CloseOnFree)
		}
		return x, y, err
	})
	for range 10 { // the handshake, and warm buffers
		p.roundTrip(t)
	}
	return p
}

// BenchmarkTLSEcho is BenchmarkPairEcho's round trip in TLS over a socket
// pair: a 64-byte message encrypted, written, read, decrypted and echoed
// back the same way, with NewTLS on the sockets or with TLS filters over
// socket BufferEvents.
func BenchmarkTLSEcho(b *testing.B) {
	for _, kind := range []struct {
		name   string
		filter bool
	}{{"NewTLS", false}, {"NewTLSFilter", true}} {
		b.Run(kind.name, func(b *testing.B) {
			p := newTLSPingPong(b, 64, kind.filter)
			b.SetBytes(64)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p.roundTrip(b)
			}
		})
	}
}

// In steady state a TLS filter's round trip allocates no more than
// NewTLS's: what allocates is crypto/tls's reading of each record (a
// small reader per read), which both share; the filter adds nothing, in
// particular no read of crypto/tls on the steps that bring no ciphertext.
func TestTLSFilterRoundTripAllocatesNoMoreThanNewTLS(t *testing.T) {
	if bufRaceEnabled {
		t.Skip("sync.Pool drops items on purpose under -race")
	}
	checkLeaks(t)
	allocs := map[bool]float64{}
	for _, filter := range []bool{false, true} {
		p := newTLSPingPong(t, 64, filter)
		allocs[filter] = testing.AllocsPerRun(200, func() { p.roundTrip(t) })
	}
	if allocs[true] > allocs[false] {
		t.Errorf("64-byte round trip: TLS filters %v allocations, NewTLS %v; want no more", allocs[true], allocs[false])
	}
}
