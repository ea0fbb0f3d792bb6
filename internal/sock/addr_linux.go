package sock

import (
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// decodeAddr converts the kernel's socket address of size bytes, as
// accept4 returns it, into the net.Addr that ToNetAddr gives for the same
// address, without the unix.Sockaddr in between: x/sys/unix would allocate
// one only for ToNetAddr to copy it and drop it. It returns nil for a
// family other than AF_INET, AF_INET6 and AF_UNIX, as ToNetAddr does.
//
// rsa is only read, and nothing returned points into it, so the caller's
// RawSockaddrAny stays on its stack.
func decodeAddr(network string, rsa *unix.RawSockaddrAny, size uint32) net.Addr {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		pp := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return newTCPAddr(pp.Addr[:], port(&pp.Port), "")
	case unix.AF_INET6:
		pp := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return newTCPAddr(pp.Addr[:], port(&pp.Port), zoneName(pp.Scope_id))
	case unix.AF_UNIX:
		pp := (*unix.RawSockaddrUnix)(unsafe.Pointer(rsa))
		return &net.UnixAddr{Name: unixName(pp, size), Net: unixNet(network)}
	}
	return nil
}

// port reads a port, which the kernel stores in network byte order.
func port(p *uint16) int {
	b := (*[2]byte)(unsafe.Pointer(p))
	return int(b[0])<<8 | int(b[1])
}

// unixName is the name in a unix socket address of size bytes. The name is
// what follows the family field; an unnamed peer (a client that never
// bound) has none, so its name is empty. Go's net reports "@" for it,
// because syscall decodes the zeroed buffer as an abstract name without
// looking at the length, which makes it look like a socket bound to the
// empty abstract name; levent uses the length and keeps the two apart. A
// leading NUL marks Linux's abstract namespace, written '@' as everywhere
// else in Go; a path name ends at its first NUL.
func unixName(pp *unix.RawSockaddrUnix, size uint32) string {
	n := int(size) - int(unsafe.Offsetof(pp.Path))
	name := unsafe.Slice((*byte)(unsafe.Pointer(&pp.Path[0])), max(0, min(n, len(pp.Path))))
	if len(name) > 0 && name[0] == 0 {
		// Rewritten in a copy, so that rsa is only read; the copy is
		// on the stack and string makes the one allocation.
		var abstract [len(pp.Path)]byte
		copy(abstract[:], name)
		abstract[0] = '@'
		return string(abstract[:len(name)])
	}
	for i, c := range name {
		if c == 0 {
			return string(name[:i])
		}
	}
	return string(name)
}
