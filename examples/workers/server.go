package main

import (
	"fmt"
	"net"
	"os"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
	"golang.org/x/sys/unix"
)

const (
	// maxLine is the longest request line; a longer one is an error.
	maxLine = 4096
	// maxOutput is how many bytes of answers may wait for a client that
	// does not read them before its connection stops reading requests.
	// Reading resumes when they drain to half of it.
	maxOutput = 64 << 10
)

// server is the loop's state: the pool, and the connections waiting for
// room in its queue, first come first served.
type server struct {
	base    *event.Base
	pool    *pool
	waiting []*conn
}

// conn is one connection. Every field belongs to the loop's goroutine.
type conn struct {
	srv      *server
	bev      *bufferevent.BufferEvent
	peer     string
	next     uint64            // sequence number of the next request
	sendNext uint64            // sequence number of the next answer to write
	early    map[uint64][]byte // answers that came before an earlier one
	waiting  bool              // in srv.waiting
	eof      bool              // the client sends no more requests
	freed    bool
}

func runServer(addr string, workers, queue int) error {
	base, err := event.NewBase()
	if err != nil {
		return err
	}
	defer base.Close()
	s := &server{base: base}
	l, err := listener.NewBind(base, s.accept, listener.Reuseable|listener.CloseOnFree, -1, "tcp", addr)
	if err != nil {
		return err
	}
	defer l.Free()
	if err := stopOnSignals(base); err != nil {
		return err
	}
	s.pool = newPool(base, workers, queue) // threadPoolCreate(min, max, queueSize)
	defer s.pool.destroy()                 // threadPoolDestroy(pool), once the loop has ended
	fmt.Printf("listening on %s\n", l.Addr())
	return base.Dispatch()
}

// accept gives a new connection its BufferEvent.
func (s *server) accept(l *listener.Listener, fd int, addr net.Addr) {
	bev, err := bufferevent.New(s.base, fd, bufferevent.CloseOnFree)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bufferevent: %v\n", err)
		unix.Close(fd)
		return
	}
	c := &conn{srv: s, bev: bev, peer: addr.String(), early: make(map[uint64][]byte)}
	fmt.Printf("accept a client %s\n", c.peer)
	bev.SetCallbacks(c.readCB, c.writeCB, c.eventCB)
	bev.SetWatermark(event.Write, maxOutput/2, 0) // writeCB when the answers drain to half
	bev.Enable(event.Read)
}

func (c *conn) readCB(*bufferevent.BufferEvent) { c.process() }

// process queues the complete request lines in the input while the pool
// has room and the client reads its answers; otherwise it stops reading
// until that changes.
func (c *conn) process() {
	in := c.bev.Input()
	for !c.freed && !c.waiting {
		if c.bev.Output().Len() >= maxOutput {
			c.bev.Disable(event.Read) // writeCB resumes
			return
		}
		if c.srv.pool.full() {
			c.bev.Disable(event.Read) // deliver, through wakeWaiting, resumes
			c.waiting = true
			c.srv.waiting = append(c.srv.waiting, c)
			return
		}
		line, ok := in.ReadLine(bufferevent.EOLCRLF)
		if !ok && c.eof && in.Len() > 0 {
			line, ok = in.Peek(-1), true // a last line without a newline
			line = append([]byte(nil), line...)
			in.Reset()
		}
		if !ok {
			break
		}
		c.srv.pool.add(task{c: c, seq: c.next, line: line})
		c.next++
	}
	if !c.freed && !c.eof && in.Len() > maxLine {
		// No request is this long: answer an error, after the answers
		// before it, and close.
		c.eof = true
		c.bev.Disable(event.Read)
		in.Reset()
		c.next++
		c.deliver(c.next-1, []byte(fmt.Sprintf("error: line longer than %d bytes\n", maxLine)))
	}
	c.closeIfDone()
}

// deliver takes the answer to request seq, on the loop's goroutine, and
// writes every answer that is now next in order. A worker has finished, so
// connections waiting for room in the queue may go on.
func (c *conn) deliver(seq uint64, answer []byte) {
	if !c.freed {
		c.early[seq] = answer
		for a, ok := c.early[c.sendNext]; ok; a, ok = c.early[c.sendNext] {
			delete(c.early, c.sendNext)
			c.sendNext++
			c.bev.Write(a)
		}
		c.closeIfDone()
	}
	c.srv.wakeWaiting()
}

// wakeWaiting lets waiting connections go on while the queue has room.
func (s *server) wakeWaiting() {
	for len(s.waiting) > 0 && !s.pool.full() {
		c := s.waiting[0]
		s.waiting = s.waiting[1:]
		c.waiting = false
		if c.freed {
			continue
		}
		if !c.eof {
			c.bev.Enable(event.Read)
		}
		c.process()
	}
}

// writeCB runs when the answers have drained to half of maxOutput: a
// connection that stopped reading for them goes on.
func (c *conn) writeCB(*bufferevent.BufferEvent) {
	if !c.eof && !c.waiting && c.bev.Enabled()&event.Read == 0 {
		c.bev.Enable(event.Read)
		c.process()
		return
	}
	c.closeIfDone()
}

// eventCB handles the end of the client's requests, and errors.
func (c *conn) eventCB(bev *bufferevent.BufferEvent, what bufferevent.What) {
	if what&bufferevent.EOF != 0 {
		c.eof = true
		c.process() // a last line without a newline
		return
	}
	if what&bufferevent.Error != 0 {
		fmt.Fprintf(os.Stderr, "client %s: %v\n", c.peer, bev.Err())
	}
	c.free()
}

// closeIfDone closes the connection once the client has sent its last
// request and every answer is out.
func (c *conn) closeIfDone() {
	if c.eof && !c.freed && !c.waiting && c.sendNext == c.next && c.bev.Output().Len() == 0 {
		c.free()
	}
}

func (c *conn) free() {
	c.freed = true
	c.bev.Free()
	fmt.Printf("client %s closed\n", c.peer)
}
