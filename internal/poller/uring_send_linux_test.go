package poller

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openSendT opens an io_uring backend that sends in the kernel, or skips.
func openSendT(t *testing.T) *uring {
	t.Helper()
	p := openURingT(t, 64, 256)
	if !p.CanSend() {
		t.Skip("this kernel has no IORING_OP_SEND")
	}
	return p
}

// sentAfter waits for fd's send to be reported and takes its result.
func sentAfter(t *testing.T, p *uring, fd int) (int, error) {
	t.Helper()
	e := waitFor(t, p, fd)
	if e.Ready&ReadyOut == 0 {
		t.Fatalf("fd %d reported %+v, want ReadyOut", fd, e)
	}
	n, err, ok := p.Sent(fd)
	if !ok {
		t.Fatalf("Sent(%d) after the report: no result", fd)
	}
	return n, err
}

// A send queued by Send goes out with the next Wait, which reports it as
// ReadyOut; Sent gives the count once, and the data of both parts arrives
// in order.
func TestURingSendDeliversBothParts(t *testing.T) {
	p := openSendT(t)
	a, b := socketpair(t)
	update(t, p, a, 1, 0, Out|Send)
	for _, parts := range [][2]string{{"hello", ""}, {"wrapped ", "ring"}} {
		n, err := p.Send(a, []byte(parts[0]), []byte(parts[1]))
		if n != 0 || err != nil {
			t.Fatalf("Send: %d, %v, want 0, nil (queued)", n, err)
		}
		if _, err := p.Send(a, []byte("x"), nil); err != unix.EBUSY {
			t.Fatalf("a second Send while one is live: %v, want EBUSY", err)
		}
		want := parts[0] + parts[1]
		if n, err := sentAfter(t, p, a); n != len(want) || err != nil {
			t.Fatalf("Sent: %d, %v, want %d, nil", n, err, len(want))
		}
		if _, _, ok := p.Sent(a); ok {
			t.Fatalf("Sent gave a result twice")
		}
		buf := make([]byte, 64)
		k, _ := unix.Read(b, buf)
		if string(buf[:k]) != want {
			t.Fatalf("peer read %q, want %q", buf[:k], want)
		}
	}
}

// A socket without room does not fail the send with EAGAIN: the send
// waits in the kernel and completes when the peer reads.
func TestURingSendWaitsForRoom(t *testing.T) {
	p := openSendT(t)
	a, b := socketpair(t)
	fill(t, a)
	update(t, p, a, 1, 0, Out|Send)
	if _, err := p.Send(a, []byte("after the flood"), nil); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, p, 50*time.Millisecond)
	if _, _, ok := p.Sent(a); ok {
		t.Fatalf("the send completed while the socket was full")
	}
	drain(t, b)
	if n, err := sentAfter(t, p, a); n <= 0 || err != nil {
		t.Fatalf("Sent: %d, %v, want a count", n, err)
	}
}

// A send to a closed peer completes with EPIPE.
func TestURingSendReportsEPIPE(t *testing.T) {
	p := openSendT(t)
	a, b := rawSocketpair(t)
	closeAtEnd(t, a)
	unix.Close(b)
	update(t, p, a, 1, 0, Out|Send)
	p.Send(a, []byte("to nobody"), nil)
	if _, err := sentAfter(t, p, a); err != unix.EPIPE {
		t.Fatalf("Sent: %v, want EPIPE", err)
	}
}

// Deleting the registration does not take a send back: one waiting in
// the kernel finishes when room comes, reported to nobody, its bytes kept
// until then; a new owner's send on the number works.
func TestURingSendFinishesWhenUnregistered(t *testing.T) {
	p := openSendT(t)
	a, b := socketpair(t)
	fill(t, a)
	update(t, p, a, 1, 0, Out|Send)
	p.Send(a, []byte("late"), nil)
	waitEvents(t, p, 10*time.Millisecond) // submitted, waiting for room
	update(t, p, a, 1, Out|Send, 0)
	if len(p.orphans) != 1 {
		t.Fatalf("%d orphaned sends, want 1", len(p.orphans))
	}
	var got []byte
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(long)
	for len(p.orphans) > 0 && time.Now().Before(deadline) {
		if e, ok := waitEvents(t, p, 5*time.Millisecond)[int32(a)]; ok {
			t.Fatalf("orphaned send reported: %+v", e)
		}
		if k, err := unix.Read(b, buf); err == nil {
			got = append(got, buf[:k]...)
		}
	}
	if len(p.orphans) != 0 {
		t.Fatalf("the orphaned send's completion never came")
	}
	drain(t, b)
	if !bytes.HasSuffix(got, []byte("late")) {
		drain(t, b)
		t.Fatalf("peer's last bytes %q, want the orphaned send's", got[max(0, len(got)-8):])
	}
	update(t, p, a, 2, 0, Out|Send)
	p.Send(a, []byte("new owner"), nil)
	if n, err := sentAfter(t, p, a); n != len("new owner") || err != nil {
		t.Fatalf("Sent: %d, %v", n, err)
	}
	k, _ := unix.Read(b, buf)
	if string(buf[:k]) != "new owner" {
		t.Fatalf("peer read %q, want only the new owner's bytes", buf[:k])
	}
}

// A send queued but not submitted when its registration is removed goes
// to the kernel at once, so that closing the number right after (and a
// new file taking it) cannot send its bytes to the wrong file.
func TestURingOrphanedSendReachesTheKernelBeforeClose(t *testing.T) {
	p := openSendT(t)
	a, b := rawSocketpair(t)
	closeAtEnd(t, b)
	update(t, p, a, 1, 0, Out|Send)
	p.Send(a, []byte("for the old peer"), nil)
	update(t, p, a, 1, Out|Send, 0)
	unix.Close(a)
	c, d := socketpair(t)
	if c != a && d != a {
		t.Logf("the number %d was not reused (%d, %d)", a, c, d)
	}
	waitEvents(t, p, 10*time.Millisecond)
	buf := make([]byte, 64)
	if k, _ := unix.Read(b, buf); string(buf[:max(k, 0)]) != "for the old peer" {
		t.Errorf("old peer read %q", buf[:max(k, 0)])
	}
	for _, fd := range []int{c, d} {
		if k, err := unix.Read(fd, buf); err != unix.EAGAIN {
			t.Errorf("the number's new file got %q, %v", buf[:max(k, 0)], err)
		}
	}
}

// Reading being turned on and off does not disturb a live send.
func TestURingSendSurvivesReadInterestChanges(t *testing.T) {
	p := openSendT(t)
	a, b := socketpair(t)
	update(t, p, a, 1, 0, Out|Send)
	p.Send(a, []byte("kept"), nil)
	update(t, p, a, 1, Out|Send, In|Out|Send)
	update(t, p, a, 1, In|Out|Send, Out|Send)
	if n, err := sentAfter(t, p, a); n != 4 || err != nil {
		t.Fatalf("Sent: %d, %v, want 4, nil", n, err)
	}
	if len(p.orphans) != 0 {
		t.Fatalf("%d orphaned sends, want none", len(p.orphans))
	}
	_ = b
}

// Send on a descriptor not registered with Out|Send is writev(2).
func TestURingSendWithoutRegistrationWrites(t *testing.T) {
	p := openSendT(t)
	a, b := socketpair(t)
	if n, err := p.Send(a, []byte("ab"), []byte("cd")); n != 4 || err != nil {
		t.Fatalf("Send: %d, %v, want 4, nil", n, err)
	}
	buf := make([]byte, 8)
	if k, _ := unix.Read(b, buf); string(buf[:k]) != "abcd" {
		t.Fatalf("peer read %q", buf[:k])
	}
}

// Several MiB through short sends, resubmitting the rest each time, come
// out byte for byte.
func TestURingSendLargeStreamInOrder(t *testing.T) {
	p := openSendT(t)
	a, b := socketpair(t)
	update(t, p, a, 1, 0, Out|Send)
	want := make([]byte, 4<<20)
	for i := range want {
		want[i] = byte(i*7 + i>>11)
	}
	var got []byte
	buf := make([]byte, 64<<10)
	off := 0
	p.Send(a, want, nil)
	deadline := time.Now().Add(long)
	for len(got) < len(want) && time.Now().Before(deadline) {
		waitEvents(t, p, 5*time.Millisecond)
		if n, err, ok := p.Sent(a); ok {
			if err != nil {
				t.Fatal(err)
			}
			off += n
			if off < len(want) {
				p.Send(a, want[off:], nil)
			}
		}
		if k, err := unix.Read(b, buf); err == nil {
			got = append(got, buf[:k]...)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, want %d", len(got), len(want))
	}
}

// A send queued and completed allocates nothing.
func TestURingSendDoesNotAllocate(t *testing.T) {
	p := openSendT(t)
	a, b := socketpair(t)
	update(t, p, a, 1, 0, Out|Send)
	events := make([]Event, 8)
	msg, buf := []byte("ping"), make([]byte, 64)
	round := func() {
		p.Send(a, msg, nil)
		for {
			p.Wait(events, long)
			if _, _, ok := p.Sent(a); ok {
				break
			}
		}
		unix.Read(b, buf)
	}
	round()
	if allocs := testing.AllocsPerRun(200, round); allocs != 0 {
		t.Fatalf("%v allocations per send, want 0", allocs)
	}
}

// Out|Send is not polled: a writable socket with no send is not reported.
func TestURingSendRegistrationIsNotPolled(t *testing.T) {
	p := openSendT(t)
	a, _ := socketpair(t)
	update(t, p, a, 1, 0, Out|Send)
	waitEvents(t, p, 10*time.Millisecond)
	mustNotReport(t, p, a, "writable, with no send")
}
