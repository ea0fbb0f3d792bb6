package bufferevent

import (
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
)

// NewPair returns two BufferEvents connected to each other through a
// socket pair (bufferevent_pair_new): what one writes, the other reads.
// Both own their descriptors and close them on Free, whatever opts says.
func NewPair(b *event.Base, opts Options) (*BufferEvent, *BufferEvent, error) {
	if b == nil {
		return nil, nil, event.ErrNilBase
	}
	fds, err := sockPair()
	if err != nil {
		return nil, nil, err
	}
	x, err := New(b, fds[0], opts|CloseOnFree)
	if err != nil {
		sock.Close(fds[0])
		sock.Close(fds[1])
		return nil, nil, err
	}
	y, err := New(b, fds[1], opts|CloseOnFree)
	if err != nil {
		x.Free()
		sock.Close(fds[1])
		return nil, nil, err
	}
	return x, y, nil
}
