package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/levent-go/levent/bufferevent"
)

func newParser() *parser {
	return &parser{maxBulk: defaultConfig.maxBulk, maxInline: defaultConfig.maxInline}
}

// multibulk encodes args as a RESP array of bulk strings.
func multibulk(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// strs converts parsed arguments for comparison.
func strs(args [][]byte) []string {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = string(a)
	}
	return s
}

func TestParserReadsOneCompleteRequest(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		n    int
	}{
		{multibulk("SET", "key", "value"), []string{"SET", "key", "value"}, 33},
		{multibulk("GET", "") + "rest", []string{"GET", ""}, 19},
		{multibulk("ECHO", "a\r\nb\x00"), []string{"ECHO", "a\r\nb\x00"}, 25},
		{"*0\r\n", []string{}, 4},
		{"*-1\r\n", []string{}, 5},
		{"PING\r\n", []string{"PING"}, 6},
		{"PING\n*1\r\n", []string{"PING"}, 5},
		{"  set  a   b \r\n", []string{"set", "a", "b"}, 15},
		{"\r\n", []string{}, 2},
		{"\n", []string{}, 1},
	} {
		p := newParser()
		args, n, err := p.parse([]byte(tc.in))
		if err != nil || n != tc.n || !equalStrs(strs(args), tc.want) {
			t.Errorf("parse(%q) = %q, %d, %v; want %q, %d, nil", tc.in, strs(args), n, err, tc.want, tc.n)
		}
	}
}

func equalStrs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParserWaitsForEveryPrefixOfARequest(t *testing.T) {
	for _, req := range []string{
		multibulk("SET", "key", strings.Repeat("v", 100)),
		multibulk(),
		"SET a \"b c\"\r\n",
	} {
		p := newParser()
		for i := 0; i < len(req); i++ {
			args, n, err := p.parse([]byte(req[:i]))
			if args != nil || n != 0 || err != nil {
				t.Fatalf("parse(%q) = %q, %d, %v; want to wait for more", req[:i], strs(args), n, err)
			}
			if p.need <= i {
				t.Fatalf("after %q need = %d, want more than %d", req[:i], p.need, i)
			}
		}
		if _, n, err := p.parse([]byte(req)); n != len(req) || err != nil {
			t.Fatalf("parse(%q) = %d, %v; want %d, nil", req, n, err, len(req))
		}
	}
}

func TestParserNeedsTheWholeBulkBeforeLookingAgain(t *testing.T) {
	p := newParser()
	req := multibulk("SET", "k", strings.Repeat("x", 1000))
	head := req[:strings.Index(req, "xxx")+10]
	if _, n, _ := p.parse([]byte(head)); n != 0 {
		t.Fatalf("parse of a partial request consumed %d", n)
	}
	if p.need != len(req) {
		t.Fatalf("need = %d, want the whole request, %d", p.need, len(req))
	}
}

func TestParserResumesWhereItStopped(t *testing.T) {
	// The resumed parse must trust what it parsed before: poison the
	// already parsed header and check it is not read again.
	p := newParser()
	req := []byte(multibulk("SET", "key", "value"))
	if _, n, _ := p.parse(req[:20]); n != 0 {
		t.Fatal("partial request consumed")
	}
	copy(req[4:], "$x") // was "$3": parsed already, so not read again
	args, n, err := p.parse(req)
	if err != nil || n != len(req) || !equalStrs(strs(args), []string{"SET", "key", "value"}) {
		t.Fatalf("got %q, %d, %v", strs(args), n, err)
	}
}

func TestParserRejectsMalformedRequests(t *testing.T) {
	for _, tc := range []struct {
		in, msg string
		fatal   bool
	}{
		{"*x\r\n", "invalid multibulk length", true},
		{"*1\r\n", "", false}, // incomplete, not an error
		{"*2097152\r\n", "invalid multibulk length", true},
		{"*1\n\r\n", "invalid multibulk length", true},
		{"*1\r\n+OK\r\n", "expected '$', got '+'", true},
		{"*1\r\n$-1\r\n", "invalid bulk length", true},
		{"*1\r\n$1x\r\n", "invalid bulk length", true},
		{"*1\r\n$01\r\n", "invalid bulk length", true},
		{"*1\r\n$1\r\nabc", "bulk string not terminated by CRLF", true},
		{"*1" + strings.Repeat("1", 40), "too big mbulk count string", true},
		{"*1\r\n$" + strings.Repeat("1", 40), "too big bulk count string", true},
		{"SET a \"b\r\n", "unbalanced quotes in request", false},
		{"SET a 'b'c\r\n", "unbalanced quotes in request", false},
	} {
		p := newParser()
		_, _, err := p.parse([]byte(tc.in))
		if tc.msg == "" {
			if err != nil {
				t.Errorf("parse(%q): %v, want none", tc.in, err)
			}
			continue
		}
		var pe *protoError
		if !errors.As(err, &pe) || pe.msg != tc.msg || pe.fatal != tc.fatal {
			t.Errorf("parse(%q): %v, want %q (fatal %v)", tc.in, err, tc.msg, tc.fatal)
		}
	}
}

func TestParserEnforcesItsLimits(t *testing.T) {
	p := &parser{maxBulk: 10, maxInline: 16}
	if _, _, err := p.parse([]byte("*1\r\n$11\r\n")); err != errBulkLen {
		t.Errorf("bulk over the limit: %v, want %v", err, errBulkLen)
	}
	p = &parser{maxBulk: 10, maxInline: 16}
	if _, n, err := p.parse([]byte("*1\r\n$10\r\n0123456789\r\n")); err != nil || n != 21 {
		t.Errorf("bulk at the limit: %d, %v", n, err)
	}
	p = &parser{maxBulk: 10, maxInline: 16}
	if _, _, err := p.parse([]byte(strings.Repeat("a", 17))); err != errBigInline {
		t.Errorf("endless inline request: %v, want %v", err, errBigInline)
	}
	p = &parser{maxBulk: 10, maxInline: 16}
	if _, _, err := p.parse([]byte(strings.Repeat("a", 17) + "\n")); err != errBigInline {
		t.Errorf("long inline request: %v, want %v", err, errBigInline)
	}
	p = &parser{maxBulk: 10, maxInline: 16}
	if _, _, err := p.parse([]byte(strings.Repeat("a", 16))); err != nil {
		t.Errorf("inline request at the limit: %v", err)
	}
}

func TestSplitArgsQuotesAsRedisCli(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{`set a b`, []string{"set", "a", "b"}, true},
		{"\tset\va\fb ", []string{"set", "a", "b"}, true},
		{`set "a b" 'c d'`, []string{"set", "a b", "c d"}, true},
		{`"\x41\x4a\n\r\t\b\a\"\\\q"`, []string{"AJ\n\r\t\b\a\"\\q"}, true},
		{`"\x4g"`, []string{"x4g"}, true},
		{`'it\'s' 'a\b'`, []string{"it's", `a\b`}, true},
		{`a"b c"d`, nil, false},
		{`a"b c" d`, []string{"ab c", "d"}, true},
		{`""`, []string{""}, true},
		{`"abc`, nil, false},
		{`'abc`, nil, false},
		{`"abc\"`, nil, false},
	} {
		line := []byte(tc.in)
		args, ok := splitArgs(line, nil)
		if ok != tc.ok || ok && !equalStrs(strs(args), tc.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q, %v", tc.in, strs(args), ok, tc.want, tc.ok)
		}
	}
}

// intCases are numbers as Redis's string2ll reads them.
var intCases = []struct {
	in   string
	want int64
	ok   bool
}{
	{"0", 0, true},
	{"-1", -1, true},
	{"123", 123, true},
	{"9223372036854775807", 1<<63 - 1, true},
	{"-9223372036854775808", -1 << 63, true},
	{"9223372036854775808", 0, false},
	{"-9223372036854775809", 0, false},
	{"99999999999999999999", 0, false},
	{"", 0, false},
	{"-", 0, false},
	{"-0", 0, false},
	{"01", 0, false},
	{"+1", 0, false},
	{" 1", 0, false},
	{"1 ", 0, false},
	{"1.5", 0, false},
}

func TestParseIntIsRedisStrict(t *testing.T) {
	for _, tc := range intCases {
		got, ok := parseInt([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseInt(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHeaderLinesReadNumbersAsParseInt(t *testing.T) {
	for _, tc := range intCases {
		line := "$" + tc.in + "\r\n"
		n, next, st := headerLine([]byte(line), 0)
		if ok := st == lineOK; n != tc.want || ok != tc.ok || ok && next != len(line) {
			t.Errorf("headerLine(%q) = %d, %d, %d; want %d, ok %v", line, n, next, st, tc.want, tc.ok)
		}
	}
}

// feed plays the part of a connection: it appends chunks to a Buffer and
// after each one parses every complete request, as conn.serve does, and
// returns the requests in order.
func feed(t testing.TB, chunks [][]byte) [][]string {
	var in bufferevent.Buffer
	p := newParser()
	var got [][]string
	for _, ch := range chunks {
		in.Write(ch)
		if in.Len() < p.need {
			continue
		}
		buf := in.Peek(-1)
		off := 0
		for off < len(buf) {
			args, n, err := p.parse(buf[off:])
			if err != nil {
				t.Fatalf("parse error %v at %q", err, buf[off:])
			}
			if n == 0 {
				break
			}
			off += n
			if len(args) > 0 {
				got = append(got, strs(args))
			}
		}
		in.Drain(off)
	}
	if in.Len() != 0 {
		t.Fatalf("%d bytes left unparsed: %q", in.Len(), in.Peek(-1))
	}
	return got
}

// pipeline makes a valid pipeline of requests from seed bytes: each
// request is multibulk or inline, with arguments cut from the seed.
func pipeline(seed []byte) (wire []byte, reqs [][]string) {
	r := rand.New(rand.NewSource(int64(len(seed))))
	for len(seed) > 0 {
		nargs := int(seed[0]%4) + 1
		inline := seed[0]&0x80 != 0
		seed = seed[1:]
		var args []string
		for i := 0; i < nargs && len(seed) > 0; i++ {
			k := min(int(seed[0]%16), len(seed)-1)
			a := seed[1 : 1+k]
			seed = seed[1+k:]
			if inline {
				a = bytes.Map(func(c rune) rune { // no blanks or quotes inline
					if c <= ' ' || c == '"' || c == '\'' || c >= 0x7f {
						return 'x'
					}
					return c
				}, a)
				if len(a) == 0 || i == 0 && a[0] == '*' { // '*' starts a multibulk request
					a = append([]byte{'a' + byte(r.Intn(26))}, a...)
				}
			}
			args = append(args, string(a))
		}
		if len(args) == 0 {
			continue
		}
		if inline {
			end := "\r\n"
			if r.Intn(2) == 0 {
				end = "\n"
			}
			wire = append(wire, strings.Join(args, " ")+end...)
		} else {
			wire = append(wire, multibulk(args...)...)
		}
		reqs = append(reqs, args)
	}
	return wire, reqs
}

// split cuts wire at points chosen by cuts.
func split(wire, cuts []byte) [][]byte {
	var chunks [][]byte
	for _, c := range cuts {
		if len(wire) == 0 {
			break
		}
		k := min(int(c)%(len(wire)+1), len(wire))
		chunks = append(chunks, wire[:k])
		wire = wire[k:]
	}
	return append(chunks, wire)
}

func FuzzParserSplits(f *testing.F) {
	f.Add([]byte("\x02\x03SET\x03key\x05value"), []byte{1, 5, 9})
	f.Add([]byte("\x81\x04PING\x83\x03GET\x01k"), []byte{0, 0, 3})
	f.Add([]byte("\x03\x00\x00\x0fabcdefghijklmnopqrstuvwxyz"), []byte{2})
	f.Fuzz(func(t *testing.T, seed, cuts []byte) {
		wire, want := pipeline(seed)
		got := feed(t, split(wire, cuts))
		if len(got) != len(want) {
			t.Fatalf("%q: got %d requests %q, want %d %q", wire, len(got), got, len(want), want)
		}
		for i := range want {
			if !equalStrs(got[i], want[i]) {
				t.Fatalf("%q: request %d is %q, want %q", wire, i, got[i], want[i])
			}
		}
	})
}

func TestParserHandlesEverySplitOfAPipeline(t *testing.T) {
	wire := []byte(multibulk("SET", "k", "v") + "PING\r\n" + multibulk("GET", "k") + multibulk() + "ECHO 'a b'\n")
	want := [][]string{{"SET", "k", "v"}, {"PING"}, {"GET", "k"}, {"ECHO", "a b"}}
	for i := 0; i <= len(wire); i++ {
		for j := i; j <= len(wire); j++ {
			w := append([]byte(nil), wire...)
			got := feed(t, [][]byte{w[:i], w[i:j], w[j:]})
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("split at %d, %d: got %q, want %q", i, j, got, want)
			}
		}
	}
}

func BenchmarkParsePipeline(b *testing.B) {
	var wire []byte
	for i := 0; i < 16; i++ {
		wire = append(wire, multibulk("SET", "key:"+strconv.Itoa(i), "value")...)
	}
	p := newParser()
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for off := 0; off < len(wire); {
			_, n, _ := p.parse(wire[off:])
			off += n
		}
	}
}
