package bufferevent

import (
	"errors"
	"io"
	"net"
	"testing"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

// CloseWrite sends what Output holds, then the end of the stream; the
// BufferEvent still reads what the peer sends, and refuses more writes.
func TestCloseWriteEndsTheSendingSideAfterOutput(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0)
	reads := make(chan string, 1)
	bev.SetCallbacks(sendReads(reads), nil, nil)
	bev.Enable(event.Read)
	bev.WriteString("last words")
	if err := bev.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c) // up to the end of the stream
	if err != nil || string(got) != "last words" {
		t.Fatalf("peer read %q, %v; want the output, then EOF", got, err)
	}
	c.Write([]byte("still heard"))
	if s := wait(t, reads, "the read callback"); s != "still heard" {
		t.Fatalf("read %q", s)
	}
	if _, err := bev.WriteString("more"); !errors.Is(err, ErrWriteClosed) {
		t.Fatalf("Write after CloseWrite: %v, want ErrWriteClosed", err)
	}
	checkInvariants(t, b, bev)
}

// CloseWrite is refused without a connected descriptor.
func TestCloseWriteNeedsAConnection(t *testing.T) {
	b := startLoop(t)
	bev := newBev(t, b, -1, 0)
	if err := bev.CloseWrite(); !errors.Is(err, ErrNoFd) {
		t.Fatalf("CloseWrite without a descriptor: %v, want ErrNoFd", err)
	}
	bev.Free()
	if err := bev.CloseWrite(); !errors.Is(err, ErrFreed) {
		t.Fatalf("CloseWrite after Free: %v, want ErrFreed", err)
	}
}

// On TLS, CloseWrite sends close_notify after the output: a levent TLS
// peer reads a clean end, a Go one io.EOF, and the connection still
// carries the peer's data the other way.
func TestTLSCloseWriteSendsCloseNotify(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	reads := make(chan string, 1)
	bev, c, _, ev := tlsServerAndGoClient(t, b, tlsServer, 0)
	bev.SetCallbacks(sendReads(reads), nil, ev.cb)
	handshakeConnected(t, c, ev)
	bev.WriteString("goodbye")
	if err := bev.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "goodbye" {
		t.Fatalf("client read %q, %v; want the output, then the clean end", got, err)
	}
	c.Write([]byte("after the end"))
	if s := wait(t, reads, "the read callback"); s != "after the end" {
		t.Fatalf("read %q", s)
	}

	// A levent peer tells a clean end from a dirty one.
	scfg, ccfg := tlsConfigs(t)
	sev := newEvents()
	l, err := listener.NewBind(b, func(l *listener.Listener, fd int, _ net.Addr) {
		s := tlsServer(t, b, fd, scfg, 0, sev)
		s.SetCallbacks(nil, nil, func(s *BufferEvent, w What) {
			sev.cb(s, w)
			if w == Connected {
				s.CloseWrite()
			}
		})
		l.Free()
	}, listener.Reuseable, 0, "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewTLS(b, -1, ccfg, TLSConnecting, CloseOnFree)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Free()
	cev := newEvents()
	client.SetCallbacks(nil, nil, cev.cb)
	client.Enable(event.Read)
	if err := client.Connect("tcp4", l.Addr().String()); err != nil {
		t.Fatal(err)
	}
	cev.expect(t, Connected)
	if w := cev.next(t); w != Reading|EOF {
		t.Fatalf("client event %v, want the clean Reading|EOF", w)
	}
}

// Once CloseWrite has shut the sending side down, what the loop still
// adds to Output (an echo of what the peer sends) stays there: no write
// fails with EPIPE, no Writing|Error is reported, and Write keeps
// returning ErrWriteClosed.
func TestCloseWriteKeepsLaterOutputUnsent(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, c := tcpPair(t, b, 0)
	ev := newEvents()
	bev.SetCallbacks(nil, nil, ev.cb)
	if err := bev.Enable(event.Read | event.Write); err != nil {
		t.Fatal(err)
	}
	if err := bev.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(c); err != nil || len(got) != 0 { // the shutdown reached the peer
		t.Fatalf("peer read %q, %v; want the end of the stream", got, err)
	}
	onLoop(t, b, func() { bev.Output().WriteString("too late") })
	settle(t, b)
	select {
	case w := <-ev.ch:
		t.Fatalf("event %v after output added past the shutdown (Err %v)", w, bev.Err())
	default:
	}
	if _, err := bev.WriteString("more"); !errors.Is(err, ErrWriteClosed) {
		t.Fatalf("Write after CloseWrite: %v, want ErrWriteClosed", err)
	}
}
