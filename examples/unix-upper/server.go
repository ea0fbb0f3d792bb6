package main

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
	"golang.org/x/sys/unix"
)

func runServer(path string) error {
	base, err := event.NewBase()
	if err != nil {
		return err
	}
	defer base.Close()

	// unlink(SERV_ADDR); lfd = Socket(AF_UNIX, SOCK_STREAM, 0);
	// Bind(lfd, (struct sockaddr *)&servaddr, len); Listen(lfd, 20)
	//
	// unlink removed whatever had the name, a file of the user's or the
	// socket of a server still running. RemoveStaleUnix removes only a
	// socket file nothing listens on. NewBind works out the address length
	// that the original computed with offsetof.
	l, err := listener.NewBind(base, acceptCB, listener.CloseOnFree|listener.RemoveStaleUnix, 20, "unix", path)
	if err != nil {
		return err
	}
	// close(lfd), and the socket file goes with it: the original left it
	// behind for the next run's unlink.
	defer l.Free()
	if err := stopOnSignals(base); err != nil {
		return err
	}
	fmt.Println("Accept ...")
	return base.Dispatch()
}

// acceptCB takes over from cfd = Accept(lfd, (struct sockaddr *)&cliaddr, &len).
func acceptCB(l *listener.Listener, fd int, addr net.Addr) {
	// len -= offsetof(struct sockaddr_un, sun_path); cliaddr.sun_path[len] = '\0';
	// printf("client bind filename %s\n", cliaddr.sun_path)
	//
	// The seeds' note says a client must bind; it need not, and one that
	// does not has no name, which the original printed as "".
	name := "(unnamed)"
	if a, ok := addr.(*net.UnixAddr); ok && a.Name != "" {
		name = a.Name
	}
	fmt.Printf("client bind filename %s\n", name)
	bev, err := bufferevent.New(l.Base(), fd, bufferevent.CloseOnFree)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bufferevent_socket_new: %v\n", err)
		unix.Close(fd)
		return
	}
	// while ((size = read(cfd, buf, sizeof(buf))) > 0) { toupper...; write(cfd, buf, size); }
	// close(cfd): the loop's body is upperCB, its end closeCB.
	bev.SetCallbacks(upperCB, nil, closeCB)
	bev.Enable(event.Read)
}

// upperCB answers what the client sent in upper case.
func upperCB(bev *bufferevent.BufferEvent) {
	var buf [4096]byte // char buf[4096]
	for {
		size := bev.Read(buf[:])
		if size == 0 {
			return
		}
		toUpper(buf[:size]) // for (i = 0; i < size; i++) buf[i] = toupper(buf[i]);
		bev.Write(buf[:size])
	}
}

// closeCB is the end of the original's read loop: close(cfd).
func closeCB(bev *bufferevent.BufferEvent, what bufferevent.What) {
	if what&bufferevent.Error != 0 {
		fmt.Fprintf(os.Stderr, "client: %v\n", bev.Err())
	}
	bev.Free()
}

// stopOnSignals makes SIGINT and SIGTERM end the loop, so that the program
// removes its socket file and exits 0 instead of being killed.
func stopOnSignals(base *event.Base) error {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		// evsignal_new(base, sig, stop_cb, base)
		ev, err := event.NewSignal(base, sig, func(int, event.Flag) { base.LoopExit(0) })
		if err != nil {
			return err
		}
		if err := ev.Add(0); err != nil { // event_add(ev, NULL)
			return err
		}
	}
	return nil
}
