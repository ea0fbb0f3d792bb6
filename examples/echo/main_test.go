package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// dial connects to the server and checks that it logs the new client.
func dial(t *testing.T, server *exampletest.Proc, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := exampletest.Dial(t, "tcp", addr)
	server.ExpectLine("accept a client " + c.LocalAddr().String())
	return c, bufio.NewReader(c)
}

// logLines are the lines the server prints for a message, as the C
// printed it: printf("recv from client <<< %s\n") of the message up to its
// first NUL, so that a message ending in a newline is followed by a blank
// line. They are as exampletest.Proc reads them, which drops a "\r"
// before each "\n".
func logLines(msg string) []string {
	msg, _, _ = strings.Cut(msg, "\x00")
	lines := strings.Split("recv from client <<< "+msg, "\n")
	for i, l := range lines[:len(lines)-1] {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// roundTrip sends msg, one message, checks the server's log lines and the
// echo: the message up to its first NUL.
func roundTrip(t *testing.T, server *exampletest.Proc, c net.Conn, r *bufio.Reader, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	server.ExpectLines(logLines(msg)...)
	echo, _, _ := strings.Cut(msg, "\x00")
	exampletest.ExpectBytes(t, c, r, echo)
}

func TestServerEchoesEachClientAndReleasesItsDescriptor(t *testing.T) {
	_, addr, server := exampletest.StartServer(t)
	fds := server.OpenFds()
	a, ra := dial(t, server, addr)
	b, rb := dial(t, server, addr)
	roundTrip(t, server, a, ra, "hello\n")
	roundTrip(t, server, b, rb, "from b\n")
	// The original's strlen cuts the echo at the first NUL.
	roundTrip(t, server, a, ra, "a\x00b\n")
	roundTrip(t, server, b, rb, "no newline")
	roundTrip(t, server, a, ra, "after the NUL\n") // and nothing of the last came back
	a.Close()
	server.ExpectLine("connection closed")
	roundTrip(t, server, b, rb, "still here\n")
	b.Close()
	server.ExpectLine("connection closed")
	server.WaitFds(fds)
	server.ExitsCleanly(syscall.SIGINT)
}

func TestServerSendsTheWholeEchoBeforeClosing(t *testing.T) {
	_, addr, server := exampletest.StartServer(t, "-quiet")
	// A small receive buffer, set before the connection is made (it
	// decides the window scaling): loopback's default grows to megabytes.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10) })
		return nil
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Far more than the socket buffers hold, so that the client's end of
	// stream reaches the server while much of the echo still waits in its
	// output buffer: the original freed it there and lost that part.
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<18)
	go func() {
		c.Write(want)
		c.(*net.TCPConn).CloseWrite()
	}()
	// The client starts reading late, so that the socket buffers fill both
	// ways and the echo piles up in the server's output buffer.
	time.Sleep(300 * time.Millisecond)
	c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes (err %v), want the %d sent, then the end", len(got), err, len(want))
	}
	server.Expect("connection closed")
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestClientSendsItsInputAndPrintsEachMessageBack(t *testing.T) {
	bin, addr, server := exampletest.StartServer(t)
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	c.ExpectLine("Connected")
	server.Expect("accept a client ")
	if _, err := io.WriteString(c.Stdin(), "hello\n"); err != nil {
		t.Fatal(err)
	}
	c.ExpectLine("server say: hello")
	server.ExpectLines(logLines("hello\n")...)
	// A NUL goes out as it was read, and the server's echo stops there.
	io.WriteString(c.Stdin(), "a\x00b\n")
	c.ExpectLine("server say: a")
	server.ExpectLines(logLines("a\x00b\n")...)
	// Two lines in one message, with no newline at its end, sent just
	// before the input ends.
	io.WriteString(c.Stdin(), "two\nlast")
	c.Stdin().Close()
	c.ExpectLines("server say: two", "last", "connection closed")
	c.ExitsWith(0)
	server.Expect("connection closed")
	server.ExitsCleanly(syscall.SIGINT)
}

// An echo longer than one read of the original's 1024-byte buffer is
// printed as several messages, none longer than 1024 bytes, and none of it
// is left unprinted.
func TestClientPrintsALongEchoInMessagesOf1024Bytes(t *testing.T) {
	bin, addr, server := exampletest.StartServer(t, "-quiet") // echoes every byte
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	c.ExpectLine("Connected")
	long := strings.Repeat("x", 3000)
	io.WriteString(c.Stdin(), long)
	c.Stdin().Close()
	var got strings.Builder
	for {
		l := c.NextLine()
		if l == "connection closed" {
			break
		}
		msg, ok := strings.CutPrefix(l, "server say: ")
		if !ok || len(msg) > 1024 {
			t.Fatalf("the client printed %.80q (%d bytes), want messages of at most 1024 bytes", l, len(l))
		}
		got.WriteString(msg)
	}
	if got.String() != long {
		t.Errorf("the client printed %d bytes of the echo, want the %d sent", got.Len(), len(long))
	}
	c.ExitsWith(0)
	server.ExitsCleanly(syscall.SIGTERM)
}

// The client prints a message as the original printed its buffer, as a C
// string: up to its first NUL. The -quiet server echoes the NUL.
func TestClientPrintsAMessageUpToItsFirstNUL(t *testing.T) {
	bin, addr, server := exampletest.StartServer(t, "-quiet")
	clientSession(t, bin, []string{"-addr", addr}, "a\x00b\n", "server say: a")
	server.ExitsCleanly(syscall.SIGTERM)
}

// clientSession runs the client with args and, after it has connected,
// types each input of inOut, a list of input and line pairs, checking the
// line it prints for it; then it ends the input and checks that the
// client ends cleanly.
func clientSession(t *testing.T, bin string, args []string, inOut ...string) {
	t.Helper()
	c := exampletest.Start(t, bin, append([]string{"-client"}, args...)...)
	c.ExpectLine("Connected")
	for i := 0; i+1 < len(inOut); i += 2 {
		if _, err := io.WriteString(c.Stdin(), inOut[i]); err != nil {
			t.Fatal(err)
		}
		c.ExpectLine(inOut[i+1])
	}
	c.Stdin().Close()
	c.ExpectLine("connection closed")
	c.ExitsWith(0)
}

func TestClientReportsARefusedConnection(t *testing.T) {
	bin := exampletest.Build(t, ".")
	addr := "127.0.0.1:" + strconv.Itoa(exampletest.FreePort(t))
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	c.ExpectLine("some other error: connection refused")
	c.ExpectLine("echo: connection failed")
	c.ExitsWith(1)
}

func TestClientResolvesAHostName(t *testing.T) {
	bin, addr, server := exampletest.StartServer(t)
	_, port, _ := net.SplitHostPort(addr)
	c := exampletest.Start(t, bin, "-client", "-addr", "localhost:"+port)
	c.Stdin().Close()
	c.ExpectLines("Connected", "connection closed")
	c.ExitsWith(0)
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestClientStopsOnSignal(t *testing.T) {
	bin, addr, server := exampletest.StartServer(t)
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	c.ExpectLine("Connected")
	c.ExitsCleanly(syscall.SIGTERM)
	server.Expect("connection closed")
	server.ExitsCleanly(syscall.SIGINT)
}

// TestIdleConnectionsCostTheServerLittleMemory checks what S4 of levent's
// echo benchmark (bench/echo.sh) measures: how much the server's resident
// memory grows for each connection that sends nothing. Such a connection
// costs its BufferEvent, with no buffers until its first byte: 400 to 500
// bytes of RSS; a read buffer of its own, as the original's ConnectStat
// had, took it near 3 KB.
func TestIdleConnectionsCostTheServerLittleMemory(t *testing.T) {
	const maxPerConn = 1200 // bytes of RSS per idle connection
	n := 4000
	if testing.Short() {
		n = 1000
	}
	_, addr, server := exampletest.StartServer(t, "-quiet")
	before := server.RSS()
	for range n {
		dial(t, server, addr)
	}
	// One echo on a last connection: the loop ran every earlier accept
	// callback before this one's.
	c, r := dial(t, server, addr)
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatal(err)
	}
	exampletest.ExpectReply(t, c, r, "ping\n")
	per := (server.RSS() - before) / n
	t.Logf("%d idle connections: %d bytes of the server's RSS each", n, per)
	if per > maxPerConn {
		t.Errorf("the server's RSS grew by %d bytes per idle connection, want at most %d", per, maxPerConn)
	}
}

func TestServerReportsAnAddressInUse(t *testing.T) {
	bin := exampletest.Build(t, ".")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	p := exampletest.Start(t, bin, "-addr", busy.Addr().String())
	if l := p.NextLine(); !bytes.HasSuffix([]byte(l), []byte("address already in use")) {
		t.Fatalf("got %q, want the bind error", l)
	}
	p.ExitsWith(1)
}

func TestServerListensOnPort9527ByDefault(t *testing.T) {
	bin := exampletest.Build(t, ".")
	out := exampletest.Usage(t, bin)
	if !strings.Contains(out, `(default ":9527")`) {
		t.Fatalf("usage\n%s\ndoes not give :9527 as the default address", out)
	}
}

// With io_uring asked for by the environment the server serves on it, and
// prints nothing more than on epoll.
func TestServerRunsOnIOURingWhenAskedTo(t *testing.T) {
	t.Setenv("LEVENT_IOURING", "1")
	bin := exampletest.Build(t, ".")
	addr := "127.0.0.1:" + strconv.Itoa(exampletest.FreePort(t))
	server := exampletest.Start(t, bin, "-addr", addr)
	if l := server.NextLine(); strings.HasPrefix(l, "echo: running on ") {
		t.Skipf("the kernel refuses io_uring here: %s", l)
	} else if l != "listening on "+addr {
		t.Fatalf("first line %q, want %q", l, "listening on "+addr)
	}
	c, r := dial(t, server, addr)
	roundTrip(t, server, c, r, "over the ring\n")
	c.Close()
	server.ExpectLine("connection closed")
	server.ExitsCleanly(syscall.SIGTERM)
}

// Asked for io_uring where it cannot be had (LEVENT_NOIOURING avoids it,
// as a kernel that refuses it would), the server says which backend it
// runs on instead, and why, and serves.
func TestServerSaysWhenIOURingIsRefused(t *testing.T) {
	t.Setenv("LEVENT_IOURING", "1")
	t.Setenv("LEVENT_NOIOURING", "1")
	bin := exampletest.Build(t, ".")
	addr := "127.0.0.1:" + strconv.Itoa(exampletest.FreePort(t))
	server := exampletest.Start(t, bin, "-addr", addr)
	if l := server.NextLine(); !strings.HasPrefix(l, "echo: running on epoll: ") {
		t.Fatalf("first line %q, want the fallback to epoll and its reason", l)
	}
	server.ExpectLine("listening on " + addr)
	c, r := dial(t, server, addr)
	roundTrip(t, server, c, r, "on epoll\n")
	server.ExitsCleanly(syscall.SIGTERM)
}
