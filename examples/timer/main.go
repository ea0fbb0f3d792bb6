// Command timer is libevent's time-test sample on levent: a persistent
// timer that prints the time elapsed since the previous tick once a second.
//
//	timer [-n ticks] [-interval d]
//
// With -n it stops after that many ticks; without it, it runs until
// interrupted. SIGINT and SIGTERM end it cleanly: a signal event asks the
// loop to exit, and the program returns 0.
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/levent-go/levent/event"
)

func main() {
	n := flag.Int("n", 0, "stop after this many ticks (0: run until interrupted)")
	interval := flag.Duration("interval", time.Second, "time between ticks")
	flag.Parse()
	if err := run(*n, *interval); err != nil {
		fmt.Fprintln(os.Stderr, "timer:", err)
		os.Exit(1)
	}
}

func run(ticks int, interval time.Duration) error {
	base, err := event.NewBase() // event_base_new()
	if err != nil {
		return err
	}
	defer base.Close() // event_base_free(base)

	last := time.Now()
	count := 0
	var timeout *event.Event
	// event_assign(&timeout, base, -1, EV_PERSIST, timeout_cb, &timeout)
	timeout, err = event.New(base, -1, event.Persist, func(fd int, what event.Flag) {
		now := time.Now()
		fmt.Printf("timeout_cb called at %s: %.3f seconds elapsed.\n",
			now.Format("15:04:05"), now.Sub(last).Seconds())
		last = now
		count++
		if ticks > 0 && count == ticks {
			base.LoopExit(0)
		}
	})
	if err != nil {
		return err
	}
	if err := timeout.Add(interval); err != nil { // event_add(&timeout, &tv)
		return err
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		stop, err := event.NewSignal(base, sig, func(int, event.Flag) { base.LoopExit(0) })
		if err != nil {
			return err
		}
		if err := stop.Add(0); err != nil {
			return err
		}
	}
	return base.Dispatch() // event_base_dispatch(base)
}
