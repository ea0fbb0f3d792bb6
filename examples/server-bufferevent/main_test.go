package main

import (
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

const writeCBLine = "I'm the server, wrote data to the client successfully, write callback called..."

// acceptedFd reads the print server's accept line and returns the fd.
func acceptedFd(t *testing.T, p *exampletest.Proc) int {
	t.Helper()
	l := p.NextLine()
	m := regexp.MustCompile(`^server accepted connection (\d+)$`).FindStringSubmatch(l)
	if m == nil {
		t.Fatalf("got %q, want the accept line", l)
	}
	fd, _ := strconv.Atoi(m[1])
	return fd
}

// expectAnswer reads one answer of the reply server from c.
func expectAnswer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	got := make([]byte, len(replyMessage))
	if n, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("got %q (err %v), want the answer %q", got[:n], err, replyMessage)
	}
	if string(got) != replyMessage {
		t.Fatalf("got %q, want the answer %q", got, replyMessage)
	}
}

// A line-based client (nc) gets an answer to each line, which is printed
// without its line ending.
func TestReplyServerAnswersEachMessage(t *testing.T) {
	_, addr, server := exampletest.StartServer(t, "-mode", "reply")
	fds := server.OpenFds()
	c := exampletest.Dial(t, "tcp", addr)
	server.ExpectLine("connect new client")
	for _, msg := range []string{"hello\n", "second message\r\n", "no line ending", "nul\x00"} {
		io.WriteString(c, msg)
		expectAnswer(t, c)
		server.ExpectLine("client say: " + strings.TrimRight(msg, "\r\n\x00"))
		server.ExpectLine(writeCBLine)
	}
	// A hang-up with an answer still going out closes the connection once
	// it is out.
	io.WriteString(c, "last")
	c.(*net.TCPConn).CloseWrite()
	expectAnswer(t, c)
	exampletest.ExpectEOF(t, c, c)
	server.Expect("client say: last")
	// The original had no event callback and kept every closed
	// connection's socket.
	server.WaitFds(fds)
	server.ExitsCleanly(syscall.SIGINT)
}

// A message is at most what the original's buffer held: 1024 bytes for
// the reply server. A longer arrival is answered once per 1024 bytes.
func TestReplyServerCutsMessagesAtItsBufferSize(t *testing.T) {
	_, addr, server := exampletest.StartServer(t, "-mode", "reply")
	c := exampletest.Dial(t, "tcp", addr)
	server.ExpectLine("connect new client")
	long := strings.Repeat("a", replyBufSize) + "tail"
	io.WriteString(c, long)
	expectAnswer(t, c)
	expectAnswer(t, c)
	server.Expect("client say: " + strings.Repeat("a", replyBufSize))
	server.Expect("client say: tail")
	server.ExitsCleanly(syscall.SIGINT)
}

func TestPrintServerNamesTheClientThatWentOffline(t *testing.T) {
	bin, addr, server := exampletest.StartServer(t, "-mode", "print")
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	c.ExpectLine("Input:")
	fd := acceptedFd(t, server)
	io.WriteString(c.Stdin(), "hello world\n  third\n")
	c.Stdin().Close()
	for i := 0; i < 3; i++ {
		c.ExpectLine("Input:")
	}
	c.ExitsWith(0)
	for _, want := range []string{
		"read hello", "read world", "read third",
		"event occurred! 11 (Reading|EOF)",
		fmt.Sprintf("client %d offline", fd),
	} {
		server.ExpectLine(want)
	}
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestPrintServerFreesAConnectionThatWasReset(t *testing.T) {
	_, addr, server := exampletest.StartServer(t, "-mode", "print")
	fds := server.OpenFds()
	c := exampletest.Dial(t, "tcp", addr).(*net.TCPConn)
	acceptedFd(t, server)
	io.WriteString(c, "before the reset\n")
	server.ExpectLine("read before the reset")
	c.SetLinger(0) // close with a reset
	c.Close()
	server.ExpectLine("event occurred! 21 (Reading|Error)")
	server.ExpectLine("unknown error! connection reset by peer")
	server.WaitFds(fds) // the original never freed the reset connection
	server.ExitsCleanly(syscall.SIGINT)
}

func TestClientReportsARefusedConnection(t *testing.T) {
	bin := exampletest.Build(t, ".")
	addr := "127.0.0.1:" + strconv.Itoa(exampletest.FreePort(t))
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	c.ExpectLine("server-bufferevent: dial tcp " + addr + ": connect: connection refused")
	c.ExitsWith(1)
}

func TestClientExitsCleanlyOnSignal(t *testing.T) {
	bin, addr, server := exampletest.StartServer(t, "-mode", "print")
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	c.ExpectLine("Input:")
	c.ExitsCleanly(syscall.SIGINT)
	acceptedFd(t, server)
	server.Expect("offline")
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestDefaultAddressesFollowTheOriginals(t *testing.T) {
	bin := exampletest.Build(t, ".")
	out := exampletest.Usage(t, bin)
	for _, want := range []string{":9527 with -mode reply", "127.0.0.1:8000 with -mode print"} {
		if !strings.Contains(out, want) {
			t.Fatalf("usage\n%s\ndoes not say %q", out, want)
		}
	}
}

func TestUnknownModeIsRefused(t *testing.T) {
	bin := exampletest.Build(t, ".")
	p := exampletest.Start(t, bin, "-mode", "echo")
	p.Expect("usage: server-bufferevent")
	p.ExitsWith(2)
}
