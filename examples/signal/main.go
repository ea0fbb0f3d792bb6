// Command signal is the libevent signal example from the seeds
// ("libevent监听信号案例") on levent: it counts Ctrl+C (SIGINT), and after
// the second one deletes its own signal event, so that the loop has nothing
// left to wait for and Dispatch returns; the program then exits 0.
//
// Once the event is deleted, SIGINT does what it did before the program
// watched it: it kills the process. -linger keeps the process alive for a
// while after the loop ends, to show that.
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/levent-go/levent/event"
)

var signalCount = 0

func main() {
	linger := flag.Duration("linger", 0, "stay alive this long after the loop ends")
	flag.Parse()

	// struct event_base *base = event_base_new();
	base, err := event.NewBase()
	if err != nil {
		fmt.Fprintln(os.Stderr, "signal:", err)
		os.Exit(1)
	}

	// struct event ev;
	// event_assign(&ev, base, SIGINT, EV_SIGNAL|EV_PERSIST, signal_handler, &ev);
	var ev event.Event
	err = ev.Assign(base, int(syscall.SIGINT), event.Signal|event.Persist, func(fd int, what event.Flag) {
		fmt.Printf("received signal %d\n", fd) // 收到信号 %d
		signalCount++
		if signalCount >= 2 {
			ev.Del() // event_del(ev): take the event out of the base
		}
	})
	if err == nil {
		err = ev.Add(0) // event_add(&ev, NULL)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "signal:", err)
		os.Exit(1)
	}
	fmt.Println("waiting for Ctrl+C (twice)")

	// The loop returns when the base has no events left.
	if err := base.Dispatch(); err != nil { // event_base_dispatch(base)
		fmt.Fprintln(os.Stderr, "signal:", err)
		os.Exit(1)
	}
	fmt.Println("signal event deleted, loop done")
	if *linger > 0 {
		time.Sleep(*linger) // a SIGINT now kills the process
	}
	base.Close() // event_base_free(base)
}
