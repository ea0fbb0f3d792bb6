package main

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

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
	if cfg.root == defaultConfig.root {
		cfg.root = testRoot(t)
	}
	srv, err := newServer(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	exampletest.RunLoop(t, base, srv.close)
	return srv, "127.0.0.1:" + strconv.Itoa(srv.Addr().(*net.TCPAddr).Port)
}

func TestInProcessClientsAndPipelines(t *testing.T) {
	_, addr := startInProcess(t, defaultConfig)
	runClients(t, addr, 4, 100)
	c, r := dialHTTP(t, addr)
	io.WriteString(c, strings.Repeat("GET /json HTTP/1.1\r\nHost: x\r\n\r\n", 50)+
		"GET /static/hello.txt HTTP/1.0\r\n\r\n")
	for i := 0; i < 50; i++ {
		if resp, body := readResponse(t, r, "GET"); resp.StatusCode != 200 || body != jsonBody {
			t.Fatalf("response %d: %d %q", i, resp.StatusCode, body)
		}
	}
	if resp, body := readResponse(t, r, "GET"); resp.StatusCode != 200 || body != "hello, file\n" || !resp.Close {
		t.Fatalf("last response: %d %q close %v", resp.StatusCode, body, resp.Close)
	}
	exampletest.ExpectEOF(t, c, r)
}

func TestInProcessHeaderDeadline(t *testing.T) {
	cfg := defaultConfig
	cfg.headerTimeout = 300 * time.Millisecond
	_, addr := startInProcess(t, cfg)
	c, r := dialHTTP(t, addr)
	go func() {
		for _, b := range []byte("GET /plaintext HTTP/1.1\r\nHost: x\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	if resp, _ := readResponse(t, r, "GET"); resp.StatusCode != 408 {
		t.Fatalf("got %d, want 408", resp.StatusCode)
	}
	exampletest.ExpectEOF(t, c, r)
}

func TestInProcessSlowReaderOfManyResponses(t *testing.T) {
	cfg := defaultConfig
	cfg.maxOutput = 16 << 10
	_, addr := startInProcess(t, cfg)
	c, r := dialHTTP(t, addr)
	const n = 2000 // about 270 kB of responses for a 16 kB output limit
	go io.WriteString(c, strings.Repeat("GET /json HTTP/1.1\r\nHost: x\r\n\r\n", n))
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < n; i++ {
		if resp, body := readResponse(t, r, "GET"); resp.StatusCode != 200 || body != jsonBody {
			t.Fatalf("response %d: %d %q", i, resp.StatusCode, body)
		}
	}
}
