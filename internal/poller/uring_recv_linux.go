package poller

import (
	"golang.org/x/sys/unix"
)

// Receiving in the kernel (the Recv interest bit).
//
// A descriptor registered with In|Recv gets no POLLIN poll: a multishot
// IORING_OP_RECV with buffer selection reads into the provided buffer
// ring (pbufRing) as data arrives, and its completions queue the filled
// buffers on the descriptor's record (recvHeld, below). The descriptor is reported
// readable while its queue holds data, the end of the stream or an error
// (level-triggered, as epoll reports a socket with unread data), and Recv
// copies the data out and gives each emptied buffer back to the kernel. A
// message thus costs no read(2): one io_uring_enter per loop iteration
// carries every connection's receives.
//
// Data the kernel took from the socket is the user's and is never dropped
// while the descriptor belongs to the same owner:
//
//   - Dropping In (reading disabled, a high watermark) cancels the recv;
//     the queue is copied out of the ring into spill, so that a connection
//     that stops reading never keeps buffers every other one needs, and
//     completions that arrive before the cancellation lands go to spill
//     too. A recv is armed again only after the old one's last completion,
//     so data stays in order.
//   - A new owner (a registration under a new generation: the number was
//     closed and reused) drops what was held for the old one and bumps the
//     descriptor's receive sequence, so that the old request's late
//     completions, tagged with the old sequence, give their buffers back
//     and are otherwise ignored. When the generation changes but fstat
//     says the file is the same one (a new event on the same socket),
//     nothing is dropped.
//   - A descriptor holds about recvHoldMax bytes at most (plus what
//     arrives before the cancellation reaches the kernel, with the next
//     Wait): past that its recv is cancelled, and armed again once Recv
//     has taken the held data below it. The socket's own buffer then fills, and TCP's flow
//     control slows the peer, as it does for a reader of read(2) that
//     stops reading; a connection whose reader is slow (a rate limit, a
//     high watermark) never takes the ring's buffers from every other
//     one, nor moves megabytes into spill whenever reading stops.
//   - A stream whose data comes in large pieces is read with read(2) on a
//     POLLIN poll instead (rxPolled): a completion that fills a whole ring
//     buffer cancels the recv and arms the poll. The kernel's receive
//     splits such a piece across several buffers, a completion and a copy
//     out of the ring for each, where one read(2) into the reader's buffer
//     takes it in one call and one copy. Recv hands out what is held
//     first, and reads the socket only once nothing is held and the old
//     recv has ended, so the data stays in order. smallReads short reads
//     in a row (each under smallRead bytes and not filling the reader's
//     buffer) switch the descriptor back to the kernel's receive.
//   - ENOBUFS (every buffer is queued somewhere) ends a multishot recv:
//     the ring grows by a chunk of buffers and the recv is armed again;
//     once the ring has all it can, the descriptor waits on the starved
//     list and is re-armed when Recv gives a buffer back. A recv that
//     ends for another reason (its completion overflowed the CQ) is armed
//     again at once.
//
// user_data of a recv:
//
//	bit  63     0
//	bit  62     1: a recv
//	bits 61..32 the descriptor's receive sequence (30 bits)
//	bits 31..0  descriptor number

const (
	udRecv   = 1 << 62
	rseqMask = 1<<30 - 1

	opAsyncCancel   = 14     // IORING_OP_ASYNC_CANCEL
	opRecv          = 27     // IORING_OP_RECV
	sqeBufferSelect = 1 << 5 // IOSQE_BUFFER_SELECT
	recvMultishot   = 1 << 1 // IORING_RECV_MULTISHOT, in sqe.ioprio
	cqeFBuffer      = 1 << 0 // IORING_CQE_F_BUFFER: the upper 16 bits name the buffer
	featRegRegRing  = 1 << 13

	endEOF = 1 // recvHeld.end: the peer closed its sending side
)

// A descriptor's receive state lives in its uringFd record, so that an
// idle receiving connection costs no more than a polling one: rxf holds
// the flags below, rx the receive sequence (it tags the recv requests of
// the current owner and survives the number's later owners, so that an
// earlier owner's late completions never match). Only while something is
// held (data queued or spilled, the end of the stream) or a cancelled
// recv may still deliver some, fd has a recvHeld record from uring.rxs;
// rx then indexes it and the sequence moves into the record. A record
// that empties goes back on the free list, so the steady path (a
// completion queued, then taken by Recv) allocates nothing.
//
//	rxf bit  rxWant    In|Recv is registered
//	         rxEdge    ... with ET: reported only when something arrives
//	         rxLive    a recv with the sequence is in the kernel (until its last completion)
//	         rxStarved ended by ENOBUFS: on the starved list
//	         rxOnArm   on recvArms
//	         rxOnLog   on backlog
//	         rxHeld    rx is the index of fd's recvHeld
//	         rxFull    the recv was cancelled for holding recvHoldMax: Recv arms it again
//	         rxPolled  large pieces: read(2) on a POLLIN poll, no recv armed
//	bits 9..11         while rxPolled, the short reads in a row
//
// A record exists exactly while held() is true or a recv is live while
// reading is stopped (settle keeps that so).
const (
	rxWant = 1 << iota
	rxEdge
	rxLive
	rxStarved
	rxOnArm
	rxOnLog
	rxHeld
	rxFull
	rxPolled

	rxShortShift = 9
	rxShortMask  = 7 << rxShortShift
)

// A read(2) of less than smallRead bytes that does not fill the reader's
// buffer is short; smallReads of them in a row end rxPolled.
const (
	smallRead  = 4 << 10
	smallReads = 7
)

// recvHoldMax is how many bytes a descriptor holds before its recv is
// cancelled (a few more arrive before the cancellation lands): about a
// socket receive buffer's worth. A variable for tests.
var recvHoldMax = 64 << 10

// spillKeep bounds the spill capacity a record keeps on the free list.
const spillKeep = 64 << 10

// recvHeld is what one descriptor holds for Recv, with the receive
// sequence while it is held.
type recvHeld struct {
	q        []recvChunk // filled buffers, in order
	spill    []byte      // data copied out of the ring, before q's
	spillOff int
	queued   int    // bytes in q
	end      int32  // after the data: endEOF, or -errno; 0 while open
	rseq     uint32 // the descriptor's receive sequence, moved here from uringFd.rx
	dev, ino uint64 // the file, recorded when reading stopped with something held or live
}

// recvChunk is the unread part of one filled buffer.
type recvChunk struct {
	bid    uint16
	off, n int32
}

func recvData(fd int32, rseq uint32) uint64 {
	return udRecv | uint64(rseq&rseqMask)<<32 | uint64(uint32(fd))
}

// heldOf returns st's record, or nil.
func (p *uring) heldOf(st *uringFd) *recvHeld {
	if st.rxf&rxHeld != 0 {
		return p.rxs[st.rx]
	}
	return nil
}

// rseqOf returns st's receive sequence.
func (p *uring) rseqOf(st *uringFd) uint32 {
	if h := p.heldOf(st); h != nil {
		return h.rseq
	}
	return st.rx
}

// hold returns st's record, taking one from the free list (or making one)
// if it has none.
func (p *uring) hold(st *uringFd) *recvHeld {
	if h := p.heldOf(st); h != nil {
		return h
	}
	var i uint32
	if k := len(p.rxFree); k > 0 {
		i = p.rxFree[k-1]
		p.rxFree = p.rxFree[:k-1]
	} else {
		if len(p.rxs) == 0 {
			p.rxs = append(p.rxs, nil) // index 0 means none
		}
		i = uint32(len(p.rxs))
		p.rxs = append(p.rxs, &recvHeld{})
	}
	h := p.rxs[i]
	h.rseq = st.rx
	st.rx = i
	st.rxf |= rxHeld
	return h
}

// settle gives st's record back to the free list once it holds nothing
// and no cancelled recv can still deliver into it.
func (p *uring) settle(st *uringFd) {
	h := p.heldOf(st)
	if h == nil || h.held() || st.rxf&(rxLive|rxWant) == rxLive {
		return
	}
	p.rxFree = append(p.rxFree, st.rx)
	st.rx = h.rseq
	st.rxf &^= rxHeld
	h.q, h.queued, h.spillOff, h.end, h.dev, h.ino = h.q[:0], 0, 0, 0, 0, 0
	h.spill = h.spill[:0]
	if cap(h.spill) > spillKeep {
		h.spill = nil
	}
}

// held reports whether anything waits for Recv.
func (h *recvHeld) held() bool { return len(h.q) > 0 || h.spillOff < len(h.spill) || h.end != 0 }

// bytes is how much data waits for Recv.
func (h *recvHeld) bytes() int { return h.queued + len(h.spill) - h.spillOff }

// holds reports whether anything waits for Recv on st.
func (p *uring) holds(st *uringFd) bool {
	h := p.heldOf(st)
	return h != nil && h.held()
}

// CanRecv reports whether the kernel took the provided buffer ring.
func (p *uring) CanRecv() bool { return p.pbuf != nil }

// recvUpdate applies a registration change to fd's receiving: want is
// whether In|Recv is now registered; newOwner, whether the generation
// changed.
func (p *uring) recvUpdate(fd int32, st *uringFd, newOwner, want, edge bool) {
	if newOwner {
		st.rxf &^= rxPolled | rxShortMask // a new owner starts with the kernel's receive
	}
	if newOwner && st.rxf&(rxLive|rxHeld) != 0 {
		// A new owner, unless fstat says the file is the one whose
		// data is held.
		var dev, ino uint64
		if h := p.heldOf(st); h != nil {
			dev, ino = h.dev, h.ino
		}
		if d, i := fileID(int(fd)); d != dev || i != ino || i == 0 {
			p.dropHeld(fd, st)
		}
	}
	if !want {
		if st.rxf&rxWant == 0 {
			return
		}
		st.rxf &^= rxWant
		p.spillQueue(st)
		if st.rxf&rxLive != 0 {
			p.removes = append(p.removes, recvData(fd, p.rseqOf(st)))
		}
		if st.rxf&(rxLive|rxHeld) != 0 {
			h := p.hold(st)
			h.dev, h.ino = fileID(int(fd))
		}
		return
	}
	if h := p.heldOf(st); h != nil {
		h.dev, h.ino = 0, 0 // the same file's, or a new owner's now: no more to tell
	}
	st.rxf |= rxWant
	if st.rxf &^= rxEdge; edge {
		st.rxf |= rxEdge
	}
	if p.holds(st) {
		p.toBacklog(fd, st)
	}
	p.settle(st) // kept only for a cancelled recv while reading was stopped
	p.armRecv(fd, st)
}

// Released records the file fd is now, for a descriptor whose last event
// the base has removed while the removal waits for the next flush; see
// Releaser. Then a registration under a new generation that the same
// flush brings (an event re-made for the same socket) finds the file the
// data and the live recv belong to, and keeps them, where without it that
// would count as a new owner.
func (p *uring) Released(fd int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.r == nil || fd < 0 {
		return
	}
	if st := p.fds.Get(fd); st != nil && st.rxf&(rxLive|rxHeld) != 0 {
		h := p.hold(st)
		h.dev, h.ino = fileID(fd)
	}
	if as := p.acc.states[int32(fd)]; as != nil && (as.live || as.held()) {
		as.dev, as.ino = fileID(fd)
	}
}

// fileID identifies the file fd is now, or 0, 0 if fstat fails.
func fileID(fd int) (dev, ino uint64) {
	var s unix.Stat_t
	if unix.Fstat(fd, &s) != nil {
		return 0, 0
	}
	return uint64(s.Dev), s.Ino
}

// dropHeld forgets what was held for an owner that is gone, gives its
// buffers back, and moves to a new receive sequence so that its request's
// late completions are ignored.
func (p *uring) dropHeld(fd int32, st *uringFd) {
	if st.rxf&rxLive != 0 {
		// The old owner's recv holds its socket open until cancelled:
		// closing a number does not end the requests on its file.
		p.removes = append(p.removes, recvData(fd, p.rseqOf(st)))
	}
	if h := p.heldOf(st); h != nil {
		for _, c := range h.q {
			p.unqueue(c.bid)
		}
		if len(h.q) > 0 {
			p.returned()
		}
		h.q, h.queued, h.spill, h.spillOff, h.end = h.q[:0], 0, h.spill[:0], 0, 0
	}
	st.rxf &^= rxLive | rxStarved | rxFull // the old request, if still live, carries the old sequence
	p.settle(st)
	st.rx = (st.rx + 1) & rseqMask
}

// spillQueue copies st's queued buffers out of the ring and gives them back.
func (p *uring) spillQueue(st *uringFd) {
	h := p.heldOf(st)
	if h == nil || len(h.q) == 0 {
		return
	}
	for _, c := range h.q {
		h.keep(p.pbuf.buf(c.bid)[c.off : c.off+c.n])
		p.unqueue(c.bid)
	}
	h.q, h.queued = h.q[:0], 0
	p.returned()
}

// keep appends data to the spill, reusing it once it has been read.
func (h *recvHeld) keep(data []byte) {
	if h.spillOff == len(h.spill) {
		h.spill, h.spillOff = h.spill[:0], 0
	}
	h.spill = append(h.spill, data...)
}

// unqueue puts a buffer that was queued for a reader back on the ring;
// returned hands it to the kernel.
func (p *uring) unqueue(bid uint16) {
	p.pbuf.put(bid)
	p.pbuf.held--
}

// returned hands the buffers put back on the ring to the kernel and
// re-arms the receives that waited for one. While no receive waits and
// the loop is not asleep in the kernel, the buffers are published by the
// next flush instead, before the kernel can run a recv that needs them:
// the store that publishes them is a full barrier, which at a Recv per
// message cost 3% of a 1000-connection echo's CPU. (A recv the kernel
// runs meanwhile, on another system call's way back, and finds no buffer
// for, ends with ENOBUFS while buffers are free, and is armed again.)
func (p *uring) returned() {
	if len(p.starved) == 0 && !p.sleeping {
		p.pbuf.unpublished = true
		return
	}
	p.pbuf.publish()
	p.feedStarved()
}

// recvDue reports whether fd wants a recv armed: wanted, none live or
// queued, not starved, the stream not ended, less than recvHoldMax held.
func (p *uring) recvDue(st *uringFd) bool {
	if st.rxf&(rxWant|rxLive|rxStarved|rxPolled) != rxWant {
		return false
	}
	h := p.heldOf(st)
	return h == nil || h.end == 0 && h.bytes() < recvHoldMax
}

// armRecv queues a multishot recv for fd unless one is live or none is due.
func (p *uring) armRecv(fd int32, st *uringFd) {
	if st.rxf&rxOnArm == 0 && p.recvDue(st) {
		st.rxf |= rxOnArm
		p.recvArms = append(p.recvArms, fd)
	}
}

// toBacklog puts fd on the list of descriptors reported while data waits.
func (p *uring) toBacklog(fd int32, st *uringFd) {
	if st.rxf&rxOnLog == 0 {
		st.rxf |= rxOnLog
		p.backlog = append(p.backlog, fd)
	}
}

// feedStarved re-arms the receives ENOBUFS ended, now that a buffer is back.
func (p *uring) feedStarved() {
	for _, fd := range p.starved {
		if st := p.fds.At(int(fd)); st.rxf&rxStarved != 0 {
			st.rxf &^= rxStarved
			p.armRecv(fd, st)
		}
	}
	p.starved = p.starved[:0]
}

// flushRecvArms turns the queued receives into SQEs.
func (p *uring) flushRecvArms() error {
	for i, fd := range p.recvArms {
		st := p.fds.At(int(fd))
		st.rxf &^= rxOnArm
		if !p.recvDue(st) {
			continue
		}
		s, err := p.sqe()
		if err != nil {
			st.rxf |= rxOnArm
			p.recvArms = append(p.recvArms[:0], p.recvArms[i:]...)
			return err
		}
		st.rxf = st.rxf&^rxFull | rxLive
		*s = sqe{opcode: opRecv, flags: sqeBufferSelect, ioprio: recvMultishot, fd: fd, bufIndex: pbufGroup, userData: recvData(fd, p.rseqOf(st))}
	}
	p.recvArms = p.recvArms[:0]
	return nil
}

// completeRecv handles a recv completion; see complete.
func (p *uring) completeRecv(c *cqe, events []Event, n *int) bool {
	fd, rseq := int32(uint32(c.userData)), uint32(c.userData>>32)&rseqMask
	hasBuf := c.flags&cqeFBuffer != 0
	bid := uint16(c.flags >> 16)
	st := p.fds.Get(int(fd))
	if st == nil || p.rseqOf(st) != rseq {
		if hasBuf { // an earlier owner's: only the buffer matters
			p.pbuf.put(bid)
			p.returned()
		}
		return true
	}
	want := st.rxf&rxWant != 0
	if want && st.mark != p.epoch && *n == len(events) {
		return false
	}
	more := c.flags&cqeFMore != 0
	switch {
	case c.res > 0 && hasBuf && want:
		h := p.hold(st)
		h.q = append(h.q, recvChunk{bid: bid, n: c.res})
		h.queued += int(c.res)
		p.pbuf.held++
		switch {
		case int(c.res) == p.pbuf.size && st.rxf&rxPolled == 0:
			p.pollLarge(fd, st, c.userData, more)
		case more && st.rxf&(rxFull|rxPolled) == 0 && h.bytes() >= recvHoldMax:
			st.rxf |= rxFull // enough held: let the socket's buffer fill
			p.removes = append(p.removes, c.userData)
		}
	case c.res > 0 && hasBuf:
		p.hold(st).keep(p.pbuf.buf(bid)[:c.res])
		p.pbuf.put(bid)
		p.returned()
	case c.res == 0:
		p.hold(st).end = endEOF
	case c.res == -int32(unix.ECANCELED):
	case c.res == -int32(unix.ENOBUFS):
		// Starve only while every buffer is queued for a reader: one
		// given back before this completion was reaped would never
		// feed the starved list, and a receive that nobody wants now
		// is armed again when reading resumes.
		//
		// Out of buffers: more are made while the ring has room (the
		// recv is armed again below and the starved ones are fed).
		if !more && want && p.pbuf.held >= int(p.pbuf.count) {
			if p.pbuf.grow() {
				p.feedStarved()
			} else {
				st.rxf |= rxStarved
				p.starved = append(p.starved, fd)
			}
		}
	case c.res < 0:
		p.hold(st).end = c.res
	}
	if !more {
		// The multishot recv ended: ENOBUFS, the end of the stream, a
		// cancellation, or a completion the full CQ could not take.
		st.rxf &^= rxLive
		p.armRecv(fd, st)
	}
	if !want || !p.holds(st) {
		p.settle(st)
		return true
	}
	p.toBacklog(fd, st)
	p.report(fd, st, ReadyIn, events, n)
	return true
}

// reportBacklog reports, once per Wait, every descriptor with data still
// waiting that was not reported by a completion in this Wait, while
// events has room; it drops from the list those with nothing left.
func (p *uring) reportBacklog(events []Event, n *int) {
	keep := p.backlog[:0]
	for i, fd := range p.backlog {
		st := p.fds.At(int(fd))
		if st.rxf&rxWant == 0 || !p.holds(st) {
			st.rxf &^= rxOnLog
			continue
		}
		keep = append(keep, fd)
		if st.rxf&rxEdge != 0 || st.mark == p.epoch {
			continue
		}
		if *n == len(events) {
			keep = append(keep, p.backlog[i+1:]...)
			break
		}
		p.report(fd, st, ReadyIn, events, n)
	}
	p.backlog = keep
}

// backlogWaiting reports whether a level-triggered descriptor has data
// waiting, so that Wait must not sleep.
func (p *uring) backlogWaiting() bool {
	for _, fd := range p.backlog {
		if st := p.fds.At(int(fd)); st.rxf&(rxWant|rxEdge) == rxWant && p.holds(st) {
			return true
		}
	}
	return false
}

// Recv copies what the kernel received for fd into b; see Receiver.
func (p *uring) Recv(fd int, b []byte) (int, error) {
	p.mu.Lock()
	var st *uringFd
	if fd >= 0 && p.r != nil {
		st = p.fds.Get(fd)
	}
	if st == nil || st.rxf&(rxLive|rxHeld) == 0 {
		polled := st != nil && st.rxf&rxPolled != 0
		p.mu.Unlock()
		n, err := Read(fd, b)
		if polled && err == nil && n > 0 {
			p.polledRead(fd, n, len(b))
		}
		return n, err
	}
	n := 0
	var err error
	if h := p.heldOf(st); h != nil {
		n, err = p.take(h, b)
		p.settle(st)
		if st.rxf&rxFull != 0 {
			p.armRecv(int32(fd), st) // cancelled for holding too much, now taken
		}
	} else if len(b) > 0 {
		err = unix.EAGAIN
	}
	if len(p.recvArms) > 0 && p.sleeping {
		p.submitIfSleeping() // a re-armed receive must reach the kernel now
	}
	p.mu.Unlock()
	return n, err
}

// pollLarge moves fd to rxPolled after a completion of its recv (user
// data ud) filled a whole buffer: the recv is cancelled if it goes on,
// and a POLLIN poll reports the socket readable from now on.
func (p *uring) pollLarge(fd int32, st *uringFd, ud uint64, more bool) {
	if more && st.rxf&rxFull == 0 {
		p.removes = append(p.removes, ud)
	}
	st.rxf = st.rxf&^rxShortMask | rxPolled
	p.setPollIn(fd, st, true)
}

// polledRead counts a read(2) of n bytes into a buffer of size bytes on a
// descriptor in rxPolled, and gives the descriptor back to the kernel's
// receive after smallReads short ones in a row.
func (p *uring) polledRead(fd, n, size int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.fds.Get(fd)
	if p.r == nil || st == nil {
		return
	}
	if st.rxf&rxPolled == 0 {
		return
	}
	if n >= smallRead || n == size {
		st.rxf &^= rxShortMask
		return
	}
	if short := (st.rxf&rxShortMask)>>rxShortShift + 1; short < smallReads {
		st.rxf = st.rxf&^rxShortMask | short<<rxShortShift
		return
	}
	st.rxf &^= rxPolled | rxShortMask
	p.setPollIn(int32(fd), st, false)
	p.armRecv(int32(fd), st)
	p.submitIfSleeping()
}

// setPollIn adds POLLIN to fd's poll, or takes it away, re-arming the
// poll under a new sequence.
func (p *uring) setPollIn(fd int32, st *uringFd, on bool) {
	mask := st.mask &^ uint16(uringMask(In))
	if on {
		mask |= uint16(uringMask(In))
	}
	p.cancel(fd, st)
	st.seq = (st.seq + 1) & seqMask
	st.mask = mask
	switch {
	case mask == 0:
		st.mode = modeOff
		return
	case st.rxf&rxEdge != 0:
		st.mode = modeEdge
	case st.mode != modeEdge:
		st.mode = modeLevel
	}
	p.arm(fd, st)
}

// take is Recv's copy out of h: the spill, then the queued buffers, each
// given back to the kernel once emptied; then the end, or EAGAIN.
func (p *uring) take(h *recvHeld, b []byte) (int, error) {
	n := 0
	if h.spillOff < len(h.spill) {
		k := copy(b, h.spill[h.spillOff:])
		h.spillOff += k
		n += k
	}
	gave := false
	for n < len(b) && len(h.q) > 0 {
		c := &h.q[0]
		k := copy(b[n:], p.pbuf.buf(c.bid)[c.off:c.off+c.n])
		n += k
		c.off += int32(k)
		c.n -= int32(k)
		h.queued -= k
		if c.n == 0 {
			p.unqueue(c.bid)
			gave = true
			h.q = h.q[:copy(h.q, h.q[1:])]
		}
	}
	if gave {
		p.returned()
	}
	switch {
	case n > 0 || len(b) == 0:
		return n, nil
	case h.end == endEOF:
		return 0, nil
	case h.end < 0:
		return 0, unix.Errno(-h.end)
	}
	return 0, unix.EAGAIN
}

// Read is read(2), retried on EINTR, with n 0 on an error.
func Read(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Read(fd, b)
		if err != unix.EINTR {
			if n < 0 {
				n = 0
			}
			return n, err
		}
	}
}
