package main

import (
	"strings"
	"testing"
)

func newHeadParser() *headParser {
	return &headParser{maxHeader: defaultConfig.maxHeader, maxBody: int64(defaultConfig.maxBody)}
}

func TestHeadParserReadsAHead(t *testing.T) {
	for _, tc := range []struct {
		head string
		want request
		path string
	}{
		{"GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n",
			request{method: mGET, length: -1}, "/plaintext"},
		{"HEAD /json?x=1&y HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, Close\r\n\r\n",
			request{method: mHEAD, length: -1, close: true}, "/json"},
		{"POST /echo HTTP/1.1\nhost:a\nContent-Length:  12 \n\n",
			request{method: mPOST, length: 12}, "/echo"},
		{"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nExpect: 100-continue\r\n\r\n",
			request{method: mPOST, length: -1, chunked: true, expect100: true}, "/echo"},
		{"GET / HTTP/1.0\r\n\r\n",
			request{method: mGET, length: -1, http10: true, close: true}, "/"},
		{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
			request{method: mGET, length: -1, http10: true}, "/"},
		{"BREW /pot HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
			request{method: mOther, length: 0}, "/pot"},
		{"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
			request{method: mOPTIONS, length: -1}, "*"},
	} {
		p := newHeadParser()
		var req request
		n, status := p.parse([]byte(tc.head), &req)
		path := string(req.path.of([]byte(tc.head)))
		req.path = span{}
		tc.want.headLen = len(tc.head)
		if n != len(tc.head) || status != 0 || req != tc.want || path != tc.path {
			t.Errorf("%q: got %d, %d, %+v, path %q; want %d, 0, %+v, path %q",
				tc.head, n, status, req, path, len(tc.head), tc.want, tc.path)
		}
	}
}

func TestHeadParserRefusesMalformedHeads(t *testing.T) {
	for _, tc := range []struct {
		head   string
		status int
	}{
		{"GET /\r\n\r\n", statusBadRequest},                          // no version
		{"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", statusBadRequest},     // two spaces
		{"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", statusBadRequest},      // not a token
		{"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", statusBadRequest},     // trailing space
		{"GET / HTTP/2.0\r\nHost: a\r\n\r\n", statusVersion},         // another version
		{"GET / HTTP/1.10\r\nHost: a\r\n\r\n", statusBadRequest},     // not a version
		{"GET x HTTP/1.1\r\nHost: a\r\n\r\n", statusBadRequest},      // not origin-form
		{"GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", statusBadRequest}, // control character
		{"GET / HTTP/1.1\r\n\r\n", statusBadRequest},                 // no Host
		{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", statusBadRequest},
		{"GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n", statusBadRequest}, // space before colon
		{"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", statusBadRequest},
		{"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", statusBadRequest},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", statusBadRequest},
		{"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", statusBadRequest}, // bare CR
		{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", statusBadRequest},
		{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", statusBadRequest},
		{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n", statusBadRequest},
		{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", statusBadRequest},
		{"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", statusNotImplemented},
		{"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", statusNotImplemented},
		{"GET / HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n", statusExpectFailed},
		{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n", statusTooLarge},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("x", 9000) + "\r\n\r\n", statusHeaderTooLarge},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("x", 9000), statusHeaderTooLarge}, // unfinished
	} {
		p := newHeadParser()
		var req request
		if _, status := p.parse([]byte(tc.head), &req); status != tc.status {
			t.Errorf("%.60q: status %d, want %d", tc.head, status, tc.status)
		}
	}
}

func TestHeadParserScansEachLineOnce(t *testing.T) {
	head := "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n"
	p := newHeadParser()
	var req request
	prev := 0
	for i := 0; i < len(head); i++ {
		if n, status := p.parse([]byte(head[:i]), &req); n != 0 || status != 0 {
			t.Fatalf("parse(%q) = %d, %d; want to wait", head[:i], n, status)
		}
		if p.scanned < prev || p.scanned > i || p.scanned > 0 && head[p.scanned-1] != '\n' {
			t.Fatalf("after %d bytes scanned = %d (before %d): not the end of a whole line", i, p.scanned, prev)
		}
		prev = p.scanned
	}
	if n, status := p.parse([]byte(head), &req); n != len(head) || status != 0 || p.scanned != 0 {
		t.Fatalf("complete head: %d, %d, scanned %d", n, status, p.scanned)
	}
}

func decodeAll(t *testing.T, body string, maxBody int) (string, int, int) {
	t.Helper()
	d := &chunkedBody{maxBody: maxBody}
	req := []byte("HEAD" + body)
	for i := 4; i <= len(req); i++ { // byte by byte, as slowly as can be
		total, need, status := d.decode(req[:i], 4)
		if status != 0 || total != 0 {
			return string(d.data), total, status
		}
		if need <= i {
			t.Fatalf("after %d bytes need = %d", i, need)
		}
	}
	return string(d.data), 0, 0
}

func TestChunkedBodyDecodes(t *testing.T) {
	for _, tc := range []struct {
		body, want string
		status     int
	}{
		{"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", 0},
		{"5;ext=1\r\nhello\r\n0;x\r\nTrailer: y\r\n\r\n", "hello", 0},
		{"A\nabcdefghij\r\n0\n\n", "abcdefghij", 0},
		{"0\r\n\r\n", "", 0},
		{"x\r\n", "", statusBadRequest},
		{"\r\n", "", statusBadRequest},
		{"5\r\nhelloXX0\r\n\r\n", "", statusBadRequest},
		{"1000000000000000\r\n", "", statusBadRequest},
		{"11\r\n", "", statusTooLarge},
		{strings.Repeat("1", 5000), "", statusBadRequest},
	} {
		got, total, status := decodeAll(t, tc.body, 16)
		switch {
		case status != tc.status:
			t.Errorf("%.40q: status %d, want %d", tc.body, status, tc.status)
		case status == 0 && (got != tc.want || total != 4+len(tc.body)):
			t.Errorf("%q: decoded %q, length %d; want %q, %d", tc.body, got, total, tc.want, 4+len(tc.body))
		}
	}
}
