package bufferevent

import (
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

// BenchmarkEcho compares echo servers under the same load: 100 loopback
// connections, each keeping 16 64-byte messages in flight. "levent" is a
// listener and BufferEvents on one loop goroutine locked to its thread;
// "net" is the same server written with Go's net package, a goroutine per
// connection. The clients are Go net.Conns in both cases, and run in the
// same process, so allocs/op counts both sides: the levent server itself
// allocates nothing per message (TestEchoRoundTripDoesNotAllocate).
func BenchmarkEcho(b *testing.B) {
	const (
		conns    = 100
		msgSize  = 64
		inFlight = 16
	)
	b.Run("levent", func(b *testing.B) {
		base, err := event.NewBase()
		if err != nil {
			b.Fatal(err)
		}
		var served []*BufferEvent // loop goroutine only
		l, err := listener.NewBind(base, func(_ *listener.Listener, fd int, _ net.Addr) {
			bev, err := New(base, fd, CloseOnFree)
			if err != nil {
				b.Error(err)
				return
			}
			served = append(served, bev)
			bev.SetCallbacks(echoRead, nil, nil)
			bev.Enable(event.Read)
		}, 0, 0, "tcp4", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			runtime.LockOSThread()
			done <- base.Loop(event.LoopNoExitOnEmpty)
		}()
		benchEchoClients(b, l.Addr().String(), conns, msgSize, inFlight)
		base.Submit(func() {
			l.Free()
			for _, bev := range served {
				bev.Free()
			}
			base.LoopBreak()
		})
		if err := <-done; err != nil {
			b.Error(err)
		}
		base.Close()
	})
	b.Run("net", func(b *testing.B) {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var served []net.Conn
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				served = append(served, c)
				mu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					buf := make([]byte, 16<<10)
					for {
						n, err := c.Read(buf)
						if err != nil {
							return
						}
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
				}()
			}
		}()
		benchEchoClients(b, ln.Addr().String(), conns, msgSize, inFlight)
		ln.Close()
		mu.Lock()
		for _, c := range served {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// benchEchoClients connects conns clients to addr and has them exchange
// b.N messages in all, each client keeping inFlight messages of msgSize
// bytes outstanding. It reports msgs/s.
func benchEchoClients(b *testing.B, addr string, conns, msgSize, inFlight int) {
	clients := make([]net.Conn, conns)
	for i := range clients {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	perConn := max(1, b.N/conns)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pipelineClient(c, perConn, msgSize, inFlight); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(perConn*conns)/elapsed.Seconds(), "msgs/s")
}

// pipelineClient sends total messages of size bytes on c, keeping at most
// inFlight unanswered, and reads every echo back.
func pipelineClient(c net.Conn, total, size, inFlight int) error {
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	out := make([]byte, inFlight*size)
	in := make([]byte, inFlight*size)
	sent := min(inFlight, total)
	if _, err := c.Write(out[:sent*size]); err != nil {
		return err
	}
	received, partial := 0, 0
	for received < total {
		n, err := c.Read(in)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		partial += n
		done := partial / size
		partial %= size
		received += done
		if more := min(done, total-sent); more > 0 {
			if _, err := c.Write(out[:more*size]); err != nil {
				return err
			}
			sent += more
		}
	}
	return nil
}
