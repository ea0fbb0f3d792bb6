package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// The seeds' own C programs, built from testdata with libevent, talk to
// the Go ports here, and the Go client to the C server, as they talked to
// each other: the ports must put the same bytes on the wire.

// words is the standard input the clients get: a shorter word after a
// longer one shows what the post's client left in its buffer.
const words = "hello world\n  hi third\n"

// startCServer builds a C server from testdata on a free port, starts it
// and waits until it listens.
func startCServer(t *testing.T, src string) (addr string, p *exampletest.Proc) {
	t.Helper()
	port := exampletest.FreePort(t)
	bin := exampletest.BuildC(t, src, exampletest.PortDefine(port))
	p = exampletest.StartC(t, bin)
	exampletest.WaitListening(t, port)
	return "127.0.0.1:" + strconv.Itoa(port), p
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

// capture listens on a free port and returns its address and a channel
// that delivers every byte the first client sends, once it hangs up.
func capture(t *testing.T) (string, <-chan []byte) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(got)
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	return l.Addr().String(), got
}

func received(t *testing.T, ch <-chan []byte, who string) []byte {
	t.Helper()
	select {
	case b, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the capturing listener failed", who)
		}
		return b
	case <-time.After(exampletest.Timeout):
		t.Fatalf("%s sent nothing within %v", who, exampletest.Timeout)
	}
	return nil
}

// The Go client sends, byte for byte, what the post's C client sends for
// the same input: 128-byte messages, leftovers of longer words included.
func TestGoClientSendsWhatThePostClientSends(t *testing.T) {
	cAddr, cGot := capture(t)
	cbin := exampletest.BuildC(t, "testdata/post_client.c", exampletest.PortDefine(portOf(t, cAddr)))
	cc := exampletest.StartC(t, cbin)
	io.WriteString(cc.Stdin(), words)
	cc.Stdin().Close()
	cc.ExitsWith(0)
	want := received(t, cGot, "post_client.c")

	goAddr, goGot := capture(t)
	gc := exampletest.Start(t, exampletest.Build(t, "."), "-client", "-addr", goAddr)
	io.WriteString(gc.Stdin(), words)
	gc.Stdin().Close()
	gc.ExitsWith(0)
	got := received(t, goGot, "the Go client")

	if len(want) != 4*printBufSize {
		t.Fatalf("post_client.c sent %d bytes, want %d: 4 messages of %d", len(want), 4*printBufSize, printBufSize)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the Go client sent\n%q\nthe C client sent\n%q", got, want)
	}
}

// The post's C client against the Go print server: each 128-byte message
// is printed as one line, without its NUL padding.
func TestPostClientAgainstPrintServer(t *testing.T) {
	_, addr, server := exampletest.StartServer(t, "-mode", "print")
	cbin := exampletest.BuildC(t, "testdata/post_client.c", exampletest.PortDefine(portOf(t, addr)))
	c := exampletest.StartC(t, cbin)
	fd := acceptedFd(t, server)
	io.WriteString(c.Stdin(), words)
	c.Stdin().Close()
	c.ExitsWith(0)
	server.ExpectLines("read hello", "read world", "read hi", "read third",
		"event occurred! 11 (Reading|EOF)", fmt.Sprintf("client %d offline", fd))
	server.ExitsCleanly(syscall.SIGTERM)
}

// The Go client against the post's C server: the C server prints each
// word, as it did for its own client. It reads 128 bytes per read
// callback and leaves the rest for the next arrival, so the words go one
// at a time, each once the last is printed, as a person typing sends them.
func TestGoClientAgainstPostServer(t *testing.T) {
	addr, server := startCServer(t, "testdata/post_server.c")
	c := exampletest.Start(t, exampletest.Build(t, "."), "-client", "-addr", addr)
	server.Expect("服务器接收") // printf("服务器接收 %d 的连接\n", fd)
	for _, w := range []string{"hello", "world", "hi", "third"} {
		c.ExpectLine("Input:")
		io.WriteString(c.Stdin(), w+"\n")
		server.ExpectLine("read " + w + " ") // printf("read %s \n", buf)
	}
	c.Stdin().Close()
	c.ExitsWith(0)
	server.ExpectLines("异常发生！11 ", "客户端下线") // printf("异常发生！%x \n", what)
}

// The libevent notes' C server and the Go reply server answer a client of
// the notes (a string and its NUL) with the same bytes, and print what it
// said.
func TestReplyServerAnswersAsTheNotesServer(t *testing.T) {
	cAddr, cServer := startCServer(t, "testdata/notes_server.c")
	_, goAddr, goServer := exampletest.StartServer(t, "-mode", "reply")
	var answers [2][]byte
	for i, addr := range []string{cAddr, goAddr} {
		c := exampletest.Dial(t, "tcp", addr)
		// bufferevent_write(bev, buf, strlen(buf) + 1)
		io.WriteString(c, "hello server\x00")
		c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
		answers[i] = make([]byte, len(replyMessage))
		if _, err := io.ReadFull(c, answers[i]); err != nil {
			t.Fatalf("answer from %s: %v", addr, err)
		}
	}
	if !bytes.Equal(answers[0], answers[1]) {
		t.Fatalf("the Go server answered %q, the C server %q", answers[1], answers[0])
	}
	// printf("connect new client") has no newline: the next line joins it.
	cServer.Expect("client say:hello server")
	goServer.ExpectLines("connect new client", "client say: hello server", writeCBLine)
	goServer.ExitsCleanly(syscall.SIGINT)
}

// The post's client sends 128-byte messages to the reply server too: each
// is one message, printed without its padding and answered once.
func TestPostClientAgainstReplyServer(t *testing.T) {
	_, addr, server := exampletest.StartServer(t, "-mode", "reply")
	cbin := exampletest.BuildC(t, "testdata/post_client.c", exampletest.PortDefine(portOf(t, addr)))
	c := exampletest.StartC(t, cbin)
	server.ExpectLine("connect new client")
	io.WriteString(c.Stdin(), "hello\n")
	server.ExpectLines("client say: hello", writeCBLine)
	io.WriteString(c.Stdin(), "world\n")
	server.ExpectLines("client say: world", writeCBLine)
	// The client never reads: its close, with the answers unread, resets
	// the connection, which the server reports and frees.
	c.Stdin().Close()
	c.ExitsWith(0)
	server.ExpectLine("some other error: connection reset by peer")
	server.ExitsCleanly(syscall.SIGINT)
}

// The libevent notes' C client against the Go reply server: it connects
// and, as against its own server, neither side speaks first; its hang-up
// frees the connection.
func TestNotesClientAgainstReplyServer(t *testing.T) {
	_, addr, server := exampletest.StartServer(t, "-mode", "reply")
	fds := server.OpenFds()
	cbin := exampletest.BuildC(t, "testdata/notes_client.c", exampletest.PortDefine(portOf(t, addr)))
	c := exampletest.StartC(t, cbin)
	c.ExpectLine("已经连接服务器...\\(^o^)/...")
	server.ExpectLine("connect new client")
	c.Signal(syscall.SIGTERM)
	c.Wait(exampletest.QuickExit)
	server.ExpectLine("connection closed")
	server.WaitFds(fds)
	server.ExitsCleanly(syscall.SIGINT)
}
