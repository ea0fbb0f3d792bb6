package bufferevent_test

import (
	"fmt"
	"time"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
)

// A read callback that waits for a whole line leaves a partial one in
// Input. Once the program decides the partial line is all that will come,
// Trigger runs the read callback again at once, without new data, and
// TriggerEvent reports the end as the socket's end would.
func ExampleBufferEvent_Trigger() {
	base, err := event.NewBase()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer base.Close()
	a, b, err := bufferevent.NewPair(base, bufferevent.CloseOnFree)
	if err != nil {
		fmt.Println(err)
		return
	}
	flush := false
	b.SetCallbacks(func(bev *bufferevent.BufferEvent) {
		for {
			line, ok := bev.Input().ReadLine(bufferevent.EOLLF)
			if !ok {
				break
			}
			fmt.Printf("line %q\n", line)
		}
		if flush && bev.Input().Len() > 0 {
			fmt.Printf("rest %q\n", bev.Input().Peek(-1))
			bev.Input().Reset()
		}
	}, nil, func(bev *bufferevent.BufferEvent, what bufferevent.What) {
		fmt.Println("event:", what)
		a.Free()
		bev.Free()
	})
	b.Enable(event.Read)
	a.WriteString("one\ntwo")
	// Wait a moment (a real program would wait for a timeout), then
	// take the partial line.
	timer, err := event.NewTimer(base, func(int, event.Flag) {
		flush = true
		b.Trigger(event.Read, 0)                               // the read callback runs now
		b.TriggerEvent(bufferevent.Reading|bufferevent.EOF, 0) // and the event callback
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	timer.Add(100 * time.Millisecond)
	base.Dispatch()
	// Output:
	// line "one"
	// rest "two"
	// event: Reading|EOF
}
