//go:build linux

package event

import (
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkRecvPingPong bounces a 64-byte message between the two ends of
// a socket pair, each watched by a Read|Persist event on one base whose
// callback reads the message and writes it back: per op one message each
// way. "recv" adds the Recv flag and reads with Base.Recv; "read" uses
// read(2) after the readiness report.
func BenchmarkRecvPingPong(b *testing.B) {
	for _, be := range backends {
		for _, mode := range []string{"read", "recv"} {
			b.Run(be.name+"/"+mode, func(b *testing.B) {
				if be.cfg.Method == "io_uring" {
					skipWithoutIOURing(b)
				}
				base := newBase(b, be.cfg)
				x, y := socketpair(b)
				what := Read | Persist
				if mode == "recv" {
					what |= Recv
				}
				buf := make([]byte, 64)
				left := 2 * b.N
				var evs [2]*Event
				cb := func(fd int, _ Flag) {
					var n int
					var err error
					if mode == "recv" {
						n, err = base.Recv(fd, buf)
					} else {
						n, err = unix.Read(fd, buf)
					}
					if err != nil || n == 0 {
						return
					}
					if left--; left <= 0 {
						evs[0].Del()
						evs[1].Del()
						return
					}
					unix.Write(fd, buf[:n])
				}
				evs[0] = mustNew(b, base, x, what, cb)
				evs[1] = mustNew(b, base, y, what, cb)
				mustAdd(b, evs[0], 0)
				mustAdd(b, evs[1], 0)
				b.ReportAllocs()
				b.ResetTimer()
				unix.Write(x, buf)
				mustDispatch(b, base)
			})
		}
	}
}
