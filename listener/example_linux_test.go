package listener_test

import (
	"bufio"
	"fmt"
	"net"
	"syscall"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

// An echo server on a levent loop, talking to a client written with Go's
// net package on another goroutine. The server echoes line by line and
// stops when its one client hangs up.
func ExampleNewBind() {
	base, err := event.NewBase()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer base.Close()
	l, err := listener.NewBind(base, func(l *listener.Listener, fd int, peer net.Addr) {
		l.Free() // serve one client, then let Dispatch return
		bev, err := bufferevent.New(base, fd, bufferevent.CloseOnFree)
		if err != nil {
			syscall.Close(fd)
			return
		}
		bev.SetCallbacks(func(bev *bufferevent.BufferEvent) {
			for {
				line, ok := bev.Input().ReadLine(bufferevent.EOLLF)
				if !ok {
					return
				}
				fmt.Fprintf(bev, "%s\n", line)
			}
		}, nil, func(bev *bufferevent.BufferEvent, what bufferevent.What) {
			fmt.Println("server:", what)
			bev.Free()
		})
		bev.Enable(event.Read)
	}, listener.Reuseable, 0, "tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for _, msg := range []string{"hello", "levent"} {
			fmt.Fprintln(c, msg)
			back, _ := r.ReadString('\n')
			fmt.Printf("client got %q\n", back)
		}
	}()
	if err := base.Dispatch(); err != nil {
		fmt.Println(err)
	}
	<-done
	// Output:
	// client got "hello\n"
	// client got "levent\n"
	// server: Reading|EOF
}
