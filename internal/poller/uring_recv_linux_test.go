package poller

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// openRecvT opens an io_uring backend that receives in the kernel, with
// count buffers of size bytes, or skips where the kernel cannot.
func openRecvT(t *testing.T, count uint16, size int) *uring {
	t.Helper()
	return openRecvSizedT(t, 64, 256, count, size)
}

// openRecvSizedT is openRecvT with an SQ of sq and a CQ of cq entries.
// The ring does not grow.
func openRecvSizedT(t *testing.T, sq, cq uint32, count uint16, size int) *uring {
	t.Helper()
	return openRecvGrowingT(t, sq, cq, count, count, size)
}

// openRecvGrowingT is openRecvSizedT with a ring that grows by chunks of
// count buffers up to max.
func openRecvGrowingT(t *testing.T, sq, cq uint32, count, max uint16, size int) *uring {
	t.Helper()
	savedCount, savedMax, savedSize := pbufCount, pbufMax, pbufSize
	pbufCount, pbufMax, pbufSize = count, max, size
	defer func() { pbufCount, pbufMax, pbufSize = savedCount, savedMax, savedSize }()
	p := openURingT(t, sq, cq)
	if !p.CanRecv() {
		t.Skip("this kernel has no multishot recv with a provided buffer ring (Linux 6.3 or later is needed)")
	}
	return p
}

// recvAll takes everything held for fd now, failing on an error.
func recvAll(t *testing.T, p *uring, fd int) (got []byte, eof bool) {
	t.Helper()
	buf := make([]byte, 100)
	for {
		n, err := p.Recv(fd, buf)
		switch {
		case err == unix.EAGAIN:
			return got, false
		case err != nil:
			t.Fatalf("Recv(%d): %v", fd, err)
		case n == 0:
			return got, true
		}
		got = append(got, buf[:n]...)
	}
}

// recvUntil waits and receives on fd until want has arrived.
func recvUntil(t *testing.T, p *uring, fd int, want []byte) {
	t.Helper()
	var got []byte
	deadline := time.Now().Add(long)
	for len(got) < len(want) && time.Now().Before(deadline) {
		if _, ok := waitEvents(t, p, 50*time.Millisecond)[int32(fd)]; ok {
			b, _ := recvAll(t, p, fd)
			got = append(got, b...)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("received %d bytes %.40q..., want %d bytes %.40q...", len(got), got, len(want), want)
	}
}

// The kernel's receive reports the descriptor readable and Recv returns
// the data, then EAGAIN, then, after the peer closes, the end of stream,
// and keeps returning it, as read(2) does.
func TestURingRecvDeliversDataThenEOF(t *testing.T) {
	p := openRecvT(t, 8, 4096)
	a, b := socketpair(t)
	update(t, p, a, 1, 0, In|Recv)
	write(t, b, "hello")
	e := waitFor(t, p, a)
	if e.Ready&ReadyIn == 0 || e.Gen != 1 {
		t.Fatalf("report %+v, want ReadyIn with gen 1", e)
	}
	if got, eof := recvAll(t, p, a); string(got) != "hello" || eof {
		t.Fatalf("Recv got %q, eof %v; want hello, no eof", got, eof)
	}
	// Nothing was left in the socket for read(2): the kernel took it.
	if n, err := unix.Read(a, make([]byte, 8)); err != unix.EAGAIN {
		t.Fatalf("read(2) after Recv = %d, %v; want EAGAIN", n, err)
	}
	unix.Shutdown(b, unix.SHUT_WR)
	waitFor(t, p, a)
	for i := 0; i < 2; i++ {
		if got, eof := recvAll(t, p, a); len(got) != 0 || !eof {
			t.Fatalf("Recv after shutdown got %q, eof %v; want the end of stream", got, eof)
		}
	}
	// The end stays reported until the registration goes, as a closed
	// socket stays readable.
	if _, ok := poll0(t, p)[int32(a)]; !ok {
		t.Fatal("end of stream not reported again")
	}
	update(t, p, a, 1, In|Recv, 0)
	mustNotReport(t, p, a, "after removal")
}

// Data left unread is reported at every Wait until taken: level-triggered.
func TestURingRecvIsLevelTriggered(t *testing.T) {
	p := openRecvT(t, 8, 4096)
	a, b := socketpair(t)
	update(t, p, a, 1, 0, In|Recv)
	write(t, b, "0123456789")
	waitFor(t, p, a)
	buf := make([]byte, 4)
	var got []byte
	for i := 0; i < 3; i++ {
		if i > 0 {
			if _, ok := poll0(t, p)[int32(a)]; !ok {
				t.Fatalf("after taking %q, the rest was not reported", got)
			}
		}
		n, err := p.Recv(a, buf)
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "0123456789" {
		t.Fatalf("got %q", got)
	}
	mustNotReport(t, p, a, "everything was taken")
}

// Reading stopped (In dropped) keeps what the kernel received, out of the
// buffer ring, and gives it back in order when reading resumes under the
// same generation, before what arrives after.
func TestURingRecvKeepsDataWhileReadingStops(t *testing.T) {
	p := openRecvT(t, 4, 4096)
	a, b := socketpair(t)
	update(t, p, a, 7, 0, In|Recv)
	write(t, b, "first ")
	waitFor(t, p, a)
	update(t, p, a, 7, In|Recv, Out) // reading stops, writing watched
	if free := p.freeBuffers(); free != 4 {
		t.Errorf("%d of 4 buffers lent to the kernel after reading stopped, want all", free)
	}
	write(t, b, "second ")
	time.Sleep(20 * time.Millisecond) // let a cancellation and a receive race
	update(t, p, a, 7, Out, 0)
	update(t, p, a, 7, 0, In|Recv)
	write(t, b, "third")
	recvUntil(t, p, a, []byte("first second third"))
}

// A reused number under a new generation never gets the earlier owner's
// data, and the earlier owner's buffers come back.
func TestURingRecvNewOwnerGetsNoStaleData(t *testing.T) {
	p := openRecvT(t, 4, 4096)
	a, b := rawSocketpair(t)
	update(t, p, a, 1, 0, In|Recv)
	write(t, b, "old owner's")
	waitFor(t, p, a)
	update(t, p, a, 1, In|Recv, 0)
	unix.Close(a)
	unix.Close(b)
	c, d := socketpair(t)
	if c != a {
		t.Skipf("the number %d was not reused (got %d)", a, c)
	}
	update(t, p, c, 2, 0, In|Recv)
	mustNotReport(t, p, c, "new owner, nothing sent")
	if n, err := p.Recv(c, make([]byte, 64)); err != unix.EAGAIN {
		t.Fatalf("new owner's Recv = %d, %v; want EAGAIN", n, err)
	}
	write(t, d, "new")
	recvUntil(t, p, c, []byte("new"))
	if free := p.freeBuffers(); free != 4 {
		t.Errorf("%d of 4 buffers lent to the kernel, want all", free)
	}
}

// With fewer buffers than connections sending, receives end with ENOBUFS
// and resume as buffers come back: every byte arrives, in order.
func TestURingRecvSurvivesBufferExhaustion(t *testing.T) {
	p := openRecvT(t, 2, 64)
	const conns, size = 6, 5000
	a := make([]int, conns)
	want := make([][]byte, conns)
	got := make([][]byte, conns)
	for i := range a {
		var b int
		a[i], b = socketpair(t)
		update(t, p, a[i], uint32(i+1), 0, In|Recv)
		want[i] = bytes.Repeat([]byte(fmt.Sprintf("<%d:%04d>", i, i)), size/8)
		if n, err := unix.Write(b, want[i]); err != nil || n != len(want[i]) {
			t.Fatalf("write: %d, %v", n, err)
		}
	}
	deadline := time.Now().Add(long)
	done := 0
	for done < conns && time.Now().Before(deadline) {
		done = 0
		for fd := range waitEvents(t, p, 50*time.Millisecond) {
			for i := range a {
				if int32(a[i]) == fd {
					b, _ := recvAll(t, p, a[i])
					got[i] = append(got[i], b...)
				}
			}
		}
		for i := range a {
			if len(got[i]) >= len(want[i]) {
				done++
			}
		}
	}
	for i := range a {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("conn %d: got %d bytes, want %d (equal prefix: %v)", i, len(got[i]), len(want[i]), bytes.HasPrefix(want[i], got[i]))
		}
	}
}

// A ring that runs out of buffers grows by a chunk, up to its entries,
// rather than end receives; past that they wait for buffers to come back.
// With more connections sending than the ring can grow to, every message
// arrives, and the ring stops at its size.
func TestURingRecvRingGrowsWhenItRunsOut(t *testing.T) {
	p := openRecvGrowingT(t, 64, 256, 2, 4, 64)
	const conns = 6
	a := make([]int, conns)
	for i := range a {
		var b int
		a[i], b = socketpair(t)
		update(t, p, a[i], uint32(i+1), 0, In|Recv)
		write(t, b, fmt.Sprintf("message %d", i))
	}
	got := map[int32]string{}
	deadline := time.Now().Add(long)
	for len(got) < conns && time.Now().Before(deadline) {
		for fd := range waitEvents(t, p, 50*time.Millisecond) {
			b, _ := recvAll(t, p, int(fd))
			got[fd] += string(b)
		}
	}
	for i := range a {
		if want := fmt.Sprintf("message %d", i); got[int32(a[i])] != want {
			t.Errorf("conn %d got %q, want %q", i, got[int32(a[i])], want)
		}
	}
	if p.pbuf.count != 4 {
		t.Errorf("ring of %d buffers, want it grown to 4", p.pbuf.count)
	}
	if free := p.freeBuffers(); free != 4 {
		t.Errorf("%d of 4 buffers lent to the kernel, want all", free)
	}
}

// A receive wanted while every buffer is out waits on the starved list,
// and Recv giving one back re-arms it even while another goroutine sleeps
// in Wait.
func TestURingRecvStarvedIsRearmedWhileWaitSleeps(t *testing.T) {
	p := openRecvT(t, 1, 64)
	a, b := socketpair(t)
	c, d := socketpair(t)
	// Edge-triggered, so that a's unread data does not keep the Wait
	// below from sleeping.
	update(t, p, a, 1, 0, In|Recv|ET)
	update(t, p, c, 2, 0, In|Recv)
	write(t, b, "takes the only buffer")
	waitFor(t, p, a)
	write(t, d, "waits for it")
	time.Sleep(20 * time.Millisecond)
	waitEvents(t, p, 0) // c's receive ends with ENOBUFS here
	events := make([]Event, 8)
	done := waitUntilReported(p, events)
	awaitBlockedWait(t, done, d)
	if got, _ := recvAll(t, p, a); string(got) != "takes the only buffer" {
		t.Fatalf("a got %q", got)
	}
	select {
	case r := <-done:
		if r.err != nil || r.n != 1 || events[0].Fd != int32(c) {
			t.Fatalf("the sleeping Wait reported %v (%v), want fd %d", events[:r.n], r.err, c)
		}
	case <-time.After(long):
		t.Fatal("the starved receive was not re-armed")
	}
	if got, _ := recvAll(t, p, c); string(got) != "waits for it" {
		t.Fatalf("c got %q", got)
	}
}

// Recv on a descriptor the backend receives nothing for is read(2).
func TestURingRecvWithoutRegistrationReads(t *testing.T) {
	p := openRecvT(t, 4, 4096)
	a, b := socketpair(t)
	write(t, b, "plain")
	buf := make([]byte, 16)
	if n, err := p.Recv(a, buf); err != nil || string(buf[:n]) != "plain" {
		t.Fatalf("Recv = %q, %v", buf[:n], err)
	}
}

// A large stream arrives whole and in order through 16 KiB buffers, with
// the reader taking it in odd-sized pieces.
func TestURingRecvLargeStreamInOrder(t *testing.T) {
	p := openRecvT(t, 16, 16<<10)
	a, b := socketpair(t)
	update(t, p, a, 1, 0, In|Recv)
	want := make([]byte, 3<<20)
	for i := range want {
		want[i] = byte(i * 7 / 3)
	}
	go func() {
		fd, _ := unix.Dup(b)
		defer unix.Close(fd)
		for off := 0; off < len(want); {
			n, err := unix.Write(fd, want[off:])
			if err == unix.EAGAIN {
				time.Sleep(100 * time.Microsecond)
				continue
			}
			if err != nil {
				return
			}
			off += n
		}
	}()
	if got := recvFor(t, p, a, len(want), make([]byte, 1237)); !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, want %d; equal prefix %v", len(got), len(want), bytes.HasPrefix(want, got))
	}
}

// The steady path, a receive completion reaped and taken, allocates
// nothing.
func TestURingRecvDoesNotAllocate(t *testing.T) {
	p := openRecvT(t, 8, 4096)
	a, b := socketpair(t)
	update(t, p, a, 1, 0, In|Recv)
	events := make([]Event, 8)
	buf := make([]byte, 64)
	msg := []byte("ping")
	round := func() {
		unix.Write(b, msg)
		for got := 0; got < len(msg); {
			p.Wait(events, long)
			n, _ := p.Recv(a, buf)
			got += n
		}
	}
	round()
	if allocs := testing.AllocsPerRun(200, round); allocs != 0 {
		t.Fatalf("%v allocations per received message, want 0", allocs)
	}
}

// freeBuffers counts the buffers the kernel holds: lent minus in use.
func (p *uring) freeBuffers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	used := 0
	for _, rx := range p.rxs {
		if rx != nil {
			used += len(rx.q)
		}
	}
	return int(p.pbuf.count) - used
}

// The per-descriptor record stays at 24 bytes: every idle connection pays
// for one.
func TestURingFdRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(uringFd{}); n > 24 {
		t.Fatalf("uringFd is %d bytes, want at most 24", n)
	}
}

// A receive that runs out of buffers while reading is stopped is armed
// again when reading resumes: its ENOBUFS, reaped after the buffers came
// back, must not leave it waiting for a buffer that will never return.
func TestURingRecvOutOfBuffersWhileStoppedResumes(t *testing.T) {
	p := openRecvT(t, 1, 64)
	a, b := socketpair(t)
	want := bytes.Repeat([]byte("0123456789"), 30)
	update(t, p, a, 1, 0, In|Recv)
	p.Wait(make([]Event, 4), 0) // submit the receive
	write(t, b, string(want))
	awaitCompletions(t, p, 2) // the only buffer filled, then ENOBUFS
	update(t, p, a, 1, In|Recv, 0)
	waitEvents(t, p, 0) // reaps both while reading is stopped
	update(t, p, a, 1, 0, In|Recv)
	recvPerReport(t, p, a, want, 64)
}

// recvPerReport waits and receives on fd until want has arrived, with one
// Recv of at most size bytes per report, as a BufferEvent reads: what is
// left must be reported, not found by a read(2) that happens to follow.
func recvPerReport(t *testing.T, p *uring, fd int, want []byte, size int) {
	t.Helper()
	var got []byte
	buf := make([]byte, size)
	deadline := time.Now().Add(long)
	for len(got) < len(want) && time.Now().Before(deadline) {
		if _, ok := waitEvents(t, p, 50*time.Millisecond)[int32(fd)]; ok {
			if n, err := p.Recv(fd, buf); err == nil {
				got = append(got, buf[:n]...)
			}
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d of %d bytes (equal prefix: %v)", len(got), len(want), bytes.HasPrefix(want, got))
	}
}

// A descriptor whose reader does not read holds about recvHoldMax, not
// every buffer of the ring: its recv is cancelled, the socket's buffer
// fills and the writer is held back; once the reader takes what is held,
// the receive is armed again and the whole stream arrives in order.
func TestURingRecvHoldsAtMostItsShareWhileUnread(t *testing.T) {
	saved := recvHoldMax
	recvHoldMax = 16 << 10 // four of the ring's 4 KiB buffers
	defer func() { recvHoldMax = saved }()
	p := openRecvT(t, 64, 4096)
	a, b := socketpair(t)
	// A small send buffer, so that each burst the kernel receives at
	// once is a few buffers, not the ring.
	if err := unix.SetsockoptInt(b, unix.SOL_SOCKET, unix.SO_SNDBUF, 8<<10); err != nil {
		t.Fatal(err)
	}
	update(t, p, a, 1, 0, In|Recv)
	var sent []byte
	chunk := make([]byte, 8<<10)
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) && len(sent) < 8<<20 {
		for i := range chunk {
			chunk[i] = byte(len(sent) + i*5)
		}
		n, err := unix.Write(b, chunk)
		if n > 0 {
			sent = append(sent, chunk[:n]...)
		}
		if err != nil && err != unix.EAGAIN {
			t.Fatalf("write: %v", err)
		}
		// Reap the completions and submit the cancellation before
		// more is sent, as a loop does between its iterations.
		timeout := time.Duration(0)
		if err == unix.EAGAIN {
			timeout = 5 * time.Millisecond
		}
		waitEvents(t, p, timeout)
	}
	waitEvents(t, p, 10*time.Millisecond)
	if free := p.freeBuffers(); free < 64-16 {
		t.Errorf("an unread descriptor holds %d of 64 buffers, want about 4 (%d bytes sent)", 64-free, len(sent))
	}
	// Let the cancellation end the receive before the reader takes
	// anything, so that only Recv can arm it again.
	for end := time.Now().Add(long); p.recvLive(a) && time.Now().Before(end); {
		waitEvents(t, p, time.Millisecond)
	}
	recvPerReport(t, p, a, sent, 4096)
}

// recvLive reports whether a recv for fd is in the kernel.
func (p *uring) recvLive(fd int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fds.At(fd).rxf&rxLive != 0
}

// A multishot recv whose completion overflowed the CQ ends (no
// IORING_CQE_F_MORE), its data still delivered; Wait arms it again, so
// what arrives later is still received.
func TestURingMultishotRecvEndedByOverflowIsRearmed(t *testing.T) {
	p := openRecvSizedT(t, 4, 8, 64, 64)
	const pairs = 24
	peers := quietPairs(t, p, pairs, In|Recv)
	events := make([]Event, 64)
	buf := make([]byte, 16)
	for round := 1; round <= 3; round++ {
		msg := fmt.Sprintf("m%d", round)
		for _, b := range peers {
			write(t, b, msg)
		}
		if round == 1 {
			awaitCompletions(t, p, 8)
			time.Sleep(20 * time.Millisecond) // the rest overflow
			if !p.r.overflowed() {
				t.Log("the CQ did not overflow this time")
			}
		}
		got := map[int32]bool{}
		deadline := time.Now().Add(long)
		for len(got) < pairs && time.Now().Before(deadline) {
			n, err := p.Wait(events, 50*time.Millisecond)
			if err != nil {
				t.Fatalf("round %d: Wait: %v", round, err)
			}
			for _, e := range events[:n] {
				if _, ok := peers[e.Fd]; !ok || e.Gen != 7 || e.Ready != ReadyIn {
					t.Fatalf("round %d: bad report %+v", round, e)
				}
				if k, err := p.Recv(int(e.Fd), buf); err == nil && string(buf[:k]) == msg {
					got[e.Fd] = true
				} else if err != unix.EAGAIN {
					t.Fatalf("round %d: Recv(%d) = %q, %v, want %q", round, e.Fd, buf[:k], err, msg)
				}
			}
		}
		if len(got) != pairs {
			t.Fatalf("round %d: %d of %d descriptors received %q", round, len(got), pairs, msg)
		}
	}
}

// A descriptor whose data has been taken holds no record: it went back to
// the free list, and the next descriptor to hold data takes it again, so
// an idle receiving connection costs only its 24-byte uringFd.
func TestURingRecvDrainedDescriptorHoldsNoRecord(t *testing.T) {
	p := openRecvT(t, 8, 4096)
	records := func() (inUse, made int) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.rxs) - 1 - len(p.rxFree), len(p.rxs)
	}
	for i, msg := range []string{"first", "second", "third"} {
		a, b := socketpair(t)
		update(t, p, a, uint32(i+1), 0, In|Recv)
		write(t, b, msg)
		recvUntil(t, p, a, []byte(msg))
		if inUse, made := records(); inUse != 0 || made > 2 {
			t.Fatalf("after connection %d was drained: %d records in use, %d made; want 0 in use, one made in all", i, inUse, made-1)
		}
	}
}

// polled reports whether fd is read with read(2) on readiness.
func (p *uring) polled(fd int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fds.At(fd).rxf&rxPolled != 0
}

// waitUntil makes Waits until cond holds, for long at most, and reports
// whether it does.
func waitUntil(t *testing.T, p *uring, cond func() bool) bool {
	t.Helper()
	for deadline := time.Now().Add(long); !cond(); {
		if time.Now().After(deadline) {
			return false
		}
		waitEvents(t, p, 10*time.Millisecond)
	}
	return true
}

// recvFor waits and receives on fd into buf-sized reads until n bytes
// have arrived, and returns them.
func recvFor(t *testing.T, p *uring, fd, n int, buf []byte) []byte {
	t.Helper()
	var got []byte
	deadline := time.Now().Add(long)
	for len(got) < n && time.Now().Before(deadline) {
		if _, ok := waitEvents(t, p, 50*time.Millisecond)[int32(fd)]; !ok {
			continue
		}
		for len(got) < n {
			k, err := p.Recv(fd, buf)
			if err == unix.EAGAIN {
				break
			}
			if err != nil || k == 0 {
				t.Fatalf("Recv: %d, %v", k, err)
			}
			got = append(got, buf[:k]...)
		}
	}
	return got
}

// A completion that fills a whole ring buffer moves the descriptor to
// read(2) on a POLLIN poll: the recv is cancelled, and later data comes
// through read(2), using no ring buffer, also after a registration change.
// Short reads in a row give it back to the kernel's receive. (That what
// the recv took is handed out before the socket is read is
// TestURingRecvLargeStreamInOrder's.)
func TestURingRecvLargePiecesAreReadOnReadiness(t *testing.T) {
	const size = 4096
	runtime.LockOSThread() // as the loop is: completions are posted through the submitting thread
	defer runtime.UnlockOSThread()
	p := openRecvT(t, 16, size)
	a, b := socketpair(t)
	update(t, p, a, 1, 0, In|Recv)
	want := make([]byte, 32<<10) // half the ring: the recv would go on without its cancellation
	for i := range want {
		want[i] = byte(i*7/3 + i>>12)
	}
	if n, err := unix.Write(b, want); err != nil || n != len(want) {
		t.Fatalf("write: %d, %v", n, err)
	}
	if got := recvFor(t, p, a, len(want), make([]byte, 1000)); !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, want %d; equal prefix %v", len(got), len(want), bytes.HasPrefix(want, got))
	}
	if !p.polled(a) {
		t.Fatalf("a descriptor that filled whole buffers still receives in the kernel")
	}
	if !waitUntil(t, p, func() bool { return !p.recvLive(a) }) { // the cancellation's completion
		t.Fatalf("a recv is still live on a descriptor read on readiness")
	}
	update(t, p, a, 1, In|Recv, In|Recv|Out) // re-registered: still read on readiness
	for round := range 3 {
		more := bytes.Repeat([]byte{byte('a' + round)}, 20<<10)
		if n, err := unix.Write(b, more); err != nil || n != len(more) {
			t.Fatalf("write: %d, %v", n, err)
		}
		if got := recvFor(t, p, a, len(more), make([]byte, 64<<10)); !bytes.Equal(got, more) {
			t.Fatalf("round %d: got %d bytes, want %d", round, len(got), len(more))
		}
		if free := p.freeBuffers(); free != 16 {
			t.Fatalf("round %d: %d of 16 buffers free: the data went through the ring", round, free)
		}
	}
	update(t, p, a, 1, In|Recv|Out, In|Recv)
	for i := range smallReads {
		if !p.polled(a) {
			t.Fatalf("back to the kernel's receive after %d short reads, want %d", i, smallReads)
		}
		write(t, b, "x")
		if got := recvFor(t, p, a, 1, make([]byte, 64<<10)); string(got) != "x" {
			t.Fatalf("short read %d: got %q", i, got)
		}
	}
	if p.polled(a) {
		t.Fatalf("still read on readiness after %d short reads", smallReads)
	}
	if !waitUntil(t, p, func() bool { return p.recvLive(a) }) { // submits the recv
		t.Fatalf("no recv armed again after the short reads")
	}
	write(t, b, "hello")
	if got := recvFor(t, p, a, 5, make([]byte, 64<<10)); string(got) != "hello" {
		t.Fatalf("got %q after the switch back, want hello", got)
	}
}

// A new owner of a number read on readiness starts with the kernel's
// receive again.
func TestURingRecvNewOwnerOfAPolledNumberReceives(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := openRecvT(t, 16, 4096)
	a, b := socketpair(t)
	update(t, p, a, 1, 0, In|Recv)
	big := bytes.Repeat([]byte("z"), 8<<10)
	if n, err := unix.Write(b, big); err != nil || n != len(big) {
		t.Fatalf("write: %d, %v", n, err)
	}
	if got := recvFor(t, p, a, len(big), make([]byte, 64<<10)); !bytes.Equal(got, big) || !p.polled(a) {
		t.Fatalf("got %d bytes, polled %v; want %d, polled", len(got), p.polled(a), len(big))
	}
	update(t, p, a, 2, In|Recv, In|Recv)
	if p.polled(a) {
		t.Fatalf("a new owner inherited the reading on readiness")
	}
	if !waitUntil(t, p, func() bool { return p.recvLive(a) }) {
		t.Fatalf("no recv armed for the new owner")
	}
}

// A buffer ring's chunk and size are powers of two, the chunk no larger
// than the ring: anything else is refused before the kernel is asked.
func TestURingPbufRingRefusesBadSizes(t *testing.T) {
	for _, c := range []struct{ count, max uint16 }{{0, 4}, {3, 4}, {4, 6}, {8, 4}} {
		if b, err := newPbufRing(-1, c.count, c.max, 64); err == nil || !errors.Is(err, unix.EINVAL) {
			t.Errorf("newPbufRing(count %d, max %d) = %v, %v, want EINVAL", c.count, c.max, b, err)
		}
	}
}
