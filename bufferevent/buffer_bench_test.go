package bufferevent

import (
	"bytes"
	"strconv"
	"testing"
)

func BenchmarkWriteRead(b *testing.B) {
	for _, size := range []int{64, 4 << 10} {
		b.Run(bufSizeName(size), func(b *testing.B) {
			var buf Buffer
			msg, got := bufPattern(size), make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				buf.Write(msg)
				buf.Read(got)
			}
		})
	}
}

func BenchmarkPeekDrain(b *testing.B) {
	// A backlog stays queued, so the front moves round the ring and some
	// Peeks find their bytes wrapped and have to linearize.
	var buf Buffer
	buf.Write(bufPattern(1000))
	msg := bufPattern(100)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf.Write(msg)
		if len(buf.Peek(100)) != 100 {
			b.Fatal("short Peek")
		}
		buf.Drain(100)
	}
}

func BenchmarkSearch(b *testing.B) {
	data := append(bufPattern(4000), "\r\n\r\n"...)
	for _, tc := range []struct {
		name string
		off  int
	}{{"contiguous", 0}, {"wrapped", minStorage - 2002}} {
		b.Run(tc.name, func(b *testing.B) {
			buf := ringAt(b, minStorage, tc.off, data)
			needle := []byte("\r\n\r\n")
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if buf.Search(needle) != 4000 {
					b.Fatal("not found")
				}
			}
		})
	}
}

func BenchmarkReadLine(b *testing.B) {
	line := []byte("GET /index.html HTTP/1.1\r\n")
	batch := bytes.Repeat(line, 64)
	for _, slice := range []bool{false, true} {
		name := "copy"
		if slice {
			name = "slice"
		}
		b.Run(name, func(b *testing.B) {
			var buf Buffer
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if buf.Len() == 0 {
					buf.Write(batch)
				}
				var ok bool
				if slice {
					_, ok = buf.ReadLineSlice(EOLCRLF)
				} else {
					_, ok = buf.ReadLine(EOLCRLF)
				}
				if !ok {
					b.Fatal("no line")
				}
			}
		})
	}
}

func bufSizeName(n int) string {
	if n >= 1<<10 {
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}
