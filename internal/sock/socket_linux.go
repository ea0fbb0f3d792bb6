package sock

import (
	"errors"
	"net"
	"os"
	"reflect"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket creates a socket that is non-blocking and close-on-exec from the
// start (one socket(2) call with SOCK_NONBLOCK|SOCK_CLOEXEC added to
// sotype). EINTR is retried. Errors are *os.SyscallError naming "socket".
func Socket(family, sotype, proto int) (int, error) {
	for {
		fd, err := socketFunc(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, os.NewSyscallError("socket", err)
		}
		return fd, nil
	}
}

// Close closes fd. EINTR is not retried: Linux has released the descriptor
// before it reports EINTR, and a second close could close a descriptor
// that another goroutine has opened in the meantime. Errors are
// *os.SyscallError naming "close".
func Close(fd int) error {
	if err := closeFunc(fd); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// Accept takes one connection off listening socket fd with accept4(2). The
// new descriptor is close-on-exec and, unless blocking is true,
// non-blocking.
//
// peer is the peer's address, equal to what ToNetAddr(network, ...) gives
// for it, but decoded straight from the kernel's sockaddr into the net.Addr
// itself: one allocation for a TCP peer (the *net.TCPAddr and the bytes its
// IP points into), one for an unnamed unix peer and two for a named one,
// where going through a unix.Sockaddr and ToNetAddr took three. peer is nil
// for a family Go's net has no address type for (a descriptor handed to
// the listener could be AF_VSOCK, say).
//
// EINTR and ECONNABORTED (a connection reset while it waited in the
// backlog) are retried. unix.EAGAIN (the backlog is empty), unix.EMFILE and
// unix.ENFILE (out of descriptors) are returned as they are, so callers can
// compare with ==; other errors are *os.SyscallError naming "accept4".
func Accept(fd int, blocking bool, network string) (nfd int, peer net.Addr, err error) {
	flags := unix.SOCK_CLOEXEC
	if !blocking {
		flags |= unix.SOCK_NONBLOCK
	}
	for {
		nfd, rsa, size, err := accept4Func(fd, flags)
		switch err {
		case nil:
			return nfd, decodeAddr(network, &rsa, size), nil
		case unix.EINTR, unix.ECONNABORTED:
			continue
		case unix.EAGAIN, unix.EMFILE, unix.ENFILE:
			return -1, nil, err
		}
		return -1, nil, os.NewSyscallError("accept4", err)
	}
}

// accept4 is accept4(2) returning the peer's address in the kernel's raw
// form and its length. It is not unix.Accept4, which makes an extra
// getsockopt(SO_PROTOCOL) call for every AF_INET peer (to ask whether the
// socket is L2TP) and allocates a unix.Sockaddr that Accept would only
// convert and drop.
//
// The address comes back by value rather than through a pointer from the
// caller: accept4Func is a variable, and a pointer passed in a call through
// a variable escapes, which would put each accept's 112-byte
// RawSockaddrAny on the heap. Copied back on the stack it costs nothing.
func accept4(fd, flags int) (nfd int, rsa unix.RawSockaddrAny, size uint32, err error) {
	size = unix.SizeofSockaddrAny
	r, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd),
		uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&size)), uintptr(flags), 0, 0)
	if e != 0 {
		return -1, rsa, 0, e
	}
	return int(r), rsa, size, nil
}

// AcceptedPeer returns the peer's address of nfd, a connection taken off a
// listening socket without its address (accepted by io_uring, say): the
// same net.Addr Accept returns with the connection, at the same cost (one
// allocation for a TCP peer), plus a getpeername(2). getpeername fails
// with ENOTCONN once a TCP connection is reset, which accept4 does not (a
// connection reset in the backlog is still handed over with its address);
// getsockopt(SO_PEERNAME) answers as accept4 does, so it is asked then. nil
// where neither knows, or for a family ToNetAddr has no type for.
func AcceptedPeer(nfd int, network string) net.Addr {
	rsa, size, err := sockName(unix.SYS_GETPEERNAME, nfd)
	if err == unix.ENOTCONN {
		rsa, size, err = peerNameOpt(nfd)
	}
	if err != nil {
		return nil
	}
	return decodeAddr(network, &rsa, size)
}

// sockName is getsockname(2) or getpeername(2), by call, returning the
// address in the kernel's raw form and its length (by value, as accept4).
func sockName(call uintptr, fd int) (rsa unix.RawSockaddrAny, size uint32, err error) {
	size = unix.SizeofSockaddrAny
	_, _, e := unix.RawSyscall(call, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&size)))
	if e != 0 {
		return rsa, 0, e
	}
	return rsa, size, nil
}

// peerNameOpt is getsockopt(SO_PEERNAME), which insists that the buffer
// be no longer than the address: the local address's length, the same for
// an inet peer, sizes it.
func peerNameOpt(fd int) (rsa unix.RawSockaddrAny, size uint32, err error) {
	if _, size, err = sockName(unix.SYS_GETSOCKNAME, fd); err != nil {
		return rsa, 0, err
	}
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERNAME,
		uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&size)), 0)
	if e != 0 {
		return rsa, 0, e
	}
	return rsa, size, nil
}

// Connect starts a connection on non-blocking socket fd. It returns
// (true, nil) when the connection goes on in the background (EINPROGRESS):
// wait until fd is writable, then ask SocketError how it ended. EINTR is
// reported the same way, because POSIX lets the connection go on
// asynchronously after an interrupted connect. (false, nil) means it was
// established at once, as it often is for unix sockets.
//
// Every failure is the bare unix.Errno (ECONNREFUSED, ENETUNREACH, EAGAIN
// for a unix listener with a full backlog...), for callers to compare or to
// wrap together with the address they dialled. A nil sa is an error, not a
// panic.
func Connect(fd int, sa unix.Sockaddr) (inProgress bool, err error) {
	if !validSockaddr(sa) {
		return false, errNilAddr
	}
	switch err := connectFunc(fd, sa); err {
	case nil:
		return false, nil
	case unix.EINPROGRESS, unix.EINTR:
		return true, nil
	default:
		return false, err
	}
}

var errNilAddr = errors.New("levent: connect: nil socket address")

// validSockaddr reports whether sa can be handed to x/sys/unix, which
// dereferences it without a check: a nil address is an error, not a panic.
func validSockaddr(sa unix.Sockaddr) bool {
	switch sa := sa.(type) {
	case nil:
		return false
	case *unix.SockaddrInet4:
		return sa != nil
	case *unix.SockaddrInet6:
		return sa != nil
	case *unix.SockaddrUnix:
		return sa != nil
	}
	v := reflect.ValueOf(sa)
	return v.Kind() != reflect.Pointer || !v.IsNil()
}

// SocketError returns the pending error of fd (getsockopt SO_ERROR), which
// also clears it: nil, or the bare unix.Errno, for instance ECONNREFUSED
// after a connect that Connect reported in progress. A failure of
// getsockopt itself is an *os.SyscallError.
func SocketError(fd int) error {
	v, err := getsockoptIntFunc(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt", err)
	}
	if v != 0 {
		return unix.Errno(v)
	}
	return nil
}

// LocalAddr returns the address fd is bound to (getsockname), converted by
// ToNetAddr.
func LocalAddr(fd int, network string) (net.Addr, error) {
	sa, err := getsocknameFunc(fd)
	if err != nil {
		return nil, os.NewSyscallError("getsockname", err)
	}
	return toNetAddrChecked(network, sa)
}

// PeerAddr returns the address of fd's peer (getpeername), converted by
// ToNetAddr. It fails with ENOTCONN until a connection is established.
func PeerAddr(fd int, network string) (net.Addr, error) {
	sa, err := getpeernameFunc(fd)
	if err != nil {
		return nil, os.NewSyscallError("getpeername", err)
	}
	return toNetAddrChecked(network, sa)
}

func toNetAddrChecked(network string, sa unix.Sockaddr) (net.Addr, error) {
	if addr := ToNetAddr(network, sa); addr != nil {
		return addr, nil
	}
	return nil, errors.New("levent: socket address of an unsupported family")
}

// SetNoDelay sets or clears TCP_NODELAY: with it set, small writes go out
// at once instead of waiting for Nagle's algorithm.
func SetNoDelay(fd int, on bool) error {
	return setsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, boolInt(on))
}

// SetLinger sets SO_LINGER as net.TCPConn.SetLinger does: sec < 0 turns
// lingering off (the default: close returns at once and the kernel sends
// the remaining data in the background); sec == 0 makes close discard
// unsent data and reset the connection (RST), which is how tests provoke
// ECONNRESET; sec > 0 makes a blocking close wait up to sec seconds for the
// data to be sent.
func SetLinger(fd int, sec int) error {
	l := unix.Linger{}
	if sec >= 0 {
		l.Onoff, l.Linger = 1, int32(min(sec, 1<<31-1))
	}
	if err := setsockoptLingerFunc(fd, unix.SOL_SOCKET, unix.SO_LINGER, &l); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

func setsockoptInt(fd, level, opt, value int) error {
	if err := setsockoptIntFunc(fd, level, opt, value); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
