// Command hello-world is libevent's sample/hello-world.c on levent: a
// server that writes "Hello, World!" to each client that connects and
// closes the connection once the message is out.
//
//	hello-world [-addr :9995] [-delay 2s]
//
// A listener (evconnlistener_new_bind) hands each connection to a
// BufferEvent that writes the message with reading disabled; its write
// callback frees it when the output buffer is empty. SIGINT (as in the
// sample) and SIGTERM (added) print "Caught an interrupt signal; exiting
// cleanly in two seconds." and end the loop after -delay; the program then
// prints "done" and exits 0. The sample printed nothing when it started;
// this one prints "listening on ADDR".
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
	"golang.org/x/sys/unix"
)

// message is MESSAGE.
const message = "Hello, World!\n"

func main() {
	addr := flag.String("addr", ":9995", "address to listen on") // static const int PORT = 9995
	delay := flag.Duration("delay", 2*time.Second, "how long the loop runs on after SIGINT or SIGTERM")
	flag.Parse()
	if flag.NArg() != 0 || *delay < 0 {
		fmt.Fprintln(os.Stderr, "usage: hello-world [-addr host:port] [-delay d]")
		os.Exit(2)
	}
	os.Exit(run(*addr, *delay))
}

func run(addr string, delay time.Duration) int {
	base, err := event.NewBase() // base = event_base_new()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Could not initialize libevent: %v\n", err)
		return 1
	}
	defer base.Close() // event_base_free(base)

	// listener = evconnlistener_new_bind(base, listener_cb, (void *)base,
	//     LEV_OPT_REUSEABLE|LEV_OPT_CLOSE_ON_FREE, -1, (struct sockaddr*)&sin, sizeof(sin))
	l, err := listener.NewBind(base, listenerCB, listener.Reuseable|listener.CloseOnFree, -1, "tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Could not create a listener: %v\n", err)
		return 1
	}
	defer l.Free() // evconnlistener_free(listener)

	// signal_event = evsignal_new(base, SIGINT, signal_cb, (void *)base);
	// event_add(signal_event, NULL), and the same for SIGTERM.
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		ev, err := event.NewSignal(base, sig, func(int, event.Flag) { signalCB(base, delay) })
		if err == nil {
			err = ev.Add(0)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "Could not create/add a signal event: %v\n", err)
			return 1
		}
		defer ev.Free() // event_free(signal_event)
	}

	fmt.Printf("listening on %s\n", l.Addr())
	if err := base.Dispatch(); err != nil { // event_base_dispatch(base)
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("done")
	return 0
}

// listenerCB is listener_cb: it gives the new connection a BufferEvent
// that writes the message and does not read.
func listenerCB(l *listener.Listener, fd int, _ net.Addr) {
	// bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)
	bev, err := bufferevent.New(l.Base(), fd, bufferevent.CloseOnFree)
	if err != nil {
		// The sample's message lacked its newline.
		fmt.Fprintf(os.Stderr, "Error constructing bufferevent: %v\n", err)
		unix.Close(fd)
		l.Base().LoopBreak() // event_base_loopbreak(base)
		return
	}
	bev.SetCallbacks(nil, connWriteCB, connEventCB) // bufferevent_setcb(bev, NULL, conn_writecb, conn_eventcb, NULL)
	bev.Enable(event.Write)                         // bufferevent_enable(bev, EV_WRITE)
	bev.Disable(event.Read)                         // bufferevent_disable(bev, EV_READ)
	bev.WriteString(message)                        // bufferevent_write(bev, MESSAGE, strlen(MESSAGE))
}

// connWriteCB is conn_writecb: once the message is out, the connection is
// closed. A client that sends something first may see a reset instead of
// the message, as with the sample: closing a socket whose unread input is
// not empty makes the kernel reset the connection.
func connWriteCB(bev *bufferevent.BufferEvent) {
	if bev.Output().Len() == 0 { // evbuffer_get_length(bufferevent_get_output(bev)) == 0
		fmt.Println("flushed answer")
		bev.Free() // bufferevent_free(bev)
	}
}

// connEventCB is conn_eventcb.
func connEventCB(bev *bufferevent.BufferEvent, what bufferevent.What) {
	if what&bufferevent.EOF != 0 {
		fmt.Println("Connection closed.")
	} else if what&bufferevent.Error != 0 {
		// The sample printed strerror(errno), and errno need not be the
		// socket's error by the time the callback runs; Err is.
		fmt.Printf("Got an error on the connection: %v\n", bev.Err())
	}
	// None of the other events can happen here, since no timeouts are set.
	bev.Free() // bufferevent_free(bev)
}

// signalCB is signal_cb: it asks the loop to end after delay.
func signalCB(base *event.Base, delay time.Duration) {
	when := "in two seconds"
	if delay != 2*time.Second {
		when = "after " + delay.String()
	}
	fmt.Printf("Caught an interrupt signal; exiting cleanly %s.\n", when)
	base.LoopExit(delay) // event_base_loopexit(base, &delay)
}
