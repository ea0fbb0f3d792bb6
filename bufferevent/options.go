package bufferevent

import (
	"strconv"
	"strings"
)

// Options change how a BufferEvent behaves, with libevent's BEV_OPT_*
// values.
type Options int

// Options for New, NewPair and NewFilter.
const (
	// CloseOnFree closes the descriptor when the BufferEvent is freed.
	CloseOnFree Options = 0x01
	// ThreadSafe makes the BufferEvent safe to use from several
	// goroutines. levent's BufferEvents always are; the option is
	// accepted so ported programs keep their flags.
	ThreadSafe Options = 0x02
	// DeferCallbacks runs the read, write and event callbacks after the
	// I/O handling (or the Flush) that makes them due has returned,
	// later in the loop iteration, instead of from inside it. It bounds
	// recursion when callbacks of two BufferEvents call each other.
	DeferCallbacks Options = 0x04
	// UnlockCallbacks runs callbacks without the BufferEvent's lock.
	// levent never holds it during callbacks; the option is accepted.
	UnlockCallbacks Options = 0x08
)

const allOptions = CloseOnFree | ThreadSafe | DeferCallbacks | UnlockCallbacks

// String names the set options, such as "CloseOnFree|DeferCallbacks".
func (o Options) String() string {
	return names(int(o), []string{"CloseOnFree", "ThreadSafe", "DeferCallbacks", "UnlockCallbacks"})
}

// What is the set of conditions reported to the event callback, with
// libevent's BEV_EVENT_* values.
type What uint16

// Conditions reported to the event callback.
const (
	Reading   What = 0x01 // the condition happened while reading
	Writing   What = 0x02 // the condition happened while writing
	EOF       What = 0x10 // the peer closed the connection
	Error     What = 0x20 // an error; Err says which
	Timeout   What = 0x40 // the read or write timeout passed
	Connected What = 0x80 // Connect finished
)

// String names the set bits, such as "Reading|EOF".
func (w What) String() string {
	return names(int(w), []string{"Reading", "Writing", "", "", "EOF", "Error", "Timeout", "Connected"})
}

// names joins the names of the bits set in v, bit i being named by
// names[i], with '|'; "0" when none is set, and unknown bits in hex.
func names(v int, names []string) string {
	if v == 0 {
		return "0"
	}
	var parts []string
	for i, n := range names {
		if bit := 1 << i; v&bit != 0 && n != "" {
			parts = append(parts, n)
			v &^= bit
		}
	}
	if v != 0 {
		parts = append(parts, "0x"+strconv.FormatInt(int64(v), 16))
	}
	return strings.Join(parts, "|")
}
