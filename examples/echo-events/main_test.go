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

// startServer builds the example, starts the server on a free port and
// waits until it listens.
func startServer(t *testing.T) (bin, port string, p *exampletest.Proc) {
	t.Helper()
	bin = exampletest.Build(t, ".")
	port = strconv.Itoa(exampletest.FreePort(t))
	p = exampletest.Start(t, bin, "127.0.0.1", port)
	p.ExpectLine("listening on 127.0.0.1:" + port)
	return bin, port, p
}

// dial connects to the server and checks the welcome on both ends.
func dial(t *testing.T, server *exampletest.Proc, port string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := exampletest.Dial(t, "tcp", "127.0.0.1:"+port)
	r := bufio.NewReader(c)
	exampletest.ExpectReply(t, c, r, "Welcome.\n")
	server.ExpectLine("new client: " + c.LocalAddr().String())
	return c, r
}

// send writes s to the server and checks the server's log line: the
// message up to its first NUL, without its newline.
func send(t *testing.T, server *exampletest.Proc, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
	msg, _, _ := strings.Cut(s, "\x00")
	server.ExpectLine("receive from client: " + strings.TrimSuffix(msg, "\n"))
}

func TestServerGreetsEchoesAndClosesOnQuit(t *testing.T) {
	_, port, server := startServer(t)
	c, r := dial(t, server, port)
	send(t, server, c, "hello\n")
	exampletest.ExpectReply(t, c, r, "->hello\n")
	send(t, server, c, "a\x00b\n") // a C string: the message ends at the NUL
	exampletest.ExpectBytes(t, c, r, "->a")
	send(t, server, c, "bye\x00") // as the seeds' client sends a line
	exampletest.ExpectBytes(t, c, r, "->bye")
	send(t, server, c, "QUIT\n")
	exampletest.ExpectEOF(t, c, r)
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestServerServesInterleavedClientsAndReleasesTheirDescriptors(t *testing.T) {
	_, port, server := startServer(t)
	base := server.OpenFds()
	a, ra := dial(t, server, port)
	b, rb := dial(t, server, port)
	send(t, server, a, "one\n")
	send(t, server, b, "two\n")
	exampletest.ExpectReply(t, b, rb, "->two\n")
	exampletest.ExpectReply(t, a, ra, "->one\n")
	send(t, server, b, "three\n")
	exampletest.ExpectReply(t, b, rb, "->three\n")

	a.Close() // without quit: the server sees end of file
	l := server.NextLine()
	if !strings.HasPrefix(l, "Remote connection[fd: ") || !strings.HasSuffix(l, "] has been closed") {
		t.Fatalf("got %q, want the remote-close message", l)
	}
	send(t, server, b, "quit\n")
	exampletest.ExpectEOF(t, b, rb)
	server.WaitFds(base)
	server.ExitsCleanly(syscall.SIGINT)
}

func TestServerWaitsForAClientThatReadsSlowly(t *testing.T) {
	_, port, server := startServer(t)
	// A late reader fills the socket buffers both ways: the server must
	// stop reading while its reply waits for room, and lose nothing.
	c, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const size = 4 << 20
	go func() {
		// No newline and no 'q': one long run of chunks, none of them quit.
		c.Write(bytes.Repeat([]byte("x"), size))
		c.(*net.TCPConn).CloseWrite()
	}()
	server.Expect("new client: ")
	read := make(chan []byte, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
		b, _ := io.ReadAll(c)
		read <- b
	}()
	// The server logs every chunk; reading its log keeps it from blocking
	// on a full pipe. It closes the connection once all is answered.
	server.Expect("has been closed")
	got, ok := bytes.CutPrefix(<-read, []byte(welcome))
	if !ok {
		t.Fatalf("reply starts %q, want the welcome", got[:min(len(got), 20)])
	}
	// Every chunk the server read came back whole, behind "->".
	replies := bytes.Count(got, []byte("->"))
	if x := bytes.Count(got, []byte("x")); x != size || len(got) != size+2*replies {
		t.Fatalf("got %d bytes with %d x in %d replies, want %d x and nothing else but the arrows", len(got), x, replies, size)
	}
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestServerRejectsBadArguments(t *testing.T) {
	bin := exampletest.Build(t, ".")
	for _, tc := range []struct {
		args []string
		line string
		code int
	}{
		{nil, "usage: echo-events [-client] ip port", 2},
		{[]string{"127.0.0.1", "80x"}, `echo-events: "80x" is not a port number`, 1},
		{[]string{"localhost", "80"}, `echo-events: "localhost" is not an IPv4 address`, 1},
	} {
		p := exampletest.Start(t, bin, tc.args...)
		if l := p.NextLine(); l != tc.line {
			t.Errorf("args %q: got %q, want %q", tc.args, l, tc.line)
		}
		p.ExitsWith(tc.code)
	}
}

// startClient starts the example's client against the server and checks
// its greeting.
func startClient(t *testing.T, bin, port string, server *exampletest.Proc) *exampletest.Proc {
	t.Helper()
	c := exampletest.Start(t, bin, "-client", "127.0.0.1", port)
	c.ExpectLines("connect to server successfully", "recv from server <<< Welcome.")
	server.Expect("new client: 127.0.0.1:")
	return c
}

// typeLine writes a line to the client's standard input.
func typeLine(t *testing.T, c *exampletest.Proc, line string) {
	t.Helper()
	if _, err := io.WriteString(c.Stdin(), line+"\n"); err != nil {
		t.Fatal(err)
	}
}

func TestClientTalksUntilTheServerClosesOnQuit(t *testing.T) {
	bin, port, server := startServer(t)
	c := startClient(t, bin, port, server)
	typeLine(t, c, "hello")
	c.ExpectLines("recv from server <<< ->hello")
	server.ExpectLines("receive from client: hello")
	typeLine(t, c, "quit")
	server.ExpectLines("receive from client: quit")
	c.ExpectLines("connection close. exit!", "finished")
	c.ExitsWith(0)
	server.ExitsCleanly(syscall.SIGINT)
}

func TestClientLeavesOnExit(t *testing.T) {
	bin, port, server := startServer(t)
	c := startClient(t, bin, port, server)
	typeLine(t, c, "exit")
	c.ExpectLines("finished")
	c.ExitsWith(0)
	server.ExpectLines("receive from client: exit")
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestClientAtEndOfInputWaitsForTheReply(t *testing.T) {
	bin, port, server := startServer(t)
	c := startClient(t, bin, port, server)
	typeLine(t, c, "last words")
	c.Stdin().Close()
	c.ExpectLines("recv from server <<< ->last words", "connection close. exit!", "finished")
	c.ExitsWith(0)
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestClientReadsInputFromAFile(t *testing.T) {
	bin, port, server := startServer(t)
	out, err := exampletest.RunWithInputFile(t, "from a file\n", bin, "-client", "127.0.0.1", port)
	want := "connect to server successfully\n" +
		"recv from server <<< Welcome.\n" +
		"recv from server <<< ->from a file\n" +
		"connection close. exit!\n" +
		"finished\n"
	// The welcome and the reply may come in one read.
	alt := strings.Replace(want, "Welcome.\nrecv from server <<< ", "Welcome.\n", 1)
	if err != nil || (string(out) != want && string(out) != alt) {
		t.Fatalf("client: %v, output\n%s\nwant\n%s", err, out, want)
	}
	server.Expect("receive from client: from a file")
	server.ExitsCleanly(syscall.SIGINT)
}

func TestClientStopsOnSignal(t *testing.T) {
	bin, port, server := startServer(t)
	c := startClient(t, bin, port, server)
	c.ExitsCleanly(syscall.SIGINT)
	c.ExpectLines("finished")
	server.ExitsCleanly(syscall.SIGINT)
}

func TestClientWithoutServerFails(t *testing.T) {
	bin := exampletest.Build(t, ".")
	port := strconv.Itoa(exampletest.FreePort(t))
	c := exampletest.Start(t, bin, "-client", "127.0.0.1", port)
	want := "echo-events: tcp_connect error!: connect: connection refused"
	c.ExpectLine(want)
	c.ExitsWith(1)
}
