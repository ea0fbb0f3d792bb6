package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// startServer builds the example and starts the server on a socket file
// in a temporary directory.
func startServer(t *testing.T) (bin, path string, p *exampletest.Proc) {
	t.Helper()
	bin = exampletest.Build(t, ".")
	path = filepath.Join(t.TempDir(), "serv.socket")
	p = exampletest.Start(t, bin, "-path", path)
	p.ExpectLine("Accept ...")
	return bin, path, p
}

// roundTrip sends msg on c and checks the answer.
func roundTrip(t *testing.T, c net.Conn, msg, want string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("got %q (err %v), want %q", got, err, want)
	}
}

// staleSocket leaves a socket file at path with nothing listening on it,
// as a server that was killed does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
}

func TestServerServesClientsAtOnceAndRemovesItsSocket(t *testing.T) {
	_, path, server := startServer(t)
	fds := server.OpenFds()
	// The original served one client at a time: b would wait for a.
	a := exampletest.Dial(t, "unix", path)
	server.ExpectLine("client bind filename (unnamed)")
	b := exampletest.Dial(t, "unix", path)
	server.ExpectLine("client bind filename (unnamed)")
	roundTrip(t, b, "from b\n", "FROM B\n")
	// toupper in the C locale: ASCII letters only, UTF-8 untouched.
	roundTrip(t, a, "hello, World ünï 123", "HELLO, WORLD üNï 123")
	long := strings.Repeat("abc", 10000) // more than the 4096-byte buffer
	roundTrip(t, b, long, strings.ToUpper(long))
	a.Close()
	b.Close()
	server.WaitFds(fds)
	server.ExitsCleanly(syscall.SIGINT)
	exampletest.NoFile(t, path)
}

func TestClientPrintsTheAnswersAndRemovesItsOwnSocket(t *testing.T) {
	bin, path, server := startServer(t)
	bind := filepath.Join(filepath.Dir(path), "clie.socket")
	staleSocket(t, bind) // the original's unlink(CLIE_ADDR) is for this
	c := exampletest.Start(t, bin, "-client", "-path", path, "-bind", bind)
	server.ExpectLine("client bind filename " + bind)
	io.WriteString(c.Stdin(), "hello\n")
	c.ExpectLine("HELLO")
	// A line longer than the original's 4096-byte buffer comes back whole,
	// and a last line needs no newline.
	long := strings.Repeat("x", 50000)
	io.WriteString(c.Stdin(), long+"\nlast")
	c.Stdin().Close()
	c.ExpectLine(strings.ToUpper(long))
	c.ExpectLine("LAST")
	c.ExitsWith(0)
	exampletest.NoFile(t, bind)
	server.ExitsCleanly(syscall.SIGTERM)
	exampletest.NoFile(t, path)
}

func TestClientWithoutABoundPath(t *testing.T) {
	bin, path, server := startServer(t)
	c := exampletest.Start(t, bin, "-client", "-path", path, "-bind", "")
	server.ExpectLine("client bind filename (unnamed)")
	io.WriteString(c.Stdin(), "abc\n")
	c.ExpectLine("ABC")
	c.ExitsCleanly(syscall.SIGINT)
	server.ExitsCleanly(syscall.SIGINT)
}

func TestClientRefusesToRemoveAnOrdinaryFile(t *testing.T) {
	bin, path, server := startServer(t)
	bind := filepath.Join(t.TempDir(), "clie.socket")
	os.WriteFile(bind, []byte("keep me"), 0o600)
	c := exampletest.Start(t, bin, "-client", "-path", path, "-bind", bind)
	c.ExpectLine("unix-upper: " + bind + " exists and is not a socket; not removing it")
	c.ExitsWith(1)
	if b, err := os.ReadFile(bind); err != nil || string(b) != "keep me" {
		t.Fatalf("file now holds %q (err %v), want it untouched", b, err)
	}
	server.ExitsCleanly(syscall.SIGTERM)
}

func TestServerReplacesAStaleSocketFile(t *testing.T) {
	bin := exampletest.Build(t, ".")
	path := filepath.Join(t.TempDir(), "serv.socket")
	staleSocket(t, path)
	p := exampletest.Start(t, bin, "-path", path)
	p.ExpectLine("Accept ...")
	roundTrip(t, exampletest.Dial(t, "unix", path), "ok", "OK")
	p.ExitsCleanly(syscall.SIGTERM)
	exampletest.NoFile(t, path)
}

func TestServerLeavesOtherFilesAndLiveServersAlone(t *testing.T) {
	bin, live, server := startServer(t)
	file := filepath.Join(t.TempDir(), "serv.socket")
	os.WriteFile(file, []byte("keep me"), 0o600)
	for _, path := range []string{live, file} {
		p := exampletest.Start(t, bin, "-path", path)
		if l := p.NextLine(); !strings.HasSuffix(l, "bind: address already in use") {
			t.Fatalf("got %q, want the bind error", l)
		}
		p.ExitsWith(1)
	}
	if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, []byte("keep me")) {
		t.Fatalf("file now holds %q (err %v), want it untouched", b, err)
	}
	// The live server still has its socket and serves.
	c := exampletest.Dial(t, "unix", live)
	server.ExpectLine("client bind filename (unnamed)")
	roundTrip(t, c, "still", "STILL")
	server.ExitsCleanly(syscall.SIGINT)
	exampletest.NoFile(t, live)
}

func TestClientWithoutServerLeavesNoFile(t *testing.T) {
	bin := exampletest.Build(t, ".")
	dir := t.TempDir()
	path, bind := filepath.Join(dir, "serv.socket"), filepath.Join(dir, "clie.socket")
	c := exampletest.Start(t, bin, "-client", "-path", path, "-bind", bind)
	want := "unix-upper: dial unix " + bind + "->" + path + ": connect: no such file or directory"
	c.ExpectLine(want)
	c.ExitsWith(1)
	exampletest.NoFile(t, bind)
}
