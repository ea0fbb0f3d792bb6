package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBucketRangeHoldsItsValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []uint64{0, 1, 31, 32, 33, 63, 64, 65, 1000, 1 << 40, math.MaxUint64}
	for range 10000 {
		values = append(values, rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= nBuckets {
			t.Fatalf("bucketOf(%d) = %d, want 0..%d", v, i, nBuckets-1)
		}
		low, width := bucketRange(i)
		if v < low || v-low >= width {
			t.Fatalf("bucketOf(%d) = %d covering [%d, %d+%d), which misses it", v, i, low, low, width)
		}
		if low >= subBuckets && float64(width)/float64(low) > 1.0/subBuckets {
			t.Fatalf("bucket %d: width %d is more than 1/%d of %d", i, width, subBuckets, low)
		}
	}
}

func TestQuantileWithinHalfABucket(t *testing.T) {
	var h histogram
	for v := int64(1); v <= 100000; v++ {
		h.add(v * 1000) // 1 µs .. 100 ms
	}
	for _, tc := range []struct{ q, want float64 }{{0.50, 50000e3}, {0.99, 99000e3}, {0, 1e3}, {1, 100000e3}} {
		got := h.quantile(tc.q)
		if math.Abs(got-tc.want)/tc.want > 0.016 {
			t.Errorf("quantile(%v) = %.0f, want %.0f within 1.6%%", tc.q, got, tc.want)
		}
	}
}

func TestQuantileOfEmptyHistogramIsZero(t *testing.T) {
	var h histogram
	if got := h.quantile(0.5); got != 0 {
		t.Errorf("quantile of nothing = %v, want 0", got)
	}
}

func TestResetForgetsWarmUp(t *testing.T) {
	var h histogram
	h.add(5e9)
	h.reset()
	h.add(1000)
	if got := h.quantile(0.99); got > 1100 {
		t.Errorf("p99 after reset = %v, want about 1000", got)
	}
}

func TestNegativeLatencyCountsAsZero(t *testing.T) {
	var h histogram
	h.add(-5)
	if got := h.quantile(0.5); got != 0 {
		t.Errorf("quantile = %v, want 0", got)
	}
}

func BenchmarkHistogramAdd(b *testing.B) {
	var h histogram
	b.ReportAllocs()
	for i := range b.N {
		h.add(int64(i) * 37)
	}
}
