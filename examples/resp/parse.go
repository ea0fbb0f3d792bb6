package main

import (
	"bytes"
	"fmt"
)

// Request framing (RESP2, as a Redis server reads it).
//
// A request is either a multibulk array of bulk strings
//
//	*<count>\r\n $<len>\r\n <len bytes>\r\n ...
//
// or an inline command: one line of words separated by blanks, with
// redis-cli's quoting ("a b", 'c', "\x41"), ended by \n or \r\n.
//
// The parser reads from the connection's input buffer without copying:
// the arguments it returns are slices of that buffer. When the buffer holds
// only the start of a request, the parser remembers how far it got (offsets
// from the request's start, which stay valid when the buffer moves its
// storage) and how many bytes it needs before it can get further, so that a
// large value arriving in many reads is scanned once, not once per read.

// Limits a Redis server also has.
const (
	maxArgs       = 1 << 20 // elements in one multibulk request
	maxHeaderLine = 32      // "*<count>\r\n" or "$<len>\r\n": an int64 and CRLF fit
)

// protoError is a protocol error: its reply is "-ERR Protocol error: "
// and msg. After a fatal one the request's end is unknown and the
// connection must be closed; after another only that request is lost.
type protoError struct {
	msg   string
	fatal bool
}

func (e *protoError) Error() string { return "Protocol error: " + e.msg }

// The errors have Redis's wording, so that clients see the same text.
var (
	errMultibulkLen = &protoError{"invalid multibulk length", true}
	errBulkLen      = &protoError{"invalid bulk length", true}
	errBigCount     = &protoError{"too big mbulk count string", true}
	errBigBulkCount = &protoError{"too big bulk count string", true}
	errBigInline    = &protoError{"too big inline request", true}
	errNoCRLF       = &protoError{"bulk string not terminated by CRLF", true}
	errQuotes       = &protoError{"unbalanced quotes in request", false}
)

// span is an argument of the pending request: its offset from the
// request's start and its length.
type span struct{ off, n int }

// parser frames the requests of one connection.
type parser struct {
	maxBulk   int // longest bulk string accepted
	maxInline int // longest inline request line accepted

	// The pending request: the one at the front of the input, parsed as far
	// as pos. nargs is the element count of a multibulk request whose
	// header is parsed, 0 before that.
	pos   int
	nargs int
	spans []span
	// need is how many bytes the input must hold before parsing the
	// pending request can progress; the caller may skip calling parse
	// until then.
	need int

	args [][]byte // the last request's arguments, reused
}

// parse parses the request at the start of buf. It returns its arguments,
// which point into buf, and its length in bytes. An empty request (an
// empty line, or an array of no elements) has no arguments and a length.
// When buf holds only part of a request parse returns (nil, 0, nil) and
// keeps its place: the next call must pass the same bytes and more.
// A *protoError reports a malformed request; after a fatal one the parser
// must not be used again, after another the returned length skips the
// request.
func (p *parser) parse(buf []byte) (args [][]byte, n int, err error) {
	if len(buf) == 0 {
		return p.wait(1)
	}
	if buf[0] == '*' {
		return p.parseMultibulk(buf)
	}
	return p.parseInline(buf)
}

// reset forgets the pending request once it is complete.
func (p *parser) reset() {
	p.pos, p.nargs, p.need = 0, 0, 0
	p.spans = p.spans[:0]
}

// wait records that the pending request needs buf to hold need bytes.
func (p *parser) wait(need int) ([][]byte, int, error) {
	p.need = need
	return nil, 0, nil
}

func (p *parser) parseInline(buf []byte) ([][]byte, int, error) {
	// pos is how much of the line has been searched for its end.
	i := bytes.IndexByte(buf[p.pos:], '\n')
	if i < 0 {
		if len(buf) > p.maxInline {
			return nil, 0, errBigInline
		}
		p.pos = len(buf)
		return p.wait(len(buf) + 1)
	}
	end := p.pos + i // index of the '\n'
	p.reset()
	if end > p.maxInline {
		return nil, 0, errBigInline
	}
	line := buf[:end]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, ok := splitArgs(line, p.args[:0])
	p.args = args
	if !ok {
		return nil, end + 1, errQuotes
	}
	return args, end + 1, nil
}

func (p *parser) parseMultibulk(buf []byte) ([][]byte, int, error) {
	if p.nargs == 0 {
		count, next, st := headerLine(buf, 0)
		switch st {
		case lineShort:
			return p.wait(len(buf) + 1)
		case lineLong:
			return nil, 0, errBigCount
		case lineBad:
			return nil, 0, errMultibulkLen
		}
		if count > maxArgs {
			return nil, 0, errMultibulkLen
		}
		if count <= 0 { // *0 and *-1: nothing to do, as in Redis
			p.reset()
			return p.args[:0], next, nil
		}
		p.nargs, p.pos = int(count), next
		p.spans = p.spans[:0]
	}
	for len(p.spans) < p.nargs {
		if p.pos >= len(buf) {
			return p.wait(p.pos + 1)
		}
		if c := buf[p.pos]; c != '$' {
			return nil, 0, &protoError{msg: fmt.Sprintf("expected '$', got '%c'", c), fatal: true}
		}
		n, body, st := headerLine(buf, p.pos)
		switch st {
		case lineShort:
			return p.wait(len(buf) + 1)
		case lineLong:
			return nil, 0, errBigBulkCount
		}
		if st == lineBad || n < 0 || n > int64(p.maxBulk) {
			return nil, 0, errBulkLen
		}
		end := body + int(n) + 2
		if len(buf) < end {
			return p.wait(end)
		}
		if buf[end-2] != '\r' || buf[end-1] != '\n' {
			return nil, 0, errNoCRLF
		}
		p.spans = append(p.spans, span{body, int(n)})
		p.pos = end
	}
	args := p.args[:0]
	for _, s := range p.spans {
		args = append(args, buf[s.off:s.off+s.n:s.off+s.n])
	}
	p.args = args
	n := p.pos
	p.reset()
	return args, n, nil
}

// lineState is what headerLine found.
type lineState uint8

const (
	lineOK    lineState = iota
	lineShort           // the line is not complete yet
	lineLong            // no line end where one must be
	lineBad             // not a number, or not ended by CRLF
)

// headerLine parses the "*<n>\r\n" or "$<n>\r\n" line at buf[at:] and
// returns n and the index after the line. It reads the digits as it looks
// for the line's end, in one pass: these lines are a few bytes long, too
// short for a vectorised search to pay. The number is read as parseInt
// reads it.
func headerLine(buf []byte, at int) (n int64, next int, st lineState) {
	end := min(len(buf), at+maxHeaderLine)
	i := at + 1
	neg := i < end && buf[i] == '-'
	if neg {
		i++
	}
	first := i
	var v uint64
	for i < end && '0' <= buf[i] && buf[i] <= '9' {
		if i-first < 19 { // 19 digits fit in a uint64; more are refused below
			v = v*10 + uint64(buf[i]-'0')
		}
		i++
	}
	switch {
	case i == end && end == at+maxHeaderLine:
		return 0, 0, lineLong
	case i == end:
		return 0, 0, lineShort
	case buf[i] != '\r':
		return 0, 0, lineBad
	case i+1 == len(buf):
		return 0, 0, lineShort
	case buf[i+1] != '\n':
		return 0, 0, lineBad
	}
	digits := i - first
	switch {
	case digits == 0, digits > 19, buf[first] == '0' && (digits > 1 || neg):
		return 0, 0, lineBad
	case neg && v <= 1<<63:
		return int64(-v), i + 2, lineOK
	case !neg && v < 1<<63:
		return int64(v), i + 2, lineOK
	}
	return 0, 0, lineBad
}

// isBlank reports whether c separates inline arguments (isspace in C).
func isBlank(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

// splitArgs splits an inline request as Redis's sdssplitargs does:
// blanks separate arguments, "..." and '...' quote, and inside double
// quotes \n, \r, \t, \b, \a, \xHH and \<c> are escapes. A closing quote
// must be followed by a blank or the end. It appends the arguments to args
// and reports false for unbalanced quotes.
//
// Unescaping never makes an argument longer, so it is done in place: the
// line is the request's own bytes, which are dropped once it is answered.
func splitArgs(line []byte, args [][]byte) ([][]byte, bool) {
	i := 0
	for {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		if i == len(line) {
			return args, true
		}
		start, w := i, i // w: where the unescaped argument is written
		inq, insq := false, false
	token:
		for i < len(line) {
			c := line[i]
			switch {
			case inq:
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					line[w] = unhex(line[i+2])<<4 | unhex(line[i+3])
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					line[w] = unescape(line[i])
				case c == '"':
					if i+1 < len(line) && !isBlank(line[i+1]) {
						return args, false
					}
					inq = false
					i++
					break token
				default:
					line[w] = c
				}
				w++
			case insq:
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					line[w] = '\''
				case c == '\'':
					if i+1 < len(line) && !isBlank(line[i+1]) {
						return args, false
					}
					insq = false
					i++
					break token
				default:
					line[w] = c
				}
				w++
			case isBlank(c):
				break token
			case c == '"':
				inq = true
			case c == '\'':
				insq = true
			default:
				line[w] = c
				w++
			}
			i++
		}
		if inq || insq {
			return args, false // the line ended inside quotes
		}
		args = append(args, line[start:w:w])
	}
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

// unescape returns the byte a backslash escape inside double quotes stands
// for.
func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}

// parseInt parses a decimal int64 as Redis's string2ll does: an optional
// minus sign, no plus sign, no leading zeros, no blanks, nothing else.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	switch {
	case len(b) == 0:
		return 0, false
	case b[0] == '0':
		return 0, len(b) == 1 && !neg
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	switch {
	case neg && v <= 1<<63:
		return int64(-v), true // -(1<<63) wraps to itself, as wanted
	case !neg && v < 1<<63:
		return int64(v), true
	}
	return 0, false
}
