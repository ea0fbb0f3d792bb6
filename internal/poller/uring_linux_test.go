package poller

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/internal/paged"
)

// openURingT opens an io_uring backend with the given ring sizes, closed
// when the test ends.
func openURingT(t *testing.T, sq, cq uint32) *uring {
	t.Helper()
	skipUnavailable(t, "io_uring")
	p, err := openURingSized(sq, cq)
	if err != nil {
		t.Fatalf("io_uring with SQ %d, CQ %d: %v", sq, cq, err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// awaitCompletions returns once at least n completions sit in p's CQ or
// its overflow list, unreaped: readiness the kernel has reported that Wait
// has not seen yet.
func awaitCompletions(t *testing.T, p *uring, n uint32) {
	t.Helper()
	deadline := time.Now().Add(long)
	for p.r.cqReady() < n && !p.r.overflowed() {
		if time.Now().After(deadline) {
			t.Fatalf("%d completions in the CQ after %v, want %d", p.r.cqReady(), long, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// countEnters counts io_uring_enter calls from now on.
func countEnters(t *testing.T) *int {
	t.Helper()
	saved := uringEnter
	t.Cleanup(func() { uringEnter = saved })
	var n int
	uringEnter = func(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argSize uintptr) (int, error) {
		n++
		return saved(fd, toSubmit, minComplete, flags, arg, argSize)
	}
	return &n
}

// Each way the kernel can refuse io_uring makes Open fail with an error
// that matches ErrUnavailable (and the errno, where there is one) and says
// what was missing, and leaves no descriptor open.
func TestURingOpenFailsWhereTheKernelRefuses(t *testing.T) {
	skipUnavailable(t, "io_uring")
	realSetup, realRegister := uringSetup, uringRegister
	t.Cleanup(func() { uringSetup, uringRegister = realSetup, realRegister })
	tests := []struct {
		name     string
		setup    func(uint32, *uringParams) (int, error)
		register func(int, uint32, unsafe.Pointer, uint32) (int, error)
		errno    error  // nil: no errno to match
		says     string // in the message
	}{
		{name: "ENOSYS", errno: unix.ENOSYS, says: "io_uring_setup",
			setup: func(uint32, *uringParams) (int, error) { return 0, unix.ENOSYS }},
		{name: "EPERM", errno: unix.EPERM, says: "io_uring_setup",
			setup: func(uint32, *uringParams) (int, error) { return 0, unix.EPERM }},
		{name: "no EXT_ARG", says: "features",
			setup: func(n uint32, p *uringParams) (int, error) {
				fd, err := realSetup(n, p)
				p.features &^= featExtArg
				return fd, err
			}},
		{name: "no probe", errno: unix.EINVAL, says: "io_uring_register",
			register: func(int, uint32, unsafe.Pointer, uint32) (int, error) { return 0, unix.EINVAL }},
		{name: "no POLL_ADD", says: "IORING_OP_POLL_ADD",
			register: func(fd int, op uint32, arg unsafe.Pointer, n uint32) (int, error) {
				r, err := realRegister(fd, op, arg, n)
				(*uringProbe)(arg).ops[opPollAdd].flags = 0
				return r, err
			}},
		{name: "no POLL_REMOVE", says: "IORING_OP_POLL_REMOVE",
			register: func(fd int, op uint32, arg unsafe.Pointer, n uint32) (int, error) {
				r, err := realRegister(fd, op, arg, n)
				(*uringProbe)(arg).lastOp = opPollAdd
				return r, err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFDs(t)
			uringSetup, uringRegister = realSetup, realRegister
			if tt.setup != nil {
				uringSetup = tt.setup
			}
			if tt.register != nil {
				uringRegister = tt.register
			}
			p, err := Open("io_uring")
			if p != nil {
				p.Close()
				t.Fatalf("Open = %s backend, want an error", p.Name())
			}
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(fmtVal(err), tt.says) {
				t.Errorf("Open error = %v, want one matching ErrUnavailable that names %q", err, tt.says)
			}
			if tt.errno != nil && !errors.Is(err, tt.errno) {
				t.Errorf("Open error = %v, want one matching %v", err, tt.errno)
			}
		})
	}
}

func fmtVal(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A completion posted for a registration that was then removed, still in
// the CQ when the number is reused and registered again (under the same
// generation, even), never reaches the new registration.
func TestURingLateCompletionNeverReachesReusedNumber(t *testing.T) {
	p := openURingT(t, 8, 16)
	a, b := rawSocketpair(t)
	closeAtEnd(t, b)
	update(t, p, a, 5, 0, In)
	mustNotReport(t, p, a, "nothing written yet")
	write(t, b, "x")
	awaitCompletions(t, p, 1) // the kernel reported a; Wait has not seen it
	update(t, p, a, 5, In, 0)
	// a's number now names a fresh socket, registered with the same gen.
	c, d := socketpair(t)
	if err := unix.Dup3(c, a, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, a)
	update(t, p, a, 5, 0, In)
	mustNotReport(t, p, a, "the late completion of the old socket")
	write(t, d, "y")
	if got, want := waitFor(t, p, a), (Event{Fd: int32(a), Gen: 5, Ready: ReadyIn}); got != want {
		t.Errorf("the new socket's report = %+v, want %+v", got, want)
	}
}

// With a CQ far smaller than the number of ready descriptors, completions
// overflow into the kernel's list (IORING_FEAT_NODROP); Wait moves them
// into the CQ and reports every descriptor once. The SQ is smaller still,
// so the registrations are submitted in batches as it fills.
func TestURingCQOverflowLosesNothing(t *testing.T) {
	p := openURingT(t, 4, 8)
	const pairs = 100
	gens := map[int32]uint32{}
	for i := 0; i < pairs; i++ {
		a, b := socketpair(t)
		write(t, b, "x")
		update(t, p, a, uint32(1000+i), 0, In)
		gens[int32(a)] = uint32(1000 + i)
	}
	events := make([]Event, 256)
	for round := 1; round <= 3; round++ { // level-triggered: every Wait reports all
		n, err := p.Wait(events, long)
		if err != nil {
			t.Fatalf("round %d: Wait: %v", round, err)
		}
		seen := map[int32]bool{}
		for _, e := range events[:n] {
			if gens[e.Fd] != e.Gen || seen[e.Fd] || e.Ready != ReadyIn {
				t.Errorf("round %d: bad report %+v (gen %d, seen before %v)", round, e, gens[e.Fd], seen[e.Fd])
			}
			seen[e.Fd] = true
		}
		if n != pairs {
			t.Errorf("round %d: Wait reported %d descriptors, want all %d", round, n, pairs)
		}
	}
}

// quietPairs registers one end of each of n socket pairs with interest
// under generation 7, checks that Wait reports nothing, and returns the
// other ends by registered descriptor.
func quietPairs(t *testing.T, p *uring, n int, interest Interest) map[int32]int {
	t.Helper()
	peers := map[int32]int{}
	for i := 0; i < n; i++ {
		a, b := socketpair(t)
		update(t, p, a, 7, 0, interest)
		peers[int32(a)] = b
	}
	if n, err := p.Wait(make([]Event, 64), 0); n != 0 || err != nil {
		t.Fatalf("Wait before any write = %d, %v, want 0, nil", n, err)
	}
	return peers
}

// A multishot poll (ET) whose completion overflowed the CQ ends; Wait adds
// it again, so later edges are still reported.
func TestURingMultishotEndedByOverflowIsRearmed(t *testing.T) {
	p := openURingT(t, 4, 8)
	const pairs = 24
	peers := quietPairs(t, p, pairs, In|ET)
	events := make([]Event, 64)
	for edge := 1; edge <= 3; edge++ {
		for _, b := range peers {
			write(t, b, "x")
		}
		if edge == 1 {
			awaitCompletions(t, p, 8)
			if !p.r.overflowed() {
				t.Log("the CQ did not overflow this time")
			}
		}
		seen := map[int32]bool{}
		deadline := time.Now().Add(long)
		for len(seen) < pairs && time.Now().Before(deadline) {
			n, err := p.Wait(events, time.Until(deadline))
			if err != nil {
				t.Fatalf("edge %d: Wait: %v", edge, err)
			}
			for _, e := range events[:n] {
				if _, ok := peers[e.Fd]; !ok || e.Gen != 7 || e.Ready != ReadyIn {
					t.Errorf("edge %d: bad report %+v", edge, e)
				}
				seen[e.Fd] = true
			}
		}
		if len(seen) != pairs {
			t.Fatalf("edge %d: %d of %d descriptors reported", edge, len(seen), pairs)
		}
		for fd := range peers {
			drain(t, int(fd))
		}
	}
}

// A level-triggered poll that completes with only EPOLLRDHUP, which the
// kernel adds to every mask but nobody asked for, must not be re-armed as
// it is (it would complete again at once, every Wait): Wait makes no
// system call for it until the descriptor wakes again, and then reports it
// level-triggered as before.
func TestURingUnaskedRDHupDoesNotSpin(t *testing.T) {
	p := openURingT(t, 8, 64)
	a, b := socketpair(t)
	fill(t, a)
	update(t, p, a, 3, 0, Out)
	mustNotReport(t, p, a, "send buffer full")
	if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	awaitCompletions(t, p, 1)
	for i := 0; i < 3; i++ {
		mustNotReport(t, p, a, "peer shut down writing; buffer still full")
	}
	enters := countEnters(t)
	for i := 0; i < 10; i++ {
		mustNotReport(t, p, a, "peer shut down writing; buffer still full")
	}
	if *enters != 0 {
		t.Errorf("10 Waits with nothing asked-for ready made %d io_uring_enter calls, want 0", *enters)
	}
	drain(t, b)
	want := Event{Fd: int32(a), Gen: 3, Ready: ReadyOut}
	if got := waitFor(t, p, a); got != want {
		t.Errorf("after the peer read: report = %+v, want %+v", got, want)
	}
	for i := 0; i < 3; i++ {
		if got := waitFor(t, p, a); got != want {
			t.Errorf("level-triggered again, Wait %d: report = %+v, want %+v", i+2, got, want)
		}
	}
}

// An io_uring poll holds a reference on its file: a descriptor closed
// while registered stays open in the kernel (its peer sees no EOF) until
// the registration is removed and the removal reaches the kernel, with the
// next Wait.
func TestURingHoldsClosedFileUntilRemoved(t *testing.T) {
	p := openBackend(t, "io_uring")
	a, b := rawSocketpair(t)
	closeAtEnd(t, b)
	update(t, p, a, 1, 0, In)
	mustNotReport(t, p, a, "nothing written")
	unix.Close(a)
	buf := make([]byte, 8)
	if n, err := unix.Read(b, buf); err != unix.EAGAIN {
		t.Errorf("peer read while the closed end is registered = %d, %v, want EAGAIN (the poll holds it open)", n, err)
	}
	update(t, p, a, 1, In, 0)
	mustNotReport(t, p, a, "removed")
	if n, err := unix.Read(b, buf); n != 0 || err != nil {
		t.Errorf("peer read after the removal = %d, %v, want 0, nil (EOF)", n, err)
	}
}

// A removal made while another goroutine sleeps in Wait reaches the kernel
// at once, not when that Wait ends: the closed file is released while the
// Wait goes on sleeping through the cancelled poll's completion.
func TestURingRemoveWhileWaitIsBlocked(t *testing.T) {
	p := openBackend(t, "io_uring")
	rescueEnd, rescue := idle(t, p)
	a, b := rawSocketpair(t)
	closeAtEnd(t, b)
	update(t, p, a, 1, 0, In)
	mustNotReport(t, p, a, "nothing written")
	events := make([]Event, 8)
	done := waitUntilReported(p, events)
	awaitBlockedWait(t, done, rescue)
	unix.Close(a)
	update(t, p, a, 1, In, 0)
	// The cancelled poll drops its file reference in task work that the
	// sleeping thread runs when the kernel interrupts its wait, a moment
	// after the removal returns: wait for the peer's end of file, while
	// the Wait itself goes on sleeping.
	pfd := []unix.PollFd{{Fd: int32(b), Events: unix.POLLIN}}
	if n, err := unix.Poll(pfd, int(long/time.Millisecond)); n != 1 || err != nil {
		t.Errorf("peer poll after the removal = %d, %v: the closed end is still held", n, err)
	}
	buf := make([]byte, 8)
	if n, err := unix.Read(b, buf); n != 0 || err != nil {
		t.Errorf("peer read after the removal = %d, %v, want 0, nil (EOF)", n, err)
	}
	select {
	case <-done:
		t.Fatal("Wait returned before the rescue write")
	default:
	}
	write(t, rescue, "!")
	expectOnly(t, done, events, Event{Fd: int32(rescueEnd), Gen: 0, Ready: ReadyIn}, rescue, "the rescue write")
}

// Registering, changing and removing a descriptor and the Waits that hand
// those changes to the kernel allocate nothing in steady state.
func TestURingUpdateAndWaitDoNotAllocate(t *testing.T) {
	p := openBackend(t, "io_uring")
	fd, peer := socketpair(t)
	write(t, peer, "x")
	events := make([]Event, 8)
	step := func(old, new Interest) {
		update(t, p, fd, 1, old, new)
		if _, err := p.Wait(events, 0); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		step(0, In)
		step(In, In|Out)
		step(In|Out, In|ET)
		step(In|ET, 0)
	})
	if allocs != 0 {
		t.Errorf("add, modify, switch to ET and remove: %v allocations, want 0", allocs)
	}
}

// Update and Wait after Close fail cleanly instead of touching the
// unmapped rings.
func TestURingUseAfterCloseFails(t *testing.T) {
	skipUnavailable(t, "io_uring")
	p, err := Open("io_uring")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	fd, _ := socketpair(t)
	if err := p.Update(fd, 1, 0, In); !errors.Is(err, unix.EBADF) {
		t.Errorf("Update after Close = %v, want EBADF", err)
	}
	var se *os.SyscallError
	if n, err := p.Wait(make([]Event, 8), 0); n != 0 || !errors.As(err, &se) || !errors.Is(err, unix.EBADF) {
		t.Errorf("Wait after Close = %d, %v, want 0 and an EBADF *os.SyscallError", n, err)
	}
}

// When the kernel takes no more requests for a moment (io_uring_enter
// failing EAGAIN as it submits a full SQ), Wait reports what it has
// instead of failing, and a later Wait submits the rest.
func TestURingRefusedSubmissionIsRetried(t *testing.T) {
	p := openURingT(t, 2, 64)
	const pairs = 10
	for i := 0; i < pairs; i++ {
		a, b := socketpair(t)
		write(t, b, "x")
		update(t, p, a, 1, 0, In)
	}
	saved := uringEnter
	t.Cleanup(func() { uringEnter = saved })
	uringEnter = func(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argSize uintptr) (int, error) {
		return 0, unix.EAGAIN
	}
	events := make([]Event, 64)
	if n, err := p.Wait(events, long); n != 0 || err != nil {
		t.Fatalf("Wait with submission refused = %d, %v, want 0, nil", n, err)
	}
	uringEnter = saved
	if n, err := p.Wait(events, long); n != pairs || err != nil {
		t.Errorf("Wait once submission works again = %d, %v, want %d, nil", n, err, pairs)
	}
}

// A Wait with requests to submit submits them in a short call of its own
// and sleeps only if that left nothing to reap: a loop with work never
// makes the blocking call, during which the runtime would take its P.
func TestURingSubmitsBeforeItSleeps(t *testing.T) {
	p := openURingT(t, 8, 64)
	a, b := socketpair(t)
	write(t, b, "x")
	update(t, p, a, 1, 0, In)
	saved := uringEnter
	t.Cleanup(func() { uringEnter = saved })
	var blocking, submitted int
	uringEnter = func(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argSize uintptr) (int, error) {
		if minComplete > 0 {
			blocking++
		}
		submitted += int(toSubmit)
		return saved(fd, toSubmit, minComplete, flags, arg, argSize)
	}
	events := make([]Event, 8)
	if n, err := p.Wait(events, long); n != 1 || err != nil || int(events[0].Fd) != a {
		t.Fatalf("Wait with a ready socket to register = %d, %v (%+v), want its event", n, err, events[:n])
	}
	if submitted == 0 || blocking != 0 {
		t.Errorf("Wait submitted %d requests and made %d blocking calls, want >0 and 0", submitted, blocking)
	}
	// With nothing ready once submitted, it still sleeps, for the timeout.
	update(t, p, a, 1, In, 0)
	c, _ := socketpair(t)
	update(t, p, c, 1, 0, In)
	if n, err := p.Wait(events, time.Millisecond); n != 0 || err != nil {
		t.Fatalf("Wait with nothing ready = %d, %v (%+v), want 0, nil", n, err, events[:n])
	}
	if blocking == 0 {
		t.Errorf("Wait with nothing ready made no blocking call")
	}
}

// A Close while a Wait sleeps after submitting makes that Wait fail with
// EBADF when it wakes, rather than reap a ring that is gone.
func TestURingCloseWhileWaitSleepsAfterSubmitting(t *testing.T) {
	p := openURingT(t, 8, 64)
	a, _ := socketpair(t)
	update(t, p, a, 1, 0, In) // queued: the Wait submits it, then sleeps
	done := make(chan error, 1)
	go func() {
		_, err := p.Wait(make([]Event, 8), 200*time.Millisecond)
		done <- err
	}()
	deadline := time.Now().Add(long)
	for !blockedInWait(t) {
		if time.Now().After(deadline) {
			t.Fatalf("no thread blocked in Wait's system call within %v", long)
		}
		time.Sleep(time.Millisecond)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, unix.EBADF) {
			t.Errorf("Wait across Close = %v, want EBADF", err)
		}
	case <-time.After(long):
		t.Fatal("Wait did not return after its timeout")
	}
}

// The ring is set up with IORING_SETUP_COOP_TASKRUN, and the loop is asked
// to stay on its thread (BindsThread); a kernel that refuses the flag
// (EINVAL, before 5.19) gets a ring without it, and the loop may move.
func TestURingCoopTaskrunAndItsFallback(t *testing.T) {
	skipUnavailable(t, "io_uring")
	checkFDs(t)
	realSetup := uringSetup
	t.Cleanup(func() { uringSetup = realSetup })
	for _, refuse := range []bool{false, true} {
		var flags []uint32
		uringSetup = func(n uint32, p *uringParams) (int, error) {
			flags = append(flags, p.flags)
			if refuse && p.flags&setupCoopTaskrun != 0 {
				return 0, unix.EINVAL
			}
			return realSetup(n, p)
		}
		p, err := Open("io_uring")
		if err != nil {
			t.Fatalf("refuse %v: Open: %v", refuse, err)
		}
		if flags[0]&setupCoopTaskrun == 0 {
			t.Errorf("first setup flags %#x, want IORING_SETUP_COOP_TASKRUN", flags[0])
		}
		if got := p.(ThreadBound).BindsThread(); got == refuse {
			t.Errorf("refuse %v: BindsThread = %v after setups with flags %#x", refuse, got, flags)
		}
		p.Close()
	}
}

// The record table grows by pages: a record never moves when a larger
// number is registered, and numbers in between cost no page.
func TestURingFdTableGrowsByPages(t *testing.T) {
	p := openURingT(t, 8, 16)
	a, _ := socketpair(t)
	update(t, p, a, 1, 0, In)
	first := p.fds.Get(a)
	high := 5*paged.PerPage + 3
	if err := unix.Dup3(a, high, unix.O_CLOEXEC); err != nil {
		t.Skipf("dup3 to %d: %v", high, err)
	}
	closeAtEnd(t, high)
	update(t, p, high, 1, 0, In)
	if p.fds.Get(a) != first {
		t.Fatalf("registering fd %d moved fd %d's record", high, a)
	}
	made := 0
	for _, pg := range p.fds.Pages {
		if pg != nil {
			made++
		}
	}
	if made != 2 || len(p.fds.Pages) != 6 {
		t.Fatalf("%d pages made of %d, want 2 of 6", made, len(p.fds.Pages))
	}
	if err := p.Update(1<<40, 1, 0, In); err == nil {
		t.Fatalf("Update of fd 1<<40 succeeded")
	}
}
