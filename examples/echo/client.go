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
	"golang.org/x/sys/unix"
)

// client is the seeds' bufferevent client. Its fields are loop state:
// only callbacks and functions handed to Submit touch them.
type client struct {
	base      *event.Base
	bev       *bufferevent.BufferEvent
	connected bool  // Connected was reported
	inputDone bool  // standard input has ended
	shut      bool  // the sending side is shut down
	err       error // why the connection failed, if it did
}

func runClient(addr string) error {
	base, err := event.NewBase() // struct event_base *base = event_base_new()
	if err != nil {
		return err
	}
	defer base.Close() // event_base_free(base)

	// int fd = socket(AF_INET, SOCK_STREAM, 0): with no descriptor, Connect
	// makes a non-blocking one. The original's was blocking, so its connect
	// could stall the loop.
	bev, err := bufferevent.New(base, -1, bufferevent.CloseOnFree) // bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)
	if err != nil {
		return err
	}
	c := &client{base: base, bev: bev}
	// bufferevent_socket_connect(bev, (struct sockaddr *)&client_addr, sizeof(client_addr))
	if err := c.connect(addr); err != nil {
		bev.Free()
		return err
	}
	// bufferevent_setcb(bev, read_cb, write_cb, event_cb, NULL): after the
	// connect, as in the original; the outcome is reported from the loop.
	bev.SetCallbacks(c.readCB, c.writeCB, c.eventCB)
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

// connect starts the connection. The original connected to 127.0.0.1:9527;
// an empty host still means 127.0.0.1, and a host name is resolved off the
// loop by ConnectHostname.
func (c *client) connect(addr string) error {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return c.bev.Connect("tcp", net.JoinHostPort(host, portStr))
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("%q is not a port number", portStr)
	}
	return c.bev.ConnectHostname("tcp", host, port) // bufferevent_socket_connect_hostname
}

// send copies r to the server, then tells the loop that the input ended.
// It runs on its own goroutine.
func (c *client) send(r io.Reader) {
	io.Copy(c.bev, r) // bufferevent_write(bev, buf, n) for each chunk read
	c.base.Submit(func() {
		c.inputDone = true
		c.maybeShutdown()
	})
}

// maybeShutdown closes the sending side once the input has ended, the
// connection is up and everything written has left: the server then sees
// the end, answers what is left and closes, and eventCB ends the loop.
func (c *client) maybeShutdown() {
	if !c.connected || !c.inputDone || c.shut || c.bev.Output().Len() > 0 {
		return
	}
	c.shut = true
	if err := unix.Shutdown(c.bev.Fd(), unix.SHUT_WR); err != nil {
		c.stop(os.NewSyscallError("shutdown", err))
	}
}

// readCB is read_cb: it prints each line the server sent.
//
// The original printed whatever one read returned and wrote it back to the
// server, which echoed it again: with an echo server the two would have
// bounced the same bytes forever, a second apart (its sleep(1), which also
// froze the loop). Its strlen(buf) + 1 sent a NUL after every message.
// Here each complete line is printed once; an unfinished one waits for
// the rest.
func (c *client) readCB(bev *bufferevent.BufferEvent) {
	for {
		line, ok := bev.Input().ReadLine(bufferevent.EOLLF)
		if !ok {
			return
		}
		fmt.Printf("server say: %s\n", line) // printf("服务器 say:%s\n", buf)
	}
}

// writeCB is write_cb, which printed that it was useless. It runs when
// the output has drained, which is when the sending side may be shut down.
func (c *client) writeCB(*bufferevent.BufferEvent) {
	c.maybeShutdown()
}

// eventCB is event_cb.
func (c *client) eventCB(bev *bufferevent.BufferEvent, what bufferevent.What) {
	switch {
	case what&bufferevent.EOF != 0:
		if rest := bev.Input(); rest.Len() > 0 { // a last line without a newline
			fmt.Printf("server say: %s\n", rest.Peek(-1))
			rest.Reset()
		}
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
