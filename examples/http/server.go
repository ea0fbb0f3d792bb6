package main

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
	"github.com/levent-go/levent/listener"
)

// config holds the server's settings, the command line's flags.
type config struct {
	addr          string
	root          string        // directory served under /static/
	headerTimeout time.Duration // from a head's first bytes to its end
	idleTimeout   time.Duration // between requests, and between reads of a body or writes
	maxHeader     int           // longest request head
	maxBody       int           // largest request body
	maxOutput     int           // response bytes waiting before a connection stops reading
	tlsCert       string        // with tlsKey: serve HTTPS
	tlsKey        string
}

var defaultConfig = config{
	addr:          "127.0.0.1:8080",
	root:          ".",
	headerTimeout: 10 * time.Second,
	idleTimeout:   60 * time.Second,
	maxHeader:     8 << 10,
	maxBody:       1 << 20,
	maxOutput:     1 << 20,
}

// server is the listener, the routes' prebuilt responses and the
// connections of one loop.
type server struct {
	cfg    config
	base   *event.Base
	ln     *listener.Listener
	root   string // cfg.root, absolute, its symbolic links resolved
	rootFd int    // the root, opened for openat2 on Linux; -1 elsewhere
	clock  *event.Event
	date   [len(dateLayout)]byte // the Date value of this second
	conns  map[*conn]struct{}
	tls    *tls.Config // nil: plain HTTP

	plaintext, json *prebuilt
}

// newServer listens on cfg.addr and prepares the loop; Dispatch on base
// serves.
func newServer(base *event.Base, cfg config) (*server, error) {
	s, err := newRoutes(cfg)
	if err != nil {
		return nil, err
	}
	s.base = base
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			s.closeRoot()
			return nil, err
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	}
	// The Date header changes once a second: a persistent timer rewrites
	// it in the prebuilt responses, so that requests never format it.
	s.clock, err = event.New(base, -1, event.Persist, func(int, event.Flag) { s.tick(time.Now()) })
	if err == nil {
		if err = s.clock.Add(time.Second); err != nil {
			s.clock.Free()
		}
	}
	if err != nil {
		s.closeRoot()
		return nil, err
	}
	s.ln, err = listener.NewBind(base, s.accept, listener.Reuseable|listener.CloseOnFree, -1, "tcp", cfg.addr)
	if err != nil {
		s.clock.Free()
		s.closeRoot()
		return nil, err
	}
	return s, nil
}

// newRoutes returns a server without a loop yet: its root found and its
// responses prebuilt.
func newRoutes(cfg config) (*server, error) {
	root, err := filepath.Abs(cfg.root)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return nil, err
	}
	rootFd, err := openRoot(root)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	s := &server{cfg: cfg, root: root, rootFd: rootFd, conns: make(map[*conn]struct{}),
		plaintext: newPrebuilt("text/plain; charset=utf-8", plaintextBody, now),
		json:      newPrebuilt("application/json", jsonBody, now),
	}
	s.tick(now)
	return s, nil
}

// tick sets the Date of the second now.
func (s *server) tick(now time.Time) {
	appendDate(s.date[:0], now)
	s.plaintext.stamp(s.date[:])
	s.json.stamp(s.date[:])
}

// Addr returns the address the server listens on.
func (s *server) Addr() net.Addr { return s.ln.Addr() }

func (s *server) accept(_ *listener.Listener, fd int, _ net.Addr) {
	var bev *bufferevent.BufferEvent
	var err error
	if s.tls != nil {
		// The handshake runs first; requests are read once it is done,
		// and the header timeout armed below bounds it.
		bev, err = bufferevent.NewTLS(s.base, fd, s.tls, bufferevent.TLSAccepting, bufferevent.CloseOnFree)
	} else {
		bev, err = bufferevent.New(s.base, fd, bufferevent.CloseOnFree)
	}
	if err != nil {
		unix.Close(fd)
		return
	}
	sock.SetNoDelay(fd, true) // a response goes out in one write: no need to wait for ACKs
	c := newConn(s, bev, bev.Input(), bev.Output())
	s.conns[c] = struct{}{}
	bev.SetCallbacks(c.onRead, nil, c.onEvent)
	c.armTimeouts()
	bev.Enable(event.Read)
}

// close stops listening and frees every connection, the clock and the
// root's descriptor.
func (s *server) close() {
	s.ln.Free()
	s.clock.Free()
	for c := range s.conns {
		c.close()
	}
	s.closeRoot()
}

// closeRoot closes the root's descriptor.
func (s *server) closeRoot() {
	if s.rootFd >= 0 {
		unix.Close(s.rootFd)
		s.rootFd = -1
	}
}
