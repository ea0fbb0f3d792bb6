package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// reader is the reading side: the FIFO's path, the open descriptor and its
// persistent read event, and the first error that ends the loop.
type reader struct {
	base *event.Base
	path string
	fd   int
	ev   *event.Event
	err  error
}

func runReader(path string) error {
	// unlink("myfifo"): the original removed whatever had the name. Only a
	// FIFO (left by a reader that was killed) is removed here; any other file
	// is refused, not deleted.
	if err := removeStaleFifo(path); err != nil {
		return err
	}
	if err := unix.Mkfifo(path, 0o664); err != nil { // mkfifo("myfifo", 0664)
		return &os.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	// The original left the FIFO behind; the reader created it, so it
	// removes it on the way out.
	defer os.Remove(path)

	base, err := event.NewBase() // event_base_new()
	if err != nil {
		return err
	}
	defer base.Close() // event_base_free(base)

	r := &reader{base: base, path: path, fd: -1}
	if err := r.open(); err != nil {
		return err
	}
	defer r.close()
	if err := stopOnSignals(base); err != nil {
		return err
	}
	fmt.Printf("waiting for a writer on %s\n", path)
	if err := base.Dispatch(); err != nil { // event_base_dispatch(base)
		return err
	}
	return r.err
}

// removeStaleFifo removes path if it is a FIFO and fails if it is anything
// else; a missing path is fine.
func removeStaleFifo(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&os.ModeNamedPipe == 0:
		return fmt.Errorf("%s exists and is not a FIFO; not removing it", path)
	}
	return os.Remove(path)
}

// open opens the FIFO and watches it with a persistent read event.
//
// The original opened it O_RDONLY, which blocks until a writer opens the
// other end, before the loop runs and where no signal event can end the
// program cleanly. With O_NONBLOCK the open returns at once and the read
// event does the waiting: Linux reports no hang-up on a FIFO read end that
// has not seen a writer since it was opened.
func (r *reader) open() error {
	// int fd = open("myfifo", O_RDONLY)
	fd, err := unix.Open(r.path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: r.path, Err: err}
	}
	// ev = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, NULL)
	ev, err := event.New(r.base, fd, event.Read|event.Persist, r.readCB)
	if err == nil {
		err = ev.Add(0) // event_add(ev, NULL)
	}
	if err != nil {
		if ev != nil {
			ev.Free()
		}
		unix.Close(fd)
		return err
	}
	r.fd, r.ev = fd, ev
	return nil
}

// close frees the event, then closes the descriptor: Free takes it out of
// the kernel's interest list first.
func (r *reader) close() {
	if r.ev != nil {
		r.ev.Free() // event_free(ev)
		r.ev = nil
	}
	if r.fd >= 0 {
		unix.Close(r.fd) // close(fd)
		r.fd = -1
	}
}

// readCB is read_cb: it prints each chunk that arrives as the original
// did (see printChunk).
func (r *reader) readCB(fd int, what event.Flag) {
	// char buf[1024] = {0}; int len = read(fd, buf, sizeof(buf));
	var buf [1024]byte
	n, err := unix.Read(fd, buf[:])
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return // nothing to read after all; the event stays pending
	case err != nil:
		r.err = os.NewSyscallError("read", err)
		r.base.LoopExit(0)
		return
	}
	printChunk(os.Stdout, what, buf[:n])
	// sleep(1) is gone: it stalled the whole loop, signals included.
	if n == 0 {
		// End of file: the last writer closed its end. The original kept
		// its persistent event, and a FIFO with no writer stays readable
		// (hang-up) forever, so it printed "data len = 0" in a loop that
		// only its sleep(1) slowed down. Reopening gives a read end that
		// waits quietly for the next writer.
		fmt.Printf("writer closed %s, reopening it\n", r.path)
		r.close()
		if err := r.open(); err != nil {
			r.err = err
			r.base.LoopExit(0)
			return
		}
		fmt.Printf("waiting for a writer on %s\n", r.path)
	}
}

// printChunk prints what the original's read_cb printed for one read that
// returned chunk:
//
//	printf("read event: %s \n", what & EV_READ ? "Yes" : "No");
//	printf("data len = %d, buf = %s\n", len, buf);
//
// %s stops at the first NUL. The original's writer ends every message with
// its NUL, so a read that got several messages shows only the first, and
// each message's own newline is followed by the format's, a blank line. A
// full 1024-byte chunk with no NUL is printed whole (the original ran past
// its buffer).
func printChunk(w io.Writer, what event.Flag, chunk []byte) {
	text := chunk
	if i := bytes.IndexByte(chunk, 0); i >= 0 {
		text = chunk[:i]
	}
	fmt.Fprintf(w, "read event: %s \ndata len = %d, buf = %s\n", yesNo(what&event.Read != 0), len(chunk), text)
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}
