package main

import (
	"strconv"

	"github.com/levent-go/levent/bufferevent"
)

// Replies are gathered in a per-connection slice and added to the output
// buffer once per read callback: one Write, so one notification of the
// BufferEvent, however many requests the read brought. A value larger than
// bigValue goes straight to the output buffer instead of being copied
// twice.
const bigValue = 64 << 10

// Replies that need no formatting.
const (
	replyOK   = "+OK\r\n"
	replyPong = "+PONG\r\n"
	replyNil  = "$-1\r\n"
	replyZero = ":0\r\n"
	replyOne  = ":1\r\n"
	replyNone = "*0\r\n"
)

// replies gathers the replies of one read callback.
type replies struct {
	buf []byte
	out *bufferevent.Buffer // the connection's output
}

// flush moves the gathered replies to the output buffer.
func (r *replies) flush() {
	if len(r.buf) > 0 {
		r.out.Write(r.buf)
		r.buf = r.buf[:0]
	}
	if cap(r.buf) > 4*bigValue {
		r.buf = nil // a burst of large replies: do not keep its memory
	}
}

// pending returns the number of reply bytes not yet written to the socket.
func (r *replies) pending() int { return len(r.buf) + r.out.Len() }

func (r *replies) raw(s string) { r.buf = append(r.buf, s...) }

func (r *replies) simple(s string) {
	r.buf = append(r.buf, '+')
	r.buf = append(r.buf, s...)
	r.buf = append(r.buf, "\r\n"...)
}

// fail adds an error reply. Line breaks in msg become blanks, as Redis
// does, so that the reply stays one line.
func (r *replies) fail(msg string) {
	r.buf = append(r.buf, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		r.buf = append(r.buf, c)
	}
	r.buf = append(r.buf, "\r\n"...)
}

func (r *replies) int(n int64) {
	switch n {
	case 0:
		r.raw(replyZero)
	case 1:
		r.raw(replyOne)
	default:
		r.header(':', n)
	}
}

func (r *replies) arrayLen(n int) { r.header('*', int64(n)) }

func (r *replies) header(kind byte, n int64) {
	r.buf = append(r.buf, kind)
	r.buf = strconv.AppendInt(r.buf, n, 10)
	r.buf = append(r.buf, "\r\n"...)
}

// bulk adds a bulk string reply.
func (r *replies) bulk(v []byte) {
	r.header('$', int64(len(v)))
	if len(v) > bigValue {
		r.flush()
		r.out.Write(v)
	} else {
		r.buf = append(r.buf, v...)
	}
	r.buf = append(r.buf, "\r\n"...)
}
