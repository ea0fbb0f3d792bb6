package main

import (
	"io"
	"os"
	"time"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
)

// conn is one client connection.
//
// Each read callback answers every complete request in the input, in
// order (pipelining), gathering the responses and adding them to the
// output at once, and then drains the requests it answered. A request
// whose head or body is not complete stays at the front of the input; the
// head parser and the chunked decoder remember how far they got.
//
// Two things end a pass early:
//
//   - closing: the response says Connection: close (asked for, HTTP/1.0,
//     or an error that leaves the framing unknown). Reading stops; once the
//     last response is written the connection shuts down its sending side,
//     discards what the client still sends for a moment (so the client
//     reads the response rather than a reset), and is freed.
//   - paused: responses waiting to be written passed cfg.maxOutput, or a
//     static file is being sent. Reading stops until the output drains to
//     half of that; then the file goes on, or the pass goes on with the
//     requests already read.
//
// Timeouts use the BufferEvent's read timeout, which counts from the last
// read. While no request is under way it is the idle timeout. While a
// head is arriving it is the time left until the header deadline, set
// again after every read, so a client sending one byte a second still
// meets the deadline, counted from the head's first bytes. A client that
// misses it gets 408 and is disconnected.
type conn struct {
	srv *server
	bev *bufferevent.BufferEvent // nil when a test drives the conn by hand
	in  *bufferevent.Buffer
	w   out

	hp       headParser
	req      request
	haveHead bool // req is the head of the request at the front of the input
	skip     int  // empty lines before that head
	chunk    chunkedBody
	need     int  // the input must hold this much before the pending request can progress
	sent100  bool // 100 Continue was sent for the pending request

	file     *os.File // a static file being sent
	fileLeft int64    // bytes of it not yet added to the output

	closing bool
	paused  bool

	headStart time.Time     // when the pending head's first bytes came; zero when none
	armed     time.Duration // the read timeout in force
}

// newConn makes a conn on srv reading from in and answering into out.
func newConn(srv *server, bev *bufferevent.BufferEvent, in, out *bufferevent.Buffer) *conn {
	c := &conn{srv: srv, bev: bev, in: in}
	c.w.dst = out
	c.hp.maxHeader = srv.cfg.maxHeader
	c.hp.maxBody = int64(srv.cfg.maxBody)
	c.chunk.maxBody = srv.cfg.maxBody
	return c
}

// serve answers the complete requests in the input.
func (c *conn) serve() {
	for !c.closing && !c.paused {
		if c.file != nil && !c.sendFile() {
			return // the rest of the file, and then the rest of the input, when the output drains
		}
		if !c.pass() {
			break
		}
	}
	c.armTimeouts()
}

// pass answers requests until the input holds no complete one, the output
// is full, or a response is a file to send. It reports whether it stopped
// for a file.
func (c *conn) pass() bool {
	if c.in.Len() < c.need {
		return false
	}
	buf := c.in.Peek(-1)
	off := 0
	for off < len(buf) && !c.closing && c.file == nil {
		if c.w.pending() > c.srv.cfg.maxOutput {
			c.pause()
			break
		}
		n := c.next(buf[off:])
		if n == 0 {
			break
		}
		off += n
	}
	c.w.flush()
	c.in.Drain(off)
	return c.file != nil && !c.closing
}

// next answers the request at the start of buf and returns its length,
// or 0 when it is not complete (or the connection is closing).
func (c *conn) next(buf []byte) int {
	if !c.haveHead {
		c.skip = skipEmptyLines(buf)
		n, status := c.hp.parse(buf[c.skip:], &c.req)
		if status != 0 {
			c.fail(status)
			return 0
		}
		if n == 0 {
			return 0
		}
		c.haveHead = true
	}
	r := buf[c.skip:] // the request, from its head
	total := c.req.headLen
	var body []byte
	switch {
	case c.req.chunked:
		t, need, status := c.chunk.decode(r, c.req.headLen)
		if status != 0 {
			c.fail(status)
			return 0
		}
		if t == 0 {
			c.waitBody(c.skip + need)
			return 0
		}
		total, body = t, c.chunk.data
	case c.req.length > 0:
		total += int(c.req.length)
		if len(r) < total {
			c.waitBody(c.skip + total)
			return 0
		}
		body = r[c.req.headLen:total]
	}
	c.respond(r, body)
	c.haveHead, c.need, c.sent100 = false, 0, false
	c.chunk.reset()
	return c.skip + total
}

// waitBody records how much input the pending request needs, and sends
// 100 Continue if the client waits for it before sending its body.
func (c *conn) waitBody(need int) {
	c.need = need
	if c.req.expect100 && !c.sent100 {
		c.sent100 = true
		c.w.write(continueResponse)
	}
}

var continueResponse = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// fail answers a request the server cannot read past, and closes.
func (c *conn) fail(status int) {
	c.req = request{method: mGET, close: true}
	c.status(status, "")
	c.closeAfterReply()
}

// armTimeouts sets the read timeout for what the connection waits for:
// the rest of a head, or the next request or the rest of a body.
func (c *conn) armTimeouts() {
	if c.bev == nil || c.closing || c.paused {
		return
	}
	idle := c.srv.cfg.idleTimeout
	if c.haveHead || c.in.Len() == 0 {
		c.headStart = time.Time{}
		if c.armed != idle {
			c.armed = idle
			c.bev.SetTimeouts(idle, idle)
		}
		return
	}
	now := c.srv.base.Now()
	if c.headStart.IsZero() {
		c.headStart = now
	}
	left := c.srv.cfg.headerTimeout - now.Sub(c.headStart)
	if left <= 0 {
		c.timedOut()
		return
	}
	c.armed = left
	c.bev.SetTimeouts(left, idle)
}

// timedOut ends a connection whose read timeout passed: with 408 if a
// request was under way, silently if it was idle.
func (c *conn) timedOut() {
	if c.in.Len() == 0 && !c.haveHead {
		c.close()
		return
	}
	c.fail(statusRequestTimeout)
	c.w.flush()
}

// closeAfterReply stops reading; the connection ends once its output is
// written.
func (c *conn) closeAfterReply() {
	c.closing = true
	if c.bev == nil {
		return
	}
	c.bev.Disable(event.Read)
	c.bev.SetWatermark(event.Write, 0, 0)
	c.bev.SetCallbacks(nil, c.onDrainedClose, c.onEvent)
}

// lingerTime bounds how long a closing connection discards what its client
// still sends.
const lingerTime = 2 * time.Second

// onDrainedClose runs once the last response is written. It sends the end
// of stream and waits, discarding input, for the client's own end (or for
// lingerTime): closing with unread input would make the kernel send a
// reset, which can destroy the response before the client reads it.
func (c *conn) onDrainedClose(bev *bufferevent.BufferEvent) {
	if c.file != nil && !c.sendFile() || bev.Output().Len() > 0 {
		return // more of the file to send first, or its last part to write
	}
	// The end of stream: shutdown(SHUT_WR), after a close_notify on TLS.
	if bev.CloseWrite() != nil {
		c.close()
		return
	}
	bev.Input().Reset()
	bev.SetCallbacks(func(bev *bufferevent.BufferEvent) { bev.Input().Reset() }, nil,
		func(*bufferevent.BufferEvent, bufferevent.What) { c.close() })
	bev.SetTimeouts(lingerTime, 0)
	bev.Enable(event.Read)
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

// onDrained resumes a paused connection: the file being sent goes on, and
// the requests waiting in the input are answered.
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

// fileChunk is how much of a static file is read at a time.
const fileChunk = 256 << 10

// sendFile adds the next part of the file being sent to the output, until
// maxOutput bytes wait to be written, and reports whether all of it has
// been added. Until then the connection is paused (or, when closing, waits
// for its output to drain). A file that cannot be read to the length
// announced ends the connection: the response cannot be completed.
func (c *conn) sendFile() bool {
	c.w.flush()
	for c.fileLeft > 0 && c.w.pending() <= c.srv.cfg.maxOutput {
		n, err := c.w.dst.ReadFrom(io.LimitReader(c.file, min(c.fileLeft, fileChunk)))
		c.fileLeft -= n
		if err != nil || n == 0 && c.fileLeft > 0 {
			c.close()
			return false
		}
	}
	if c.fileLeft > 0 {
		if !c.closing {
			c.pause()
		}
		return false
	}
	c.file.Close()
	c.file = nil
	return true
}

// onEvent handles a timeout, the end of the client's stream or an error.
func (c *conn) onEvent(_ *bufferevent.BufferEvent, what bufferevent.What) {
	switch {
	case what == bufferevent.Connected:
		// HTTPS: the handshake is done; requests come next.
	case what == bufferevent.Reading|bufferevent.Timeout && !c.closing:
		c.timedOut()
	case what&bufferevent.EOF != 0 && !c.closing && (c.w.pending() > 0 || c.file != nil):
		// The client finished sending and waits for its responses.
		c.closeAfterReply()
	default:
		c.close()
	}
}

func (c *conn) close() {
	if c.file != nil {
		c.file.Close()
		c.file = nil
	}
	if c.bev != nil {
		c.bev.Free()
	}
	delete(c.srv.conns, c)
}
