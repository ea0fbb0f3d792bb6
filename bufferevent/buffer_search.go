package bufferevent

import "bytes"

// EOLStyle says how ReadLine finds the end of a line. The values are
// libevent's enum evbuffer_eol_style.
type EOLStyle int

const (
	// EOLAny ends a line at any run of CR and LF characters, all of which
	// are removed with it. A line ended by "\r" is complete at once: an
	// "\n" that arrives later ends a further, empty line.
	EOLAny EOLStyle = 0
	// EOLCRLF ends a line at LF, removing one CR just before it too.
	EOLCRLF EOLStyle = 1
	// EOLCRLFStrict ends a line at CR LF only; a lone CR or LF is part of
	// the line.
	EOLCRLFStrict EOLStyle = 2
	// EOLLF ends a line at LF.
	EOLLF EOLStyle = 3
	// EOLNUL ends a line at a NUL byte.
	EOLNUL EOLStyle = 4
)

// String returns the libevent name of the style, such as "EVBUFFER_EOL_CRLF".
func (s EOLStyle) String() string {
	switch s {
	case EOLAny:
		return "EVBUFFER_EOL_ANY"
	case EOLCRLF:
		return "EVBUFFER_EOL_CRLF"
	case EOLCRLFStrict:
		return "EVBUFFER_EOL_CRLF_STRICT"
	case EOLLF:
		return "EVBUFFER_EOL_LF"
	case EOLNUL:
		return "EVBUFFER_EOL_NUL"
	}
	return "EOLStyle(invalid)"
}

// Search returns the index of the first occurrence of p in the buffer, or
// -1 if there is none (evbuffer_search). It finds matches that cross the
// ring's wrap point without moving any data. An empty p is found at 0.
// References and file ranges (AddReference, AddFile) are copied into the
// ring first, as Peek does.
func (b *Buffer) Search(p []byte) int {
	b.pullAll()
	s1, s2 := b.data()
	return ringIndex(s1, s2, p)
}

// ringIndex is bytes.Index over the sequence s1 followed by s2.
func ringIndex(s1, s2, p []byte) int {
	if i := bytes.Index(s1, p); i >= 0 {
		return i
	}
	if len(p) == 0 || len(s2) == 0 {
		return -1
	}
	// Matches that start in s1 and end in s2, leftmost first: k bytes of p
	// at the end of s1, the rest at the start of s2.
	for k := min(len(p)-1, len(s1)); k > 0; k-- {
		if s1[len(s1)-k] == p[0] && bytes.HasSuffix(s1, p[:k]) && bytes.HasPrefix(s2, p[k:]) {
			return len(s1) - k
		}
	}
	if i := bytes.Index(s2, p); i >= 0 {
		return len(s1) + i
	}
	return -1
}

// ringIndexByte is bytes.IndexByte over the sequence s1 followed by s2.
func ringIndexByte(s1, s2 []byte, c byte) int {
	if i := bytes.IndexByte(s1, c); i >= 0 {
		return i
	}
	if i := bytes.IndexByte(s2, c); i >= 0 {
		return len(s1) + i
	}
	return -1
}

var crlfBytes = []byte("\r\n")

// findEOL finds the first complete line: it is line bytes long and followed
// by eol bytes of terminator. ok is false when no complete line is held or
// the style is unknown.
func (b *Buffer) findEOL(style EOLStyle) (line, eol int, ok bool) {
	b.pullAll()
	s1, s2 := b.data()
	switch style {
	case EOLAny:
		line = ringIndexByte(s1, s2, '\n')
		end := line
		if end < 0 {
			end = b.n
		}
		p1, p2 := ringPrefix(s1, s2, end)
		if cr := ringIndexByte(p1, p2, '\r'); cr >= 0 {
			line = cr
		} else if line < 0 {
			return 0, 0, false
		}
		eol = 1
		for line+eol < b.n {
			if c := b.at(line + eol); c != '\r' && c != '\n' {
				break
			}
			eol++
		}
		return line, eol, true
	case EOLCRLF:
		line = ringIndexByte(s1, s2, '\n')
		if line < 0 {
			return 0, 0, false
		}
		if line > 0 && b.at(line-1) == '\r' {
			return line - 1, 2, true
		}
		return line, 1, true
	case EOLCRLFStrict:
		line, eol = ringIndex(s1, s2, crlfBytes), 2
	case EOLLF:
		line, eol = ringIndexByte(s1, s2, '\n'), 1
	case EOLNUL:
		line, eol = ringIndexByte(s1, s2, 0), 1
	default:
		return 0, 0, false
	}
	return line, eol, line >= 0
}

// ReadLine removes the first complete line and its terminator from the
// buffer and returns a copy of the line without the terminator
// (evbuffer_readln). When no complete line is held, or style is not one of
// the EOL constants, or the front is frozen, it returns nil, false and
// removes nothing. References and file ranges are copied into the ring
// first, as Peek does.
func (b *Buffer) ReadLine(style EOLStyle) (line []byte, ok bool) {
	k, eol, ok := b.findEOL(style)
	if !ok || b.frozenBits()&frozenFront != 0 {
		return nil, false
	}
	line = make([]byte, k)
	b.CopyOut(line)
	b.drain(k + eol)
	b.changed(k + eol)
	return line, true
}

// ReadLineSlice is ReadLine without the copy: the line it returns points
// into the buffer and is valid until the next change to it. It moves data
// only when the line wraps around the ring, as Peek does.
func (b *Buffer) ReadLineSlice(style EOLStyle) (line []byte, ok bool) {
	k, eol, ok := b.findEOL(style)
	if !ok || b.frozenBits()&frozenFront != 0 {
		return nil, false
	}
	line = b.Peek(k)
	b.advance(k + eol) // keeps the storage even if this empties the buffer: line points into it
	b.record(0, k+eol)
	b.changed(k + eol)
	return line, true
}
