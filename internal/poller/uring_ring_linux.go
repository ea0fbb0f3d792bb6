package poller

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ring is one io_uring instance: the submission queue (SQ) and the
// completion queue (CQ) that the kernel shares with us through two
// mappings, the rings (one mapping, IORING_FEAT_SINGLE_MMAP) and the SQE
// array.
//
// Ownership of the shared words, as the kernel's ABI defines it:
//
//	SQ head   kernel writes (as it consumes SQEs), we read
//	SQ tail   we write (publishing SQEs), kernel reads during io_uring_enter
//	CQ head   we write (releasing CQEs), kernel reads
//	CQ tail   kernel writes (posting CQEs), we read
//	SQ flags  kernel writes (IORING_SQ_CQ_OVERFLOW), we read
//
// Each is read or written with sync/atomic, which gives the acquire and
// release ordering the kernel pairs with (smp_load_acquire and
// smp_store_release on its side): an SQE is filled before the tail that
// publishes it, a CQE is read after the tail that posted it and before the
// head that hands its slot back.
//
// The SQ array indirection is set to the identity once, so SQE i is always
// at array slot i and the tail alone publishes.
type ring struct {
	fd      int
	rings   []byte // the SQ and CQ rings
	sqeMem  []byte // the SQE array
	sqHead  *uint32
	sqTail  *uint32
	sqFlags *uint32
	sqMask  uint32
	sqSize  uint32
	sqes    []sqe
	tail    uint32 // SQEs filled so far; published to *sqTail by publish

	cqHead *uint32
	cqTail *uint32
	cqMask uint32
	cqes   []cqe

	ops uint64 // bit i: the kernel supports opcode i (probed)

	coop bool // set up with IORING_SETUP_COOP_TASKRUN
}

// newRing sets up a ring with sqEntries submission and cqEntries completion
// slots (the kernel rounds both up to powers of two), and returns it with
// the kernel's IORING_FEAT_* bits.
func newRing(sqEntries, cqEntries uint32) (*ring, uint32, error) {
	params := uringParams{flags: setupCQSize | setupClamp | setupSubmitAll | setupCoopTaskrun, cqEntries: cqEntries}
	fd, err := uringSetup(sqEntries, &params)
	if err == unix.EINVAL { // a kernel before 5.19
		params = uringParams{flags: setupCQSize | setupClamp | setupSubmitAll, cqEntries: cqEntries}
		fd, err = uringSetup(sqEntries, &params)
	}
	if err != nil {
		return nil, 0, unavailable("io_uring_setup", err)
	}
	r := &ring{fd: fd, coop: params.flags&setupCoopTaskrun != 0}
	if err := r.init(&params); err != nil {
		r.close()
		return nil, 0, err
	}
	return r, params.features, nil
}

// unavailable wraps a failing system call so that the error matches both
// ErrUnavailable and the errno (ENOSYS: no io_uring in the kernel; EPERM:
// refused by seccomp or kernel.io_uring_disabled).
func unavailable(call string, err error) error {
	return fmt.Errorf("%w: %w", ErrUnavailable, os.NewSyscallError(call, err))
}

// init checks the features, maps the rings and probes the opcodes.
func (r *ring) init(p *uringParams) error {
	const need = featSingleMmap | featNoDrop | featExtArg
	if p.features&need != need {
		return fmt.Errorf("%w: kernel lacks features %#x (has %#x)", ErrUnavailable, need&^p.features, p.features)
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(cqe{})))
	var err error
	r.rings, err = unix.Mmap(r.fd, offSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return unavailable("mmap", err)
	}
	r.sqeMem, err = unix.Mmap(r.fd, offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(sqe{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return unavailable("mmap", err)
	}
	word := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&r.rings[off])) }
	r.sqHead, r.sqTail, r.sqFlags = word(p.sqOff.head), word(p.sqOff.tail), word(p.sqOff.flags)
	r.sqMask, r.sqSize = *word(p.sqOff.ringMask), *word(p.sqOff.ringEntries)
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&r.sqeMem[0])), r.sqSize)
	array := unsafe.Slice(word(p.sqOff.array), r.sqSize)
	for i := range array {
		array[i] = uint32(i)
	}
	r.tail = atomic.LoadUint32(r.sqTail)
	r.cqHead, r.cqTail = word(p.cqOff.head), word(p.cqOff.tail)
	r.cqMask = *word(p.cqOff.ringMask)
	r.cqes = unsafe.Slice((*cqe)(unsafe.Pointer(&r.rings[p.cqOff.cqes])), *word(p.cqOff.ringEntries))
	return r.probe()
}

// probe asks the kernel which opcodes it supports
// (IORING_REGISTER_PROBE) and refuses a ring without the poll ones.
func (r *ring) probe() error {
	var pr uringProbe
	if _, err := uringRegister(r.fd, registerProbe, unsafe.Pointer(&pr), probeOps); err != nil {
		return unavailable("io_uring_register", err)
	}
	for i := 0; i < int(pr.opsLen) && i < 64; i++ {
		if pr.ops[i].flags&probeSupported != 0 {
			r.ops |= 1 << pr.ops[i].op
		}
	}
	for _, op := range [...]struct {
		code uint8
		name string
	}{{opPollAdd, "IORING_OP_POLL_ADD"}, {opPollRemove, "IORING_OP_POLL_REMOVE"}} {
		if op.code > pr.lastOp || int(op.code) >= int(pr.opsLen) || pr.ops[op.code].flags&probeSupported == 0 {
			return fmt.Errorf("%w: kernel lacks %s", ErrUnavailable, op.name)
		}
	}
	return nil
}

// supports reports whether the kernel has opcode op.
func (r *ring) supports(op uint8) bool { return op < 64 && r.ops&(1<<op) != 0 }

// queued is how many filled SQEs the kernel has not consumed yet.
func (r *ring) queued() uint32 { return r.tail - atomic.LoadUint32(r.sqHead) }

// next returns the next free SQE, or nil when the SQ is full. The caller
// fills every field of it.
func (r *ring) next() *sqe {
	if r.queued() == r.sqSize {
		return nil
	}
	s := &r.sqes[r.tail&r.sqMask]
	r.tail++
	return s
}

// publish makes the filled SQEs visible to the next io_uring_enter and
// returns how many wait to be consumed.
func (r *ring) publish() uint32 {
	atomic.StoreUint32(r.sqTail, r.tail)
	return r.queued()
}

// cqBounds returns the CQ's head (the first completion not yet released)
// and tail (one past the last one posted).
func (r *ring) cqBounds() (head, tail uint32) {
	return atomic.LoadUint32(r.cqHead), atomic.LoadUint32(r.cqTail)
}

// cqReady is how many completions wait in the CQ.
func (r *ring) cqReady() uint32 {
	head, tail := r.cqBounds()
	return tail - head
}

// release hands the CQ slots before head back to the kernel.
func (r *ring) release(head uint32) { atomic.StoreUint32(r.cqHead, head) }

// overflowed reports whether completions wait in the kernel's overflow
// list because the CQ was full; an io_uring_enter with GETEVENTS moves
// them into the CQ.
func (r *ring) overflowed() bool { return atomic.LoadUint32(r.sqFlags)&sqCQOverflow != 0 }

// close unmaps the rings and closes the descriptor.
func (r *ring) close() error {
	if r.sqeMem != nil {
		unix.Munmap(r.sqeMem)
		r.sqeMem, r.sqes = nil, nil
	}
	if r.rings != nil {
		unix.Munmap(r.rings)
		r.rings = nil
		r.sqHead, r.sqTail, r.sqFlags, r.cqHead, r.cqTail, r.cqes = nil, nil, nil, nil, nil, nil
	}
	if r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	return wrap("close", err)
}
