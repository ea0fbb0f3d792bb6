package poller

import (
	"math"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sending in the kernel (the Send interest bit).
//
// A descriptor registered with Out|Send gets no POLLOUT poll: its writes
// are IORING_OP_SEND requests that Send queues and the next flush turns
// into SQEs, so that they reach the kernel with the io_uring_enter that
// Wait makes anyway: one system call per loop iteration carries every
// connection's sends. Data in two parts (a ring buffer that wraps) goes
// in one IORING_OP_SENDMSG with two iovecs; WRITEV would do as well, but
// it honours the socket's O_NONBLOCK and completes with EAGAIN when the
// socket is full, where a send waits for room inside the kernel (io_uring
// polls for it) and completes once it has sent something, or failed. Its
// completion is reported as ReadyOut and its result held for Sent. No
// MSG_WAITALL: a short send completes short, and the caller sends the
// rest, so that a cancelled send has sent either nothing or what its
// completion says.
//
// The kernel reads the bytes after Send has returned, from addresses in
// the SQE that Go's collector cannot see: the backend keeps the caller's
// slices referenced until the completion arrives (the collector does not
// move heap memory), and the caller promises not to change them.
//
// At most one send per descriptor is live. A send handed over is not
// taken back, as bytes a write(2) took are not: a registration change
// that drops Send, or a new owner of the number (a new generation),
// orphans a live send, which finishes in the kernel with its bytes kept
// on the orphans list until its completion, and the send sequence moves
// on, so that the completion, tagged with the old sequence, only releases
// them and is reported to nobody. An orphan that no SQE carries yet is
// submitted at once: the owner may close the descriptor next, and the
// kernel resolves the number when it takes the SQE, so a later submission
// could reach a new file under the number. Closing the ring cancels what
// is left.
//
// user_data of a send:
//
//	bits 63..62 11: a send
//	bit  61     0
//	bits 60..32 the send sequence (29 bits)
//	bits 31..0  descriptor number

const (
	udSend = 3 << 62

	opSendmsg = 9  // IORING_OP_SENDMSG
	opSend    = 26 // IORING_OP_SEND

	maxSendPart = math.MaxInt32 // a send's length is 32 bits; the caller sends the rest

	// A descriptor's word in uring.txi: txOn while Out|Send is
	// registered (sends, not a POLLOUT poll), and in txIndex 1 + the
	// index in uring.txs of its send, while live or its result untaken.
	// Four bytes per descriptor number, apart from its 24-byte record,
	// which has no room: what an idle connection pays for sending.
	txOn    = 1 << 31
	txIndex = txOn - 1
)

// sendState is one send: the descriptor's while it is live or its result
// untaken, then reused for another (txFree), so that an idle connection
// holds none, and there are only as many as sends were live at once. Its fields after the send's are what the kernel reads from
// Go memory: the SENDMSG header and vectors.
type sendState struct {
	p0, p1 []byte        // the bytes of the send, referenced until its completion
	fd     int32         // the descriptor
	res    int32         // the completed send's result: bytes sent, or -errno
	sseq   uint32        // send sequence: tags the request
	idx    uint32        // index in uring.txs, for good
	gen    uint32        // the base's generation of the owner that sent
	live   bool          // queued or in the kernel, until its completion
	sqed   bool          // ... and an SQE carries it
	done   bool          // res holds a result Sent has not taken
	onArm  bool          // on sendArms
	msg    unix.Msghdr   // SENDMSG's header, for data in two parts
	iov    [2]unix.Iovec // ... and its vectors
}

func sendData(fd int32, sseq uint32) uint64 {
	return udSend | uint64(sseq&seqMask)<<32 | uint64(uint32(fd))
}

// CanSend reports whether the kernel has the opcodes sending needs.
func (p *uring) CanSend() bool { return p.canSend }

// txOf returns fd's send, or nil.
func (p *uring) txOf(fd int) *sendState {
	if fd >= 0 {
		if w := p.txi.Get(fd); w != nil && *w&txIndex != 0 {
			return p.txs[*w&txIndex-1]
		}
	}
	return nil
}

// setTx makes tx fd's send, or clears it with nil.
func (p *uring) setTx(fd int, tx *sendState) {
	w := p.txi.Make(fd)
	*w &^= txIndex
	if tx != nil {
		*w |= tx.idx + 1
	}
}

// sendUpdate applies a registration change to fd's sending: want is
// whether Out|Send is now registered, under gen. A change of either ends
// what the descriptor's send was to its owner.
func (p *uring) sendUpdate(fd int32, gen uint32, want bool) {
	if tx := p.txOf(int(fd)); tx != nil && (tx.gen != gen || p.sendsOn(int(fd)) != want) {
		p.setTx(int(fd), nil)
		if tx.live {
			p.orphan(tx)
		} else {
			p.freeSend(tx) // a result nobody asks for any more
		}
	}
	p.setSendsOn(int(fd), want)
}

// sendsOn reports whether fd is registered with Out|Send.
func (p *uring) sendsOn(fd int) bool {
	w := p.txi.Get(fd)
	return w != nil && *w&txOn != 0
}

// setSendsOn sets or clears fd's txOn.
func (p *uring) setSendsOn(fd int, on bool) {
	switch w := p.txi.Get(fd); {
	case on && w == nil:
		*p.txi.Make(fd) |= txOn
	case on:
		*w |= txOn
	case w != nil:
		*w &^= txOn
	}
}

// orphan lets a live send finish on its own.
func (p *uring) orphan(tx *sendState) {
	p.orphans = append(p.orphans, tx)
	if !tx.sqed {
		// Into the kernel now, before the number can be closed; a
		// failure leaves it to the next flush.
		if p.flushSendArms() == nil {
			p.submit()
		}
	}
}

// freeSend keeps a finished send's state for reuse.
func (p *uring) freeSend(tx *sendState) {
	*tx = sendState{idx: tx.idx}
	p.txFree = append(p.txFree, tx.idx)
}

// Send queues a send of p0 and p1 on fd; see Sender.
func (p *uring) Send(fd int, p0, p1 []byte) (int, error) {
	if len(p0) == 0 {
		p0, p1 = p1, nil
	}
	if len(p0) == 0 {
		return 0, nil
	}
	p.mu.Lock()
	if p.r == nil || fd < 0 || p.fds.Get(fd) == nil || !p.sendsOn(fd) {
		p.mu.Unlock()
		return Write(fd, p0, p1)
	}
	if p.txOf(fd) != nil {
		p.mu.Unlock()
		return 0, unix.EBUSY
	}
	if len(p0) >= maxSendPart {
		p0, p1 = p0[:maxSendPart], nil
	} else if len(p1) > maxSendPart-len(p0) {
		p1 = p1[:maxSendPart-len(p0)]
	}
	var tx *sendState
	if k := len(p.txFree); k > 0 {
		tx = p.txs[p.txFree[k-1]]
		p.txFree = p.txFree[:k-1]
	} else {
		tx = &sendState{idx: uint32(len(p.txs))}
		p.txs = append(p.txs, tx)
	}
	p.setTx(fd, tx)
	p.sseq = (p.sseq + 1) & seqMask
	tx.p0, tx.p1, tx.fd, tx.sseq, tx.gen, tx.live = p0, p1, int32(fd), p.sseq, p.fds.At(fd).gen, true
	tx.onArm = true
	p.sendArms = append(p.sendArms, tx)
	err := p.submitIfSleeping() // a send from another goroutine reaches a sleeping Wait's kernel now
	p.mu.Unlock()
	return 0, err
}

// Sent takes fd's completed send's result; see Sender.
func (p *uring) Sent(fd int) (int, error, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tx := p.txOf(fd)
	if tx == nil || !tx.done {
		return 0, nil, false
	}
	res := tx.res
	p.setTx(fd, nil)
	p.freeSend(tx)
	if res < 0 {
		return 0, unix.Errno(-res), true
	}
	return int(res), nil, true
}

// flushSendArms turns the queued sends into SQEs.
func (p *uring) flushSendArms() error {
	for i, tx := range p.sendArms {
		tx.onArm = false
		if !tx.live || tx.sqed {
			continue
		}
		s, err := p.sqe()
		if err != nil {
			tx.onArm = true
			p.sendArms = append(p.sendArms[:0], p.sendArms[i:]...)
			return err
		}
		tx.sqed = true
		fd, ud := tx.fd, sendData(tx.fd, tx.sseq)
		if len(tx.p1) == 0 {
			*s = sqe{opcode: opSend, fd: fd, addr: uint64(uintptr(unsafe.Pointer(&tx.p0[0]))), len: uint32(len(tx.p0)), userData: ud}
			continue
		}
		tx.iov[0].Base, tx.iov[1].Base = &tx.p0[0], &tx.p1[0]
		tx.iov[0].SetLen(len(tx.p0))
		tx.iov[1].SetLen(len(tx.p1))
		tx.msg = unix.Msghdr{Iov: &tx.iov[0]}
		tx.msg.SetIovlen(2)
		*s = sqe{opcode: opSendmsg, fd: fd, addr: uint64(uintptr(unsafe.Pointer(&tx.msg))), len: 1, userData: ud}
	}
	clear(p.sendArms) // no stale pointers kept in the spare capacity
	p.sendArms = p.sendArms[:0]
	return nil
}

// completeSend handles a send's completion; see complete.
func (p *uring) completeSend(c *cqe, events []Event, n *int) bool {
	fd, sseq := int32(uint32(c.userData)), uint32(c.userData>>32)&seqMask
	tx := p.txOf(int(fd))
	if tx == nil || !tx.sqed || tx.sseq != sseq {
		p.dropOrphan(fd, sseq)
		return true
	}
	st := p.fds.At(int(fd))
	if st.mark != p.epoch && *n == len(events) {
		return false
	}
	tx.p0, tx.p1 = nil, nil // the kernel is done with them
	tx.live, tx.sqed = false, false
	tx.res, tx.done = c.res, true
	p.report(fd, st, ReadyOut, events, n)
	return true
}

// dropOrphan forgets the orphaned send of fd with sseq, now complete.
func (p *uring) dropOrphan(fd int32, sseq uint32) {
	for i, tx := range p.orphans {
		if tx.fd == fd && tx.sseq == sseq {
			last := len(p.orphans) - 1
			p.orphans[i] = p.orphans[last]
			p.orphans[last] = nil
			p.orphans = p.orphans[:last]
			p.freeSend(tx)
			return
		}
	}
}

// Write is writev(2) of p0 and p1 (write(2) when p1 is empty), retried
// on EINTR, with n 0 on an error.
func Write(fd int, p0, p1 []byte) (int, error) {
	for {
		var n int
		var err error
		if len(p1) == 0 {
			n, err = unix.Write(fd, p0)
		} else {
			n, err = unix.Writev(fd, [][]byte{p0, p1})
		}
		if err != unix.EINTR {
			if n < 0 {
				n = 0
			}
			return n, err
		}
	}
}
