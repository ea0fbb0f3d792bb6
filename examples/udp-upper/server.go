package main

import (
	"fmt"
	"net/netip"
	"os"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// maxDatagram is the largest UDP payload. The original's buffer was MAXLINE
// (80) bytes, and recvfrom silently drops the rest of a longer datagram, so
// long lines came back cut.
const maxDatagram = 65535

func runServer(servaddr *unix.SockaddrInet4) error {
	sockfd, err := udpSocket() // sockfd = socket(AF_INET, SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(sockfd) // close(sockfd)
	// bind(sockfd, (struct sockaddr *)&servaddr, sizeof(servaddr)): the
	// original ignored a failure and served nothing.
	if err := unix.Bind(sockfd, servaddr); err != nil {
		return os.NewSyscallError("bind", err)
	}

	base, err := event.NewBase() // event_base_new()
	if err != nil {
		return err
	}
	defer base.Close() // event_base_free(base)
	buf := make([]byte, maxDatagram)
	// while (1) { n = recvfrom(...); ... sendto(...); } becomes
	// event_new(base, sockfd, EV_READ|EV_PERSIST, echo_upper_cb, buf)
	ev, err := event.New(base, sockfd, event.Read|event.Persist,
		func(fd int, _ event.Flag) { echoUpper(fd, buf) })
	if err != nil {
		return err
	}
	defer ev.Free()                   // event_free(ev), before close(sockfd)
	if err := ev.Add(0); err != nil { // event_add(ev, NULL)
		return err
	}
	if err := stopOnSignals(base); err != nil {
		return err
	}
	fmt.Println("Accepting connections ...")
	return base.Dispatch() // event_base_dispatch(base)
}

// echoUpper is one turn of the original's loop: one datagram in, the same
// datagram in upper case back to its sender.
func echoUpper(fd int, buf []byte) {
	// n = recvfrom(sockfd, buf, MAXLINE, 0, (struct sockaddr *)&cliaddr, &cliaddr_len)
	n, cliaddr, err := unix.Recvfrom(fd, buf, 0)
	if err == unix.EAGAIN || err == unix.EINTR {
		return
	}
	if err != nil {
		// The original printed the error and went on with n == -1, into
		// toupper and a sendto of (size_t)-1 bytes.
		fmt.Fprintf(os.Stderr, "recvfrom error: %v\n", err)
		return
	}
	if a, ok := cliaddr.(*unix.SockaddrInet4); ok {
		fmt.Printf("received from %s at PORT %d\n", netip.AddrFrom4(a.Addr), a.Port)
	}
	// for (i = 0; i < n; i++) buf[i] = toupper(buf[i]);
	for i, c := range buf[:n] {
		if 'a' <= c && c <= 'z' {
			buf[i] = c - ('a' - 'A')
		}
	}
	// n = sendto(sockfd, buf, n, 0, (struct sockaddr *)&cliaddr, sizeof(cliaddr))
	if err := unix.Sendto(fd, buf[:n], 0, cliaddr); err != nil {
		// A full send buffer (EAGAIN) drops the reply, as the network may.
		fmt.Fprintf(os.Stderr, "sendto error: %v\n", err)
	}
}
