package main

import (
	"strings"
	"testing"
	"time"

	"github.com/levent-go/levent/bufferevent"
)

// testConn drives a conn by hand, without a socket: requests go into its
// input buffer, serve runs, and the replies are read from its output.
type testConn struct {
	*conn
	in, out bufferevent.Buffer
	clock   int64 // the store's time, in nanoseconds
}

func newTestConn(t testing.TB, cfg config) *testConn {
	t.Helper()
	srv := &server{cfg: cfg, db: newStore(), conns: make(map[*conn]struct{})}
	tc := &testConn{}
	srv.db.now = func() int64 { return tc.clock }
	tc.conn = newConn(srv, nil, &tc.in, &tc.out)
	return tc
}

// send writes raw bytes as the client would and returns the replies.
func (tc *testConn) send(wire string) string {
	tc.in.WriteString(wire)
	tc.serve()
	s := string(tc.out.Peek(-1))
	tc.out.Reset()
	return s
}

// do sends one command and returns its reply.
func (tc *testConn) do(args ...string) string { return tc.send(multibulk(args...)) }

func (tc *testConn) advance(d time.Duration) { tc.clock += int64(d) }

type exchange struct {
	args []string
	want string
}

func runExchanges(t *testing.T, tc *testConn, xs []exchange) {
	t.Helper()
	for _, x := range xs {
		if got := tc.do(x.args...); got != x.want {
			t.Errorf("%q: got %q, want %q", x.args, got, x.want)
		}
	}
}

func TestCommandsReplyAsRedis(t *testing.T) {
	tc := newTestConn(t, defaultConfig)
	runExchanges(t, tc, []exchange{
		{[]string{"PING"}, "+PONG\r\n"},
		{[]string{"ping", "hi"}, "$2\r\nhi\r\n"},
		{[]string{"PING", "a", "b"}, "-ERR wrong number of arguments for 'ping' command\r\n"},
		{[]string{"ECHO", "a\r\nb"}, "$4\r\na\r\nb\r\n"},
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"GET", "k"}, "$1\r\nv\r\n"},
		{[]string{"GET", "nope"}, "$-1\r\n"},
		{[]string{"SET", "k", "w", "NX"}, "$-1\r\n"},
		{[]string{"SET", "k", "w", "xx"}, "+OK\r\n"},
		{[]string{"SET", "new", "w", "XX"}, "$-1\r\n"},
		{[]string{"SET", "k", "w", "NX", "XX"}, "-ERR syntax error\r\n"},
		{[]string{"SET", "k", "w", "EX"}, "-ERR syntax error\r\n"},
		{[]string{"SET", "k", "w", "EX", "1", "PX", "1"}, "-ERR syntax error\r\n"},
		{[]string{"SET", "k", "w", "EX", "x", "FOO"}, "-ERR syntax error\r\n"},
		{[]string{"SET", "k", "w", "EX", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"SET", "k", "w", "EX", "0"}, "-ERR invalid expire time in 'set' command\r\n"},
		{[]string{"SET", "k", "w", "PX", "-5"}, "-ERR invalid expire time in 'set' command\r\n"},
		{[]string{"SET", "k", "w", "EX", "9223372036854775807"}, "-ERR invalid expire time in 'set' command\r\n"},
		{[]string{"SET", "k"}, "-ERR wrong number of arguments for 'set' command\r\n"},
		{[]string{"INCR", "n"}, ":1\r\n"},
		{[]string{"INCRBY", "n", "41"}, ":42\r\n"},
		{[]string{"DECR", "n"}, ":41\r\n"},
		{[]string{"DECRBY", "n", "-9"}, ":50\r\n"},
		{[]string{"GET", "n"}, "$2\r\n50\r\n"},
		{[]string{"INCR", "k"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"INCRBY", "n", "1.5"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"SET", "max", "9223372036854775807"}, "+OK\r\n"},
		{[]string{"INCR", "max"}, "-ERR increment or decrement would overflow\r\n"},
		{[]string{"DECRBY", "n", "-9223372036854775808"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"EXISTS", "k", "n", "nope", "k"}, ":3\r\n"},
		{[]string{"MSET", "a", "1", "b", "2"}, "+OK\r\n"},
		{[]string{"MSET", "a", "1", "b"}, "-ERR wrong number of arguments for 'mset' command\r\n"},
		{[]string{"MGET", "a", "nope", "b"}, "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"},
		{[]string{"DEL", "a", "b", "nope"}, ":2\r\n"},
		{[]string{"DBSIZE"}, ":3\r\n"},
		{[]string{"FLUSHALL", "NOW"}, "-ERR syntax error\r\n"},
		{[]string{"FLUSHALL"}, "+OK\r\n"},
		{[]string{"DBSIZE"}, ":0\r\n"},
		{[]string{"COMMAND", "DOCS"}, "*0\r\n"},
		{[]string{"COMMAND"}, "*0\r\n"},
		{[]string{"command", "count"}, ":" + itoa(len(commandTable)) + "\r\n"},
		{[]string{"COMMAND", "FOO"}, "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"},
		{[]string{"CONFIG", "GET", "save"}, "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"},
		{[]string{"CONFIG", "GET", "maxmemory"}, "*0\r\n"},
		{[]string{"CONFIG", "SET", "a", "b"}, "-ERR unknown subcommand 'SET'. Try CONFIG HELP.\r\n"},
		{[]string{"FOO", "a", "b"}, "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"},
		{[]string{"FOO\r\nBAR"}, "-ERR unknown command 'FOO  BAR', with args beginning with: \r\n"},
		{[]string{strings.Repeat("x", 200)}, "-ERR unknown command '" + strings.Repeat("x", 128) + "', with args beginning with: \r\n"},
	})
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestKeysExpireOnTime(t *testing.T) {
	tc := newTestConn(t, defaultConfig)
	runExchanges(t, tc, []exchange{
		{[]string{"SET", "k", "v", "EX", "10"}, "+OK\r\n"},
		{[]string{"TTL", "k"}, ":10\r\n"},
		{[]string{"PTTL", "k"}, ":10000\r\n"},
		{[]string{"TTL", "nope"}, ":-2\r\n"},
	})
	tc.advance(9400 * time.Millisecond)
	runExchanges(t, tc, []exchange{
		{[]string{"TTL", "k"}, ":1\r\n"}, // 600 ms rounds up, as in Redis
		{[]string{"PTTL", "k"}, ":600\r\n"},
		{[]string{"GET", "k"}, "$1\r\nv\r\n"},
	})
	tc.advance(600 * time.Millisecond)
	runExchanges(t, tc, []exchange{
		{[]string{"GET", "k"}, "$-1\r\n"},
		{[]string{"TTL", "k"}, ":-2\r\n"},
		{[]string{"DBSIZE"}, ":0\r\n"}, // GET deleted it
	})
}

func TestSetAndExpireManageTheDeadline(t *testing.T) {
	tc := newTestConn(t, defaultConfig)
	runExchanges(t, tc, []exchange{
		{[]string{"SET", "k", "v", "PX", "5000"}, "+OK\r\n"},
		{[]string{"SET", "k", "w", "KEEPTTL"}, "+OK\r\n"},
		{[]string{"TTL", "k"}, ":5\r\n"},
		{[]string{"INCR", "k"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"SET", "k", "1", "KEEPTTL"}, "+OK\r\n"},
		{[]string{"INCR", "k"}, ":2\r\n"},
		{[]string{"TTL", "k"}, ":5\r\n"}, // INCR keeps the deadline
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"TTL", "k"}, ":-1\r\n"}, // SET drops it
		{[]string{"EXPIRE", "k", "100"}, ":1\r\n"},
		{[]string{"EXPIRE", "k", "50", "GT"}, ":0\r\n"},
		{[]string{"EXPIRE", "k", "200", "gt"}, ":1\r\n"},
		{[]string{"EXPIRE", "k", "300", "LT"}, ":0\r\n"},
		{[]string{"EXPIRE", "k", "100", "LT"}, ":1\r\n"},
		{[]string{"EXPIRE", "k", "10", "NX"}, ":0\r\n"},
		{[]string{"EXPIRE", "k", "10", "XX"}, ":1\r\n"},
		{[]string{"TTL", "k"}, ":10\r\n"},
		{[]string{"EXPIRE", "k", "10", "NX", "GT"}, "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
		{[]string{"EXPIRE", "k", "10", "GT", "LT"}, "-ERR GT and LT options at the same time are not compatible\r\n"},
		{[]string{"EXPIRE", "k", "10", "FOO"}, "-ERR Unsupported option FOO\r\n"},
		{[]string{"EXPIRE", "k", "ten"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"EXPIRE", "k", "9223372036854775807"}, "-ERR invalid expire time in 'expire' command\r\n"},
		{[]string{"EXPIRE", "nope", "10"}, ":0\r\n"},
		{[]string{"SET", "p", "v"}, "+OK\r\n"},
		{[]string{"EXPIRE", "p", "10", "GT"}, ":0\r\n"}, // no deadline counts as infinite
		{[]string{"EXPIRE", "p", "10", "LT"}, ":1\r\n"},
		{[]string{"EXPIRE", "p", "0"}, ":1\r\n"}, // a deadline now deletes
		{[]string{"EXISTS", "p"}, ":0\r\n"},
		{[]string{"MSET", "k", "x"}, "+OK\r\n"},
		{[]string{"TTL", "k"}, ":-1\r\n"}, // MSET is a SET
	})
}

func TestSweepDeletesKeysNobodyReads(t *testing.T) {
	tc := newTestConn(t, defaultConfig)
	for i := 0; i < 100; i++ {
		tc.do("SET", "k"+itoa(i), "v", "PX", itoa(10+i))
	}
	tc.do("SET", "forever", "v")
	tc.advance(60 * time.Millisecond)
	db := tc.db
	if n := db.sweep(20); n != 20 {
		t.Fatalf("sweep with budget 20 deleted %d", n)
	}
	if n := db.sweep(1000); n != 31 { // deadlines 10..60 ms: 51 expired
		t.Fatalf("second sweep deleted %d, want 31", n)
	}
	if got := tc.do("DBSIZE"); got != ":50\r\n" { // 49 timed and forever
		t.Fatalf("DBSIZE %q, want :50", got)
	}
	if got := tc.do("GET", "k51"); got != "$1\r\nv\r\n" {
		t.Fatalf("GET k51 %q: swept too early", got)
	}
	tc.advance(time.Second)
	db.sweep(1000)
	if got := tc.do("DBSIZE"); got != ":1\r\n" {
		t.Fatalf("DBSIZE %q, want :1", got)
	}
	if n := db.ttls.Len(); n != 0 {
		t.Fatalf("expiry queue holds %d entries, want 0", n)
	}
}

func TestDeletedKeysLeaveTheExpiryQueue(t *testing.T) {
	tc := newTestConn(t, defaultConfig)
	for _, args := range [][]string{
		{"SET", "a", "v", "EX", "10"},
		{"SET", "b", "v", "EX", "10"},
		{"SET", "c", "v", "EX", "10"},
		{"DEL", "a"},
		{"EXPIRE", "b", "-1"},
		{"SET", "c", "v"}, // no deadline any more
	} {
		tc.do(args...)
	}
	tc.advance(time.Minute)
	if n := tc.db.sweep(1000); n != 0 {
		t.Fatalf("sweep deleted %d keys, want 0", n)
	}
	if got := tc.do("GET", "c"); got != "$1\r\nv\r\n" {
		t.Fatalf("GET c = %q", got)
	}
}

func TestPipelineIsAnsweredInOrderInOnePass(t *testing.T) {
	tc := newTestConn(t, defaultConfig)
	got := tc.send(multibulk("SET", "k", "1") + "INCR k\r\n" + multibulk("GET", "k") + "*0\r\n\r\n" +
		multibulk("NOPE") + "PING\r\n" + multibulk("SET", "x"))
	want := "+OK\r\n:2\r\n$1\r\n2\r\n-ERR unknown command 'NOPE', with args beginning with: \r\n+PONG\r\n" +
		"-ERR wrong number of arguments for 'set' command\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if tc.in.Len() != 0 {
		t.Fatalf("%d bytes left in the input", tc.in.Len())
	}
}

func TestPartialRequestWaitsForTheRest(t *testing.T) {
	tc := newTestConn(t, defaultConfig)
	req := multibulk("SET", "k", "value")
	if got := tc.send("PING\r\n" + req[:10]); got != "+PONG\r\n" {
		t.Fatalf("got %q", got)
	}
	if got := tc.send(req[10:20]); got != "" {
		t.Fatalf("partial request answered: %q", got)
	}
	if got := tc.send(req[20:] + "GET k\r\n"); got != "+OK\r\n$5\r\nvalue\r\n" {
		t.Fatalf("got %q", got)
	}
}

func TestErrorsThatKeepTheFramingKeepTheConnection(t *testing.T) {
	tc := newTestConn(t, defaultConfig)
	got := tc.send("SET a \"b\r\nPING\r\n")
	if want := "-ERR Protocol error: unbalanced quotes in request\r\n+PONG\r\n"; got != want || tc.closing {
		t.Fatalf("got %q (closing %v), want %q", got, tc.closing, want)
	}
}

func TestFatalProtocolErrorsCloseAfterTheReply(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"PING\r\n*1\r\nfoo\r\nPING\r\n", "+PONG\r\n-ERR Protocol error: expected '$', got 'f'\r\n"},
		{"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n$999999999999\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
	} {
		c := newTestConn(t, defaultConfig)
		if got := c.send(tc.in); got != tc.want || !c.closing {
			t.Errorf("%q: got %q (closing %v), want %q and closing", tc.in, got, c.closing, tc.want)
		}
		if got := c.send("PING\r\n"); got != "" {
			t.Errorf("%q: a closing connection answered %q", tc.in, got)
		}
	}
}

func TestQuitClosesAfterOK(t *testing.T) {
	tc := newTestConn(t, defaultConfig)
	if got := tc.send("QUIT\r\nPING\r\n"); got != "+OK\r\n" || !tc.closing {
		t.Fatalf("got %q (closing %v)", got, tc.closing)
	}
}

func TestQueryLimitRefusesARequestThatCannotFit(t *testing.T) {
	cfg := defaultConfig
	cfg.maxQuery = 64
	tc := newTestConn(t, cfg)
	req := multibulk("SET", "k", strings.Repeat("v", 100))
	if got := tc.send(req[:64]); got != "-ERR Protocol error: request larger than the query buffer limit\r\n" || !tc.closing {
		t.Fatalf("got %q (closing %v)", got, tc.closing)
	}
}

func TestRepliesBeyondTheOutputLimitPauseTheConnection(t *testing.T) {
	cfg := defaultConfig
	cfg.maxOutput = 100
	tc := newTestConn(t, cfg)
	tc.do("SET", "k", strings.Repeat("v", 60))
	tc.in.WriteString(strings.Repeat(multibulk("GET", "k"), 5))
	tc.serve()
	// Two replies (2 × 67 bytes) pass the limit; the rest wait.
	if n := strings.Count(string(tc.out.Peek(-1)), "$60\r\n"); n != 2 || !tc.paused {
		t.Fatalf("%d replies before pausing (paused %v), want 2", n, tc.paused)
	}
	tc.out.Reset()
	tc.paused = false // what onDrained does
	tc.serve()
	if n := strings.Count(string(tc.out.Peek(-1)), "$60\r\n"); n != 2 {
		t.Fatalf("%d replies after resuming, want 2", n)
	}
	tc.out.Reset()
	tc.paused = false
	tc.serve()
	if n := strings.Count(string(tc.out.Peek(-1)), "$60\r\n"); n != 1 || tc.paused || tc.in.Len() != 0 {
		t.Fatalf("%d replies at the end (paused %v, %d bytes left)", n, tc.paused, tc.in.Len())
	}
}

func TestLargeValuesGoStraightToTheOutput(t *testing.T) {
	tc := newTestConn(t, defaultConfig)
	big := strings.Repeat("x", bigValue+1)
	tc.do("SET", "big", big)
	if got := tc.send("PING\r\nGET big\r\nPING\r\n"); got != "+PONG\r\n$"+itoa(len(big))+"\r\n"+big+"\r\n+PONG\r\n" {
		t.Fatalf("reply of %d bytes is wrong", len(got))
	}
}

// The commands redis-benchmark measures allocate nothing in steady state:
// parsing reads from the input buffer, SET of an existing key reuses the
// value's storage, INCR writes its digits over the old ones.
func TestHotCommandsAllocateNothing(t *testing.T) {
	tc := newTestConn(t, defaultConfig)
	tc.do("SET", "key:__rand_int__", "xxx")
	tc.do("SET", "counter:__rand_int__", "0")
	for _, wire := range []string{
		"PING\r\n",
		multibulk("PING"),
		multibulk("SET", "key:__rand_int__", "xxx"),
		multibulk("GET", "key:__rand_int__"),
		multibulk("INCR", "counter:__rand_int__"),
		multibulk("MSET", "key:__rand_int__", "xxx", "key:__rand_int__", "xxx"),
	} {
		pipelined := strings.Repeat(wire, 16)
		tc.send(pipelined) // warm up: buffers take their storage
		tc.send(pipelined)
		allocs := testing.AllocsPerRun(100, func() {
			tc.in.WriteString(pipelined)
			tc.serve()
			tc.out.Reset()
		})
		if allocs != 0 {
			t.Errorf("%q ×16: %v allocations per pass, want 0", wire, allocs)
		}
	}
}

func benchmarkServe(b *testing.B, wire string) {
	tc := newTestConn(b, defaultConfig)
	tc.do("SET", "key:__rand_int__", "xxx")
	pipelined := strings.Repeat(wire, 16)
	tc.send(pipelined)
	tc.send(pipelined)
	b.SetBytes(int64(len(pipelined)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tc.in.WriteString(pipelined)
		tc.serve()
		tc.out.Reset()
	}
}

func BenchmarkServeGET16(b *testing.B) { benchmarkServe(b, multibulk("GET", "key:__rand_int__")) }
func BenchmarkServeSET16(b *testing.B) {
	benchmarkServe(b, multibulk("SET", "key:__rand_int__", "xxx"))
}
func BenchmarkServePING16(b *testing.B) { benchmarkServe(b, "PING\r\n") }
