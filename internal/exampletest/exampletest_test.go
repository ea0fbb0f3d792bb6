package exampletest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/event"
)

// childEnv, when set, makes the test binary play a small program instead
// of running the tests, so that the checks have a real process to watch.
const childEnv = "EXAMPLETEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child prints "ready", then follows the commands on its input: "print
// TEXT" prints TEXT, "open" and "close" open and close /dev/null (saying
// "opened" and "closed"), "grow" makes growBytes more memory resident and
// keeps it (saying "grown"), "shrink" gives all that back to the system
// ("shrunk"), "exit N" exits with N. The end of input is exit 0. It opens
// with syscall.Open: os.Open would add the runtime poller's own
// descriptors the first time.
func child(string) int {
	fmt.Println("ready")
	var fds []int
	var held [][]byte
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(sc.Text(), " ")
		switch cmd {
		case "print":
			fmt.Println(arg)
		case "open":
			fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				fmt.Println(err)
				return 3
			}
			fds = append(fds, fd)
			fmt.Println("opened")
		case "close":
			if len(fds) > 0 {
				syscall.Close(fds[len(fds)-1])
				fds = fds[:len(fds)-1]
			}
			fmt.Println("closed")
		case "grow":
			m := make([]byte, growBytes)
			for i := 0; i < len(m); i += os.Getpagesize() {
				m[i] = 1 // a page is resident once written
			}
			held = append(held, m)
			fmt.Println("grown")
		case "shrink":
			held = nil
			debug.FreeOSMemory()
			fmt.Println("shrunk")
		case "exit":
			n, _ := strconv.Atoi(arg)
			runtime.KeepAlive(held)
			return n
		}
	}
	runtime.KeepAlive(held)
	return 0
}

// growBytes is how much the child's "grow" makes resident.
const growBytes = 32 << 20

// startChild runs the test binary as the child program.
func startChild(t testing.TB) *Proc {
	t.Helper()
	t.Setenv(childEnv, "1")
	p := Start(t, os.Args[0])
	p.ExpectLine("ready")
	return p
}

// say sends the child one command.
func say(t testing.TB, p *Proc, cmd string) {
	t.Helper()
	if _, err := fmt.Fprintln(p.Stdin(), cmd); err != nil {
		t.Fatal(err)
	}
}

// recorder is a testing.TB whose failures are recorded rather than
// reported, to check what a helper says when its check fails. Like the
// real one, Fatal ends the goroutine: run the check with failure.
type recorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msg = fmt.Sprintf(format, args...)
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.Errorf("%s", fmt.Sprint(args...))
	runtime.Goexit()
}

func (r *recorder) message() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg
}

// failure runs check with a recorder over t and returns the failure it
// reported, or "" if it passed.
func failure(t *testing.T, check func(tb testing.TB)) string {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r.message()
}

// wantFailure checks that msg reports every part of want.
func wantFailure(t *testing.T, msg string, want ...string) {
	t.Helper()
	if msg == "" {
		t.Fatalf("the check passed, want it to fail saying %q", want)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Fatalf("failure %q does not say %q", msg, w)
		}
	}
}

func TestExpectLinesPassOnTheExactLines(t *testing.T) {
	p := startChild(t)
	say(t, p, "print one")
	say(t, p, "print two")
	say(t, p, "print three")
	p.ExpectLine("one")
	p.ExpectLines("two", "three")
	p.Stdin().Close()
	p.ExitsWith(0)
}

func TestExpectLineReportsGotAndWant(t *testing.T) {
	msg := failure(t, func(tb testing.TB) {
		p := startChild(tb)
		say(tb, p, "print a longer line")
		p.ExpectLine("a longer")
	})
	wantFailure(t, msg, `printed "a longer line"`, `want "a longer"`)
}

func TestExitsWithReportsTheStatus(t *testing.T) {
	p := startChild(t)
	say(t, p, "exit 3")
	p.ExitsWith(3)

	msg := failure(t, func(tb testing.TB) {
		p := startChild(tb)
		say(tb, p, "exit 3")
		p.ExitsWithin(QuickExit+Timeout, 0)
	})
	wantFailure(t, msg, "exit 3, want exit 0")
}

func TestExitsCleanlyReportsAKillingSignal(t *testing.T) {
	msg := failure(t, func(tb testing.TB) {
		// The child sets no handler: the signal's default action kills it.
		startChild(tb).ExitsCleanly(syscall.SIGTERM)
	})
	wantFailure(t, msg, "after the terminated signal: killed by the terminated signal, want exit 0")
}

func TestWaitFdsFollowsTheDescriptorCount(t *testing.T) {
	p := startChild(t)
	before := p.OpenFds()
	say(t, p, "open")
	p.ExpectLine("opened")
	if got := p.OpenFds(); got != before+1 {
		t.Fatalf("%d descriptors open after opening one, want %d", got, before+1)
	}
	say(t, p, "close")
	p.ExpectLine("closed")
	p.WaitFds(before)
	p.Stdin().Close()
	p.ExitsWith(0)
}

func TestPeakRSSIsTheChildsMemory(t *testing.T) {
	p := startChild(t)
	// Any Go program holds at least a megabyte; a test process far less
	// than a gigabyte.
	if rss := p.PeakRSS(); rss < 1<<20 || rss > 1<<30 {
		t.Fatalf("peak RSS %d bytes, want between 1 MiB and 1 GiB", rss)
	}
}

func TestRSSFollowsTheChildsMemory(t *testing.T) {
	p := startChild(t)
	before := p.RSS()
	say(t, p, "grow")
	p.ExpectLine("grown")
	after := p.RSS()
	// Under -race the child's shadow memory grows with it: twice as much
	// again here.
	if grew := after - before; grew < growBytes*9/10 || grew > growBytes*5 {
		t.Fatalf("RSS went from %d to %d bytes after the child made %d more resident", before, after, growBytes)
	}
	// Unlike the peak, RSS falls when memory goes back (under -race by
	// about half as much: not all the shadow memory goes). The kernel
	// keeps RSS in per-CPU counters that VmRSS and VmHWM sum at different
	// moments, so the peak may read up to a few pages below an earlier
	// VmRSS: allow 1 MiB, far less than the 32 MiB that went back.
	say(t, p, "shrink")
	p.ExpectLine("shrunk")
	if now, peak := p.RSS(), p.PeakRSS(); now > after-growBytes/4 || peak < after-1<<20 {
		t.Fatalf("after the child gave %d bytes back: RSS %d, peak %d; before %d", growBytes, now, peak, after)
	}
}

// pipe returns both ends of a loopback TCP connection.
func pipe(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client = Dial(t, "tcp", l.Addr().String())
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

func TestExpectReplyAndEOF(t *testing.T) {
	c, s := pipe(t)
	r := bufio.NewReader(c)
	go func() {
		s.Write([]byte("one\ntwo\n"))
		s.Close()
	}()
	ExpectReply(t, c, r, "one\n")
	msg := failure(t, func(tb testing.TB) { ExpectReply(tb, c, r, "three\n") })
	wantFailure(t, msg, `got "two\n"`, `want "three\n"`)
	ExpectEOF(t, c, r)
}

func TestExpectBytesReadsExactlyTheBytesWanted(t *testing.T) {
	c, s := pipe(t)
	go s.Write([]byte("a\x00bcd"))
	ExpectBytes(t, c, c, "a\x00b")
	msg := failure(t, func(tb testing.TB) { ExpectBytes(tb, c, c, "ce") })
	wantFailure(t, msg, `got "cd"`, `want "ce"`)
}

func TestExpectEOFReportsDataLeft(t *testing.T) {
	c, s := pipe(t)
	s.Write([]byte("more"))
	msg := failure(t, func(tb testing.TB) { ExpectEOF(tb, c, c) })
	wantFailure(t, msg, `read "more"`, "want the end of the stream")
}

func TestNoLeaksPassesWhenAllIsReleased(t *testing.T) {
	t.Run("released", func(t *testing.T) {
		NoLeaks(t)
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		go func() { <-stop }()
		t.Cleanup(func() {
			close(stop)
			f.Close()
		})
	})
}

func TestNoLeaksReportsAnOpenDescriptor(t *testing.T) {
	defer func(d time.Duration) { leakWait = d }(leakWait)
	leakWait = 50 * time.Millisecond
	r := &recorder{}
	var leaked *os.File
	t.Run("leaking", func(st *testing.T) {
		r.TB = st
		NoLeaks(r)
		var err error
		if leaked, err = os.Open(os.DevNull); err != nil {
			st.Fatal(err)
		}
	})
	if leaked != nil {
		leaked.Close()
	}
	wantFailure(t, r.message(), "descriptors left")
}

func TestUsageIsWhatTheProgramPrints(t *testing.T) {
	t.Setenv(childEnv, "1")
	// The child ignores -h, says it is ready and ends with its empty input.
	if got, want := Usage(t, os.Args[0]), "ready\n"; got != want {
		t.Fatalf("usage %q, want %q", got, want)
	}
}

func TestRunWithInputFileFeedsTheFile(t *testing.T) {
	t.Setenv(childEnv, "1")
	out, err := RunWithInputFile(t, "print from a file\nexit 4\n", os.Args[0])
	var ee *exec.ExitError
	if string(out) != "ready\nfrom a file\n" || !errors.As(err, &ee) || ee.ExitCode() != 4 {
		t.Fatalf("output %q, %v; want %q and exit status 4", out, err, "ready\nfrom a file\n")
	}
}

func TestOutputIsWhatTheProgramPrinted(t *testing.T) {
	t.Setenv(childEnv, "1")
	if got, want := string(Output(t, "print a\nprint b\n", os.Args[0])), "ready\na\nb\n"; got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
}

func TestOutputReportsAFailedRun(t *testing.T) {
	t.Setenv(childEnv, "1")
	msg := failure(t, func(tb testing.TB) { Output(tb, "exit 5\n", os.Args[0]) })
	wantFailure(t, msg, "exit status 5")
}

func TestRunLoopRunsTheLoopAndStopsItAtTheEnd(t *testing.T) {
	var stopped atomic.Bool
	t.Run("loop", func(t *testing.T) {
		NoLeaks(t)
		base, err := event.NewBase()
		if err != nil {
			t.Fatal(err)
		}
		RunLoop(t, base, func() { stopped.Store(true) })
		ran := make(chan struct{})
		if err := base.Submit(func() { close(ran) }); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ran:
		case <-time.After(Timeout):
			t.Fatalf("a submitted function did not run within %v", Timeout)
		}
	})
	if !stopped.Load() {
		t.Fatal("the stop function did not run when the test ended")
	}
}
