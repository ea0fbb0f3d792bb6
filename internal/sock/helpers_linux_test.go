package sock

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	// The first net.Dial of a test opens the runtime's own epoll instance
	// and wake-up descriptor, which stay open for the life of the process.
	// Open them now so the descriptor counts of the tests do not see them.
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
	}
	dualStackFunc()
	defaultBacklog()
	os.Exit(m.Run())
}

// checkFdLeaks records the open descriptors now and, when the test ends,
// fails it if their number has changed. Call it first in a test so that its
// cleanup runs after every other one.
func checkFdLeaks(t *testing.T) {
	t.Helper()
	before := openFds(t)
	t.Cleanup(func() {
		after := openFds(t)
		if len(after) != len(before) {
			t.Errorf("open descriptors: got %d, want %d\nbefore: %s\nafter:  %s",
				len(after), len(before), strings.Join(before, " "), strings.Join(after, " "))
		}
	})
}

// openFds lists the process's open descriptors as "fd->target". The
// descriptor ReadDir used for the listing is closed by the time Readlink
// runs, so it drops out.
func openFds(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("read /proc/self/fd: %v", err)
	}
	var fds []string
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil {
			continue
		}
		fds = append(fds, e.Name()+"->"+target)
	}
	sort.Strings(fds)
	return fds
}

// hook replaces *p with v for the rest of the test.
func hook[T any](t *testing.T, p *T, v T) {
	t.Helper()
	old := *p
	*p = v
	t.Cleanup(func() { *p = old })
}

// waitFd waits, generously, until fd reports one of events and returns what
// it reported.
func waitFd(t *testing.T, fd int, events int16) int16 {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := unix.Poll(fds, 1000)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("poll fd %d: %v", fd, err)
		}
		if n > 0 {
			return fds[0].Revents
		}
		if time.Now().After(deadline) {
			t.Fatalf("poll fd %d for %#x: nothing after 30s", fd, events)
		}
	}
}

// listen calls Listen and closes the socket when the test ends.
func listen(t *testing.T, network, address string, o ListenOptions) (int, net.Addr) {
	t.Helper()
	fd, addr, err := Listen(network, address, o)
	if err != nil {
		t.Fatalf("Listen(%q, %q): %v", network, address, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd, addr
}

// dial connects a net.Conn client and closes it when the test ends.
func dial(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(addr.Network(), addr.String(), 30*time.Second)
	if err != nil {
		t.Fatalf("dial %v: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// acceptOne waits until lfd has a connection, accepts it and closes it when
// the test ends. The network passed to Accept only names the Net of a unix
// peer's address, and every unix socket of these tests is a "unix" one.
func acceptOne(t *testing.T, lfd int, blocking bool) (int, net.Addr) {
	t.Helper()
	waitFd(t, lfd, unix.POLLIN)
	nfd, peer, err := Accept(lfd, blocking, "unix")
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	t.Cleanup(func() { unix.Close(nfd) })
	return nfd, peer
}

// fdFlags returns whether fd is non-blocking and close-on-exec.
func fdFlags(t *testing.T, fd int) (nonblock, cloexec bool) {
	t.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatalf("F_GETFL: %v", err)
	}
	fd2, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatalf("F_GETFD: %v", err)
	}
	return fl&unix.O_NONBLOCK != 0, fd2&unix.FD_CLOEXEC != 0
}

func sockoptInt(t *testing.T, fd, level, opt int) int {
	t.Helper()
	v, err := unix.GetsockoptInt(fd, level, opt)
	if err != nil {
		t.Fatalf("getsockopt(%d, %d): %v", level, opt, err)
	}
	return v
}

// hasIPv6Loopback reports whether ::1 can be bound here.
func hasIPv6Loopback() bool {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.Bind(fd, &unix.SockaddrInet6{Addr: [16]byte{15: 1}}) == nil
}

// wantSyscallError fails the test unless err is an *os.SyscallError for
// call that matches errno.
func wantSyscallError(t *testing.T, err error, call string, errno unix.Errno) {
	t.Helper()
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != call || !errors.Is(err, errno) {
		t.Fatalf("error: got %#v (%v), want *os.SyscallError{%q, %v}", err, err, call, errno)
	}
}

// newSocket calls Socket for a stream socket and closes it when the test
// ends.
func newSocket(t *testing.T, family int) int {
	t.Helper()
	fd, err := Socket(family, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// rawSocket creates a socket with exactly the flags in sotype, as a user
// or a parent process might, and closes it when the test ends.
func rawSocket(t *testing.T, family, sotype int) int {
	t.Helper()
	fd, err := unix.Socket(family, sotype, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// wantAddrInUse fails the test unless Listen fails with EADDRINUSE and
// returns fd -1.
func wantAddrInUse(t *testing.T, network, address string, o ListenOptions) error {
	t.Helper()
	fd, _, err := Listen(network, address, o)
	if fd >= 0 {
		unix.Close(fd)
	}
	if !errors.Is(err, unix.EADDRINUSE) || fd != -1 {
		t.Fatalf("Listen(%q, %q, %+v): got fd %d, %v, want -1, EADDRINUSE", network, address, o, fd, err)
	}
	return err
}

// encodeSockaddr writes sa in the kernel's raw form, with the length the
// kernel reports for it (a path name counts its terminating NUL, an
// abstract one does not, an unnamed unix address is the family alone), so
// that decodeAddr can be checked against ToNetAddr. ok is false for a
// family other than AF_INET, AF_INET6 and AF_UNIX.
func encodeSockaddr(sa unix.Sockaddr) (rsa unix.RawSockaddrAny, size uint32, ok bool) {
	putPort := func(p *uint16, port int) {
		b := (*[2]byte)(unsafe.Pointer(p))
		b[0], b[1] = byte(port>>8), byte(port)
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		pp := (*unix.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		pp.Family, pp.Addr = unix.AF_INET, sa.Addr
		putPort(&pp.Port, sa.Port)
		return rsa, unix.SizeofSockaddrInet4, true
	case *unix.SockaddrInet6:
		pp := (*unix.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		pp.Family, pp.Addr, pp.Scope_id = unix.AF_INET6, sa.Addr, sa.ZoneId
		putPort(&pp.Port, sa.Port)
		return rsa, unix.SizeofSockaddrInet6, true
	case *unix.SockaddrUnix:
		pp := (*unix.RawSockaddrUnix)(unsafe.Pointer(&rsa))
		pp.Family = unix.AF_UNIX
		name := []byte(sa.Name)
		size = uint32(unsafe.Offsetof(pp.Path))
		if len(name) > 0 {
			size += uint32(len(name)) + 1 // the NUL
			if name[0] == '@' {
				name[0] = 0
				size-- // no NUL after an abstract name
			}
		}
		for i, c := range name {
			pp.Path[i] = int8(c)
		}
		return rsa, size, true
	}
	return rsa, 0, false
}
