package bufferevent

import (
	"io"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// Both orders matter: a timeout set while reading is already enabled must
// replace the idle-trim timeout the read event carried until then.
func TestReadTimeoutReportsReadingTimeoutAndDisablesReading(t *testing.T) {
	for _, order := range []string{"SetTimeouts-then-Enable", "Enable-then-SetTimeouts"} {
		t.Run(order, func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			bev, peer := pair(t, b, 0)
			ev := newEvents()
			reads := make(chan string, 4)
			bev.SetCallbacks(sendReads(reads), nil, ev.cb)
			if order == "SetTimeouts-then-Enable" {
				bev.SetTimeouts(20*time.Millisecond, 0)
				bev.Enable(event.Read)
			} else {
				bev.Enable(event.Read)
				bev.SetTimeouts(20*time.Millisecond, 0)
			}
			ev.expect(t, Reading|Timeout)
			if got := bev.Enabled(); got != event.Write {
				t.Errorf("Enabled after a read timeout: got %v, want Write", got)
			}
			// Enable turns reading, and its timeout, back on.
			unix.Write(peer, []byte("late"))
			bev.Enable(event.Read)
			if got := wait(t, reads, "the read callback"); got != "late" {
				t.Errorf("read after re-enabling: got %q, want %q", got, "late")
			}
			ev.expect(t, Reading|Timeout)
		})
	}
}

// Once the read timeout is cleared, the read event goes back to the idle
// trim: it neither reports a timeout nor keeps empty buffers' storage.
func TestClearedReadTimeoutGivesWayToIdleTrim(t *testing.T) {
	checkLeaks(t)
	saved := idleTrim
	idleTrim = 10 * time.Millisecond
	t.Cleanup(func() { idleTrim = saved })
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	ev := newEvents()
	bev.SetCallbacks(nil, nil, ev.cb)
	bev.SetTimeouts(time.Hour, 0)
	bev.Enable(event.Read)
	bev.SetTimeouts(0, 0)
	// Make the input buffer hold storage that only a trim gives back:
	// a buffer that cycles keeps it when it empties.
	for range 3 {
		unix.Write(peer, []byte("x"))
		waitLoop(t, b, "one byte in Input", func() bool { return bev.Input().Len() == 1 })
		onLoop(t, b, func() { bev.Input().Drain(1) })
	}
	waitLoop(t, b, "the idle trim", func() bool { return bev.Input().Cap() == 0 && bev.work&bsTrimArmed == 0 })
	select {
	case w := <-ev.ch:
		t.Errorf("event callback: got %v, want none", w)
	default:
	}
	// Data coming again arms the trim again.
	unix.Write(peer, []byte("y"))
	waitLoop(t, b, "the trim to be armed again", func() bool { return bev.work&bsTrimArmed != 0 })
}

// waitLoop polls cond on the loop's goroutine until it holds.
func waitLoop(t testing.TB, b *event.Base, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); time.Since(start) < deadline; time.Sleep(time.Millisecond) {
		ok := false
		onLoop(t, b, func() { ok = cond() })
		if ok {
			return
		}
	}
	t.Fatalf("timed out after %v waiting for %s", deadline, what)
}

func TestWriteTimeoutReportsWritingTimeoutAndDisablesWriting(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, _ := pair(t, b, 0) // the peer never reads
	ev := newEvents()
	bev.SetCallbacks(nil, nil, ev.cb)
	bev.SetTimeouts(0, 20*time.Millisecond)
	bev.Write(make([]byte, 16<<20)) // far more than the socket buffers hold
	ev.expect(t, Writing|Timeout)
	if got := bev.Enabled(); got != 0 {
		t.Errorf("Enabled after a write timeout: got %v, want 0", got)
	}
	onLoop(t, b, func() {
		if bev.Output().Len() == 0 {
			t.Errorf("Output is empty after a write timeout: the test did not fill the socket")
		}
	})
}

func TestEOFReportsReadingEOFAfterDeliveringData(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	ev := newEvents()
	var got []byte // loop goroutine only, until EOF is seen
	bev.SetCallbacks(func(bev *BufferEvent) {
		got = append(got, bev.Input().Peek(-1)...)
		bev.Input().Reset()
	}, nil, ev.cb)
	bev.Enable(event.Read)
	unix.Write(peer, []byte("last words"))
	unix.Shutdown(peer, unix.SHUT_WR)
	ev.expect(t, Reading|EOF)
	if string(got) != "last words" {
		t.Errorf("data before EOF: got %q, want %q", got, "last words")
	}
	if got := bev.Enabled(); got&event.Read != 0 {
		t.Errorf("Enabled after EOF: got %v, want reading off", got)
	}
	if err := bev.Err(); err != nil {
		t.Errorf("Err after EOF: got %v, want nil", err)
	}
}

// A peer that closes with SO_LINGER 0 resets the connection.
func TestResetWhileReadingReportsReadingErrorECONNRESET(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0)
	ev := newEvents()
	bev.SetCallbacks(nil, nil, ev.cb)
	bev.Enable(event.Read)
	c.SetLinger(0)
	c.Close()
	ev.expect(t, Reading|Error)
	wantErrno(t, "Err after a reset", bev.Err(), unix.ECONNRESET)
	if got := bev.Enabled(); got&event.Read != 0 {
		t.Errorf("Enabled after a read error: got %v, want reading off", got)
	}
}

// Writing to a reset connection fails; the error sticks, as bufio.Writer's.
func TestResetWhileWritingReportsWritingErrorAndWriteKeepsFailing(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0) // reading stays disabled
	ev := newEvents()
	bev.SetCallbacks(nil, nil, ev.cb)
	c.SetLinger(0)
	c.Close()
	// The reset reaches the socket before close returns on loopback; keep
	// writing until a write finds it, as a real server would.
	var what What
	for what == 0 {
		if _, err := bev.Write([]byte("anyone there?")); err != nil {
			break
		}
		select {
		case what = <-ev.ch:
		case <-time.After(time.Millisecond):
		}
	}
	if what == 0 {
		what = ev.next(t)
	}
	if what != Writing|Error {
		t.Fatalf("event callback: got %v, want Writing|Error", what)
	}
	var errno unix.Errno
	if err := bev.Err(); err != unix.ECONNRESET && err != unix.EPIPE {
		t.Errorf("Err after writing to a reset connection: got %v, want ECONNRESET or EPIPE", err)
	} else {
		errno = err.(unix.Errno)
	}
	if _, err := bev.Write([]byte("again")); err == nil || !errnoIs(err, errno) {
		t.Errorf("Write after the error: got %v, want the sticky %v", err, errno)
	}
	if got := bev.Enabled(); got&event.Write != 0 {
		t.Errorf("Enabled after a write error: got %v, want writing off", got)
	}
	onLoop(t, b, func() {
		if err := bev.Flush(); !errnoIs(err, errno) {
			t.Errorf("Flush after the error: got %v, want the sticky %v", err, errno)
		}
	})
}

func errnoIs(err error, errno unix.Errno) bool { return err != nil && errnoOf(err) == errno }

// The hello-world pattern of libevent's sample server: write a greeting,
// and free the connection from the write callback once it is all sent.
func TestWriteCallbackFreesOnceOutputIsEmpty(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0)
	calls := 0 // loop goroutine only
	onLoop(t, b, func() {
		bev.SetCallbacks(nil, func(bev *BufferEvent) {
			calls++
			if bev.Output().Len() == 0 {
				bev.Free()
			}
		}, nil)
		bev.Write([]byte("Hello, World!\n"))
	})
	c.SetReadDeadline(time.Now().Add(deadline))
	got, err := io.ReadAll(c) // ends when Free closes the socket
	if err != nil || string(got) != "Hello, World!\n" {
		t.Errorf("client read: got %q, %v, want %q and EOF", got, err, "Hello, World!\n")
	}
	onLoop(t, b, func() {
		if calls != 1 {
			t.Errorf("write callback ran %d times, want 1", calls)
		}
	})
	if fd := bev.Fd(); fd != -1 {
		t.Errorf("Fd after Free: got %d, want -1", fd)
	}
}

func TestDisableAndEnableStopAndRestartEachDirection(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	reads := make(chan string, 4)
	bev.SetCallbacks(sendReads(reads), nil, nil)
	if got := bev.Enabled(); got != event.Write {
		t.Fatalf("Enabled of a new BufferEvent: got %v, want Write (as libevent)", got)
	}

	// Reading is off: data waits in the socket.
	unix.Write(peer, []byte("in"))
	settle(t, b)
	if len(reads) != 0 {
		t.Fatalf("read callback ran while reading was disabled")
	}
	bev.Enable(event.Read)
	if got := wait(t, reads, "the read callback"); got != "in" {
		t.Errorf("read after Enable: got %q, want %q", got, "in")
	}
	bev.Disable(event.Read)
	unix.Write(peer, []byte("more"))
	settle(t, b)
	if len(reads) != 0 {
		t.Fatalf("read callback ran after Disable(Read)")
	}
	if got := bev.Enabled(); got != event.Write {
		t.Errorf("Enabled: got %v, want Write", got)
	}

	// Writing is off: data waits in Output.
	bev.Disable(event.Write)
	bev.Write([]byte("out"))
	settle(t, b)
	p := make([]byte, 16)
	if n, err := unix.Read(peer, p); err != unix.EAGAIN {
		t.Fatalf("peer read while writing is disabled: got %q, %v, want EAGAIN", p[:max(n, 0)], err)
	}
	bev.Enable(event.Write)
	settle(t, b)
	if n, err := unix.Read(peer, p); err != nil || string(p[:n]) != "out" {
		t.Errorf("peer read after Enable(Write): got %q, %v, want %q", p[:max(n, 0)], err, "out")
	}
}

// With DeferCallbacks the callbacks run after the call that caused them
// returns, not from inside it.
func TestDeferCallbacksRunsWriteCallbackAfterFlushReturns(t *testing.T) {
	for _, tc := range []struct {
		opts        Options
		duringFlush bool
	}{{0, true}, {DeferCallbacks, false}} {
		t.Run(tc.opts.String(), func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			bev, _ := pair(t, b, tc.opts)
			ran := false // loop goroutine only
			bev.SetCallbacks(nil, func(*BufferEvent) { ran = true }, nil)
			onLoop(t, b, func() {
				bev.Write([]byte("x"))
				if err := bev.Flush(); err != nil {
					t.Errorf("Flush: %v", err)
				}
				if ran != tc.duringFlush {
					t.Errorf("write callback had run when Flush returned: got %v, want %v", ran, tc.duringFlush)
				}
			})
			settle(t, b)
			onLoop(t, b, func() {
				if !ran {
					t.Errorf("write callback never ran")
				}
			})
		})
	}
}

// Deferred read and event callbacks still arrive, in order, and EOF after
// the data.
func TestDeferCallbacksDeliversReadThenEOF(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, DeferCallbacks)
	var log []string // loop goroutine only
	ev := newEvents()
	bev.SetCallbacks(func(bev *BufferEvent) {
		log = append(log, "read "+string(bev.Input().Peek(-1)))
		bev.Input().Reset()
	}, nil, func(bev *BufferEvent, w What) {
		log = append(log, w.String())
		ev.cb(bev, w)
	})
	bev.Enable(event.Read)
	unix.Write(peer, []byte("data"))
	unix.Shutdown(peer, unix.SHUT_WR)
	ev.expect(t, Reading|EOF)
	onLoop(t, b, func() {
		if len(log) != 2 || log[0] != "read data" || log[1] != "Reading|EOF" {
			t.Errorf("callbacks: got %q, want [read data, Reading|EOF]", log)
		}
	})
}

// A connection whose buffers hold no storage arms no idle trim, so an idle
// connection that never sent anything costs the timer queue nothing; the
// first data it reads arms the trim.
func TestIdleTrimWaitsForStorage(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	bev.Enable(event.Read)
	if what, _ := bev.rev.Pending(event.Read | event.Timeout); what != event.Read {
		t.Fatalf("read event pending for %v with empty buffers, want Read without Timeout", what)
	}
	unix.Write(peer, []byte("x"))
	waitLoop(t, b, "the trim to be armed by the first data", func() bool { return bev.work&bsTrimArmed != 0 })
	if what, _ := bev.rev.Pending(event.Read | event.Timeout); what != event.Read|event.Timeout {
		t.Errorf("read event pending for %v once Input holds data, want Read|Timeout", what)
	}
}

// A read timeout cleared on a connection with no storage leaves no timeout
// behind: Add(0) alone would keep the old one, which would then fire as a
// read timeout.
func TestClearedReadTimeoutWithoutStorageLeavesNoTimer(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, _ := pair(t, b, 0)
	bev.SetTimeouts(time.Hour, 0)
	bev.Enable(event.Read)
	if what, _ := bev.rev.Pending(event.Timeout); what != event.Timeout {
		t.Fatalf("read timeout not pending after SetTimeouts(time.Hour, 0): %v", what)
	}
	bev.SetTimeouts(0, 0)
	if what, _ := bev.rev.Pending(event.Read | event.Timeout); what != event.Read {
		t.Errorf("read event pending for %v after the read timeout was cleared, want Read alone", what)
	}
}
