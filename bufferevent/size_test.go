//go:build linux

package bufferevent

import (
	"errors"
	"math"
	"testing"
	"unsafe"

	"github.com/levent-go/levent/event"
)

// A BufferEvent is what every connection costs a server (with the method
// value its read event calls, 16 bytes more, its buffers, 128 more, once
// it has carried data, and its write event once its writes first find the
// socket full): keep it in the 224-byte size class, and the buffers in
// the 128-byte one.
func TestBufferEventSize(t *testing.T) {
	if n := unsafe.Sizeof(BufferEvent{}); n > 224 {
		t.Errorf("BufferEvent is %d bytes, want at most 224", n)
	}
	if n := unsafe.Sizeof(bevBuffers{}); n > 128 {
		t.Errorf("Input and Output are %d bytes, want at most 128", n)
	}
	if n := unsafe.Sizeof(Buffer{}); n > 64 {
		t.Errorf("Buffer is %d bytes, want at most 64", n)
	}
	if n := unsafe.Sizeof(writeEv{}); n > 112 {
		t.Errorf("the write event is %d bytes, want at most 112, the size class of an Event alone", n)
	}
}

// Watermarks are kept in 32 bits: larger ones are refused, not cut.
func TestWatermarkAbove2GiBIsRefused(t *testing.T) {
	b := startLoop(t)
	bev := newBev(t, b, -1, 0)
	defer bev.Free()
	big64 := int64(math.MaxInt32) + 1
	big := int(big64) // on 32-bit platforms it wraps negative: refused too
	for _, tc := range []struct {
		what      event.Flag
		low, high int
	}{
		{event.Read, 0, big},
		{event.Read, big, 0},
		{event.Write, big, 0},
	} {
		if err := bev.SetWatermark(tc.what, tc.low, tc.high); !errors.Is(err, ErrWatermark) {
			t.Errorf("SetWatermark(%v, %d, %d): got %v, want ErrWatermark", tc.what, tc.low, tc.high, err)
		}
	}
	if err := bev.SetWatermark(event.Read, 1, math.MaxInt32); err != nil {
		t.Errorf("SetWatermark(Read, 1, MaxInt32): %v", err)
	}
}
