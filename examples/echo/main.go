// Command echo is the buffered echo server from the seeds ("带有缓存的回声服务器")
// on levent, with the bufferevent client of the seeds' libevent notes as
// its -client mode.
//
//	echo [-addr :9527] [-quiet] [-tls-cert FILE -tls-key FILE]   the server
//	echo -client [-addr 127.0.0.1:9527] [-tls [-tls-ca FILE] [-tls-insecure]]
//
// The server listens with a listener (evconnlistener_new_bind) and gives
// each connection a BufferEvent (bufferevent_socket_new). It prints
// "listening on ADDR" once it accepts connections, "accept a client ADDR"
// for each, and ends cleanly, with status 0, on SIGINT or SIGTERM.
//
// Its read callback takes one message, prints it and writes it back, as
// the original did, byte for byte. A message is what one read of at most
// 1024 bytes (the original's BUFLEN) takes from the connection's input,
// seen as a C string: up to its first NUL. It is printed as
// printf("recv from client <<< %s\n") printed it, so "hello\n" is
// followed by a blank line, and the message alone is written back, the
// strlen of the buffer: "a\x00b\n" is answered "a", and a message of
// NULs with nothing. Bytes beyond 1024 that arrived at once wait in the
// input, as they did in the original, until the client sends more. The
// tests compare it with the seed's C server (testdata/echo_server.c) over
// the wire.
//
// -quiet stops the per-message lines, for load tests, and echoes every
// byte: the read callback then hands the input to the output whole,
// without a copy (evbuffer_add_buffer), which is all levent's echo
// benchmark server does. bench/echo.sh measures this program so (its
// levent-example row).
//
// With -tls-cert and -tls-key, PEM files, the server speaks TLS (1.2 and
// 1.3, crypto/tls): each accepted connection is a TLS BufferEvent
// (bufferevent.NewTLS, TLSAccepting; libevent's
// bufferevent_openssl_socket_new with BUFFEREVENT_SSL_ACCEPTING) whose
// callbacks see plaintext, and a failed handshake is reported as "some
// other error: ...". openssl s_client or "echo -client -tls" talk to it.
//
// With LEVENT_IOURING=1 in the environment the server runs on levent's
// io_uring backend; where the kernel refuses io_uring it runs on epoll and
// says why on standard error.
//
// The client connects with bufferevent_socket_connect, prints "Connected",
// and sends what it reads from standard input as it was read. Each
// message that comes back (a read of at most 1024 bytes, up to its first
// NUL, as the original's read_cb saw it) is printed as "server say: ...",
// without its trailing newline. At the end of its input it closes its
// sending side, waits for the server to answer everything and close,
// prints "connection closed" and exits 0; a failed connection ("some
// other error: ...") exits 1. With -tls it speaks TLS (bufferevent.NewTLS,
// TLSConnecting), verifying the server's certificate for the host of
// -addr against the system's CAs, or those of the PEM file -tls-ca;
// -tls-insecure skips the verification.
//
// The original server listened on port 9999; this one listens on 9527,
// the port of the seeds' other bufferevent programs, so that client and
// server match.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"syscall"

	"github.com/levent-go/levent/event"
)

func main() {
	addr := flag.String("addr", ":9527", "address to listen on; with -client, the server's (an empty host is 127.0.0.1)")
	client := flag.Bool("client", false, "run the client: send standard input, print what comes back")
	quiet := flag.Bool("quiet", false, "server: do not print each message")
	var tc tlsFlags
	flag.StringVar(&tc.cert, "tls-cert", "", "server: serve TLS with this PEM certificate (chain) file; needs -tls-key")
	flag.StringVar(&tc.key, "tls-key", "", "server: the PEM private key of -tls-cert")
	flag.BoolVar(&tc.client, "tls", false, "client: speak TLS to the server")
	flag.StringVar(&tc.ca, "tls-ca", "", "client: trust the CA certificates of this PEM file instead of the system's; needs -tls")
	flag.BoolVar(&tc.insecure, "tls-insecure", false, "client: do not verify the server's certificate; needs -tls")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: echo [-addr host:port] [-quiet] [-tls-cert FILE -tls-key FILE]\n"+
			"       echo -client [-addr host:port] [-tls [-tls-ca FILE] [-tls-insecure]]")
		os.Exit(2)
	}
	err := tc.check(*client)
	if err == nil {
		if *client {
			err = runClient(*addr, tc)
		} else {
			err = runServer(*addr, *quiet, tc)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

// stopOnSignals makes SIGINT and SIGTERM end the loop, so that the program
// cleans up after Dispatch returns and exits 0 instead of being killed.
// The originals had no such event: Ctrl+C killed them before their
// clean-up code ran.
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
// what the originals printed and measured with strlen.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// chomp drops one trailing newline: the client prints what it read
// followed by a newline of its own, where the original printed the
// peer's newline too.
func chomp(b []byte) []byte {
	return bytes.TrimSuffix(b, []byte("\n"))
}
