package main

import (
	"bytes"
	"strconv"
	"time"

	"github.com/levent-go/levent/bufferevent"
)

// Response statuses.
const (
	statusOK             = 200
	statusBadRequest     = 400
	statusForbidden      = 403
	statusNotFound       = 404
	statusNotAllowed     = 405
	statusRequestTimeout = 408
	statusTooLarge       = 413
	statusExpectFailed   = 417
	statusHeaderTooLarge = 431
	statusServerError    = 500
	statusNotImplemented = 501
	statusVersion        = 505
)

var reasons = map[int]string{
	statusOK:             "OK",
	statusBadRequest:     "Bad Request",
	statusForbidden:      "Forbidden",
	statusNotFound:       "Not Found",
	statusNotAllowed:     "Method Not Allowed",
	statusRequestTimeout: "Request Timeout",
	statusTooLarge:       "Content Too Large",
	statusExpectFailed:   "Expectation Failed",
	statusHeaderTooLarge: "Request Header Fields Too Large",
	statusServerError:    "Internal Server Error",
	statusNotImplemented: "Not Implemented",
	statusVersion:        "HTTP Version Not Supported",
}

// dateLayout is the IMF-fixdate of the Date header (RFC 9110, 5.6.7),
// always 29 bytes.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 GMT"

// appendDate appends t as a Date value.
func appendDate(b []byte, t time.Time) []byte { return t.UTC().AppendFormat(b, dateLayout) }

// connection says what the Connection header of a response says.
type connection uint8

const (
	connDefault   connection = iota // HTTP/1.1 kept alive: nothing
	connClose                       // Connection: close
	connKeepAlive                   // HTTP/1.0 kept alive: Connection: keep-alive
)

// appendHead appends a status line and headers, through the empty line.
func appendHead(b []byte, status int, ctype string, length int64, conn connection, date []byte, extra string) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, reasons[status]...)
	if ctype != "" {
		b = append(b, "\r\nContent-Type: "...)
		b = append(b, ctype...)
	}
	b = append(b, "\r\nDate: "...)
	b = append(b, date...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, length, 10)
	switch conn {
	case connClose:
		b = append(b, "\r\nConnection: close"...)
	case connKeepAlive:
		b = append(b, "\r\nConnection: keep-alive"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, extra...)
	return append(b, "\r\n"...)
}

// prebuilt is a whole response made in advance: the common answer of a
// fixed route, for HTTP/1.1 with the connection kept alive. Only its Date
// changes, once a second, in place.
type prebuilt struct {
	full  []byte // status line, headers and body
	head  int    // length of the status line and headers: what HEAD sends
	date  int    // offset of the Date value in full
	ctype string
	body  []byte
}

func newPrebuilt(ctype, body string, now time.Time) *prebuilt {
	var date [len(dateLayout)]byte
	appendDate(date[:0], now)
	p := &prebuilt{ctype: ctype, body: []byte(body)}
	p.full = appendHead(nil, statusOK, ctype, int64(len(body)), connDefault, date[:], "")
	p.head = len(p.full)
	p.date = bytes.Index(p.full, []byte("\r\nDate: ")) + len("\r\nDate: ")
	p.full = append(p.full, body...)
	return p
}

// stamp writes a new Date value.
func (p *prebuilt) stamp(date []byte) { copy(p.full[p.date:], date) }

// out gathers the responses of one read callback and adds them to the
// output buffer with one write. A body larger than bigBody goes straight
// to the output buffer instead of being copied twice.
type out struct {
	buf []byte
	dst *bufferevent.Buffer
}

const bigBody = 64 << 10

func (o *out) flush() {
	if len(o.buf) > 0 {
		o.dst.Write(o.buf)
		o.buf = o.buf[:0]
	}
	if cap(o.buf) > 4*bigBody {
		o.buf = nil
	}
}

// pending returns the response bytes not yet written to the socket.
func (o *out) pending() int { return len(o.buf) + o.dst.Len() }

func (o *out) write(b []byte) {
	if len(b) > bigBody {
		o.flush()
		o.dst.Write(b)
		return
	}
	o.buf = append(o.buf, b...)
}
