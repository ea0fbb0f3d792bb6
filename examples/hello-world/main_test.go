package main

import (
	"bytes"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

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
	server.ExpectLine("flushed answer")
}

func TestEachClientGetsTheMessageAndTheConnectionIsClosed(t *testing.T) {
	_, addr, p := exampletest.StartServer(t, "-delay", "50ms")
	fds := p.OpenFds()
	for i := 0; i < 3; i++ {
		greeted(t, p, addr)
	}
	// Freed once flushed: the server holds no descriptor for the clients.
	if got := p.OpenFds(); got != fds {
		t.Fatalf("server has %d descriptors open, want %d as before the clients", got, fds)
	}
	p.Signal(syscall.SIGINT)
	p.ExpectLine("Caught an interrupt signal; exiting cleanly after 50ms.")
	p.ExpectLine("done")
	p.ExitsWithin(exampletest.QuickExit, 0)
}

func TestTerminationEndsTheLoopToo(t *testing.T) {
	_, addr, p := exampletest.StartServer(t, "-delay", "0")
	greeted(t, p, addr)
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestServerKeepsServingForTwoSecondsAfterTheInterrupt(t *testing.T) {
	_, addr, p := exampletest.StartServer(t)
	p.Signal(syscall.SIGINT)
	p.ExpectLine("Caught an interrupt signal; exiting cleanly in two seconds.")
	// LoopExit with a delay leaves the loop running until then.
	greeted(t, p, addr)
	p.ExpectLine("done")
	p.ExitsWith(0)
}

func TestListenerFailureIsReported(t *testing.T) {
	bin, addr, p := exampletest.StartServer(t, "-delay", "0")
	q := exampletest.Start(t, bin, "-addr", addr)
	if l := q.NextLine(); !bytes.HasPrefix([]byte(l), []byte("Could not create a listener: ")) ||
		!bytes.HasSuffix([]byte(l), []byte("address already in use")) {
		t.Fatalf("got %q, want the listener error", l)
	}
	q.ExitsWith(1)
	p.ExitsCleanly(syscall.SIGINT)
}

func TestListensOnPort9995ByDefault(t *testing.T) {
	bin := exampletest.Build(t, ".")
	out := exampletest.Usage(t, bin)
	if !strings.Contains(out, `(default ":9995")`) {
		t.Fatalf("usage\n%s\ndoes not give :9995 as the default address", out)
	}
}
