package main

import (
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
// listener callback as arg) and, new here, whether to print each message.
type server struct {
	base  *event.Base
	quiet bool
}

// connStat is ConnectStat: one connection's BufferEvent and read buffer,
// and whether the client has closed its side while the echo of its last
// data is still being sent.
type connStat struct {
	srv     *server
	bev     *bufferevent.BufferEvent
	buf     [bufLen]byte
	closing bool
}

func runServer(addr string, quiet bool) error {
	base, err := event.NewBase() // base = event_base_new()
	if err != nil {
		return err
	}
	defer base.Close() // event_base_free(base), after the listener
	s := &server{base: base, quiet: quiet}

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
	fmt.Printf("accept a client %s\n", addr)
	// bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)
	bev, err := bufferevent.New(s.base, fd, bufferevent.CloseOnFree)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bufferevent_socket_new: %v\n", err)
		unix.Close(fd)
		return
	}
	c := &connStat{srv: s, bev: bev} // stat = stat_init(bev)
	// bufferevent_setcb(bev, do_echo_request, do_echo_response, event_cb, stat)
	bev.SetCallbacks(c.doEchoRequest, c.doEchoResponse, c.eventCB)
	// bufferevent_enable(bev, EV_READ | EV_PERSIST): EV_PERSIST means
	// nothing to a bufferevent, which keeps reading until disabled.
	bev.Enable(event.Read)
}

// doEchoRequest is do_echo_request: it prints what the client sent and
// writes it back.
//
// The original read once, at most BUFLEN bytes, and then set
// msg[len] = '\0', one byte past its buffer when the read filled it. The
// rest stayed in the input buffer until the client sent more, because the
// read callback runs only after new data has been read; this one reads
// until the input is empty. The original also wrote strlen(msg) bytes back,
// losing everything from the first NUL the client sent; the length read is
// used here.
func (c *connStat) doEchoRequest(bev *bufferevent.BufferEvent) {
	for {
		n := bev.Read(c.buf[:]) // len = bufferevent_read(bev, msg, BUFLEN)
		if n == 0 {
			return
		}
		msg := c.buf[:n]
		if !c.srv.quiet {
			fmt.Printf("recv from client <<< %s\n", chomp(msg))
		}
		bev.Write(msg) // bufferevent_write(bev, msg, strlen(msg))
	}
}

// doEchoResponse is do_echo_response, which did nothing. It runs when the
// output has drained; a connection whose client has gone is freed now.
func (c *connStat) doEchoResponse(bev *bufferevent.BufferEvent) {
	if c.closing {
		bev.Free()
	}
}

// eventCB is event_cb: the end of the connection or an error.
func (c *connStat) eventCB(bev *bufferevent.BufferEvent, what bufferevent.What) {
	if what&bufferevent.EOF != 0 {
		fmt.Println("connection closed") // printf("connect cloase\n")
		// The original freed the bufferevent at once, dropping whatever
		// echo was still waiting in its output buffer: a client that sends
		// and then closes its sending side lost the end of its answer.
		if bev.Output().Len() > 0 {
			c.closing = true // doEchoResponse frees it once drained
			return
		}
	} else if what&bufferevent.Error != 0 {
		fmt.Printf("some other error: %v\n", bev.Err()) // printf("some other error\n")
	}
	bev.Free() // bufferevent_free(bev): closes the socket; free(stat) is the garbage collector's
}
