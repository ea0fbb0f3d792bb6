package exampletest

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// ExpectReply reads one line, through its '\n', from r, which buffers c,
// and checks that it is want (newline included). The read may take up to
// Timeout.
func ExpectReply(t testing.TB, c net.Conn, r *bufio.Reader, want string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	if got, err := r.ReadString('\n'); err != nil || got != want {
		t.Fatalf("got %q (err %v), want %q", got, err, want)
	}
}

// ExpectEOF checks that the peer closed c: a read from r (c itself, or a
// buffer over it) finds the end of the stream and no more data. The read
// may take up to Timeout.
func ExpectEOF(t testing.TB, c net.Conn, r io.Reader) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	var b [64]byte
	if n, err := r.Read(b[:]); n != 0 || err != io.EOF {
		t.Fatalf("read %q (err %v), want the end of the stream (EOF)", b[:n], err)
	}
}

// ExpectBytes reads len(want) bytes from r, which buffers c, and checks
// that they are want: for replies that do not end in a newline. The read
// may take up to Timeout.
func ExpectBytes(t testing.TB, c net.Conn, r io.Reader, want string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	got := make([]byte, len(want))
	if n, err := io.ReadFull(r, got); err != nil || string(got) != want {
		t.Fatalf("got %.200q (err %v), want %.200q", got[:n], err, want)
	}
}
