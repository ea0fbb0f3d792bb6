package bufferevent_test

import (
	"fmt"
	"time"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
)

// A rate limit of 1000 bytes per 10 ms tick on the reading end of a pair:
// 5000 bytes sent at once arrive in five reads, one per tick, with
// reading held in between. A group (NewRateLimitGroup,
// AddToRateLimitGroup) limits several BufferEvents together the same
// way.
func ExampleBufferEvent_SetRateLimit() {
	base, err := event.NewBase()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer base.Close()
	a, b, err := bufferevent.NewSocketPair(base, 0) // rate limits count socket bytes
	if err != nil {
		fmt.Println(err)
		return
	}
	limit, err := bufferevent.NewTokenBucketConfig(1000, 1000, 1000, 1000, 10*time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := b.SetRateLimit(limit); err != nil {
		fmt.Println(err)
		return
	}
	total := 0
	b.SetCallbacks(func(b *bufferevent.BufferEvent) {
		n := b.Input().Len()
		b.Input().Reset()
		total += n
		fmt.Printf("read %d bytes, %d in all\n", n, total)
		if total == 5000 {
			a.Free()
			b.Free() // its refill timer goes too: Dispatch returns
		}
	}, nil, nil)
	b.Enable(event.Read)
	a.Write(make([]byte, 5000))
	base.Dispatch()
	// Output:
	// read 1000 bytes, 1000 in all
	// read 1000 bytes, 2000 in all
	// read 1000 bytes, 3000 in all
	// read 1000 bytes, 4000 in all
	// read 1000 bytes, 5000 in all
}
