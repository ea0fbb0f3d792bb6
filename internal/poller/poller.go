// Package poller is the contract between an event base and the kernel's
// readiness interface, and the backends that implement it.
//
// It is libevent's struct eventop cut down to what a Go base needs: a name,
// feature bits, one Update call that is given the old and the new interest
// of a descriptor, one Wait, and Close. The base keeps every other piece of
// state (which events watch which descriptor, timers, the active queues), so
// a backend is a thin wrapper over epoll, poll or, later, kqueue.
//
// Every registration carries a generation number chosen by the base. Wait
// reports it back with each ready descriptor, so a readiness report that
// belonged to an earlier owner of a reused descriptor number can be told
// apart and dropped. Backends never store Go pointers in kernel memory.
package poller

import (
	"errors"
	"time"
)

// Interest is what a descriptor is watched for.
//
//	bit 0  In     readable (EPOLLIN / POLLIN)
//	bit 1  Out    writable (EPOLLOUT / POLLOUT)
//	bit 2  RDHup  peer closed its writing half (EPOLLRDHUP, POLLRDHUP)
//	bit 3  ET     edge-triggered; epoll only; applies to the whole descriptor
//	bit 4  Recv   with In: the backend receives the data itself and holds
//	              it for Recv (io_uring); the others ignore the bit
//	bit 5  Accept with In, on a listening socket: the backend accepts the
//	              connections itself and holds them for Accept (io_uring);
//	              the others ignore the bit
//	bit 6  Send   with Out: the backend sends what Send is given and reports
//	              the completion as ReadyOut (io_uring); the others ignore it
type Interest uint8

// Interest bits.
const (
	In Interest = 1 << iota
	Out
	RDHup
	ET
	Recv
	Accept
	Send
)

// Ready is what Wait reports for one descriptor.
type Ready uint8

// Ready bits. Err and Hup are reported whatever the interest was.
const (
	ReadyIn Ready = 1 << iota
	ReadyOut
	ReadyRDHup
	ReadyHup
	ReadyErr
)

// Feature bits, with libevent's values (enum event_method_feature).
type Feature uint8

// Features a backend may have.
const (
	// FeatureET: edge-triggered readiness is available.
	FeatureET Feature = 0x01
	// FeatureO1: adding, deleting and reporting one event is O(1).
	FeatureO1 Feature = 0x02
	// FeatureFDs: any kind of descriptor works, not only sockets.
	FeatureFDs Feature = 0x04
	// FeatureEarlyClose: a peer's close is reported without a read.
	FeatureEarlyClose Feature = 0x08
)

// Event is one readiness report.
type Event struct {
	Fd    int32
	Gen   uint32 // the generation given to Update for this registration
	Ready Ready
}

// Poller is the contract every backend implements. A Poller is used by one
// goroutine at a time (the base serialises calls), except that Wait may run
// while no other method is called.
type Poller interface {
	// Name is the method's name as libevent spells it: "epoll", "poll".
	Name() string
	// Features reports what the backend can do.
	Features() Feature
	// Update changes the interest of fd from old to new. old == 0 means
	// the descriptor is not registered yet; new == 0 removes it. A
	// descriptor that the kernel already dropped (closed) is not an error
	// on removal.
	Update(fd int, gen uint32, old, new Interest) error
	// Wait blocks until at least one descriptor is ready or timeout
	// passes (timeout < 0 waits forever, 0 polls), fills events and
	// returns how many it filled. An interrupted wait returns 0, nil.
	Wait(events []Event, timeout time.Duration) (int, error)
	// Close releases the backend's own descriptors.
	Close() error
	// Concurrent reports whether Update may run while another
	// goroutine is blocked in Wait (epoll: yes; poll: no, the kernel
	// holds the array).
	Concurrent() bool
}

// Receiver is implemented by a backend that can receive on a socket by
// itself (io_uring: a multishot recv into buffers it lends the kernel).
// A descriptor registered with In|Recv is reported readable when data, the
// end of the stream or an error has arrived, and the data is taken with
// Recv instead of read(2). Backends without it ignore the Recv bit, and
// the data stays in the socket for read(2).
type Receiver interface {
	// CanRecv reports whether the Recv bit takes effect: the kernel has
	// what it needs.
	CanRecv() bool
	// Recv copies received data for fd into p, as read(2) would:
	// it returns n > 0, or 0, nil at the end of the stream, or the
	// errno the receive failed with, or unix.EAGAIN when nothing is
	// there yet. On a descriptor with nothing held for it and no
	// receive in the kernel it is read(2) itself.
	Recv(fd int, p []byte) (int, error)
}

// Sender is implemented by a backend that can send on a socket by itself
// (io_uring: IORING_OP_SEND requests submitted with the next Wait). A
// descriptor registered with Out|Send is not polled for writability: it is
// reported ReadyOut when the send Send queued has completed, and Sent
// gives the result. Backends without it ignore the Send bit.
type Sender interface {
	// CanSend reports whether the Send bit takes effect.
	CanSend() bool
	// Send queues one send of p0 followed by p1 (p1 may be empty) on fd
	// and returns 0, nil: the kernel reads the bytes after Send returns,
	// until the completion is reported, so the caller leaves them
	// unchanged until then; the backend keeps them referenced. One send
	// per descriptor at a time: another before Sent took the result is
	// refused with unix.EBUSY. On a descriptor not registered with
	// Out|Send it is writev(2) at once, returning the count written or
	// the errno.
	Send(fd int, p0, p1 []byte) (int, error)
	// Sent takes the result of fd's completed send: the bytes sent, or
	// the errno it failed with. ok is false while the send is still in
	// the kernel, or if there is none. Dropping Send from the
	// registration, or a new generation, leaves a send still in the
	// kernel to finish there, its bytes referenced until it has, and
	// its result is never reported.
	Sent(fd int) (n int, err error, ok bool)
}

// Acceptor is implemented by a backend that can accept on a listening
// socket by itself (io_uring: a multishot accept). A descriptor registered
// with In|Accept is reported readable while accepted connections (or the
// accept's error) wait for Accept, and the connections are taken with
// Accept instead of accept4(2). Backends without it ignore the Accept
// bit, and the connections stay in the kernel's backlog for accept4(2).
type Acceptor interface {
	// CanAccept reports whether the Accept bit takes effect.
	CanAccept() bool
	// Accept hands out one connection accepted for fd, non-blocking and
	// close-on-exec, as AcceptFd would: the new descriptor, or the errno
	// the accept failed with (EMFILE...), or unix.EAGAIN when none is
	// there yet. On a descriptor with nothing held for it and no accept
	// in the kernel it is AcceptFd itself.
	Accept(fd int) (int, error)
	// DropAccepted closes the connections held for fd, which nobody
	// will take: the last event that could take them is gone.
	DropAccepted(fd int)
}

// Releaser is implemented by a backend that keeps state for a descriptor
// beyond its registration (io_uring: data its recv took, connections its
// accept took) and, when the descriptor is registered under a new
// generation, tells by fstat whether it is still the same file. Released
// is called when the last event watching fd is removed but the removal is
// left for the next flush: the backend records what file fd is now, while
// its owner still has it open, so that a new registration coming in that
// same flush is recognised as the same file rather than a new owner.
type Releaser interface {
	Released(fd int)
}

// ThreadBound is implemented by a backend whose completions are posted
// through the thread that submitted the request (io_uring's task work):
// the loop runs on one OS thread while it dispatches, so that the thread
// it sleeps on is the one the kernel posts to.
type ThreadBound interface {
	// BindsThread reports whether the loop should stay on its thread.
	BindsThread() bool
}

// ErrUnsupported is returned where the platform has no backend yet.
var ErrUnsupported = errors.New("levent: no event backend for this platform yet (only linux)")

// ErrUnknownMethod is returned by Open for a name no backend has.
var ErrUnknownMethod = errors.New("levent: unknown event method")

// ErrUnavailable is matched by the error Open returns when the kernel
// cannot provide the backend asked for: io_uring refused (ENOSYS, EPERM),
// or lacking a feature or an opcode the backend needs. The error says
// which, and matches the system call's errno where there is one.
var ErrUnavailable = errors.New("levent: event method unavailable")
