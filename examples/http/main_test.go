package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"

	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// startHTTP builds the example and starts it on a free port, serving root.
func startHTTP(t *testing.T, root string, flags ...string) (*exampletest.Proc, string) {
	t.Helper()
	_, addr, p := exampletest.StartServer(t, append([]string{"-root", root}, flags...)...)
	return p, addr
}

// countingClient is an HTTP client that counts the connections it opens.
func countingClient(dials *atomic.Int32, conns int) *http.Client {
	d := &net.Dialer{}
	return &http.Client{
		Timeout: exampletest.Timeout,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: conns,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return d.DialContext(ctx, network, addr)
			},
		},
	}
}

// exercise sends n requests of every kind with client and checks each
// response; it returns the first problem.
func exercise(client *http.Client, base string, n int, seed int64) error {
	r := rand.New(rand.NewSource(seed))
	for i := 0; i < n; i++ {
		var req *http.Request
		var want string
		switch i % 5 {
		case 0:
			req, _ = http.NewRequest("GET", base+"/plaintext", nil)
			want = plaintextBody
		case 1:
			req, _ = http.NewRequest("GET", base+"/json", nil)
			want = jsonBody
		case 2:
			req, _ = http.NewRequest("GET", base+"/static/hello.txt", nil)
			want = "hello, file\n"
		case 3: // a body with Content-Length
			b := make([]byte, r.Intn(20000))
			r.Read(b)
			req, _ = http.NewRequest("POST", base+"/echo", bytes.NewReader(b))
			want = string(b)
		case 4: // a body of unknown length: the client sends it chunked
			b := make([]byte, r.Intn(20000))
			r.Read(b)
			req, _ = http.NewRequest("POST", base+"/echo", io.MultiReader(bytes.NewReader(b)))
			want = string(b)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || string(body) != want {
			return fmt.Errorf("%s %s: got %d with %d bytes, want 200 with %d", req.Method, req.URL.Path,
				resp.StatusCode, len(body), len(want))
		}
	}
	return nil
}

// runClients runs workers goroutines of exercise over connections kept
// alive and checks that they were kept alive.
func runClients(t *testing.T, addr string, workers, n int) {
	t.Helper()
	var dials atomic.Int32
	client := countingClient(&dials, workers)
	defer client.CloseIdleConnections()
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) { errs <- exercise(client, "http://"+addr, n, int64(w)) }(w)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	// The transport may dial while a connection is on its way back to the
	// pool, so a few more than workers; without keep-alive, one per request.
	if d := dials.Load(); d > int32(workers*n/10) {
		t.Errorf("%d connections for %d requests: keep-alive does not work", d, workers*n)
	}
}

func TestGoClientKeepsConnectionsAlive(t *testing.T) {
	p, addr := startHTTP(t, testRoot(t))
	runClients(t, addr, 8, 250)
	p.ExitsCleanly(syscall.SIGTERM)
}

// dialHTTP connects with a deadline for the whole exchange.
func dialHTTP(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := exampletest.Dial(t, "tcp", addr)
	c.SetDeadline(time.Now().Add(exampletest.Timeout))
	return c, bufio.NewReader(c)
}

// readResponse reads one response and its body.
func readResponse(t *testing.T, r *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(r, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading a body: %v", err)
	}
	return resp, string(body)
}

func TestPipelinedRequestsOverASocket(t *testing.T) {
	p, addr := startHTTP(t, testRoot(t))
	c, r := dialHTTP(t, addr)
	var wire strings.Builder
	var methods, bodies []string
	for i := 0; i < 300; i++ {
		switch i % 4 {
		case 0:
			wire.WriteString("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
			methods, bodies = append(methods, "GET"), append(bodies, plaintextBody)
		case 1:
			wire.WriteString("HEAD /json HTTP/1.1\r\nHost: x\r\n\r\n")
			methods, bodies = append(methods, "HEAD"), append(bodies, "")
		case 2:
			b := strconv.Itoa(i)
			fmt.Fprintf(&wire, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(b), b)
			methods, bodies = append(methods, "POST"), append(bodies, b)
		case 3:
			b := strconv.Itoa(i)
			fmt.Fprintf(&wire, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(b), b)
			methods, bodies = append(methods, "POST"), append(bodies, b)
		}
	}
	wire.WriteString("GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	methods, bodies = append(methods, "GET"), append(bodies, jsonBody)
	go func() {
		// In uneven pieces, so that requests are cut anywhere.
		b := []byte(wire.String())
		for i := 1; len(b) > 0; i++ {
			k := min(len(b), i*53%700+1)
			c.Write(b[:k])
			b = b[k:]
		}
	}()
	for i, m := range methods {
		resp, body := readResponse(t, r, m)
		if resp.StatusCode != 200 || body != bodies[i] {
			t.Fatalf("response %d: %d %q, want 200 %q", i, resp.StatusCode, body, bodies[i])
		}
	}
	exampletest.ExpectEOF(t, c, r)
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestBadRequestsCloseOnlyTheirConnection(t *testing.T) {
	p, addr := startHTTP(t, testRoot(t), "-max-header", "1024")
	other, otherR := dialHTTP(t, addr)
	for _, tc := range []struct {
		req    string
		status int
	}{
		{"NOT HTTP AT ALL\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 2000) + "\r\n\r\n", 431},
		{"GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 2000), 431}, // never ends
		{"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
	} {
		c, r := dialHTTP(t, addr)
		io.WriteString(c, tc.req)
		resp, _ := readResponse(t, r, "GET")
		if resp.StatusCode != tc.status || !resp.Close {
			t.Errorf("%.40q: got %d (close %v), want %d and close", tc.req, resp.StatusCode, resp.Close, tc.status)
		}
		exampletest.ExpectEOF(t, c, r)
		// The other connection is served all along.
		io.WriteString(other, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, body := readResponse(t, otherR, "GET"); resp.StatusCode != 200 || body != plaintextBody {
			t.Fatalf("the other connection got %d %q", resp.StatusCode, body)
		}
	}
	// Errors that keep the framing keep the connection too.
	io.WriteString(other, "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\nDELETE /json HTTP/1.1\r\nHost: x\r\n\r\nGET /none HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []int{501, 405, 404} {
		if resp, _ := readResponse(t, otherR, "GET"); resp.StatusCode != want || resp.Close {
			t.Fatalf("got %d (close %v), want %d on a connection kept alive", resp.StatusCode, resp.Close, want)
		}
	}
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestSlowlorisIsDisconnectedAtTheHeaderDeadline(t *testing.T) {
	p, addr := startHTTP(t, testRoot(t), "-header-timeout", "1s")
	c, r := dialHTTP(t, addr)
	head := "GET /plaintext HTTP/1.1\r\nHost: x\r\nUser-Agent: " + strings.Repeat("s", 200) + "\r\n\r\n"
	stop := make(chan struct{})
	sent := make(chan int, 1)
	go func() {
		// One byte every 100 ms: far more often than the deadline, so only
		// a deadline counted from the first byte catches it. The whole
		// head would take 24 s.
		n := 0
		defer func() { sent <- n }()
		for ; n < len(head); n++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := c.Write([]byte{head[n]}); err != nil {
				return
			}
		}
	}()
	// Meanwhile other clients are served.
	runClients(t, addr, 2, 20)
	resp, _ := readResponse(t, r, "GET")
	close(stop)
	if resp.StatusCode != 408 || !resp.Close {
		t.Fatalf("got %d (close %v), want 408 and close", resp.StatusCode, resp.Close)
	}
	exampletest.ExpectEOF(t, c, r)
	if n := <-sent; n == len(head) {
		t.Fatal("the whole head was sent before the server gave up")
	}
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestIdleConnectionsAreClosedSilently(t *testing.T) {
	p, addr := startHTTP(t, testRoot(t), "-idle-timeout", "300ms")
	c, r := dialHTTP(t, addr)
	io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := readResponse(t, r, "GET"); resp.StatusCode != 200 || body != plaintextBody {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	exampletest.ExpectEOF(t, c, r) // after 300 ms without a request, and no 408
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestWrkLoadHasNoErrors(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed (apt-get install wrk)")
	}
	p, addr := startHTTP(t, testRoot(t))
	out, err := exec.Command(wrk, "-t1", "-c100", "-d3s", "http://"+addr+"/plaintext").CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	if bytes.Contains(out, []byte("Socket errors")) || bytes.Contains(out, []byte("Non-2xx")) {
		t.Fatalf("wrk reported errors:\n%s", out)
	}
	m := regexp.MustCompile(`(\d+) requests in`).FindSubmatch(out)
	if m == nil || string(m[1]) == "0" {
		t.Fatalf("no requests completed:\n%s", out)
	}
	p.ExitsCleanly(syscall.SIGINT)
}

func TestLargeFileGoesToASlowReaderInParts(t *testing.T) {
	root := t.TempDir()
	data := make([]byte, 64<<20)
	rand.New(rand.NewSource(1)).Read(data)
	if err := os.WriteFile(filepath.Join(root, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	p, addr := startHTTP(t, root)
	c, r := dialHTTP(t, addr)
	io.WriteString(c, "GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	time.Sleep(300 * time.Millisecond) // the client does not read yet
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	if n, err := io.Copy(h, resp.Body); err != nil || n != int64(len(data)) {
		t.Fatalf("read %d bytes (%v), want %d", n, err, len(data))
	}
	if got, want := h.Sum(nil), md5.Sum(data); !bytes.Equal(got, want[:]) {
		t.Fatal("the file arrived changed")
	}
	if resp, body := readResponse(t, r, "GET"); resp.StatusCode != 200 || body != plaintextBody {
		t.Fatalf("after the file: %d %q", resp.StatusCode, body)
	}
	exampletest.ExpectEOF(t, c, r)
	if rss := p.PeakRSS(); rss > 40<<20 {
		t.Fatalf("peak RSS %d MiB while sending a 64 MiB file: it was read whole", rss>>20)
	}
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestClosedConnectionsReleaseTheirDescriptors(t *testing.T) {
	p, addr := startHTTP(t, testRoot(t))
	before := p.OpenFds()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(exampletest.Timeout))
			switch i % 3 {
			case 0: // the server closes
				io.WriteString(c, "GET /static/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
				io.ReadAll(c)
			case 1: // the client closes after a response
				io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
				http.ReadResponse(bufio.NewReader(c), nil)
			case 2: // the client closes in the middle of a request
				io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHo")
			}
		}(i)
	}
	wg.Wait()
	p.WaitFds(before)
	p.ExitsCleanly(syscall.SIGINT)
}

func TestBadFlagsAreRefused(t *testing.T) {
	bin := exampletest.Build(t, ".")
	for _, tc := range []struct {
		args []string
		line string
	}{
		{[]string{"-header-timeout", "0s"}, "http: the timeouts must be positive"},
		{[]string{"-max-header", "0"}, "http: the limits must be positive"},
		{[]string{"-root", "/does/not/exist"}, "http: lstat /does: no such file or directory"},
	} {
		p := exampletest.Start(t, bin, tc.args...)
		if l := p.NextLine(); l != tc.line {
			t.Errorf("%q: got %q, want %q", tc.args, l, tc.line)
		}
		if ws := p.Wait(exampletest.Timeout); ws.ExitStatus() != 1 {
			t.Errorf("%q: status %v, want exit 1", tc.args, ws)
		}
	}
}

func TestLastResponseSurvivesUnreadInput(t *testing.T) {
	root := t.TempDir()
	data := bytes.Repeat([]byte("levent "), 1<<20) // 7 MiB: more than the socket buffers hold
	if err := os.WriteFile(filepath.Join(root, "big.txt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	p, addr := startHTTP(t, root)
	c, r := dialHTTP(t, addr)
	// The server stops reading after a request with Connection: close; what
	// follows stays unread in its socket. Closing it then would make the
	// kernel send a reset and drop the end of the response still queued.
	io.WriteString(c, "GET /static/big.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	time.Sleep(100 * time.Millisecond)
	c.Write(make([]byte, 64<<10))
	time.Sleep(500 * time.Millisecond) // the server has queued the whole response
	resp, body := readResponse(t, r, "GET")
	if resp.StatusCode != 200 || body != string(data) {
		t.Fatalf("got %d with %d bytes, want 200 with %d", resp.StatusCode, len(body), len(data))
	}
	exampletest.ExpectEOF(t, c, r)
	p.ExitsCleanly(syscall.SIGTERM)
}
