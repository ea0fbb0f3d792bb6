package bufferevent_test

import (
	"bytes"
	"fmt"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
)

// An input filter that upper-cases each whole line, on one end of an
// in-memory pair: a partial line waits in the underlying's Input for the
// rest (FilterNeedMore), and the end of the stream the underlying reports
// reaches the filter's event callback.
func ExampleNewFilter() {
	base, err := event.NewBase()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer base.Close()
	a, b, err := bufferevent.NewPair(base, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	upper := func(src, dst *bufferevent.Buffer, _ int, _ bufferevent.FlushMode) bufferevent.FilterResult {
		res := bufferevent.FilterNeedMore
		for {
			line, ok := src.ReadLine(bufferevent.EOLLF)
			if !ok {
				return res
			}
			dst.Write(bytes.ToUpper(line))
			dst.WriteByte('\n')
			res = bufferevent.FilterOK
		}
	}
	f, err := bufferevent.NewFilter(b, upper, nil, bufferevent.CloseOnFree, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	f.SetCallbacks(func(f *bufferevent.BufferEvent) {
		for {
			line, ok := f.Input().ReadLine(bufferevent.EOLLF)
			if !ok {
				return
			}
			fmt.Printf("%s\n", line)
		}
	}, nil, func(f *bufferevent.BufferEvent, what bufferevent.What) {
		fmt.Println("event:", what)
		f.Free() // frees b too: CloseOnFree
	})
	f.Enable(event.Read)
	a.WriteString("hello,\nfilters\npartial")
	a.Free() // b reads what a wrote, then the end of the stream
	base.Dispatch()
	// Output:
	// HELLO,
	// FILTERS
	// event: Reading|EOF
}
