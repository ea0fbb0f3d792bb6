package main

import (
	"fmt"
	"net"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
	"golang.org/x/sys/unix"
)

// printListenerCB is the post's listener_cb.
func printListenerCB(l *listener.Listener, fd int, _ net.Addr) {
	fmt.Printf("server accepted connection %d\n", fd) // printf("服务器接收 %d 的连接\n", fd)
	// bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)
	bev, err := bufferevent.New(l.Base(), fd, bufferevent.CloseOnFree)
	if err != nil {
		// printf("bufferevent_socket_new error!\n"); exit(1): one failed
		// connection ended the server for everyone.
		fmt.Printf("bufferevent_socket_new error! %v\n", err)
		unix.Close(fd)
		return
	}
	// bufferevent_setcb(bev, read_cb, NULL, event_cb, &fd): &fd pointed at
	// listener_cb's own parameter, gone once it returned, so the post gave
	// up naming the client that went offline. A closure keeps the number.
	bev.SetCallbacks(printReadCB, nil, func(bev *bufferevent.BufferEvent, what bufferevent.What) {
		printEventCB(bev, what, fd)
	})
	bev.Enable(event.Read) // bufferevent_enable(bev, EV_READ)
}

// printBufSize is the size of the original read_cb's buf.
const printBufSize = 128

// printReadCB is read_cb: it prints each message.
//
// The original's buf[128] = {0} had no room for a NUL after a full read,
// so printf ran past it; its check "0 > ret" on a size_t could never be
// true.
func printReadCB(bev *bufferevent.BufferEvent) {
	var buf [printBufSize]byte // char buf[128]
	for {
		msg, ok := readMessage(bev, buf[:])
		if !ok {
			return
		}
		fmt.Printf("read %s\n", msg) // printf("read %s \n", buf)
	}
}

// printEventCB is event_cb: it reports the end of a connection or an
// error, and frees the connection.
func printEventCB(bev *bufferevent.BufferEvent, what bufferevent.What, fd int) {
	fmt.Printf("event occurred! %x (%v)\n", uint16(what), what) // printf("异常发生！%x \n", what)
	if what&bufferevent.EOF != 0 {
		fmt.Printf("client %d offline\n", fd) // printf("客户端下线\n")
	} else {
		// printf("未知错误！\n"), and the bufferevent was never freed: a
		// connection reset leaked its socket.
		fmt.Printf("unknown error! %v\n", bev.Err())
	}
	bev.Free() // bufferevent_free(bev)
}
