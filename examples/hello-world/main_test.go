package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// start builds the example and starts it on a free port.
func start(t *testing.T, args ...string) (addr string, p *exampletest.Proc) {
	t.Helper()
	bin := exampletest.Build(t, ".")
	addr = "127.0.0.1:" + strconv.Itoa(exampletest.FreePort(t))
	p = exampletest.Start(t, bin, append([]string{"-addr", addr}, args...)...)
	expectLine(t, p, "listening on "+addr)
	return addr, p
}

// expectLine checks the next line the process prints.
func expectLine(t *testing.T, p *exampletest.Proc, want string) {
	t.Helper()
	if got := p.NextLine(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// greeted connects, reads until the server closes, and checks that it
// received exactly the message and that the server logged the flush.
func greeted(t *testing.T, server *exampletest.Proc, addr string) {
	t.Helper()
	c := exampletest.Dial(t, "tcp", addr)
	c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "Hello, World!\n" {
		t.Fatalf("read %q (err %v), want the message and the end", got, err)
	}
	expectLine(t, server, "flushed answer")
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

func TestEachClientGetsTheMessageAndTheConnectionIsClosed(t *testing.T) {
	addr, p := start(t, "-delay", "50ms")
	fds := openFds(t, p.Cmd.Process.Pid)
	for i := 0; i < 3; i++ {
		greeted(t, p, addr)
	}
	// Freed once flushed: the server holds no descriptor for the clients.
	if got := openFds(t, p.Cmd.Process.Pid); got != fds {
		t.Fatalf("server has %d descriptors open, want %d as before the clients", got, fds)
	}
	p.Signal(syscall.SIGINT)
	expectLine(t, p, "Caught an interrupt signal; exiting cleanly after 50ms.")
	expectLine(t, p, "done")
	if ws := p.Wait(3 * time.Second); !ws.Exited() || ws.ExitStatus() != 0 {
		t.Fatalf("status %v, want exit 0", ws)
	}
}

func TestTerminationEndsTheLoopToo(t *testing.T) {
	addr, p := start(t, "-delay", "0")
	greeted(t, p, addr)
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestServerKeepsServingForTwoSecondsAfterTheInterrupt(t *testing.T) {
	addr, p := start(t)
	p.Signal(syscall.SIGINT)
	expectLine(t, p, "Caught an interrupt signal; exiting cleanly in two seconds.")
	// LoopExit with a delay leaves the loop running until then.
	greeted(t, p, addr)
	expectLine(t, p, "done")
	if ws := p.Wait(exampletest.Timeout); !ws.Exited() || ws.ExitStatus() != 0 {
		t.Fatalf("status %v, want exit 0", ws)
	}
}

func TestListenerFailureIsReported(t *testing.T) {
	addr, p := start(t, "-delay", "0")
	bin := exampletest.Build(t, ".")
	q := exampletest.Start(t, bin, "-addr", addr)
	if l := q.NextLine(); !bytes.HasPrefix([]byte(l), []byte("Could not create a listener: ")) ||
		!bytes.HasSuffix([]byte(l), []byte("address already in use")) {
		t.Fatalf("got %q, want the listener error", l)
	}
	if ws := q.Wait(exampletest.Timeout); !ws.Exited() || ws.ExitStatus() != 1 {
		t.Fatalf("status %v, want exit 1", ws)
	}
	p.ExitsCleanly(syscall.SIGINT)
}

func TestListensOnPort9995ByDefault(t *testing.T) {
	bin := exampletest.Build(t, ".")
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	if !bytes.Contains(out, []byte(`(default ":9995")`)) {
		t.Fatalf("usage\n%s\ndoes not give :9995 as the default address", out)
	}
}
