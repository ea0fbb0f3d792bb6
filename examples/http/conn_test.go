package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/levent-go/levent/bufferevent"
)

// testConn drives a conn by hand, without a socket: requests go into its
// input buffer, serve runs, and the responses are read from its output.
type testConn struct {
	*conn
	in, out bufferevent.Buffer
}

// testRoot makes a directory to serve: a file, a subdirectory, a file
// outside it and a symbolic link to that file.
func testRoot(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	for name, content := range map[string]string{
		"root/hello.txt":     "hello, file\n",
		"root/sub/page.html": "<p>page</p>\n",
		"root/empty.json":    "",
		"secret.txt":         "secret\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(root, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("hello.txt", filepath.Join(root, "inside.txt")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func newTestConn(t testing.TB, cfg config) *testConn {
	t.Helper()
	if cfg.root == defaultConfig.root {
		cfg.root = testRoot(t)
	}
	srv, err := newRoutes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.closeRoot)
	tc := &testConn{}
	tc.conn = newConn(srv, nil, &tc.in, &tc.out)
	return tc
}

// send writes raw bytes as the client would and returns the output,
// playing the part of the socket: it takes the output, which lets a paused
// connection go on, until the connection waits for more input.
func (tc *testConn) send(wire string) string {
	tc.in.WriteString(wire)
	tc.serve()
	var out strings.Builder
	for {
		out.Write(tc.out.Peek(-1))
		tc.out.Reset()
		switch {
		case tc.paused:
			tc.paused = false // what onDrained does
			tc.serve()
		case tc.closing && tc.file != nil:
			tc.sendFile() // what onDrainedClose does
		default:
			return out.String()
		}
	}
}

// response is what a test checks of a response.
type response struct {
	status int
	body   string
	header map[string]string // headers that must have these values ("" : absent)
}

// readResponses parses the responses in wire, for requests with methods.
func readResponses(t *testing.T, wire string, methods ...string) []*http.Response {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(wire))
	var rs []*http.Response
	for _, m := range methods {
		resp, err := http.ReadResponse(r, &http.Request{Method: m})
		if err != nil {
			t.Fatalf("response %d of %q: %v", len(rs), wire, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("response %d body: %v", len(rs), err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		rs = append(rs, resp)
	}
	if rest, _ := io.ReadAll(r); len(rest) > 0 {
		t.Fatalf("%d bytes after the responses: %q", len(rest), rest)
	}
	return rs
}

func checkResponse(t *testing.T, what string, resp *http.Response, want response) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want.status || string(body) != want.body {
		t.Errorf("%s: got %d %q, want %d %q", what, resp.StatusCode, body, want.status, want.body)
	}
	for k, v := range want.header {
		if k == "Connection" && v == "close" { // ReadResponse takes it out
			if !resp.Close {
				t.Errorf("%s: the response does not close the connection", what)
			}
			continue
		}
		if got := strings.Join(resp.Header.Values(k), ","); got != v {
			t.Errorf("%s: header %s = %q, want %q", what, k, got, v)
		}
	}
	if resp.Header.Get("Date") == "" {
		t.Errorf("%s: no Date header", what)
	}
}

func TestRoutesAnswer(t *testing.T) {
	for _, beneath := range []bool{true, false} {
		t.Run(map[bool]string{true: "openat2", false: "EvalSymlinks"}[beneath], func(t *testing.T) {
			testRoutes(t, beneath)
		})
	}
}

// testRoutes checks every route's answers, the static ones opened with
// openat2 or by resolving symbolic links.
func testRoutes(t *testing.T, beneath bool) {
	for _, tc := range []struct {
		req  string
		want response
	}{
		{"GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n", response{200, "Hello, World!",
			map[string]string{"Content-Type": "text/plain; charset=utf-8", "Content-Length": "13", "Connection": ""}}},
		{"GET /plaintext?q=1 HTTP/1.1\r\nHost: a\r\n\r\n", response{200, "Hello, World!", nil}},
		{"GET /json HTTP/1.1\r\nHost: a\r\n\r\n", response{200, `{"message":"Hello, World!"}`,
			map[string]string{"Content-Type": "application/json"}}},
		{"GET /static/hello.txt HTTP/1.1\r\nHost: a\r\n\r\n", response{200, "hello, file\n",
			map[string]string{"Content-Type": "text/plain; charset=utf-8", "Content-Length": "12"}}},
		{"GET /static/sub/page.html HTTP/1.1\r\nHost: a\r\n\r\n", response{200, "<p>page</p>\n",
			map[string]string{"Content-Type": "text/html; charset=utf-8"}}},
		{"GET /static/sub/%70age.html HTTP/1.1\r\nHost: a\r\n\r\n", response{200, "<p>page</p>\n", nil}},
		{"GET /static/inside.txt HTTP/1.1\r\nHost: a\r\n\r\n", response{200, "hello, file\n", nil}},
		{"GET /static/empty.json HTTP/1.1\r\nHost: a\r\n\r\n", response{200, "", map[string]string{"Content-Length": "0"}}},
		{"GET /static/nope.txt HTTP/1.1\r\nHost: a\r\n\r\n", response{404, "404 Not Found\n", nil}},
		{"GET /static/hello.txt/x HTTP/1.1\r\nHost: a\r\n\r\n", response{404, "404 Not Found\n", nil}},
		{"GET /static/sub HTTP/1.1\r\nHost: a\r\n\r\n", response{403, "403 Forbidden\n", nil}},
		{"GET /static/ HTTP/1.1\r\nHost: a\r\n\r\n", response{403, "403 Forbidden\n", nil}},
		{"GET /static/../secret.txt HTTP/1.1\r\nHost: a\r\n\r\n", response{403, "403 Forbidden\n", nil}},
		{"GET /static/sub/../../secret.txt HTTP/1.1\r\nHost: a\r\n\r\n", response{403, "403 Forbidden\n", nil}},
		{"GET /static/%2e%2e/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n", response{403, "403 Forbidden\n", nil}},
		{"GET /static/..%2fsecret.txt HTTP/1.1\r\nHost: a\r\n\r\n", response{403, "403 Forbidden\n", nil}},
		{"GET /static/link.txt HTTP/1.1\r\nHost: a\r\n\r\n", response{403, "403 Forbidden\n", nil}},
		{"GET /static/fifo HTTP/1.1\r\nHost: a\r\n\r\n", response{403, "403 Forbidden\n", nil}},
		{"GET /static//hello.txt HTTP/1.1\r\nHost: a\r\n\r\n", response{200, "hello, file\n", nil}},
		{"GET /static/%zz HTTP/1.1\r\nHost: a\r\n\r\n", response{400, "400 Bad Request\n", nil}},
		{"GET /static/a%00b HTTP/1.1\r\nHost: a\r\n\r\n", response{400, "400 Bad Request\n", nil}},
		{"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", response{404, "404 Not Found\n", nil}},
		{"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", response{405, "405 Method Not Allowed\n",
			map[string]string{"Allow": "GET, HEAD"}}},
		{"GET /echo HTTP/1.1\r\nHost: a\r\n\r\n", response{405, "405 Method Not Allowed\n", map[string]string{"Allow": "POST"}}},
		{"BREW /plaintext HTTP/1.1\r\nHost: a\r\n\r\n", response{501, "501 Not Implemented\n", nil}},
		{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", response{200, "hello",
			map[string]string{"Content-Type": "application/octet-stream"}}},
		{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
			response{200, "abcde", nil}},
		{"GET /plaintext HTTP/1.0\r\n\r\n", response{200, "Hello, World!", map[string]string{"Connection": "close"}}},
		{"GET /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", response{200, `{"message":"Hello, World!"}`,
			map[string]string{"Connection": "keep-alive"}}},
		{"GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", response{200, "Hello, World!",
			map[string]string{"Connection": "close"}}},
	} {
		c := newTestConn(t, defaultConfig)
		if !beneath {
			c.srv.closeRoot()
		}
		out := c.send(tc.req)
		checkResponse(t, tc.req, readResponses(t, out, "GET")[0], tc.want)
		if wantClose := tc.want.header["Connection"] == "close"; c.closing != wantClose {
			t.Errorf("%q: closing %v, want %v", tc.req, c.closing, wantClose)
		}
	}
}

func TestHeadGetsTheHeadersOnly(t *testing.T) {
	c := newTestConn(t, defaultConfig)
	for _, path := range []string{"/plaintext", "/json", "/static/hello.txt", "/nope"} {
		get := c.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n")
		head := c.send("HEAD " + path + " HTTP/1.1\r\nHost: a\r\n\r\n")
		if i := strings.Index(get, "\r\n\r\n") + 4; head != get[:i] {
			t.Errorf("HEAD %s: got %q, want the GET headers %q", path, head, get[:i])
		}
	}
}

func TestPipelinedRequestsAreAnsweredInOrder(t *testing.T) {
	c := newTestConn(t, defaultConfig)
	out := c.send("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\none" +
		"HEAD /json HTTP/1.1\r\nHost: a\r\n\r\n" +
		"\r\n" + // an empty line between requests is ignored
		"GET /static/hello.txt HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n" +
		"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n" +
		"GET /json HTTP/1.1\r\nHost: a\r\n\r\n")
	rs := readResponses(t, out, "GET", "POST", "HEAD", "GET", "POST", "GET", "GET")
	for i, want := range []response{
		{200, "Hello, World!", nil}, {200, "one", nil}, {200, "", map[string]string{"Content-Length": "27"}},
		{200, "hello, file\n", nil}, {200, "two", nil}, {404, "404 Not Found\n", nil},
		{200, `{"message":"Hello, World!"}`, nil},
	} {
		checkResponse(t, fmt.Sprint("response ", i), rs[i], want)
	}
	if c.in.Len() != 0 || c.closing {
		t.Fatalf("%d bytes left, closing %v", c.in.Len(), c.closing)
	}
}

func TestARequestCutAnywhereIsAnsweredOnce(t *testing.T) {
	wire := "GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
		"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1;x\r\nc\r\n0\r\nT: 1\r\n\r\n"
	var whole string
	for i := 0; i <= len(wire); i++ {
		c := newTestConn(t, defaultConfig)
		out := c.send(wire[:i]) + c.send(wire[i:])
		if i == 0 {
			whole = out
		}
		rs := readResponses(t, out, "GET", "POST", "POST")
		for j, want := range []string{"Hello, World!", "hello", "abc"} {
			if b, _ := io.ReadAll(rs[j].Body); string(b) != want {
				t.Fatalf("cut at %d: response %d is %q, want %q", i, j, b, want)
			}
		}
		if len(out) != len(whole) {
			t.Fatalf("cut at %d: %d bytes of responses, want %d", i, len(out), len(whole))
		}
	}
}

func TestMalformedRequestsGetAnErrorAndClose(t *testing.T) {
	for _, tc := range []struct {
		req    string
		status int
	}{
		{"GARBAGE\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\n\r\n", 400},
		{"GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("y", 10000) + "\r\n\r\n", 431},
		{"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", 413},
		{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
		{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
	} {
		c := newTestConn(t, defaultConfig)
		out := c.send(tc.req + "GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n")
		rs := readResponses(t, out, "GET") // the request after is not answered
		if rs[0].StatusCode != tc.status || !rs[0].Close || !c.closing {
			t.Errorf("%.50q: got %d, close %v, closing %v; want %d and close",
				tc.req, rs[0].StatusCode, rs[0].Close, c.closing, tc.status)
		}
	}
}

func TestExpectContinueIsAnsweredBeforeTheBody(t *testing.T) {
	c := newTestConn(t, defaultConfig)
	got := c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
	if got != "HTTP/1.1 100 Continue\r\n\r\n" {
		t.Fatalf("got %q, want 100 Continue", got)
	}
	if got := c.send("h"); got != "" {
		t.Fatalf("100 Continue sent again, or more: %q", got)
	}
	rs := readResponses(t, c.send("i"), "POST")
	checkResponse(t, "after 100", rs[0], response{200, "hi", nil})
}

func TestOutputLimitPausesAndResumes(t *testing.T) {
	cfg := defaultConfig
	cfg.maxOutput = 300
	c := newTestConn(t, cfg)
	c.in.WriteString(strings.Repeat("GET /json HTTP/1.1\r\nHost: a\r\n\r\n", 10))
	c.serve()
	// Three responses of about 130 bytes pass the limit.
	if n := strings.Count(string(c.out.Peek(-1)), "HTTP/1.1 200"); n != 3 || !c.paused {
		t.Fatalf("%d responses before pausing (paused %v), want 3", n, c.paused)
	}
	c.out.Reset()
	rest := c.send("")
	if n := strings.Count(rest, "HTTP/1.1 200"); n != 7 {
		t.Fatalf("%d responses after resuming, want 7", n)
	}
}

func TestLargeFileIsSentInParts(t *testing.T) {
	cfg := defaultConfig
	cfg.root = t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 300000) // 4.8 MB
	if err := os.WriteFile(filepath.Join(cfg.root, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	c := newTestConn(t, cfg)
	c.in.WriteString("GET /static/big.bin HTTP/1.1\r\nHost: a\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n")
	c.serve()
	if !c.paused || c.file == nil || c.out.Len() > cfg.maxOutput+fileChunk {
		t.Fatalf("paused %v, file %v, %d bytes waiting: want a pause with at most %d waiting",
			c.paused, c.file != nil, c.out.Len(), cfg.maxOutput+fileChunk)
	}
	out := string(c.out.Peek(-1))
	c.out.Reset()
	out += c.send("")
	rs := readResponses(t, out, "GET", "GET")
	if b, _ := io.ReadAll(rs[0].Body); !bytes.Equal(b, data) {
		t.Fatalf("file body: %d bytes, want %d", len(b), len(data))
	}
	checkResponse(t, "after the file", rs[1], response{200, "Hello, World!", nil})
}

// The /plaintext path allocates nothing in steady state: the head is
// parsed where it lies in the input buffer, and the response is prebuilt.
func TestPlaintextAllocatesNothing(t *testing.T) {
	c := newTestConn(t, defaultConfig)
	for _, req := range []string{
		"GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n",
		"GET /json HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"HEAD /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n",
	} {
		wire := strings.Repeat(req, 16)
		c.send(wire)
		c.send(wire)
		allocs := testing.AllocsPerRun(100, func() {
			c.in.WriteString(wire)
			c.serve()
			c.out.Reset()
		})
		if allocs != 0 {
			t.Errorf("%.30q ×16: %v allocations per pass, want 0", req, allocs)
		}
	}
}

func benchmarkServe(b *testing.B, req string, depth int) {
	c := newTestConn(b, defaultConfig)
	wire := strings.Repeat(req, depth)
	c.send(wire)
	c.send(wire)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.in.WriteString(wire)
		c.serve()
		c.out.Reset()
	}
}

const wrkRequest = "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"

func BenchmarkServePlaintext1(b *testing.B)  { benchmarkServe(b, wrkRequest, 1) }
func BenchmarkServePlaintext16(b *testing.B) { benchmarkServe(b, wrkRequest, 16) }

// Whatever a client sends, cut however it is, the server answers the same
// (the same responses, or the same error) and never fails.
func FuzzConnAnyInputCutAnywhere(f *testing.F) {
	f.Add([]byte("GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"), uint16(7))
	f.Add([]byte("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a\r\nx\r\n0\r\nT: v\r\n\r\n"), uint16(30))
	f.Add([]byte("\r\nHEAD /static/hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /x%41 HTTP/1.1\r\n\r\n"), uint16(3))
	root := testRoot(f)
	f.Fuzz(func(t *testing.T, wire []byte, cut uint16) {
		cfg := defaultConfig
		cfg.root, cfg.maxHeader, cfg.maxBody = root, 512, 512
		srv, err := newRoutes(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.closeRoot()
		run := func(parts ...[]byte) string {
			tc := &testConn{}
			tc.conn = newConn(srv, nil, &tc.in, &tc.out)
			var out strings.Builder
			for _, p := range parts {
				out.WriteString(tc.send(string(p)))
			}
			return out.String()
		}
		k := int(cut) % (len(wire) + 1)
		if whole, split := run(wire), run(wire[:k], wire[k:]); whole != split {
			t.Fatalf("cut at %d: %q, whole: %q", k, split, whole)
		}
	})
}
