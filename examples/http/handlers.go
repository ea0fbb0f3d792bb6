package main

import (
	"bytes"
	"errors"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

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
			c.status(statusMethodNotAllowd, "Allow: POST\r\n")
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
	c.status(statusMethodNotAllowd, "Allow: GET, HEAD\r\n")
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

// static answers GET and HEAD for a file under the root: its headers now,
// its contents through sendFile.
func (c *conn) static(rel []byte) {
	if !c.getOrHead() {
		return
	}
	name, status := c.srv.resolve(rel)
	if status != 0 {
		c.status(status, "")
		return
	}
	f, err := os.Open(name)
	if err != nil {
		c.status(fileError(err), "")
		return
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		f.Close()
		c.status(fileError(err), "")
		return
	case !fi.Mode().IsRegular():
		f.Close()
		c.status(statusForbidden, "") // directories are not listed
		return
	}
	ctype := mime.TypeByExtension(filepath.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	c.w.buf = appendHead(c.w.buf, statusOK, ctype, fi.Size(), c.connHeader(), c.srv.date[:], "")
	if c.req.method == mHEAD || fi.Size() == 0 {
		f.Close()
		return
	}
	c.file, c.fileLeft = f, fi.Size()
}

// fileError maps an error opening a file to a status.
func fileError(err error) int {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return statusNotFound
	case errors.Is(err, fs.ErrPermission):
		return statusForbidden
	}
	return statusServerError
}

// resolve maps the part of a path after /static/ to a file name under the
// root. It decodes %XX escapes, refuses ".." segments (403) and any name
// that, once its symbolic links are followed, lies outside the root (403),
// so no request reaches a file the root does not hold.
func (s *server) resolve(rel []byte) (string, int) {
	dec, ok := unescapePath(rel)
	if !ok || strings.IndexByte(dec, 0) >= 0 {
		return "", statusBadRequest
	}
	for _, seg := range strings.Split(dec, "/") {
		if seg == ".." {
			return "", statusForbidden
		}
	}
	name, err := filepath.EvalSymlinks(filepath.Join(s.root, dec))
	if err != nil {
		return "", fileError(err)
	}
	if name != s.root && !strings.HasPrefix(name, s.root+string(filepath.Separator)) {
		return "", statusForbidden
	}
	return name, 0
}

// unescapePath decodes %XX escapes; a malformed one fails.
func unescapePath(b []byte) (string, bool) {
	if bytes.IndexByte(b, '%') < 0 {
		return string(b), true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '%' {
			out = append(out, b[i])
			continue
		}
		if i+2 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) {
			return "", false
		}
		out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
		i += 2
	}
	return string(out), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
