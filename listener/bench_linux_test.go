package listener

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
)

// BenchmarkAccept measures one connection's way through a Listener: a raw
// client connects, the loop accepts and the callback closes. The client
// resets instead of closing politely, so that no TIME_WAIT piles up.
// allocs/op is the peer's net.Addr, which the callback receives.
func BenchmarkAccept(b *testing.B) {
	base := newBase(b)
	accepted := 0
	l, err := NewBind(base, func(_ *Listener, fd int, _ net.Addr) {
		unix.Close(fd)
		accepted++
	}, 0, 0, "tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Free()
	_, sa, err := sock.ResolveAddr("tcp4", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	reset := &unix.Linger{Onoff: 1}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := unix.Connect(c, sa); err != nil {
			b.Fatal(err)
		}
		for accepted <= i {
			if err := base.Loop(event.LoopOnce); err != nil {
				b.Fatal(err)
			}
		}
		unix.SetsockoptLinger(c, unix.SOL_SOCKET, unix.SO_LINGER, reset)
		unix.Close(c)
	}
}
