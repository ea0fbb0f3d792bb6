package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// writer is the writing side: the FIFO's path, its descriptor once a reader
// has opened the other end, the persistent write event, the number of the
// next message, and the first error that ends the loop.
type writer struct {
	base    *event.Base
	path    string
	fd      int
	ev      *event.Event
	num     int
	waiting bool // "waiting for a reader" has been printed
	err     error
}

func runWriter(path string, interval time.Duration) error {
	base, err := event.NewBase() // base = event_base_new()
	if err != nil {
		return err
	}
	defer base.Close() // event_base_free(base)

	w := &writer{base: base, path: path, fd: -1}
	defer w.close()
	// The pace: every interval the timer enables the write event, which
	// sends one message and disables itself. It also retries the open
	// while no reader is there.
	// event_new(base, -1, EV_PERSIST, tick_cb, NULL); event_add(tick, &interval)
	tick, err := event.New(base, -1, event.Persist, w.tickCB)
	if err != nil {
		return err
	}
	defer tick.Free()
	if err := tick.Add(interval); err != nil {
		return err
	}
	if err := stopOnSignals(base); err != nil {
		return err
	}
	if err := w.tryOpen(); err != nil {
		return err
	}
	if err := base.Dispatch(); err != nil { // event_base_dispatch(base)
		return err
	}
	return w.err
}

// tryOpen opens the FIFO for writing and starts the write event, or, when
// there is no FIFO or no reader yet, says so once and leaves the next try to
// the timer.
//
// The original opened it O_WRONLY, which blocks until a reader comes, and
// failed when the FIFO did not exist yet. With O_NONBLOCK the open fails
// with ENXIO instead of blocking, so the loop keeps running (signals work)
// and the reader may start second.
func (w *writer) tryOpen() error {
	// int fd = open("myfifo", O_WRONLY)
	fd, err := unix.Open(w.path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == unix.ENXIO || err == unix.ENOENT {
		if !w.waiting {
			fmt.Printf("waiting for a reader on %s\n", w.path)
			w.waiting = true
		}
		return nil
	}
	if err != nil {
		return &os.PathError{Op: "open", Path: w.path, Err: err}
	}
	// ev = event_new(base, fd, EV_WRITE | EV_PERSIST, write_cb, NULL)
	ev, err := event.New(w.base, fd, event.Write|event.Persist, w.writeCB)
	if err == nil {
		err = ev.Add(0) // event_add(ev, NULL): the first message goes at once
	}
	if err != nil {
		if ev != nil {
			ev.Free()
		}
		unix.Close(fd)
		return err
	}
	w.fd, w.ev = fd, ev
	fmt.Printf("writing to %s\n", w.path)
	return nil
}

// close frees the write event, then closes the descriptor.
func (w *writer) close() {
	if w.ev != nil {
		w.ev.Free() // event_free(ev)
	}
	if w.fd >= 0 {
		unix.Close(w.fd) // close(fd)
	}
}

// tickCB runs every interval: it retries the open, or lets the write event
// send the next message. Add on a pending event changes nothing, so a
// message still waiting for room is not doubled.
func (w *writer) tickCB(int, event.Flag) {
	var err error
	if w.ev == nil {
		err = w.tryOpen()
	} else {
		err = w.ev.Add(0) // event_add(ev, NULL)
	}
	if err != nil {
		w.err = err
		w.base.LoopExit(0)
	}
}

// writeCB is write_cb: it sends one message and disables itself until the
// next tick.
func (w *writer) writeCB(fd int, _ event.Flag) {
	// sprintf(buf, "hello,world-%d\n", num++); write(fd, buf, strlen(buf)+1)
	// The message is the string and its terminating NUL, as the original
	// wrote it: its reader prints up to the NUL. A message this short is
	// written whole or not at all (PIPE_BUF).
	msg := message(w.num)
	_, err := unix.Write(fd, msg)
	switch {
	case err == nil:
		w.num++ // the original counted failed writes too
		if err := w.ev.Del(); err != nil {
			w.err = err
			w.base.LoopExit(0)
		}
	case err == unix.EAGAIN || err == unix.EINTR:
		// The FIFO is full: the event stays pending and fires when there
		// is room again.
	case err == unix.EPIPE:
		// The reader is gone. The original died of SIGPIPE here; Go
		// ignores SIGPIPE for descriptors other than 1 and 2, so the
		// write fails instead and the writer ends normally.
		fmt.Printf("reader closed %s, exiting\n", w.path)
		w.base.LoopExit(0)
	default:
		w.err = os.NewSyscallError("write", err)
		w.base.LoopExit(0)
	}
	// sleep(1) is gone: the timer paces the messages without stalling the loop.
}

// message is the writer's message number num: "hello,world-N\n" and the
// NUL that ends the string, the strlen(buf)+1 bytes the original wrote.
func message(num int) []byte {
	return append(strconv.AppendInt([]byte("hello,world-"), int64(num), 10), '\n', 0)
}
