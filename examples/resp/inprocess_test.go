package main

import (
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/exampletest"
)

// The tests in this file run the server on a loop inside the test process,
// so that the race detector watches the real connection code; the other
// process tests run the built program.

// startInProcess runs a server with cfg on a loop on its own goroutine.
// At the end of the test it stops the loop and checks that no goroutine
// or descriptor is left behind.
func startInProcess(t *testing.T, cfg config) (*server, string) {
	t.Helper()
	exampletest.NoLeaks(t)
	base, err := event.NewBase()
	if err != nil {
		t.Fatal(err)
	}
	cfg.addr = "127.0.0.1:0"
	srv, err := newServer(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	exampletest.RunLoop(t, base, srv.close)
	return srv, strconv.Itoa(srv.Addr().(*net.TCPAddr).Port)
}

// onLoop runs fn on the server's loop and waits for it.
func onLoop(t *testing.T, srv *server, fn func()) {
	t.Helper()
	done := make(chan struct{})
	if err := srv.base.Submit(func() { fn(); close(done) }); err != nil {
		t.Fatal(err)
	}
	<-done
}

func TestInputNeverHoldsMoreThanTheQueryLimit(t *testing.T) {
	cfg := defaultConfig
	cfg.maxQuery = 100000
	srv, port := startInProcess(t, cfg)
	c, r := dialResp(t, port)
	io.WriteString(c, "PING\r\n")
	expectRead(t, r, "+PONG\r\n")
	// Watch every read callback of the connection.
	var peak atomic.Int64
	onLoop(t, srv, func() {
		for cn := range srv.conns {
			cn := cn
			cn.bev.SetCallbacks(func(bev *bufferevent.BufferEvent) {
				if n := int64(bev.Input().Len()); n > peak.Load() {
					peak.Store(n)
				}
				cn.onRead(bev)
			}, nil, cn.onEvent)
		}
	})
	go func() {
		io.WriteString(c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n")
		c.Write(make([]byte, 1000000))
	}()
	expectRead(t, r, "-ERR Protocol error: request larger than the query buffer limit\r\n")
	expectClosed(t, r)
	if p := peak.Load(); p > int64(cfg.maxQuery) {
		t.Fatalf("the input held %d bytes, over the %d limit", p, cfg.maxQuery)
	}
}

func TestPausedConnectionResumesWithTheRequestsItHolds(t *testing.T) {
	cfg := defaultConfig
	cfg.maxOutput = 64 << 10
	srv, port := startInProcess(t, cfg)
	c, r := dialResp(t, port)
	value := strings.Repeat("v", 10000)
	io.WriteString(c, multibulk("SET", "k", value))
	expectRead(t, r, "+OK\r\n")
	// 500 replies of 10 KB, 5 MB in all: the connection pauses many times.
	const n = 500
	go io.WriteString(c, strings.Repeat("GET k\r\n", n)+"PING\r\n")
	time.Sleep(200 * time.Millisecond) // let the server fill the socket and pause
	paused := false
	onLoop(t, srv, func() {
		for cn := range srv.conns {
			paused = cn.paused
		}
	})
	if !paused {
		t.Error("the connection is not paused while its client does not read")
	}
	reply := "$10000\r\n" + value + "\r\n"
	for i := 0; i < n; i++ {
		expectRead(t, r, reply)
	}
	expectRead(t, r, "+PONG\r\n")
}

func TestManyClientsPipelineAtOnce(t *testing.T) {
	_, port := startInProcess(t, defaultConfig)
	const clients, reqs = 8, 300
	errs := make(chan string, clients)
	for i := 0; i < clients; i++ {
		c, r := dialResp(t, port)
		key := "c" + strconv.Itoa(i)
		go func() {
			io.WriteString(c, strings.Repeat(multibulk("INCR", key), reqs))
			var want strings.Builder
			for j := 1; j <= reqs; j++ {
				want.WriteString(":" + strconv.Itoa(j) + "\r\n")
			}
			got := make([]byte, want.Len())
			if _, err := io.ReadFull(r, got); err != nil || string(got) != want.String() {
				errs <- key + ": wrong replies"
				return
			}
			errs <- ""
		}()
	}
	for i := 0; i < clients; i++ {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
