package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"

	"github.com/levent-go/levent/event"
)

// maxKept bounds the storage lines keeps between writes: a burst of
// output should not stay allocated once written.
const maxKept = 64 << 10

// flushAt is how much printf collects before it writes at once, without
// waiting for the loop: ten thousand connections accepted in one iteration
// would otherwise grow the buffer to half a megabyte, twice that allocated
// on the way, all of it garbage once written, and the garbage collector
// lets the heap grow by what it collects: a tenth of what an idle
// connection costs the server's resident memory (bench/echo.sh, S4) was
// these lines. Lines of up to flushAt bytes keep the storage within
// maxKept.
const flushAt = maxKept / 2

// lines is the server's standard output while its loop runs. The
// original's printf went through stdio, which writes a file or a pipe in
// blocks; a write per line, as fmt.Printf to os.Stdout makes, cost the
// server more than the echo itself under load. Here the lines a loop
// iteration prints go out in one write once the callbacks ready in that
// iteration have run, so they still appear at once, in order.
type lines struct {
	w   io.Writer // os.Stdout
	buf []byte
	// out runs write: activated by the first line after a write, it joins
	// the end of the loop's active queue.
	out *event.Event
}

func newLines(base *event.Base) (*lines, error) {
	l := &lines{w: os.Stdout}
	ev, err := event.New(base, -1, 0, func(int, event.Flag) { l.write() })
	if err != nil {
		return nil, err
	}
	l.out = ev
	return l, nil
}

// printf adds a line; callbacks only, on the loop's goroutine.
func (l *lines) printf(format string, args ...any) {
	l.starting()
	l.buf = fmt.Appendf(l.buf, format, args...)
	l.flushIfFull()
}

// printAddr adds prefix, addr and a newline: printf(prefix+"%s\n", addr)
// without formatting a TCP address through String, which allocates twice.
func (l *lines) printAddr(prefix string, addr net.Addr) {
	var ap netip.AddrPort
	if ta, ok := addr.(*net.TCPAddr); ok && ta != nil {
		ap = ta.AddrPort()
	}
	if !ap.Addr().IsValid() {
		l.printf(prefix+"%s\n", addr)
		return
	}
	l.starting()
	l.buf = append(l.buf, prefix...)
	// An IPv4 address kept in 16 bytes prints as net.IP prints it: unmapped.
	l.buf = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(l.buf)
	l.buf = append(l.buf, '\n')
	l.flushIfFull()
}

// starting activates the write for a first line since the last write.
func (l *lines) starting() {
	if len(l.buf) == 0 {
		l.out.Active(event.Timeout) // any condition: the callback ignores it
	}
}

// flushIfFull writes the lines collected once they reach flushAt bytes.
func (l *lines) flushIfFull() {
	if len(l.buf) >= flushAt {
		l.write()
	}
}

// write writes what printf collected to standard output.
func (l *lines) write() {
	if len(l.buf) == 0 {
		return
	}
	l.w.Write(l.buf)
	l.buf = l.buf[:0]
	if cap(l.buf) > maxKept {
		l.buf = nil
	}
}

// close writes what is left and frees the event, once the loop has ended.
func (l *lines) close() {
	l.write()
	l.out.Free()
}
