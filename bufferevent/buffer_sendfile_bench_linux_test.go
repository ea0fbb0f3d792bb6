package bufferevent

import (
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkSendFile sends a 64 MiB file to a socket pair's other end,
// read there by another goroutine: with AddFile, whose bytes WriteFd
// sends with sendfile, and by reading the file into the buffer with Write
// as it drains (256 KiB at a time), which copies every byte in and out of
// user space.
func BenchmarkSendFile(b *testing.B) {
	const size = 64 << 20
	f, err := os.CreateTemp(b.TempDir(), "send")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(pattern(size, 1)); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"AddFile", "Write"} {
		b.Run(mode, func(b *testing.B) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer unix.Close(fds[0])
			done := make(chan int64)
			go func() {
				defer unix.Close(fds[1])
				p := make([]byte, 256<<10)
				var total int64
				for {
					k, err := unix.Read(fds[1], p)
					if k <= 0 || err != nil {
						break
					}
					if total += int64(k); total%size == 0 {
						done <- total
					}
				}
			}()
			chunk := make([]byte, 256<<10)
			var buf Buffer
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				if mode == "AddFile" {
					if err := buf.AddFile(f, 0, size, nil); err != nil {
						b.Fatal(err)
					}
				}
				var off int64
				for sent := 0; sent < size; {
					if mode == "Write" && buf.Len() < len(chunk) && off < size {
						k, err := f.ReadAt(chunk, off)
						if err != nil && err != io.EOF {
							b.Fatal(err)
						}
						buf.Write(chunk[:k])
						off += int64(k)
					}
					k, err := buf.WriteFd(fds[0], 0)
					if err != nil {
						b.Fatal(err)
					}
					sent += k
				}
				<-done
			}
		})
	}
}
