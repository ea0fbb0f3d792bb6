package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
	"github.com/levent-go/levent/internal/testcert"
)

// BenchmarkIdleTLSConnections measures what an idle HTTPS connection
// costs the levent server and, for comparison, Go's net/http
// (examples/http/nethttp) with the same certificate: each server's
// resident memory grows by this much per kept-alive connection that has
// made one request. b.N is ignored: each run opens idleTLSConns
// connections.
//
//	go test -run - -bench IdleTLS ./examples/http
func BenchmarkIdleTLSConnections(b *testing.B) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max // the servers inherit it
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	certFile, keyFile, err := testcert.WriteFiles(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	_, pool, err := testcert.Cert()
	if err != nil {
		b.Fatal(err)
	}
	for _, srv := range []struct{ name, dir string }{{"levent", "."}, {"net-http", "./nethttp"}} {
		b.Run(srv.name, func(b *testing.B) {
			bin := exampletest.Build(b, srv.dir)
			addr := "127.0.0.1:" + strconv.Itoa(exampletest.FreePort(b))
			p := exampletest.Start(b, bin, "-addr", addr, "-root", b.TempDir(), "-tls-cert", certFile, "-tls-key", keyFile)
			p.ExpectLine("listening on " + addr)
			cfg := &tls.Config{RootCAs: pool, ServerName: "localhost"}
			before := p.RSS()
			conns := make([]net.Conn, 0, idleTLSConns)
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for range idleTLSConns {
				c, err := tls.Dial("tcp", addr, cfg)
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, c)
				c.SetDeadline(time.Now().Add(exampletest.Timeout))
				io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "GET"})
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				if err != nil || resp.StatusCode != 200 || string(body) != plaintextBody {
					b.Fatalf("response %d %q, %v", resp.StatusCode, body, err)
				}
			}
			time.Sleep(3 * time.Second) // past levent's 2-second idle trim
			b.ReportMetric(float64(p.RSS()-before)/idleTLSConns, "B/idle-conn")
			p.ExitsCleanly(syscall.SIGTERM)
		})
	}
}

// idleTLSConns is how many connections BenchmarkIdleTLSConnections keeps.
const idleTLSConns = 2000
