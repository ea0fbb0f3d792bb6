package exampletest

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The checks in this file read Linux's /proc, which is where a leaked
// descriptor or a buffer read whole shows from outside the process.

// pollEvery is how often a wait in this file looks again.
const pollEvery = 10 * time.Millisecond

// OpenFds returns how many descriptors the process has open now.
func (p *Proc) OpenFds() int {
	p.t.Helper()
	return countFds(p.t, p.Cmd.Process.Pid)
}

// WaitFds waits until the process has want descriptors open, since it may
// print a line just before it closes one, and fails the test if it still
// has another number after Timeout.
func (p *Proc) WaitFds(want int) {
	p.t.Helper()
	deadline := time.Now().Add(Timeout)
	for got := p.OpenFds(); got != want; got = p.OpenFds() {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s has %d descriptors open, want %d", p.name(), got, want)
		}
		time.Sleep(pollEvery)
	}
}

// countFds counts the descriptors process pid has open.
func countFds(t testing.TB, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// PeakRSS returns the most resident memory the process has held so far,
// in bytes (VmHWM in /proc/PID/status).
func (p *Proc) PeakRSS() int {
	p.t.Helper()
	return p.statusBytes("VmHWM:")
}

// RSS returns the memory the process holds resident now, in bytes (VmRSS
// in /proc/PID/status): what a server's connections cost shows as its
// growth.
func (p *Proc) RSS() int {
	p.t.Helper()
	return p.statusBytes("VmRSS:")
}

// statusBytes returns the field of /proc/PID/status given in kB, in
// bytes.
func (p *Proc) statusBytes(field string) int {
	p.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		p.t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == field && f[2] == "kB" {
			if kb, err := strconv.Atoi(f[1]); err == nil {
				return kb << 10
			}
		}
	}
	p.t.Fatalf("no %s line in kB in /proc status:\n%s", field, b)
	return 0
}

// leakWait bounds NoLeaks' wait; a variable so that its own test need not
// wait Timeout to see it fail.
var leakWait = Timeout

// NoLeaks records how many goroutines and descriptors the test process
// has now and, when the test ends, checks that it has no more, waiting up
// to Timeout for them to end. Cleanups run last registered first, so a
// server started after NoLeaks is stopped by its own cleanup before the
// check runs.
func NoLeaks(t testing.TB) {
	t.Helper()
	goroutines, fds := runtime.NumGoroutine(), countFds(t, os.Getpid())
	t.Cleanup(func() {
		deadline := time.Now().Add(leakWait)
		for {
			g, f := runtime.NumGoroutine(), countFds(t, os.Getpid())
			if g <= goroutines && f <= fds {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d goroutines and %d descriptors left, want %d and %d", g, f, goroutines, fds)
				return
			}
			time.Sleep(pollEvery)
		}
	})
}
