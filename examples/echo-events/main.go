// Command echo-events is the pair of libevent echo programs from the seeds
// ("回声服务器案例一" and "回声服务器案例二") on levent, written with plain
// events, no bufferevent.
//
//	echo-events ip port            the server
//	echo-events -client ip port    the interactive client
//
// The server (case one) listens on ip:port with a persistent read event,
// greets each new connection with "Welcome.\n", and answers every message
// with "->" and the message; a message that starts with "quit" (in any
// case) closes the connection. A message is what one read of at most 1021
// bytes gets, up to its first NUL, as the original read it into a C
// string: "hello\x00" and "hello" are both answered "->hello", and bytes
// after a NUL in the same read are dropped, as they were. Each connection
// has one event, re-assigned between Write (a reply to send) and Read
// (waiting for the client), as the original does with event_set; here the
// event lives inside the connection's struct and Assign is event_assign.
//
// The client (case two's client.c) connects, then watches standard input
// and the socket with two persistent read events. Each read of standard
// input, at most 1023 bytes, is a message: it goes to the server with its
// last newline turned into a NUL, as the original sent it, and each reply
// is printed as "recv from server <<< ..." up to its first NUL. A message
// that starts with "exit" is followed by 1024 NUL bytes, and 100 ms later
// the client closes the connection and ends; so does the server closing
// the connection (after "quit"), and the end of standard input (after the
// server has answered what was sent). It is a flag of the same command,
// not a second program, so that one build serves both ends. Both talk to
// the seeds' C programs as those talked to each other: the client to case
// one's and case two's servers, the server to case two's client.
//
// Both end cleanly, with status 0, on SIGINT or SIGTERM.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"syscall"

	"github.com/levent-go/levent/event"
)

func main() {
	client := flag.Bool("client", false, "run the interactive client instead of the server")
	flag.Parse()
	if flag.NArg() != 2 {
		if *client {
			fmt.Fprintln(os.Stderr, "please input 2 parameters!")
		}
		fmt.Fprintln(os.Stderr, "usage: echo-events [-client] ip port")
		os.Exit(2)
	}
	ip, port, err := parseAddr(flag.Arg(0), flag.Arg(1))
	if err == nil {
		if *client {
			err = runClient(ip, port)
		} else {
			err = runServer(ip, port)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo-events:", err)
		os.Exit(1)
	}
}

// parseAddr checks the ip and port arguments. The original passed them to
// inet_addr and atoi unchecked, so a typo in the port meant port 0, any
// free port.
func parseAddr(ipArg, portArg string) ([4]byte, int, error) {
	ip, err := netip.ParseAddr(ipArg)
	if err != nil || !ip.Is4() {
		return [4]byte{}, 0, fmt.Errorf("%q is not an IPv4 address", ipArg)
	}
	port, err := strconv.Atoi(portArg)
	if err != nil || port < 0 || port > 65535 {
		return [4]byte{}, 0, fmt.Errorf("%q is not a port number", portArg)
	}
	return ip.As4(), port, nil
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

// cString is b up to its first NUL, as C's string functions see a buffer:
// what the originals printed, compared and measured with strlen.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// chomp drops one trailing newline. The programs print what they read
// followed by a newline of their own; the originals printed the peer's
// newline too, or none when the peer sent none.
func chomp(b []byte) []byte {
	return bytes.TrimSuffix(b, []byte("\n"))
}
