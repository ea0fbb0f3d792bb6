package main

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// freeUDPAddr returns a UDP address on 127.0.0.1 that nothing uses now.
func freeUDPAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// startServer builds the example and starts the server on a free port.
func startServer(t *testing.T) (bin, addr string, p *exampletest.Proc) {
	t.Helper()
	bin = exampletest.Build(t, ".")
	addr = freeUDPAddr(t)
	p = exampletest.Start(t, bin, "-addr", addr)
	p.ExpectLine("Accepting connections ...")
	return bin, addr, p
}

// listen opens a UDP socket to talk to the server with.
func listen(t *testing.T) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends msg from c to the server and checks the reply and the
// server's log line.
func roundTrip(t *testing.T, server *exampletest.Proc, c net.PacketConn, addr, msg, want string) {
	t.Helper()
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteTo([]byte(msg), to); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	buf := make([]byte, 70000)
	n, from, err := c.ReadFrom(buf)
	if err != nil || string(buf[:n]) != want || from.String() != addr {
		t.Fatalf("got %q from %v (err %v), want %q from %s", buf[:n], from, err, want, addr)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	server.ExpectLine(fmt.Sprintf("received from 127.0.0.1 at PORT %d", port))
}

func TestServerAnswersEachDatagramInUpperCase(t *testing.T) {
	_, addr, server := startServer(t)
	a, b := listen(t), listen(t)
	// toupper in the C locale: ASCII letters only, UTF-8 bytes untouched.
	roundTrip(t, server, a, addr, "hello, World ünï 123\n", "HELLO, WORLD üNï 123\n")
	roundTrip(t, server, b, addr, "second sender", "SECOND SENDER")
	roundTrip(t, server, a, addr, "", "")
	// The original's 80-byte buffer cut this one.
	long := strings.Repeat("abc", 20000)
	roundTrip(t, server, b, addr, long, strings.ToUpper(long))
	server.ExitsCleanly(syscall.SIGINT)
}

func TestServerReportsBindFailure(t *testing.T) {
	bin := exampletest.Build(t, ".")
	busy := listen(t)
	p := exampletest.Start(t, bin, "-addr", busy.LocalAddr().String())
	p.ExpectLine("udp-upper: bind: address already in use")
	p.ExitsWith(1)
}

func TestServerListensOnPort6666ByDefault(t *testing.T) {
	bin := exampletest.Build(t, ".")
	out := exampletest.Usage(t, bin)
	if !strings.Contains(out, `(default ":6666")`) {
		t.Fatalf("usage\n%s\ndoes not give :6666 as the default address", out)
	}
}

func TestClientPrintsTheRepliesToItsLines(t *testing.T) {
	bin, addr, server := startServer(t)
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	if _, err := c.Stdin().Write([]byte("abc\n")); err != nil {
		t.Fatal(err)
	}
	c.ExpectLine("ABC")
	first := server.Expect("received from 127.0.0.1 at PORT ")
	// Two lines in one write are two datagrams; the last line needs no newline.
	if _, err := c.Stdin().Write([]byte("second line\nthird\nlast")); err != nil {
		t.Fatal(err)
	}
	c.Stdin().Close()
	for _, want := range []string{"SECOND LINE", "THIRD", "LAST"} {
		c.ExpectLine(want)
	}
	c.ExitsWith(0)
	for i := 0; i < 3; i++ {
		if l := server.NextLine(); l != first {
			t.Fatalf("got %q, want %q: one client port for all datagrams", l, first)
		}
	}
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestClientReadsInputFromAFile(t *testing.T) {
	bin, addr, server := startServer(t)
	out, err := exampletest.RunWithInputFile(t, "from\na file\n", bin, "-client", "-addr", addr)
	if err != nil || string(out) != "FROM\nA FILE\n" {
		t.Fatalf("client: %v, output %q, want %q", err, out, "FROM\nA FILE\n")
	}
	server.ExitsCleanly(syscall.SIGINT)
}

func TestClientWithoutServerReportsRefusal(t *testing.T) {
	bin := exampletest.Build(t, ".")
	c := exampletest.Start(t, bin, "-client", "-addr", freeUDPAddr(t))
	c.Stdin().Write([]byte("anyone?\n"))
	c.Stdin().Close()
	for _, want := range []string{"recvfrom error: connection refused", "udp-upper: 1 of 1 datagrams got no reply"} {
		c.ExpectLine(want)
	}
	c.ExitsWith(1)
}

func TestClientGivesUpOnLostReplies(t *testing.T) {
	bin := exampletest.Build(t, ".")
	silent := listen(t) // receives, never answers
	c := exampletest.Start(t, bin, "-client", "-addr", silent.LocalAddr().String(), "-wait", "100ms")
	c.Stdin().Write([]byte("one\ntwo\n"))
	c.Stdin().Close()
	c.ExpectLine("udp-upper: 2 of 2 datagrams got no reply")
	c.ExitsWith(1)
}

func TestClientStopsOnSignal(t *testing.T) {
	bin, addr, server := startServer(t)
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	c.Stdin().Write([]byte("ready\n"))
	c.Expect("READY") // the loop runs, so the signal events are in place
	c.ExitsCleanly(syscall.SIGINT)
	server.ExitsCleanly(syscall.SIGINT)
}
