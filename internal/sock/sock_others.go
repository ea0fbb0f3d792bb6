//go:build !linux

package sock

import (
	"net"

	"golang.org/x/sys/unix"
)

// ResolveAddr returns ErrUnsupported: sockets are only implemented on linux.
func ResolveAddr(network, address string) (family int, sa unix.Sockaddr, err error) {
	return 0, nil, ErrUnsupported
}

// Socket returns ErrUnsupported.
func Socket(family, sotype, proto int) (int, error) { return -1, ErrUnsupported }

// Listen returns ErrUnsupported.
func Listen(network, address string, o ListenOptions) (fd int, addr net.Addr, err error) {
	return -1, nil, ErrUnsupported
}

// ListenFd returns ErrUnsupported.
func ListenFd(fd int) (net.Addr, error) { return nil, ErrUnsupported }

// Accept returns ErrUnsupported.
func Accept(fd int, blocking bool, network string) (nfd int, peer net.Addr, err error) {
	return -1, nil, ErrUnsupported
}

// Connect returns ErrUnsupported.
func Connect(fd int, sa unix.Sockaddr) (inProgress bool, err error) { return false, ErrUnsupported }

// SocketError returns ErrUnsupported.
func SocketError(fd int) error { return ErrUnsupported }

// Close returns ErrUnsupported.
func Close(fd int) error { return ErrUnsupported }

// LocalAddr returns ErrUnsupported.
func LocalAddr(fd int, network string) (net.Addr, error) { return nil, ErrUnsupported }

// PeerAddr returns ErrUnsupported.
func PeerAddr(fd int, network string) (net.Addr, error) { return nil, ErrUnsupported }

// SetNoDelay returns ErrUnsupported.
func SetNoDelay(fd int, on bool) error { return ErrUnsupported }

// SetLinger returns ErrUnsupported.
func SetLinger(fd int, sec int) error { return ErrUnsupported }

// RaiseNofile returns ErrUnsupported.
func RaiseNofile() (uint64, error) { return 0, ErrUnsupported }

// AcceptedPeer returns nil: there are no connections here.
func AcceptedPeer(nfd int, network string) net.Addr { return nil }
