package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

const writeCBLine = "I'm the server, wrote data to the client successfully, write callback called..."

// startServer builds the example and starts a server in mode on a free port.
func startServer(t *testing.T, mode string) (bin, addr string, p *exampletest.Proc) {
	t.Helper()
	bin = exampletest.Build(t, ".")
	addr = "127.0.0.1:" + strconv.Itoa(exampletest.FreePort(t))
	p = exampletest.Start(t, bin, "-mode", mode, "-addr", addr)
	expectLine(t, p, "listening on "+addr)
	return bin, addr, p
}

// expectLine checks the next line the process prints.
func expectLine(t *testing.T, p *exampletest.Proc, want string) {
	t.Helper()
	if got := p.NextLine(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// expectAnswer reads one line from the reply server.
func expectAnswer(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	if got, err := r.ReadString('\n'); err != nil || got != replyMessage {
		t.Fatalf("got %q (err %v), want %q", got, err, replyMessage)
	}
}

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

// openFds counts the process's open descriptors.
func openFds(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// waitFds waits until the process has want descriptors open, since it
// may print a line just before it closes one, and returns the last count.
func waitFds(t *testing.T, pid, want int) int {
	t.Helper()
	got := openFds(t, pid)
	for deadline := time.Now().Add(exampletest.Timeout); got != want && time.Now().Before(deadline); got = openFds(t, pid) {
		time.Sleep(10 * time.Millisecond)
	}
	return got
}

// exitsWith waits for p to end by itself and checks its exit status.
func exitsWith(t *testing.T, p *exampletest.Proc, code int) {
	t.Helper()
	if ws := p.Wait(exampletest.Timeout); !ws.Exited() || ws.ExitStatus() != code {
		t.Fatalf("status %v, want exit %d", ws, code)
	}
}

func TestReplyServerAnswersEachLine(t *testing.T) {
	_, addr, server := startServer(t, "reply")
	fds := openFds(t, server.Cmd.Process.Pid)
	c := exampletest.Dial(t, "tcp", addr)
	r := bufio.NewReader(c)
	expectLine(t, server, "connect new client")
	for _, msg := range []string{"hello", "second message"} {
		io.WriteString(c, msg+"\n")
		expectAnswer(t, c, r)
		expectLine(t, server, "client say: "+msg)
		expectLine(t, server, writeCBLine)
	}
	// A last line without a newline is answered when the client hangs up,
	// and the connection closes once the answer is out.
	io.WriteString(c, "last")
	c.(*net.TCPConn).CloseWrite()
	expectAnswer(t, c, r)
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("read after the last answer: %v, want EOF", err)
	}
	for _, want := range []string{"client say: last", "connection closed", writeCBLine} {
		expectLine(t, server, want)
	}
	// The original had no event callback and kept every closed
	// connection's socket.
	if got := waitFds(t, server.Cmd.Process.Pid, fds); got != fds {
		t.Fatalf("server has %d descriptors open, want %d", got, fds)
	}
	server.ExitsCleanly(syscall.SIGINT)
}

func TestPrintServerNamesTheClientThatWentOffline(t *testing.T) {
	bin, addr, server := startServer(t, "print")
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	expectLine(t, c, "Input:")
	fd := acceptedFd(t, server)
	io.WriteString(c.Stdin(), "hello world\n  third\n")
	c.Stdin().Close()
	for i := 0; i < 3; i++ {
		expectLine(t, c, "Input:")
	}
	exitsWith(t, c, 0)
	for _, want := range []string{
		"read hello", "read world", "read third",
		"event occurred! 11 (Reading|EOF)",
		fmt.Sprintf("client %d offline", fd),
	} {
		expectLine(t, server, want)
	}
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestPrintServerFreesAConnectionThatWasReset(t *testing.T) {
	_, addr, server := startServer(t, "print")
	fds := openFds(t, server.Cmd.Process.Pid)
	c := exampletest.Dial(t, "tcp", addr).(*net.TCPConn)
	acceptedFd(t, server)
	io.WriteString(c, "before the reset\n")
	expectLine(t, server, "read before the reset")
	c.SetLinger(0) // close with a reset
	c.Close()
	expectLine(t, server, "event occurred! 21 (Reading|Error)")
	expectLine(t, server, "unknown error! connection reset by peer")
	if got := waitFds(t, server.Cmd.Process.Pid, fds); got != fds {
		t.Fatalf("server has %d descriptors open, want %d: the original never freed it", got, fds)
	}
	server.ExitsCleanly(syscall.SIGINT)
}

func TestClientReportsARefusedConnection(t *testing.T) {
	bin := exampletest.Build(t, ".")
	addr := "127.0.0.1:" + strconv.Itoa(exampletest.FreePort(t))
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	expectLine(t, c, "server-bufferevent: dial tcp "+addr+": connect: connection refused")
	exitsWith(t, c, 1)
}

func TestClientExitsCleanlyOnSignal(t *testing.T) {
	bin, addr, server := startServer(t, "print")
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	expectLine(t, c, "Input:")
	c.ExitsCleanly(syscall.SIGINT)
	acceptedFd(t, server)
	server.Expect("offline")
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestDefaultAddressesFollowTheOriginals(t *testing.T) {
	bin := exampletest.Build(t, ".")
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	for _, want := range []string{":9527 with -mode reply", "127.0.0.1:8000 with -mode print"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Fatalf("usage\n%s\ndoes not say %q", out, want)
		}
	}
}

func TestUnknownModeIsRefused(t *testing.T) {
	bin := exampletest.Build(t, ".")
	p := exampletest.Start(t, bin, "-mode", "echo")
	p.Expect("usage: server-bufferevent")
	exitsWith(t, p, 2)
}
