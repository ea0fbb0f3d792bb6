// Command workers is the seeds' thread pool ("线程池") done the Go way: a
// levent server whose loop does all the I/O and hands the work to a
// bounded pool of worker goroutines.
//
//	workers [-addr :9527] [-workers N] [-queue 100]
//
// Each line a client sends is a request: an unsigned integer, answered
// with its prime factors as factor(1) prints them, "12: 2 2 3" (by trial
// division, so a large prime takes a while). Anything else is answered
// with an error line. Answers come back in the order of the requests on
// each connection, whichever worker finishes first.
// The seeds' thread pool is a library whose main only adds tasks: it
// speaks no protocol and has no C client, so the line is this example's
// own message, and nc or any line client talks to it.
//
// The loop reads a request line and puts it in the pool's queue (-queue
// tasks at most); one of -workers goroutines (default: one per CPU)
// computes the answer and hands it back to the loop with
// (*event.Base).Submit, which runs a function on the loop's goroutine. The
// loop writes the answers of a connection in order. Workers never touch a
// BufferEvent: connection state belongs to the loop, so it needs no lock.
//
// When the queue is full, a connection stops reading until a worker
// finishes, and TCP makes its client wait; when a client does not read its
// answers, its connection stops reading too. A line longer than 4096 bytes
// is answered with an error and the connection is closed after the answers
// before it. The server prints "listening on ADDR", "accept a client ADDR"
// and "client ADDR closed", and ends cleanly, with status 0, on SIGINT or
// SIGTERM, cancelling the work in progress.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"github.com/levent-go/levent/event"
)

func main() {
	addr := flag.String("addr", ":9527", "address to listen on")
	workers := flag.Int("workers", runtime.NumCPU(), "worker goroutines")
	queue := flag.Int("queue", 100, "requests waiting for a worker, at most")
	flag.Parse()
	if flag.NArg() != 0 || *workers < 1 || *queue < 1 {
		fmt.Fprintln(os.Stderr, "usage: workers [-addr host:port] [-workers n>0] [-queue n>0]")
		os.Exit(2)
	}
	if err := runServer(*addr, *workers, *queue); err != nil {
		fmt.Fprintln(os.Stderr, "workers:", err)
		os.Exit(1)
	}
}

// stopOnSignals makes SIGINT and SIGTERM end the loop, so that the program
// stops its workers after Dispatch returns and exits 0.
func stopOnSignals(base *event.Base) error {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		// evsignal_new(base, sig, stop_cb, base)
		ev, err := event.NewSignal(base, sig, func(int, event.Flag) { base.LoopExit(0) })
		if err != nil {
			return err
		}
		if err := ev.Add(0); err != nil { // event_add(ev, NULL)
			return err
		}
	}
	return nil
}
