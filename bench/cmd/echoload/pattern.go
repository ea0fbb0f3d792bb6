package main

import "encoding/binary"

// headerLen is the size of the header at the start of every message: the
// connection number in its top 24 bits and the message's sequence number in
// the low 40.
const headerLen = 8

// pattern makes and checks the messages of one run. Every message of size
// bytes is its header followed by size-headerLen bytes of block, starting
// at an offset that depends on the connection and the sequence number, so
// that consecutive messages differ in their bodies as well as in their
// headers. Checking a piece of an echoed message is a header comparison and
// a memory comparison with block: no per-byte arithmetic.
type pattern struct {
	size  int
	block []byte // size-headerLen+bodyShifts pseudo-random bytes
}

// bodyShifts is the number of distinct body offsets (a prime, so that the
// offsets of one connection's messages cycle through all of them).
const bodyShifts = 251

func newPattern(size int) *pattern {
	p := &pattern{size: size, block: make([]byte, size-headerLen+bodyShifts)}
	state := uint64(0x5EEDC0FFEE123457)
	for i := range p.block {
		// splitmix64: the generator bench/SPEC.md uses.
		state += 0x9E3779B97F4A7C15
		z := state
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		p.block[i] = byte(z ^ (z >> 31))
	}
	return p
}

func header(conn int, seq uint64) [headerLen]byte {
	var h [headerLen]byte
	binary.LittleEndian.PutUint64(h[:], uint64(conn)<<40|seq&(1<<40-1))
	return h
}

func (p *pattern) body(conn int, seq uint64) []byte {
	off := (seq*7 + uint64(conn)) % bodyShifts
	return p.block[off : off+uint64(p.size-headerLen)]
}

// appendMessage appends message seq of connection conn to out.
func (p *pattern) appendMessage(out []byte, conn int, seq uint64) []byte {
	h := header(conn, seq)
	out = append(out, h[:]...)
	return append(out, p.body(conn, seq)...)
}

// matches reports whether piece is what message seq of connection conn
// holds from byte off on.
func (p *pattern) matches(piece []byte, conn int, seq uint64, off int) bool {
	if off < headerLen {
		h := header(conn, seq)
		k := min(len(piece), headerLen-off)
		if string(piece[:k]) != string(h[off:off+k]) {
			return false
		}
		piece, off = piece[k:], off+k
	}
	if len(piece) == 0 {
		return true
	}
	b := p.body(conn, seq)[off-headerLen:]
	return len(piece) <= len(b) && string(piece) == string(b[:len(piece)])
}
