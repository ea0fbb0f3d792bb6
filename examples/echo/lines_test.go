package main

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/levent-go/levent/event"
)

// newTestLines returns lines on a base of its own, writing to a buffer.
func newTestLines(t *testing.T) (*lines, *event.Base, *bytes.Buffer) {
	t.Helper()
	base, err := event.NewBase()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.Close() })
	l, err := newLines(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	var out bytes.Buffer
	l.w = &out
	return l, base, &out
}

// A burst of lines in one loop iteration goes out in pieces as it is
// printed, in order, and the storage kept for them stays bounded.
func TestLinesWriteABurstAsItGrows(t *testing.T) {
	l, base, out := newTestLines(t)
	var want strings.Builder
	for i := range 20000 {
		line := fmt.Sprintf("accept a client 127.0.0.1:%d\n", 10000+i)
		want.WriteString(line)
		if i%2 == 0 {
			l.printf("%s", line)
		} else {
			l.printAddr("accept a client ", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 10000 + i})
		}
		if cap(l.buf) > maxKept {
			t.Fatalf("line %d: %d bytes of storage kept for lines, want at most %d", i, cap(l.buf), maxKept)
		}
	}
	if out.Len() == 0 {
		t.Fatalf("nothing written during a burst of %d bytes", want.Len())
	}
	if err := base.Loop(event.LoopNonblock); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != want.String() {
		t.Fatalf("wrote %d bytes, want %d; the same up to the shorter: %v", len(got), want.Len(), strings.HasPrefix(want.String(), got))
	}
}

// printAddr prints an address as %s does, allocating nothing for a TCP
// address.
func TestLinesPrintAddrAsFmtDoes(t *testing.T) {
	l, _, _ := newTestLines(t)
	addrs := []net.Addr{
		&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9527},
		&net.TCPAddr{IP: net.ParseIP("127.0.0.2").To4(), Port: 1},
		&net.TCPAddr{IP: net.ParseIP("::1"), Port: 65535},
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 80, Zone: "eth0"},
		&net.TCPAddr{Port: 7},
		(*net.TCPAddr)(nil),
		&net.UnixAddr{Name: "/tmp/echo.sock", Net: "unix"},
		nil,
	}
	for _, a := range addrs {
		l.buf = l.buf[:0]
		l.printAddr("accept a client ", a)
		if want := fmt.Sprintf("accept a client %s\n", a); string(l.buf) != want {
			t.Errorf("printAddr(%#v) = %q, want %q", a, l.buf, want)
		}
	}
	a := addrs[0]
	if n := testing.AllocsPerRun(100, func() {
		l.buf = l.buf[:0]
		l.printAddr("accept a client ", a)
	}); n != 0 {
		t.Errorf("printAddr of a TCP address: %v allocations, want 0", n)
	}
}
