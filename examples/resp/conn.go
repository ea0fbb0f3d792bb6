package main

import (
	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
)

// conn is one client connection.
//
// Each read callback answers every complete request in the input, in
// order, gathering the replies and adding them to the output at once, and
// then drains the requests it answered; a partial request stays in the
// input, and the parser remembers how far it got. Two things stop a pass
// early:
//
//   - closing: a fatal protocol error or QUIT. Reading stops, and the
//     connection is freed once its last reply is written.
//   - paused: the replies waiting to be written passed cfg.maxOutput (a
//     client pipelining requests without reading the answers). Reading
//     stops until the output drains to half of that, and then the pass
//     goes on with the requests already read.
//
// The read high watermark is cfg.maxQuery, so the input never holds more
// than that: when it is full and holds no complete request, the request
// is too large, and the connection gets an error and is closed.
type conn struct {
	srv *server
	db  *store
	bev *bufferevent.BufferEvent // nil when a test drives the conn by hand
	in  *bufferevent.Buffer
	p   parser
	r   replies

	closing bool
	paused  bool
}

// newConn makes a conn on srv reading from in and replying to out.
func newConn(srv *server, bev *bufferevent.BufferEvent, in, out *bufferevent.Buffer) *conn {
	c := &conn{srv: srv, db: srv.db, bev: bev, in: in}
	c.p.maxBulk, c.p.maxInline = srv.cfg.maxBulk, srv.cfg.maxInline
	c.r.out = out
	return c
}

// serve answers the complete requests in the input.
func (c *conn) serve() {
	if c.closing || c.paused {
		return
	}
	if c.in.Len() >= c.p.need {
		buf := c.in.Peek(-1)
		off := 0
	requests:
		for off < len(buf) && !c.closing {
			if c.r.pending() > c.srv.cfg.maxOutput {
				c.pause()
				break
			}
			args, n, err := c.p.parse(buf[off:])
			off += n
			switch {
			case err != nil:
				c.protocolError(err)
			case n == 0:
				break requests // the rest is part of a request
			case len(args) > 0:
				c.exec(args)
			}
		}
		c.r.flush()
		c.in.Drain(off)
	}
	c.checkQuery()
}

// checkQuery closes the connection when the input is full up to the read
// high watermark with part of one request: reading has stopped, and that
// request could never be completed.
func (c *conn) checkQuery() {
	if !c.closing && !c.paused && c.in.Len() >= c.srv.cfg.maxQuery {
		c.r.fail("ERR Protocol error: request larger than the query buffer limit")
		c.r.flush()
		c.closeAfterReply()
	}
}

// protocolError replies to a malformed request and, when the framing is
// lost, closes the connection.
func (c *conn) protocolError(err error) {
	pe, _ := err.(*protoError)
	c.r.fail("ERR " + err.Error())
	if pe == nil || pe.fatal {
		c.closeAfterReply()
	}
}

// closeAfterReply stops reading and frees the connection once the output
// has been written.
func (c *conn) closeAfterReply() {
	c.closing = true
	if c.bev == nil {
		return
	}
	c.bev.Disable(event.Read)
	c.bev.SetWatermark(event.Write, 0, 0)
	c.bev.SetCallbacks(nil, c.onDrainedClose, c.onEvent)
}

// pause stops reading until the output drains to half of maxOutput.
func (c *conn) pause() {
	c.paused = true
	if c.bev == nil {
		return
	}
	c.bev.Disable(event.Read)
	c.bev.SetWatermark(event.Write, c.srv.cfg.maxOutput/2, 0)
	c.bev.SetCallbacks(c.onRead, c.onDrained, c.onEvent)
}

// onDrained resumes a paused connection: it reads again and answers the
// requests that were waiting in the input.
func (c *conn) onDrained(*bufferevent.BufferEvent) {
	if !c.paused {
		return
	}
	c.paused = false
	c.bev.SetCallbacks(c.onRead, nil, c.onEvent)
	c.bev.Enable(event.Read)
	c.serve()
}

func (c *conn) onRead(*bufferevent.BufferEvent) { c.serve() }

func (c *conn) onDrainedClose(*bufferevent.BufferEvent) { c.close() }

// onEvent ends the connection on an error, or on end of stream once the
// replies already due are written: a client may send its requests and
// shut down its side at once, as redis-cli does with a piped input.
func (c *conn) onEvent(_ *bufferevent.BufferEvent, what bufferevent.What) {
	if what&bufferevent.EOF != 0 && !c.closing && c.r.pending() > 0 {
		c.closeAfterReply()
		return
	}
	c.close()
}

func (c *conn) close() {
	c.bev.Free()
	delete(c.srv.conns, c)
}
