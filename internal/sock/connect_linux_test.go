package sock

import (
	"net"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// connectAndWait connects a new socket to sa and, if the connection goes on
// in the background, waits until it is writable. It returns the socket and
// the error Connect or SocketError reported.
func connectAndWait(t *testing.T, family int, sa unix.Sockaddr) (int, error) {
	t.Helper()
	fd := newSocket(t, family)
	inProgress, err := Connect(fd, sa)
	if err != nil || !inProgress {
		return fd, err
	}
	waitFd(t, fd, unix.POLLOUT)
	return fd, SocketError(fd)
}

func TestConnectTCPToListener(t *testing.T) {
	checkFdLeaks(t)
	lfd, addr := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	_, sa, err := ResolveAddr("tcp4", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	fd, err := connectAndWait(t, unix.AF_INET, sa)
	if err != nil {
		t.Fatalf("connect to a listener: got %v, want success", err)
	}
	_, peer := acceptOne(t, lfd, false)
	local, err := LocalAddr(fd, "tcp")
	if err != nil {
		t.Fatal(err)
	}
	if got := peer.String(); got != local.String() {
		t.Errorf("accepted peer: got %s, want the client's %s", got, local)
	}
	remote, err := PeerAddr(fd, "tcp")
	if err != nil || remote.String() != addr.String() {
		t.Errorf("PeerAddr: got %v, %v, want %v", remote, err, addr)
	}
}

func TestConnectTCPToClosedPortIsRefused(t *testing.T) {
	checkFdLeaks(t)
	lfd, addr, err := Listen("tcp4", "127.0.0.1:0", ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(lfd) // nothing listens on the port now
	_, sa, _ := ResolveAddr("tcp4", addr.String())
	_, err = connectAndWait(t, unix.AF_INET, sa)
	if err != unix.ECONNREFUSED {
		t.Errorf("connect to a closed port: got %#v, want the bare unix.ECONNREFUSED", err)
	}
}

func TestConnectUnixToListener(t *testing.T) {
	checkFdLeaks(t)
	path := filepath.Join(t.TempDir(), "c.sock")
	lfd, _ := listen(t, "unix", path, ListenOptions{})
	fd, err := connectAndWait(t, unix.AF_UNIX, &unix.SockaddrUnix{Name: path})
	if err != nil {
		t.Fatalf("unix connect: %v", err)
	}
	acceptOne(t, lfd, false)
	if remote, err := PeerAddr(fd, "unix"); err != nil || remote.String() != path {
		t.Errorf("PeerAddr: got %v, %v, want %s", remote, err, path)
	}
}

func TestConnectUnixToMissingPath(t *testing.T) {
	checkFdLeaks(t)
	_, err := connectAndWait(t, unix.AF_UNIX, &unix.SockaddrUnix{Name: filepath.Join(t.TempDir(), "none")})
	if err != unix.ENOENT {
		t.Errorf("connect to a missing path: got %#v, want the bare unix.ENOENT", err)
	}
}

// An interrupted connect goes on in the background (POSIX), so Connect
// reports it as in progress rather than failed.
func TestConnectTreatsEINTRAsInProgress(t *testing.T) {
	for _, errno := range []unix.Errno{unix.EINTR, unix.EINPROGRESS} {
		hook(t, &connectFunc, func(int, unix.Sockaddr) error { return errno })
		inProgress, err := Connect(3, &unix.SockaddrInet4{})
		if !inProgress || err != nil {
			t.Errorf("Connect with %v: got %v, %v, want true, nil", errno, inProgress, err)
		}
	}
}

func TestConnectRejectsNilAddress(t *testing.T) {
	hook(t, &connectFunc, func(int, unix.Sockaddr) error {
		t.Error("connect called with a nil address")
		return nil
	})
	for _, sa := range []unix.Sockaddr{nil, (*unix.SockaddrInet4)(nil), (*unix.SockaddrInet6)(nil),
		(*unix.SockaddrUnix)(nil), (*unix.SockaddrNetlink)(nil)} {
		if inProgress, err := Connect(3, sa); inProgress || err != errNilAddr {
			t.Errorf("Connect(%#v): got %v, %v, want false, %v", sa, inProgress, err, errNilAddr)
		}
	}
}

func TestSocketErrorReportsGetsockoptFailure(t *testing.T) {
	wantSyscallError(t, SocketError(-1), "getsockopt", unix.EBADF)
}

func TestSocketRetriesEINTRAndSetsFlags(t *testing.T) {
	checkFdLeaks(t)
	var types []int
	hook(t, &socketFunc, func(d, ty, p int) (int, error) {
		types = append(types, ty)
		if len(types) == 1 {
			return -1, unix.EINTR
		}
		return unix.Socket(d, ty, p)
	})
	fd, err := Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	want := unix.SOCK_STREAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
	if len(types) != 2 || types[0] != want || types[1] != want {
		t.Errorf("socket types: got %#x, want two calls with %#x", types, want)
	}
	if nonblock, cloexec := fdFlags(t, fd); !nonblock || !cloexec {
		t.Errorf("Socket flags: got nonblock=%v cloexec=%v, want both", nonblock, cloexec)
	}
}

func TestSocketWrapsErrors(t *testing.T) {
	fd, err := Socket(-1, unix.SOCK_STREAM, 0)
	if fd != -1 {
		t.Errorf("failed Socket: got fd %d, want -1", fd)
	}
	wantSyscallError(t, err, "socket", unix.EAFNOSUPPORT)
}

func TestCloseDoesNotRetryEINTR(t *testing.T) {
	calls := 0
	hook(t, &closeFunc, func(int) error { calls++; return unix.EINTR })
	wantSyscallError(t, Close(3), "close", unix.EINTR)
	if calls != 1 {
		t.Errorf("close calls: got %d, want 1", calls)
	}
}

func TestCloseClosesAndWrapsErrors(t *testing.T) {
	checkFdLeaks(t)
	fd, err := Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := Close(fd); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantSyscallError(t, Close(-1), "close", unix.EBADF)
}

func TestAddrErrors(t *testing.T) {
	checkFdLeaks(t)
	lfd, _ := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	_, err := PeerAddr(lfd, "tcp")
	wantSyscallError(t, err, "getpeername", unix.ENOTCONN)
	_, err = LocalAddr(-1, "tcp")
	wantSyscallError(t, err, "getsockname", unix.EBADF)
	hook(t, &getsocknameFunc, func(int) (unix.Sockaddr, error) { return &unix.SockaddrNetlink{}, nil })
	if addr, err := LocalAddr(lfd, "tcp"); addr != nil || err == nil {
		t.Errorf("LocalAddr of a netlink address: got %v, %v, want an unsupported-family error", addr, err)
	}
}

func TestSetNoDelay(t *testing.T) {
	checkFdLeaks(t)
	fd := newSocket(t, unix.AF_INET)
	for _, on := range []bool{true, false} {
		if err := SetNoDelay(fd, on); err != nil {
			t.Fatal(err)
		}
		if got := sockoptInt(t, fd, unix.IPPROTO_TCP, unix.TCP_NODELAY) != 0; got != on {
			t.Errorf("TCP_NODELAY after SetNoDelay(%v): got %v", on, got)
		}
	}
	wantSyscallError(t, SetNoDelay(-1, true), "setsockopt", unix.EBADF)
}

func TestSetLingerValues(t *testing.T) {
	checkFdLeaks(t)
	fd := newSocket(t, unix.AF_INET)
	for _, tt := range []struct {
		sec  int
		want unix.Linger
	}{
		{0, unix.Linger{Onoff: 1, Linger: 0}},
		{5, unix.Linger{Onoff: 1, Linger: 5}},
		{-1, unix.Linger{}},
	} {
		if err := SetLinger(fd, tt.sec); err != nil {
			t.Fatal(err)
		}
		got, err := unix.GetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER)
		if err != nil {
			t.Fatal(err)
		}
		if got.Onoff != 0 {
			got.Onoff = 1 // any non-zero value means on
		}
		if got.Onoff == 0 {
			got.Linger = 0 // meaningless when off; some kernels keep the old value
		}
		if *got != tt.want {
			t.Errorf("SO_LINGER after SetLinger(%d): got %+v, want %+v", tt.sec, *got, tt.want)
		}
	}
	wantSyscallError(t, SetLinger(-1, 0), "setsockopt", unix.EBADF)
}

// SetLinger(fd, 0) then Close resets the connection: the peer's next read
// fails with ECONNRESET.
func TestSetLingerZeroResetsConnection(t *testing.T) {
	checkFdLeaks(t)
	lfd, addr := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	c, err := Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, sa, _ := ResolveAddr("tcp4", addr.String())
	if _, err := Connect(c, sa); err != nil {
		unix.Close(c)
		t.Fatal(err)
	}
	s, _ := acceptOne(t, lfd, false)
	if err := SetLinger(c, 0); err != nil {
		unix.Close(c)
		t.Fatal(err)
	}
	if err := Close(c); err != nil {
		t.Fatal(err)
	}
	waitFd(t, s, unix.POLLIN)
	var buf [16]byte
	if n, err := unix.Read(s, buf[:]); err != unix.ECONNRESET {
		t.Errorf("read after the peer reset: got %d, %v, want ECONNRESET", n, err)
	}
}

func TestToNetAddr(t *testing.T) {
	in6 := &unix.SockaddrInet6{Port: 80, Addr: [16]byte{0: 0xfe, 1: 0x80, 15: 1}, ZoneId: 1 << 30}
	tests := []struct {
		network string
		sa      unix.Sockaddr
		want    net.Addr
	}{
		{"tcp", &unix.SockaddrInet4{Port: 9527, Addr: [4]byte{10, 0, 0, 1}},
			&net.TCPAddr{IP: net.IP{10, 0, 0, 1}, Port: 9527}},
		{"tcp", in6, &net.TCPAddr{IP: net.IP(in6.Addr[:]), Port: 80, Zone: "1073741824"}},
		{"unix", &unix.SockaddrUnix{Name: "/tmp/s"}, &net.UnixAddr{Name: "/tmp/s", Net: "unix"}},
		{"unixpacket", &unix.SockaddrUnix{Name: "/tmp/s"}, &net.UnixAddr{Name: "/tmp/s", Net: "unixpacket"}},
		{"tcp", &unix.SockaddrUnix{Name: "@a"}, &net.UnixAddr{Name: "@a", Net: "unix"}},
		{"tcp", nil, nil},
		{"tcp", (*unix.SockaddrInet4)(nil), nil},
		{"tcp", (*unix.SockaddrInet6)(nil), nil},
		{"unix", (*unix.SockaddrUnix)(nil), nil},
		{"tcp", &unix.SockaddrNetlink{}, nil},
	}
	for _, tt := range tests {
		got := ToNetAddr(tt.network, tt.sa)
		if (got == nil) != (tt.want == nil) || (got != nil && (got.String() != tt.want.String() || got.Network() != tt.want.Network())) {
			t.Errorf("ToNetAddr(%q, %#v): got %#v, want %#v", tt.network, tt.sa, got, tt.want)
		}
	}
}

func TestToNetAddrCopiesIP(t *testing.T) {
	sa := &unix.SockaddrInet4{Port: 1, Addr: [4]byte{127, 0, 0, 1}}
	addr := ToNetAddr("tcp", sa).(*net.TCPAddr)
	sa.Addr[3] = 9
	if got := addr.IP.String(); got != "127.0.0.1" {
		t.Errorf("address after the sockaddr changed: got %s, want 127.0.0.1", got)
	}
}
