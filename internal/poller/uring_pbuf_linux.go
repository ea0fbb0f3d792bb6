package poller

import (
	"math/bits"
	"os"
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
// The ring starts with one chunk of buffers and grows by another whenever
// a recv finds every buffer queued for a reader (ENOBUFS), up to as many
// as the ring has entries: a server with more connections receiving in
// one iteration than it has buffers would otherwise have their recvs end
// and be armed again on every iteration. The entries are registered once
// for the largest ring; the chunks are mapped as they are needed.
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
	ring    []byte   // entries * 16 bytes
	chunks  [][]byte // chunk buffers of size bytes each, buffer ids in order
	size    int
	shift   uint8  // log2 of the buffers per chunk
	mask    uint16 // entries - 1
	tail    uint16
	entries uint16 // the ring's entries: the most buffers it grows to
	count   uint16 // buffers made so far
	held    int    // buffers queued on descriptors for Recv (neither the kernel's nor free)

	unpublished bool // entries put since the last publish
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

// Default buffer ring: chunks of 512 buffers of 16 KiB (8 MiB of address
// space each, paged in as the kernel first uses each buffer), up to 8192
// buffers. A message larger than a buffer arrives in several completions,
// in order.
var (
	pbufCount uint16 = 512
	pbufMax   uint16 = 8192
	pbufSize         = 16 << 10
)

// newPbufRing registers a ring of max entries and lends the kernel its
// first chunk of count buffers of size bytes; count and max are powers of
// two, count <= max.
func newPbufRing(ringFd int, count, max uint16, size int) (*pbufRing, error) {
	if count == 0 || count&(count-1) != 0 || max < count || max&(max-1) != 0 {
		return nil, os.NewSyscallError("io_uring_register", unix.EINVAL)
	}
	ring, err := unix.Mmap(-1, 0, int(max)*16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE)
	if err != nil {
		return nil, wrap("mmap", err)
	}
	b := &pbufRing{ring: ring, size: size, shift: uint8(bits.TrailingZeros16(count)), mask: max - 1, entries: max}
	if err := b.mapChunk(); err != nil {
		b.unmap()
		return nil, err
	}
	reg := pbufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&ring[0]))), ringEntries: uint32(max), bgid: pbufGroup}
	if _, err := uringRegister(ringFd, registerPbufRing, unsafe.Pointer(&reg), 1); err != nil {
		b.unmap()
		return nil, wrap("io_uring_register", err)
	}
	b.lendChunk()
	return b, nil
}

// mapChunk maps the next chunk of buffers.
func (b *pbufRing) mapChunk() error {
	mem, err := unix.Mmap(-1, 0, b.size<<b.shift, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE)
	if err != nil {
		return wrap("mmap", err)
	}
	b.chunks = append(b.chunks, mem)
	return nil
}

// lendChunk puts the buffers of the last chunk mapped on the ring.
func (b *pbufRing) lendChunk() {
	for i := 0; i < 1<<b.shift; i++ {
		b.put(b.count)
		b.count++
	}
	b.publish()
}

// grow lends the kernel another chunk of buffers, if the ring has room
// for it and the memory can be had.
func (b *pbufRing) grow() bool {
	if int(b.count)+1<<b.shift > int(b.entries) || b.mapChunk() != nil {
		return false
	}
	b.lendChunk()
	return true
}

// buf returns buffer bid's memory.
func (b *pbufRing) buf(bid uint16) []byte {
	off := int(bid&(1<<b.shift-1)) * b.size
	return b.chunks[bid>>b.shift][off : off+b.size : off+b.size]
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
	b.unpublished = false
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
	for _, mem := range b.chunks {
		unix.Munmap(mem)
	}
	b.chunks = nil
}
