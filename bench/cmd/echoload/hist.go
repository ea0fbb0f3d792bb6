package main

import "math/bits"

// A histogram counts latencies in nanoseconds in log-linear buckets: values
// below subBuckets have a bucket each, and every power of two above is cut
// into subBuckets equal buckets, so a bucket is at most 1/32 of its lower
// bound wide and the reported midpoint is within 1.6% of any value in it.
// Adding is a few instructions and allocates nothing, which keeps the
// client's cost per message small.
const (
	subBits    = 5
	subBuckets = 1 << subBits
	nBuckets   = (65 - subBits) * subBuckets // the last holds values of 64 bits
)

type histogram struct {
	counts [nBuckets]uint64
	n      uint64
}

// bucketOf returns the bucket of v.
func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1 // v>>e is in [subBuckets, 2*subBuckets)
	return (e+1)*subBuckets + int(v>>e) - subBuckets
}

// bucketRange returns the lowest value of bucket i and its width.
func bucketRange(i int) (low, width uint64) {
	if i < subBuckets {
		return uint64(i), 1
	}
	e := i/subBuckets - 1
	m := uint64(i%subBuckets + subBuckets)
	return m << e, 1 << e
}

func (h *histogram) add(ns int64) {
	if ns < 0 {
		ns = 0
	}
	h.counts[bucketOf(uint64(ns))]++
	h.n++
}

func (h *histogram) reset() { *h = histogram{} }

// quantile returns the value of rank floor((n-1)*q) in ascending order (the
// rule bench/SPEC.md uses), as the midpoint of its bucket; 0 when empty.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(float64(h.n-1) * q)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			low, width := bucketRange(i)
			return float64(low) + float64(width-1)/2
		}
	}
	return 0 // not reached: the counts add up to n
}
