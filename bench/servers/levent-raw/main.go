// Command levent-raw is the echo server of levent's echo benchmark on
// levent's bare events: each connection has one persistent read event whose
// callback reads into a buffer shared by all connections and writes it back
// at once with write(2). Only when the socket does not take everything is
// the rest kept, and a write event added until it drains; reads meanwhile
// join the backlog, up to maxPending, where reading pauses. One loop on one goroutine does all the I/O. It is the most levent's event
// loop can do for an echo, without bufferevent's buffers. Like every server
// of the benchmark it sets TCP_NODELAY on each connection, unless
// -nodelay=false.
//
//	levent-raw [-addr 127.0.0.1:9002] [-nodelay=true] [-cpuprofile file]
//
// SIGINT and SIGTERM end the loop; the program then exits 0.
package main

import (
	"net"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/bench/servers/internal/serve"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

func main() {
	serve.Main("levent-raw", "127.0.0.1:9002", func(o serve.Options) error {
		s := &server{nodelay: o.NoDelay, buf: make([]byte, 256<<10)}
		return serve.Levent(o.Addr, s.accept)
	})
}

// server holds the read buffer every connection shares: callbacks run one
// at a time on the loop's goroutine. The buffer is as large as the most a
// bufferevent reads at once, and allocated on its own so that it starts on
// a page: the kernel copies into a destination that is not 32-byte aligned
// at half the speed (measured: an array after a bool field in this struct
// doubled the CPU time per 64 KiB message).
type server struct {
	nodelay bool
	buf     []byte
}

// maxPending bounds the bytes kept for a connection whose socket is full:
// reading pauses there and resumes as the backlog drains, so a client that
// does not read cannot make the server buffer without bound, while one
// that reads a little slower than it writes keeps both directions moving.
const maxPending = 256 << 10

// conn is one connection. pending holds, in order, what the socket has not
// taken yet; the write event is pending exactly while it is not empty, the
// read event exactly while reading (len(pending) < maxPending).
type conn struct {
	s       *server
	fd      int
	rev     event.Event
	wev     event.Event
	pending []byte
	reading bool
}

func (s *server) accept(l *listener.Listener, fd int, _ net.Addr) {
	if s.nodelay {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	c := &conn{s: s, fd: fd, reading: true}
	if c.rev.Assign(l.Base(), fd, event.Read|event.Persist, c.onRead) != nil ||
		c.wev.Assign(l.Base(), fd, event.Write|event.Persist, c.onWrite) != nil ||
		c.rev.Add(0) != nil {
		c.close()
	}
}

func (c *conn) onRead(fd int, _ event.Flag) {
	n, err := unix.Read(fd, c.s.buf[:])
	for err == unix.EINTR {
		n, err = unix.Read(fd, c.s.buf[:])
	}
	switch {
	case err == unix.EAGAIN:
		return
	case err != nil || n == 0:
		c.close()
		return
	}
	if len(c.pending) > 0 {
		// Earlier bytes wait for room: these go after them.
		c.pending = append(c.pending, c.s.buf[:n]...)
	} else {
		w, err := write(fd, c.s.buf[:n])
		if err != nil {
			c.close()
			return
		}
		if w == n {
			return
		}
		c.pending = append(c.pending, c.s.buf[w:n]...)
		c.wev.Add(0)
	}
	if len(c.pending) >= maxPending {
		c.rev.Del()
		c.reading = false
	}
}

func (c *conn) onWrite(fd int, _ event.Flag) {
	w, err := write(fd, c.pending)
	if err != nil {
		c.close()
		return
	}
	c.pending = c.pending[:copy(c.pending, c.pending[w:])]
	if len(c.pending) == 0 {
		c.wev.Del()
	}
	if !c.reading && len(c.pending) < maxPending {
		c.rev.Add(0)
		c.reading = true
	}
}

// write writes p once, retrying EINTR; a full socket writes 0 bytes.
func write(fd int, p []byte) (int, error) {
	for {
		w, err := unix.Write(fd, p)
		switch err {
		case nil:
			return w, nil
		case unix.EAGAIN:
			return 0, nil
		case unix.EINTR:
			continue
		}
		return 0, err
	}
}

// close frees the events before closing the descriptor, as levent asks.
func (c *conn) close() {
	c.rev.Free()
	c.wev.Free()
	unix.Close(c.fd)
}
