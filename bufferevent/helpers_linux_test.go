package bufferevent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

// deadline bounds every wait in these tests. It is generous on purpose:
// the tests run on small, shared machines, under the race detector.
const deadline = 60 * time.Second

// warmNet makes Go's network poller open its own descriptors (an epoll
// instance and an eventfd, kept for the life of the process) before any
// test counts descriptors.
var warmNet = sync.OnceFunc(func() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return
	}
	c, err := net.Dial("tcp", l.Addr().String())
	if err == nil {
		c.Close()
	}
	l.Close()
})

// checkLeaks fails the test if it ends with more descriptors or goroutines
// than it started with. Closing and exiting are asynchronous in places
// (a client goroutine returning after its last read), so it retries for a
// while before failing. Register it first, so that it runs last.
func checkLeaks(t testing.TB) {
	t.Helper()
	warmNet()
	fds, gs := bufOpenFds(t), runtime.NumGoroutine()
	t.Cleanup(func() {
		var gotFds, gotGs int
		for start := time.Now(); time.Since(start) < deadline; time.Sleep(10 * time.Millisecond) {
			gotFds, gotGs = bufOpenFds(t), runtime.NumGoroutine()
			if gotFds <= fds && gotGs <= gs {
				return
			}
		}
		if gotFds > fds {
			t.Errorf("descriptors: got %d open at the end, want at most %d as at the start", gotFds, fds)
		}
		if gotGs > gs {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: got %d at the end, want at most %d as at the start\n%s",
				gotGs, gs, buf[:runtime.Stack(buf, true)])
		}
	})
}

// startLoop returns a base whose loop runs on its own goroutine until the
// test ends; the loop keeps running while nothing is pending.
func startLoop(t testing.TB) *event.Base {
	t.Helper()
	b, err := event.NewBase()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Loop(event.LoopNoExitOnEmpty) }()
	// A LoopBreak before the loop starts would be forgotten: make sure
	// it runs before the cleanup can ask it to stop.
	started := make(chan struct{})
	if err := b.Submit(func() { close(started) }); err != nil {
		t.Fatal(err)
	}
	wait(t, started, "the loop to start")
	t.Cleanup(func() {
		b.LoopBreak()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("loop: %v", err)
			}
		case <-time.After(deadline):
			t.Errorf("loop did not stop within %v", deadline)
		}
		b.Close()
	})
	return b
}

// onLoop runs fn on the loop's goroutine and waits until it has run.
func onLoop(t testing.TB, b *event.Base, fn func()) {
	t.Helper()
	done := make(chan struct{})
	if err := b.Submit(func() { fn(); close(done) }); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	wait(t, done, "a function submitted to the loop")
}

// settle returns once the loop has completed a whole iteration after the
// call: anything that was ready when settle was called has been handled.
func settle(t testing.TB, b *event.Base) {
	t.Helper()
	onLoop(t, b, func() {})
	onLoop(t, b, func() {})
}

// wait waits for ch to be closed or to deliver, failing the test after
// deadline.
func wait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(deadline):
		t.Fatalf("timed out after %v waiting for %s", deadline, what)
	}
	var zero T
	return zero
}

// newBev wraps New for tests.
func newBev(t testing.TB, b *event.Base, fd int, opts Options) *BufferEvent {
	t.Helper()
	bev, err := New(b, fd, opts)
	if err != nil {
		t.Fatalf("New(fd %d, %v): %v", fd, opts, err)
	}
	return bev
}

// pair returns a BufferEvent on one end of a socket pair and the other
// end as a raw non-blocking descriptor, both released when the test ends.
func pair(t testing.TB, b *event.Base, opts Options) (*BufferEvent, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	bev := newBev(t, b, fds[0], opts|CloseOnFree)
	t.Cleanup(func() {
		bev.Free()
		unix.Close(fds[1])
	})
	return bev, fds[1]
}

// sendReads returns a read callback that takes all of Input with Read and
// sends it to ch.
func sendReads(ch chan<- string) func(*BufferEvent) {
	return func(bev *BufferEvent) {
		p := make([]byte, 4096)
		ch <- string(p[:bev.Read(p)])
	}
}

// sendLens returns a read callback that sends how much Input holds to ch
// and leaves it there.
func sendLens(ch chan<- int) func(*BufferEvent) {
	return func(bev *BufferEvent) { ch <- bev.Input().Len() }
}

// events collects what a BufferEvent's event callback reports.
type events struct {
	ch chan What
}

func newEvents() *events { return &events{ch: make(chan What, 16)} }

func (e *events) cb(_ *BufferEvent, w What) { e.ch <- w }

// next waits for the next report.
func (e *events) next(t testing.TB) What {
	t.Helper()
	return wait(t, e.ch, "an event callback")
}

// expect waits for the next report and checks it is want.
func (e *events) expect(t testing.TB, want What) {
	t.Helper()
	if got := e.next(t); got != want {
		t.Fatalf("event callback: got %v, want %v", got, want)
	}
}

// wantErrno checks that err is the bare errno want.
func wantErrno(t testing.TB, what string, err error, want unix.Errno) {
	t.Helper()
	var got unix.Errno
	if !errors.As(err, &got) || got != want {
		t.Fatalf("%s: got %#v (%v), want %v", what, err, err, want)
	}
}

// pattern returns n bytes that differ from those of any shifted copy, so
// that a lost, repeated or reordered chunk shows.
func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = patternByte(int64(i), seed)
	}
	return p
}

func patternByte(i int64, seed byte) byte { return byte(i) ^ byte(i>>8)*31 ^ byte(i>>16)*7 ^ seed }

// echoServer is a listener whose connections echo what they read.
type echoServer struct {
	l    *listener.Listener
	conn map[*BufferEvent]bool // loop goroutine only
}

// startEchoServer listens on network and address with a BufferEvent echo
// server on b, stopped when the test ends.
func startEchoServer(t testing.TB, b *event.Base, network, address string) *echoServer {
	t.Helper()
	s := &echoServer{conn: map[*BufferEvent]bool{}}
	accept := func(_ *listener.Listener, fd int, _ net.Addr) {
		bev, err := New(b, fd, CloseOnFree)
		if err != nil {
			t.Errorf("New on an accepted socket: %v", err)
			unix.Close(fd)
			return
		}
		s.conn[bev] = true
		bev.SetCallbacks(echoRead, nil, func(bev *BufferEvent, w What) {
			if w&(EOF|Error) != 0 {
				delete(s.conn, bev)
				bev.Free()
			}
		})
		bev.Enable(event.Read)
	}
	l, err := listener.NewBind(b, accept, listener.Reuseable, 0, network, address)
	if err != nil {
		t.Fatalf("NewBind(%s, %s): %v", network, address, err)
	}
	s.l = l
	t.Cleanup(func() {
		onLoop(t, b, func() {
			l.Free()
			for bev := range s.conn {
				bev.Free()
			}
		})
	})
	return s
}

// echoRead is an echo server's read callback: all of Input moves to
// Output, without a copy when Output is empty.
func echoRead(bev *BufferEvent) { bev.Output().AddBuffer(bev.Input()) }

// dial connects a Go client to the listener of s.
func (s *echoServer) dial(t testing.TB) net.Conn {
	t.Helper()
	a := s.l.Addr()
	c, err := net.DialTimeout(a.Network(), a.String(), deadline)
	if err != nil {
		t.Fatalf("dial %v: %v", a, err)
	}
	return c
}

// roundTrip sends msg on c and reads it back while sending, checking every
// byte.
func roundTrip(c net.Conn, msg []byte) error {
	c.SetDeadline(time.Now().Add(deadline))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		werr <- err
	}()
	back := make([]byte, len(msg))
	_, rerr := io.ReadFull(c, back)
	if err := <-werr; err != nil {
		return fmt.Errorf("write %d bytes: %w", len(msg), err)
	}
	if rerr != nil {
		return fmt.Errorf("read back %d bytes: %w", len(msg), rerr)
	}
	if i := firstDiff(back, msg); i >= 0 {
		return fmt.Errorf("echo of %d bytes differs at byte %d: got %#x, want %#x", len(msg), i, back[i], msg[i])
	}
	return nil
}

// firstDiff returns the index of the first byte where a and b differ, -1
// if they are equal.
func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// tcpPair returns a BufferEvent on the server end of a loopback TCP
// connection and the Go client end, both released when the test ends.
func tcpPair(t testing.TB, b *event.Base, opts Options) (*BufferEvent, *net.TCPConn) {
	t.Helper()
	fds := make(chan int, 1)
	l, err := listener.NewBind(b, func(l *listener.Listener, fd int, _ net.Addr) {
		fds <- fd
		l.Free()
	}, 0, 0, "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp4", l.Addr().String(), deadline)
	if err != nil {
		l.Free()
		t.Fatal(err)
	}
	bev := newBev(t, b, wait(t, fds, "the accept callback"), opts|CloseOnFree)
	t.Cleanup(func() {
		bev.Free()
		c.Close()
	})
	return bev, c.(*net.TCPConn)
}
