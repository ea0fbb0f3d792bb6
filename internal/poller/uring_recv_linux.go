package poller

import (
	"golang.org/x/sys/unix"
)

// Receiving in the kernel (the Recv interest bit).
//
// A descriptor registered with In|Recv gets no POLLIN poll: a multishot
// IORING_OP_RECV with buffer selection reads into the provided buffer
// ring (pbufRing) as data arrives, and its completions queue the filled
// buffers on the descriptor's recvState. The descriptor is reported
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
//   - ENOBUFS (every buffer is queued somewhere) ends a multishot recv:
//     the descriptor waits on the starved list and is re-armed when Recv
//     gives a buffer back.
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

	endEOF = 1 // recvState.end: the peer closed its sending side
)

// recvState is what the backend holds for one descriptor that receives in
// the kernel. It is made on first use and kept for the number's later
// owners, so that a busy server allocates it once per descriptor number.
type recvState struct {
	q        []recvChunk // filled buffers, in order
	spill    []byte      // data copied out of the ring, before q's
	spillOff int
	end      int32  // after the data: endEOF, or -errno; 0 while open
	rseq     uint32 // receive sequence: tags the recv requests of this owner
	gen      uint32 // the base's generation of the owner
	dev, ino uint64 // the file, recorded when reading stopped with something held
	want     bool   // In|Recv is registered
	edge     bool   // ... with ET: reported only when something arrives
	live     bool   // a recv with rseq is in the kernel (until its last completion)
	starved  bool   // ended by ENOBUFS: on the starved list
	onArm    bool   // on recvArms
	onLog    bool   // on backlog
}

// recvChunk is the unread part of one filled buffer.
type recvChunk struct {
	bid    uint16
	off, n int32
}

func recvData(fd int32, rseq uint32) uint64 {
	return udRecv | uint64(rseq&rseqMask)<<32 | uint64(uint32(fd))
}

// rxOf returns fd's recvState, or nil; fd is in the table.
func (p *uring) rxOf(fd int32) *recvState {
	if i := p.fds[fd].rxi; i != 0 {
		return p.rxs[i]
	}
	return nil
}

// held reports whether anything waits for Recv.
func (rx *recvState) held() bool { return len(rx.q) > 0 || rx.spillOff < len(rx.spill) || rx.end != 0 }

// CanRecv reports whether the kernel took the provided buffer ring.
func (p *uring) CanRecv() bool { return p.pbuf != nil }

// recvUpdate applies a registration change to fd's receiving: want is
// whether In|Recv is now registered, under gen.
func (p *uring) recvUpdate(fd int32, st *uringFd, gen uint32, want, edge bool) {
	rx := p.rxOf(fd)
	if rx != nil && rx.gen != gen {
		// A new owner, unless fstat says the file is the one whose
		// data is held.
		if rx.held() || rx.live {
			if dev, ino := fileID(int(fd)); dev != rx.dev || ino != rx.ino || ino == 0 {
				p.dropHeld(rx)
			}
		}
		rx.gen = gen
	}
	if !want {
		if rx == nil || !rx.want {
			return
		}
		rx.want = false
		p.spillQueue(rx)
		if rx.live {
			p.removes = append(p.removes, recvData(fd, rx.rseq))
		}
		if rx.held() || rx.live {
			rx.dev, rx.ino = fileID(int(fd))
		}
		return
	}
	if rx == nil {
		rx = &recvState{gen: gen}
		if len(p.rxs) == 0 {
			p.rxs = append(p.rxs, nil) // index 0 means none
		}
		st.rxi = uint32(len(p.rxs))
		p.rxs = append(p.rxs, rx)
	}
	rx.want, rx.edge = true, edge
	if rx.held() {
		p.toBacklog(fd, rx)
	}
	p.armRecv(fd, rx)
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
func (p *uring) dropHeld(rx *recvState) {
	for _, c := range rx.q {
		p.unqueue(c.bid)
	}
	if len(rx.q) > 0 {
		p.returned()
	}
	rx.q, rx.spill, rx.spillOff, rx.end = rx.q[:0], rx.spill[:0], 0, 0
	rx.rseq = (rx.rseq + 1) & rseqMask
	rx.live, rx.starved = false, false // the old request, if still live, carries the old sequence
}

// spillQueue copies the queued buffers out of the ring and gives them back.
func (p *uring) spillQueue(rx *recvState) {
	if len(rx.q) == 0 {
		return
	}
	for _, c := range rx.q {
		rx.keep(p.pbuf.buf(c.bid)[c.off : c.off+c.n])
		p.unqueue(c.bid)
	}
	rx.q = rx.q[:0]
	p.returned()
}

// keep appends data to the spill, reusing it once it has been read.
func (rx *recvState) keep(data []byte) {
	if rx.spillOff == len(rx.spill) {
		rx.spill, rx.spillOff = rx.spill[:0], 0
	}
	rx.spill = append(rx.spill, data...)
}

// unqueue puts a buffer that was queued for a reader back on the ring;
// returned hands it to the kernel.
func (p *uring) unqueue(bid uint16) {
	p.pbuf.put(bid)
	p.pbuf.held--
}

// returned publishes the buffers put back on the ring and re-arms the
// receives that waited for one.
func (p *uring) returned() {
	p.pbuf.publish()
	p.feedStarved()
}

// armRecv queues a multishot recv for fd unless one is live or none is due.
func (p *uring) armRecv(fd int32, rx *recvState) {
	if rx.want && !rx.live && !rx.starved && rx.end == 0 && !rx.onArm {
		rx.onArm = true
		p.recvArms = append(p.recvArms, fd)
	}
}

// toBacklog puts fd on the list of descriptors reported while data waits.
func (p *uring) toBacklog(fd int32, rx *recvState) {
	if !rx.onLog {
		rx.onLog = true
		p.backlog = append(p.backlog, fd)
	}
}

// feedStarved re-arms the receives ENOBUFS ended, now that a buffer is back.
func (p *uring) feedStarved() {
	for _, fd := range p.starved {
		if rx := p.rxOf(fd); rx != nil && rx.starved {
			rx.starved = false
			p.armRecv(fd, rx)
		}
	}
	p.starved = p.starved[:0]
}

// flushRecvArms turns the queued receives into SQEs.
func (p *uring) flushRecvArms() error {
	for i, fd := range p.recvArms {
		rx := p.rxOf(fd)
		rx.onArm = false
		if !rx.want || rx.live || rx.starved || rx.end != 0 {
			continue
		}
		s, err := p.sqe()
		if err != nil {
			rx.onArm = true
			p.recvArms = append(p.recvArms[:0], p.recvArms[i:]...)
			return err
		}
		rx.live = true
		*s = sqe{opcode: opRecv, flags: sqeBufferSelect, ioprio: recvMultishot, fd: fd, bufIndex: pbufGroup, userData: recvData(fd, rx.rseq)}
	}
	p.recvArms = p.recvArms[:0]
	return nil
}

// completeRecv handles a recv completion; see complete.
func (p *uring) completeRecv(c *cqe, events []Event, n *int) bool {
	fd, rseq := int32(uint32(c.userData)), uint32(c.userData>>32)&rseqMask
	hasBuf := c.flags&cqeFBuffer != 0
	bid := uint16(c.flags >> 16)
	var rx *recvState
	if int(fd) < len(p.fds) {
		rx = p.rxOf(fd)
	}
	if rx == nil || rx.rseq != rseq {
		if hasBuf { // an earlier owner's: only the buffer matters
			p.pbuf.put(bid)
			p.returned()
		}
		return true
	}
	st := &p.fds[fd]
	if rx.want && st.mark != p.epoch && *n == len(events) {
		return false
	}
	more := c.flags&cqeFMore != 0
	switch {
	case c.res > 0 && hasBuf && rx.want:
		rx.q = append(rx.q, recvChunk{bid: bid, n: c.res})
		p.pbuf.held++
	case c.res > 0 && hasBuf:
		rx.keep(p.pbuf.buf(bid)[:c.res])
		p.pbuf.put(bid)
		p.returned()
	case c.res == 0:
		rx.end = endEOF
	case c.res == -int32(unix.ECANCELED):
	case c.res == -int32(unix.ENOBUFS):
		// Starve only while every buffer is queued for a reader: one
		// given back before this completion was reaped would never
		// feed the starved list, and a receive that nobody wants now
		// is armed again when reading resumes.
		if !more && rx.want && p.pbuf.held >= int(p.pbuf.entries) {
			rx.starved = true
			p.starved = append(p.starved, fd)
		}
	case c.res < 0:
		rx.end = c.res
	}
	if !more {
		rx.live = false
		p.armRecv(fd, rx)
	}
	if !rx.want || !rx.held() {
		return true
	}
	p.toBacklog(fd, rx)
	p.report(fd, st, ReadyIn, events, n)
	return true
}

// reportBacklog reports, once per Wait, every descriptor with data still
// waiting that was not reported by a completion in this Wait, while
// events has room; it drops from the list those with nothing left.
func (p *uring) reportBacklog(events []Event, n *int) {
	keep := p.backlog[:0]
	for i, fd := range p.backlog {
		st := &p.fds[fd]
		rx := p.rxOf(fd)
		if rx == nil || !rx.want || !rx.held() {
			if rx != nil {
				rx.onLog = false
			}
			continue
		}
		keep = append(keep, fd)
		if rx.edge || st.mark == p.epoch {
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
		if rx := p.rxOf(fd); rx != nil && rx.want && !rx.edge && rx.held() {
			return true
		}
	}
	return false
}

// Recv copies what the kernel received for fd into b; see Receiver.
func (p *uring) Recv(fd int, b []byte) (int, error) {
	p.mu.Lock()
	var rx *recvState
	if fd >= 0 && fd < len(p.fds) && p.r != nil {
		rx = p.rxOf(int32(fd))
	}
	if rx == nil || !rx.live && !rx.held() {
		p.mu.Unlock()
		return Read(fd, b)
	}
	n := 0
	if rx.spillOff < len(rx.spill) {
		k := copy(b, rx.spill[rx.spillOff:])
		rx.spillOff += k
		n += k
	}
	gave := false
	for n < len(b) && len(rx.q) > 0 {
		c := &rx.q[0]
		k := copy(b[n:], p.pbuf.buf(c.bid)[c.off:c.off+c.n])
		n += k
		c.off += int32(k)
		c.n -= int32(k)
		if c.n == 0 {
			p.unqueue(c.bid)
			gave = true
			rx.q = rx.q[:copy(rx.q, rx.q[1:])]
		}
	}
	if gave {
		p.returned()
	}
	var err error
	switch {
	case n > 0 || len(b) == 0:
	case rx.end == endEOF:
	case rx.end < 0:
		err = unix.Errno(-rx.end)
	default:
		err = unix.EAGAIN
	}
	if len(p.recvArms) > 0 && p.sleeping {
		p.submitIfSleeping() // a re-armed receive must reach the kernel now
	}
	p.mu.Unlock()
	return n, err
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
