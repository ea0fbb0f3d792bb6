package bufferevent

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Buffer storage comes in power-of-two size classes, so the ring can wrap
// with a mask and a freed array fits the next buffer of the same class.
const (
	minStorageShift = 12                   // smallest class: 4 KiB
	maxPooledShift  = 22                   // largest pooled class: 4 MiB
	minStorage      = 1 << minStorageShift // bytes in the smallest class
	maxPooled       = 1 << maxPooledShift  // larger arrays come from make and go back to the GC
)

// storagePools holds free arrays, one pool per class from 4 KiB to 4 MiB.
// A pool stores a pointer to the first byte of the array rather than a
// slice: a pointer fits in an interface without an allocation, and the
// class gives back the length.
var storagePools [maxPooledShift - minStorageShift + 1]sync.Pool

// storageClass returns the smallest class holding size bytes.
func storageClass(size int) int {
	if size <= minStorage {
		return minStorage
	}
	return 1 << bits.Len(uint(size-1))
}

// getStorage returns an array of size bytes; size must be a class.
// Pooled arrays keep whatever bytes they held, which is harmless because
// a Buffer never reads beyond what it wrote.
func getStorage(size int) []byte {
	if size <= maxPooled {
		if p, ok := storagePools[bits.TrailingZeros(uint(size))-minStorageShift].Get().(*byte); ok {
			return unsafe.Slice(p, size)
		}
	}
	return make([]byte, size)
}

// putStorage gives an array obtained from getStorage back to its pool.
// Arrays above maxPooled are left to the garbage collector.
func putStorage(buf []byte) {
	if len(buf) == 0 || len(buf) > maxPooled {
		return
	}
	storagePools[bits.TrailingZeros(uint(len(buf)))-minStorageShift].Put(&buf[0])
}
