package bufferevent

import (
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/levent-go/levent/internal/sock"
)

// echoClients runs n Go clients against s at once; each sends every
// message in sizes and checks the echo byte for byte.
func echoClients(t *testing.T, s *echoServer, n int, sizes []int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		c := s.dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			for j, size := range sizes {
				if err := roundTrip(c, pattern(size, byte(i+j))); err != nil {
					errs <- fmt.Errorf("client %d, message %d: %w", i, j, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// everySize lists a power of two and its neighbours at each step from 1
// byte to max: the sizes where a ring buffer wraps or grows.
func everySize(max int) []int {
	sizes := []int{1}
	for n := 2; n <= max; n *= 2 {
		sizes = append(sizes, n-1, n, n+1)
	}
	return sizes
}

func TestEchoOverTCPWithConcurrentClients(t *testing.T) {
	const (
		KiB = 1 << 10
		MiB = 1 << 20
	)
	for _, tc := range []struct {
		clients int
		sizes   []int
	}{
		{1, everySize(MiB)},
		{100, []int{1, 1000, 16 * KiB, 64*KiB + 3, 256 * KiB, MiB}},
		{1000, []int{1, 100, 4*KiB + 1, 64 * KiB}},
	} {
		t.Run(fmt.Sprintf("%d-clients", tc.clients), func(t *testing.T) {
			if tc.clients > 100 {
				if _, err := sock.RaiseNofile(); err != nil {
					t.Fatalf("RaiseNofile: %v", err)
				}
			}
			checkLeaks(t)
			b := startLoop(t)
			s := startEchoServer(t, b, "tcp4", "127.0.0.1:0")
			echoClients(t, s, tc.clients, tc.sizes)
		})
	}
}

func TestEchoOverUnixSocket(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	s := startEchoServer(t, b, "unix", t.TempDir()+"/echo.sock")
	echoClients(t, s, 10, []int{1, 3000, 100 << 10, 1 << 20})
}

func TestEchoOverIPv6Loopback(t *testing.T) {
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	probe.Close()
	checkLeaks(t)
	b := startLoop(t)
	s := startEchoServer(t, b, "tcp6", "[::1]:0")
	echoClients(t, s, 10, []int{1, 5000, 300 << 10})
}
