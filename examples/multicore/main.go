// Command multicore is the echo server with one event loop per CPU: the
// seeds' multi-process and multi-thread servers ("多进程并发服务器",
// "多线程并发服务器") done the event-loop way. Instead of a process or a
// thread per client, it runs -loops loops (default: one per CPU), each a
// Base on its own goroutine locked to its own OS thread, each with its own
// listener on the same port (SO_REUSEPORT, listener.ReuseablePort), so
// that the kernel spreads new connections over the loops. A connection
// stays on the loop that accepted it; loops share nothing.
//
//	multicore [-addr :9527] [-loops N]
//
// Each connection echoes what it receives, moving its input buffer to its
// output buffer without a copy, and is closed once the client has hung up
// and the echo is out. The server prints "listening on ADDR with N loops".
// On SIGINT or SIGTERM every loop ends, the server prints "loop I served C
// connections" for each, and exits 0.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"

	"github.com/levent-go/levent/bufferevent"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
	"golang.org/x/sys/unix"
)

func main() {
	addr := flag.String("addr", ":9527", "address to listen on")
	loops := flag.Int("loops", runtime.NumCPU(), "event loops, each on its own thread")
	flag.Parse()
	if flag.NArg() != 0 || *loops < 1 {
		fmt.Fprintln(os.Stderr, "usage: multicore [-addr host:port] [-loops n>0]")
		os.Exit(2)
	}
	if err := run(*addr, *loops); err != nil {
		fmt.Fprintln(os.Stderr, "multicore:", err)
		os.Exit(1)
	}
}

// loop is one event loop and its listener.
type loop struct {
	base  *event.Base
	l     *listener.Listener
	conns int // connections accepted; the loop's goroutine's until it ends
}

func run(addr string, n int) error {
	loops := make([]*loop, 0, n)
	defer func() {
		for _, lp := range loops {
			lp.l.Free()
			lp.base.Close()
		}
	}()
	for i := 0; i < n; i++ {
		lp, err := newLoop(addr)
		if err != nil {
			return err
		}
		loops = append(loops, lp)
		// The others bind the address the first got: with port 0 each
		// would get a port of its own.
		addr = lp.l.Addr().String()
	}
	stopAll := func() {
		for _, lp := range loops {
			lp.base.LoopExit(0) // safe from any goroutine
		}
	}
	// One loop watches the signals and stops them all.
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		ev, err := event.NewSignal(loops[0].base, sig, func(int, event.Flag) { stopAll() })
		if err == nil {
			err = ev.Add(0)
		}
		if err != nil {
			return err
		}
	}

	fmt.Printf("listening on %s with %d loops\n", addr, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, lp := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The loop has the thread to itself: a goroutine of the Go
			// runtime's choosing cannot be scheduled on it in between.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if err := lp.base.Dispatch(); err != nil {
				errs <- err
				stopAll()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for i, lp := range loops {
		fmt.Printf("loop %d served %d connections\n", i, lp.conns)
	}
	return <-errs // nil when the channel is empty
}

// newLoop makes a base and its listener on addr.
func newLoop(addr string) (*loop, error) {
	base, err := event.NewBase()
	if err != nil {
		return nil, err
	}
	lp := &loop{base: base}
	opts := listener.Reuseable | listener.ReuseablePort | listener.CloseOnFree
	lp.l, err = listener.NewBind(base, lp.accept, opts, -1, "tcp", addr)
	if err != nil {
		base.Close()
		return nil, err
	}
	return lp, nil
}

// accept gives a new connection an echoing BufferEvent on this loop.
func (lp *loop) accept(_ *listener.Listener, fd int, _ net.Addr) {
	lp.conns++
	// Small echoes go out at once rather than wait for Nagle's algorithm,
	// as with Go's net package.
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	bev, err := bufferevent.New(lp.base, fd, bufferevent.CloseOnFree)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bufferevent: %v\n", err)
		unix.Close(fd)
		return
	}
	bev.SetCallbacks(echo, nil, closeOnEnd)
	bev.Enable(event.Read)
}

// echo moves the input to the output: no copy, and AddBuffer leaves the
// input empty.
func echo(bev *bufferevent.BufferEvent) {
	bev.Output().AddBuffer(bev.Input())
}

// closeOnEnd frees the connection on an error, and when the client hangs
// up, once the echo is out.
func closeOnEnd(bev *bufferevent.BufferEvent, what bufferevent.What) {
	if what&bufferevent.EOF != 0 && bev.Output().Len() > 0 {
		bev.SetCallbacks(nil, (*bufferevent.BufferEvent).Free, closeOnEnd)
		return
	}
	bev.Free()
}
