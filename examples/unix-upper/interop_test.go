package main

import (
	"bytes"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// The seeds' own C programs, built from testdata, talk to the Go ports
// here, and the Go client to the C server, as they talked to each other:
// the ports must put the same bytes on the wire.

// lines is the standard input the clients get: letters to raise, UTF-8
// and a tab to leave alone, a NUL that strlen stops at (the rest of its
// line is not sent), a line longer than fgets' 4095 bytes with a NUL in
// its first piece (the next piece is sent from its start), an empty line,
// and a last line without a newline.
var lines = "hello, World ünï 123\n" +
	"tab\there\n" +
	"ab\x00cd\n" +
	strings.Repeat("x", 10) + "\x00" + strings.Repeat("y", 5000) + "\n" +
	"\n" +
	"last"

// wantSent is what the notes' client sends for lines.
var wantSent = "hello, World ünï 123\n" +
	"tab\there\n" +
	"ab" +
	strings.Repeat("x", 10) + strings.Repeat("y", 10+1+5000-4095) + "\n" +
	"\n" +
	"last"

// upper is toupper in the C locale on each byte.
func upper(s string) string {
	b := []byte(s)
	toUpper(b)
	return string(b)
}

// sockets are the socket files of a test's C server and client, in a
// temporary directory, and the -D definitions that give them to the C
// programs.
type sockets struct{ serv, clie string }

func newSockets(t *testing.T) sockets {
	dir := t.TempDir()
	return sockets{filepath.Join(dir, "serv.socket"), filepath.Join(dir, "clie.socket")}
}

func (s sockets) defines() []string {
	return []string{`SERV_ADDR="` + s.serv + `"`, `CLIE_ADDR="` + s.clie + `"`}
}

// startCServer builds the notes' server on s.serv, starts it and waits
// until it listens (it prints after its listen).
func startCServer(t *testing.T, s sockets) *exampletest.Proc {
	t.Helper()
	p := exampletest.StartC(t, exampletest.BuildC(t, "testdata/unix_server.c", s.defines()...))
	p.ExpectLine("Accept ...")
	return p
}

// cClient builds the notes' client, bound to s.clie, for the server on
// s.serv.
func cClient(t *testing.T, s sockets) string {
	t.Helper()
	return exampletest.BuildC(t, "testdata/unix_client.c", s.defines()...)
}

// recorder is a Unix-domain stream server that keeps every byte its one
// client sends and answers it in upper case, as the servers do, so that
// the client goes on.
type recorder struct {
	path string
	mu   sync.Mutex
	got  []byte
}

func startRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{path: filepath.Join(t.TempDir(), "serv.socket")}
	l, err := net.Listen("unix", r.path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return // closed at the end of the test
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(exampletest.Timeout))
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.got = append(r.got, buf[:n]...)
			r.mu.Unlock()
			toUpper(buf[:n])
			c.Write(buf[:n])
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return r
}

// sent is what the recorder got so far. A client that printed every
// answer is done sending: each byte is kept before it is answered.
func (r *recorder) sent() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.got)
}

// The Go client sends, byte for byte, what the notes' C client sends for
// the same input, and prints the same answers.
func TestGoClientSendsWhatTheNotesClientSends(t *testing.T) {
	rc := startRecorder(t)
	s := newSockets(t)
	s.serv = rc.path
	cOut := exampletest.Output(t, lines, cClient(t, s))
	if got := rc.sent(); got != wantSent {
		t.Fatalf("unix_client.c sent\n%.300q\nwant\n%.300q", got, wantSent)
	}

	rg := startRecorder(t)
	goOut := exampletest.Output(t, lines, exampletest.Build(t, "."), "-client", "-path", rg.path, "-bind", "")
	if got := rg.sent(); got != wantSent {
		t.Fatalf("the Go client sent\n%.300q\nwant\n%.300q", got, wantSent)
	}
	if string(cOut) != upper(wantSent) || !bytes.Equal(goOut, cOut) {
		t.Fatalf("the C client printed\n%.300q\nthe Go client\n%.300q\nwant\n%.300q", cOut, goOut, upper(wantSent))
	}
}

// The notes' C client prints the same bytes against the Go server as
// against its own C server, and both servers print the path it bound.
func TestNotesClientAgainstGoServer(t *testing.T) {
	cs := newSockets(t)
	cServer := startCServer(t, cs)
	want := exampletest.Output(t, lines, cClient(t, cs))
	cServer.ExpectLine("client bind filename " + cs.clie)

	_, path, goServer := startServer(t)
	gs := newSockets(t)
	gs.serv = path
	got := exampletest.Output(t, lines, cClient(t, gs))
	goServer.ExpectLine("client bind filename " + gs.clie)
	if !bytes.Equal(got, want) || string(want) != upper(wantSent) {
		t.Fatalf("against the Go server the C client printed\n%.300q\nagainst the C server\n%.300q", got, want)
	}
}

// The Go client against the notes' C server prints what the notes' own
// client prints, and the server prints the path the Go client bound.
func TestGoClientAgainstNotesServer(t *testing.T) {
	s := newSockets(t)
	server := startCServer(t, s)
	want := exampletest.Output(t, lines, cClient(t, s))
	server.ExpectLine("client bind filename " + s.clie)
	bind := filepath.Join(t.TempDir(), "go.socket")
	got := exampletest.Output(t, lines, exampletest.Build(t, "."), "-client", "-path", s.serv, "-bind", bind)
	server.ExpectLine("client bind filename " + bind)
	if !bytes.Equal(got, want) || string(want) != upper(wantSent) {
		t.Fatalf("the Go client printed\n%.300q\nthe C client\n%.300q", got, want)
	}
}

// The Go server answers any bytes as the notes' C server does, NULs and
// more than its 4096-byte buffer at once included.
func TestGoServerAnswersAsTheNotesServer(t *testing.T) {
	s := newSockets(t)
	startCServer(t, s)
	_, goPath, _ := startServer(t)
	msg := "\x00nul\x00Bytes\x00 ünï\n" + strings.Repeat("abc", 5000)
	var answers [2][]byte
	for i, path := range []string{s.serv, goPath} {
		c := exampletest.Dial(t, "unix", path)
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		answers[i] = make([]byte, len(msg))
		c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
		if _, err := io.ReadFull(c, answers[i]); err != nil {
			t.Fatalf("answer from %s: %v", path, err)
		}
		c.Close()
	}
	if string(answers[0]) != upper(msg) || !bytes.Equal(answers[1], answers[0]) {
		t.Fatalf("the Go server answered\n%.100q\nthe C server\n%.100q", answers[1], answers[0])
	}
}
