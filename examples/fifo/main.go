// Command fifo is the libevent FIFO example from the seeds ("event实现本地通信")
// on levent: one process creates a named pipe and prints what arrives on it
// from a persistent read event; another writes "hello,world-N" into it from
// a persistent write event.
//
// A message is what the original writer wrote with one write: the string
// "hello,world-N\n" and its terminating NUL (strlen(buf)+1 bytes). The
// reader prints each read, of at most 1024 bytes, as the original did:
// "read event: Yes " on one line, then "data len = LEN, buf = TEXT" where
// TEXT is the chunk up to its first NUL, so a message's newline leaves a
// blank line and a read that got several messages shows only the first.
// Either side talks to the seed's C program for the other.
//
//	fifo -read  [-path myfifo]
//	fifo -write [-path myfifo] [-interval 1s]
//
// The reader creates the FIFO and removes it when it exits. When the writer
// goes away, the reader reopens the FIFO and waits for the next writer (the
// original read end of file forever instead). The writer sends one message
// per interval: a periodic timer enables the write event, which sends one
// message and disables itself (the original slept a second inside each
// callback, which stalls the whole loop). Both wait for the other side inside
// the loop, and both end cleanly, with status 0, on SIGINT or SIGTERM.
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
	read := flag.Bool("read", false, "create the FIFO and print what arrives")
	write := flag.Bool("write", false, "write a message into the FIFO every interval")
	path := flag.String("path", "myfifo", "the FIFO's path")
	interval := flag.Duration("interval", time.Second, "time between messages (-write)")
	flag.Parse()
	if *read == *write || flag.NArg() != 0 || *interval <= 0 {
		fmt.Fprintln(os.Stderr, "usage: fifo -read [-path p] | fifo -write [-path p] [-interval d]")
		os.Exit(2)
	}
	var err error
	if *read {
		err = runReader(*path)
	} else {
		err = runWriter(*path, *interval)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fifo:", err)
		os.Exit(1)
	}
}

// stopOnSignals makes SIGINT and SIGTERM end the loop, so that the program
// cleans up after Dispatch returns and exits 0 instead of being killed.
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
