package poller

import (
	"errors"
	"math"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/internal/paged"
)

// uring is the io_uring readiness backend: IORING_OP_POLL_ADD requests in
// place of epoll registrations, and one io_uring_enter per Wait that both
// submits every registration change queued since the last Wait and sleeps
// for completions, with the timeout passed in the same call
// (IORING_ENTER_EXT_ARG).
//
// # Level and edge
//
// A multishot poll (IORING_POLL_ADD_MULTI) posts one completion each time
// the file wakes its waiters with a matching condition, and none while a
// condition merely persists: that is edge-triggered readiness, and ET
// registrations use it. Level-triggered ones, the default, use a one-shot
// poll that Wait re-arms after reporting it: the re-armed poll is submitted
// with the next Wait and completes at once, within that same call, if the
// condition still holds, so every Wait reports a ready descriptor again
// until it is consumed, as epoll does.
//
// The kernel adds EPOLLRDHUP (with ERR and HUP) to every poll's mask.
// Reports are filtered back to what was asked; a one-shot poll that
// completes with nothing asked-for (a peer that shut down its writing half
// while only Out is watched and the send buffer is full) would complete
// again at every re-arm, so that registration waits on a multishot poll
// instead until something asked-for happens, then returns to one-shot.
//
// # Registrations and stale completions
//
// The backend keeps a table by descriptor number: the generation the base
// gave, the mask, the mode, and a sequence number that changes with every
// Update. A request's user_data carries the descriptor and that sequence,
// never a pointer:
//
//	bit  63     1 = the completion of a POLL_REMOVE itself, ignored
//	            (with bit 62: a send, see uring_send_linux.go)
//	bit  62     0 (1: a recv, see uring_recv_linux.go)
//	bit  61     0 (1: an accept, see uring_accept_linux.go)
//	bits 60..32 sequence of the registration (29 bits, per descriptor)
//	bits 31..0  descriptor number
//
// A completion whose sequence is not the descriptor's current one belongs
// to a registration that was removed or changed (possibly for an earlier
// owner of a reused number) and is dropped. Every change cancels the old
// request (POLL_REMOVE by user_data) and adds a new one; an io_uring poll
// holds a reference on its file, so a descriptor closed while still
// registered stays open in the kernel until its registration is removed.
//
// Update itself makes no system call: it edits the table and queues the
// cancellations and additions, which the next Wait turns into SQEs and
// submits (an SQ that fills up is submitted on the spot, and its filling
// continues).
//
// # Concurrency
//
// Concurrent reports true. The kernel reads SQEs only during
// io_uring_enter, so a change made while another goroutine sleeps in Wait
// would sit unseen in the SQ; instead an Update that finds a Wait asleep
// submits its own entries with a non-blocking io_uring_enter (any thread
// may submit to a ring; the kernel serialises submitters), exactly one
// system call, as epoll_ctl is, and no wake-up of the loop. A mutex guards
// the table and the SQ side: Wait holds it except while it sleeps in the
// kernel, so the loop's own path pays two uncontended lock pairs per Wait
// and nothing per Update beyond the lock.
//
// # Overflow and interruptions
//
// The ring is set up with IORING_FEAT_NODROP: when the CQ is full the
// kernel keeps completions in an overflow list and sets
// IORING_SQ_CQ_OVERFLOW; Wait then enters with GETEVENTS to move them into
// the CQ and reaps on, while the caller's events slice has room. A
// multishot poll whose completion overflowed ends (no IORING_CQE_F_MORE)
// and is re-armed. EINTR from io_uring_enter is an interrupted, empty wait;
// ETIME is the timeout.
type uring struct {
	mu       sync.Mutex
	r        *ring
	fds      paged.Table[uringFd] // records by descriptor number
	removes  []uint64             // user_data of requests to cancel at the next flush
	arms     []int32              // descriptors whose request is to be (re)added at the next flush
	sleeping bool                 // a Wait is in io_uring_enter without mu
	epoch    uint32               // counts reaps, so a descriptor is reported once per Wait
	skipCQE  uint8                // IOSQE_CQE_SKIP_SUCCESS where the kernel has it, else 0

	// Receiving in the kernel (uring_recv_linux.go); pbuf is nil when
	// the kernel cannot, and the Recv bit is then ignored.
	pbuf     *pbufRing
	rxs      []*recvHeld // by uringFd.rx while rxHeld is set; rxs[0] is unused
	rxFree   []uint32    // indexes in rxs of records not in use
	recvArms []int32     // descriptors whose recv is to be added at the next flush
	backlog  []int32     // descriptors that may hold received data
	starved  []int32     // descriptors whose recv ENOBUFS ended

	// Sending in the kernel (uring_send_linux.go); canSend is false when
	// the kernel lacks the opcodes, and the Send bit is then ignored.
	canSend  bool
	txi      paged.Table[uint32] // by descriptor number: txOn, and 1 + the index in txs of its send (0: none)
	txs      []*sendState        // every sendState made, by index
	txFree   []uint32            // indexes in txs of those free for reuse
	sendArms []*sendState        // sends to be added at the next flush
	orphans  []*sendState        // sends left to finish by their owner, kept until their completion
	sseq     uint32              // the last send sequence given

	acc acceptTable // accepting in the kernel (uring_accept_linux.go)

	ts  kernelTimespec // Wait's timeout and its argument block: fields, not
	arg getEventsArg   // locals, so that they do not escape per call
}

// uringFd is the backend's record of one descriptor. It is 24 bytes, one
// per descriptor number up to the largest in use, which every idle
// connection pays for: hence the narrow fields.
type uringFd struct {
	seq  uint32 // sequence of the current registration, 29 bits
	gen  uint32 // the base's generation, reported back
	mark uint32 // the epoch of the last reap that reported fd ...
	at   uint16 // ... and the index of its report in that Wait's events
	mask uint16 // poll events asked for: POLLIN, POLLOUT, POLLRDHUP
	mode uint8  // modeOff, modeLevel, modeEdge or modeParked
	pf   uint8  // pfArmed, pfOnArm
	rxf  uint16 // receiving in the kernel: rxWant, rxLive, ... (uring_recv_linux.go)
	rx   uint32 // the receive sequence, or with rxHeld the index of fd's recvHeld in uring.rxs
}

// uringFd.pf bits.
const (
	pfArmed = 1 << iota // a poll with seq is in the kernel or in the SQ
	pfOnArm             // fd is on the arms list
)

// Registration modes.
const (
	modeOff    = iota // not registered
	modeLevel         // level-triggered: one-shot poll, re-armed after each report
	modeEdge          // edge-triggered: multishot poll
	modeParked        // level-triggered, waiting on a multishot poll for an asked-for condition
)

const (
	maxReports = 1<<16 - 1 // reports one Wait makes at most
	udRemove   = 1 << 63   // user_data of a POLL_REMOVE's own completion
	seqMask    = 1<<29 - 1
	cqeSkipOK  = 1 << 6 // IOSQE_CQE_SKIP_SUCCESS
	featSkip   = 1 << 11
)

// Default ring sizes: the SQ holds the changes of one iteration (more are
// submitted in batches), the CQ the completions of one Wait; overflow
// beyond it is kept by the kernel, not lost.
var (
	uringSQEntries uint32 = 256
	uringCQEntries uint32 = 4096
)

func openURing() (Poller, error) {
	p, err := openURingSized(uringSQEntries, uringCQEntries)
	if err != nil {
		return nil, err // not a nil *uring in a non-nil Poller
	}
	return p, nil
}

func openURingSized(sq, cq uint32) (*uring, error) {
	r, features, err := newRing(sq, cq)
	if err != nil {
		return nil, err
	}
	p := &uring{r: r}
	if features&featSkip != 0 {
		p.skipCQE = cqeSkipOK
	}
	p.canSend = r.supports(opSend) && r.supports(opSendmsg) && r.supports(opAsyncCancel)
	if features&featRegRegRing != 0 && r.supports(opRecv) && r.supports(opAsyncCancel) {
		// Multishot recv came in Linux 6.0; REG_REG_RING (6.3) is the
		// first feature bit that says the kernel is at least that new.
		// Without a buffer ring the backend only reports readiness.
		p.pbuf, _ = newPbufRing(r.fd, pbufCount, pbufMax, pbufSize)
	}
	// Multishot accept came in Linux 5.19: the same feature bit vouches.
	p.acc.can = features&featRegRegRing != 0 && r.supports(opAccept) && r.supports(opAsyncCancel)
	return p, nil
}

func (p *uring) Name() string { return "io_uring" }

func (p *uring) Features() Feature {
	return FeatureET | FeatureO1 | FeatureFDs | FeatureEarlyClose
}

// Concurrent: a request's completions are posted through the thread that
// submitted it, and with IORING_SETUP_COOP_TASKRUN only when that thread
// next enters the kernel. A change submitted by another goroutine's
// thread while the loop sleeps would tie every later report of that
// descriptor to a thread busy elsewhere, so then the base wakes the loop
// to submit it instead (as for poll). Without the flag, any thread may.
func (p *uring) Concurrent() bool { return !p.r.coop }

// BindsThread: the ring is set up with IORING_SETUP_COOP_TASKRUN (the
// kernel does not interrupt a running thread to post a completion, which
// halves the time a BufferEvent echo takes per message through the
// kernel's receive here), so it posts a
// completion through the thread that submitted its request when that
// thread next enters the kernel. The loop submits and sleeps on one
// thread, where that is its next io_uring_enter.
func (p *uring) BindsThread() bool { return p.r.coop }

// uringMask is the poll mask of i; io_uring takes poll(2)'s bits.
func uringMask(i Interest) uint32 { return uint32(uint16(pollMask(i))) }

func userData(fd int32, seq uint32) uint64 { return uint64(seq&seqMask)<<32 | uint64(uint32(fd)) }

func (p *uring) Update(fd int, gen uint32, old, new Interest) error {
	if fd < 0 {
		return os.NewSyscallError("io_uring", unix.EBADF)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.r == nil {
		return os.NewSyscallError("io_uring", unix.EBADF)
	}
	if fd > math.MaxInt32 {
		return os.NewSyscallError("io_uring", unix.EBADF)
	}
	if p.fds.Get(fd) == nil {
		if new == 0 {
			return nil
		}
		// The table grows to the largest number registered: make sure
		// it is an open descriptor first, as the poll backend does.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return os.NewSyscallError("io_uring", err)
		}
	}
	st := p.fds.Make(fd)
	p.cancel(int32(fd), st)
	st.seq = (st.seq + 1) & seqMask
	oldGen := st.gen
	st.gen = gen
	// With Recv, In is served by the kernel's receive, and the poll
	// watches only for the rest.
	recv := p.pbuf != nil && new&(In|Recv) == In|Recv
	if recv || st.rxf != 0 {
		p.recvUpdate(int32(fd), st, oldGen != gen, recv, new&ET != 0)
	}
	if recv && st.rxf&rxPolled == 0 {
		new &^= In
	}
	send := p.canSend && new&(Out|Send) == Out|Send
	if send || p.sendsOn(fd) {
		p.sendUpdate(int32(fd), gen, send)
	}
	if send {
		new &^= Out
	}
	new = p.acceptUpdate(int32(fd), gen, new)
	if new&(In|Out|RDHup) == 0 {
		st.mode = modeOff
		return p.submitIfSleeping()
	}
	st.mask = uint16(uringMask(new))
	st.mode = modeLevel
	if new&ET != 0 {
		st.mode = modeEdge
	}
	p.arm(int32(fd), st)
	return p.submitIfSleeping()
}

// cancel queues the removal of fd's request, if it has one.
func (p *uring) cancel(fd int32, st *uringFd) {
	if st.pf&pfArmed != 0 {
		p.removes = append(p.removes, userData(fd, st.seq))
		st.pf &^= pfArmed
	}
}

// arm queues fd's request to be added at the next flush.
func (p *uring) arm(fd int32, st *uringFd) {
	if st.pf&pfOnArm == 0 {
		st.pf |= pfOnArm
		p.arms = append(p.arms, fd)
	}
}

// submitIfSleeping hands queued changes to the kernel at once when a Wait
// sleeps in io_uring_enter, which would not look at the SQ again before it
// returns.
func (p *uring) submitIfSleeping() error {
	if !p.sleeping {
		return nil
	}
	if err := p.flush(); err != nil {
		return err
	}
	return p.submit()
}

// flush turns the queued cancellations and additions into SQEs, submitting
// whenever the SQ fills.
func (p *uring) flush() error {
	if p.pbuf != nil && p.pbuf.unpublished {
		p.pbuf.publish()
	}
	for i, ud := range p.removes {
		s, err := p.sqe()
		if err != nil {
			p.removes = append(p.removes[:0], p.removes[i:]...)
			return err
		}
		op := uint8(opPollRemove)
		if ud&(udRecv|udAccept) != 0 {
			op = opAsyncCancel
		}
		*s = sqe{opcode: op, flags: p.skipCQE, fd: -1, addr: ud, userData: udRemove}
	}
	p.removes = p.removes[:0]
	if err := p.flushRecvArms(); err != nil {
		return err
	}
	if err := p.flushSendArms(); err != nil {
		return err
	}
	if err := p.flushAcceptArms(); err != nil {
		return err
	}
	for i, fd := range p.arms {
		st := p.fds.At(int(fd))
		if st.mode == modeOff || st.pf&pfArmed != 0 {
			st.pf &^= pfOnArm
			continue
		}
		s, err := p.sqe()
		if err != nil {
			p.arms = append(p.arms[:0], p.arms[i:]...)
			return err
		}
		st.pf = st.pf&^pfOnArm | pfArmed
		var flags uint32
		if st.mode != modeLevel {
			flags = pollAddMulti
		}
		*s = sqe{opcode: opPollAdd, fd: fd, opFlags: uint32(st.mask), len: flags, userData: userData(fd, st.seq)}
	}
	p.arms = p.arms[:0]
	return nil
}

// sqe returns a free SQE, submitting the full SQ to make room.
func (p *uring) sqe() (*sqe, error) {
	if s := p.r.next(); s != nil {
		return s, nil
	}
	if err := p.submit(); err != nil {
		return nil, err
	}
	if s := p.r.next(); s != nil {
		return s, nil
	}
	return nil, os.NewSyscallError("io_uring_enter", unix.EBUSY)
}

// submit hands every published SQE to the kernel without waiting.
func (p *uring) submit() error {
	for {
		n := p.r.publish()
		if n == 0 {
			return nil
		}
		_, err := uringEnter(p.r.fd, n, 0, 0, nil, 0)
		switch err {
		case nil:
			if p.r.queued() == n {
				// Nothing consumed (the kernel could not take more
				// requests now): leave the rest to the next Wait.
				return os.NewSyscallError("io_uring_enter", unix.EAGAIN)
			}
		case unix.EINTR:
		default:
			return os.NewSyscallError("io_uring_enter", err)
		}
	}
}

func (p *uring) Wait(events []Event, timeout time.Duration) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.r == nil {
		return 0, os.NewSyscallError("io_uring_enter", unix.EBADF)
	}
	if len(events) == 0 {
		return 0, os.NewSyscallError("io_uring_enter", unix.EINVAL)
	}
	for {
		timeout := timeout
		if p.backlogWaiting() || p.acceptWaiting() {
			timeout = 0 // received data waits to be reported: do not sleep
		}
		if err := p.flush(); err != nil {
			if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EBUSY) {
				return 0, err
			}
			// The kernel takes no more requests for now (it is short
			// of memory, or wants completions reaped first): report
			// what is there; the next Wait submits the rest.
			return p.reap(events), nil
		}
		toSubmit := p.r.publish()
		var err error
		switch {
		case timeout == 0:
			if over := p.r.overflowed(); toSubmit > 0 || over {
				var flags uint32
				if over {
					flags = enterGetEvents // moves overflowed completions to the CQ
				}
				_, err = uringEnter(p.r.fd, toSubmit, 0, flags, nil, 0)
			}
		case p.r.cqReady() > 0:
			// Completions are waiting: reap them instead of sleeping
			// (submitting what is queued on the way).
			if toSubmit > 0 {
				_, err = uringEnter(p.r.fd, toSubmit, 0, 0, nil, 0)
			}
		default:
			if toSubmit > 0 {
				// Submit first in a call of its own, and sleep only
				// if that produced nothing to reap. The sends and
				// receives run the protocol stack inside the call,
				// long enough (a hundred sends take 100 µs) for the
				// runtime to take the P from a thread blocked in a
				// system call and to make it win it back: made as a
				// short raw call, the submission keeps its P, and a
				// loop with work never sleeps in the kernel at all.
				if _, err = uringEnter(p.r.fd, toSubmit, 0, 0, nil, 0); err != nil || p.r.cqReady() > 0 {
					break
				}
			}
			err = p.sleep(timeout)
			if p.r == nil {
				return 0, os.NewSyscallError("io_uring_enter", unix.EBADF)
			}
		}
		switch err {
		case nil, unix.ETIME, unix.EINTR, unix.EBUSY:
			// EBUSY: the kernel wants the CQ (or its overflow) reaped
			// before it takes more; reaping does that.
		default:
			return 0, os.NewSyscallError("io_uring_enter", err)
		}
		n := p.reap(events)
		if n > 0 || timeout >= 0 || err == unix.EINTR {
			return n, nil
		}
		// Waiting forever, woken by nothing to report (completions of
		// cancelled requests): wait again.
	}
}

// sleep waits for one completion or timeout, without mu held so that
// Update can run meanwhile.
func (p *uring) sleep(timeout time.Duration) error {
	flags := uint32(enterGetEvents)
	var arg unsafe.Pointer
	var argSize uintptr
	if timeout > 0 {
		p.ts = kernelTimespec{sec: int64(timeout / time.Second), nsec: int64(timeout % time.Second)}
		p.arg = getEventsArg{ts: uint64(uintptr(unsafe.Pointer(&p.ts)))}
		flags |= enterExtArg
		arg, argSize = unsafe.Pointer(&p.arg), unsafe.Sizeof(p.arg)
	}
	fd := p.r.fd
	p.sleeping = true
	p.mu.Unlock()
	_, err := uringEnter(fd, 0, 1, flags, arg, argSize)
	p.mu.Lock()
	p.sleeping = false
	return err
}

// reap turns completions into reports, at most len(events), one per
// descriptor (later completions for a descriptor already reported merge
// into its report), and moves overflowed completions into the CQ while
// there is room; then it reports the descriptors whose received data or
// accepted connections still wait.
func (p *uring) reap(events []Event) int {
	if len(events) > maxReports {
		events = events[:maxReports] // uringFd.at is 16 bits
	}
	n := p.reapCQ(events)
	if len(p.backlog) > 0 {
		p.reportBacklog(events, &n)
	}
	if len(p.acc.ready) > 0 {
		p.reportAccepts(events, &n)
	}
	return n
}

// reapCQ is reap's part that consumes the CQ.
func (p *uring) reapCQ(events []Event) int {
	if p.epoch++; p.epoch == 0 {
		p.fds.Each(func(_ int, st *uringFd) { st.mark = 0 })
		p.epoch = 1
	}
	r := p.r
	n := 0
	for {
		head, tail := r.cqBounds()
		for ; head != tail; head++ {
			c := &r.cqes[head&r.cqMask]
			if !p.complete(c, events, &n) {
				r.release(head)
				return n
			}
		}
		r.release(head)
		if n == len(events) || !r.overflowed() {
			return n
		}
		// Completions wait in the kernel's overflow list: an enter
		// with GETEVENTS and nothing to wait for moves them to the CQ.
		if _, err := uringEnter(r.fd, 0, 0, enterGetEvents, nil, 0); err != nil && err != unix.EINTR && err != unix.EBUSY {
			return n
		}
	}
}

// complete handles one completion. It returns false, leaving the
// completion in the CQ, when it needs a new report and events is full.
func (p *uring) complete(c *cqe, events []Event, n *int) bool {
	if c.userData&udSend == udSend {
		return p.completeSend(c, events, n)
	}
	if c.userData&udRemove != 0 {
		return true
	}
	if c.userData&udRecv != 0 {
		return p.completeRecv(c, events, n)
	}
	if c.userData&udAccept != 0 {
		return p.completeAccept(c, events, n)
	}
	fd, seq := int32(uint32(c.userData)), uint32(c.userData>>32)
	st := p.fds.Get(int(fd))
	if st == nil || st.mode == modeOff || st.seq != seq {
		return true // a registration removed or replaced since
	}
	var ready Ready
	switch {
	case c.res == -int32(unix.ECANCELED):
		// Cancelled by the kernel, not by us (ours carry an old
		// sequence): the task that submitted it exited. Add it again.
	case c.res < 0:
		// The descriptor was closed before the poll was submitted
		// (EBADF), or the kernel refused it: an error condition, as
		// poll(2) reports POLLNVAL.
		ready = ReadyErr
	default:
		ready = uringReady(uint32(c.res), uint32(st.mask))
	}
	if ready != 0 && st.mark != p.epoch && *n == len(events) {
		return false
	}
	more := c.flags&cqeFMore != 0
	if !more {
		st.pf &^= pfArmed
	}
	switch {
	case ready == 0 && st.mode == modeLevel && c.res >= 0:
		// Only conditions nobody asked for (EPOLLRDHUP): re-arming a
		// one-shot poll would complete again at once. Wait on a
		// multishot poll for the next wake-up instead.
		st.mode = modeParked
	case ready != 0 && st.mode == modeParked:
		// Back to level-triggered: cancel the multishot poll, re-add
		// a one-shot one, which reports again if the level holds.
		p.cancel(fd, st)
		st.seq = (st.seq + 1) & seqMask
		st.mode = modeLevel
	}
	if st.pf&pfArmed == 0 {
		p.arm(fd, st)
	}
	if ready != 0 {
		p.report(fd, st, ready, events, n)
	}
	return true
}

// report adds ready to fd's report in this Wait, making the report if it
// is the first; events has room for it (the caller checked).
func (p *uring) report(fd int32, st *uringFd, ready Ready, events []Event, n *int) {
	if st.mark == p.epoch {
		events[st.at].Ready |= ready
		return
	}
	st.mark, st.at = p.epoch, uint16(*n)
	events[*n] = Event{Fd: fd, Gen: st.gen, Ready: ready}
	*n++
}

// uringReady translates a poll result, keeping only what mask asked for
// plus the conditions always reported.
func uringReady(res, mask uint32) Ready {
	return pollReady(res & (mask | unix.POLLHUP | unix.POLLERR | unix.POLLNVAL))
}

// Close closes the ring. The kernel cancels every request, which releases
// the files they held.
func (p *uring) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.r == nil {
		return nil
	}
	p.closeAccepts()
	err := p.r.close()
	if p.pbuf != nil {
		p.pbuf.unmap() // no request can write into it once the ring is closed
	}
	p.r, p.fds, p.removes, p.arms, p.pbuf = nil, paged.Table[uringFd]{}, nil, nil, nil
	p.recvArms, p.backlog, p.starved, p.rxs, p.rxFree = nil, nil, nil, nil, nil
	p.txi, p.txs, p.txFree, p.sendArms, p.orphans = paged.Table[uint32]{}, nil, nil, nil, nil // the kernel reads no send's bytes any more
	return err
}
