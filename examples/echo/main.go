// Command echo is the buffered echo server from the seeds ("带有缓存的回声服务器")
// on levent, with the bufferevent client of the seeds' libevent notes as
// its -client mode.
//
//	echo [-addr :9527] [-quiet]           the server
//	echo -client [-addr 127.0.0.1:9527]   the client
//
// The server listens with a listener (evconnlistener_new_bind) and gives
// each connection a BufferEvent (bufferevent_socket_new) whose read
// callback prints what arrived, "recv from client <<< ...", and writes it
// back. It prints "listening on ADDR" once it accepts connections, and ends
// cleanly, with status 0, on SIGINT or SIGTERM. -quiet stops the
// per-message lines, for load tests: the read callback then hands the
// input to the output whole, without a copy (evbuffer_add_buffer), which is
// all levent's echo benchmark server does. bench/echo.sh measures this
// program so (its levent-example row).
//
// With LEVENT_IOURING=1 in the environment the server runs on levent's
// io_uring backend; where the kernel refuses io_uring it runs on epoll and
// says why on standard error.
//
// The client connects with bufferevent_socket_connect, prints "Connected",
// sends what it reads from standard input and prints each line that comes
// back as "server say: ...". At the end of its input it closes its sending
// side, waits for the server to answer everything and close, prints
// "connection closed" and exits 0; a failed connection ("some other error:
// ...") exits 1.
//
// The original listened on port 9999; this one listens on 9527, the port
// of the seeds' other bufferevent programs, so that client and server
// match.
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
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: echo [-addr host:port] [-quiet] | echo -client [-addr host:port]")
		os.Exit(2)
	}
	var err error
	if *client {
		err = runClient(*addr)
	} else {
		err = runServer(*addr, *quiet)
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

// chomp drops one trailing newline: the programs print what they read
// followed by a newline of their own, where the originals printed the
// peer's newline too.
func chomp(b []byte) []byte {
	return bytes.TrimSuffix(b, []byte("\n"))
}
