package poller

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openAcceptT opens an io_uring backend that accepts in the kernel, with
// the given ring sizes, or skips where the kernel cannot.
func openAcceptT(t *testing.T, sq, cq uint32) *uring {
	t.Helper()
	p := openURingT(t, sq, cq)
	if !p.CanAccept() {
		t.Skip("this kernel has no multishot accept")
	}
	return p
}

// acceptingT opens an accepting backend with the given ring sizes and a
// listening socket registered on it with In|Accept under generation 1,
// closed when the test ends, and checks that the test leaks no descriptor.
func acceptingT(t *testing.T, sq, cq uint32) (*uring, int, *unix.SockaddrInet4) {
	t.Helper()
	checkFDs(t)
	p := openAcceptT(t, sq, cq)
	lfd, sa := listenTCP(t)
	t.Cleanup(func() { unix.Close(lfd) })
	update(t, p, lfd, 1, 0, In|Accept)
	return p, lfd, sa
}

// listenTCP returns a listening loopback socket the test closes itself
// (closeAtEnd would close whatever reused the number), and its address.
func listenTCP(t *testing.T) (int, *unix.SockaddrInet4) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa.(*unix.SockaddrInet4)
}

// connectTCP connects a blocking client to sa, closed when the test ends,
// and returns it with its local port: the peer port its connection has.
func connectTCP(t *testing.T, sa unix.Sockaddr) (fd, port int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, fd)
	if err := unix.Connect(fd, sa); err != nil {
		t.Fatalf("connect: %v", err)
	}
	local, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, local.(*unix.SockaddrInet4).Port
}

// peerPort is the peer port of accepted connection nfd.
func peerPort(t *testing.T, nfd int) int {
	t.Helper()
	sa, err := unix.Getpeername(nfd)
	if err != nil {
		t.Fatalf("getpeername(%d): %v", nfd, err)
	}
	return sa.(*unix.SockaddrInet4).Port
}

// acceptPorts takes every connection held for lfd now, closes each and
// returns their peer ports; any error but EAGAIN fails the test.
func acceptPorts(t *testing.T, p *uring, lfd int) []int {
	t.Helper()
	var ports []int
	for {
		nfd, err := p.Accept(lfd)
		if err == unix.EAGAIN {
			return ports
		}
		if err != nil {
			t.Fatalf("Accept(%d): %v", lfd, err)
		}
		ports = append(ports, peerPort(t, nfd))
		unix.Close(nfd)
	}
}

// acceptUntil waits for reports on lfd and accepts until the connections
// from every port in want have arrived, failing on any other.
func acceptUntil(t *testing.T, p *uring, lfd int, want ...int) {
	t.Helper()
	left := map[int]bool{}
	for _, port := range want {
		left[port] = true
	}
	deadline := time.Now().Add(long)
	for len(left) > 0 && time.Now().Before(deadline) {
		if _, ok := waitEvents(t, p, 50*time.Millisecond)[int32(lfd)]; !ok {
			continue
		}
		for _, port := range acceptPorts(t, p, lfd) {
			if !left[port] {
				t.Fatalf("accepted a connection from port %d, want one of %v", port, left)
			}
			delete(left, port)
		}
	}
	if len(left) > 0 {
		t.Fatalf("connections from ports %v not accepted within %v", left, long)
	}
}

// held is how many connections the backend holds for fd.
func (p *uring) heldConns(fd int) int {
	if as := p.acc.states[int32(fd)]; as != nil {
		return len(as.q) - as.head
	}
	return 0
}

// The kernel accepts: the listening socket is reported readable, Accept
// hands out non-blocking, close-on-exec descriptors of the connections in
// order, then EAGAIN, and nothing is left in the backlog for accept4.
// While a connection is held the socket is reported at every Wait.
func TestURingAcceptHandsOutConnections(t *testing.T) {
	p, lfd, sa := acceptingT(t, 64, 256)
	_, port := connectTCP(t, sa)
	if e := waitFor(t, p, lfd); e.Ready != ReadyIn || e.Gen != 1 {
		t.Fatalf("report %+v, want ReadyIn with gen 1", e)
	}
	for round := 0; round < 3; round++ {
		if _, ok := poll0(t, p)[int32(lfd)]; !ok {
			t.Fatalf("Wait %d with a connection held did not report the socket", round)
		}
	}
	if nfd, err := Accept4(lfd); err != unix.EAGAIN {
		unix.Close(nfd)
		t.Fatalf("accept4 on the listening socket: %v, want EAGAIN (the kernel's accept took the connection)", err)
	}
	nfd, err := p.Accept(lfd)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	defer unix.Close(nfd)
	fl, _ := unix.FcntlInt(uintptr(nfd), unix.F_GETFL, 0)
	fdfl, _ := unix.FcntlInt(uintptr(nfd), unix.F_GETFD, 0)
	if fl&unix.O_NONBLOCK == 0 || fdfl&unix.FD_CLOEXEC == 0 {
		t.Errorf("accepted descriptor: nonblock %v, cloexec %v; want both", fl&unix.O_NONBLOCK != 0, fdfl&unix.FD_CLOEXEC != 0)
	}
	if got := peerPort(t, nfd); got != port {
		t.Errorf("accepted the connection from port %d, want %d", got, port)
	}
	if nfd, err := p.Accept(lfd); err != unix.EAGAIN {
		t.Fatalf("Accept with nothing held = %d, %v, want EAGAIN", nfd, err)
	}
	mustNotReport(t, p, lfd, "nothing held")
	_, port2 := connectTCP(t, sa)
	acceptUntil(t, p, lfd, port2)
}

// Without a registration Accept is accept4(2).
func TestURingAcceptWithoutRegistrationAccepts(t *testing.T) {
	checkFDs(t)
	p := openAcceptT(t, 64, 256)
	lfd, sa := listenTCP(t)
	defer unix.Close(lfd)
	if _, err := p.Accept(lfd); err != unix.EAGAIN {
		t.Fatalf("Accept on an empty backlog: %v, want EAGAIN", err)
	}
	_, port := connectTCP(t, sa)
	if got := acceptPorts(t, p, lfd); len(got) != 1 || got[0] != port {
		t.Fatalf("Accept took the connections from ports %v, want [%d]", got, port)
	}
}

// The queue is bounded: once acceptMax connections are held the accept is
// cancelled and later connections wait in the kernel's backlog; drained,
// the accept is armed again and every connection is handed out.
func TestURingAcceptQueueIsBoundedAndLosesNothing(t *testing.T) {
	checkFDs(t)
	saved := acceptMax
	acceptMax = 2
	defer func() { acceptMax = saved }()
	p, lfd, sa := acceptingT(t, 64, 256)
	poll0(t, p) // submits the accept
	var ports []int
	for i := 0; i < 2; i++ {
		_, port := connectTCP(t, sa)
		ports = append(ports, port)
		for deadline := time.Now().Add(long); p.heldConns(lfd) <= i && time.Now().Before(deadline); {
			waitEvents(t, p, 50*time.Millisecond)
		}
	}
	for deadline := time.Now().Add(long); p.acc.inKernel > 0 && time.Now().Before(deadline); {
		waitEvents(t, p, 10*time.Millisecond) // the cancellation lands
	}
	if p.acc.inKernel != 0 {
		t.Fatalf("%d accepts in the kernel with the queue full, want 0", p.acc.inKernel)
	}
	for i := 0; i < 3; i++ {
		_, port := connectTCP(t, sa)
		ports = append(ports, port)
	}
	for i := 0; i < 5; i++ {
		poll0(t, p)
	}
	if got := p.heldConns(lfd); got != 2 {
		t.Fatalf("held %d connections with a bound of 2, want 2 (the rest in the backlog)", got)
	}
	acceptUntil(t, p, lfd, ports...)
	// Drained, the accept runs again: a new connection is reported.
	_, port := connectTCP(t, sa)
	acceptUntil(t, p, lfd, port)
}

// Dropping In cancels the accept but keeps what it accepted; added again
// under the same generation, the socket is reported and every connection,
// held or left in the backlog meanwhile, is handed out.
func TestURingAcceptDisableEnableLosesNothing(t *testing.T) {
	p, lfd, sa := acceptingT(t, 64, 256)
	_, port1 := connectTCP(t, sa)
	for deadline := time.Now().Add(long); p.heldConns(lfd) == 0 && time.Now().Before(deadline); {
		waitEvents(t, p, 50*time.Millisecond)
	}
	update(t, p, lfd, 1, In|Accept, 0)
	_, port2 := connectTCP(t, sa)
	mustNotReport(t, p, lfd, "disabled")
	mustNotReport(t, p, lfd, "disabled, after the cancellation")
	update(t, p, lfd, 1, 0, In|Accept)
	acceptUntil(t, p, lfd, port1, port2)
}

// A listening number closed and reused: a connection the old socket's
// accept took, whose completion is reaped only after the new socket is
// registered, is closed, never handed to the new owner.
func TestURingAcceptStaleConnectionNeverReachesReusedNumber(t *testing.T) {
	checkFDs(t)
	p := openAcceptT(t, 64, 256)
	lfd, sa := listenTCP(t)
	update(t, p, lfd, 1, 0, In|Accept)
	poll0(t, p) // submits the accept
	old, _ := connectTCP(t, sa)
	awaitCompletions(t, p, 1)
	update(t, p, lfd, 1, In|Accept, 0)
	unix.Close(lfd)
	nfd, sa2 := listenTCP(t)
	if nfd != lfd {
		if err := unix.Dup3(nfd, lfd, unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		unix.Close(nfd)
	}
	defer unix.Close(lfd)
	update(t, p, lfd, 2, 0, In|Accept)
	_, port := connectTCP(t, sa2)
	acceptUntil(t, p, lfd, port)
	// The old connection was closed: its client reads the end of stream.
	unix.SetsockoptTimeval(old, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: int64(long / time.Second)})
	n, err := unix.Read(old, make([]byte, 1))
	for err == unix.EINTR { // the runtime's preemption signal
		n, err = unix.Read(old, make([]byte, 1))
	}
	if n != 0 || err != nil && err != unix.ECONNRESET {
		t.Fatalf("read on the old client = %d, %v, want the end of stream", n, err)
	}
}

// DropAccepted, after the registration is gone, closes what was held.
func TestURingDropAcceptedClosesHeldConnections(t *testing.T) {
	p, lfd, sa := acceptingT(t, 64, 256)
	poll0(t, p)
	before := countFDs(t)
	for i := 0; i < 3; i++ {
		connectTCP(t, sa)
	}
	for deadline := time.Now().Add(long); p.heldConns(lfd) < 3 && time.Now().Before(deadline); {
		waitEvents(t, p, 50*time.Millisecond)
	}
	update(t, p, lfd, 1, In|Accept, 0)
	p.DropAccepted(lfd)
	poll0(t, p)
	if got := countFDs(t) - 3; got != before {
		t.Errorf("open descriptors besides the 3 clients: %d after DropAccepted, want %d as before", got, before)
	}
}

// Close closes what is held and what the accept takes until it ends.
func TestURingCloseClosesAcceptedConnections(t *testing.T) {
	p, lfd, sa := acceptingT(t, 64, 256)
	connectTCP(t, sa)
	waitFor(t, p, lfd)
	connectTCP(t, sa)
	awaitCompletions(t, p, 1) // the second connection, unreaped
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// Out of descriptors, the accept ends with EMFILE: Accept returns it
// once, the connection stays in the backlog, and when a descriptor is free
// the accept armed again takes it. (An accept reads RLIMIT_NOFILE when it
// is submitted, so the limit is lowered before.)
func TestURingAcceptErrorIsHandedOutOnce(t *testing.T) {
	p, lfd, sa := acceptingT(t, 64, 256)
	client, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(client)
	var saved unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &saved); err != nil {
		t.Fatal(err)
	}
	// The lowest free number, made the limit: no descriptor can be made.
	free, err := unix.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(free)
	low := saved
	low.Cur = uint64(free)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &saved); err != nil {
				t.Errorf("restoring RLIMIT_NOFILE: %v", err)
			}
		}
	}
	defer restore()
	if err := unix.Connect(client, sa); err != nil {
		t.Fatalf("connect: %v", err)
	}
	local, _ := unix.Getsockname(client)
	waitFor(t, p, lfd)
	nfd, err := p.Accept(lfd)
	restore()
	if err != unix.EMFILE {
		t.Fatalf("Accept out of descriptors = %d, %v, want EMFILE", nfd, err)
	}
	acceptUntil(t, p, lfd, local.(*unix.SockaddrInet4).Port)
}

// A multishot accept whose completion overflows the CQ ends with that
// connection; none is lost and the accept is armed again.
func TestURingAcceptEndedByOverflowLosesNothing(t *testing.T) {
	p, lfd, sa := acceptingT(t, 2, 4)
	var ports []int
	for i := 0; i < 12; i++ {
		_, port := connectTCP(t, sa)
		ports = append(ports, port)
	}
	poll0(t, p) // the accept takes the backlog at once and overflows
	t.Logf("after the first Wait: %d held, %d accepts in the kernel, overflowed %v", p.heldConns(lfd), p.acc.inKernel, p.r.overflowed())
	acceptUntil(t, p, lfd, ports...)
	_, port := connectTCP(t, sa)
	acceptUntil(t, p, lfd, port)
}

// Handing out connections and the Waits that report them allocate nothing
// in steady state.
func TestURingAcceptDoesNotAllocate(t *testing.T) {
	p, lfd, sa := acceptingT(t, 64, 256)
	events := make([]Event, 8)
	reset := &unix.Linger{Onoff: 1}
	allocs := testing.AllocsPerRun(50, func() {
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Connect(c, sa); err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := p.Wait(events, long); err != nil {
				t.Fatal(err)
			}
			if nfd, err := p.Accept(lfd); err == nil {
				unix.Close(nfd)
				break
			}
		}
		unix.SetsockoptLinger(c, unix.SOL_SOCKET, unix.SO_LINGER, reset)
		unix.Close(c)
	})
	if allocs != 0 {
		t.Errorf("allocations per accepted connection: got %v, want 0", allocs)
	}
}
