package sock

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Listen creates a listening stream socket: ResolveAddr, Socket, the
// options of o, bind and listen, in libevent's order. addr is the address
// the kernel actually bound (getsockname), so the port chosen for ":0" can
// be read from it.
//
// Errors are *net.OpError with Op "listen" (as from net.Listen), wrapping
// the resolver's error or an *os.SyscallError naming the failed call;
// errors.Is(err, unix.EADDRINUSE) works through them. On any error the
// socket is closed and fd is -1.
//
// Listen on a unix path creates the socket file; removing it when the
// listener closes is the caller's business (net.UnixListener does it in
// Close).
func Listen(network, address string, o ListenOptions) (fd int, addr net.Addr, err error) {
	family, sa, err := ResolveAddr(network, address)
	if err != nil {
		return -1, nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	fd, err = Socket(family, unix.SOCK_STREAM, 0)
	if err == nil {
		addr, err = bindAndListen(fd, network, family, sa, o)
		if err != nil {
			closeFunc(fd)
			fd = -1
		}
	}
	if err != nil {
		return -1, nil, &net.OpError{Op: "listen", Net: network, Addr: ToNetAddr(network, sa), Err: err}
	}
	return fd, addr, nil
}

func bindAndListen(fd int, network string, family int, sa unix.Sockaddr, o ListenOptions) (net.Addr, error) {
	if family == unix.AF_INET || family == unix.AF_INET6 {
		if err := setTCPListenOptions(fd, network, family, o); err != nil {
			return nil, err
		}
	}
	if u, ok := sa.(*unix.SockaddrUnix); ok && o.RemoveStaleUnix {
		if err := removeStaleUnix(u.Name); err != nil {
			return nil, err
		}
	}
	if err := bindFunc(fd, sa); err != nil {
		return nil, os.NewSyscallError("bind", err)
	}
	backlog := o.Backlog
	if backlog <= 0 {
		backlog = defaultBacklog()
	}
	if err := listenFunc(fd, backlog); err != nil {
		return nil, os.NewSyscallError("listen", err)
	}
	return LocalAddr(fd, network)
}

func setTCPListenOptions(fd int, network string, family int, o ListenOptions) error {
	if o.ReuseAddr {
		if err := setsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return err
		}
	}
	if o.ReusePort {
		if err := setsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return err
		}
	}
	if family == unix.AF_INET6 {
		// Always set, never left to net.ipv6.bindv6only: a "tcp"
		// wildcard listener must be dual-stack whatever the default.
		v6only := boolInt(o.IPv6Only || network == "tcp6")
		if err := setsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
			return err
		}
	}
	if o.DeferAccept {
		// Seconds; libevent uses 1 too. The kernel rounds it up to a
		// number of SYN-ACK retransmissions.
		if err := setsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 1); err != nil {
			return err
		}
	}
	return nil
}

// removeStaleUnix removes the socket file at path if nothing listens on it
// any more. It leaves alone a path that does not exist, is not a socket,
// lives in the abstract namespace, or accepts connections (a successful
// connect, or EAGAIN from a listener whose backlog is full): bind then
// reports the conflict.
func removeStaleUnix(path string) error {
	if strings.HasPrefix(path, "@") {
		return nil
	}
	var st unix.Stat_t
	if err := lstatFunc(path, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil
	}
	probe, err := Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	_, err = Connect(probe, &unix.SockaddrUnix{Name: path})
	closeFunc(probe)
	if err != unix.ECONNREFUSED {
		return nil
	}
	if err := unlinkFunc(path); err != nil && err != unix.ENOENT {
		return os.NewSyscallError("unlink", err)
	}
	return nil
}

// defaultBacklog is the listen backlog used when ListenOptions.Backlog is
// zero or less: the system's maximum, read once.
var defaultBacklog = sync.OnceValue(func() int { return readSomaxconn("/proc/sys/net/core/somaxconn") })

// readSomaxconn reads the kernel's cap on listen backlogs from path;
// 4096, the kernel's own default since Linux 5.4, if that fails.
func readSomaxconn(path string) int {
	const fallback = 4096
	b, err := os.ReadFile(path)
	if err != nil {
		return fallback
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return fallback
	}
	return n
}

// ListenFd prepares a stream socket that the caller created and bound
// itself (evconnlistener_new's case): it calls listen with the default
// backlog unless SO_ACCEPTCONN says the socket listens already, makes it
// non-blocking, and returns its bound address. The close-on-exec flag is
// left as the caller set it, since a descriptor handed over by a parent
// (systemd socket activation, a graceful restart) may be meant to be
// inherited. On error the descriptor is left open: it belongs to the
// caller.
func ListenFd(fd int) (net.Addr, error) {
	typ, err := getsockoptIntFunc(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, os.NewSyscallError("getsockopt", err)
	}
	if typ != unix.SOCK_STREAM {
		return nil, fmt.Errorf("levent: descriptor %d is not a stream socket (SO_TYPE %d)", fd, typ)
	}
	listening, err := getsockoptIntFunc(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return nil, os.NewSyscallError("getsockopt", err)
	}
	if listening == 0 {
		if err := listenFunc(fd, defaultBacklog()); err != nil {
			return nil, os.NewSyscallError("listen", err)
		}
	}
	if err := setNonblockFunc(fd, true); err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	sa, err := getsocknameFunc(fd)
	if err != nil {
		return nil, os.NewSyscallError("getsockname", err)
	}
	network := "tcp"
	if _, ok := sa.(*unix.SockaddrUnix); ok {
		network = "unix"
	}
	return toNetAddrChecked(network, sa)
}
