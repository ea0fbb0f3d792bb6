package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// bufLen is BUFLEN: the reply buffer holds "->" and up to bufLen-3 bytes
// read, as the original's, which kept the last byte for the NUL it put
// after what it read. A client that sends more at once gets it answered in
// pieces of at most 1021 bytes, as the original answered it.
const bufLen = 1024

// welcome is what the server sends first on every connection.
const welcome = "Welcome.\n"

// connStat is ConnectStat: one connection's descriptor, its one event, the
// reply buffer, and what is left of the reply being sent.
type connStat struct {
	base    *event.Base
	fd      int
	ev      event.Event // struct event *ev: held inside, set with Assign
	sendBuf [bufLen]byte
	out     []byte // the unsent rest of the reply (welcome or sendBuf)
}

func runServer(ip [4]byte, port int) error {
	// int listen_sock = startup(argv[1], atoi(argv[2]))
	listenSock, err := startup(ip, port)
	if err != nil {
		return err
	}
	defer unix.Close(listenSock)

	base, err := event.NewBase() // ev_base = event_base_new()
	if err != nil {
		return err
	}
	defer base.Close() // event_base_free(ev_base)

	// ev_listen = event_new(ev_base, listen_sock, EV_READ|EV_PERSIST, accept_connection, ev_base)
	evListen, err := event.New(base, listenSock, event.Read|event.Persist,
		func(fd int, _ event.Flag) { acceptConnection(base, fd) })
	if err != nil {
		return err
	}
	defer evListen.Free()                   // event_free(ev_listen), before close(listen_sock)
	if err := evListen.Add(0); err != nil { // event_add(ev_listen, NULL)
		return err
	}
	if err := stopOnSignals(base); err != nil {
		return err
	}
	// The original printed nothing here; a client or a test can wait for
	// this line instead of retrying to connect.
	sa, err := unix.Getsockname(listenSock)
	if err != nil {
		return os.NewSyscallError("getsockname", err)
	}
	fmt.Printf("listening on %s\n", sockaddrString(sa))
	return base.Dispatch() // event_base_dispatch(ev_base)
}

// startup creates the listening socket: socket, SO_REUSEADDR, bind, listen.
// Unlike the original it is non-blocking, so that an accept with nothing to
// accept (the client reset the connection before the callback ran) returns
// EAGAIN instead of blocking the whole loop.
func startup(ip [4]byte, port int) (int, error) {
	sock, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0) // socket(AF_INET, SOCK_STREAM, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	unix.CloseOnExec(sock)
	fail := func(call string, err error) (int, error) {
		unix.Close(sock)
		return -1, os.NewSyscallError(call, err)
	}
	if err := unix.SetNonblock(sock, true); err != nil {
		return fail("fcntl", err)
	}
	// setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof(opt))
	if err := unix.SetsockoptInt(sock, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt", err)
	}
	// bind(sock, (struct sockaddr*)&local, sizeof(local))
	if err := unix.Bind(sock, &unix.SockaddrInet4{Port: port, Addr: ip}); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(sock, 5); err != nil { // listen(sock, 5)
		return fail("listen", err)
	}
	return sock, nil
}

// acceptConnection is accept_connection: it accepts one client, greets it
// and gives the connection its event.
func acceptConnection(base *event.Base, fd int) {
	// int new_fd = accept(fd, (struct sockaddr*)&peer, &len)
	newFd, peer, err := unix.Accept(fd)
	if err != nil {
		// The original tested new_fd > 0, taking a valid descriptor 0 for
		// a failure; errors that only mean "nothing to accept now" are not
		// reported.
		if err != unix.EAGAIN && err != unix.EINTR && err != unix.ECONNABORTED {
			fmt.Fprintf(os.Stderr, "accept failed: %v\n", err)
		}
		return
	}
	unix.CloseOnExec(newFd)
	// stat_init forgot its return statement, so the original handed an
	// undefined pointer to every callback.
	stat := &connStat{base: base, fd: newFd, out: []byte(welcome)} // stat_init(new_fd)
	if err := unix.SetNonblock(newFd, true); err != nil {          // set_nonblock(new_fd)
		fmt.Fprintf(os.Stderr, "fcntl failed[fd: %d], reason: %v\n", newFd, err)
		unix.Close(newFd)
		return
	}
	fmt.Printf("new client: %s\n", sockaddrString(peer))
	// ev = event_new(ev_base, new_fd, EV_WRITE, do_welcome_handler, stat); event_add(ev, NULL)
	stat.wait(event.Write, stat.doEchoResponse)
}

// wait points the connection's event at what and cb and adds it: the
// original's event_set, "stat->ev->ev_base = ev_base" and event_add. The
// event is not persistent, so it is not pending while its callback runs,
// and Assign (which refuses a pending event) may re-point it there.
func (c *connStat) wait(what event.Flag, cb event.Callback) {
	err := c.ev.Assign(c.base, c.fd, what, cb) // event_set(stat->ev, fd, what, cb, stat); stat->ev->ev_base = ev_base
	if err == nil {
		err = c.ev.Add(0) // event_add(stat->ev, NULL)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "event_add failed[fd: %d], reason: %v\n", c.fd, err)
		c.close()
	}
}

// close is the original's event_free, close and free, in that order: Free
// takes the descriptor out of the kernel before it is closed.
func (c *connStat) close() {
	c.ev.Free()      // event_free(stat->ev)
	unix.Close(c.fd) // close(fd); free(stat) is the garbage collector's
}

// doEchoHandler is do_echo_handler: it reads what the client sent and
// queues "->" and that as the reply, or closes the connection on "quit".
//
// What one read gets is the message, taken as the original took it, as a C
// string: up to its first NUL. The seeds' client ends each line with a NUL
// instead of a newline, and leaves with 1024 NUL bytes, each read of them an
// empty message answered with a bare "->".
func (c *connStat) doEchoHandler(fd int, _ event.Flag) {
	// p = stat->send_buf; *p++ = '-'; *p++ = '>';
	c.sendBuf[0], c.sendBuf[1] = '-', '>'
	n, err := unix.Read(fd, c.sendBuf[2:bufLen-1]) // read(fd, p, BUFLEN - (p - stat->send_buf) - 1)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		// The original reported these as failures and left the connection
		// with no event, never to be served or closed.
		c.wait(event.Read, c.doEchoHandler)
		return
	case err != nil:
		// The same leak for real errors; the connection is closed now.
		fmt.Fprintf(os.Stderr, "read failed[fd: %d], reason: %v\n", fd, err)
		c.close()
		return
	case n == 0: // client:close
		fmt.Fprintf(os.Stderr, "Remote connection[fd: %d] has been closed\n", fd)
		c.close()
		return
	}
	msg := cString(c.sendBuf[2 : 2+n]) // *(p+_s) = '\0'
	fmt.Printf("receive from client: %s\n", chomp(msg))
	// if (!strncasecmp(p, "quit", 4)): a message that starts with quit, in any case.
	if len(msg) >= 4 && bytes.EqualFold(msg[:4], []byte("quit")) {
		c.close()
		return
	}
	// int len = strlen(stat->send_buf): the reply is "->" and the message.
	c.out = c.sendBuf[:2+len(msg)]
	// event_set(stat->ev, fd, EV_WRITE, do_echo_response, stat); event_add(stat->ev, NULL)
	c.wait(event.Write, c.doEchoResponse)
}

// doEchoResponse is do_echo_response, and do_welcome_handler too: the two
// differed only in what they wrote, so the welcome is queued as the first
// reply. It writes what is left of the reply, then waits for the client.
func (c *connStat) doEchoResponse(fd int, _ event.Flag) {
	n, err := unix.Write(fd, c.out) // write(fd, stat->send_buf, len)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		c.wait(event.Write, c.doEchoResponse)
		return
	case err == unix.EPIPE || err == unix.ECONNRESET:
		fmt.Fprintf(os.Stderr, "Remote connection[fd: %d] has been closed\n", fd)
		c.close()
		return
	case err != nil:
		// The original said "read faield" here and left the connection
		// with no event; it is closed now.
		fmt.Fprintf(os.Stderr, "write failed[fd: %d], reason: %v\n", fd, err)
		c.close()
		return
	}
	c.out = c.out[n:]
	if len(c.out) > 0 {
		// A short write: the original dropped the rest (and, for the
		// welcome, the whole connection); the rest waits for room.
		c.wait(event.Write, c.doEchoResponse)
		return
	}
	// event_set(stat->ev, fd, EV_READ, do_echo_handler, stat); event_add(stat->ev, NULL)
	c.wait(event.Read, c.doEchoHandler)
}

// sockaddrString formats an IPv4 socket address as inet_ntoa and ntohs
// would, "ip:port".
func sockaddrString(sa unix.Sockaddr) string {
	if a, ok := sa.(*unix.SockaddrInet4); ok {
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	}
	return fmt.Sprintf("%v", sa)
}
