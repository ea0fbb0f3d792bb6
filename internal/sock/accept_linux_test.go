package sock

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestAcceptBlockingGivesBlockingCloexecFd(t *testing.T) {
	checkFdLeaks(t)
	fd, addr := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	dial(t, addr)
	nfd, _ := acceptOne(t, fd, true)
	if nonblock, cloexec := fdFlags(t, nfd); nonblock || !cloexec {
		t.Errorf("Accept(blocking) flags: got nonblock=%v cloexec=%v, want false, true", nonblock, cloexec)
	}
}

// failFirst makes accept4 fail with each of errs in turn, then work.
func failFirst(t *testing.T, errs ...unix.Errno) *int {
	calls := 0
	hook(t, &accept4Func, func(fd, flags int) (int, unix.RawSockaddrAny, uint32, error) {
		calls++
		if calls <= len(errs) {
			return -1, unix.RawSockaddrAny{}, 0, errs[calls-1]
		}
		return accept4(fd, flags)
	})
	return &calls
}

func TestAcceptRetriesEINTRAndECONNABORTED(t *testing.T) {
	checkFdLeaks(t)
	fd, addr := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	c := dial(t, addr)
	waitFd(t, fd, unix.POLLIN)
	calls := failFirst(t, unix.EINTR, unix.ECONNABORTED, unix.EINTR)
	nfd, peer, err := Accept(fd, false, "tcp")
	if err != nil {
		t.Fatalf("Accept after EINTR, ECONNABORTED, EINTR: got %v, want the connection", err)
	}
	unix.Close(nfd)
	if *calls != 4 {
		t.Errorf("accept4 calls: got %d, want 4", *calls)
	}
	if got, want := peer.String(), c.LocalAddr().String(); got != want {
		t.Errorf("peer: got %s, want %s", got, want)
	}
}

func TestAcceptReturnsResourceErrorsUnwrapped(t *testing.T) {
	checkFdLeaks(t)
	fd, _ := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	for _, errno := range []unix.Errno{unix.EMFILE, unix.ENFILE, unix.EAGAIN} {
		calls := failFirst(t, errno)
		nfd, peer, err := Accept(fd, false, "tcp")
		if err != errno || nfd != -1 || peer != nil {
			t.Errorf("Accept with %v injected: got %d, %v, %#v, want -1, nil, the bare %v", errno, nfd, peer, err, errno)
		}
		if *calls != 1 {
			t.Errorf("Accept with %v injected: got %d accept4 calls, want 1 (no retry)", errno, *calls)
		}
	}
}

func TestAcceptWrapsOtherErrors(t *testing.T) {
	checkFdLeaks(t)
	_, _, err := Accept(-1, false, "tcp")
	wantSyscallError(t, err, "accept4", unix.EBADF)

	fd, _ := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	failFirst(t, unix.ENOBUFS)
	_, _, err = Accept(fd, false, "tcp")
	wantSyscallError(t, err, "accept4", unix.ENOBUFS)
}

func TestAcceptReportsBoundUnixPeer(t *testing.T) {
	checkFdLeaks(t)
	dir := t.TempDir()
	lfd, _ := listen(t, "unix", filepath.Join(dir, "l.sock"), ListenOptions{})
	for _, name := range []string{
		filepath.Join(dir, "client.sock"),
		"@levent-sock-client-" + strconv.Itoa(os.Getpid()),
	} {
		c := newSocket(t, unix.AF_UNIX)
		if err := unix.Bind(c, &unix.SockaddrUnix{Name: name}); err != nil {
			t.Fatal(err)
		}
		if _, err := Connect(c, &unix.SockaddrUnix{Name: filepath.Join(dir, "l.sock")}); err != nil {
			t.Fatal(err)
		}
		_, peer := acceptOne(t, lfd, false)
		if got, ok := peer.(*net.UnixAddr); !ok || got.Name != name || got.Net != "unix" {
			t.Errorf("bound client's address: got %#v, want unix %q", peer, name)
		}
	}
}

// decodeAddr must give exactly what ToNetAddr gives for the same address
// (Accept's documented promise): the same types, the same IP lengths (4
// bytes for AF_INET, 16 for AF_INET6), the zone name and the unix Net.
func TestDecodeAddrMatchesToNetAddr(t *testing.T) {
	long := "/" + strings.Repeat("x", len(unix.RawSockaddrUnix{}.Path)-2) // fills Path with its NUL
	for _, tt := range []struct {
		network string
		sa      unix.Sockaddr
	}{
		{"tcp", &unix.SockaddrInet4{Port: 9527, Addr: [4]byte{127, 0, 0, 1}}},
		{"tcp", &unix.SockaddrInet4{Port: 65535, Addr: [4]byte{10, 1, 2, 3}}},
		{"tcp", &unix.SockaddrInet6{Port: 443, Addr: [16]byte{15: 1}}},
		{"tcp", &unix.SockaddrInet6{Port: 80, Addr: [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}}},       // v4-mapped
		{"tcp", &unix.SockaddrInet6{Port: 80, Addr: [16]byte{0: 0xfe, 1: 0x80, 15: 1}, ZoneId: 1}},       // lo
		{"tcp", &unix.SockaddrInet6{Port: 80, Addr: [16]byte{0: 0xfe, 1: 0x80, 15: 1}, ZoneId: 1 << 30}}, // no such interface
		{"unix", &unix.SockaddrUnix{Name: ""}},
		{"unix", &unix.SockaddrUnix{Name: "/run/app.sock"}},
		{"unix", &unix.SockaddrUnix{Name: long}},
		{"unix", &unix.SockaddrUnix{Name: "@abstract"}},
		{"unix", &unix.SockaddrUnix{Name: "@"}},
		{"unixpacket", &unix.SockaddrUnix{Name: "/run/app.sock"}},
		{"tcp", &unix.SockaddrUnix{Name: "/run/app.sock"}}, // ListenFd's guess
	} {
		rsa, size, ok := encodeSockaddr(tt.sa)
		if !ok {
			t.Fatalf("cannot encode %#v", tt.sa)
		}
		got, want := decodeAddr(tt.network, &rsa, size), ToNetAddr(tt.network, tt.sa)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decodeAddr(%q, %#v): got %#v, want %#v", tt.network, tt.sa, got, want)
		}
	}
}

func TestDecodeAddrEdgeCases(t *testing.T) {
	var rsa unix.RawSockaddrAny
	rsa.Addr.Family = unix.AF_PACKET
	if got := decodeAddr("tcp", &rsa, unix.SizeofSockaddrLinklayer); got != nil {
		t.Errorf("decodeAddr(AF_PACKET): got %#v, want nil (no net.Addr type for it)", got)
	}
	// An unnamed unix peer: only the family field. Go's net reports "@",
	// which is also what a peer bound to the empty abstract name gets.
	rsa = unix.RawSockaddrAny{}
	rsa.Addr.Family = unix.AF_UNIX
	if got := decodeAddr("unix", &rsa, uint32(unsafe.Sizeof(rsa.Addr.Family))); !reflect.DeepEqual(got, &net.UnixAddr{Net: "unix"}) {
		t.Errorf("decodeAddr(unnamed AF_UNIX): got %#v, want an empty name", got)
	}
	// A length beyond the structure (the kernel reports the real length
	// of an address it truncated) reads no further than Path.
	pp := (*unix.RawSockaddrUnix)(unsafe.Pointer(&rsa))
	for i := range pp.Path {
		pp.Path[i] = 'a'
	}
	want := &net.UnixAddr{Name: strings.Repeat("a", len(pp.Path)), Net: "unix"}
	if got := decodeAddr("unix", &rsa, 4096); !reflect.DeepEqual(got, want) {
		t.Errorf("decodeAddr(unix, size 4096): got %#v, want the %d bytes of Path", got, len(pp.Path))
	}
	// A path name ends at its first NUL, whatever the length says.
	pp.Path[3] = 0
	if got := decodeAddr("unix", &rsa, unix.SizeofSockaddrUnix); !reflect.DeepEqual(got, &net.UnixAddr{Name: "aaa", Net: "unix"}) {
		t.Errorf("decodeAddr(unix path with a NUL): got %#v, want \"aaa\"", got)
	}
	// The abstract rewrite happens in a copy: rsa is left as it was.
	pp.Path[0] = 0
	before := rsa
	decodeAddr("unix", &rsa, unix.SizeofSockaddrUnix)
	if rsa != before {
		t.Errorf("decodeAddr changed the address it decoded")
	}
}

// The IP of an accepted peer is the only memory its address has: an
// append to it copies rather than writing into the bytes behind it.
func TestDecodeAddrIPHasNoSpareCapacity(t *testing.T) {
	rsa, size, _ := encodeSockaddr(&unix.SockaddrInet4{Port: 1, Addr: [4]byte{127, 0, 0, 1}})
	ip := decodeAddr("tcp", &rsa, size).(*net.TCPAddr).IP
	if len(ip) != 4 || cap(ip) != 4 {
		t.Errorf("IPv4 peer's IP: got len %d cap %d, want 4 and 4", len(ip), cap(ip))
	}
}

// acceptAllocs pre-connects runs+1 clients made by dial, with the peer
// addresses they get, and returns the allocations of one Accept (the
// descriptor is closed again, which allocates nothing).
func acceptAllocs(t *testing.T, lfd int, network string, dial func(i int)) float64 {
	t.Helper()
	const runs = 20
	for i := range runs + 1 { // AllocsPerRun calls f once more to warm up
		dial(i)
	}
	pfd := []unix.PollFd{{Fd: int32(lfd), Events: unix.POLLIN}}
	return testing.AllocsPerRun(runs, func() {
		nfd, _, err := Accept(lfd, false, network)
		for err == unix.EAGAIN { // the handshake may still be on its way
			unix.Poll(pfd, 1000)
			nfd, _, err = Accept(lfd, false, network)
		}
		if err != nil {
			t.Fatalf("Accept: %v", err)
		}
		unix.Close(nfd)
	})
}

// Accepting allocates the peer's net.Addr and nothing else: one object for
// a TCP peer and for an unnamed unix peer, two (the address and its name)
// for a bound unix peer. Going through unix.Sockaddr and ToNetAddr took
// three for TCP.
func TestAcceptAllocatesOnlyThePeerAddress(t *testing.T) {
	dir := t.TempDir()
	unixListener := func(t *testing.T) (int, net.Addr) {
		return listen(t, "unix", filepath.Join(t.TempDir(), "l.sock"), ListenOptions{})
	}
	for _, tc := range []struct {
		name   string
		want   float64
		listen func(t *testing.T) (int, net.Addr)
		local  func(i int) net.Addr // the client's own address; nil for none
	}{
		{"tcp4", 1, func(t *testing.T) (int, net.Addr) { return listen(t, "tcp4", "127.0.0.1:0", ListenOptions{}) }, nil},
		{"tcp6", 1, func(t *testing.T) (int, net.Addr) {
			if !hasIPv6Loopback() {
				t.Skip("no ::1 on this machine")
			}
			return listen(t, "tcp6", "[::1]:0", ListenOptions{})
		}, nil},
		{"unix-unnamed", 1, unixListener, nil},
		{"unix-path", 2, unixListener, func(i int) net.Addr {
			return &net.UnixAddr{Name: filepath.Join(dir, "c"+strconv.Itoa(i)+".sock"), Net: "unix"}
		}},
		{"unix-abstract", 2, unixListener, func(i int) net.Addr {
			return &net.UnixAddr{Name: "@levent-sock-allocs-" + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(i), Net: "unix"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFdLeaks(t)
			lfd, addr := tc.listen(t)
			got := acceptAllocs(t, lfd, addr.Network(), func(i int) {
				d := net.Dialer{Timeout: 30 * time.Second}
				if tc.local != nil {
					d.LocalAddr = tc.local(i)
				}
				c, err := d.Dial(addr.Network(), addr.String())
				if err != nil {
					t.Fatalf("dial %v: %v", addr, err)
				}
				t.Cleanup(func() { c.Close() })
			})
			if got != tc.want {
				t.Errorf("allocations per Accept: got %v, want %v", got, tc.want)
			}
		})
	}
}

// AcceptedPeer gives for a connection exactly the address Accept gave with
// it, for every family, at the cost of that address alone.
func TestAcceptedPeerMatchesAccept(t *testing.T) {
	checkFdLeaks(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		network, address string
		local            string // a unix client's own name; "" for none
	}{
		{"tcp4", "127.0.0.1:0", ""},
		{"tcp6", "[::1]:0", ""},
		{"unix", filepath.Join(dir, "l1.sock"), ""},
		{"unix", filepath.Join(dir, "l2.sock"), filepath.Join(dir, "c.sock")},
		{"unix", filepath.Join(dir, "l3.sock"), "@levent-sock-peer-" + strconv.Itoa(os.Getpid())},
	} {
		if tc.network == "tcp6" && !hasIPv6Loopback() {
			continue
		}
		lfd, addr := listen(t, tc.network, tc.address, ListenOptions{})
		if tc.local == "" {
			dial(t, addr)
		} else {
			c := newSocket(t, unix.AF_UNIX)
			if err := unix.Bind(c, &unix.SockaddrUnix{Name: tc.local}); err != nil {
				t.Fatal(err)
			}
			if _, err := Connect(c, &unix.SockaddrUnix{Name: tc.address}); err != nil {
				t.Fatal(err)
			}
		}
		network := tc.network[:len(tc.network)-len("4")]
		if tc.network == "unix" {
			network = "unix"
		}
		nfd, peer := acceptOne(t, lfd, false)
		var got net.Addr
		if allocs := testing.AllocsPerRun(10, func() { got = AcceptedPeer(nfd, network) }); !reflect.DeepEqual(got, peer) || allocs > 2 {
			t.Errorf("%s %s: AcceptedPeer = %#v with %v allocations, want %#v as Accept gave, with at most 2", tc.network, tc.local, got, allocs, peer)
		}
	}
}

// A TCP connection reset after it was accepted still has its peer's
// address, as accept4 reports it for one reset in the backlog, although
// getpeername says ENOTCONN.
func TestAcceptedPeerOfAResetConnection(t *testing.T) {
	checkFdLeaks(t)
	lfd, addr := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	c := dial(t, addr).(*net.TCPConn)
	nfd, peer := acceptOne(t, lfd, false)
	c.SetLinger(0)
	c.Close()
	if revents := waitFd(t, nfd, unix.POLLIN); revents&(unix.POLLHUP|unix.POLLERR) == 0 {
		t.Fatalf("poll after the reset: %#x, want HUP or ERR", revents)
	}
	if _, err := unix.Getpeername(nfd); err != unix.ENOTCONN {
		t.Fatalf("getpeername after the reset: %v, want ENOTCONN", err)
	}
	if got := AcceptedPeer(nfd, "tcp"); !reflect.DeepEqual(got, peer) {
		t.Errorf("AcceptedPeer after the reset = %#v, want %#v", got, peer)
	}
}
