// Package servers_test checks the echo servers of levent's echo benchmark
// as the benchmark runs them: built, started on a port, spoken to over TCP
// and stopped with SIGTERM.
package servers_test

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// build compiles each server once per test run, into dir.
func build(t *testing.T, dir string) map[string]string {
	t.Helper()
	bins := map[string]string{}
	gotool := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, name := range []string{"levent-bev", "levent-raw", "gonet", "gnet", "nbio"} {
		out := filepath.Join(dir, name)
		cmd := exec.Command(gotool, "build", "-o", out, "./"+name)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", name, err, msg)
		}
		bins[name] = out
	}
	// examples/echo, built in the main module as bench/echo.sh builds it.
	out := filepath.Join(dir, "levent-example")
	cmd := exec.Command(gotool, "build", "-o", out, "./examples/echo")
	cmd.Dir = filepath.Join("..", "..")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building examples/echo: %v\n%s", err, msg)
	}
	bins["levent-example"] = out
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return bins
	}
	for name, args := range map[string][]string{
		"libevent": {"../c/echo_libevent.c", "-levent"},
		"epoll":    {"../c/echo_epoll.c"},
	} {
		if name == "libevent" {
			if _, err := os.Stat("/usr/include/event2/event.h"); err != nil {
				continue // libevent-dev is not installed
			}
		}
		out := filepath.Join(dir, name)
		cmd := exec.Command(gcc, append([]string{"-O2", "-o", out}, args...)...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", name, err, msg)
		}
		bins[name] = out
	}
	return bins
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// dialRetry connects to addr, retrying while the server starts.
func dialRetry(t *testing.T, addr string) net.Conn {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp4", addr)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("connecting to %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// echoCheck writes n bytes of a pattern on c while reading them back, and
// compares.
func echoCheck(t *testing.T, c net.Conn, n int, seed byte) {
	t.Helper()
	want := make([]byte, n)
	for i := range want {
		want[i] = byte(i*7) + seed
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(want)
		errc <- err
	}()
	got := make([]byte, n)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading the echo of %d bytes: %v", n, err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("writing %d bytes: %v", n, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the echo of %d bytes differs from what was sent", n)
	}
}

func TestEveryServerEchoesAndExitsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds eight programs")
	}
	bins := build(t, t.TempDir())
	// The flags bench/echo.sh gives a server besides -addr.
	flags := map[string][]string{"levent-example": {"-quiet"}}
	for _, name := range []string{"levent-bev", "levent-example", "levent-raw", "gonet", "gnet", "nbio", "libevent", "epoll"} {
		t.Run(name, func(t *testing.T) {
			bin, ok := bins[name]
			if !ok {
				t.Skip("no compiler or headers for it")
			}
			addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
			srv := exec.Command(bin, append([]string{"-addr", addr}, flags[name]...)...)
			srv.Env = append(os.Environ(), "GOMAXPROCS=1")
			var logs bytes.Buffer
			srv.Stdout, srv.Stderr = &logs, &logs
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Wait() }()
			exited := false
			defer func() {
				if !exited {
					srv.Process.Kill()
					<-done
				}
			}()

			a := dialRetry(t, addr)
			b := dialRetry(t, addr)
			defer b.Close()
			echoCheck(t, a, 100, 1)
			echoCheck(t, b, 1<<20, 2) // more than any socket buffer: partial writes
			a.Close()                 // the server must drop a and go on serving b
			echoCheck(t, b, 5000, 3)

			if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				exited = true
				if err != nil {
					t.Fatalf("exit after SIGTERM: %v, want status 0; output:\n%s", err, logs.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("still running 20 s after SIGTERM; output:\n%s", logs.String())
			}
		})
	}
}
