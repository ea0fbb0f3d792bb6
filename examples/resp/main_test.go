package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// needTool skips the test when a program it runs is not installed.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install %s)", name, pkg)
	}
	return path
}

// startResp builds the example and starts it on a free port.
func startResp(t *testing.T, flags ...string) (*exampletest.Proc, string) {
	t.Helper()
	_, addr, p := exampletest.StartServer(t, flags...)
	_, port, _ := net.SplitHostPort(addr)
	return p, port
}

// startRedis starts Debian's redis-server on a free port, without
// persistence, or skips the test.
func startRedis(t *testing.T) string {
	t.Helper()
	needTool(t, "redis-server", "redis-server")
	port := strconv.Itoa(exampletest.FreePort(t))
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	exampletest.Dial(t, "tcp", "127.0.0.1:"+port).Close()
	return port
}

// cli runs redis-cli with args against port and returns its output, as
// redis-cli prints replies on a terminal (--no-raw): (integer) 1, "v",
// (nil), (error) ERR ...
func cli(t *testing.T, port string, args ...string) string {
	t.Helper()
	cmd := exec.Command("redis-cli", append([]string{"-p", port, "--no-raw"}, args...)...)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("redis-cli %q: %v", args, err)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// cliExchanges are commands and redis-cli's output for them, in order.
// The same table runs against redis-server, which shows that the
// expectations are Redis's own.
var cliExchanges = []struct {
	args []string
	want string
}{
	{[]string{"FLUSHALL"}, "OK"},
	{[]string{"PING"}, "PONG"},
	{[]string{"PING", "hello"}, `"hello"`},
	{[]string{"ECHO", "a b"}, `"a b"`},
	{[]string{"SET", "k", "v"}, "OK"},
	{[]string{"GET", "k"}, `"v"`},
	{[]string{"GET", "missing"}, "(nil)"},
	{[]string{"SET", "k", "v2", "XX"}, "OK"},
	{[]string{"SET", "k", "v3", "NX"}, "(nil)"},
	{[]string{"GET", "k"}, `"v2"`},
	{[]string{"SET", "n", "10", "NX"}, "OK"},
	{[]string{"INCR", "n"}, "(integer) 11"},
	{[]string{"DECR", "n"}, "(integer) 10"},
	{[]string{"INCRBY", "n", "-5"}, "(integer) 5"},
	{[]string{"INCRBY", "n", "x"}, "(error) ERR value is not an integer or out of range"},
	{[]string{"INCR", "k"}, "(error) ERR value is not an integer or out of range"},
	{[]string{"SET", "big", "9223372036854775807"}, "OK"},
	{[]string{"INCR", "big"}, "(error) ERR increment or decrement would overflow"},
	{[]string{"EXISTS", "k", "n", "missing", "k"}, "(integer) 3"},
	{[]string{"MSET", "a", "1", "b", "2"}, "OK"},
	{[]string{"MGET", "a", "b", "missing"}, "1) \"1\"\n2) \"2\"\n3) (nil)"},
	{[]string{"MSET", "a", "1", "b"}, "(error) ERR wrong number of arguments for 'mset' command"},
	{[]string{"DEL", "a", "b", "missing"}, "(integer) 2"},
	{[]string{"DBSIZE"}, "(integer) 3"},
	{[]string{"TTL", "k"}, "(integer) -1"},
	{[]string{"TTL", "missing"}, "(integer) -2"},
	{[]string{"EXPIRE", "k", "100"}, "(integer) 1"},
	{[]string{"TTL", "k"}, "(integer) 100"},
	{[]string{"EXPIRE", "k", "50", "GT"}, "(integer) 0"},
	{[]string{"EXPIRE", "k", "200", "GT"}, "(integer) 1"},
	{[]string{"EXPIRE", "k", "10", "NX"}, "(integer) 0"},
	{[]string{"EXPIRE", "missing", "10"}, "(integer) 0"},
	{[]string{"EXPIRE", "k", "10", "NX", "XX"}, "(error) ERR NX and XX, GT or LT options at the same time are not compatible"},
	{[]string{"EXPIRE", "k", "10", "FOO"}, "(error) ERR Unsupported option FOO"},
	{[]string{"SET", "k", "v"}, "OK"},
	{[]string{"TTL", "k"}, "(integer) -1"},
	{[]string{"SET", "t", "v", "EX", "100"}, "OK"},
	{[]string{"TTL", "t"}, "(integer) 100"},
	{[]string{"SET", "t", "v", "PX", "50000"}, "OK"},
	{[]string{"TTL", "t"}, "(integer) 50"},
	{[]string{"SET", "t", "v2", "KEEPTTL"}, "OK"},
	{[]string{"TTL", "t"}, "(integer) 50"},
	{[]string{"SET", "t", "v", "EX", "0"}, "(error) ERR invalid expire time in 'set' command"},
	{[]string{"SET", "t", "v", "EX", "abc"}, "(error) ERR value is not an integer or out of range"},
	{[]string{"SET", "t", "v", "EX", "10", "PX", "10"}, "(error) ERR syntax error"},
	{[]string{"SET", "t", "v", "NX", "XX"}, "(error) ERR syntax error"},
	{[]string{"EXPIRE", "t", "-1"}, "(integer) 1"},
	{[]string{"EXISTS", "t"}, "(integer) 0"},
	{[]string{"GET"}, "(error) ERR wrong number of arguments for 'get' command"},
	{[]string{"FOO", "a", "b"}, "(error) ERR unknown command 'FOO', with args beginning with: 'a' 'b' "},
	{[]string{"CONFIG", "GET", "appendonly"}, "1) \"appendonly\"\n2) \"no\""},
	{[]string{"DBSIZE"}, "(integer) 3"},
	{[]string{"FLUSHALL"}, "OK"},
	{[]string{"DBSIZE"}, "(integer) 0"},
	{[]string{"QUIT"}, "OK"},
}

func runCliExchanges(t *testing.T, port string) {
	for _, x := range cliExchanges {
		if got := cli(t, port, x.args...); got != x.want {
			t.Errorf("redis-cli %q:\ngot  %q\nwant %q", x.args, got, x.want)
		}
	}
}

func TestRedisCliGetsRedisReplies(t *testing.T) {
	needTool(t, "redis-cli", "redis-tools")
	p, port := startResp(t)
	runCliExchanges(t, port)
	// What redis-cli asks when it starts, answered as this server's own.
	for _, x := range []struct {
		args []string
		want string
	}{
		{[]string{"COMMAND", "DOCS"}, "(empty array)"},
		{[]string{"COMMAND", "COUNT"}, "(integer) " + strconv.Itoa(len(commandTable))},
	} {
		if got := cli(t, port, x.args...); got != x.want {
			t.Errorf("redis-cli %q: got %q, want %q", x.args, got, x.want)
		}
	}
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestRedisServerGivesTheSameReplies(t *testing.T) {
	needTool(t, "redis-cli", "redis-tools")
	runCliExchanges(t, startRedis(t))
}

func TestRedisCliReadsCommandsFromItsInput(t *testing.T) {
	needTool(t, "redis-cli", "redis-tools")
	p, port := startResp(t)
	cmd := exec.Command("redis-cli", "-p", port)
	cmd.Stdin = strings.NewReader("SET k 'a b'\nGET k\nCOMMAND COUNT\nINCR k\n")
	out, err := cmd.CombinedOutput()
	want := "OK\na b\n" + strconv.Itoa(len(commandTable)) + "\nERR value is not an integer or out of range\n\n"
	// (redis-cli ends an error with an empty line when it prints raw)
	if string(out) != want {
		t.Fatalf("redis-cli: %v, output %q, want %q", err, out, want)
	}
	p.ExitsCleanly(syscall.SIGINT)
}

func TestRedisBenchmarkRunsWithoutErrors(t *testing.T) {
	needTool(t, "redis-benchmark", "redis-tools")
	p, port := startResp(t)
	cmd := exec.Command("redis-benchmark", "-p", port, "-t", "ping,set,get,incr,mset",
		"-P", "16", "-c", "50", "-n", "100000", "-q")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	// -q prints progress lines ended by \r and a final line per test.
	var finals []string
	for _, l := range strings.Split(strings.ReplaceAll(string(out), "\r", "\n"), "\n") {
		l = strings.TrimSpace(l)
		if strings.Contains(strings.ToLower(l), "err") {
			t.Errorf("redis-benchmark reported %q", l)
		}
		if strings.Contains(l, "requests per second") {
			finals = append(finals, l[:strings.Index(l, ":")])
		}
	}
	want := []string{"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"}
	if strings.Join(finals, ",") != strings.Join(want, ",") {
		t.Fatalf("results for %q, want %q\n%s", finals, want, out)
	}
	if got := cli(t, port, "GET", "counter:__rand_int__"); got != `"100000"` {
		t.Errorf("after 100000 INCR the counter is %s", got)
	}
	p.ExitsCleanly(syscall.SIGINT)
}

// dialResp connects to the server with a deadline for every exchange.
func dialResp(t *testing.T, port string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := exampletest.Dial(t, "tcp", "127.0.0.1:"+port)
	c.SetDeadline(time.Now().Add(exampletest.Timeout))
	return c, bufio.NewReader(c)
}

// expectRead reads len(want) bytes and compares them with want, showing
// where they first differ.
func expectRead(t *testing.T, r io.Reader, want string) {
	t.Helper()
	got := make([]byte, len(want))
	n, err := io.ReadFull(r, got)
	got = got[:n]
	if err == nil && string(got) == want {
		return
	}
	i := 0
	for i < n && got[i] == want[i] {
		i++
	}
	from := max(0, i-40)
	t.Fatalf("read %d of %d bytes (%v); they differ at %d: got %q, want %q",
		n, len(want), err, i, got[from:min(n, i+40)], want[from:min(len(want), i+40)])
}

// expectClosed checks that the server closed the connection: end of
// stream, or a reset when it closed with our bytes unread.
func expectClosed(t *testing.T, r io.Reader) {
	t.Helper()
	var b [1]byte
	n, err := r.Read(b[:])
	if n != 0 || err != io.EOF && !isReset(err) {
		t.Fatalf("read %q, %v; want the server to close", b[:n], err)
	}
}

func isReset(err error) bool {
	var errno syscall.Errno
	return err != nil && errors.As(err, &errno) && errno == syscall.ECONNRESET
}

func TestPipelineOverASocketIsAnsweredInOrder(t *testing.T) {
	p, port := startResp(t)
	c, r := dialResp(t, port)
	var req, want bytes.Buffer
	for i := 0; i < 2000; i++ {
		k := "key" + strconv.Itoa(i/4)
		switch i % 4 {
		case 0:
			req.WriteString(multibulk("SET", k, strconv.Itoa(i)))
			want.WriteString("+OK\r\n")
		case 1:
			req.WriteString("GET " + k + "\r\n")
			v := strconv.Itoa(i - 1)
			fmt.Fprintf(&want, "$%d\r\n%s\r\n", len(v), v)
		case 2:
			req.WriteString(multibulk("INCR", k))
			fmt.Fprintf(&want, ":%d\r\n", i-1)
		case 3:
			req.WriteString("PING\r\n")
			want.WriteString("+PONG\r\n")
		}
	}
	// Written in uneven pieces, so that requests are cut anywhere.
	go func() {
		b := req.Bytes()
		for i := 1; len(b) > 0; i++ {
			k := min(len(b), i*37%1500+1)
			c.Write(b[:k])
			b = b[k:]
		}
	}()
	expectRead(t, r, want.String())
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestHalfClosedClientGetsItsReplies(t *testing.T) {
	p, port := startResp(t)
	c, r := dialResp(t, port)
	io.WriteString(c, strings.Repeat("PING\r\n", 1000))
	c.(*net.TCPConn).CloseWrite()
	expectRead(t, r, strings.Repeat("+PONG\r\n", 1000))
	expectClosed(t, r)
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestMalformedInputGetsErrorsAndTheConnectionLives(t *testing.T) {
	p, port := startResp(t)
	c, r := dialResp(t, port)
	io.WriteString(c, "NOPE\r\nGET\r\nSET a \"b\r\nSET k 'a b' EX x\r\nPING\r\n")
	expectRead(t, r, "-ERR unknown command 'NOPE', with args beginning with: \r\n"+
		"-ERR wrong number of arguments for 'get' command\r\n"+
		"-ERR Protocol error: unbalanced quotes in request\r\n"+
		"-ERR value is not an integer or out of range\r\n"+
		"+PONG\r\n")
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestBrokenFramingGetsAnErrorAndTheConnectionCloses(t *testing.T) {
	p, port := startResp(t)
	for _, tc := range []struct{ in, want string }{
		{"*1\r\nfoo\r\n", "-ERR Protocol error: expected '$', got 'f'\r\n"},
		{"*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"QUIT\r\nPING\r\n", "+OK\r\n"},
	} {
		c, r := dialResp(t, port)
		io.WriteString(c, tc.in)
		expectRead(t, r, tc.want)
		expectClosed(t, r)
	}
	// Other clients are served all along.
	c, r := dialResp(t, port)
	io.WriteString(c, "PING\r\n")
	expectRead(t, r, "+PONG\r\n")
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestDeclaredLengthsOverTheLimitsAreRefusedAtOnce(t *testing.T) {
	p, port := startResp(t, "-max-bulk", "1024", "-max-inline", "64")
	// The error comes before the body is sent: nothing of it is buffered.
	c, r := dialResp(t, port)
	io.WriteString(c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1025\r\n")
	expectRead(t, r, "-ERR Protocol error: invalid bulk length\r\n")
	expectClosed(t, r)

	c, r = dialResp(t, port)
	io.WriteString(c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1024\r\n"+strings.Repeat("v", 1024)+"\r\nGET k\r\n")
	expectRead(t, r, "+OK\r\n$1024\r\n"+strings.Repeat("v", 1024)+"\r\n")

	c, r = dialResp(t, port)
	io.WriteString(c, "ECHO "+strings.Repeat("a", 60)) // no line end: an endless line
	expectRead(t, r, "-ERR Protocol error: too big inline request\r\n")
	expectClosed(t, r)
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestARequestLargerThanTheQueryLimitIsNeverBuffered(t *testing.T) {
	p, port := startResp(t, "-max-query", strconv.Itoa(1<<20))
	// A 256 MiB value is a valid bulk length; the request does not fit the
	// 1 MiB query limit, and the server must not read it whole first.
	c, r := dialResp(t, port)
	const size = 256 << 20
	go func() {
		io.WriteString(c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$"+strconv.Itoa(size)+"\r\n")
		chunk := bytes.Repeat([]byte("v"), 1<<20)
		for i := 0; i < size>>20; i++ {
			if _, err := c.Write(chunk); err != nil {
				return // the server closed the connection
			}
		}
	}()
	expectRead(t, r, "-ERR Protocol error: request larger than the query buffer limit\r\n")
	expectClosed(t, r)
	if rss := p.PeakRSS(); rss > 64<<20 {
		t.Fatalf("the server's peak RSS is %d MiB, want well under the 256 MiB sent", rss>>20)
	}
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestAClientThatDoesNotReadStopsBeingRead(t *testing.T) {
	p, port := startResp(t, "-max-output", strconv.Itoa(1<<20))
	c, r := dialResp(t, port)
	value := strings.Repeat("v", 512<<10)
	io.WriteString(c, multibulk("SET", "k", value))
	expectRead(t, r, "+OK\r\n")
	// 200 replies of 512 KiB: 100 MiB if the server answered them all
	// before the client reads.
	const n = 200
	go io.WriteString(c, strings.Repeat("GET k\r\n", n))
	time.Sleep(500 * time.Millisecond) // the server answers what it can
	if rss := p.PeakRSS(); rss > 64<<20 {
		t.Fatalf("the server's peak RSS is %d MiB with a client not reading", rss>>20)
	}
	reply := "$" + strconv.Itoa(len(value)) + "\r\n" + value + "\r\n"
	for i := 0; i < n; i++ {
		expectRead(t, r, reply)
	}
	io.WriteString(c, "PING\r\n")
	expectRead(t, r, "+PONG\r\n")
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestExpiredKeysAreSweptWithoutBeingRead(t *testing.T) {
	p, port := startResp(t)
	c, r := dialResp(t, port)
	var req strings.Builder
	for i := 0; i < 1000; i++ {
		req.WriteString(multibulk("SET", "k"+strconv.Itoa(i), "v", "PX", "50"))
	}
	req.WriteString("SET forever v\r\n")
	io.WriteString(c, req.String())
	expectRead(t, r, strings.Repeat("+OK\r\n", 1001))
	// Only DBSIZE is asked, which reads no key: the sweep alone deletes.
	deadline := time.Now().Add(exampletest.Timeout)
	for {
		io.WriteString(c, "DBSIZE\r\n")
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == ":1\r\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("DBSIZE still %q", line)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.ExitsCleanly(syscall.SIGTERM)
}

func TestClosedConnectionsReleaseTheirDescriptors(t *testing.T) {
	p, port := startResp(t)
	before := p.OpenFds()
	for i := 0; i < 20; i++ {
		c, r := dialResp(t, port)
		io.WriteString(c, "PING\r\n")
		expectRead(t, r, "+PONG\r\n")
		if i%2 == 0 {
			c.Close()
		} else {
			io.WriteString(c, "QUIT\r\n")
			expectRead(t, r, "+OK\r\n")
		}
	}
	p.WaitFds(before)
	p.ExitsCleanly(syscall.SIGINT)
}

func TestBadFlagsAreRefused(t *testing.T) {
	bin := exampletest.Build(t, ".")
	p := exampletest.Start(t, bin, "-max-bulk", "0")
	if l := p.NextLine(); l != "resp: the limits must be positive" {
		t.Fatalf("got %q", l)
	}
	p.ExitsWith(1)
}
