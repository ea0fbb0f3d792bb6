package main

import (
	"net"
	"syscall"
	"time"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
	"github.com/levent-go/levent/listener"
)

// config holds the server's settings, the command line's flags.
type config struct {
	addr      string
	maxBulk   int // longest bulk string in a request
	maxInline int // longest inline request
	maxQuery  int // most input buffered for one connection: the read high watermark
	maxOutput int // replies waiting to be written before a connection stops reading
}

// defaultConfig has Redis's limits: proto-max-bulk-len 512 MiB and
// client-query-buffer-limit 1 GiB. Redis allows inline requests of 64 KiB;
// this server allows 1 MiB.
var defaultConfig = config{
	addr:      "127.0.0.1:6379",
	maxBulk:   512 << 20,
	maxInline: 1 << 20,
	maxQuery:  1 << 30,
	maxOutput: 4 << 20,
}

// The expiry sweep's pace: see store.go.
const (
	sweepEvery  = 100 * time.Millisecond
	sweepBudget = 10000
)

// server is the listener, the key space and the connections of one loop.
type server struct {
	cfg   config
	base  *event.Base
	ln    *listener.Listener
	db    *store
	sweep *event.Event
	conns map[*conn]struct{}
}

// newServer listens on cfg.addr and prepares the loop; Dispatch on
// s.base serves.
func newServer(base *event.Base, cfg config) (*server, error) {
	s := &server{cfg: cfg, base: base, db: newStore(), conns: make(map[*conn]struct{})}
	var err error
	s.sweep, err = event.New(base, -1, event.Persist, func(int, event.Flag) { s.db.sweep(sweepBudget) })
	if err != nil {
		return nil, err
	}
	if err := s.sweep.Add(sweepEvery); err != nil {
		s.sweep.Free()
		return nil, err
	}
	s.ln, err = listener.NewBind(base, s.accept, listener.Reuseable|listener.CloseOnFree, -1, "tcp", cfg.addr)
	if err != nil {
		s.sweep.Free()
		return nil, err
	}
	return s, nil
}

// Addr returns the address the server listens on.
func (s *server) Addr() net.Addr { return s.ln.Addr() }

// accept gives a new connection its BufferEvent and conn.
func (s *server) accept(_ *listener.Listener, fd int, _ net.Addr) {
	bev, err := bufferevent.New(s.base, fd, bufferevent.CloseOnFree)
	if err != nil {
		syscall.Close(fd)
		return
	}
	// Replies are small and go out in one write per read: waiting for the
	// previous ones to be acknowledged (Nagle) would only add latency.
	sock.SetNoDelay(fd, true)
	c := newConn(s, bev, bev.Input(), bev.Output())
	s.conns[c] = struct{}{}
	bev.SetWatermark(event.Read, 0, s.cfg.maxQuery)
	bev.SetCallbacks(c.onRead, nil, c.onEvent)
	bev.Enable(event.Read)
}

// close stops listening and frees every connection and the sweep timer.
func (s *server) close() {
	s.ln.Free()
	s.sweep.Free()
	for c := range s.conns {
		c.close()
	}
}
