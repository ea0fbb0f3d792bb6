package main

import (
	"fmt"
	"io"
	"net"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

// start builds the example and starts it on a free port.
func start(t *testing.T, args ...string) (addr string, p *exampletest.Proc) {
	t.Helper()
	bin := exampletest.Build(t, ".")
	addr = "127.0.0.1:" + strconv.Itoa(exampletest.FreePort(t))
	p = exampletest.Start(t, bin, append([]string{"-addr", addr}, args...)...)
	return addr, p
}

// echoes sends msg on c, half-closes, and checks that exactly msg comes
// back before the server closes.
func echoes(c net.Conn, msg string) error {
	go func() {
		io.WriteString(c, msg)
		c.(*net.TCPConn).CloseWrite()
	}()
	c.SetReadDeadline(time.Now().Add(exampletest.Timeout))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != msg {
		return fmt.Errorf("got %d bytes %.20q... (err %v), want the %d sent", len(got), got, err, len(msg))
	}
	return nil
}

// served reads the per-loop lines printed at exit and returns the counts.
func served(t *testing.T, p *exampletest.Proc, loops int) []int {
	t.Helper()
	re := regexp.MustCompile(`^loop (\d+) served (\d+) connections$`)
	counts := make([]int, loops)
	for i := range counts {
		l := p.NextLine()
		m := re.FindStringSubmatch(l)
		if m == nil || m[1] != strconv.Itoa(i) {
			t.Fatalf("got %q, want loop %d's count", l, i)
		}
		counts[i], _ = strconv.Atoi(m[2])
	}
	return counts
}

func TestLoopsShareThePortAndEachServesConnections(t *testing.T) {
	addr, p := start(t, "-loops", "2")
	p.ExpectLine("listening on " + addr + " with 2 loops")
	fds := p.OpenFds()
	const n = 40
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		c := exampletest.Dial(t, "tcp", addr)
		// Some echoes larger than the socket buffers.
		msg := strings.Repeat(fmt.Sprintf("connection %d\n", i), 1+i*5000)
		go func() { errs <- echoes(c, msg) }()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	// Each connection is freed once its echo is out.
	p.WaitFds(fds)
	p.Signal(syscall.SIGINT)
	counts := served(t, p, 2)
	// The kernel spreads connections over the listeners by a hash of their
	// addresses: 40 all on one loop would be a 1 in 2^39 chance.
	if counts[0]+counts[1] != n || counts[0] == 0 || counts[1] == 0 {
		t.Fatalf("loops served %v connections, want %d spread over both", counts, n)
	}
	p.ExitsWithin(exampletest.QuickExit, 0)
}

func TestOneLoopPerCPUByDefault(t *testing.T) {
	addr, p := start(t)
	n := runtime.NumCPU()
	p.ExpectLine(fmt.Sprintf("listening on %s with %d loops", addr, n))
	if err := echoes(exampletest.Dial(t, "tcp", addr), "hello\n"); err != nil {
		t.Fatal(err)
	}
	p.Signal(syscall.SIGTERM)
	total := 0
	for _, c := range served(t, p, n) {
		total += c
	}
	if total != 1 {
		t.Fatalf("loops served %d connections in all, want 1", total)
	}
	p.ExitsWithin(exampletest.QuickExit, 0)
}

func TestAddressInUseIsReported(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	bin := exampletest.Build(t, ".")
	p := exampletest.Start(t, bin, "-addr", busy.Addr().String(), "-loops", "3")
	if l := p.NextLine(); !strings.HasSuffix(l, "address already in use") {
		t.Fatalf("got %q, want the bind error", l)
	}
	p.ExitsWith(1)
}

func TestPortZeroGivesAllLoopsTheSamePort(t *testing.T) {
	bin := exampletest.Build(t, ".")
	p := exampletest.Start(t, bin, "-addr", "127.0.0.1:0", "-loops", "3")
	m := regexp.MustCompile(`^listening on (127\.0\.0\.1:\d+) with 3 loops$`).FindStringSubmatch(p.NextLine())
	if m == nil {
		t.Fatal("no listening line")
	}
	for i := 0; i < 12; i++ {
		if err := echoes(exampletest.Dial(t, "tcp", m[1]), "x"); err != nil {
			t.Fatal(err)
		}
	}
	p.Signal(syscall.SIGINT)
	total, busy := 0, 0
	counts := served(t, p, 3)
	for _, c := range counts {
		total += c
		if c > 0 {
			busy++
		}
	}
	// Had each loop bound a port of its own, loop 0's would get them all;
	// on one shared port, all 12 on one loop is a 1 in 3^11 chance.
	if total != 12 || busy < 2 {
		t.Fatalf("loops served %v connections, want 12 spread over the loops", counts)
	}
	p.ExitsWithin(exampletest.QuickExit, 0)
}
