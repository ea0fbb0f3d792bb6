package sock

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// checkListener checks that fd listens, is non-blocking and close-on-exec,
// and that addr is what the kernel bound.
func checkListener(t *testing.T, fd int, addr net.Addr) {
	t.Helper()
	if got := sockoptInt(t, fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); got != 1 {
		t.Errorf("SO_ACCEPTCONN: got %d, want 1", got)
	}
	if nonblock, cloexec := fdFlags(t, fd); !nonblock || !cloexec {
		t.Errorf("listener flags: got nonblock=%v cloexec=%v, want both", nonblock, cloexec)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	if want := ToNetAddr(addr.Network(), sa); addr.String() != want.String() {
		t.Errorf("Listen address: got %v, want the bound %v", addr, want)
	}
}

func TestListenTCP4LoopbackReportsRealPortAndAccepts(t *testing.T) {
	checkFdLeaks(t)
	fd, addr := listen(t, "tcp", "127.0.0.1:0", ListenOptions{})
	checkListener(t, fd, addr)
	ta, ok := addr.(*net.TCPAddr)
	if !ok || ta.Port == 0 || !ta.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("Listen(tcp, 127.0.0.1:0) address: got %#v, want 127.0.0.1 with a real port", addr)
	}
	c := dial(t, addr)
	nfd, peer := acceptOne(t, fd, false)
	if nonblock, cloexec := fdFlags(t, nfd); !nonblock || !cloexec {
		t.Errorf("accepted fd flags: got nonblock=%v cloexec=%v, want both", nonblock, cloexec)
	}
	if got, want := peer.String(), c.LocalAddr().String(); got != want {
		t.Errorf("peer address: got %s, want the client's %s", got, want)
	}
	if _, _, err := Accept(fd, false, "tcp"); err != unix.EAGAIN {
		t.Errorf("Accept on an empty backlog: got %v, want unix.EAGAIN itself", err)
	}
}

func TestListenTCP6LoopbackReportsRealPortAndAccepts(t *testing.T) {
	if !hasIPv6Loopback() {
		t.Skip("no ::1 on this machine")
	}
	checkFdLeaks(t)
	fd, addr := listen(t, "tcp6", "[::1]:0", ListenOptions{})
	checkListener(t, fd, addr)
	ta, ok := addr.(*net.TCPAddr)
	if !ok || ta.Port == 0 || !ta.IP.Equal(net.IPv6loopback) {
		t.Fatalf("Listen(tcp6, [::1]:0) address: got %#v, want ::1 with a real port", addr)
	}
	if got := sockoptInt(t, fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); got != 1 {
		t.Errorf("tcp6 IPV6_V6ONLY: got %d, want 1", got)
	}
	c := dial(t, addr)
	_, peer := acceptOne(t, fd, false)
	if got, want := peer.String(), c.LocalAddr().String(); got != want {
		t.Errorf("peer address: got %s, want the client's %s", got, want)
	}
}

func TestListenTCPWildcardIsDualStack(t *testing.T) {
	if !dualStackFunc() {
		t.Skip("the kernel cannot map IPv4 onto IPv6 sockets")
	}
	checkFdLeaks(t)
	fd, addr := listen(t, "tcp", ":0", ListenOptions{})
	if got := sockoptInt(t, fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); got != 0 {
		t.Errorf("dual-stack IPV6_V6ONLY: got %d, want 0", got)
	}
	port := addr.(*net.TCPAddr).Port
	dial(t, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	_, peer := acceptOne(t, fd, false)
	if got, ok := peer.(*net.TCPAddr); !ok || !got.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("IPv4 client on a dual-stack listener: got peer %v, want 127.0.0.1", got)
	}
}

// IPV6_V6ONLY is always set explicitly, never left to the system default.
// The test records the value set rather than reading it back: some kernels
// (gVisor) report 1 for any socket bound to a specific IPv6 address.
func TestListenIPv6OnlyOption(t *testing.T) {
	if !hasIPv6Loopback() {
		t.Skip("no ::1 on this machine")
	}
	checkFdLeaks(t)
	var set []int
	hook(t, &setsockoptIntFunc, func(fd, level, opt, v int) error {
		if level == unix.IPPROTO_IPV6 && opt == unix.IPV6_V6ONLY {
			set = append(set, v)
		}
		return unix.SetsockoptInt(fd, level, opt, v)
	})
	for _, tt := range []struct {
		network, address string
		o                ListenOptions
		want             []int
	}{
		{"tcp", "[::1]:0", ListenOptions{}, []int{0}},
		{"tcp", "[::1]:0", ListenOptions{IPv6Only: true}, []int{1}},
		{"tcp6", "[::1]:0", ListenOptions{}, []int{1}},
		{"tcp4", "127.0.0.1:0", ListenOptions{IPv6Only: true}, nil},
	} {
		set = nil
		listen(t, tt.network, tt.address, tt.o)
		if fmt.Sprint(set) != fmt.Sprint(tt.want) {
			t.Errorf("Listen(%q, %q, %+v) set IPV6_V6ONLY to: got %v, want %v", tt.network, tt.address, tt.o, set, tt.want)
		}
	}
}

func TestListenSetsRequestedOptions(t *testing.T) {
	checkFdLeaks(t)
	plain, _ := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	all, _ := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{ReuseAddr: true, ReusePort: true, DeferAccept: true})
	for _, opt := range []struct {
		name       string
		level, opt int
	}{
		{"SO_REUSEADDR", unix.SOL_SOCKET, unix.SO_REUSEADDR},
		{"SO_REUSEPORT", unix.SOL_SOCKET, unix.SO_REUSEPORT},
		{"TCP_DEFER_ACCEPT", unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT},
	} {
		if got := sockoptInt(t, plain, opt.level, opt.opt); got != 0 {
			t.Errorf("%s without the option: got %d, want 0", opt.name, got)
		}
		if got := sockoptInt(t, all, opt.level, opt.opt); got == 0 {
			t.Errorf("%s with the option: got 0, want it set", opt.name)
		}
	}
}

func TestListenTwiceOnOnePortNeedsReusePort(t *testing.T) {
	checkFdLeaks(t)
	_, addr := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{ReusePort: true})
	again := addr.String()
	fd2, addr2 := listen(t, "tcp4", again, ListenOptions{ReusePort: true})
	if addr2.String() != again {
		t.Errorf("second SO_REUSEPORT listener: got %v, want %s", addr2, again)
	}
	checkListener(t, fd2, addr2)

	_, addr = listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	err := wantAddrInUse(t, "tcp4", addr.String(), ListenOptions{})
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "listen" || op.Addr == nil || op.Addr.String() != addr.String() {
		t.Errorf("error: got %#v, want *net.OpError{Op: listen, Addr: %v}", err, addr)
	}
	wantSyscallError(t, err, "bind", unix.EADDRINUSE)
}

// SO_REUSEADDR lets a new listener bind a port that a connection of an
// earlier listener still holds.
func TestListenReuseAddrBindsPortHeldByConnection(t *testing.T) {
	checkFdLeaks(t)
	fd, addr, err := Listen("tcp4", "127.0.0.1:0", ListenOptions{ReuseAddr: true})
	if err != nil {
		t.Fatal(err)
	}
	dial(t, addr)
	acceptOne(t, fd, false) // inherits SO_REUSEADDR and holds the port
	unix.Close(fd)

	wantAddrInUse(t, "tcp4", addr.String(), ListenOptions{})
	listen(t, "tcp4", addr.String(), ListenOptions{ReuseAddr: true})
}

func TestListenBacklog(t *testing.T) {
	checkFdLeaks(t)
	var got []int
	hook(t, &listenFunc, func(fd, n int) error {
		got = append(got, n)
		return unix.Listen(fd, n)
	})
	listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	listen(t, "tcp4", "127.0.0.1:0", ListenOptions{Backlog: -1})
	listen(t, "tcp4", "127.0.0.1:0", ListenOptions{Backlog: 7})
	def := readSomaxconn("/proc/sys/net/core/somaxconn")
	if want := []int{def, def, 7}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("backlogs given to listen: got %v, want %v", got, want)
	}
}

func TestReadSomaxconnFallsBackTo4096(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		content string // "" means no file
		want    int
	}{
		{"", 4096},
		{"128\n", 128},
		{"65535", 65535},
		{"lots\n", 4096},
		{"0\n", 4096},
		{"-5\n", 4096},
	} {
		path := filepath.Join(dir, "missing")
		if tt.content != "" {
			path = filepath.Join(dir, "somaxconn")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if got := readSomaxconn(path); got != tt.want {
			t.Errorf("readSomaxconn(%q): got %d, want %d", tt.content, got, tt.want)
		}
	}
}

func TestListenUnixPathAccepts(t *testing.T) {
	checkFdLeaks(t)
	path := filepath.Join(t.TempDir(), "l.sock")
	// TCP-only options are ignored for unix sockets.
	fd, addr := listen(t, "unix", path, ListenOptions{ReuseAddr: true, ReusePort: true, IPv6Only: true, DeferAccept: true})
	checkListener(t, fd, addr)
	if ua, ok := addr.(*net.UnixAddr); !ok || ua.Name != path || ua.Net != "unix" {
		t.Fatalf("Listen(unix) address: got %#v, want unix %s", addr, path)
	}
	dial(t, addr)
	nfd, peer := acceptOne(t, fd, false)
	if nonblock, cloexec := fdFlags(t, nfd); !nonblock || !cloexec {
		t.Errorf("accepted fd flags: got nonblock=%v cloexec=%v, want both", nonblock, cloexec)
	}
	if got, ok := peer.(*net.UnixAddr); !ok || got.Name != "" || got.Net != "unix" {
		t.Errorf("unnamed client's address: got %#v, want unix with an empty name", peer)
	}
}

func TestListenUnixAbstract(t *testing.T) {
	checkFdLeaks(t)
	name := "@levent-sock-test-" + strconv.Itoa(os.Getpid())
	fd, addr := listen(t, "unix", name, ListenOptions{RemoveStaleUnix: true})
	if addr.String() != name {
		t.Errorf("abstract address: got %v, want %s", addr, name)
	}
	dial(t, addr)
	acceptOne(t, fd, false)
}

// staleSocket leaves a socket file at path that nothing listens on.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	fd, _, err := Listen("unix", path, ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if st, err := os.Lstat(path); err != nil || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("stale socket file %s: %v %v", path, st, err)
	}
}

func TestListenRemoveStaleUnixRemovesDeadSocket(t *testing.T) {
	checkFdLeaks(t)
	path := filepath.Join(t.TempDir(), "stale.sock")
	staleSocket(t, path)
	wantAddrInUse(t, "unix", path, ListenOptions{})
	fd, addr := listen(t, "unix", path, ListenOptions{RemoveStaleUnix: true})
	checkListener(t, fd, addr)
	dial(t, addr)
	acceptOne(t, fd, false)
}

func TestListenRemoveStaleUnixKeepsLiveListener(t *testing.T) {
	checkFdLeaks(t)
	path := filepath.Join(t.TempDir(), "live.sock")
	live, addr := listen(t, "unix", path, ListenOptions{})
	wantAddrInUse(t, "unix", path, ListenOptions{RemoveStaleUnix: true})
	// The probe connected; the listener still owns the path.
	acceptOne(t, live, false)
	dial(t, addr)
	acceptOne(t, live, false)
}

// A listener whose backlog is full answers the probe with EAGAIN, not
// ECONNREFUSED: it is alive and its path must stay.
func TestListenRemoveStaleUnixKeepsListenerWithFullBacklog(t *testing.T) {
	checkFdLeaks(t)
	path := filepath.Join(t.TempDir(), "full.sock")
	live, addr := listen(t, "unix", path, ListenOptions{Backlog: 1})
	full := false
	for i := 0; i < 64 && !full; i++ {
		_, err := Connect(newSocket(t, unix.AF_UNIX), &unix.SockaddrUnix{Name: path})
		full = err == unix.EAGAIN
	}
	if !full {
		t.Skip("this kernel never reported EAGAIN for a full unix backlog")
	}
	wantAddrInUse(t, "unix", path, ListenOptions{RemoveStaleUnix: true})
	acceptOne(t, live, false)
	dial(t, addr)
}

func TestListenRemoveStaleUnixKeepsRegularFile(t *testing.T) {
	checkFdLeaks(t)
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantAddrInUse(t, "unix", path, ListenOptions{RemoveStaleUnix: true})
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Errorf("regular file after Listen: got %q, %v, want it untouched", b, err)
	}
}

func TestListenRemoveStaleUnixReportsUnlinkFailure(t *testing.T) {
	checkFdLeaks(t)
	path := filepath.Join(t.TempDir(), "stale.sock")
	staleSocket(t, path)
	hook(t, &unlinkFunc, func(string) error { return unix.EPERM })
	_, _, err := Listen("unix", path, ListenOptions{RemoveStaleUnix: true})
	wantSyscallError(t, err, "unlink", unix.EPERM)
}

// Every failure after socket() closes the socket again.
func TestListenClosesSocketOnEveryError(t *testing.T) {
	injected := unix.Errno(unix.ENOBUFS)
	fail := func(p *func(int, int, int, int) error) func(t *testing.T) {
		return func(t *testing.T) {
			hook(t, p, func(int, int, int, int) error { return injected })
		}
	}
	for _, tt := range []struct {
		name    string
		network string
		o       ListenOptions
		inject  func(t *testing.T)
		call    string
	}{
		{"socket", "tcp4", ListenOptions{}, func(t *testing.T) {
			hook(t, &socketFunc, func(int, int, int) (int, error) { return -1, injected })
		}, "socket"},
		{"setsockopt", "tcp4", ListenOptions{ReuseAddr: true}, fail(&setsockoptIntFunc), "setsockopt"},
		{"setsockopt reuseport", "tcp4", ListenOptions{ReusePort: true}, fail(&setsockoptIntFunc), "setsockopt"},
		{"setsockopt v6only", "tcp6", ListenOptions{}, fail(&setsockoptIntFunc), "setsockopt"},
		{"setsockopt deferaccept", "tcp4", ListenOptions{DeferAccept: true}, fail(&setsockoptIntFunc), "setsockopt"},
		{"bind", "tcp4", ListenOptions{}, func(t *testing.T) {
			hook(t, &bindFunc, func(int, unix.Sockaddr) error { return injected })
		}, "bind"},
		{"listen", "tcp4", ListenOptions{}, func(t *testing.T) {
			hook(t, &listenFunc, func(int, int) error { return injected })
		}, "listen"},
		{"getsockname", "tcp4", ListenOptions{}, func(t *testing.T) {
			hook(t, &getsocknameFunc, func(int) (unix.Sockaddr, error) { return nil, injected })
		}, "getsockname"},
		{"probe socket", "unix", ListenOptions{RemoveStaleUnix: true}, func(t *testing.T) {
			n := 0
			hook(t, &socketFunc, func(d, ty, p int) (int, error) {
				if n++; n == 2 {
					return -1, injected
				}
				return unix.Socket(d, ty, p)
			})
		}, "socket"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkFdLeaks(t)
			address := "127.0.0.1:0"
			switch tt.network {
			case "tcp6":
				address = "[::1]:0"
			case "unix":
				address = filepath.Join(t.TempDir(), "s")
				staleSocket(t, address)
			}
			var closed []int
			hook(t, &closeFunc, func(fd int) error {
				closed = append(closed, fd)
				return unix.Close(fd)
			})
			tt.inject(t)
			fd, addr, err := Listen(tt.network, address, tt.o)
			if err == nil {
				unix.Close(fd)
				t.Fatalf("Listen: got fd %d %v, want the injected error", fd, addr)
			}
			wantSyscallError(t, err, tt.call, injected)
			if fd != -1 || addr != nil {
				t.Errorf("failed Listen returned fd %d, addr %v; want -1, nil", fd, addr)
			}
			var op *net.OpError
			if !errors.As(err, &op) || op.Op != "listen" || op.Net != tt.network {
				t.Errorf("error: got %#v, want *net.OpError{Op: listen, Net: %s}", err, tt.network)
			}
			wantClosed := 1
			if tt.name == "socket" {
				wantClosed = 0
			}
			if len(closed) != wantClosed {
				t.Errorf("close calls: got %v, want %d", closed, wantClosed)
			}
		})
	}
}

func TestListenReportsResolveError(t *testing.T) {
	checkFdLeaks(t)
	fd, addr, err := Listen("tcp", "127.0.0.1:65536", ListenOptions{})
	var op *net.OpError
	var ae *net.AddrError
	if fd != -1 || addr != nil || !errors.As(err, &op) || op.Op != "listen" || !errors.As(err, &ae) {
		t.Errorf("Listen with a bad port: got %d, %v, %#v, want -1, nil, *net.OpError wrapping *net.AddrError", fd, addr, err)
	}
}

func TestListenFdPreparesBoundSocket(t *testing.T) {
	checkFdLeaks(t)
	// A blocking socket without close-on-exec, as a parent process might
	// hand over.
	fd := rawSocket(t, unix.AF_INET, unix.SOCK_STREAM)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	addr, err := ListenFd(fd)
	if err != nil {
		t.Fatalf("ListenFd: %v", err)
	}
	if got := sockoptInt(t, fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); got != 1 {
		t.Errorf("SO_ACCEPTCONN after ListenFd: got %d, want 1", got)
	}
	if nonblock, cloexec := fdFlags(t, fd); !nonblock || cloexec {
		t.Errorf("flags after ListenFd: got nonblock=%v cloexec=%v, want true, false (left as it was)", nonblock, cloexec)
	}
	if ta, ok := addr.(*net.TCPAddr); !ok || ta.Port == 0 || !ta.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("ListenFd address: got %#v, want 127.0.0.1 with the bound port", addr)
	}
	dial(t, addr)
	acceptOne(t, fd, false)
}

func TestListenFdLeavesListeningSocketsBacklog(t *testing.T) {
	checkFdLeaks(t)
	path := filepath.Join(t.TempDir(), "fd.sock")
	fd := rawSocket(t, unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 3); err != nil {
		t.Fatal(err)
	}
	hook(t, &listenFunc, func(int, int) error {
		t.Error("ListenFd called listen on a listening socket")
		return nil
	})
	addr, err := ListenFd(fd)
	if err != nil {
		t.Fatalf("ListenFd: %v", err)
	}
	if ua, ok := addr.(*net.UnixAddr); !ok || ua.Name != path {
		t.Errorf("ListenFd address: got %#v, want unix %s", addr, path)
	}
}

func TestListenFdRejectsWhatCannotListen(t *testing.T) {
	checkFdLeaks(t)
	udp := rawSocket(t, unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC)
	if _, err := ListenFd(udp); err == nil || err.Error() != "levent: descriptor "+strconv.Itoa(udp)+" is not a stream socket (SO_TYPE 2)" {
		t.Errorf("ListenFd(udp socket): got %v, want a not-a-stream-socket error", err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	_, err := ListenFd(p[0])
	wantSyscallError(t, err, "getsockopt", unix.ENOTSOCK)

	tcp := rawSocket(t, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC)
	for _, tt := range []struct {
		call   string
		inject func(t *testing.T)
	}{
		{"listen", func(t *testing.T) { hook(t, &listenFunc, func(int, int) error { return unix.EINVAL }) }},
		{"fcntl", func(t *testing.T) { hook(t, &setNonblockFunc, func(int, bool) error { return unix.EINVAL }) }},
		{"getsockname", func(t *testing.T) {
			hook(t, &getsocknameFunc, func(int) (unix.Sockaddr, error) { return nil, unix.EINVAL })
		}},
	} {
		t.Run(tt.call, func(t *testing.T) {
			tt.inject(t)
			_, err := ListenFd(tcp)
			wantSyscallError(t, err, tt.call, unix.EINVAL)
		})
	}
}
