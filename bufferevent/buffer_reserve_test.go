package bufferevent

import (
	"bytes"
	"testing"
)

// TestReserveCommit writes through Reserve and Commit across the ring's
// wrap point (regress_buffer.c test_evbuffer_reserve2).
func TestReserveCommit(t *testing.T) {
	var b Buffer
	b.WriteString("0123456789")
	b.Drain(8) // off is 8: the free space wraps
	s1, s2, err := b.Reserve(minStorage - 2)
	if err != nil || len(s1)+len(s2) < minStorage-2 {
		t.Fatalf("Reserve: %d+%d, %v", len(s1), len(s2), err)
	}
	want := bytes.Repeat([]byte("x"), len(s1)+len(s2))
	k := copy(s1, want)
	copy(s2, want[k:])
	if err := b.Commit(len(want)); err != nil {
		t.Fatal(err)
	}
	if got := b.Peek(-1); !bytes.Equal(got, append([]byte("89"), want...)) {
		t.Fatalf("data %q...", got[:4])
	}
}

func TestReserveCommitPartial(t *testing.T) {
	var b Buffer
	s1, _, err := b.Reserve(100)
	if err != nil || len(s1) < 100 {
		t.Fatal(len(s1), err)
	}
	copy(s1, "hello")
	if err := b.Commit(5); err != nil || string(b.Peek(-1)) != "hello" {
		t.Fatalf("%q %v", b.Peek(-1), err)
	}
	if err := b.Commit(0); err != nil || b.Len() != 5 {
		t.Fatal(b.Len(), err)
	}
}

func TestReserveCommitErrors(t *testing.T) {
	var b Buffer
	if _, _, err := b.Reserve(-1); err == nil {
		t.Fatal("Reserve(-1) succeeded")
	}
	if err := b.Commit(1); err == nil {
		t.Fatal("Commit beyond the free space succeeded")
	}
	if err := b.Commit(-1); err == nil {
		t.Fatal("Commit(-1) succeeded")
	}
	if b.Len() != 0 {
		t.Fatal(b.Len())
	}
}

func TestSearchRange(t *testing.T) {
	var b Buffer
	b.WriteString("xxxxxxattack-at-dawn-attack")
	for _, c := range []struct {
		p          string
		start, end int
		want       int
	}{
		{"attack", 0, -1, 6}, {"attack", 7, -1, 21}, {"attack", 0, 11, -1},
		{"attack", 0, 12, 6}, {"dawn", 16, 20, 16}, {"dawn", 16, 19, -1}, {"dawn", 17, -1, -1}, {"", 5, 5, 5},
	} {
		if got, err := b.SearchRange([]byte(c.p), c.start, c.end); err != nil || got != c.want {
			t.Errorf("SearchRange(%q, %d, %d) = %d, %v; want %d", c.p, c.start, c.end, got, err, c.want)
		}
	}
	for _, r := range [][2]int{{-1, 3}, {4, 3}, {0, 100}} {
		if _, err := b.SearchRange([]byte("a"), r[0], r[1]); err == nil {
			t.Errorf("SearchRange(%d, %d) succeeded", r[0], r[1])
		}
	}
}

// TestSearchRangeWrapped searches data that crosses the ring's wrap point.
func TestSearchRangeWrapped(t *testing.T) {
	var b Buffer
	b.Write(make([]byte, minStorage-3))
	b.Drain(minStorage - 6)
	b.WriteString("abcdefgh") // "\0\0\0abcdefgh", wrapping after "abc"
	for start := 0; start <= 6; start++ {
		want := 5
		if start > 5 {
			want = -1
		}
		if got, err := b.SearchRange([]byte("cde"), start, -1); err != nil || got != want {
			t.Errorf("start %d: %d, %v; want %d", start, got, err, want)
		}
	}
}

func BenchmarkReserveCommit(b *testing.B) {
	var buf Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s1, _, _ := buf.Reserve(64)
		copy(s1, "0123456789")
		buf.Commit(10)
		buf.advance(10)
	}
}
