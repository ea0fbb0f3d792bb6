package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
	"github.com/levent-go/levent/internal/testcert"
)

// startHTTPS starts the example serving HTTPS with the test certificate,
// and returns the pool that trusts it and the certificate's file.
func startHTTPS(t *testing.T, flags ...string) (p *exampletest.Proc, addr, certFile string, pool *x509.CertPool) {
	t.Helper()
	certFile, keyFile, err := testcert.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, pool, err = testcert.Cert()
	if err != nil {
		t.Fatal(err)
	}
	p, addr = startHTTP(t, testRoot(t), append([]string{"-tls-cert", certFile, "-tls-key", keyFile}, flags...)...)
	return p, addr, certFile, pool
}

// httpsClient is an HTTP client over TLS of one version that trusts pool
// and counts the connections it opens.
func httpsClient(pool *x509.CertPool, version uint16, dials *atomic.Int32, conns int) *http.Client {
	return &http.Client{
		Timeout: exampletest.Timeout,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: conns,
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: version, MaxVersion: version},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		},
	}
}

// Every route answers over TLS 1.2 and 1.3 on connections kept alive, to
// Go's HTTPS client, as over plain HTTP.
func TestGoHTTPSClientKeepsConnectionsAlive(t *testing.T) {
	p, addr, _, pool := startHTTPS(t)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		var dials atomic.Int32
		client := httpsClient(pool, version, &dials, 4)
		errs := make(chan error, 4)
		for w := range 4 {
			go func() { errs <- exercise(client, "https://"+addr, 100, int64(w)) }()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Errorf("%s: %v", tls.VersionName(version), err)
			}
		}
		client.CloseIdleConnections()
		if d := dials.Load(); d > 40 {
			t.Errorf("%s: %d connections for 400 requests: keep-alive does not work", tls.VersionName(version), d)
		}
	}
	p.ExitsCleanly(syscall.SIGTERM)
}

// curl --cacert gets the routes over HTTPS.
func TestCurlOverHTTPS(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skipf("curl is not installed (%v; Debian: apt-get install curl)", err)
	}
	p, addr, certFile, _ := startHTTPS(t)
	for _, tc := range []struct{ flag, route, want string }{
		{"--tlsv1.2", "/plaintext", plaintextBody},
		{"--tlsv1.3", "/json", jsonBody},
		{"--tlsv1.3", "/static/hello.txt", "hello, file\n"},
	} {
		out, err := exec.Command(curl, "-sS", "--max-time", "20", tc.flag, "--cacert", certFile,
			"https://"+addr+tc.route).CombinedOutput()
		if err != nil || string(out) != tc.want {
			t.Errorf("curl %s %s: %v, %q, want %q", tc.flag, tc.route, err, out, tc.want)
		}
	}
	p.ExitsCleanly(syscall.SIGTERM)
}

// A client that speaks plain HTTP to the HTTPS server fails its handshake
// and is closed; the server goes on serving TLS clients.
func TestPlainHTTPToTheHTTPSServerIsClosed(t *testing.T) {
	p, addr, _, pool := startHTTPS(t)
	c := exampletest.Dial(t, "tcp", addr)
	c.SetDeadline(time.Now().Add(exampletest.Timeout))
	io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
	got, _ := io.ReadAll(c)
	if strings.Contains(string(got), plaintextBody) {
		t.Fatalf("a plain request was answered: %q", got)
	}
	var dials atomic.Int32
	if err := exercise(httpsClient(pool, tls.VersionTLS13, &dials, 1), "https://"+addr, 5, 1); err != nil {
		t.Fatal(err)
	}
	p.ExitsCleanly(syscall.SIGTERM)
}

// A client that never starts its handshake is closed at the idle timeout.
func TestStalledHandshakeIsClosed(t *testing.T) {
	p, addr, _, _ := startHTTPS(t, "-idle-timeout", "300ms", "-header-timeout", "300ms")
	c := exampletest.Dial(t, "tcp", addr)
	exampletest.ExpectEOF(t, c, bufio.NewReader(c))
	p.ExitsCleanly(syscall.SIGTERM)
}

// Connection: close over TLS: the response, then close_notify and the end
// of the stream, which Go's client reads as a clean end.
func TestConnectionCloseOverTLSEndsCleanly(t *testing.T) {
	p, addr, _, pool := startHTTPS(t)
	raw := exampletest.Dial(t, "tcp", addr)
	c := tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	c.SetDeadline(time.Now().Add(exampletest.Timeout))
	io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	r := bufio.NewReader(c)
	resp, body := readResponse(t, r, "GET")
	if resp.StatusCode != 200 || body != plaintextBody || !resp.Close {
		t.Fatalf("got %d %q close %v", resp.StatusCode, body, resp.Close)
	}
	if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after the response: %d, %v; want io.EOF", n, err)
	}
	p.ExitsCleanly(syscall.SIGTERM)
}
