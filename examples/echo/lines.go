package main

import (
	"fmt"
	"os"

	"github.com/levent-go/levent/event"
)

// maxKept bounds the storage lines keeps between writes: a burst of
// output should not stay allocated once written.
const maxKept = 64 << 10

// lines is the server's standard output while its loop runs. The
// original's printf went through stdio, which writes a file or a pipe in
// blocks; a write per line, as fmt.Printf to os.Stdout makes, cost the
// server more than the echo itself under load. Here the lines a loop
// iteration prints go out in one write once the callbacks ready in that
// iteration have run, so they still appear at once, in order.
type lines struct {
	buf []byte
	// out runs write: activated by the first line after a write, it joins
	// the end of the loop's active queue.
	out *event.Event
}

func newLines(base *event.Base) (*lines, error) {
	l := &lines{}
	ev, err := event.New(base, -1, 0, func(int, event.Flag) { l.write() })
	if err != nil {
		return nil, err
	}
	l.out = ev
	return l, nil
}

// printf adds a line; callbacks only, on the loop's goroutine.
func (l *lines) printf(format string, args ...any) {
	if len(l.buf) == 0 {
		l.out.Active(event.Timeout) // any condition: the callback ignores it
	}
	l.buf = fmt.Appendf(l.buf, format, args...)
}

// write writes what printf collected to standard output.
func (l *lines) write() {
	if len(l.buf) == 0 {
		return
	}
	os.Stdout.Write(l.buf)
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
