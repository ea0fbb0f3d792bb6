package main

import "bytes"

// Request heads (RFC 9112, sections 2 to 6).
//
// A head is the request line and the header lines up to an empty line.
// headParser finds its end incrementally: each call looks only at the
// bytes after the last complete line it saw, so a head trickling in a byte
// at a time is scanned once. Once the head is complete it is parsed in one
// go into a request, which keeps offsets into the request's bytes rather
// than slices, so that it stays valid while the body arrives and the input
// buffer moves its storage.

// method is a request method the server knows.
type method uint8

const (
	mOther method = iota // a valid token the server does not implement: 501
	mGET
	mHEAD
	mPOST
	mPUT
	mDELETE
	mOPTIONS
	mPATCH
	mTRACE
	mCONNECT
)

var methods = map[string]method{
	"GET": mGET, "HEAD": mHEAD, "POST": mPOST, "PUT": mPUT, "DELETE": mDELETE,
	"OPTIONS": mOPTIONS, "PATCH": mPATCH, "TRACE": mTRACE, "CONNECT": mCONNECT,
}

// span is a part of the request's bytes: offset and length.
type span struct{ off, n int }

func (s span) of(buf []byte) []byte { return buf[s.off : s.off+s.n] }

// request is a parsed head.
type request struct {
	method    method
	path      span  // the request target up to '?'
	headLen   int   // bytes of the head, final empty line included
	length    int64 // Content-Length; -1 when there is none
	chunked   bool  // Transfer-Encoding: chunked
	close     bool  // the connection ends after the response
	http10    bool  // HTTP/1.0: a kept-alive response must say so
	expect100 bool  // Expect: 100-continue
}

// headParser finds and parses request heads.
type headParser struct {
	maxHeader int   // longest head accepted
	maxBody   int64 // largest body accepted
	scanned   int   // bytes of the pending head already searched: whole lines
}

// parse parses the head at the start of buf into req. It returns the
// head's length, or 0 when buf holds only part of it (the parser keeps its
// place: the next call must pass the same bytes and more), or an error
// status, after which the connection must be closed.
func (p *headParser) parse(buf []byte, req *request) (n, status int) {
	end, status := p.findEnd(buf)
	if end == 0 || status != 0 {
		return 0, status
	}
	p.scanned = 0
	if end > p.maxHeader {
		return 0, statusHeaderTooLarge
	}
	*req = request{length: -1, headLen: end}
	return end, p.parseHead(buf[:end], req)
}

// findEnd returns the length of the head, through its empty line, or 0
// when the head is not complete.
func (p *headParser) findEnd(buf []byte) (int, int) {
	for {
		i := bytes.IndexByte(buf[p.scanned:], '\n')
		if i < 0 {
			if len(buf) > p.maxHeader {
				return 0, statusHeaderTooLarge
			}
			return 0, 0
		}
		line := buf[p.scanned : p.scanned+i]
		p.scanned += i + 1
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			return p.scanned, 0
		}
	}
}

// skipEmptyLines returns how many CR and LF bytes start buf: the empty
// lines a server should ignore before a request line (RFC 9112, 2.2),
// which some clients send after a body.
func skipEmptyLines(buf []byte) int {
	i := 0
	for i < len(buf) && (buf[i] == '\r' || buf[i] == '\n') {
		i++
	}
	return i
}

// nextLine returns the line at head[*at:] without its terminator and
// moves *at past it; ok is false for a CR that does not end the line.
func nextLine(head []byte, at *int) (line []byte, ok bool) {
	i := bytes.IndexByte(head[*at:], '\n')
	line = head[*at : *at+i]
	*at += i + 1
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, bytes.IndexByte(line, '\r') < 0
}

// parseHead parses a complete head.
func (p *headParser) parseHead(head []byte, req *request) int {
	at := 0
	line, ok := nextLine(head, &at)
	if !ok {
		return statusBadRequest
	}
	if st := parseRequestLine(line, req); st != 0 {
		return st
	}
	var hosts int
	var te, teBad, keepAlive, connClose bool
	for {
		line, ok := nextLine(head, &at)
		switch {
		case !ok:
			return statusBadRequest
		case len(line) == 0:
			return p.finish(req, hosts, te, teBad, keepAlive, connClose)
		case line[0] == ' ' || line[0] == '\t':
			return statusBadRequest // obsolete line folding
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) {
			return statusBadRequest // also a blank before the colon
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		if !validValue(value) {
			return statusBadRequest
		}
		switch {
		case equalFold(name, "host"):
			hosts++
		case equalFold(name, "content-length"):
			n, ok := parseLength(value)
			if !ok || req.length >= 0 && req.length != n {
				return statusBadRequest
			}
			req.length = n
		case equalFold(name, "transfer-encoding"):
			te = true
			teBad = teBad || !equalFold(value, "chunked") || req.chunked
			req.chunked = true
		case equalFold(name, "connection"):
			forEachToken(value, func(tok []byte) {
				connClose = connClose || equalFold(tok, "close")
				keepAlive = keepAlive || equalFold(tok, "keep-alive")
			})
		case equalFold(name, "expect"):
			if !equalFold(value, "100-continue") {
				return statusExpectFailed
			}
			req.expect100 = true
		}
	}
}

// finish checks the head as a whole once its lines are parsed.
func (p *headParser) finish(req *request, hosts int, te, teBad, keepAlive, connClose bool) int {
	switch {
	case te && req.length >= 0:
		// Both framings: a smuggling attempt, or a broken proxy.
		return statusBadRequest
	case teBad:
		return statusNotImplemented // an encoding other than chunked
	case hosts > 1 || hosts == 0 && !req.http10:
		return statusBadRequest // HTTP/1.1 needs exactly one Host
	case req.length > p.maxBody:
		return statusTooLarge
	}
	if req.http10 {
		req.close = connClose || !keepAlive
	} else {
		req.close = connClose
	}
	return 0
}

// parseRequestLine parses "METHOD target HTTP/1.x".
func parseRequestLine(line []byte, req *request) int {
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 || !isToken(line[:sp1]) {
		return statusBadRequest
	}
	req.method = methods[string(line[:sp1])] // mOther when unknown
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return statusBadRequest
	}
	target, version := rest[:sp2], rest[sp2+1:]
	switch {
	case string(version) == "HTTP/1.1":
	case string(version) == "HTTP/1.0":
		req.http10 = true
	case len(version) == 8 && string(version[:5]) == "HTTP/" && isDigit(version[5]) && version[6] == '.' && isDigit(version[7]):
		return statusVersion
	default:
		return statusBadRequest
	}
	for _, c := range target {
		if c <= ' ' || c >= 0x7f {
			return statusBadRequest
		}
	}
	if target[0] != '/' && !(req.method == mOPTIONS && len(target) == 1 && target[0] == '*') {
		return statusBadRequest // absolute and authority forms are not served
	}
	path := target
	if q := bytes.IndexByte(target, '?'); q >= 0 {
		path = target[:q]
	}
	req.path = span{sp1 + 1, len(path)}
	return 0
}

// parseLength parses a Content-Length value: decimal digits only.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// tokenChars marks the characters of a token (RFC 9110, 5.6.2).
var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isToken(b []byte) bool {
	for _, c := range b {
		if !tokenChars[c] {
			return false
		}
	}
	return len(b) > 0
}

// validValue rejects control characters other than tab in a field value.
func validValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// trimOWS removes optional whitespace (spaces and tabs) around b.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// forEachToken calls fn with each element of a comma-separated list.
func forEachToken(b []byte, fn func([]byte)) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			i = len(b)
		}
		if tok := trimOWS(b[:i]); len(tok) > 0 {
			fn(tok)
		}
		b = b[min(i+1, len(b)):]
	}
}

// equalFold reports whether b is s in any case; s is lower case ASCII.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
