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
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), sa.Addr[:]...)), Port: sa.Port}
	case *unix.SockaddrInet6:
		if sa == nil {
			return nil
		}
		return &net.TCPAddr{
			IP:   net.IP(append([]byte(nil), sa.Addr[:]...)),
			Port: sa.Port,
			Zone: zoneName(sa.ZoneId),
		}
	case *unix.SockaddrUnix:
		if sa == nil {
			return nil
		}
		if !strings.HasPrefix(network, "unix") {
			network = "unix"
		}
		return &net.UnixAddr{Name: sa.Name, Net: network}
	}
	return nil
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
