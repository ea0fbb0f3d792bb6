package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// The seeds' own C programs, built from testdata with libevent, talk to the
// Go server and client here as they talked to each other: case one's
// server (server1.c), case two's server (server2.c) and case two's client
// (client.c).

// startCServer1 builds case one's server and starts it on a free port,
// waiting until it listens (it prints nothing then).
func startCServer1(t *testing.T) string {
	t.Helper()
	bin := exampletest.BuildC(t, "testdata/server1.c")
	port := exampletest.FreePort(t)
	exampletest.StartC(t, bin, "127.0.0.1", strconv.Itoa(port))
	exampletest.WaitListening(t, port)
	return strconv.Itoa(port)
}

// startCServer2 builds case two's server for a free port and starts it.
func startCServer2(t *testing.T) string {
	t.Helper()
	port := exampletest.FreePort(t)
	exampletest.StartC(t, exampletest.BuildC(t, "testdata/server2.c", exampletest.PortDefine(port)))
	exampletest.WaitListening(t, port)
	return strconv.Itoa(port)
}

// exchanges are what a client sends with one write each, waiting for the
// answer before the next, and what case one's server answers: "->" and
// each read of at most 1021 bytes up to its first NUL.
var exchanges = []struct{ send, answer string }{
	{"hello\n", "->hello\n"},
	{"hello\x00", "->hello"}, // a line as the seeds' client sends it
	{"a\x00b\n", "->a"},
	{"abc" + strings.Repeat("\x00", 125), "->abc"}, // a NUL-padded 128-byte message
	{"\x00", "->"},
	{strings.Repeat("x", 1500), "->" + strings.Repeat("x", 1021) + "->" + strings.Repeat("x", 479)},
	{strings.Repeat("\x00", 1024), "->->"}, // how the seeds' client leaves
}

// The Go server answers each message with the bytes case one's C server
// answers, and both close the connection on "quit".
func TestGoServerAnswersAsTheCServer(t *testing.T) {
	_, goPort, goServer := startServer(t)
	ports := map[string]string{"server1.c": startCServer1(t), "the Go server": goPort}
	answers := map[string][]string{}
	for who, port := range ports {
		c := exampletest.Dial(t, "tcp", "127.0.0.1:"+port)
		r := bufio.NewReader(c)
		exampletest.ExpectReply(t, c, r, welcome)
		for _, x := range exchanges {
			if _, err := io.WriteString(c, x.send); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(x.answer))
			c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
			n, err := io.ReadFull(r, got)
			if err != nil {
				t.Fatalf("%s answered %.80q to %.80q, then: %v", who, got[:n], x.send, err)
			}
			answers[who] = append(answers[who], string(got))
		}
		io.WriteString(c, "Quit\x00")
		exampletest.ExpectEOF(t, c, r) // and nothing more was sent
	}
	for i, x := range exchanges {
		c, g := answers["server1.c"][i], answers["the Go server"][i]
		if c != x.answer || g != c {
			t.Errorf("to %.80q server1.c answered %.80q, the Go server %.80q; want %.80q", x.send, c, g, x.answer)
		}
	}
	goServer.ExitsCleanly(syscall.SIGTERM)
}

// talk types each line into a client, one at a time, reading the lines the
// client prints after each, and returns all it printed up to its end.
// Lines with no answer expected (quit) are followed by the client's end.
func talk(t *testing.T, c *exampletest.Proc, greeting int, script []string) []string {
	t.Helper()
	var out []string
	for range greeting {
		out = append(out, c.NextLine())
	}
	for _, line := range script {
		if _, err := io.WriteString(c.Stdin(), line+"\n"); err != nil {
			t.Fatal(err)
		}
		out = append(out, c.NextLine())
	}
	return out
}

// The seeds' C client prints the same lines talking to the Go server as
// talking to case one's C server, and ends the same way.
func TestCClientTalksToTheGoServerAsToTheCServer(t *testing.T) {
	client := exampletest.BuildC(t, "testdata/client.c")
	_, goPort, goServer := startServer(t)
	script := []string{"hello", "two words", "quit"}
	want := []string{
		"connect to server successfully",
		"recv from server <<< Welcome.", "", // the C client prints the server's newline too
		"recv from server <<< ->hello",
		"recv from server <<< ->two words",
		"connection close. exit!",
	}
	for who, port := range map[string]string{"server1.c": startCServer1(t), "the Go server": goPort} {
		c := exampletest.StartC(t, client, "127.0.0.1", port)
		got := talk(t, c, 3, script)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("client.c talking to %s printed\n%q\nwant\n%q", who, got, want)
		}
		c.ExitsWith(1) // exit(1) when the server closes
	}
	goServer.Expect("new client: ")
	goServer.ExpectLines("receive from client: hello", "receive from client: two words", "receive from client: quit")
	goServer.ExitsCleanly(syscall.SIGTERM)
}

// recorder is a TCP server that keeps every byte its one client sends and
// greets it as case one's server does, answering nothing else, so that a
// test sees what a client puts on the wire.
type recorder struct {
	port string
	mu   sync.Mutex
	got  []byte
}

func startRecorder(t *testing.T) *recorder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{port: strconv.Itoa(l.Addr().(*net.TCPAddr).Port)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return // closed at the end of the test
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(exampletest.Timeout))
		io.WriteString(c, welcome)
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			r.mu.Lock()
			r.got = append(r.got, buf[:n]...)
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return r
}

// waitFor waits until the recorder has n bytes and returns them.
func (r *recorder) waitFor(t *testing.T, n int) []byte {
	t.Helper()
	deadline := time.Now().Add(exampletest.Timeout)
	for {
		r.mu.Lock()
		got := bytes.Clone(r.got)
		r.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// typed are what a user types, each taken by one read of standard input,
// and sent is what the seeds' client sends for them: each read with its
// last newline turned into a NUL, and after "exit" 1024 NULs.
var (
	typed = []string{"hello\n", "two\nlines\n", "no newline", "exit\n"}
	sent  = "hello\x00" + "two\nlines\x00" + "no newline" + "exit\x00" + strings.Repeat("\x00", 1024)
)

// The Go client sends, byte for byte, what the seeds' C client sends for
// the same input.
func TestGoClientSendsWhatTheCClientSends(t *testing.T) {
	bin := exampletest.Build(t, ".")
	clients := map[string]struct {
		start func(port string) *exampletest.Proc
		code  int // how it ends after exit: the C exits 1
	}{
		"client.c": {func(port string) *exampletest.Proc {
			return exampletest.StartC(t, exampletest.BuildC(t, "testdata/client.c"), "127.0.0.1", port)
		}, 1},
		"the Go client": {func(port string) *exampletest.Proc {
			return exampletest.Start(t, bin, "-client", "127.0.0.1", port)
		}, 0},
	}
	for who, cl := range clients {
		r := startRecorder(t)
		c := cl.start(r.port)
		c.ExpectLine("connect to server successfully")
		var got []byte
		n := 0
		for _, in := range typed {
			if _, err := io.WriteString(c.Stdin(), in); err != nil {
				t.Fatal(err)
			}
			// Wait for each to be sent, so that the next is another read.
			n += len(in)
			got = r.waitFor(t, n)
		}
		got = r.waitFor(t, len(sent))
		c.ExitsWithin(exampletest.Timeout, cl.code)
		if string(got) != sent {
			t.Errorf("%s sent\n%q\nwant\n%q", who, got, sent)
		}
	}
}

// The Go client talks to both of the seeds' C servers: case one's, which
// greets and answers "->" and the message, and case two's, which answers
// the message alone; each line goes out as the C client sends it.
func TestGoClientTalksToTheCServers(t *testing.T) {
	bin := exampletest.Build(t, ".")

	c := exampletest.Start(t, bin, "-client", "127.0.0.1", startCServer1(t))
	c.ExpectLines("connect to server successfully", "recv from server <<< Welcome.")
	typeLine(t, c, "hello")
	c.ExpectLines("recv from server <<< ->hello")
	typeLine(t, c, "quit")
	c.ExpectLines("connection close. exit!", "finished")
	c.ExitsWith(0)

	c = exampletest.Start(t, bin, "-client", "127.0.0.1", startCServer2(t))
	c.ExpectLines("connect to server successfully")
	typeLine(t, c, "hello")
	c.ExpectLines("recv from server <<< hello")
	typeLine(t, c, "more words")
	c.ExpectLines("recv from server <<< more words")
	typeLine(t, c, "exit")
	c.ExpectLines("finished")
	c.ExitsWith(0)
}
