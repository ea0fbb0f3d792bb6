package sock

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func familyName(f int) string {
	switch f {
	case unix.AF_INET:
		return "AF_INET"
	case unix.AF_INET6:
		return "AF_INET6"
	case unix.AF_UNIX:
		return "AF_UNIX"
	}
	return strconv.Itoa(f)
}

func TestResolveAddrForms(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatalf("no loopback interface: %v", err)
	}
	loIndex := strconv.Itoa(lo.Index)
	tests := []struct {
		network, address string
		family           int
		want             string // ToNetAddr(...).String()
	}{
		{"tcp4", ":9527", unix.AF_INET, "0.0.0.0:9527"},
		{"tcp4", "0.0.0.0:0", unix.AF_INET, "0.0.0.0:0"},
		{"tcp6", ":80", unix.AF_INET6, "[::]:80"},
		{"tcp6", "[::]:80", unix.AF_INET6, "[::]:80"},
		{"tcp", "[::]:80", unix.AF_INET6, "[::]:80"},
		{"tcp", "127.0.0.1:0", unix.AF_INET, "127.0.0.1:0"},
		{"tcp4", "127.0.0.1:65535", unix.AF_INET, "127.0.0.1:65535"},
		{"tcp", "127.0.0.1:", unix.AF_INET, "127.0.0.1:0"},
		{"tcp", "127.0.0.1:http", unix.AF_INET, "127.0.0.1:80"},
		{"tcp", "[::ffff:127.0.0.1]:80", unix.AF_INET, "127.0.0.1:80"},
		{"tcp4", "[::ffff:127.0.0.1]:80", unix.AF_INET, "127.0.0.1:80"},
		{"tcp", "[::1]:80", unix.AF_INET6, "[::1]:80"},
		{"tcp6", "[::1]:0", unix.AF_INET6, "[::1]:0"},
		{"tcp", "[2001:db8::7]:443", unix.AF_INET6, "[2001:db8::7]:443"},
		{"tcp", "[fe80::1%lo]:80", unix.AF_INET6, "[fe80::1%lo]:80"},
		{"tcp", "[fe80::1%" + loIndex + "]:80", unix.AF_INET6, "[fe80::1%lo]:80"},
		{"tcp", "localhost:80", unix.AF_INET, "127.0.0.1:80"},
		{"tcp4", "localhost:80", unix.AF_INET, "127.0.0.1:80"},
		{"unix", "/tmp/x.sock", unix.AF_UNIX, "/tmp/x.sock"},
		{"unix", "relative.sock", unix.AF_UNIX, "relative.sock"},
		{"unix", "@levent-abstract", unix.AF_UNIX, "@levent-abstract"},
		{"unix", strings.Repeat("p", 107), unix.AF_UNIX, strings.Repeat("p", 107)},
	}
	for _, tt := range tests {
		family, sa, err := ResolveAddr(tt.network, tt.address)
		if err != nil {
			t.Errorf("ResolveAddr(%q, %q): got error %v, want %s %s", tt.network, tt.address, err, familyName(tt.family), tt.want)
			continue
		}
		got := ToNetAddr(tt.network, sa)
		if family != tt.family || got == nil || got.String() != tt.want {
			t.Errorf("ResolveAddr(%q, %q): got %s %v, want %s %s", tt.network, tt.address, familyName(family), got, familyName(tt.family), tt.want)
		}
	}
}

// A "tcp" wildcard listens on both stacks when the kernel can map IPv4
// onto IPv6 sockets, and on IPv4 alone when it cannot, as in Go's net.
func TestResolveAddrTCPWildcardFollowsDualStack(t *testing.T) {
	for _, dual := range []bool{true, false} {
		hook(t, &dualStackFunc, func() bool { return dual })
		wantFamily, want := unix.AF_INET, "0.0.0.0:9527"
		if dual {
			wantFamily, want = unix.AF_INET6, "[::]:9527"
		}
		for _, address := range []string{":9527", "0.0.0.0:9527"} {
			family, sa, err := ResolveAddr("tcp", address)
			if err != nil {
				t.Fatalf("dual=%v ResolveAddr(tcp, %q): %v", dual, address, err)
			}
			if got := ToNetAddr("tcp", sa).String(); family != wantFamily || got != want {
				t.Errorf("dual=%v ResolveAddr(tcp, %q): got %s %s, want %s %s", dual, address, familyName(family), got, familyName(wantFamily), want)
			}
		}
	}
}

func TestResolveAddrWildcardMatchesMachine(t *testing.T) {
	family, _, err := ResolveAddr("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	want := unix.AF_INET
	if probeDualStack() {
		want = unix.AF_INET6
	}
	if family != want {
		t.Errorf("ResolveAddr(tcp, :0): got %s, want %s", familyName(family), familyName(want))
	}
}

func TestResolveAddrRejectsBadInput(t *testing.T) {
	var (
		unknownNetwork net.UnknownNetworkError
		addrErr        *net.AddrError
		dnsErr         *net.DNSError
	)
	tests := []struct {
		network, address string
		as               any    // pointer to the error type wanted
		text             string // substring of the message
	}{
		{"udp", "127.0.0.1:80", &unknownNetwork, "unknown network udp"},
		{"", "127.0.0.1:80", &unknownNetwork, "unknown network"},
		{"unixgram", "/tmp/x", &unknownNetwork, "unknown network unixgram"},
		{"TCP", "127.0.0.1:80", &unknownNetwork, "unknown network TCP"},
		{"tcp", "127.0.0.1:65536", &addrErr, "invalid port"},
		{"tcp", "127.0.0.1:-1", &addrErr, "invalid port"},
		{"tcp", "127.0.0.1:99999999999999999999", &addrErr, "invalid port"},
		{"tcp", "127.0.0.1", &addrErr, "missing port"},
		{"tcp", "::1:80", &addrErr, "too many colons"},
		{"tcp", "127.0.0.1:no-such-service", &dnsErr, "unknown port"},
		{"tcp4", "[::1]:80", &addrErr, "does not belong to network tcp4"},
		{"tcp4", "[::]:80", &addrErr, "does not belong to network tcp4"},
		{"tcp6", "127.0.0.1:80", &addrErr, "does not belong to network tcp6"},
		{"tcp6", "0.0.0.0:80", &addrErr, "does not belong to network tcp6"},
		{"tcp6", "[::ffff:127.0.0.1]:80", &addrErr, "does not belong to network tcp6"},
		{"tcp", "[fe80::1%no-such-if0]:80", &addrErr, "unknown IPv6 zone"},
		{"unix", "", &addrErr, "missing unix socket path"},
		{"unix", strings.Repeat("p", 108), &addrErr, "longer than 107 bytes"},
	}
	for _, tt := range tests {
		family, sa, err := ResolveAddr(tt.network, tt.address)
		if err == nil {
			t.Errorf("ResolveAddr(%q, %q): got %s %v, want error %q", tt.network, tt.address, familyName(family), ToNetAddr(tt.network, sa), tt.text)
			continue
		}
		if !errors.As(err, tt.as) || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("ResolveAddr(%q, %q): got error %T %q, want %T containing %q", tt.network, tt.address, err, err, tt.as, tt.text)
		}
		if sa != nil || family != 0 {
			t.Errorf("ResolveAddr(%q, %q) failed but returned %d, %v", tt.network, tt.address, family, sa)
		}
	}
}
