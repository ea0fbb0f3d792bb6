package bufferevent

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
	"github.com/levent-go/levent/listener"
)

// idleClientsEnv, set to "address count", makes the test binary act as
// the client process of TestIdleConnectionMemory instead of running tests.
const idleClientsEnv = "LEVENT_TEST_IDLE_CLIENTS"

// noRecvEnv, set to anything, makes the package's BufferEvents read with
// readv even on a base that receives in the kernel (io_uring), so that
// benchmarks and tests can compare the two paths.
const noRecvEnv = "LEVENT_TEST_NORECV"

// noSendEnv, set to anything, makes the package's BufferEvents write with
// writev even on a base that sends in the kernel (io_uring), likewise.
const noSendEnv = "LEVENT_TEST_NOSEND"

func TestMain(m *testing.M) {
	if spec := os.Getenv(idleClientsEnv); spec != "" {
		os.Exit(idleClients(spec))
	}
	if os.Getenv(noRecvEnv) != "" {
		kernelRecv = false
	}
	if os.Getenv(noSendEnv) != "" {
		useSend = false
	}
	os.Exit(m.Run())
}

// idleClients opens count connections to address, one after the other,
// makes one 64-byte echo on each so that the server's buffers have been
// used, says "ready", and holds the connections until its standard input
// closes. Then it resets them (SO_LINGER 0), which leaves no TIME_WAIT
// behind to use up the ports of later runs.
func idleClients(spec string) int {
	address, countText, _ := strings.Cut(spec, " ")
	count, err := strconv.Atoi(countText)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad", idleClientsEnv, spec)
		return 2
	}
	sock.RaiseNofile()
	_, sa, err := sock.ResolveAddr("tcp4", address)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fds := make([]int, 0, count)
	msg, back := pattern(64, 5), make([]byte, 64)
	for range count {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0) // blocking
		if err == nil {
			err = unix.Connect(fd, sa)
		}
		if err == nil {
			_, err = unix.Write(fd, msg)
		}
		for got := 0; err == nil && got < len(back); {
			var n int
			n, err = unix.Read(fd, back[got:])
			if n == 0 && err == nil {
				err = io.ErrUnexpectedEOF
			}
			got += n
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "connection %d: %v\n", len(fds), err)
			return 1
		}
		fds = append(fds, fd)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, fd := range fds {
		unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
		unix.Close(fd)
	}
	return 0
}

// memNow returns the live heap and the resident set size after collecting
// garbage and returning free memory to the system.
func memNow(t *testing.T) (heap, rss uint64) {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(statm))
	pages, _ := strconv.ParseUint(fields[1], 10, 64)
	return ms.HeapAlloc, pages * uint64(os.Getpagesize())
}

// TestIdleConnectionMemory measures what an idle connection costs a
// server: a BufferEvent on an accepted socket whose buffers have been used
// once and given back. The clients live in a child process, so that the
// server's heap and descriptor table hold only the server's side. 10,000
// connections (1,000 with -short).
func TestIdleConnectionMemory(t *testing.T) {
	const maxPerConn = 448 // bytes of heap per idle connection (416 measured)
	n := 10000
	if testing.Short() {
		n = 1000
	}
	limit, err := sock.RaiseNofile()
	if err != nil {
		t.Fatal(err)
	}
	if room := int(limit) - bufOpenFds(t) - 100; room < n {
		t.Logf("RLIMIT_NOFILE is %d: measuring %d connections instead of %d", limit, room, n)
		n = room
	}
	checkLeaks(t)
	saved := idleTrim
	idleTrim = 20 * time.Millisecond
	t.Cleanup(func() { idleTrim = saved })
	b := startLoop(t)

	conns := make(map[*BufferEvent]bool, n) // loop goroutine only
	freeConn := func(bev *BufferEvent, w What) {
		delete(conns, bev)
		bev.Free()
	}
	l, err := listener.NewBind(b, func(_ *listener.Listener, fd int, _ net.Addr) {
		bev, err := New(b, fd, CloseOnFree)
		if err != nil {
			t.Error(err)
			unix.Close(fd)
			return
		}
		conns[bev] = true
		bev.SetCallbacks(echoRead, nil, freeConn)
		bev.Enable(event.Read)
	}, 0, 0, "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		onLoop(t, b, func() {
			l.Free()
			for bev := range conns {
				bev.Free()
			}
		})
	})
	heap0, rss0 := memNow(t)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", idleClientsEnv, l.Addr(), n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			if sc.Text() == "ready" && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
		exited <- cmd.Wait()
	}()
	defer func() {
		stdin.Close()
		if err := wait(t, exited, "the client process to exit"); err != nil {
			t.Errorf("client process: %v", err)
		}
	}()
	if !wait(t, ready, "the client process's connections") {
		t.Fatal("the client process failed before its connections were up")
	}
	waitLoop(t, b, "every connection to be idle and trimmed", func() bool {
		if len(conns) != n {
			return false
		}
		for bev := range conns {
			if bev.Input().Cap()+bev.Output().Cap() != 0 || bev.work&bsTrimArmed != 0 {
				return false
			}
		}
		return true
	})
	heap1, rss1 := memNow(t)
	heapPer := (float64(heap1) - float64(heap0)) / float64(n)
	rssPer := (float64(rss1) - float64(rss0)) / float64(n)
	t.Logf("%d idle connections: %.0f bytes of heap and %.0f bytes of RSS each (RSS counts the race detector's shadow memory under -race)", n, heapPer, rssPer)
	if heapPer > maxPerConn {
		t.Errorf("heap per idle connection: got %.0f bytes, want at most %d", heapPer, maxPerConn)
	}
}
