package sock

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
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
	hook(t, &accept4Func, func(fd, flags int) (int, unix.Sockaddr, error) {
		calls++
		if calls <= len(errs) {
			return -1, nil, errs[calls-1]
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
	nfd, sa, err := Accept(fd, false)
	if err != nil {
		t.Fatalf("Accept after EINTR, ECONNABORTED, EINTR: got %v, want the connection", err)
	}
	unix.Close(nfd)
	if *calls != 4 {
		t.Errorf("accept4 calls: got %d, want 4", *calls)
	}
	if got, want := ToNetAddr("tcp", sa).String(), c.LocalAddr().String(); got != want {
		t.Errorf("peer: got %s, want %s", got, want)
	}
}

func TestAcceptReturnsResourceErrorsUnwrapped(t *testing.T) {
	checkFdLeaks(t)
	fd, _ := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	for _, errno := range []unix.Errno{unix.EMFILE, unix.ENFILE, unix.EAGAIN} {
		calls := failFirst(t, errno)
		nfd, sa, err := Accept(fd, false)
		if err != errno || nfd != -1 || sa != nil {
			t.Errorf("Accept with %v injected: got %d, %v, %#v, want -1, nil, the bare %v", errno, nfd, sa, err, errno)
		}
		if *calls != 1 {
			t.Errorf("Accept with %v injected: got %d accept4 calls, want 1 (no retry)", errno, *calls)
		}
	}
}

func TestAcceptWrapsOtherErrors(t *testing.T) {
	checkFdLeaks(t)
	_, _, err := Accept(-1, false)
	wantSyscallError(t, err, "accept4", unix.EBADF)

	fd, _ := listen(t, "tcp4", "127.0.0.1:0", ListenOptions{})
	failFirst(t, unix.ENOBUFS)
	_, _, err = Accept(fd, false)
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
		_, sa := acceptOne(t, lfd, false)
		if got, ok := ToNetAddr("unix", sa).(*net.UnixAddr); !ok || got.Name != name {
			t.Errorf("bound client's address: got %#v, want %q", ToNetAddr("unix", sa), name)
		}
	}
}

func TestDecodeSockaddrLeavesOtherFamiliesToGetpeername(t *testing.T) {
	var rsa unix.RawSockaddrAny
	rsa.Addr.Family = unix.AF_PACKET
	if sa, ok := decodeSockaddr(&rsa, unix.SizeofSockaddrLinklayer); ok {
		t.Errorf("decodeSockaddr(AF_PACKET): got %#v, true, want nil, false", sa)
	}
	// An unnamed unix peer: only the family field.
	rsa = unix.RawSockaddrAny{}
	rsa.Addr.Family = unix.AF_UNIX
	sa, ok := decodeSockaddr(&rsa, uint32(unsafe.Sizeof(rsa.Addr.Family)))
	if u, isUnix := sa.(*unix.SockaddrUnix); !ok || !isUnix || u.Name != "" {
		t.Errorf("decodeSockaddr(unnamed AF_UNIX): got %#v, %v, want an empty name", sa, ok)
	}
}
