package sock

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// ResolveAddr turns a Go-style network and address into the socket family
// and address to give socket(2), bind(2) or connect(2).
//
// Networks are "tcp", "tcp4", "tcp6" and "unix". TCP addresses are written
// as for net.Listen: ":9527", "127.0.0.1:0", "[::1]:80", "[fe80::1%eth0]:80",
// "localhost:80", "127.0.0.1:http". A host name is resolved with
// net.DefaultResolver and a service name with its LookupPort: that may read
// /etc/hosts and /etc/services or ask a DNS server, so it may block for as
// long as the resolver's timeouts; callers that must not block resolve
// before they get on the event loop, or pass literal addresses. For "tcp"
// the first IPv4 address of a name is taken if it has one, as net.Listen
// does.
//
// With "tcp", a wildcard host ("", "0.0.0.0" or "::") means both IPv4 and
// IPv6: AF_INET6 and the address "::", which Listen makes dual-stack, when
// the system can map IPv4 onto IPv6 sockets, else AF_INET and "0.0.0.0".
// Go's net package makes the same choice. "tcp4" and "tcp6" take only
// addresses of their own family.
//
// A unix address is a path, or a name in Linux's abstract namespace when it
// starts with '@'. The path may not be empty or longer than 107 bytes.
//
// Errors are those of Go's net package: net.UnknownNetworkError,
// *net.AddrError for a bad address or port and *net.DNSError from the
// resolver.
func ResolveAddr(network, address string) (family int, sa unix.Sockaddr, err error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
		return resolveTCP(network, address)
	case "unix":
		return resolveUnix(address)
	}
	return 0, nil, net.UnknownNetworkError(network)
}

func resolveUnix(address string) (int, unix.Sockaddr, error) {
	// x/sys/unix needs room for the terminating NUL.
	const maxPath = len(unix.RawSockaddrUnix{}.Path) - 1
	switch {
	case address == "":
		return 0, nil, &net.AddrError{Err: "missing unix socket path"}
	case len(address) > maxPath:
		return 0, nil, &net.AddrError{Err: "unix socket path longer than " + strconv.Itoa(maxPath) + " bytes", Addr: address}
	}
	return unix.AF_UNIX, &unix.SockaddrUnix{Name: address}, nil
}

func resolveTCP(network, address string) (int, unix.Sockaddr, error) {
	host, service, err := net.SplitHostPort(address)
	if err != nil {
		return 0, nil, err
	}
	port, err := resolvePort(network, service, address)
	if err != nil {
		return 0, nil, err
	}
	ip, err := resolveHost(network, host, address)
	if err != nil {
		return 0, nil, err
	}
	if ip.IsUnspecified() && network == "tcp" && dualStackFunc() {
		return unix.AF_INET6, &unix.SockaddrInet6{Port: port}, nil
	}
	if ip.Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: port, Addr: ip.As4()}, nil
	}
	zone, err := zoneIndex(ip.Zone(), address)
	if err != nil {
		return 0, nil, err
	}
	return unix.AF_INET6, &unix.SockaddrInet6{Port: port, Addr: ip.As16(), ZoneId: zone}, nil
}

// resolvePort accepts a decimal port from 0 to 65535, an empty port (0, as
// in Go) or a service name.
func resolvePort(network, service, address string) (int, error) {
	if service == "" {
		return 0, nil
	}
	port, err := strconv.Atoi(service)
	if err != nil && errors.Is(err, strconv.ErrSyntax) {
		// Not a number: a service name such as "http".
		return net.DefaultResolver.LookupPort(context.Background(), network, service)
	}
	if err != nil || port < 0 || port > 65535 {
		return 0, &net.AddrError{Err: "invalid port", Addr: address}
	}
	return port, nil
}

// resolveHost returns the address to use for host, unmapped (an IPv4
// address is always in its 4-byte form), or the unspecified address of the
// network's family for an empty host.
func resolveHost(network, host, address string) (netip.Addr, error) {
	if host == "" {
		if network == "tcp6" {
			return netip.IPv6Unspecified(), nil
		}
		return netip.IPv4Unspecified(), nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Is4In6() && network != "tcp6" {
			// Go's net treats ::ffff:a.b.c.d as IPv4; "tcp6" rejects it.
			ip = ip.Unmap()
		}
		if !fitsNetwork(network, ip) {
			return netip.Addr{}, &net.AddrError{Err: "address does not belong to network " + network, Addr: address}
		}
		return ip, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip"+network[len("tcp"):], host)
	if err != nil {
		return netip.Addr{}, err
	}
	var v6 netip.Addr
	for _, ip := range ips {
		if ip.Is4In6() && network != "tcp6" {
			ip = ip.Unmap()
		}
		switch {
		case !fitsNetwork(network, ip):
		case ip.Is4():
			return ip, nil
		case !v6.IsValid():
			v6 = ip
		}
	}
	if !v6.IsValid() {
		return netip.Addr{}, &net.AddrError{Err: "no suitable address found", Addr: address}
	}
	return v6, nil
}

func fitsNetwork(network string, ip netip.Addr) bool {
	switch network {
	case "tcp4":
		return ip.Is4()
	case "tcp6":
		return ip.Is6() && !ip.Is4In6()
	}
	return true
}

// zoneIndex turns the zone of an IPv6 address ("eth0" or "2") into the
// interface index the kernel wants.
func zoneIndex(zone, address string) (uint32, error) {
	if zone == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, &net.AddrError{Err: "unknown IPv6 zone " + zone, Addr: address}
	}
	return uint32(ifi.Index), nil
}

// dualStackFunc reports whether an AF_INET6 socket can also carry IPv4
// (IPv4-mapped addresses). A variable so that tests can take the IPv4-only
// path.
var dualStackFunc = sync.OnceValue(probeDualStack)

// probeDualStack binds an IPv6 socket with IPV6_V6ONLY off to the mapped
// loopback address ::ffff:127.0.0.1, as Go's net does in
// ipStackCapabilities: that fails when the kernel has no IPv6 or cannot map
// IPv4 onto it. It bypasses the hooks so that a test's injected failure
// cannot change the answer for the rest of the process.
func probeDualStack() bool {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	if unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0) != nil {
		return false
	}
	sa := &unix.SockaddrInet6{Addr: netip.AddrFrom4([4]byte{127, 0, 0, 1}).As16()}
	return unix.Bind(fd, sa) == nil
}
