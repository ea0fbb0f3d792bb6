// Command levent-bev is the echo server of levent's echo benchmark written
// as a levent user writes it: a listener hands each connection to a
// BufferEvent whose read callback moves Input to Output, as libevent's
// evconnlistener and bufferevent do in bench/c/echo_libevent.c. One loop on
// one goroutine does all the I/O. Like every server of the benchmark it sets
// TCP_NODELAY on each connection (Go's net, gnet and nbio do by default),
// unless -nodelay=false.
//
//	levent-bev [-addr 127.0.0.1:9001] [-nodelay=true] [-cpuprofile file]
//
// SIGINT and SIGTERM end the loop; the program then exits 0.
package main

import (
	"net"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/bench/servers/internal/serve"
	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

func main() {
	serve.Main("levent-bev", "127.0.0.1:9001", func(o serve.Options) error {
		return serve.Levent(o.Addr, func(l *listener.Listener, fd int, _ net.Addr) {
			if o.NoDelay {
				unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
			}
			newConn(l.Base(), fd)
		})
	})
}

// newConn gives a connection a BufferEvent that echoes what it reads.
func newConn(base *event.Base, fd int) {
	bev, err := bufferevent.New(base, fd, bufferevent.CloseOnFree)
	if err != nil {
		unix.Close(fd)
		return
	}
	bev.SetCallbacks(echo, nil, closeOnEnd)
	bev.Enable(event.Read)
}

func echo(bev *bufferevent.BufferEvent) {
	bev.Output().AddBuffer(bev.Input())
}

func closeOnEnd(bev *bufferevent.BufferEvent, what bufferevent.What) {
	if what&(bufferevent.EOF|bufferevent.Error) != 0 {
		bev.Free()
	}
}
