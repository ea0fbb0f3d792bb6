package bufferevent

// bevBuffers is a BufferEvent's Input and Output, made the first time
// either is needed: by data read or written, or by a call of Input or
// Output. Until then a BufferEvent carries one nil pointer for both, the
// way it carries one for its write event (wev) and for what few
// connections need (ext).
type bevBuffers struct {
	input, output Buffer
}

// noBuffers stands for the buffers of a BufferEvent that has not made
// its own: two empty Buffers that in and out return to be looked at.
// Nothing changes them; everything that changes a buffer goes through
// buffers.
var noBuffers bevBuffers

// buffers returns bev's buffers, making them if they are not there yet:
// Input frozen at its end and Output at its front, as
// bufferevent_socket_new leaves them (see Freeze; pairs and filters set
// their own once made). Any goroutine may be the first: the buffers are
// published with a compare-and-swap, and a loser uses the winner's.
func (bev *BufferEvent) buffers() *bevBuffers {
	if b := bev.bufs.Load(); b != nil {
		return b
	}
	b := &bevBuffers{}
	b.input.owner, b.output.owner = bev, bev
	b.input.setFrozen(frozenEnd)
	b.output.setFrozen(frozenFront)
	if !bev.bufs.CompareAndSwap(nil, b) {
		return bev.bufs.Load()
	}
	return b
}

// in returns Input to be looked at, not changed: an empty buffer while
// bev has made none.
func (bev *BufferEvent) in() *Buffer {
	if b := bev.bufs.Load(); b != nil {
		return &b.input
	}
	return &noBuffers.input
}

// out returns Output to be looked at, not changed, as in does Input.
func (bev *BufferEvent) out() *Buffer {
	if b := bev.bufs.Load(); b != nil {
		return &b.output
	}
	return &noBuffers.output
}
