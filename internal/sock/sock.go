package sock

import (
	"errors"
	"net"

	"golang.org/x/sys/unix"
)

// ListenOptions are the socket options Listen sets before bind and listen.
// The zero value listens with the default backlog and no options.
//
// ReuseAddr, ReusePort, IPv6Only and DeferAccept apply to TCP only and are
// ignored for unix sockets (recent Linux kernels refuse SO_REUSEPORT on
// them, and the others have no meaning there).
type ListenOptions struct {
	// ReuseAddr sets SO_REUSEADDR, so that a restarted server can bind a
	// port that connections of its previous run still hold in TIME_WAIT.
	// Go's net package always sets it on listeners; libevent only with
	// LEV_OPT_REUSEABLE.
	ReuseAddr bool

	// ReusePort sets SO_REUSEPORT: several sockets, each with the option
	// set, may listen on the same address and the kernel spreads incoming
	// connections among them.
	ReusePort bool

	// IPv6Only sets IPV6_V6ONLY on an AF_INET6 socket, so that a wildcard
	// listener does not also accept IPv4 connections. The network "tcp6"
	// implies it, as in Go's net package. Any other AF_INET6 listener has
	// the option cleared explicitly, whatever the system default
	// (net.ipv6.bindv6only) says.
	IPv6Only bool

	// DeferAccept sets TCP_DEFER_ACCEPT to one second, as libevent's
	// LEV_OPT_DEFERRED_ACCEPT does: the kernel holds a new connection back
	// from accept until the client has sent data. Use it only for
	// protocols in which the client speaks first.
	DeferAccept bool

	// RemoveStaleUnix lets Listen on a unix socket path remove a socket
	// file left behind by an earlier process, and only such a file: the
	// path is removed only if it is a socket and a connection attempt to
	// it is refused, which means nothing listens there any more. A live
	// listener's path, or any other kind of file, is left alone and bind
	// fails with EADDRINUSE. The probe looks to a live server like a
	// client that connects and hangs up at once. Between the probe and
	// the bind another process could take the path; that race cannot be
	// closed from user space.
	RemoveStaleUnix bool

	// Backlog is the length of the queue of connections waiting to be
	// accepted. Zero or less means the system's maximum, read once from
	// /proc/sys/net/core/somaxconn (4096 if it cannot be read), as Go's
	// net package does; the kernel silently lowers larger values to that
	// maximum.
	//
	// libevent passes -1 for "the default" and relies on Linux turning it
	// into somaxconn, which only happens because the kernel compares the
	// value as unsigned. A negative sentinel in an int is the kind of
	// magic levent avoids; here the zero value is the default and the
	// number handed to listen(2) is always a real one.
	Backlog int
}

// ErrUnsupported is returned by every function that makes a system call on
// a system other than Linux. errors.Is(ErrUnsupported,
// errors.ErrUnsupported) holds.
var ErrUnsupported error = unsupportedError{}

type unsupportedError struct{}

func (unsupportedError) Error() string        { return "levent: sockets are only implemented on linux" }
func (unsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

// Both sock_linux.go and sock_others.go must provide exactly this API; the
// compiler checks it here on every platform.
var (
	_ func(string, string) (int, unix.Sockaddr, error)           = ResolveAddr
	_ func(string, unix.Sockaddr) net.Addr                       = ToNetAddr
	_ func(int, int, int) (int, error)                           = Socket
	_ func(string, string, ListenOptions) (int, net.Addr, error) = Listen
	_ func(int) (net.Addr, error)                                = ListenFd
	_ func(int, bool, string) (int, net.Addr, error)             = Accept
	_ func(int, unix.Sockaddr) (bool, error)                     = Connect
	_ func(int) error                                            = SocketError
	_ func(int) error                                            = Close
	_ func(int, string) (net.Addr, error)                        = LocalAddr
	_ func(int, string) (net.Addr, error)                        = PeerAddr
	_ func(int, bool) error                                      = SetNoDelay
	_ func(int, int) error                                       = SetLinger
	_ func() (uint64, error)                                     = RaiseNofile
)
