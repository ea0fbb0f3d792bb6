package bufferevent

// Sends in the kernel (a BufferEvent's Output on a base that Sends).
//
// The kernel reads a send's bytes from the ring's storage after the send
// was queued, until its completion, so while the buffer is pinned
// (heldPinned, with the owner's wev.sendHeld > 0 bytes of the send
// still at its front) it never writes into, moves or gives back to the pool the
// array under them; the base keeps that array referenced until the
// kernel is done. Appending writes only into the free space, which the
// data does not overlap; growing copies into new storage and leaves the
// old array to the collector instead of the pool; Peek's pull-up and
// Prepend build new storage; removing in-flight bytes from the front
// (user code draining an unfrozen Output) first moves the data to new
// storage, since the space freed would be written next. The bytes count
// as held until the send's completion drains the ones it sent
// (unpinSent); bytes removed meanwhile go out all the same (the kernel
// has them), and a Prepend goes after them, where it would have gone had
// they already been written.
//
// Once the data moved, the kernel no longer reads the buffer's storage,
// but the buffer does not track that: while pinned it treats whatever
// storage it has as the kernel's, which costs a copy or an array left to
// the collector in these rare cases, and nothing else.

// pinned reports whether a send in the kernel reads the ring's first bytes.
func (b *Buffer) pinned() bool { return b.held.Load()&heldPinned != 0 }

// setPinned sets or clears heldPinned, keeping the rest of held.
func (b *Buffer) setPinned(on bool) {
	h := b.held.Load() &^ heldPinned
	if on {
		h |= heldPinned
	}
	b.held.Store(h)
}

// pin marks the first k bytes, 0 < k <= b.n, as given to a send in the
// kernel. b is its owner's Output.
func (b *Buffer) pin(k int) {
	b.owner.wev.sendHeld, b.owner.wev.sendGone = int32(k), 0
	b.setPinned(true)
}

// unpinSent ends the send, of whose bytes the kernel sent the first sent,
// and removes from the front those of them still held: user code may
// have removed some already.
func (b *Buffer) unpinSent(sent int) {
	w := b.owner.wev
	held, gone := int(w.sendHeld), int(w.sendGone)
	w.sendHeld, w.sendGone = 0, 0
	b.setPinned(false)
	b.drain(min(held, max(0, sent-gone)))
}

// unpinFront is advance's part for a pinned buffer losing its first k > 0
// bytes: the data moves away from the space the removal frees, and the
// bytes of the send among them are counted gone.
func (b *Buffer) unpinFront(k int) {
	b.unshare()
	w := b.owner.wev
	k = min(k, int(w.sendHeld))
	w.sendHeld -= int32(k)
	w.sendGone += int32(k)
	if w.sendHeld == 0 {
		b.setPinned(false) // none of the send's bytes left: nothing to keep in place
	}
}

// giveBack returns storage the buffer drops to the pool, unless a send
// in the kernel may read it: then the collector has it once the send is
// done with it.
func (b *Buffer) giveBack(buf []byte) {
	if !b.pinned() {
		putStorage(buf)
	}
}

// unshare moves the data to new storage of the same size, leaving the
// old array to the send reading it.
func (b *Buffer) unshare() {
	buf := getStorage(len(b.buf))
	b.ringCopyOut(buf)
	b.buf, b.off = buf, 0
}

// insertAfterPinned is Prepend while a send reads the first sendHeld
// bytes: p goes after them, in new storage.
func (b *Buffer) insertAfterPinned(p []byte) {
	k := int(b.owner.wev.sendHeld)
	buf := getStorage(storageClass(b.n + len(p)))
	b.ringCopyOut(buf)
	copy(buf[k+len(p):], buf[k:b.n])
	copy(buf[k:], p)
	b.buf, b.off, b.n = buf, 0, b.n+len(p)
	b.noteStorage(b.fills())
}
