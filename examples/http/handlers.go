package main

import "bytes"

// The routes:
//
//	GET, HEAD  /plaintext   "Hello, World!" (text/plain)
//	GET, HEAD  /json        {"message":"Hello, World!"}
//	GET, HEAD  /static/...  a file under -root
//	POST       /echo        the request body, back
//
// A method the server does not know gets 501, one the route does not
// take 405 with Allow, and any other path 404; the connection goes on.

const (
	plaintextBody = "Hello, World!"
	jsonBody      = `{"message":"Hello, World!"}`
)

// respond answers the request whose bytes start r, with its body.
func (c *conn) respond(r, body []byte) {
	path := c.req.path.of(r)
	switch {
	case c.req.method == mOther:
		c.status(statusNotImplemented, "")
	case string(path) == "/plaintext":
		c.fixed(c.srv.plaintext)
	case string(path) == "/json":
		c.fixed(c.srv.json)
	case string(path) == "/echo":
		if c.req.method != mPOST {
			c.status(statusNotAllowed, "Allow: POST\r\n")
			break
		}
		c.w.buf = appendHead(c.w.buf, statusOK, "application/octet-stream", int64(len(body)), c.connHeader(), c.srv.date[:], "")
		c.w.write(body)
	case bytes.HasPrefix(path, []byte("/static/")):
		c.static(path[len("/static/"):])
	default:
		c.status(statusNotFound, "")
	}
	if c.req.close {
		c.closeAfterReply()
	}
}

// connHeader says what the response's Connection header must say.
func (c *conn) connHeader() connection {
	switch {
	case c.req.close:
		return connClose
	case c.req.http10:
		return connKeepAlive
	}
	return connDefault
}

// getOrHead answers 405 unless the method is GET or HEAD.
func (c *conn) getOrHead() bool {
	if c.req.method == mGET || c.req.method == mHEAD {
		return true
	}
	c.status(statusNotAllowed, "Allow: GET, HEAD\r\n")
	return false
}

// fixed answers with a prebuilt response: as it is for HTTP/1.1 kept
// alive, the common case, which copies it and allocates nothing.
func (c *conn) fixed(p *prebuilt) {
	if !c.getOrHead() {
		return
	}
	if conn := c.connHeader(); conn != connDefault {
		c.w.buf = appendHead(c.w.buf, statusOK, p.ctype, int64(len(p.body)), conn, c.srv.date[:], "")
		if c.req.method == mGET {
			c.w.write(p.body)
		}
		return
	}
	if c.req.method == mHEAD {
		c.w.write(p.full[:p.head])
	} else {
		c.w.write(p.full)
	}
}

// status answers with status and a short text body; extra holds further
// header lines, each ended by CRLF.
func (c *conn) status(status int, extra string) {
	reason := reasons[status]
	length := int64(len(reason) + 5) // "404 Not Found\n"
	c.w.buf = appendHead(c.w.buf, status, "text/plain; charset=utf-8", length, c.connHeader(), c.srv.date[:], extra)
	if c.req.method != mHEAD {
		c.w.buf = append(c.w.buf, byte('0'+status/100), byte('0'+status/10%10), byte('0'+status%10), ' ')
		c.w.buf = append(c.w.buf, reason...)
		c.w.buf = append(c.w.buf, '\n')
	}
}
