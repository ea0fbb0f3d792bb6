package poller

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pbufRing is a provided buffer ring (IORING_REGISTER_PBUF_RING): buffers
// the backend lends the kernel, which picks one for each multishot recv
// completion and names it in the completion's flags. A buffer is the
// kernel's from the moment it is put on the ring until a completion names
// it; then it is ours until recycle puts it back.
//
// Both the ring and the buffers are anonymous mappings, not Go memory: the
// kernel keeps their addresses for as long as the ring is registered, so
// they must never move or be collected, and they are unmapped only after
// the io_uring instance is closed, when no request can write to them any
// more.
//
// The ring is an array of struct io_uring_buf {addr, len, bid, resv}; the
// tail we publish overlays the first entry's resv field (bytes 14..15).
// The kernel reads the tail with smp_load_acquire, so it is stored with
// release semantics after the entry it publishes: sync/atomic has no
// 16-bit store, so the 32-bit word at offset 12 (bufs[0].bid, then the
// tail) is stored whole, with bufs[0].bid as it is. Only we write that
// word; the kernel only reads it.
type pbufRing struct {
	ring    []byte // entries * 16 bytes
	mem     []byte // count buffers of size bytes
	size    int
	mask    uint16
	tail    uint16
	entries uint16
	held    int // buffers queued on descriptors for Recv (neither the kernel's nor free)
}

const (
	registerPbufRing = 22 // IORING_REGISTER_PBUF_RING
	pbufGroup        = 0  // the buffer group id the recvs select from
)

// pbufReg is struct io_uring_buf_reg.
type pbufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	pad         uint16
	resv        [3]uint64
}

// Default buffer ring: 512 buffers of 16 KiB (8 MiB of address space,
// paged in as the kernel first uses each buffer). A message larger than
// a buffer arrives in several completions, in order.
var (
	pbufCount uint16 = 512
	pbufSize         = 16 << 10
)

// newPbufRing maps and registers a ring of count buffers (a power of two)
// of size bytes each, all lent to the kernel.
func newPbufRing(ringFd int, count uint16, size int) (*pbufRing, error) {
	ring, err := unix.Mmap(-1, 0, int(count)*16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE)
	if err != nil {
		return nil, wrap("mmap", err)
	}
	mem, err := unix.Mmap(-1, 0, int(count)*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE)
	if err != nil {
		unix.Munmap(ring)
		return nil, wrap("mmap", err)
	}
	b := &pbufRing{ring: ring, mem: mem, size: size, mask: count - 1, entries: count}
	reg := pbufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&ring[0]))), ringEntries: uint32(count), bgid: pbufGroup}
	if _, err := uringRegister(ringFd, registerPbufRing, unsafe.Pointer(&reg), 1); err != nil {
		b.unmap()
		return nil, wrap("io_uring_register", err)
	}
	for bid := uint16(0); bid < count; bid++ {
		b.put(bid)
	}
	b.publish()
	return b, nil
}

// buf returns buffer bid's memory.
func (b *pbufRing) buf(bid uint16) []byte {
	off := int(bid) * b.size
	return b.mem[off : off+b.size : off+b.size]
}

// put writes buffer bid into the next ring entry; publish hands it over.
func (b *pbufRing) put(bid uint16) {
	e := b.ring[int(b.tail&b.mask)*16:]
	*(*uint64)(unsafe.Pointer(&e[0])) = uint64(uintptr(unsafe.Pointer(&b.buf(bid)[0])))
	*(*uint32)(unsafe.Pointer(&e[8])) = uint32(b.size)
	*(*uint16)(unsafe.Pointer(&e[12])) = bid
	b.tail++
}

// publish makes every entry put so far visible to the kernel.
func (b *pbufRing) publish() {
	w := (*uint32)(unsafe.Pointer(&b.ring[12]))
	bid0 := uint32(*(*uint16)(unsafe.Pointer(&b.ring[12])))
	atomic.StoreUint32(w, bid0|uint32(b.tail)<<16)
}

// unmap releases the memory; the ring must no longer be registered (its
// io_uring instance is closed).
func (b *pbufRing) unmap() {
	if b.ring != nil {
		unix.Munmap(b.ring)
		b.ring = nil
	}
	if b.mem != nil {
		unix.Munmap(b.mem)
		b.mem = nil
	}
}
