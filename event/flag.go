package event

import "strings"

// Flag is a set of event conditions, with libevent's EV_* bit values.
type Flag uint16

// Conditions an event can watch for and report.
const (
	Timeout Flag = 0x01 // EV_TIMEOUT: the timeout passed
	Read    Flag = 0x02 // EV_READ: the descriptor is readable
	Write   Flag = 0x04 // EV_WRITE: the descriptor is writable
	Signal  Flag = 0x08 // EV_SIGNAL: a signal was delivered
	Persist Flag = 0x10 // EV_PERSIST: stay pending after firing
	ET      Flag = 0x20 // EV_ET: edge-triggered (epoll only)
	Closed  Flag = 0x80 // EV_CLOSED: the peer closed its end (EPOLLRDHUP)

	// Recv, with Read, lets the backend receive the data itself: on
	// io_uring a multishot recv reads into buffers lent to the kernel,
	// and the event fires once data (or the end of the stream, or an
	// error) has arrived, with no read(2) left to make; take the data
	// with (*Base).Recv. Elsewhere the bit changes nothing and
	// (*Base).Recv is read(2), so code written for it runs on every
	// backend. It is levent's own, not libevent's. For stream sockets;
	// the Read events on one descriptor must all have it or all lack it.
	Recv Flag = 0x100

	// Accept, with Read on a listening socket, lets the backend accept
	// the connections itself: on io_uring a multishot accept takes them
	// off the backlog as they arrive, and the event fires while accepted
	// connections (or the accept's error) wait; take them with
	// (*Base).Accept. Elsewhere the bit changes nothing and (*Base).Accept
	// is accept4(2). It is levent's own, not libevent's. The Read events
	// on one descriptor must all have it or all lack it; not with Recv.
	Accept Flag = 0x200

	// Send, with Write, lets the backend send for the event: on io_uring
	// (*Base).Send queues an IORING_OP_SEND that goes to the kernel with
	// the loop's next wait, and the event fires with Write once it has
	// completed, instead of when the descriptor is writable; take the
	// result with (*Base).Sent. Elsewhere the bit changes nothing: the
	// event fires on writability and (*Base).Send is writev(2). It is
	// levent's own. For stream sockets; the Write events on one
	// descriptor must all have it or all lack it.
	Send Flag = 0x400
)

// allFlags is every bit New accepts.
const allFlags = Timeout | Read | Write | Signal | Persist | ET | Closed | Recv | Accept | Send

// ioFlags are the conditions that need a descriptor.
const ioFlags = Read | Write | Closed

var flagNames = []struct {
	f    Flag
	name string
}{
	{Timeout, "Timeout"}, {Read, "Read"}, {Write, "Write"}, {Signal, "Signal"},
	{Persist, "Persist"}, {ET, "ET"}, {Closed, "Closed"}, {Recv, "Recv"},
	{Accept, "Accept"}, {Send, "Send"},
}

// String returns the set bits joined with '|', such as "Read|Persist",
// "0" for none, and unknown bits in hex.
func (f Flag) String() string {
	if f == 0 {
		return "0"
	}
	var sb strings.Builder
	for _, n := range flagNames {
		if f&n.f != 0 {
			if sb.Len() > 0 {
				sb.WriteByte('|')
			}
			sb.WriteString(n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		if sb.Len() > 0 {
			sb.WriteByte('|')
		}
		sb.WriteString("0x")
		const hex = "0123456789abcdef"
		var b [4]byte
		for i := 3; i >= 0; i-- {
			b[i] = hex[f&0xf]
			f >>= 4
		}
		s := strings.TrimLeft(string(b[:]), "0")
		sb.WriteString(s)
	}
	return sb.String()
}

// LoopFlag changes how Loop runs, with libevent's EVLOOP_* values.
type LoopFlag int

// Loop flags.
const (
	// LoopOnce blocks until at least one event is active, runs the
	// active events of the most urgent priority, and returns.
	LoopOnce LoopFlag = 0x01
	// LoopNonblock never blocks: it runs what is ready now and returns.
	LoopNonblock LoopFlag = 0x02
	// LoopNoExitOnEmpty keeps the loop running when no event is pending,
	// until LoopExit or LoopBreak (work arrives through Submit or Active).
	LoopNoExitOnEmpty LoopFlag = 0x04
)

// Feature is a backend capability, with libevent's EV_FEATURE_* values.
type Feature uint8

// Features a backend may have.
const (
	FeatureET         Feature = 0x01 // edge-triggered events (ET)
	FeatureO1         Feature = 0x02 // O(1) add, delete and dispatch
	FeatureFDs        Feature = 0x04 // any descriptor, not only sockets
	FeatureEarlyClose Feature = 0x08 // Closed without reading (EPOLLRDHUP)
)

// String names the set feature bits, such as "ET|O1|EarlyClose".
func (f Feature) String() string {
	names := []string{"ET", "O1", "FDs", "EarlyClose"}
	var parts []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}
