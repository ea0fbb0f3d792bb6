package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

var dataLine = regexp.MustCompile(`^data len = (\d+), buf = (.*)$`)

// expectMessages reads a reader's output (the Go reader's or the seed's C
// reader's) until it has got messages first, first+1, ... first+n-1, in
// order, and checks every line on the way. Each read prints "read event:
// Yes ", then its length and its first message, whose newline leaves a
// blank line; a read that got several messages at once shows only the
// first, and its length says how many it got.
func expectMessages(t *testing.T, p *exampletest.Proc, first, n int) {
	t.Helper()
	for next := first; next < first+n; {
		p.ExpectLine("read event: Yes ")
		l := p.NextLine()
		m := dataLine.FindStringSubmatch(l)
		if want := fmt.Sprintf("hello,world-%d", next); m == nil || m[2] != want {
			t.Fatalf("got %q, want a data line with buf = %q", l, want)
		}
		p.ExpectLine("") // the message's own newline, then the format's
		size, _ := strconv.Atoi(m[1])
		got := 0
		for ; size > 0; next++ {
			size -= len(message(next))
			got++
		}
		if size != 0 {
			t.Fatalf("got %q: not the length of whole messages from %d on", l, next-got)
		}
	}
}

// cpuTicks is the process's user plus system time in clock ticks, from
// /proc/PID/stat (fields 14 and 15).
func cpuTicks(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // fields from 3 on
	utime, err1 := strconv.Atoi(fields[14-3])
	stime, err2 := strconv.Atoi(fields[15-3])
	if err1 != nil || err2 != nil {
		t.Fatalf("cannot parse %q", s)
	}
	return utime + stime
}

func TestReaderPrintsMessagesAndWaitsQuietlyForTheNextWriter(t *testing.T) {
	bin := exampletest.Build(t, ".")
	path := filepath.Join(t.TempDir(), "myfifo")
	r := exampletest.Start(t, bin, "-read", "-path", path)
	r.ExpectLine("waiting for a writer on " + path)
	fds := r.OpenFds()

	w := exampletest.Start(t, bin, "-write", "-path", path, "-interval", "50ms")
	w.Expect("writing to " + path)
	expectMessages(t, r, 0, 3)
	w.ExitsCleanly(syscall.SIGINT)

	r.Expect("writer closed " + path + ", reopening it")
	r.ExpectLine("waiting for a writer on " + path) // the reader waits again
	if got := r.OpenFds(); got != fds {
		t.Fatalf("reader has %d descriptors open after reopening, want %d as before", got, fds)
	}
	// A reader that spins on end of file burns a whole core: 50 ticks in
	// half a second. A waiting one burns next to nothing.
	before := cpuTicks(t, r.Cmd.Process.Pid)
	time.Sleep(500 * time.Millisecond)
	if used := cpuTicks(t, r.Cmd.Process.Pid) - before; used > 20 {
		t.Fatalf("reader used %d clock ticks in 500ms with no writer, want it idle", used)
	}

	w2 := exampletest.Start(t, bin, "-write", "-path", path, "-interval", "50ms")
	expectMessages(t, r, 0, 2)
	stopReader(t, r, w2, path, syscall.SIGINT)
}

// stopReader ends the reader with sig and checks that it exits 0 and
// removes the FIFO, and that the writer then sees it gone and exits 0.
func stopReader(t *testing.T, r, w *exampletest.Proc, path string, sig syscall.Signal) {
	t.Helper()
	r.ExitsCleanly(sig)
	exampletest.NoFile(t, path)
	w.Expect("reader closed " + path + ", exiting")
	w.ExitsWith(0)
}

func TestWriterWaitsForTheReaderToCreateTheFifo(t *testing.T) {
	bin := exampletest.Build(t, ".")
	path := filepath.Join(t.TempDir(), "myfifo")
	w := exampletest.Start(t, bin, "-write", "-path", path, "-interval", "50ms")
	w.ExpectLine("waiting for a reader on " + path)
	r := exampletest.Start(t, bin, "-read", "-path", path)
	w.Expect("writing to " + path)
	r.Expect("waiting for a writer")
	expectMessages(t, r, 0, 3)
	stopReader(t, r, w, path, syscall.SIGTERM)
}

func TestWriterWithoutReaderStopsOnSignal(t *testing.T) {
	bin := exampletest.Build(t, ".")
	path := filepath.Join(t.TempDir(), "myfifo")
	w := exampletest.Start(t, bin, "-write", "-path", path, "-interval", "20ms")
	w.Expect("waiting for a reader on " + path)
	w.ExitsCleanly(syscall.SIGTERM)
	exampletest.NoFile(t, path)
}

func TestReaderReplacesAStaleFifo(t *testing.T) {
	bin := exampletest.Build(t, ".")
	path := filepath.Join(t.TempDir(), "myfifo")
	// A mode no new FIFO gets (mkfifo's 0664 less the umask) marks the old one.
	if err := syscall.Mkfifo(path, 0); err != nil {
		t.Fatal(err)
	}
	r := exampletest.Start(t, bin, "-read", "-path", path)
	r.Expect("waiting for a writer on " + path)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() == 0 {
		t.Fatalf("stat %s: %v (err %v), want a new FIFO in place of the mode-0 one", path, fi, err)
	}
	r.ExitsCleanly(syscall.SIGINT)
	exampletest.NoFile(t, path)
}

func TestReaderRefusesToDeleteAnOrdinaryFile(t *testing.T) {
	bin := exampletest.Build(t, ".")
	path := filepath.Join(t.TempDir(), "myfifo")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := exampletest.Start(t, bin, "-read", "-path", path)
	want := "fifo: " + path + " exists and is not a FIFO; not removing it"
	r.ExpectLine(want)
	r.ExitsWith(1)
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Fatalf("file now holds %q (err %v), want it untouched", b, err)
	}
}

func TestModeIsRequired(t *testing.T) {
	bin := exampletest.Build(t, ".")
	for _, args := range [][]string{nil, {"-read", "-write"}} {
		p := exampletest.Start(t, bin, args...)
		p.Expect("usage: fifo -read")
		p.ExitsWith(2)
	}
}
