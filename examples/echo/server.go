package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
	"golang.org/x/sys/unix"
)

// bufLen is BUFLEN: how much one Read takes from a connection's input.
const bufLen = 1024

// server holds what the original kept in globals: the base (passed to the
// listener callback as arg) and, new here, its output and the callbacks
// every connection gets.
//
// The original's ConnectStat gave every connection its own BUFLEN read
// buffer; here the one buffer is the server's: callbacks run one at a
// time on the loop's goroutine, and a message is written back before the
// next Read. Nor does a connection need a struct of its own for the rest
// (see eventCB), so an idle one costs its BufferEvent and nothing more,
// where a ConnectStat and three method values as its callbacks cost over
// a kilobyte.
type server struct {
	base *event.Base
	out  *lines
	// The callbacks, made once so that handing them out allocates
	// nothing: readFn is echoLogged, or with -quiet echoQuiet; eventFn is
	// s.eventCB.
	readFn  func(*bufferevent.BufferEvent)
	eventFn func(*bufferevent.BufferEvent, bufferevent.What)
	buf     [bufLen]byte // echoLogged's
	tls     *tls.Config  // with -tls-cert: each connection speaks TLS
}

func runServer(addr string, quiet bool, tf tlsFlags) error {
	tlsCfg, err := tf.serverConfig()
	if err != nil {
		return err
	}
	base, err := event.NewBase() // base = event_base_new()
	if err != nil {
		return err
	}
	defer base.Close() // event_base_free(base), after the listener
	if err := base.MethodFallback(); err != nil {
		// LEVENT_IOURING asked for io_uring and the kernel refused it:
		// say so, since the server runs, on another backend.
		fmt.Fprintf(os.Stderr, "echo: running on %s: %v\n", base.Method(), err)
	}
	out, err := newLines(base)
	if err != nil {
		return err
	}
	defer out.close() // after the loop: what its last iteration printed
	s := &server{base: base, out: out, tls: tlsCfg}
	s.readFn, s.eventFn = s.echoLogged, s.eventCB
	if quiet {
		s.readFn = echoQuiet
	}

	// listener = evconnlistener_new_bind(base, listener_cb, base,
	//     LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, 1024, (struct sockaddr *)&sin, sizeof(sin))
	l, err := listener.NewBind(base, s.listenerCB, listener.Reuseable|listener.CloseOnFree, 1024, "tcp", addr)
	if err != nil {
		// The original did not check: with the port taken it dispatched a
		// base with nothing in it, which returned at once, and exited 0.
		return err
	}
	defer l.Free() // evconnlistener_free(listener)
	if err := stopOnSignals(base); err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", l.Addr())
	return base.Dispatch() // event_base_dispatch(base)
}

// listenerCB is listener_cb: the listener has accepted a connection, and
// fd is already non-blocking.
func (s *server) listenerCB(l *listener.Listener, fd int, addr net.Addr) {
	// printf("accept a client %d\n", fd): the peer's address says more
	// than a descriptor number.
	s.out.printAddr("accept a client ", addr)
	var bev *bufferevent.BufferEvent
	var err error
	if s.tls != nil {
		// bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		//     BEV_OPT_CLOSE_ON_FREE): the handshake runs first, and the
		// callbacks see only plaintext; a failed handshake reaches eventCB
		// as an error.
		bev, err = bufferevent.NewTLS(s.base, fd, s.tls, bufferevent.TLSAccepting, bufferevent.CloseOnFree)
	} else {
		// bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)
		bev, err = bufferevent.New(s.base, fd, bufferevent.CloseOnFree)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bufferevent_socket_new: %v\n", err)
		unix.Close(fd)
		return
	}
	// bufferevent_setcb(bev, do_echo_request, do_echo_response, event_cb, stat):
	// do_echo_response did nothing, and a BufferEvent without a write
	// callback skips the call after every write; eventCB sets one when
	// it is needed.
	bev.SetCallbacks(s.readFn, nil, s.eventFn)
	// bufferevent_enable(bev, EV_READ | EV_PERSIST): EV_PERSIST means
	// nothing to a bufferevent, which keeps reading until disabled.
	bev.Enable(event.Read)
}

// echoLogged is do_echo_request: it takes one message, prints it and
// writes it back, as the original did, byte for byte.
//
// A message is what one bufferevent_read of at most BUFLEN bytes takes from
// the input, seen as a C string: up to its first NUL. The original printed
// it with printf("recv from client <<< %s\n"), so a message that ends with
// a newline is printed with a blank line after it, and wrote strlen(msg)
// bytes back: "a\x00b\n" is printed and answered as "a", and a message of
// NULs is printed empty and answered with nothing. What the read left in
// the input (more than BUFLEN bytes arrived at once) waits, as it did in
// the original, for the next data from the client: the read callback runs
// when data arrives. Only the original's msg[len] = '\0', one byte past
// its buffer after a full read, is gone.
func (s *server) echoLogged(bev *bufferevent.BufferEvent) {
	n := bev.Read(s.buf[:]) // len = bufferevent_read(bev, msg, BUFLEN)
	if n == 0 {
		return // nothing arrived: the original's callback never ran so
	}
	msg := cString(s.buf[:n]) // msg[len] = '\0'
	s.out.printf("recv from client <<< %s\n", msg)
	bev.Write(msg) // bufferevent_write(bev, msg, strlen(msg))
}

// echoQuiet is do_echo_request when nothing is printed: the client gets
// the same bytes back, but nothing needs them in a buffer of ours, so
// Input's storage moves to Output whole, without a copy
// (evbuffer_add_buffer).
func echoQuiet(bev *bufferevent.BufferEvent) {
	bev.Output().AddBuffer(bev.Input())
}

// freeWhenSent is the write callback of a connection whose client has
// closed its side: it runs once Output has drained, and frees it.
func freeWhenSent(bev *bufferevent.BufferEvent) {
	bev.Free()
}

// eventCB is event_cb: the end of the connection or an error.
func (s *server) eventCB(bev *bufferevent.BufferEvent, what bufferevent.What) {
	if what == bufferevent.Connected {
		return // a TLS handshake is done: the echo starts
	}
	if what&bufferevent.EOF != 0 {
		s.out.printf("connection closed\n") // printf("connect cloase\n")
		// The original freed the bufferevent at once, dropping whatever
		// echo was still waiting in its output buffer: a client that sends
		// and then closes its sending side lost the end of its answer.
		// The end of the stream stopped reading, so there is nothing more
		// to echo: freeWhenSent frees the connection once Output drains.
		if bev.Output().Len() > 0 {
			bev.SetCallbacks(nil, freeWhenSent, s.eventFn)
			return
		}
	} else if what&bufferevent.Error != 0 {
		s.out.printf("some other error: %v\n", bev.Err()) // printf("some other error\n")
	}
	bev.Free() // bufferevent_free(bev): closes the socket; there is no stat to free
}
