package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
)

// client is the seeds' bufferevent client. Its fields are loop state:
// only callbacks and functions handed to Submit touch them.
type client struct {
	base      *event.Base
	bev       *bufferevent.BufferEvent
	connected bool  // Connected was reported
	inputDone bool  // standard input has ended
	shut      bool  // the sending side is closed
	err       error // why the connection failed, if it did
	buf       [bufLen]byte
}

func runClient(addr string, tf tlsFlags) error {
	host, port, err := splitAddr(addr)
	if err != nil {
		return err
	}
	tlsCfg, err := tf.clientConfig(host)
	if err != nil {
		return err
	}
	base, err := event.NewBase() // struct event_base *base = event_base_new()
	if err != nil {
		return err
	}
	defer base.Close() // event_base_free(base)

	// int fd = socket(AF_INET, SOCK_STREAM, 0): with no descriptor, Connect
	// makes a non-blocking one. The original's was blocking, so its connect
	// could stall the loop.
	var bev *bufferevent.BufferEvent
	if tlsCfg != nil {
		// bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
		//     BEV_OPT_CLOSE_ON_FREE): the handshake starts once connected,
		// and Connected is reported when it is done.
		bev, err = bufferevent.NewTLS(base, -1, tlsCfg, bufferevent.TLSConnecting, bufferevent.CloseOnFree)
	} else {
		bev, err = bufferevent.New(base, -1, bufferevent.CloseOnFree) // bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)
	}
	if err != nil {
		return err
	}
	c := &client{base: base, bev: bev}
	// bufferevent_socket_connect(bev, (struct sockaddr *)&client_addr, sizeof(client_addr))
	if err := c.connect(host, port); err != nil {
		bev.Free()
		return err
	}
	// bufferevent_setcb(bev, read_cb, write_cb, event_cb, NULL): after the
	// connect, as in the original; the outcome is reported from the loop.
	// write_cb only printed that it was useless.
	bev.SetCallbacks(c.readCB, nil, c.eventCB)
	bev.Enable(event.Read) // bufferevent_enable(bev, EV_READ)
	if err := stopOnSignals(base); err != nil {
		bev.Free()
		return err
	}
	// The original sent nothing of its own: its read callback answered
	// what the server sent, and the server answered what the client sent,
	// so nobody ever spoke first. Here standard input is sent, from a
	// goroutine of its own: Write is safe from any goroutine and never
	// blocks the loop.
	go c.send(os.Stdin)
	err = base.Dispatch() // event_base_dispatch(base)
	// The original freed the bufferevent after event_base_free, and a
	// second time if event_cb had already freed it; here it is freed once,
	// before the base. Free is a no-op the second time.
	bev.Free() // bufferevent_free(bev)
	if err != nil {
		return err
	}
	return c.err
}

// splitAddr splits -addr into host and port. The original connected to
// 127.0.0.1:9527; an empty host still means 127.0.0.1.
func splitAddr(addr string) (host string, port int, err error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	port, err = strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q is not a port number", portStr)
	}
	return host, port, nil
}

// connect starts the connection; a host name is resolved off the loop by
// ConnectHostname.
func (c *client) connect(host string, port int) error {
	if _, err := netip.ParseAddr(host); err == nil {
		return c.bev.Connect("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	}
	return c.bev.ConnectHostname("tcp", host, port) // bufferevent_socket_connect_hostname
}

// send copies r to the server, then tells the loop that the input ended.
// It runs on its own goroutine.
//
// What one read of r gets goes out as it was read, NUL bytes included.
// The original's write, strlen(buf) + 1 bytes, sent what it had read as a
// C string and a NUL after it: with the seeds' echo server, which reads a
// C string, a NUL between two messages that reach it in one read would
// lose the second, so none is added here.
func (c *client) send(r io.Reader) {
	io.Copy(c.bev, r) // bufferevent_write(bev, buf, n) for each chunk read
	c.base.Submit(func() {
		c.inputDone = true
		c.maybeShutdown()
	})
}

// maybeShutdown closes the sending side once the input has ended and the
// connection is up: CloseWrite sends what Output holds, then, over TLS, a
// close_notify, and shuts the socket down for writing. The server then
// sees the end, answers what is left and closes, and eventCB ends the
// loop.
func (c *client) maybeShutdown() {
	if !c.connected || !c.inputDone || c.shut {
		return
	}
	c.shut = true
	if err := c.bev.CloseWrite(); err != nil {
		c.stop(err)
	}
}

// readCB is read_cb: it prints what the server sent, one message at a
// time, as the original printed it.
//
// A message is what one bufferevent_read of at most 1024 bytes (the
// original's buffer) takes, seen as a C string: up to its first NUL. It
// is printed as "server say: " and the message, without one trailing
// newline, since a newline follows. Unlike the original, which read once
// and left the rest for the next data, the callback reads until Input is
// empty: nothing else would come to take it. Nor does it write the
// message back to the server: with an echo server the original would have
// bounced the same bytes forever, a second apart (its sleep(1), which also
// froze the loop).
func (c *client) readCB(bev *bufferevent.BufferEvent) {
	for {
		n := bev.Read(c.buf[:]) // bufferevent_read(bev, buf, sizeof(buf))
		if n == 0 {
			return
		}
		fmt.Printf("server say: %s\n", chomp(cString(c.buf[:n]))) // printf("服务器 say:%s\n", buf)
	}
}

// eventCB is event_cb.
func (c *client) eventCB(bev *bufferevent.BufferEvent, what bufferevent.What) {
	switch {
	case what&bufferevent.EOF != 0:
		fmt.Println("connection closed")
	case what&bufferevent.Error != 0:
		fmt.Printf("some other error: %v\n", bev.Err())
		c.err = errors.New("connection failed")
	case what&bufferevent.Connected != 0:
		fmt.Println("Connected") // printf("已经连接服务器...\\(^o^)/...\n")
		c.connected = true
		c.maybeShutdown() // the input may have ended already
		return
	}
	c.stop(c.err)
}

// stop frees the connection and ends the loop. The original only freed the
// bufferevent, leaving the loop to return when nothing was left in it; the
// signal events here would keep it running.
func (c *client) stop(err error) {
	if c.err == nil {
		c.err = err
	}
	c.bev.Free() // bufferevent_free(bev)
	c.base.LoopExit(0)
}
