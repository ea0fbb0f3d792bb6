package bufferevent

import (
	"bytes"
	"fmt"
	"testing"
)

func TestBufferSearchFindsFirstOccurrence(t *testing.T) {
	var b Buffer
	b.WriteString("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, tc := range []struct {
		p    string
		want int
	}{
		{"\r\n", 14}, {"\r\n\r\n", 23}, {"Host", 16}, {"", 0}, {"nope", -1},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n!", -1},
	} {
		if got := b.Search([]byte(tc.p)); got != tc.want {
			t.Errorf("Search(%q) = %d, want %d", tc.p, got, tc.want)
		}
	}
}

func TestBufferSearchMatchesBytesIndexAtEveryWrapPoint(t *testing.T) {
	data := []byte("abcabxabcabcabyabcab")
	needles := []string{"abcabc", "abcaby", "cab", "yab", "b", "xabcabcaby", "abcabxabcabcabyabcab", "bb", "aby"}
	for off := minStorage - len(data); off < minStorage; off++ {
		b := ringAt(t, minStorage, off, data)
		for _, p := range needles {
			if got, want := b.Search([]byte(p)), bytes.Index(data, []byte(p)); got != want {
				t.Errorf("off %d (wrap after %d bytes): Search(%q) = %d, want %d", off, minStorage-off, p, got, want)
			}
		}
		if b.off != off {
			t.Fatalf("Search moved the data: off %d, want %d", b.off, off)
		}
	}
}

func TestEOLStyleValuesAndNamesMatchLibevent(t *testing.T) {
	for _, tc := range []struct {
		s    EOLStyle
		v    int
		name string
	}{
		{EOLAny, 0, "EVBUFFER_EOL_ANY"},
		{EOLCRLF, 1, "EVBUFFER_EOL_CRLF"},
		{EOLCRLFStrict, 2, "EVBUFFER_EOL_CRLF_STRICT"},
		{EOLLF, 3, "EVBUFFER_EOL_LF"},
		{EOLNUL, 4, "EVBUFFER_EOL_NUL"},
		{EOLStyle(5), 5, "EOLStyle(invalid)"},
	} {
		if int(tc.s) != tc.v || tc.s.String() != tc.name {
			t.Errorf("style %d = %d %q, want %d %q", tc.s, int(tc.s), tc.s, tc.v, tc.name)
		}
	}
}

func TestBufferReadLineFollowsLibeventRules(t *testing.T) {
	for _, tc := range []struct {
		style EOLStyle
		in    string
		lines []string // the lines ReadLine returns, in order, until it reports false
		rest  string   // what is left
	}{
		{EOLAny, "a\r\n\r\nb\nc\rd", []string{"a", "b", "c"}, "d"},
		{EOLAny, "a\n\r\n\rb", []string{"a"}, "b"},
		{EOLAny, "\n\nx\r", []string{"", "x"}, ""},
		{EOLAny, "no end", nil, "no end"},
		{EOLCRLF, "a\r\nb\nc\rd\n\r\n", []string{"a", "b", "c\rd", ""}, ""},
		{EOLCRLF, "a\r\r\nb\r", []string{"a\r"}, "b\r"},
		{EOLCRLF, "\n", []string{""}, ""},
		{EOLCRLFStrict, "a\r\nb\nc\rd\r\n\r", []string{"a", "b\nc\rd"}, "\r"},
		{EOLCRLFStrict, "a\n\r", nil, "a\n\r"},
		{EOLLF, "a\r\nb\n\nc", []string{"a\r", "b", ""}, "c"},
		{EOLNUL, "a\x00b\r\n\x00\x00c\n", []string{"a", "b\r\n", ""}, "c\n"},
	} {
		t.Run(fmt.Sprintf("%v/%q", tc.style, tc.in), func(t *testing.T) {
			var b, bs Buffer
			b.WriteString(tc.in)
			bs.WriteString(tc.in)
			var got, gotSlice []string
			for {
				line, ok := b.ReadLine(tc.style)
				if !ok {
					break
				}
				got = append(got, string(line))
			}
			for {
				line, ok := bs.ReadLineSlice(tc.style)
				if !ok {
					break
				}
				gotSlice = append(gotSlice, string(line))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.lines) || fmt.Sprint(gotSlice) != fmt.Sprint(tc.lines) {
				t.Errorf("ReadLine lines = %q, ReadLineSlice lines = %q; want %q", got, gotSlice, tc.lines)
			}
			checkBuffer(t, &b, []byte(tc.rest))
			checkBuffer(t, &bs, []byte(tc.rest))
		})
	}
}

func TestBufferReadLineAcrossTheWrapForEveryStyle(t *testing.T) {
	for _, tc := range []struct {
		style EOLStyle
		in    string
		line  string
	}{
		{EOLAny, "first line\r\n\r\nrest", "first line"},
		{EOLCRLF, "first line\r\nrest", "first line"},
		{EOLCRLFStrict, "first\nline\r\nrest", "first\nline"},
		{EOLLF, "first line\nrest", "first line"},
		{EOLNUL, "first line\x00rest", "first line"},
	} {
		// Put the wrap point at every byte of the line and its terminator.
		for split := 1; split < len(tc.in); split++ {
			for _, slice := range []bool{false, true} {
				b := ringAt(t, minStorage, minStorage-split, []byte(tc.in))
				var line []byte
				var ok bool
				if slice {
					line, ok = b.ReadLineSlice(tc.style)
				} else {
					line, ok = b.ReadLine(tc.style)
				}
				if !ok || string(line) != tc.line {
					t.Fatalf("%v, wrap after %d, slice=%v: got %q, %v; want %q, true", tc.style, split, slice, line, ok, tc.line)
				}
				checkBuffer(t, b, []byte("rest"))
			}
		}
	}
}

func TestBufferReadLineWithoutCompleteLineRemovesNothing(t *testing.T) {
	for _, style := range []EOLStyle{EOLAny, EOLCRLF, EOLCRLFStrict, EOLLF, EOLNUL, EOLStyle(-1), EOLStyle(99)} {
		var b Buffer
		b.WriteString("partial\r")
		if line, ok := b.ReadLine(style); ok != (style == EOLAny) {
			t.Errorf("%v: ReadLine(%q) = %q, %v", style, "partial\r", line, ok)
		}
		if style == EOLAny {
			continue
		}
		checkBuffer(t, &b, []byte("partial\r"))
		if line, ok := b.ReadLineSlice(style); ok || line != nil {
			t.Errorf("%v: ReadLineSlice = %q, %v; want nil, false", style, line, ok)
		}
		checkBuffer(t, &b, []byte("partial\r"))
	}
}

func TestBufferReadLineReturnsACopy(t *testing.T) {
	var b Buffer
	b.WriteString("one\ntwo\n")
	line, _ := b.ReadLine(EOLLF)
	b.Drain(b.Len())
	b.WriteString("XXXXXXXX")
	if string(line) != "one" {
		t.Errorf("line changed to %q after the buffer was reused, want %q", line, "one")
	}
}

func TestBufferReadLineSliceKeepsStorageItPointsInto(t *testing.T) {
	var b Buffer
	b.WriteString("last line\n")
	line, ok := b.ReadLineSlice(EOLLF)
	if !ok || string(line) != "last line" {
		t.Fatalf("ReadLineSlice = %q, %v", line, ok)
	}
	if &line[0] != &b.buf[0] {
		t.Error("ReadLineSlice of a contiguous line copied it")
	}
	if b.Cap() == 0 {
		t.Fatal("ReadLineSlice gave back the storage its line points into")
	}
	checkBuffer(t, &b, nil)
	b.Trim()
	if b.Cap() != 0 {
		t.Errorf("Cap() after Trim = %d, want 0", b.Cap())
	}
}
