package bufferevent

import (
	"bytes"
	"testing"
)

// TestMoveTo ports regress_buffer.c test_evbuffer_remove_buffer_with_empty
// and its partial moves, across the ring's wrap point.
func TestMoveTo(t *testing.T) {
	var src, dst Buffer
	src.Write(make([]byte, minStorage-4))
	src.Drain(minStorage - 8)
	src.WriteString("abcdefghij") // wraps after "abcd" at the end of the ring's first four bytes
	dst.WriteString(">")
	if k, err := src.MoveTo(&dst, 9); err != nil || k != 9 {
		t.Fatal(k, err)
	}
	if got := string(dst.Peek(-1)); got != ">\x00\x00\x00\x00abcde" {
		t.Fatalf("dst %q", got)
	}
	if k, err := src.MoveTo(&dst, 100); err != nil || k != 5 || src.Len() != 0 {
		t.Fatal(k, err, src.Len())
	}
	if got := string(dst.Peek(-1)); got != ">\x00\x00\x00\x00abcdefghij" {
		t.Fatalf("dst %q", got)
	}
	var empty Buffer
	if k, err := dst.MoveTo(&empty, dst.Len()); err != nil || k != 15 || !bytes.HasSuffix(empty.Peek(-1), []byte("fghij")) {
		t.Fatal(k, err)
	}
	if k, err := src.MoveTo(&dst, 0); err != nil || k != 0 {
		t.Fatal(k, err)
	}
}

func TestMoveToErrors(t *testing.T) {
	var b Buffer
	b.WriteString("x")
	if _, err := b.MoveTo(&b, 1); err == nil {
		t.Fatal("MoveTo self succeeded")
	}
	if _, err := b.MoveTo(nil, 1); err == nil {
		t.Fatal("MoveTo nil succeeded")
	}
	var d Buffer
	if _, err := b.MoveTo(&d, -1); err == nil || b.Len() != 1 {
		t.Fatal("MoveTo(-1) succeeded")
	}
}

func BenchmarkMoveToPart(b *testing.B) {
	var src, dst Buffer
	src.Write(make([]byte, 256))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		src.MoveTo(&dst, 128)
		dst.MoveTo(&src, 128)
	}
}
