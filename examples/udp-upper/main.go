// Command udp-upper is the UDP uppercase server from the seeds ("UDP通信",
// "# UDP") rewritten on levent, with its client.
//
//	udp-upper [-addr :6666]                         the server
//	udp-upper -client [-addr 127.0.0.1:6666] [-wait 1s]   the client
//
// A message is one datagram. The client's is a line of its standard
// input as fgets(buf, BUFSIZ, stdin) gave it, newline included, a line
// longer than 8191 bytes in pieces of 8191, sent up to its first NUL byte
// (sendto of strlen(buf) bytes). The server's answer is the datagram it
// received, as many bytes, in upper case.
//
// The server's "while (1) { recvfrom; toupper; sendto; }" becomes a
// persistent read event on the UDP socket: each datagram is answered with
// its ASCII letters in upper case (toupper in the C locale; other bytes,
// UTF-8 and NUL included, pass unchanged) and logged as "received from IP
// at PORT N". It answers the whole datagram, up to 65535 bytes, as the
// notes' server (BUFSIZ, 8192 bytes) answers every line its client can
// send; the other notes' server (MAXLINE, 80 bytes) cut longer datagrams
// at 80, losing the rest. It ends cleanly, with status 0, on SIGINT or
// SIGTERM.
//
// The client sends its lines and prints every reply as it arrives, from
// two persistent read events (standard input and the socket) instead of
// the original's lock-step fgets, sendto, recvfrom: the same datagrams go
// out, without waiting for each answer. At the end of its input it waits
// for the outstanding replies, at most -wait, and exits 1 if some never
// came (UDP may lose them; the original waited forever).
package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// servPort is SERV_PORT of the "# UDP" notes (seed 002); "UDP通信" (seed
// 000) used 8000.
const servPort = 6666

func main() {
	client := flag.Bool("client", false, "run the client: send standard input's lines, print the replies")
	addr := flag.String("addr", ":"+strconv.Itoa(servPort), "server address; an empty host means any address (server) or 127.0.0.1 (client)")
	wait := flag.Duration("wait", time.Second, "how long the client waits for the last replies after the end of its input")
	flag.Parse()
	if flag.NArg() != 0 || *wait < 0 {
		fmt.Fprintln(os.Stderr, "usage: udp-upper [-addr host:port] | udp-upper -client [-addr host:port] [-wait d]")
		os.Exit(2)
	}
	var err error
	if *client {
		var sa *unix.SockaddrInet4
		if sa, err = parseAddr(*addr, [4]byte{127, 0, 0, 1}); err == nil {
			err = runClient(sa, *wait)
		}
	} else {
		var sa *unix.SockaddrInet4
		if sa, err = parseAddr(*addr, [4]byte{}); err == nil { // htonl(INADDR_ANY)
			err = runServer(sa)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "udp-upper:", err)
		os.Exit(1)
	}
}

// parseAddr turns "host:port" into an IPv4 socket address; an empty host
// is emptyHost.
func parseAddr(s string, emptyHost [4]byte) (*unix.SockaddrInet4, error) {
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("%q is not a port number", portStr)
	}
	sa := &unix.SockaddrInet4{Port: port, Addr: emptyHost}
	if host != "" {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is4() {
			return nil, fmt.Errorf("%q is not an IPv4 address", host)
		}
		sa.Addr = ip.As4()
	}
	return sa, nil
}

// udpSocket returns a non-blocking, close-on-exec UDP socket:
// socket(AF_INET, SOCK_DGRAM, 0).
func udpSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("fcntl", err)
	}
	return fd, nil
}

// stopOnSignals makes SIGINT and SIGTERM end the loop, so that the program
// cleans up after Dispatch returns and exits 0 instead of being killed.
func stopOnSignals(base *event.Base) error {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		// evsignal_new(base, sig, stop_cb, base)
		ev, err := event.NewSignal(base, sig, func(int, event.Flag) { base.LoopExit(0) })
		if err != nil {
			return err
		}
		if err := ev.Add(0); err != nil { // event_add(ev, NULL)
			return err
		}
	}
	return nil
}
