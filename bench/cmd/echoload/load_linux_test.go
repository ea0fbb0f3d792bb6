package main

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer is an echo server in the test process. mangle, if set, may
// change what is echoed on a connection, given the bytes echoed on it so
// far, or close it; drop, if set, may close the nth accepted connection
// (from 1) at once. close stops the server and waits for every
// connection's goroutine.
type testServer struct {
	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
	mangle func(c net.Conn, total int, p []byte) (close bool)
	drop   func(nth int) bool
}

func startServer(t *testing.T, mangle func(net.Conn, int, []byte) bool) *testServer {
	return startDroppingServer(t, mangle, nil)
}

func startDroppingServer(t *testing.T, mangle func(net.Conn, int, []byte) bool, drop func(int) bool) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{ln: ln, conns: map[net.Conn]bool{}, mangle: mangle, drop: drop}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for nth := 1; ; nth++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if s.drop != nil && s.drop(nth) {
				c.Close()
				continue
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go s.serve(c)
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *testServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	buf := make([]byte, 4096)
	total := 0
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if s.mangle != nil && s.mangle(c, total, buf[:n]) {
				return
			}
			total += n
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (s *testServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *testServer) config(t *testing.T) config {
	ap, err := netip.ParseAddrPort(s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return config{addr: ap, conns: 3, size: 100, depth: 4, duration: 300 * time.Millisecond, warmup: 100 * time.Millisecond, procs: 1, wait: 5 * time.Second}
}

func openFds(t *testing.T) int {
	t.Helper()
	n, err := procFds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEchoRoundTripsCountedWithoutErrors(t *testing.T) {
	s := startServer(t, nil)
	cfg := s.config(t)
	fds := openFds(t)
	var stderr bytes.Buffer
	res, err := load(cfg, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if res.errors != 0 || res.msgs == 0 {
		t.Fatalf("got %d errors and %d messages, want 0 errors and some messages; stderr: %s", res.errors, res.msgs, stderr.String())
	}
	if res.p50 <= 0 || res.p99 < res.p50 {
		t.Errorf("p50 %v, p99 %v: want 0 < p50 <= p99", res.p50, res.p99)
	}
	if res.secs < 0.3 || res.srv != nil {
		t.Errorf("window %.3f s and server stats %v: want at least 0.3 s and none without -pid", res.secs, res.srv)
	}
	s.close() // and its listener, open before
	if got := openFds(t); got != fds-1 {
		t.Errorf("%d descriptors open after the run and the server, want %d", got, fds-1)
	}
}

func TestWrongByteFailsTheConnection(t *testing.T) {
	s := startServer(t, func(_ net.Conn, total int, p []byte) bool {
		if total <= 1000 && total+len(p) > 1000 {
			p[1000-total] ^= 1
		}
		return false
	})
	var stderr bytes.Buffer
	res, err := load(s.config(t), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if res.errors != 3 || !strings.Contains(stderr.String(), "wrong bytes") {
		t.Errorf("got %d errors, stderr %q; want 3 (every connection) and a wrong-bytes report", res.errors, stderr.String())
	}
}

func TestServerClosingIsAnError(t *testing.T) {
	s := startServer(t, func(_ net.Conn, total int, _ []byte) bool { return total > 500 })
	var stderr bytes.Buffer
	res, err := load(s.config(t), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if res.errors != 3 {
		t.Errorf("got %d errors, want 3; stderr %q", res.errors, stderr.String())
	}
}

func TestDroppedIdleConnectionsAreErrors(t *testing.T) {
	// The idle connections are made first: the server closes the first
	// two it accepts.
	s := startDroppingServer(t, nil, func(nth int) bool { return nth <= 2 })
	cfg := s.config(t)
	cfg.idle = 2
	var stderr bytes.Buffer
	res, err := load(cfg, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if res.errors != 2 || res.msgs == 0 {
		t.Errorf("got %d errors and %d messages, want 2 errors (the idle connections) and some messages; stderr %q", res.errors, res.msgs, stderr.String())
	}
}

func TestServerStatsFromProc(t *testing.T) {
	// The server is this very process, so /proc/self describes it.
	s := startServer(t, nil)
	cfg := s.config(t)
	cfg.pid = os.Getpid()
	cfg.idle = 20
	res, err := load(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	st := res.srv
	if st == nil || !st.idleMeasured || st.rssKB <= 0 || st.hwmKB < st.rssKB || st.cpu <= 0 {
		t.Fatalf("server stats %+v: want idle memory measured, 0 < RSS <= HWM, CPU time > 0", st)
	}
	line := formatResult(cfg, res)
	for _, k := range []string{" srv_cpu_s=", " srv_ns_per_msg=", " srv_hwm_kb=", " srv_idle_bytes_per_conn="} {
		if !strings.Contains(line, k) {
			t.Errorf("result line %q lacks %q", line, k)
		}
	}
}

func TestNoListenerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	_, err = load(config{addr: ap, conns: 1, size: 8, depth: 1, duration: time.Second, pid: os.Getpid(), wait: 100 * time.Millisecond, procs: 1}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "nothing listens") {
		t.Errorf("got %v, want a nothing-listens error", err)
	}
}
