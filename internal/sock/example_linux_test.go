package sock_test

import (
	"fmt"

	"github.com/levent-go/levent/internal/sock"
	"golang.org/x/sys/unix"
)

// A listener and a client on the loopback interface, with the steps an
// event loop would take between readiness reports written out as polls.
func Example() {
	lfd, addr, err := sock.Listen("tcp4", "127.0.0.1:0", sock.ListenOptions{ReuseAddr: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sock.Close(lfd)

	// Nothing is waiting yet: Accept says so with the bare EAGAIN.
	_, _, err = sock.Accept(lfd, false, "tcp")
	fmt.Println("empty backlog:", err == unix.EAGAIN)

	family, sa, _ := sock.ResolveAddr("tcp4", addr.String())
	cfd, _ := sock.Socket(family, unix.SOCK_STREAM, 0)
	defer sock.Close(cfd)
	if inProgress, err := sock.Connect(cfd, sa); err != nil {
		fmt.Println(err)
		return
	} else if inProgress {
		unix.Poll([]unix.PollFd{{Fd: int32(cfd), Events: unix.POLLOUT}}, 30000)
	}
	fmt.Println("connect:", sock.SocketError(cfd))

	unix.Poll([]unix.PollFd{{Fd: int32(lfd), Events: unix.POLLIN}}, 30000)
	nfd, peer, err := sock.Accept(lfd, false, "tcp")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sock.Close(nfd)
	local, _ := sock.LocalAddr(cfd, "tcp")
	fmt.Println("peer is the client:", peer.String() == local.String())
	// Output:
	// empty backlog: true
	// connect: <nil>
	// peer is the client: true
}
