package exampletest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Timeout bounds every wait; generous for a loaded two-core machine.
const Timeout = 20 * time.Second

// QuickExit bounds how long a process told to stop may take to exit: the
// examples stop within a second, plus slack for a loaded machine.
const QuickExit = 3 * time.Second

// Build compiles the package in dir (usually ".") into a temporary
// directory and returns the binary's path.
func Build(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(mustAbs(t, dir)))
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func mustAbs(t testing.TB, dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// Proc is a running example.
type Proc struct {
	t     testing.TB
	Cmd   *exec.Cmd
	lines chan string
	done  chan struct{}
	err   error // Wait's result, once done is closed
	stdin io.WriteCloser
}

// Start runs bin with args. Its stdout and stderr are read as lines.
func Start(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &Proc{t: t, Cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{}), stdin: stdin}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		// Read what nobody read, so that the output copy Wait waits for
		// never blocks on a full line channel.
		go func() {
			for range p.lines {
			}
		}()
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// Stdin is the process's standard input.
func (p *Proc) Stdin() io.WriteCloser { return p.stdin }

// Expect waits for the next output line containing want and returns it;
// lines before it are skipped but reported if it never comes.
func (p *Proc) Expect(want string) string {
	p.t.Helper()
	var skipped []string
	deadline := time.After(Timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("output ended without %q; saw %q", want, skipped)
			}
			if strings.Contains(l, want) {
				return l
			}
			skipped = append(skipped, l)
		case <-deadline:
			p.t.Fatalf("no line with %q after %v; saw %q", want, Timeout, skipped)
		}
	}
}

// ExpectLine checks that the next output line is exactly want.
func (p *Proc) ExpectLine(want string) {
	p.t.Helper()
	if got := p.NextLine(); got != want {
		p.t.Fatalf("%s printed %q, want %q", p.name(), got, want)
	}
}

// ExpectLines checks that the next output lines are exactly want, in
// order.
func (p *Proc) ExpectLines(want ...string) {
	p.t.Helper()
	for _, w := range want {
		p.ExpectLine(w)
	}
}

// NextLine returns the next output line.
func (p *Proc) NextLine() string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.t.Fatal("output ended")
		}
		return l
	case <-time.After(Timeout):
		p.t.Fatalf("no output after %v", Timeout)
	}
	return ""
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// Wait waits for the process to end within d and returns its wait status.
func (p *Proc) Wait(d time.Duration) syscall.WaitStatus {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		p.t.Fatalf("process still running after %v", d)
	}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		p.t.Fatalf("wait: %v", p.err)
	}
	return p.Cmd.ProcessState.Sys().(syscall.WaitStatus)
}

// ExitsCleanly sends sig and checks that the process exits 0 within
// QuickExit.
func (p *Proc) ExitsCleanly(sig syscall.Signal) {
	p.t.Helper()
	p.Signal(sig)
	p.exitsWithin(QuickExit, 0, "after the "+sig.String()+" signal")
}

// ExitsWith waits for the process to end by itself and checks that it
// exits with code. It waits up to Timeout: it is for a process that ends
// on its own (an error, the end of its input), where how soon is not what
// the test checks; ExitsWithin is for the rest.
func (p *Proc) ExitsWith(code int) {
	p.t.Helper()
	p.exitsWithin(Timeout, code, "status")
}

// ExitsWithin checks that the process exits with code within d, for a
// process already told to stop (QuickExit) or due to end by a given time.
func (p *Proc) ExitsWithin(d time.Duration, code int) {
	p.t.Helper()
	p.exitsWithin(d, code, "status")
}

func (p *Proc) exitsWithin(d time.Duration, code int, what string) {
	p.t.Helper()
	if ws := p.Wait(d); !ws.Exited() || ws.ExitStatus() != code {
		p.t.Fatalf("%s %s: %s, want exit %d", p.name(), what, describe(ws), code)
	}
}

// describe says how a process ended, in words a failure message can use.
func describe(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exit %d", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Sprintf("killed by the %v signal", ws.Signal())
	}
	return fmt.Sprintf("wait status %#x", uint32(ws))
}

// name is the program's name, for failure messages.
func (p *Proc) name() string { return filepath.Base(p.Cmd.Path) }

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartServer builds the example in the current directory and starts it
// with -addr set to a free TCP port on 127.0.0.1, then args, and waits for
// it to print "listening on ADDR". It returns the binary, to start a
// client from, the address and the process.
func StartServer(t testing.TB, args ...string) (bin, addr string, p *Proc) {
	t.Helper()
	bin = Build(t, ".")
	addr = "127.0.0.1:" + strconv.Itoa(FreePort(t))
	p = Start(t, bin, append([]string{"-addr", addr}, args...)...)
	p.ExpectLine("listening on " + addr)
	return bin, addr, p
}

// Dial connects to addr, retrying until the example listens.
func Dial(t testing.TB, network, addr string) net.Conn {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		c, err := net.Dial(network, addr)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("dial %s %s: %v", network, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// NoFile checks that path does not exist (a socket file left behind).
func NoFile(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still exists (err %v)", path, err)
	}
}
