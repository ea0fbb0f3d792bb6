package listener

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
)

// benchListener returns a base with a TCP listener on it, freed when the
// benchmark ends, whose callback closes each connection and counts it in
// *accepted, and the address to connect to.
func benchListener(b *testing.B) (base *event.Base, sa unix.Sockaddr, accepted *int) {
	base = newBase(b)
	accepted = new(int)
	l, err := NewBind(base, func(_ *Listener, fd int, _ net.Addr) {
		unix.Close(fd)
		*accepted++
	}, 0, 0, "tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(l.Free)
	_, sa, err = sock.ResolveAddr("tcp4", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	return base, sa, accepted
}

// BenchmarkAccept measures one connection's way through a Listener: a raw
// client connects, the loop accepts and the callback closes. The client
// resets instead of closing politely, so that no TIME_WAIT piles up.
// allocs/op is the peer's net.Addr, which the callback receives. On
// io_uring (LEVENT_IOURING=1) the kernel accepts, and the address costs a
// getpeername where accept4 returned it.
func BenchmarkAccept(b *testing.B) {
	base, sa, accepted := benchListener(b)
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
		for *accepted <= i {
			if err := base.Loop(event.LoopOnce); err != nil {
				b.Fatal(err)
			}
		}
		unix.SetsockoptLinger(c, unix.SOL_SOCKET, unix.SO_LINGER, reset)
		unix.Close(c)
	}
}

// BenchmarkAcceptFromBacklog measures the accept side alone: clients are
// connected into the backlog, a batch at a time, with the timer stopped,
// and the timed part is the loop draining the backlog and running the
// callback, which closes each connection. One op is one accepted
// connection, so B/op and allocs/op are the garbage each accept leaves
// behind: the peer's net.Addr.
func BenchmarkAcceptFromBacklog(b *testing.B) {
	const batch = 256 // well under any backlog and descriptor limit
	base, sa, accepted := benchListener(b)
	reset := &unix.Linger{Onoff: 1}
	clients := make([]int, 0, batch)
	b.ReportAllocs()
	for *accepted < b.N {
		b.StopTimer()
		for range min(batch, b.N-*accepted) {
			c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				b.Fatal(err)
			}
			clients = append(clients, c)
			if err := unix.Connect(c, sa); err != nil {
				b.Fatal(err)
			}
		}
		want := *accepted + len(clients)
		b.StartTimer()
		for *accepted < want {
			if err := base.Loop(event.LoopOnce); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		// Reset rather than close politely, so that no TIME_WAIT piles up.
		for _, c := range clients {
			unix.SetsockoptLinger(c, unix.SOL_SOCKET, unix.SO_LINGER, reset)
			unix.Close(c)
		}
		clients = clients[:0]
	}
}
