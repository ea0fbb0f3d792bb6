package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
	"golang.org/x/sys/unix"
)

// The seed's own C reader and writer, built from testdata with libevent,
// talk to the Go writer and reader here, as they talked to each other: the
// Go writer must put the C writer's bytes into the FIFO, and the Go reader
// must print what the C reader printed for the same bytes.

// buildC builds the seed's C reader or writer (testdata/NAME.c) to use
// the FIFO at path instead of ./myfifo.
func buildC(t *testing.T, name, path string) string {
	t.Helper()
	return exampletest.BuildC(t, "testdata/"+name+".c", `FIFO="`+path+`"`)
}

// openWriteEnd opens the FIFO at path for writing once a reader has
// created it and opened its end, retrying until then, as the Go writer
// does. It is closed when the test ends, if not before.
func openWriteEnd(t *testing.T, path string) *os.File {
	t.Helper()
	deadline := time.Now().Add(exampletest.Timeout)
	for {
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err == nil {
			f := os.NewFile(uintptr(fd), path)
			t.Cleanup(func() { f.Close() })
			return f
		}
		if err != unix.ENOENT && err != unix.ENXIO || time.Now().After(deadline) {
			t.Fatalf("open %s for writing: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// captureFifo makes a FIFO at path and opens it for reading and writing,
// so that a writer's open succeeds at once and reads wait for data instead
// of finding the end of file before the writer comes.
func captureFifo(t *testing.T, path string) *os.File {
	t.Helper()
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// readN reads exactly n bytes of what writers put into f.
func readN(t *testing.T, f *os.File, n int, who string) []byte {
	t.Helper()
	f.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	b := make([]byte, n)
	if got, err := io.ReadFull(f, b); err != nil {
		t.Fatalf("%s wrote %q, then: %v", who, b[:got], err)
	}
	return b
}

// killed checks that a C program told to stop with sig died of it, as the
// seed's programs, which handle no signal, do.
func killed(t *testing.T, p *exampletest.Proc, sig syscall.Signal) {
	t.Helper()
	p.Signal(sig)
	if ws := p.Wait(exampletest.QuickExit); !ws.Signaled() || ws.Signal() != sig {
		t.Fatalf("wait status %#x, want killed by %v", uint32(ws), sig)
	}
}

// The Go writer puts into the FIFO, byte for byte, what the seed's C
// writer puts there: each message is "hello,world-N\n" and its NUL.
func TestGoWriterWritesWhatTheCWriterWrites(t *testing.T) {
	const want = "hello,world-0\n\x00hello,world-1\n\x00hello,world-2\n\x00"
	dir := t.TempDir()

	cPath := filepath.Join(dir, "c")
	cFifo := captureFifo(t, cPath)
	cw := exampletest.StartC(t, buildC(t, "writer", cPath))
	fromC := readN(t, cFifo, len(want), "writer.c") // one message a second
	killed(t, cw, syscall.SIGTERM)

	goPath := filepath.Join(dir, "go")
	goFifo := captureFifo(t, goPath)
	gw := exampletest.Start(t, exampletest.Build(t, "."), "-write", "-path", goPath, "-interval", "20ms")
	fromGo := readN(t, goFifo, len(want), "the Go writer")
	gw.ExitsCleanly(syscall.SIGTERM)

	if string(fromC) != want {
		t.Fatalf("writer.c wrote %q, want %q", fromC, want)
	}
	if !bytes.Equal(fromGo, fromC) {
		t.Fatalf("the Go writer wrote\n%q\nwriter.c wrote\n%q", fromGo, fromC)
	}
}

// chunks are what a writer puts into the FIFO with one write each, and what
// the seed's C reader prints for each when one read gets it: up to the
// first NUL, so a chunk of two messages shows only the first, and a line
// without a NUL (as echo writes) keeps its newline too.
var chunks = []struct {
	data  string
	lines []string
}{
	{"hello,world-0\n\x00", []string{"read event: Yes ", "data len = 15, buf = hello,world-0", ""}},
	{"hello,world-1\n\x00hello,world-2\n\x00", []string{"read event: Yes ", "data len = 30, buf = hello,world-1", ""}},
	{"no NUL\n", []string{"read event: Yes ", "data len = 7, buf = no NUL", ""}},
	{"a\x00b", []string{"read event: Yes ", "data len = 3, buf = a"}},
}

// eofLines is what the C reader prints for the read that finds the writer
// gone; it prints them again every second after that.
var eofLines = []string{"read event: Yes ", "data len = 0, buf = "}

// feed writes each chunk into f once the reader has printed the last one,
// so that each is what one read gets, and checks what the reader prints;
// then it closes f and checks the reader's lines for the end of file.
func feed(t *testing.T, f *os.File, r *exampletest.Proc) {
	t.Helper()
	for _, c := range chunks {
		if n, err := f.Write([]byte(c.data)); n != len(c.data) || err != nil {
			t.Fatalf("write %q: wrote %d bytes, err %v", c.data, n, err)
		}
		r.ExpectLines(c.lines...)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r.ExpectLines(eofLines...)
}

// The seed's C reader and the Go reader print the same lines for the same
// bytes.
func TestGoReaderPrintsWhatTheCReaderPrints(t *testing.T) {
	dir := t.TempDir()

	cPath := filepath.Join(dir, "c")
	cr := exampletest.StartC(t, buildC(t, "reader", cPath))
	feed(t, openWriteEnd(t, cPath), cr) // a second a chunk: the reader sleeps
	killed(t, cr, syscall.SIGTERM)      // it would print eofLines forever

	goPath := filepath.Join(dir, "go")
	gr := exampletest.Start(t, exampletest.Build(t, "."), "-read", "-path", goPath)
	gr.ExpectLine("waiting for a writer on " + goPath)
	feed(t, openWriteEnd(t, goPath), gr)
	gr.ExpectLines("writer closed "+goPath+", reopening it", "waiting for a writer on "+goPath)
	gr.ExitsCleanly(syscall.SIGINT)
	exampletest.NoFile(t, goPath)
}

// The seed's C writer against the Go reader: each message it writes is
// printed as its own reader printed it, and its going away is the end of
// file the reader reports before it waits for the next writer.
func TestCWriterToGoReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "myfifo")
	r := exampletest.Start(t, exampletest.Build(t, "."), "-read", "-path", path)
	r.ExpectLine("waiting for a writer on " + path) // the FIFO is there
	w := exampletest.StartC(t, buildC(t, "writer", path))
	expectMessages(t, r, 0, 3) // one a second
	killed(t, w, syscall.SIGTERM)
	r.ExpectLines(eofLines...)
	r.ExpectLines("writer closed "+path+", reopening it", "waiting for a writer on "+path)
	r.ExitsCleanly(syscall.SIGINT)
	exampletest.NoFile(t, path)
}

// The Go writer against the seed's C reader, started second: the reader
// sleeps a second after each read, so with a message every 200ms most of
// its reads get several, and it shows the first of each, as it did from
// its own writer. Its end is the Go writer's signal to exit.
func TestGoWriterToCReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "myfifo")
	w := exampletest.Start(t, exampletest.Build(t, "."), "-write", "-path", path, "-interval", "200ms")
	w.ExpectLine("waiting for a reader on " + path)
	r := exampletest.StartC(t, buildC(t, "reader", path))
	w.ExpectLine("writing to " + path)
	expectMessages(t, r, 0, 8)
	killed(t, r, syscall.SIGTERM)
	w.ExpectLine("reader closed " + path + ", exiting")
	w.ExitsWith(0)
}
