package sock

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// The listener's read callback calls Accept until EAGAIN, so the empty
// case runs once per readiness report and must not allocate.
func BenchmarkAcceptEmptyBacklog(b *testing.B) {
	fd, _, err := Listen("tcp4", "127.0.0.1:0", ListenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fd)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := Accept(fd, false, "tcp"); err != unix.EAGAIN {
			b.Fatal(err)
		}
	}
}

// SocketError runs once per finished connect.
func BenchmarkSocketError(b *testing.B) {
	fd, err := Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fd)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := SocketError(fd); err != nil {
			b.Fatal(err)
		}
	}
}

// A whole loopback connection: socket, connect, accept, close both ends.
// "x-sys" is the same with unix.Accept4, which makes one getsockopt more
// per connection and allocates a unix.Sockaddr; it shows what the
// package's own accept4 saves.
func BenchmarkConnectAccept(b *testing.B) {
	for _, bc := range []struct {
		name   string
		accept func(int, int) (int, unix.RawSockaddrAny, uint32, error)
	}{
		{"levent", accept4},
		{"x-sys", xsysAccept4},
	} {
		b.Run(bc.name, func(b *testing.B) {
			saved := accept4Func
			accept4Func = bc.accept
			defer func() { accept4Func = saved }()
			lfd, addr, err := Listen("tcp4", "127.0.0.1:0", ListenOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer unix.Close(lfd)
			_, sa, _ := ResolveAddr("tcp4", addr.String())
			pfd := []unix.PollFd{{Fd: int32(lfd), Events: unix.POLLIN}}
			reset := &unix.Linger{Onoff: 1}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c, err := Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Connect(c, sa); err != nil {
					b.Fatal(err)
				}
				nfd, _, err := Accept(lfd, false, "tcp")
				for err == unix.EAGAIN {
					unix.Poll(pfd, 1000)
					nfd, _, err = Accept(lfd, false, "tcp")
				}
				if err != nil {
					b.Fatal(err)
				}
				// Reset rather than close politely, so that the run
				// leaves no TIME_WAIT sockets to exhaust the ports.
				unix.SetsockoptLinger(c, unix.SOL_SOCKET, unix.SO_LINGER, reset)
				unix.Close(c)
				unix.Close(nfd)
			}
		})
	}
}

// xsysAccept4 is unix.Accept4 in accept4's shape: the unix.Sockaddr it
// decodes is encoded back into the raw form that Accept decodes.
func xsysAccept4(fd, flags int) (int, unix.RawSockaddrAny, uint32, error) {
	nfd, sa, err := unix.Accept4(fd, flags)
	if err != nil {
		return -1, unix.RawSockaddrAny{}, 0, err
	}
	rsa, size, ok := encodeSockaddr(sa)
	if !ok {
		unix.Close(nfd)
		return -1, rsa, 0, unix.EAFNOSUPPORT
	}
	return nfd, rsa, size, nil
}

func BenchmarkToNetAddr(b *testing.B) {
	sa := &unix.SockaddrInet4{Port: 9527, Addr: [4]byte{127, 0, 0, 1}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ToNetAddr("tcp", sa)
	}
}

// BenchmarkAcceptedPeer measures what a connection accepted without its
// address pays to learn it: getpeername and the net.Addr.
func BenchmarkAcceptedPeer(b *testing.B) {
	lfd, addr, err := Listen("tcp4", "127.0.0.1:0", ListenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(lfd)
	c, err := net.Dial("tcp4", addr.String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	pfd := []unix.PollFd{{Fd: int32(lfd), Events: unix.POLLIN}}
	unix.Poll(pfd, 10000)
	nfd, _, err := Accept(lfd, false, "tcp")
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(nfd)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if AcceptedPeer(nfd, "tcp") == nil {
			b.Fatal("no peer")
		}
	}
}
