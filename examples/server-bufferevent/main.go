// Command server-bufferevent is the two libevent TCP servers of the seeds
// on levent, which differ only in what they print and answer, and the
// blocking test client of the second.
//
//	server-bufferevent [-mode reply] [-addr :9527]            the libevent notes' server
//	server-bufferevent -mode print [-addr 127.0.0.1:8000]     the "Libevent 服务器" post's server
//	server-bufferevent -client [-mode m] [-addr host:port]    the post's test client
//
// Both servers accept with a listener (evconnlistener_new_bind) and give
// each connection a BufferEvent (bufferevent_socket_new) that reads
// messages: a message is what one bufferevent_read of the original took
// from the input, at most 1024 bytes (-mode reply) or 128 (-mode print);
// see message.go. A message is printed as the original's printf("%s")
// showed it, up to its first NUL, and without a line ending.
//
// -mode reply prints "connect new client" for each connection, "client
// say: MSG" for each message, and answers each message with the
// original's bytes: "我是服务器，已经成功收到你发送的数据" ("I am the
// server, received your data") and a NUL; its write callback prints "I'm
// the server, wrote data to the client successfully, write callback
// called..." each time the answers are out.
//
// -mode print prints "server accepted connection FD", "read MSG" for each
// message, "event occurred! HEX (NAMES)" for the end of a connection or an
// error, and "client FD offline" when a client hangs up. Its default
// address is 127.0.0.1:8000, as in the post, whose server really listened
// on port 16415: it stored 8000 in sin_port without htons, so its client,
// which did use htons, got "Connection refused". levent takes the address
// as a string, "127.0.0.1:8000", and the byte order is not the program's
// business any more.
//
// The client connects (blocking, as the original), prints "Input:", sends
// each word read from standard input as the original did, a 128-byte
// message of the word padded with NUL bytes, and exits 0 at the end of its
// input.
//
// The servers print "listening on ADDR" once they accept connections. All
// three end cleanly, with status 0, on SIGINT or SIGTERM.
//
// TCP keeps no message boundaries: two messages sent close together may
// arrive in one read and a long one in several, and the servers, as the
// originals, answer and print what each read brings, in pieces of at most
// their buffer's size.
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

// A mode is one of the two servers.
type mode struct {
	addr    string            // default address
	backlog int               // the listen backlog the original asked for
	accept  listener.Callback // the original's listener_cb
}

var modes = map[string]mode{
	// serve_addr.sin_port = htons(9527); serve_addr.sin_addr.s_addr = htonl(INADDR_ANY); backlog -1
	"reply": {":9527", -1, replyListenerCB},
	// server_addr.sin_port = 8000; server_addr.sin_addr.s_addr = inet_addr("127.0.0.1"); backlog 10
	"print": {"127.0.0.1:8000", 10, printListenerCB},
}

func main() {
	modeName := flag.String("mode", "reply", "the server: reply (answers each message) or print (prints each message)")
	addr := flag.String("addr", "", "address to listen on, or with -client to connect to (default :9527 with -mode reply, 127.0.0.1:8000 with -mode print)")
	client := flag.Bool("client", false, "run the blocking test client: send the words of standard input")
	flag.Parse()
	m, ok := modes[*modeName]
	if flag.NArg() != 0 || !ok {
		fmt.Fprintln(os.Stderr, "usage: server-bufferevent [-client] [-mode reply|print] [-addr host:port]")
		os.Exit(2)
	}
	if *addr == "" {
		*addr = m.addr
	}
	var err error
	if *client {
		err = runClient(*addr)
	} else {
		err = runServer(*addr, m)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "server-bufferevent:", err)
		os.Exit(1)
	}
}

// runServer is both originals' main.
func runServer(addr string, m mode) error {
	base, err := event.NewBase() // struct event_base *base = event_base_new()
	if err != nil {
		return err
	}
	// event_base_free(base): after the listener. The libevent notes' server
	// freed the base first and then the listener that still used it.
	defer base.Close()
	// listener = evconnlistener_new_bind(base, listener_cb, base,
	//     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, backlog, (struct sockaddr *)&addr, sizeof(addr))
	l, err := listener.NewBind(base, m.accept, listener.CloseOnFree|listener.Reuseable, m.backlog, "tcp", addr)
	if err != nil {
		return err // printf("evconnlistener_new_bind error! \n"); exit(1)
	}
	defer l.Free() // evconnlistener_free(listener)
	if err := stopOnSignals(base); err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", l.Addr())
	return base.Dispatch() // event_base_dispatch(base)
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
