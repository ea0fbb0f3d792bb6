package main

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// The seeds' own C programs, built from testdata, talk to the Go ports
// here, and the Go client to the C servers, as they talked to each other:
// the ports must put the same datagrams on the wire.

// lines is the standard input the clients get: letters to raise, UTF-8
// and a tab to leave alone, a NUL that strlen stops at (the rest of its
// line is not sent), a line that is only a NUL (an empty datagram), a line
// longer than fgets' 8191 bytes (sent in pieces), an empty line, and a
// last line without a newline.
var lines = "hello, World ünï 123\n" +
	"tab\there\n" +
	"ab\x00cd\n" +
	"\x00gone\n" +
	strings.Repeat("long", 4100) + "\n" +
	"\n" +
	"last"

// wantDatagrams is what the notes' client sends for lines.
var wantDatagrams = []string{
	"hello, World ünï 123\n",
	"tab\there\n",
	"ab",
	"",
	strings.Repeat("long", 4100)[:8191],
	strings.Repeat("long", 4100)[8191:16382],
	strings.Repeat("long", 4100)[16382:] + "\n",
	"\n",
	"last",
}

// upper is toupper in the C locale on each byte.
func upper(s string) string {
	b := []byte(s)
	toUpper(b)
	return string(b)
}

// toUpper is toupper in the C locale on each byte of b.
func toUpper(b []byte) {
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
}

// wantOutput is what a client prints for lines: the answers, in order.
func wantOutput() string {
	var b strings.Builder
	for _, d := range wantDatagrams {
		b.WriteString(upper(d))
	}
	return b.String()
}

// portOf is the port of a host:port address.
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, ps, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// startCServer builds a C server from testdata on a free port, starts it
// and waits until it is ready (it prints after its bind).
func startCServer(t *testing.T, src string) (addr string, p *exampletest.Proc) {
	t.Helper()
	addr = freeUDPAddr(t)
	bin := exampletest.BuildC(t, src, exampletest.PortDefine(portOf(t, addr)))
	p = exampletest.StartC(t, bin)
	p.ExpectLine("Accepting connections ...")
	return addr, p
}

// cClient builds the notes' client for the server at addr.
func cClient(t *testing.T, addr string) string {
	t.Helper()
	return exampletest.BuildC(t, "testdata/udp_client.c", exampletest.PortDefine(portOf(t, addr)))
}

// recorder is a UDP server that keeps every datagram it gets and answers
// it in upper case, as the servers do, so that a client goes on.
type recorder struct {
	conn net.PacketConn
	mu   sync.Mutex
	got  []string
}

func startRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{conn: listen(t)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := r.conn.ReadFrom(buf)
			if err != nil {
				return // closed at the end of the test
			}
			r.mu.Lock()
			r.got = append(r.got, string(buf[:n]))
			r.mu.Unlock()
			toUpper(buf[:n])
			r.conn.WriteTo(buf[:n], from)
		}
	}()
	t.Cleanup(func() { r.conn.Close(); <-done })
	return r
}

func (r *recorder) addr() string { return r.conn.LocalAddr().String() }

// datagrams is what the recorder got so far. A client that printed every
// answer is done sending: each datagram is kept before it is answered.
func (r *recorder) datagrams() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func sameDatagrams(t *testing.T, who string, got, want []string) {
	t.Helper()
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("%s sent the datagrams\n%.300q\nwant\n%.300q", who, got, want)
	}
}

// The Go client sends, datagram for datagram, what the notes' C client
// sends for the same input, and prints the same answers.
func TestGoClientSendsWhatTheNotesClientSends(t *testing.T) {
	rc := startRecorder(t)
	cOut := exampletest.Output(t, lines, cClient(t, rc.addr()))
	sameDatagrams(t, "udp_client.c", rc.datagrams(), wantDatagrams)

	rg := startRecorder(t)
	goOut := exampletest.Output(t, lines, exampletest.Build(t, "."), "-client", "-addr", rg.addr())
	sameDatagrams(t, "the Go client", rg.datagrams(), wantDatagrams)

	if string(cOut) != wantOutput() || !bytes.Equal(goOut, cOut) {
		t.Fatalf("the C client printed\n%.300q\nthe Go client\n%.300q\nwant\n%.300q", cOut, goOut, wantOutput())
	}
}

// The notes' C client prints the same bytes against the Go server as
// against its own C server, and both servers log each datagram alike.
func TestNotesClientAgainstGoServer(t *testing.T) {
	cAddr, cServer := startCServer(t, "testdata/udp_server.c")
	want := exampletest.Output(t, lines, cClient(t, cAddr))
	_, goAddr, goServer := startServer(t)
	got := exampletest.Output(t, lines, cClient(t, goAddr))
	if !bytes.Equal(got, want) || string(want) != wantOutput() {
		t.Fatalf("against the Go server the C client printed\n%.300q\nagainst the C server\n%.300q", got, want)
	}
	for _, p := range []*exampletest.Proc{cServer, goServer} {
		for range wantDatagrams {
			if l := p.NextLine(); !strings.HasPrefix(l, "received from 127.0.0.1 at PORT ") {
				t.Fatalf("server logged %q, want received from 127.0.0.1 at PORT N", l)
			}
		}
	}
}

// The Go client against the notes' C server prints what the notes' own
// client prints.
func TestGoClientAgainstNotesServer(t *testing.T) {
	addr, _ := startCServer(t, "testdata/udp_server.c")
	want := exampletest.Output(t, lines, cClient(t, addr))
	got := exampletest.Output(t, lines, exampletest.Build(t, "."), "-client", "-addr", addr)
	if !bytes.Equal(got, want) || string(want) != wantOutput() {
		t.Fatalf("the Go client printed\n%.300q\nthe C client\n%.300q", got, want)
	}
}

// answers sends each datagram to the server at addr from one socket and
// returns the answers.
func answers(t *testing.T, addr string, datagrams []string) []string {
	t.Helper()
	c := listen(t)
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	buf := make([]byte, maxDatagram)
	for _, d := range datagrams {
		if _, err := c.WriteTo([]byte(d), to); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("answer from %s to %.40q: %v", addr, d, err)
		}
		got = append(got, string(buf[:n]))
	}
	return got
}

// The Go server answers datagrams as both seeds' C servers do, the other
// notes' server (80-byte buffer) for datagrams that fit its buffer.
func TestGoServerAnswersAsTheSeedServers(t *testing.T) {
	_, goAddr, _ := startServer(t)
	for _, tc := range []struct {
		src    string
		maxLen int
	}{{"testdata/udp_server.c", 8192}, {"testdata/udp_server_80.c", 80}} {
		var ds []string
		for _, d := range append(wantDatagrams, "\x00nul\x00bytes\x00", strings.Repeat("z", 8192)) {
			if len(d) <= tc.maxLen {
				ds = append(ds, d)
			}
		}
		cAddr, _ := startCServer(t, tc.src)
		want := answers(t, cAddr, ds)
		sameDatagrams(t, tc.src, want, func() (u []string) {
			for _, d := range ds {
				u = append(u, upper(d))
			}
			return u
		}())
		sameDatagrams(t, "the Go server", answers(t, goAddr, ds), want)
	}
}

// The other notes' server cut a datagram longer than its 80-byte buffer
// (recvfrom drops the rest); the Go server answers all of it, as the
// notes' server does for every line its client can send.
func TestGoServerAnswersWhatThe80ByteServerCut(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 7) // 112 bytes
	cAddr, _ := startCServer(t, "testdata/udp_server_80.c")
	_, goAddr, _ := startServer(t)
	if got := answers(t, cAddr, []string{long})[0]; got != upper(long[:80]) {
		t.Fatalf("udp_server_80.c answered %q, want the first 80 bytes", got)
	}
	if got := answers(t, goAddr, []string{long})[0]; got != upper(long) {
		t.Fatalf("the Go server answered %q, want all %d bytes", got, len(long))
	}
}
