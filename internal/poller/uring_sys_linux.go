package poller

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's io_uring ABI (include/uapi/linux/io_uring.h), the parts the
// readiness backend uses. golang.org/x/sys/unix has the system call
// numbers (425, 426, 427 on every architecture since the tables were
// unified) but none of the structures.

// io_uring_setup flags.
const (
	setupCQSize      = 1 << 3 // IORING_SETUP_CQSIZE: params.cq_entries is the CQ size
	setupClamp       = 1 << 4 // IORING_SETUP_CLAMP: clamp sizes to the maximum
	setupSubmitAll   = 1 << 7 // IORING_SETUP_SUBMIT_ALL: an SQE that fails does not stop the batch
	setupCoopTaskrun = 1 << 8 // IORING_SETUP_COOP_TASKRUN: no interrupt of a running task to post a completion
)

// io_uring_params.features bits the backend needs.
const (
	featSingleMmap = 1 << 0 // IORING_FEAT_SINGLE_MMAP: SQ and CQ rings share one mapping
	featNoDrop     = 1 << 1 // IORING_FEAT_NODROP: completions are never dropped on overflow
	featExtArg     = 1 << 8 // IORING_FEAT_EXT_ARG: io_uring_enter takes a timeout
)

// io_uring_enter flags.
const (
	enterGetEvents = 1 << 0 // IORING_ENTER_GETEVENTS: wait for completions
	enterExtArg    = 1 << 3 // IORING_ENTER_EXT_ARG: arg is an io_uring_getevents_arg
)

// Opcodes (enum io_uring_op).
const (
	opPollAdd    = 6 // IORING_OP_POLL_ADD
	opPollRemove = 7 // IORING_OP_POLL_REMOVE
)

// POLL_ADD flags, carried in sqe.len.
const pollAddMulti = 1 << 0 // IORING_POLL_ADD_MULTI: keep posting until cancelled

// cqe.flags bits.
const cqeFMore = 1 << 1 // IORING_CQE_F_MORE: the request stays armed

// Shared SQ ring flags.
const sqCQOverflow = 1 << 1 // IORING_SQ_CQ_OVERFLOW: completions wait in the kernel

// Offsets of the mappings, passed to mmap.
const (
	offSQRing = 0          // IORING_OFF_SQ_RING
	offSQEs   = 0x10000000 // IORING_OFF_SQES
)

// io_uring_register opcodes.
const (
	registerProbe  = 8      // IORING_REGISTER_PROBE
	probeSupported = 1 << 0 // IO_URING_OP_SUPPORTED
	probeOps       = 64     // room for opcodes 0..63 in one probe
)

// uringParams is struct io_uring_params.
type uringParams struct {
	sqEntries    uint32
	cqEntries    uint32
	flags        uint32
	sqThreadCPU  uint32
	sqThreadIdle uint32
	features     uint32
	wqFd         uint32
	resv         [3]uint32
	sqOff        sqringOffsets
	cqOff        cqringOffsets
}

// sqringOffsets is struct io_sqring_offsets: where each field of the SQ
// ring lives in the mapping.
type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

// cqringOffsets is struct io_cqring_offsets.
type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

// sqe is struct io_uring_sqe (64 bytes); the unions are named after the
// member this backend uses.
type sqe struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64 // POLL_REMOVE: user_data of the request to remove
	len         uint32 // POLL_ADD: IORING_POLL_ADD_* flags
	opFlags     uint32 // POLL_ADD: poll32_events
	userData    uint64
	bufIndex    uint16
	personality uint16
	spliceFdIn  int32
	addr3       uint64
	pad2        uint64
}

// cqe is struct io_uring_cqe.
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// probeOp is struct io_uring_probe_op.
type probeOp struct {
	op    uint8
	resv  uint8
	flags uint16
	resv2 uint32
}

// uringProbe is struct io_uring_probe with room for probeOps opcodes.
type uringProbe struct {
	lastOp uint8
	opsLen uint8
	resv   uint16
	resv2  [3]uint32
	ops    [probeOps]probeOp
}

// getEventsArg is struct io_uring_getevents_arg. ts holds the address of a
// kernelTimespec that the kernel reads during the call.
type getEventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	minWait   uint32
	ts        uint64
}

// kernelTimespec is struct __kernel_timespec: 64-bit fields on every
// architecture, unlike unix.Timespec on 32-bit ones.
type kernelTimespec struct {
	sec  int64
	nsec int64
}

// The system calls are held in variables so that tests can make them fail
// (as internal/poll's hook_unix.go does for its calls).

// uringSetup is io_uring_setup(2).
var uringSetup = func(entries uint32, p *uringParams) (int, error) {
	fd, _, e := unix.RawSyscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	return errnoResult(fd, e)
}

// uringEnter is io_uring_enter(2). A call that may block (minComplete > 0
// with enterGetEvents) goes through Syscall6, so the runtime can hand the
// thread's P to other goroutines meanwhile; one that only submits or reaps
// is short and skips that hand-off, as epoll_wait with a zero timeout does.
var uringEnter = func(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, argSize uintptr) (int, error) {
	if minComplete > 0 && flags&enterGetEvents != 0 {
		n, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), uintptr(arg), argSize)
		return errnoResult(n, e)
	}
	n, _, e := unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), uintptr(arg), argSize)
	return errnoResult(n, e)
}

// uringRegister is io_uring_register(2).
var uringRegister = func(fd int, op uint32, arg unsafe.Pointer, nargs uint32) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_IO_URING_REGISTER, uintptr(fd), uintptr(op), uintptr(arg), uintptr(nargs), 0, 0)
	return errnoResult(n, e)
}
