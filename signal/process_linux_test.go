package signal

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	ossignal "os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv selects what TestHelperProcess does when the test binary runs
// itself as a child.
const helperEnv = "LEVENT_SIGNAL_HELPER"

// TestHelperProcess is not a test: it is the child of the tests below. It
// watches SIGINT, receives it, lets go of it (by Unwatch or by Close),
// says "ready" and waits to be killed by the parent's SIGINT.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("run as a child by the disposition tests")
	}
	fail := func(format string, args ...any) {
		fmt.Printf(format+"\n", args...)
		os.Exit(3)
	}
	if ossignal.Ignored(syscall.SIGINT) {
		fail("SIGINT ignored at start: nothing to restore")
	}
	s, err := NewSource()
	if err != nil {
		fail("NewSource: %v", err)
	}
	receive := func() {
		kill(t, syscall.SIGINT)
		got := counts{}
		collect(t, s, got, syscall.SIGINT, 1)
		if got[syscall.SIGINT] != 1 {
			fail("got %v, want SIGINT x1", got)
		}
	}
	switch mode {
	case "unwatch":
		mustWatch(t, s, syscall.SIGINT, syscall.SIGINT)
		receive()
		if err := s.Unwatch(syscall.SIGINT); err != nil {
			fail("first Unwatch: %v", err)
		}
		receive() // still watched once
		if err := s.Unwatch(syscall.SIGINT); err != nil {
			fail("second Unwatch: %v", err)
		}
	case "close":
		mustWatch(t, s, syscall.SIGINT, syscall.SIGUSR1)
		receive()
		if err := s.Close(); err != nil {
			fail("Close: %v", err)
		}
	default:
		fail("unknown mode %q", mode)
	}
	fmt.Println("ready")
	time.Sleep(patience)
	fail("still alive %v after ready", patience)
}

func TestLastUnwatchRestoresDefaultAction(t *testing.T) {
	checkChildDiesOfSIGINT(t, "unwatch")
}

func TestCloseRestoresDefaultAction(t *testing.T) {
	checkChildDiesOfSIGINT(t, "close")
}

// checkChildDiesOfSIGINT runs TestHelperProcess in a child and checks that
// SIGINT, once the child has let go of it, kills it as it would any
// program.
func checkChildDiesOfSIGINT(t *testing.T, mode string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// While this process asks for SIGINT, the runtime resets it to the
	// default action in the child before exec, so the child starts with
	// SIGINT at SIG_DFL even if the tests were started with it ignored.
	g := make(chan os.Signal, 1)
	ossignal.Notify(g, syscall.SIGINT)
	err = cmd.Start()
	ossignal.Stop(g)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var said []string
	deadline := time.After(patience)
wait:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("child ended before ready: %v; it said %q", cmd.Wait(), said)
			}
			if line == "ready" {
				break wait
			}
			said = append(said, line)
		case <-deadline:
			t.Fatalf("child not ready after %v; it said %q", patience, said)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for line := range lines { // until the child's stdout closes
		said = append(said, line)
	}
	err = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("child ended with %v (%v), want killed by SIGINT; it said %q", err, ws, strings.Join(said, "; "))
	}
}
