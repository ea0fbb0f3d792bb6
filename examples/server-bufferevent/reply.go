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

// replyMessage is the original's answer to every message, with the NUL
// that its strlen(p) + 1 sent: "I am the server, received your data". The
// bytes are the original's, so its clients see what they always saw.
const replyMessage = "我是服务器，已经成功收到你发送的数据\x00"

// replyBufSize is the size of the original read_cb's buf.
const replyBufSize = 1024

// replyConn is one connection of the reply server: whether the client has
// hung up while answers are still being sent, and the read buffer.
type replyConn struct {
	closing bool
	buf     [replyBufSize]byte // char buf[1024]
}

// replyListenerCB is the libevent notes' listener_cb.
func replyListenerCB(l *listener.Listener, fd int, _ net.Addr) {
	// printf("connect new client"): without a newline the message waited
	// in stdout's buffer and ran into the next one.
	fmt.Println("connect new client")
	// bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)
	bev, err := bufferevent.New(l.Base(), fd, bufferevent.CloseOnFree)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bufferevent_socket_new: %v\n", err)
		unix.Close(fd)
		return
	}
	c := &replyConn{}
	// bufferevent_setcb(bev, read_cb, write_cb, NULL, NULL): with no event
	// callback, a client's hang-up left its bufferevent and socket
	// allocated for good. eventCB frees them.
	bev.SetCallbacks(c.readCB, c.writeCB, c.eventCB)
	bev.Enable(event.Read) // bufferevent_enable(bev, EV_READ)
}

// readCB is read_cb: it prints and answers each message.
func (c *replyConn) readCB(bev *bufferevent.BufferEvent) {
	for {
		msg, ok := readMessage(bev, c.buf[:])
		if !ok {
			return
		}
		// printf("client say:%s\n", buf): nothing put a NUL after what
		// was read, so a message without its own NUL ran into whatever
		// an earlier, longer one had left in buf.
		fmt.Printf("client say: %s\n", msg)
		// bufferevent_write(bev, p, strlen(p) + 1)
		bev.WriteString(replyMessage)
		// sleep(1) is gone: it froze the whole loop, every other client
		// with it, for a second per message.
	}
}

// writeCB is write_cb: the answers are out. A connection whose client has
// hung up is freed now.
func (c *replyConn) writeCB(bev *bufferevent.BufferEvent) {
	fmt.Println("I'm the server, wrote data to the client successfully, write callback called...")
	if c.closing {
		bev.Free()
	}
}

// eventCB frees the connection when the client hangs up or fails; after a
// hang-up, only once the answers are out.
func (c *replyConn) eventCB(bev *bufferevent.BufferEvent, what bufferevent.What) {
	if what&bufferevent.EOF != 0 {
		fmt.Println("connection closed")
		if bev.Output().Len() > 0 {
			c.closing = true
			return
		}
	} else if what&bufferevent.Error != 0 {
		fmt.Printf("some other error: %v\n", bev.Err())
	}
	bev.Free() // bufferevent_free(bev)
}
