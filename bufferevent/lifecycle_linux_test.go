package bufferevent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
)

// peerSeesEOF waits until a read on the raw peer descriptor returns end of
// stream, which happens once the BufferEvent's socket is closed, or
// ECONNRESET, which is what closing a socket with unread data gives.
func peerSeesEOF(t *testing.T, peer int) {
	t.Helper()
	p := make([]byte, 4096)
	pfd := []unix.PollFd{{Fd: int32(peer), Events: unix.POLLIN}}
	for start := time.Now(); time.Since(start) < deadline; {
		unix.Poll(pfd, 1000)
		n, err := unix.Read(peer, p)
		if (n == 0 && err == nil) || err == unix.ECONNRESET {
			return
		}
		if err != nil && err != unix.EAGAIN {
			t.Fatalf("peer read: %v", err)
		}
	}
	t.Fatalf("peer never saw end of stream: the socket was not closed")
}

// Free from inside each callback: the socket is closed (CloseOnFree), no
// callback runs afterwards, and the loop carries on.
func TestFreeInsideEachCallbackClosesTheSocket(t *testing.T) {
	for _, where := range []string{"read", "write", "event-EOF", "event-Connected"} {
		t.Run(where, func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			after := make(chan string, 4) // callbacks that ran after Free
			freed := make(chan struct{})
			var once sync.Once
			free := func(bev *BufferEvent) {
				bev.Free()
				once.Do(func() { close(freed) })
			}
			late := func(name string) func(*BufferEvent) {
				return func(bev *BufferEvent) {
					select {
					case <-freed:
						after <- name
					default:
					}
				}
			}
			var bev *BufferEvent
			var peer int
			if where == "event-Connected" {
				s := startEchoServer(t, b, "unix", filepath.Join(t.TempDir(), "s.sock"))
				bev = newBev(t, b, -1, CloseOnFree)
				bev.SetCallbacks(late("read"), late("write"), func(bev *BufferEvent, w What) {
					if w == Connected {
						free(bev)
					}
				})
				bev.Write([]byte("x"))
				if err := bev.Connect("unix", s.l.Addr().String()); err != nil {
					t.Fatal(err)
				}
				wait(t, freed, "Free in the event callback")
				settle(t, b)
			} else {
				bev, peer = pair(t, b, 0)
				switch where {
				case "read":
					bev.SetCallbacks(free, late("write"), nil)
					bev.Write([]byte("x"))
					unix.Write(peer, []byte("ping"))
				case "write":
					bev.SetCallbacks(late("read"), free, nil)
					bev.Write([]byte("x"))
					unix.Write(peer, []byte("ping"))
				case "event-EOF":
					bev.SetCallbacks(nil, nil, func(bev *BufferEvent, w What) { free(bev) })
					unix.Shutdown(peer, unix.SHUT_WR)
				}
				bev.Enable(event.Read)
				wait(t, freed, "Free in the "+where+" callback")
				peerSeesEOF(t, peer)
			}
			settle(t, b)
			select {
			case name := <-after:
				t.Errorf("%s callback ran after Free", name)
			default:
			}
			if fd := bev.Fd(); fd != -1 {
				t.Errorf("Fd after Free: got %d, want -1", fd)
			}
			if err := bev.Enable(event.Read); !errors.Is(err, ErrFreed) {
				t.Errorf("Enable after Free: got %v, want ErrFreed", err)
			}
		})
	}
}

// Free from another goroutine while data flows both ways: no race, no
// callback afterwards (the race detector watches the buffers).
func TestFreeFromAnotherGoroutineWhileDataFlows(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	for range 20 {
		bev, c := tcpPair(t, b, 0)
		bev.SetCallbacks(echoRead, nil, nil)
		bev.Enable(event.Read)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			p := make([]byte, 64<<10)
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.SetDeadline(time.Now().Add(deadline))
				if _, err := c.Write(p); err != nil {
					return
				}
				if _, err := c.Read(p); err != nil {
					return
				}
			}
		}()
		bev.Free()
		close(stop)
		c.Close()
		<-done
	}
}

func TestMethodsAfterFreeReturnErrFreed(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, _ := pair(t, b, 0)
	bev.Free()
	bev.Free() // twice is fine
	for name, err := range map[string]error{
		"Enable":          bev.Enable(event.Read),
		"Disable":         bev.Disable(event.Read),
		"SetWatermark":    bev.SetWatermark(event.Read, 0, 10),
		"SetTimeouts":     bev.SetTimeouts(time.Second, 0),
		"Flush":           bev.Flush(),
		"Connect":         bev.Connect("tcp4", "127.0.0.1:1"),
		"ConnectHostname": bev.ConnectHostname("tcp", "localhost", 1),
		"Write":           second(bev.Write([]byte("x"))),
		"WriteString":     second(bev.WriteString("x")),
	} {
		if !errors.Is(err, ErrFreed) {
			t.Errorf("%s after Free: got %v, want ErrFreed", name, err)
		}
	}
	if n := bev.Read(make([]byte, 8)); n != 0 {
		t.Errorf("Read after Free: got %d, want 0", n)
	}
	settle(t, b)
	onLoop(t, b, func() {
		if bev.Input().Cap() != 0 || bev.Output().Cap() != 0 {
			t.Errorf("buffers after Free: storage %d and %d bytes, want none", bev.Input().Cap(), bev.Output().Cap())
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestNewRejectsBadArguments(t *testing.T) {
	b := startLoop(t)
	if _, err := New(nil, -1, 0); !errors.Is(err, event.ErrNilBase) {
		t.Errorf("New(nil base): got %v, want event.ErrNilBase", err)
	}
	if _, err := New(b, -1, 0x100); !errors.Is(err, ErrOptions) {
		t.Errorf("New(unknown option): got %v, want ErrOptions", err)
	}
	if _, err := New(b, -2, 0); !errors.Is(err, event.ErrBadFd) {
		t.Errorf("New(fd -2): got %v, want event.ErrBadFd", err)
	}
	if _, _, err := NewPair(nil, 0); !errors.Is(err, event.ErrNilBase) {
		t.Errorf("NewPair(nil base): got %v, want event.ErrNilBase", err)
	}
	bev := newBev(t, b, -1, 0)
	if err := bev.Flush(); !errors.Is(err, ErrNoFd) {
		t.Errorf("Flush without a descriptor: got %v, want ErrNoFd", err)
	}
	if err := bev.SetTimeouts(-1, 0); !errors.Is(err, event.ErrTimeout) {
		t.Errorf("SetTimeouts(-1): got %v, want event.ErrTimeout", err)
	}
	bev.Free()
}

func TestWhatAndOptionsNameTheirBits(t *testing.T) {
	for _, tc := range []struct {
		got  fmt.Stringer
		want string
	}{
		{Reading | EOF, "Reading|EOF"},
		{Writing | Error, "Writing|Error"},
		{Reading | Timeout, "Reading|Timeout"},
		{Connected, "Connected"},
		{What(0), "0"},
		{What(0x104), "0x104"},
		{CloseOnFree | DeferCallbacks, "CloseOnFree|DeferCallbacks"},
		{ThreadSafe | UnlockCallbacks, "ThreadSafe|UnlockCallbacks"},
	} {
		if s := tc.got.String(); s != tc.want {
			t.Errorf("String: got %q, want %q", s, tc.want)
		}
	}
}

// NewPair's two ends talk to each other; freeing one is EOF for the other.
func TestNewPairConnectsTwoBufferEvents(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	x, y, err := NewPair(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Free()
	ev := newEvents()
	got := make(chan string, 2)
	y.SetCallbacks(func(y *BufferEvent) {
		line, ok := y.Input().ReadLine(EOLLF)
		if ok {
			y.WriteString("pong " + string(line) + "\n")
		}
	}, nil, ev.cb)
	x.SetCallbacks(func(x *BufferEvent) {
		if line, ok := x.Input().ReadLine(EOLLF); ok {
			got <- string(line)
		}
	}, nil, nil)
	x.Enable(event.Read)
	y.Enable(event.Read)
	x.WriteString("ping 1\n")
	if s := wait(t, got, "the answer"); s != "pong ping 1" {
		t.Errorf("answer: got %q, want %q", s, "pong ping 1")
	}
	x.Free()
	ev.expect(t, Reading|EOF)
}

// Many goroutines write at once; each one's records arrive in the order it
// wrote them, none lost, none torn.
func TestWriteFromManyGoroutinesKeepsEachGoroutinesOrder(t *testing.T) {
	checkLeaks(t)
	const (
		writers = 16
		records = 2000
	)
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range records {
				if _, err := fmt.Fprintf(bev, "%02d:%06d\n", g, i); err != nil {
					t.Errorf("writer %d: %v", g, err)
					return
				}
			}
		}()
	}
	close(start)
	c.SetReadDeadline(time.Now().Add(deadline))
	r := bufio.NewReader(c)
	next := make([]int, writers)
	for n := 0; n < writers*records; n++ {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d records: %v", n, err)
		}
		var g, i int
		if _, err := fmt.Sscanf(line, "%02d:%06d\n", &g, &i); err != nil || g < 0 || g >= writers {
			t.Fatalf("record %d: got torn or garbled %q", n, line)
		}
		if i != next[g] {
			t.Fatalf("writer %d: got record %d, want %d", g, i, next[g])
		}
		next[g]++
	}
	wg.Wait()
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if n, _ := io.ReadFull(r, make([]byte, 1)); n != 0 {
		t.Errorf("extra data after all records")
	}
}

// Free from another goroutine while a callback is using the buffers: they
// stay intact until the callback returns, and go back to the pool on the
// loop's goroutine afterwards.
func TestFreeFromAnotherGoroutineDuringCallbackLeavesBuffersToTheLoop(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, 0)
	inside, freed := make(chan struct{}), make(chan struct{})
	seen := make(chan string, 1)
	bev.SetCallbacks(func(bev *BufferEvent) {
		close(inside)
		<-freed
		seen <- string(bev.Input().Peek(-1)) // still valid: the callback has not returned
		bev.Output().WriteString("ignored")  // dropped, but must not race
	}, nil, nil)
	bev.Enable(event.Read)
	unix.Write(peer, []byte("payload"))
	wait(t, inside, "the read callback")
	bev.Free()
	close(freed)
	if got := wait(t, seen, "the callback's view of Input"); got != "payload" {
		t.Errorf("Input inside the callback after Free from elsewhere: got %q, want %q", got, "payload")
	}
	settle(t, b)
	onLoop(t, b, func() {
		if bev.Input().Cap()+bev.Output().Cap() != 0 {
			t.Errorf("buffers after the callback returned: %d and %d bytes of storage, want none", bev.Input().Cap(), bev.Output().Cap())
		}
	})
}

// libevent's numbers, so that ported code and logs read the same.
func TestConstantsHaveLibeventValues(t *testing.T) {
	for _, c := range []struct {
		got, want int
		name      string
	}{
		{int(CloseOnFree), 0x01, "BEV_OPT_CLOSE_ON_FREE"}, {int(ThreadSafe), 0x02, "BEV_OPT_THREADSAFE"},
		{int(DeferCallbacks), 0x04, "BEV_OPT_DEFER_CALLBACKS"}, {int(UnlockCallbacks), 0x08, "BEV_OPT_UNLOCK_CALLBACKS"},
		{int(Reading), 0x01, "BEV_EVENT_READING"}, {int(Writing), 0x02, "BEV_EVENT_WRITING"},
		{int(EOF), 0x10, "BEV_EVENT_EOF"}, {int(Error), 0x20, "BEV_EVENT_ERROR"},
		{int(Timeout), 0x40, "BEV_EVENT_TIMEOUT"}, {int(Connected), 0x80, "BEV_EVENT_CONNECTED"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

// Freeing after the base is closed is allowed: the socket is closed and
// nothing panics, on a socket pair as on an in-memory one.
func TestFreeAfterBaseCloseClosesTheSocket(t *testing.T) {
	checkLeaks(t)
	for _, newPair := range []func(*event.Base, Options) (*BufferEvent, *BufferEvent, error){NewSocketPair, NewPair} {
		b, err := event.NewBase()
		if err != nil {
			t.Fatal(err)
		}
		x, y, err := newPair(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		x.Enable(event.Read)
		y.Enable(event.Read)
		x.Write([]byte("never sent"))
		b.Close()
		x.Free()
		y.Free()
	}
}
