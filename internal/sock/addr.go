package sock

import (
	"net"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ToNetAddr converts a socket address into the net.Addr that Go's net
// package would report for it: *net.TCPAddr for AF_INET and AF_INET6,
// *net.UnixAddr for AF_UNIX (whose Net is network when network names a
// unix network, "unix" otherwise). It returns nil for a nil or unknown
// address. It makes no system call except, for a link-local IPv6 address
// with a zone, the interface lookup that turns the zone index into a name.
//
// An unnamed unix socket (a client that never bound) has the empty name.
// The returned value shares no memory with sa.
func ToNetAddr(network string, sa unix.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		if sa == nil {
			return nil
		}
		return newTCPAddr(sa.Addr[:], sa.Port, "")
	case *unix.SockaddrInet6:
		if sa == nil {
			return nil
		}
		return newTCPAddr(sa.Addr[:], sa.Port, zoneName(sa.ZoneId))
	case *unix.SockaddrUnix:
		if sa == nil {
			return nil
		}
		return &net.UnixAddr{Name: sa.Name, Net: unixNet(network)}
	}
	return nil
}

// tcpAddr is a net.TCPAddr together with the array its IP points into, so
// that a peer's address is one allocation instead of two. A server makes
// one for every connection it accepts; ramping up to ten thousand clients,
// the second allocation alone was ten thousand more objects of garbage.
// Only &tcpAddr.addr is handed out, and that interior pointer keeps the
// whole object, array included, alive.
type tcpAddr struct {
	addr net.TCPAddr
	ip   [16]byte
}

// newTCPAddr returns a *net.TCPAddr holding a copy of ip, which is 4 bytes
// for AF_INET and 16 for AF_INET6: the lengths Go's net reports, kept
// because code compares IPs with bytes.Equal or len. The capacity is cut
// to the length, so an append to the IP copies instead of writing into the
// rest of the array.
func newTCPAddr(ip []byte, port int, zone string) *net.TCPAddr {
	a := new(tcpAddr)
	n := copy(a.ip[:], ip)
	a.addr = net.TCPAddr{IP: a.ip[:n:n], Port: port, Zone: zone}
	return &a.addr
}

// unixNet is the Net of a *net.UnixAddr for a socket of network: network
// itself for "unix", "unixgram" and "unixpacket", "unix" for anything else
// (ListenFd and LocalAddr may be called with "tcp" before the family is
// known).
func unixNet(network string) string {
	if strings.HasPrefix(network, "unix") {
		return network
	}
	return "unix"
}

// zoneName turns an IPv6 scope id into an interface name, or its decimal
// form when no interface has that index (Go's net does the same).
func zoneName(id uint32) string {
	if id == 0 {
		return ""
	}
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(id), 10)
}
