package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// client holds what the original passed through globals and void *arg: the
// base, the connected socket, the standard-input event, and the first error
// that ends the loop.
type client struct {
	base   *event.Base
	sockfd int
	evSock *event.Event
	evCmd  *event.Event
	err    error
}

func runClient(ip [4]byte, port int) error {
	// int sockfd = connect_server(argv[1], atoi(argv[2]))
	sockfd, err := connectServer(ip, port)
	if err != nil {
		return fmt.Errorf("tcp_connect error!: %w", err)
	}
	defer unix.Close(sockfd)
	fmt.Println("connect to server successfully")

	base, err := newStdinBase() // struct event_base *base = event_base_new()
	if err != nil {
		return err
	}
	defer base.Close() // event_base_free(base)
	c := &client{base: base, sockfd: sockfd}

	// ev_sockfd = event_new(base, sockfd, EV_READ | EV_PERSIST, socket_read_data, NULL)
	c.evSock, err = event.New(base, sockfd, event.Read|event.Persist, c.socketReadData)
	if err != nil {
		return err
	}
	defer c.evSock.Free()                   // event_free(ev_sockfd), before close(sockfd)
	if err := c.evSock.Add(0); err != nil { // event_add(ev_sockfd, NULL)
		return err
	}
	// ev_cmd = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, cmd_read_data, (void *)&sockfd)
	c.evCmd, err = event.New(base, unix.Stdin, event.Read|event.Persist, c.cmdReadData)
	if err != nil {
		return err
	}
	defer c.evCmd.Free()
	if err := c.evCmd.Add(0); err != nil { // event_add(ev_cmd, NULL)
		return err
	}
	if err := stopOnSignals(base); err != nil {
		return err
	}
	if err := base.Dispatch(); err != nil { // event_base_dispatch(base)
		return err
	}
	if c.err != nil {
		return c.err
	}
	fmt.Println("finished")
	return nil
}

// connectServer is connect_server: a blocking connect, as in the original;
// the socket stays blocking, so a send is written whole.
func connectServer(ip [4]byte, port int) (int, error) {
	sockfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0) // socket(PF_INET, SOCK_STREAM, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	unix.CloseOnExec(sockfd)
	// connect(sockfd, (SA *)&server_addr, sizeof(server_addr))
	if err := unix.Connect(sockfd, &unix.SockaddrInet4{Port: port, Addr: ip}); err != nil {
		unix.Close(sockfd)
		return -1, os.NewSyscallError("connect", err)
	}
	return sockfd, nil
}

// stop ends the loop with err (nil for a normal end). The original called
// exit(1) from inside its callbacks, for a normal end too, and skipped its
// own clean-up. Both events are deleted first: the loop ends only after the
// current iteration, and a socket at its end would stay readable until then.
func (c *client) stop(err error) {
	if c.err == nil {
		c.err = err
	}
	c.evSock.Del() // event_del(ev_sockfd)
	c.evCmd.Del()  // event_del(ev_cmd)
	c.base.LoopExit(0)
}

// cmdReadData is cmd_read_data: what is typed goes to the server.
func (c *client) cmdReadData(fd int, _ event.Flag) {
	var msg [1024]byte
	n, err := unix.Read(fd, msg[:]) // read(fd, msg, sizeof(msg) - 1)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		c.stop(os.NewSyscallError("read", err)) // perror("read failed!"); exit(1)
		return
	case n == 0:
		// End of input. The original printed "connection close. exit!"
		// and exited, before the server could answer what it had just
		// been sent. Here the client stops watching its input and shuts
		// down its sending side: the server answers, sees the end, closes,
		// and socketReadData ends the loop.
		c.evCmd.Del()
		if err := unix.Shutdown(c.sockfd, unix.SHUT_WR); err != nil {
			c.stop(os.NewSyscallError("shutdown", err))
		}
		return
	}
	// The original replaced the newline with a NUL and sent the NUL, so the
	// server's lines ran together; the line goes as typed.
	if err := writeAll(c.sockfd, msg[:n]); err != nil { // write(sockfd, msg, ret)
		c.stop(fmt.Errorf("write to server failed!: %w", err))
		return
	}
	// if (strncmp(msg, "exit", 4) == 0): the original then wrote 1024 NUL
	// bytes, slept 100 ms, and exited 1; ending the loop closes the socket.
	if bytes.HasPrefix(msg[:n], []byte("exit")) {
		c.stop(nil)
	}
}

// socketReadData is socket_read_data: it prints what the server sent.
func (c *client) socketReadData(fd int, _ event.Flag) {
	var msg [1024]byte
	// The original did not consider a reply longer than one read; neither
	// does this: the rest comes with the next read.
	n, err := unix.Read(fd, msg[:]) // read(fd, msg, sizeof(msg) - 1)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		fmt.Fprintf(os.Stderr, "read failed!: %v\n", err) // perror("read failed!")
		return
	case n == 0:
		fmt.Println("connection close. exit!")
		c.stop(nil)
		return
	}
	fmt.Printf("recv from server <<< %s\n", chomp(msg[:n]))
}

// writeAll writes b whole on a blocking descriptor, retrying EINTR and
// short writes.
func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("write", err)
		}
		b = b[n:]
	}
	return nil
}

// newStdinBase returns a base that can watch standard input. epoll accepts
// pipes and sockets but refuses regular files and some devices (/dev/null)
// with EPERM, so that the original, on libevent's epoll, could not run with
// its input redirected from a file. For those, and for terminals, the base
// uses poll, which reports a file as always readable.
func newStdinBase() (*event.Base, error) {
	var st unix.Stat_t
	if err := unix.Fstat(unix.Stdin, &st); err == nil {
		if t := st.Mode & unix.S_IFMT; t == unix.S_IFIFO || t == unix.S_IFSOCK {
			return event.NewBase()
		}
	}
	return event.NewBaseWithConfig(event.Config{AvoidMethods: []string{"epoll"}})
}
