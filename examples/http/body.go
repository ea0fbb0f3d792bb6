package main

import "bytes"

// maxChunkLine bounds a chunk-size line (with its extensions) and a
// trailer line.
const maxChunkLine = 4096

// Phases of a chunked body.
const (
	phaseSize     uint8 = iota // expecting a chunk-size line
	phaseData                  // expecting size bytes of data and CRLF
	phaseTrailers              // after the last chunk: trailer lines up to an empty one
)

// chunkedBody decodes a chunked request body (RFC 9112, 7.1) as it
// arrives. Like the head, it keeps its place as an offset from the
// request's start, so each byte is looked at once however the body is cut
// into reads, and it waits for a chunk's data to be complete before
// copying it, so the decoded body is copied once, into data.
type chunkedBody struct {
	maxBody int
	pos     int // offset of the next byte to decode, from the request's start
	phase   uint8
	size    int    // the awaited chunk's size, in phaseData
	data    []byte // the body decoded so far
}

// reset makes the decoder ready for the next body.
func (d *chunkedBody) reset() {
	d.pos, d.phase, d.size = 0, phaseSize, 0
	d.data = d.data[:0]
	if cap(d.data) > 1<<20 {
		d.data = nil // a large body: do not keep its memory
	}
}

// decode goes on decoding req, the request's bytes from its start; the
// body starts at start. It returns the request's total length once the
// body is complete, or 0 and how many bytes req must hold before decoding
// can progress, or an error status.
func (d *chunkedBody) decode(req []byte, start int) (total, need, status int) {
	if d.pos < start {
		d.pos = start
	}
	for {
		switch d.phase {
		case phaseSize:
			line, ok, st := d.line(req)
			if !ok || st != 0 {
				return 0, len(req) + 1, st
			}
			if i := bytes.IndexByte(line, ';'); i >= 0 {
				line = line[:i] // chunk extensions are ignored
			}
			size, ok := parseHex(trimOWS(line))
			switch {
			case !ok:
				return 0, 0, statusBadRequest
			case len(d.data)+size > d.maxBody:
				return 0, 0, statusTooLarge
			case size == 0:
				d.phase = phaseTrailers
			default:
				d.phase, d.size = phaseData, size
			}
		case phaseData:
			end := d.pos + d.size + 2
			if len(req) < end {
				return 0, end, 0
			}
			if req[end-2] != '\r' || req[end-1] != '\n' {
				return 0, 0, statusBadRequest
			}
			d.data = append(d.data, req[d.pos:end-2]...)
			d.pos, d.phase = end, phaseSize
		case phaseTrailers:
			line, ok, st := d.line(req)
			if !ok || st != 0 {
				return 0, len(req) + 1, st
			}
			if len(line) == 0 {
				return d.pos, 0, 0
			}
			// Trailer fields are read and ignored.
		}
	}
}

// line returns the line at d.pos without its CRLF and moves past it; ok
// is false when the line is not complete.
func (d *chunkedBody) line(req []byte) (line []byte, ok bool, status int) {
	rest := req[d.pos:]
	i := bytes.IndexByte(rest[:min(len(rest), maxChunkLine)], '\n')
	if i < 0 {
		if len(rest) >= maxChunkLine {
			return nil, false, statusBadRequest
		}
		return nil, false, 0
	}
	line = rest[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, false, statusBadRequest
	}
	d.pos += i + 1
	return line, true, 0
}

// parseHex parses a chunk size: hexadecimal digits, at most 15 of them.
func parseHex(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int(d)
	}
	return n, true
}
