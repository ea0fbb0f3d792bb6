package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// maxLine is what fgets(buf, BUFSIZ, stdin) returns at most: a longer line
// is sent in pieces of this size, as the original sent it.
const maxLine = 8191

// client sends lines and counts replies. answered counts the datagrams that
// got an answer: a reply, or a refusal (ECONNREFUSED, from an ICMP "port
// unreachable" when no server listens).
type client struct {
	base     *event.Base
	sockfd   int
	evSock   *event.Event
	evStdin  *event.Event
	line     []byte // input read but not sent yet: a line without its newline
	reply    []byte
	sent     int
	replies  int
	answered int
	eof      bool
	wait     time.Duration
	err      error
}

func runClient(servaddr *unix.SockaddrInet4, wait time.Duration) error {
	sockfd, err := udpSocket() // sockfd = socket(AF_INET, SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(sockfd) // close(sockfd)
	// The original bound the client to the server's own address and port
	// (bind(sockfd, &servaddr, ...)), which fails when both run on one
	// host and was not checked, and then took a reply from anybody.
	// connect gives the client a port of its own and lets only the
	// server's datagrams in.
	if err := unix.Connect(sockfd, servaddr); err != nil {
		return os.NewSyscallError("connect", err)
	}

	base, err := newStdinBase() // event_base_new()
	if err != nil {
		return err
	}
	defer base.Close() // event_base_free(base)
	c := &client{base: base, sockfd: sockfd, reply: make([]byte, maxDatagram), wait: wait}

	// event_new(base, sockfd, EV_READ|EV_PERSIST, on_reply, c); event_add(ev, NULL)
	if c.evSock, err = event.New(base, sockfd, event.Read|event.Persist, c.onReply); err != nil {
		return err
	}
	defer c.evSock.Free()
	if err := c.evSock.Add(0); err != nil {
		return err
	}
	// event_new(base, STDIN_FILENO, EV_READ|EV_PERSIST, on_input, c); event_add(ev, NULL)
	if c.evStdin, err = event.New(base, unix.Stdin, event.Read|event.Persist, c.onInput); err != nil {
		return err
	}
	defer c.evStdin.Free()
	if err := c.evStdin.Add(0); err != nil {
		return err
	}
	if err := stopOnSignals(base); err != nil {
		return err
	}
	if err := base.Dispatch(); err != nil { // event_base_dispatch(base)
		return err
	}
	return c.err
}

// onInput is the original's fgets: it sends each complete line read as one
// datagram, a line longer than maxLine in pieces of maxLine bytes.
func (c *client) onInput(fd int, _ event.Flag) {
	var buf [4096]byte
	n, err := unix.Read(fd, buf[:])
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		c.finish(os.NewSyscallError("read", err))
		return
	case n == 0:
		c.endOfInput()
		return
	}
	c.line = append(c.line, buf[:n]...)
	rest := c.line
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 && len(rest) < maxLine {
			break
		}
		if i < 0 || i >= maxLine {
			i = maxLine - 1
		}
		c.send(rest[:i+1])
		rest = rest[i+1:]
	}
	c.line = c.line[:copy(c.line, rest)]
}

// send is the original's sendto, on a connected socket, of what fgets
// gave: up to its first NUL byte, since the length was strlen(buf).
func (c *client) send(line []byte) {
	datagram := line
	if i := bytes.IndexByte(line, 0); i >= 0 {
		datagram = line[:i]
	}
	// n = sendto(sockfd, buf, strlen(buf), 0, (struct sockaddr *)&servaddr, sizeof(servaddr))
	if _, err := unix.Write(c.sockfd, datagram); err != nil {
		fmt.Fprintf(os.Stderr, "sendto error: %v\n", err)
		return
	}
	c.sent++
}

// endOfInput sends the last line if it had no newline (fgets returns it
// too), stops reading, and waits for the outstanding replies, at most
// c.wait.
func (c *client) endOfInput() {
	if len(c.line) > 0 {
		c.send(c.line)
		c.line = c.line[:0]
	}
	c.eof = true
	c.evStdin.Del() // event_del(ev_stdin)
	if c.answered >= c.sent {
		c.finish(nil)
		return
	}
	// event_base_once(base, -1, EV_TIMEOUT, give_up_cb, c, &wait)
	err := c.base.Once(-1, event.Timeout, c.wait, func(int, event.Flag) { c.finish(nil) })
	if err != nil {
		c.finish(err)
	}
}

// onReply is the original's recvfrom and write to standard output: it
// prints each reply as it comes.
func (c *client) onReply(fd int, _ event.Flag) {
	// n = recvfrom(sockfd, buf, BUFSIZ, 0, NULL, 0)
	n, err := unix.Read(fd, c.reply)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err == unix.ECONNREFUSED:
		// No server: an ICMP error answered one of the datagrams.
		fmt.Fprintf(os.Stderr, "recvfrom error: %v\n", err)
		c.answered++
	case err != nil:
		fmt.Fprintf(os.Stderr, "recvfrom error: %v\n", err)
		return
	default:
		os.Stdout.Write(c.reply[:n]) // write(STDOUT_FILENO, buf, n)
		c.replies++
		c.answered++
	}
	if c.eof && c.answered >= c.sent {
		c.finish(nil)
	}
}

// finish ends the loop: with err, or with an error when a datagram went
// unanswered.
func (c *client) finish(err error) {
	if err == nil && c.replies < c.sent {
		err = fmt.Errorf("%d of %d datagrams got no reply", c.sent-c.replies, c.sent)
	}
	if c.err == nil {
		c.err = err
	}
	c.evSock.Del()
	c.evStdin.Del()
	c.base.LoopExit(0)
}

// newStdinBase returns a base that can watch standard input. epoll accepts
// pipes and sockets but refuses regular files and some devices (/dev/null)
// with EPERM; for those, and for terminals, the base uses poll, which
// reports a file as always readable.
func newStdinBase() (*event.Base, error) {
	var st unix.Stat_t
	if err := unix.Fstat(unix.Stdin, &st); err == nil {
		if t := st.Mode & unix.S_IFMT; t == unix.S_IFIFO || t == unix.S_IFSOCK {
			return event.NewBase()
		}
	}
	return event.NewBaseWithConfig(event.Config{AvoidMethods: []string{"epoll"}})
}
