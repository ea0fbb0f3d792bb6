package timer_test

import (
	"fmt"

	"github.com/levent-go/levent/timer"
)

// conn is an object being timed: it holds its timer entry, and the entry's
// Value points back to it.
type conn struct {
	name string
	idle timer.Entry[*conn]
}

func newConn(name string) *conn {
	c := &conn{name: name}
	c.idle.Value = c
	return c
}

// Example shows connection idle timeouts: scheduled, pushed later by a read,
// removed, expired in order, and purged when a connection is freed.
// Deadlines are in nanoseconds on the caller's clock; small numbers here.
func Example() {
	var q timer.Queue[*conn] // the zero Queue is ready to use
	a, b, c, d := newConn("a"), newConn("b"), newConn("c"), newConn("d")

	q.Schedule(&a.idle, 30)
	q.Schedule(&b.idle, 10)
	q.Schedule(&c.idle, 20)
	q.Schedule(&d.idle, 30) // same deadline as a: comes out after a
	q.Schedule(&b.idle, 40) // b read some data: its timeout moves later

	// An event loop sleeps until WakeTime: here b's old deadline, as b has
	// not been moved yet. Waking early is harmless, and cheaper than moving
	// b on every read.
	if at, ok := q.WakeTime(); ok {
		fmt.Println("wake at:", at)
	}
	if e, ok := q.Min(); ok { // Min is exact: it moves b first
		fmt.Println("next:", e.Value.name, "at", e.When(), "of", q.Len())
	}
	fmt.Println("remove c:", q.Remove(&c.idle), "scheduled:", c.idle.Scheduled())
	fmt.Println("remove c again:", q.Remove(&c.idle))

	for {
		e, ok := q.PopExpired(35)
		if !ok {
			break
		}
		fmt.Println("expired:", e.Value.name, "at", e.When())
	}

	q.Purge(&b.idle) // b is closed: the queue lets go of it now
	fmt.Println("left:", q.Len(), "scheduled b:", b.idle.Scheduled())
	if _, ok := q.WakeTime(); !ok {
		fmt.Println("no timer pending")
	}
	// Output:
	// wake at: 10
	// next: c at 20 of 4
	// remove c: true scheduled: false
	// remove c again: false
	// expired: a at 30
	// expired: d at 30
	// left: 0 scheduled b: false
	// no timer pending
}
