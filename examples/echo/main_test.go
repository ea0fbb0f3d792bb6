package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// startServer builds the example and starts the server on a free port.
func startServer(t *testing.T, args ...string) (bin, addr string, p *exampletest.Proc) {
	t.Helper()
	bin = exampletest.Build(t, ".")
	addr = "127.0.0.1:" + strconv.Itoa(exampletest.FreePort(t))
	p = exampletest.Start(t, bin, append([]string{"-addr", addr}, args...)...)
	expectLine(t, p, "listening on "+addr)
	return bin, addr, p
}

// dial connects to the server and checks that it logs the new client.
func dial(t *testing.T, server *exampletest.Proc, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := exampletest.Dial(t, "tcp", addr)
	expectLine(t, server, "accept a client "+c.LocalAddr().String())
	return c, bufio.NewReader(c)
}

// expectLine checks the next line the process prints.
func expectLine(t *testing.T, p *exampletest.Proc, want string) {
	t.Helper()
	if got := p.NextLine(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// roundTrip sends msg, checks the server's log line and the echo.
func roundTrip(t *testing.T, server *exampletest.Proc, c net.Conn, r *bufio.Reader, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	expectLine(t, server, "recv from client <<< "+string(chomp([]byte(msg))))
	c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	got, err := r.ReadString('\n')
	if err != nil || got != msg {
		t.Fatalf("echo %q (err %v), want %q", got, err, msg)
	}
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

// waitFds waits until the process has want descriptors open.
func waitFds(t *testing.T, pid, want int) {
	t.Helper()
	deadline := time.Now().Add(exampletest.Timeout)
	for got := openFds(t, pid); got != want; got = openFds(t, pid) {
		if time.Now().After(deadline) {
			t.Fatalf("server has %d descriptors open, want %d", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// exitsWith waits for p to end by itself and checks its exit status.
func exitsWith(t *testing.T, p *exampletest.Proc, code int) {
	t.Helper()
	if ws := p.Wait(exampletest.Timeout); !ws.Exited() || ws.ExitStatus() != code {
		t.Fatalf("status %v, want exit %d", ws, code)
	}
}

func TestServerEchoesEachClientAndReleasesItsDescriptor(t *testing.T) {
	_, addr, server := startServer(t)
	pid := server.Cmd.Process.Pid
	fds := openFds(t, pid)
	a, ra := dial(t, server, addr)
	b, rb := dial(t, server, addr)
	roundTrip(t, server, a, ra, "hello\n")
	roundTrip(t, server, b, rb, "from b\n")
	// The original's strlen cut the echo at the first NUL.
	roundTrip(t, server, a, ra, "a\x00b\n")
	a.Close()
	expectLine(t, server, "connection closed")
	roundTrip(t, server, b, rb, "still here\n")
	b.Close()
	expectLine(t, server, "connection closed")
	waitFds(t, pid, fds)
	server.ExitsCleanly(syscall.SIGINT)
}

func TestServerSendsTheWholeEchoBeforeClosing(t *testing.T) {
	_, addr, server := startServer(t, "-quiet")
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

func TestClientSendsItsInputAndPrintsEachLineBack(t *testing.T) {
	bin, addr, server := startServer(t)
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	expectLine(t, c, "Connected")
	server.Expect("accept a client ")
	if _, err := io.WriteString(c.Stdin(), "hello\n"); err != nil {
		t.Fatal(err)
	}
	expectLine(t, c, "server say: hello")
	expectLine(t, server, "recv from client <<< hello")
	// Two lines at once, and a last one without a newline, sent when the
	// input ends.
	io.WriteString(c.Stdin(), "two\nlines\nlast")
	c.Stdin().Close()
	for _, want := range []string{"server say: two", "server say: lines", "server say: last", "connection closed"} {
		expectLine(t, c, want)
	}
	exitsWith(t, c, 0)
	server.Expect("connection closed")
	server.ExitsCleanly(syscall.SIGINT)
}

func TestClientReportsARefusedConnection(t *testing.T) {
	bin := exampletest.Build(t, ".")
	addr := "127.0.0.1:" + strconv.Itoa(exampletest.FreePort(t))
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	expectLine(t, c, "some other error: connection refused")
	expectLine(t, c, "echo: connection failed")
	exitsWith(t, c, 1)
}

func TestClientResolvesAHostName(t *testing.T) {
	bin, addr, server := startServer(t)
	_, port, _ := net.SplitHostPort(addr)
	c := exampletest.Start(t, bin, "-client", "-addr", "localhost:"+port)
	c.Stdin().Close()
	for _, want := range []string{"Connected", "connection closed"} {
		expectLine(t, c, want)
	}
	exitsWith(t, c, 0)
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestClientStopsOnSignal(t *testing.T) {
	bin, addr, server := startServer(t)
	c := exampletest.Start(t, bin, "-client", "-addr", addr)
	expectLine(t, c, "Connected")
	c.ExitsCleanly(syscall.SIGTERM)
	server.Expect("connection closed")
	server.ExitsCleanly(syscall.SIGINT)
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
	exitsWith(t, p, 1)
}

func TestServerListensOnPort9527ByDefault(t *testing.T) {
	bin := exampletest.Build(t, ".")
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	if !bytes.Contains(out, []byte(`(default ":9527")`)) {
		t.Fatalf("usage\n%s\ndoes not give :9527 as the default address", out)
	}
}
