package bufferevent

import (
	"fmt"

	"github.com/levent-go/levent/event"
)

// FlushMode says how hard FlushWith pushes data, and is what a FilterFunc
// is told, with the values of libevent's enum bufferevent_flush_mode.
type FlushMode int

const (
	// FlushNormal moves what the watermarks and the enabled directions
	// allow, as data moves by itself (BEV_NORMAL).
	FlushNormal FlushMode = 0
	// FlushFlush moves everything there is, whatever the watermarks, and
	// asks filters to give out what they hold back (BEV_FLUSH).
	FlushFlush FlushMode = 1
	// FlushFinished is FlushFlush and says that no more data will come:
	// a filter ends its stream, and a pair's other end is told Reading|EOF
	// (BEV_FINISHED).
	FlushFinished FlushMode = 2
)

// String names the mode, such as "FlushFinished".
func (m FlushMode) String() string {
	switch m {
	case FlushNormal:
		return "FlushNormal"
	case FlushFlush:
		return "FlushFlush"
	case FlushFinished:
		return "FlushFinished"
	}
	return fmt.Sprintf("FlushMode(%d)", int(m))
}

// FlushWith pushes data through the BufferEvent in the directions of what
// (event.Read for data coming in, event.Write for data going out) with
// mode (bufferevent_flush). On a socket it writes what the socket takes
// now for event.Write, whatever the mode, and does nothing for event.Read,
// as libevent's socket flush does not read. On an end of an in-memory
// pair, FlushNormal moves what the enabled directions and watermarks
// allow; FlushFlush and FlushFinished move everything, whatever the
// watermarks and the enabled directions, as libevent's be_pair_flush does,
// and FlushFinished then reports the end of the stream to the partner's
// event callback: Reading|EOF for event.Write, Writing|EOF for event.Read.
// It returns ErrNoPartner once the partner is freed. On a filter it runs
// the filters of what with mode, then flushes the underlying BufferEvent
// with the same arguments.
//
// Callbacks made due run before FlushWith returns (later, with
// DeferCallbacks), the partner's first. It returns the sticky write error,
// if any. Loop goroutine only: it runs callbacks and filter functions.
func (bev *BufferEvent) FlushWith(what event.Flag, mode FlushMode) error {
	if what&^(event.Read|event.Write) != 0 || what == 0 {
		return fmt.Errorf("%w: FlushWith takes Read and Write, not %v", event.ErrBadFlags, what)
	}
	if mode < FlushNormal || mode > FlushFinished {
		return fmt.Errorf("%w: flush mode %d", ErrOptions, int(mode))
	}
	bev.mu.Lock()
	p, f := bev.pairLocked(), bev.filterLocked()
	var c calls
	var err error
	switch {
	case bev.life == lsFreed:
		err = ErrFreed
	case p != nil:
		bev.mu.Unlock()
		return p.flush(bev, what, mode)
	case f != nil:
		bev.mu.Unlock()
		return f.flush(bev, what, mode)
	case bev.fd < 0:
		err = ErrNoFd
	case what&event.Write != 0:
		c = bev.flushHowLocked(true)
		err = bev.writeErr()
	}
	bev.mu.Unlock()
	c.run(bev)
	return err
}
