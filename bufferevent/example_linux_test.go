package bufferevent_test

import (
	"fmt"
	"net"
	"syscall"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

// An echo server and its client on one loop. The listener hands each
// connection to a BufferEvent that moves what it reads to its output; the
// client connects without blocking, sends a line and prints the echo. When
// both sides are freed nothing is left to wait for, and Dispatch returns.
func Example() {
	base, err := event.NewBase()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer base.Close()

	echo := func(bev *bufferevent.BufferEvent) { bev.Output().AddBuffer(bev.Input()) }
	closeOnEnd := func(bev *bufferevent.BufferEvent, what bufferevent.What) {
		if what&(bufferevent.EOF|bufferevent.Error) != 0 {
			bev.Free()
		}
	}
	l, err := listener.NewBind(base, func(l *listener.Listener, fd int, _ net.Addr) {
		bev, err := bufferevent.New(base, fd, bufferevent.CloseOnFree)
		if err != nil {
			syscall.Close(fd)
			return
		}
		bev.SetCallbacks(echo, nil, closeOnEnd)
		bev.Enable(event.Read)
		l.Free() // one connection is all this example serves
	}, listener.Reuseable, 0, "tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}

	client, err := bufferevent.New(base, -1, bufferevent.CloseOnFree)
	if err != nil {
		fmt.Println(err)
		return
	}
	client.SetCallbacks(func(c *bufferevent.BufferEvent) {
		if line, ok := c.Input().ReadLine(bufferevent.EOLLF); ok {
			fmt.Printf("echo: %s\n", line)
			c.Free() // the server reads EOF and frees its side
		}
	}, nil, func(c *bufferevent.BufferEvent, what bufferevent.What) {
		fmt.Println("client:", what)
		if what == bufferevent.Connected {
			c.WriteString("hello, levent\n")
		} else {
			c.Free()
		}
	})
	client.Enable(event.Read)
	if err := client.Connect("tcp4", l.Addr().String()); err != nil {
		fmt.Println(err)
		return
	}
	if err := base.Dispatch(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// client: Connected
	// echo: hello, levent
}

// NewPair's two ends are connected: what one writes, the other reads.
func ExampleNewPair() {
	base, err := event.NewBase()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer base.Close()
	a, b, err := bufferevent.NewPair(base, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	b.SetCallbacks(func(b *bufferevent.BufferEvent) {
		p := make([]byte, 64)
		fmt.Printf("b read %q\n", p[:b.Read(p)])
		a.Free()
		b.Free()
	}, nil, nil)
	b.Enable(event.Read)
	a.WriteString("over the pair")
	base.Dispatch()
	// Output:
	// b read "over the pair"
}
