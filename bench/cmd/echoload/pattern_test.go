package main

import (
	"bytes"
	"testing"
)

func TestMessagesMatchThemselvesInAnyPieces(t *testing.T) {
	p := newPattern(100)
	msg := p.appendMessage(nil, 3, 17)
	if len(msg) != 100 {
		t.Fatalf("message is %d bytes, want 100", len(msg))
	}
	for cut := 0; cut <= len(msg); cut++ {
		if !p.matches(msg[:cut], 3, 17, 0) || !p.matches(msg[cut:], 3, 17, cut) {
			t.Fatalf("message 17 split at %d does not match itself", cut)
		}
	}
}

func TestAnyWrongByteIsCaught(t *testing.T) {
	p := newPattern(64)
	msg := p.appendMessage(nil, 1, 2)
	for i := range msg {
		bad := bytes.Clone(msg)
		bad[i] ^= 0x40
		if p.matches(bad, 1, 2, 0) {
			t.Fatalf("a flipped byte at offset %d went unnoticed", i)
		}
	}
}

func TestMessagesDifferAcrossConnectionsAndSequence(t *testing.T) {
	p := newPattern(64)
	a := p.appendMessage(nil, 1, 2)
	for _, other := range []struct {
		conn int
		seq  uint64
	}{{1, 3}, {2, 2}, {1, 2 + bodyShifts}} {
		if p.matches(a, other.conn, other.seq, 0) {
			t.Errorf("message 2 of connection 1 passes for message %d of connection %d", other.seq, other.conn)
		}
		if p.matches(a[headerLen:], other.conn, other.seq, headerLen) && other.seq%bodyShifts != 2 {
			t.Errorf("body of message 2 of connection 1 passes for message %d of connection %d", other.seq, other.conn)
		}
	}
}

func TestSmallestMessageIsAllHeader(t *testing.T) {
	p := newPattern(headerLen)
	msg := p.appendMessage(nil, 0, 9)
	if len(msg) != headerLen || !p.matches(msg, 0, 9, 0) || p.matches(msg, 0, 10, 0) {
		t.Errorf("an %d-byte message: got %x, which must match message 9 only", headerLen, msg)
	}
}

func BenchmarkMatches64(b *testing.B) {
	p := newPattern(64)
	msg := p.appendMessage(nil, 1, 2)
	b.ReportAllocs()
	for range b.N {
		if !p.matches(msg, 1, 2, 0) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkAppendMessage64(b *testing.B) {
	p := newPattern(64)
	out := make([]byte, 0, 64)
	b.ReportAllocs()
	for i := range b.N {
		out = p.appendMessage(out[:0], 1, uint64(i))
	}
}
