package main

import (
	"bufio"
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/levent-go/levent/internal/exampletest"
	"github.com/levent-go/levent/internal/testcert"
)

// startTLSServer starts the server with the test certificate, and returns
// the certificate's file, for the clients to trust.
func startTLSServer(t *testing.T) (bin, addr, certFile string, p *exampletest.Proc) {
	t.Helper()
	certFile, keyFile, err := testcert.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bin, addr, p = exampletest.StartServer(t, "-tls-cert", certFile, "-tls-key", keyFile)
	return bin, addr, certFile, p
}

// The Go client over TLS, trusting the server's certificate with -tls-ca,
// gets its input echoed by the Go server over TLS, for the server named by
// its address and by a host name, and both ends close cleanly: the
// client's close_notify is the server's end of stream, and the server's
// the client's.
func TestGoTLSClientAndServerEcho(t *testing.T) {
	bin, addr, certFile, server := startTLSServer(t)
	fds := server.OpenFds()
	_, port, _ := net.SplitHostPort(addr)
	for _, to := range []string{addr, "localhost:" + port} {
		c := exampletest.Start(t, bin, "-client", "-tls", "-tls-ca", certFile, "-addr", to)
		c.ExpectLine("Connected")
		server.Expect("accept a client ")
		io.WriteString(c.Stdin(), "hello over TLS\n")
		c.ExpectLine("server say: hello over TLS")
		server.ExpectLines(logLines("hello over TLS\n")...)
		io.WriteString(c.Stdin(), "a\x00b")
		c.ExpectLine("server say: a")
		server.ExpectLines(logLines("a\x00b")...)
		c.Stdin().Close()
		c.ExpectLine("connection closed")
		c.ExitsWith(0)
		server.ExpectLine("connection closed")
	}
	server.WaitFds(fds)
	server.ExitsCleanly(syscall.SIGTERM)
}

// The client verifies the server's certificate: against the system's CAs,
// which do not know the test certificate, the handshake fails on both
// ends; -tls-insecure skips the check.
func TestGoTLSClientVerifiesTheServer(t *testing.T) {
	bin, addr, _, server := startTLSServer(t)
	c := exampletest.Start(t, bin, "-client", "-tls", "-addr", addr)
	if l := c.NextLine(); !strings.HasPrefix(l, "some other error: ") || !strings.Contains(l, "certificate") {
		t.Fatalf("the client printed %q, want its handshake's failure", l)
	}
	c.ExpectLine("echo: connection failed")
	c.ExitsWith(1)
	server.Expect("accept a client ")
	server.Expect("some other error: ")

	clientSession(t, bin, []string{"-tls", "-tls-insecure", "-addr", addr}, "unverified\n", "server say: unverified")
	server.ExitsCleanly(syscall.SIGTERM)
}

// A client that does not speak TLS gets no echo: its handshake fails, the
// server says so and closes the connection, and goes on serving.
func TestPlainClientToTheTLSServerIsClosed(t *testing.T) {
	bin, addr, certFile, server := startTLSServer(t)
	fds := server.OpenFds()
	plain := exampletest.Dial(t, "tcp", addr)
	server.Expect("accept a client ")
	io.WriteString(plain, "hello\n")
	exampletest.ExpectEOF(t, plain, bufio.NewReader(plain))
	server.Expect("some other error: ")
	server.WaitFds(fds)

	clientSession(t, bin, []string{"-tls", "-tls-ca", certFile, "-addr", addr}, "still serving\n", "server say: still serving")
	server.ExitsCleanly(syscall.SIGTERM)
}

// openssl s_client, verifying the server against the test certificate,
// gets its line echoed, and its end of input closes the connection
// cleanly.
func TestOpenSSLClientGetsItsLineEchoed(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skipf("openssl is not installed (%v; Debian: apt-get install openssl)", err)
	}
	_, addr, certFile, server := startTLSServer(t)
	c := exampletest.Start(t, openssl, "s_client", "-connect", addr, "-CAfile", certFile,
		"-verify_return_error", "-brief", "-nocommands")
	// -brief reports the handshake on standard error, which Start reads
	// with the echo, ending with the peer's temporary key.
	c.Expect("Verification: OK")
	server.Expect("accept a client ")
	io.WriteString(c.Stdin(), "hello from openssl\n")
	if l := c.Expect("hello from openssl"); l != "hello from openssl" {
		t.Fatalf("openssl s_client printed %q, want the echo alone", l)
	}
	server.ExpectLines(logLines("hello from openssl\n")...)
	c.Stdin().Close()
	c.ExitsWith(0)
	server.ExpectLine("connection closed")
	server.ExitsCleanly(syscall.SIGTERM)
}

// The TLS flags are checked before anything starts.
func TestTLSFlagsThatDoNotFitAreRefused(t *testing.T) {
	bin := exampletest.Build(t, ".")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-tls-cert", "c.pem"}, "echo: -tls-cert and -tls-key go together"},
		{[]string{"-tls"}, "echo: -tls, -tls-ca and -tls-insecure are for the client; the server takes -tls-cert and -tls-key"},
		{[]string{"-client", "-tls-cert", "c.pem", "-tls-key", "k.pem"}, "echo: -tls-cert and -tls-key are for the server; the client takes -tls"},
		{[]string{"-client", "-tls-insecure"}, "echo: -tls-ca and -tls-insecure need -tls"},
		{[]string{"-client", "-tls", "-tls-ca", "/nonexistent.pem"}, "echo: open /nonexistent.pem: no such file or directory"},
		{[]string{"-tls-cert", "/nonexistent.pem", "-tls-key", "/nonexistent.pem"}, "echo: open /nonexistent.pem: no such file or directory"},
	} {
		p := exampletest.Start(t, bin, tc.args...)
		p.ExpectLine(tc.want)
		p.ExitsWith(1)
	}
}
