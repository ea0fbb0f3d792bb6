package main

import (
	"bufio"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// The seeds' own C programs, built with libevent, talk to the Go server and
// client here: the buffered echo server (testdata/echo_server.c); the
// bufferevent client of the libevent notes, which the Go client ports
// (server-bufferevent keeps it); and case two's client of the echo
// servers before it, which the notes name as the client to test the
// buffered server with ("客户端可以使用上面那个去测试"; echo-events keeps
// it).
const (
	notesClient   = "../server-bufferevent/testdata/notes_client.c"
	caseTwoClient = "../echo-events/testdata/client.c"
)

// startCServer builds the seeds' buffered echo server for a free port and
// starts it. It prints nothing until a client comes.
func startCServer(t *testing.T) (addr string, p *exampletest.Proc) {
	t.Helper()
	port := exampletest.FreePort(t)
	p = exampletest.StartC(t, exampletest.BuildC(t, "testdata/echo_server.c", exampletest.PortDefine(port)))
	exampletest.WaitListening(t, port)
	return "127.0.0.1:" + strconv.Itoa(port), p
}

// servers are the two servers a test compares, by name: the C and the Go.
type servers struct {
	names []string
	addrs map[string]string
	procs map[string]*exampletest.Proc
}

func startServers(t *testing.T) *servers {
	t.Helper()
	s := &servers{names: []string{"echo_server.c", "the Go server"}, addrs: map[string]string{}, procs: map[string]*exampletest.Proc{}}
	s.addrs["echo_server.c"], s.procs["echo_server.c"] = startCServer(t)
	_, s.addrs["the Go server"], s.procs["the Go server"] = exampletest.StartServer(t)
	return s
}

// stop ends both servers: the C one has no clean end, so it is killed.
func (s *servers) stop(t *testing.T) {
	t.Helper()
	s.procs["echo_server.c"].Signal(syscall.SIGKILL)
	s.procs["the Go server"].ExitsCleanly(syscall.SIGTERM)
}

// messages are what a client sends, one write each, waiting for the
// server to print and answer each before the next, and the answer: the
// message up to its first NUL, at most 1024 bytes of it.
var messages = []struct{ send, answer string }{
	{"hello\n", "hello\n"},
	{"hello\x00", "hello"}, // a line as case two's client sends it
	{"a\x00b\n", "a"},
	{"abc" + strings.Repeat("\x00", 125), "abc"}, // a NUL-padded 128-byte message
	{"no newline", "no newline"},
	{"\x00", ""},
	// More than one read takes: the rest waits for the next message, and
	// is answered with it.
	{strings.Repeat("x", 1500), strings.Repeat("x", 1024)},
	{"y\n", strings.Repeat("x", 476) + "y\n"},
	{strings.Repeat("\x00", 1024), ""}, // how case two's client leaves
	{"bye\r\n", "bye\r\n"},
}

// exchange is what a server printed and answered for one message.
type exchange struct {
	printed []string
	answer  string
}

// The Go server prints and answers each message with the bytes the seeds'
// C server prints and answers.
func TestGoServerAnswersAsTheCServer(t *testing.T) {
	s := startServers(t)
	got := map[string][]exchange{}
	for _, who := range s.names {
		server := s.procs[who]
		c := exampletest.Dial(t, "tcp", s.addrs[who])
		server.Expect("accept a client ")
		r := bufio.NewReader(c)
		pending := "" // what the server's last read left in its input
		for _, m := range messages {
			if _, err := io.WriteString(c, m.send); err != nil {
				t.Fatal(err)
			}
			// The server prints the message before it answers: its lines,
			// as the expected ones count them, say that it has taken it.
			var x exchange
			for range logLines(pending + m.send[:min(len(m.send), 1024-len(pending))]) {
				x.printed = append(x.printed, server.NextLine())
			}
			pending = (pending + m.send)[min(len(pending)+len(m.send), 1024):]
			x.answer = readN(t, c, r, len(m.answer))
			got[who] = append(got[who], x)
		}
		// Nothing more was sent.
		c.(*net.TCPConn).CloseWrite()
		exampletest.ExpectEOF(t, c, r)
	}
	pending := ""
	for i, m := range messages {
		msg := pending + m.send
		msg, pending = msg[:min(len(msg), 1024)], msg[min(len(msg), 1024):]
		want := exchange{logLines(msg), m.answer}
		c, g := got["echo_server.c"][i], got["the Go server"][i]
		if !equal(c, want) || !equal(g, c) {
			t.Errorf("for %.60q echo_server.c printed %.60q and answered %.60q,\nthe Go server printed %.60q and answered %.60q;\nwant %.60q and %.60q",
				m.send, c.printed, c.answer, g.printed, g.answer, want.printed, want.answer)
		}
	}
	s.stop(t)
}

func equal(a, b exchange) bool {
	return a.answer == b.answer && slices.Equal(a.printed, b.printed)
}

// readN reads n bytes from r, which buffers c, and returns them, or fails
// the test with what came.
func readN(t *testing.T, c net.Conn, r io.Reader, n int) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	b := make([]byte, n)
	if k, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("read %.80q, then: %v; want %d bytes", b[:k], err, n)
	}
	return string(b)
}

// The notes' bufferevent client prints the same with the Go server as with
// the C server: it connects, and since neither it nor an echo server
// speaks first, nothing more happens until the server ends; then it sees
// the end, and ends as it does with its own server: main frees the
// bufferevent event_cb freed, which crashes it.
func TestNotesClientSeesTheGoServerAsTheCServer(t *testing.T) {
	s := startServers(t)
	ends := map[string]syscall.WaitStatus{}
	for _, who := range s.names {
		_, port, _ := net.SplitHostPort(s.addrs[who])
		p, _ := strconv.Atoi(port)
		c := exampletest.StartC(t, exampletest.BuildC(t, notesClient, exampletest.PortDefine(p)))
		c.ExpectLine(`已经连接服务器...\(^o^)/...`)
		s.procs[who].Expect("accept a client ")
		// A moment for anything either side might send.
		time.Sleep(200 * time.Millisecond)
		if who == "echo_server.c" {
			s.procs[who].Signal(syscall.SIGKILL)
		} else {
			s.procs[who].ExitsCleanly(syscall.SIGTERM)
		}
		c.ExpectLine("connection closed") // and nothing before it
		ends[who] = c.Wait(exampletest.QuickExit)
		t.Logf("after %s: %v", who, ends[who].Signal())
	}
	if c, g := ends["echo_server.c"], ends["the Go server"]; c != g {
		t.Errorf("the notes' client ended with status %#x after echo_server.c, %#x after the Go server", c, g)
	}
}

// Case two's C client, the one the notes test the buffered server with,
// prints the same talking to the Go server as to the C server, and both
// servers print the same for what it sends: each line with its newline
// turned into a NUL.
func TestCaseTwoClientTalksToTheGoServerAsToTheCServer(t *testing.T) {
	client := exampletest.BuildC(t, caseTwoClient)
	s := startServers(t)
	want := []string{
		"connect to server successfully",
		"recv from server <<< hello",
		"recv from server <<< two words",
		"recv from server <<< end", // after an empty line, sent as a NUL and answered with nothing
	}
	for _, who := range s.names {
		_, port, _ := net.SplitHostPort(s.addrs[who])
		c := exampletest.StartC(t, client, "127.0.0.1", port)
		got := []string{c.NextLine()}
		s.procs[who].Expect("accept a client ")
		for _, line := range []string{"hello", "two words", "", "end"} {
			if _, err := io.WriteString(c.Stdin(), line+"\n"); err != nil {
				t.Fatal(err)
			}
			// Each line sent is one message: the server prints it, without
			// a newline (the client sent a NUL instead), and answers it.
			s.procs[who].ExpectLine("recv from client <<< " + line)
			if line != "" {
				got = append(got, c.NextLine())
			}
		}
		c.Stdin().Close()
		c.ExpectLine("connection close. exit!")
		c.ExitsWith(1) // the original's exit(1) at the end of its input
		if !slices.Equal(got, want) {
			t.Errorf("case two's client talking to %s printed\n%q\nwant\n%q", who, got, want)
		}
	}
	s.stop(t)
}

// The Go client talks to the C server as to the Go server: the same
// output, and the servers print the same for what it sends.
func TestGoClientTalksToTheCServerAsToTheGoServer(t *testing.T) {
	s := startServers(t)
	bin := exampletest.Build(t, ".")
	outputs := map[string][]string{}
	for _, who := range s.names {
		c := exampletest.Start(t, bin, "-client", "-addr", s.addrs[who])
		out := []string{c.NextLine()} // Connected
		s.procs[who].Expect("accept a client ")
		for _, in := range []string{"hello\n", "a\x00b\n", "no newline", "two\nlines\n"} {
			if _, err := io.WriteString(c.Stdin(), in); err != nil {
				t.Fatal(err)
			}
			s.procs[who].ExpectLines(logLines(in)...)
			// One line printed for each line of the echo.
			echo, _, _ := strings.Cut(strings.TrimSuffix(in, "\n"), "\x00")
			for range strings.Split(echo, "\n") {
				out = append(out, c.NextLine())
			}
		}
		c.Stdin().Close()
		out = append(out, c.NextLine())
		c.ExitsWith(0)
		outputs[who] = out
	}
	want := []string{"Connected", "server say: hello", "server say: a", "server say: no newline",
		"server say: two", "lines", "connection closed"}
	for _, who := range s.names {
		if !slices.Equal(outputs[who], want) {
			t.Errorf("the Go client talking to %s printed\n%q\nwant\n%q", who, outputs[who], want)
		}
	}
	s.stop(t)
}
