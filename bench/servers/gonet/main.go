// Command gonet is the echo server of levent's echo benchmark on Go's own
// net package, as most Go servers are written: one goroutine per
// connection, each copying what it reads back with a 32 KiB buffer (the
// size io.Copy uses). Run with GOMAXPROCS=1, the runtime's netpoller and
// scheduler do on one thread what an event loop does. TCP_NODELAY is on, as
// Go's net sets it, unless -nodelay=false.
//
//	gonet [-addr 127.0.0.1:9003] [-nodelay=true] [-cpuprofile file]
//
// SIGINT and SIGTERM close the listener and every connection; the program
// then exits 0.
package main

import (
	"errors"
	"net"
	"sync"

	"github.com/levent-go/levent/bench/servers/internal/serve"
)

func main() {
	serve.Main("gonet", "127.0.0.1:9003", func(o serve.Options) error { return run(o.Addr, o.NoDelay) })
}

func run(addr string, nodelay bool) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var (
		mu     sync.Mutex
		conns  = map[net.Conn]struct{}{}
		closed bool
		wg     sync.WaitGroup
	)
	go func() {
		<-serve.Signals()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				break
			}
			continue // a connection reset before it was accepted
		}
		if !nodelay {
			c.(*net.TCPConn).SetNoDelay(false)
		}
		mu.Lock()
		if closed {
			mu.Unlock()
			c.Close()
			continue
		}
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			echo(c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
		}()
	}
	wg.Wait()
	return nil
}

// echo is io.Copy(c, c) written out: io.Copy would hand a TCP connection
// to splice(2), and the benchmark is about reading and writing.
func echo(c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
