package main

import "slices"

// percentile returns element floor((n-1)*q/100) of v sorted ascending; it
// sorts v in place. v must not be empty.
func percentile(v []int64, q int) int64 {
	slices.Sort(v)
	return v[(len(v)-1)*q/100]
}
