package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

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
//
// Each read of standard input, at most 1023 bytes, is one message, sent
// as the original sent it: its last newline, if it ends with one, turned
// into a NUL, so that "hello\n" typed goes out as "hello\x00". The seeds'
// servers read it as the C string "hello".
func (c *client) cmdReadData(fd int, _ event.Flag) {
	var msg [1024]byte
	n, err := unix.Read(fd, msg[:len(msg)-1]) // read(fd, msg, sizeof(msg) - 1)
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
	if msg[n-1] == '\n' { // if (msg[ret - 1] == '\n') msg[ret - 1] = '\0'
		msg[n-1] = 0
	}
	if err := writeAll(c.sockfd, msg[:n]); err != nil { // write(sockfd, msg, ret)
		c.stop(fmt.Errorf("write to server failed!: %w", err))
		return
	}
	if bytes.HasPrefix(cString(msg[:n]), []byte("exit")) { // if (strncmp(msg, "exit", 4) == 0)
		c.leave()
	}
}

// leave is what the original did after sending "exit": it sends 1024 NUL
// bytes, waits 100 ms for them to reach the server, and closes the
// connection. The original slept in the callback and then exited 1 from
// it; here the loop ends 100 ms later, having read nothing more, and the
// client ends as after any other normal end.
func (c *client) leave() {
	// memset(msg, 0, sizeof(msg)); write(sockfd, msg, sizeof(msg))
	var zeros [1024]byte
	if err := writeAll(c.sockfd, zeros[:]); err != nil {
		c.stop(fmt.Errorf("write to server failed!: %w", err))
		return
	}
	c.evSock.Del()
	c.evCmd.Del()
	// usleep(100000); close(sockfd); exit(1)
	if err := c.base.Once(-1, event.Timeout, 100*time.Millisecond, func(int, event.Flag) { c.stop(nil) }); err != nil {
		c.stop(err)
	}
}

// socketReadData is socket_read_data: it prints what the server sent, as
// the original printed it, up to its first NUL.
func (c *client) socketReadData(fd int, _ event.Flag) {
	var msg [1024]byte
	// The original did not consider a reply longer than one read; neither
	// does this: the rest comes with the next read.
	n, err := unix.Read(fd, msg[:len(msg)-1]) // read(fd, msg, sizeof(msg) - 1)
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
	fmt.Printf("recv from server <<< %s\n", chomp(cString(msg[:n]))) // msg[len] = '\0'
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
