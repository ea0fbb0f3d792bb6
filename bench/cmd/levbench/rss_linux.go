package main

import (
	"fmt"
	"os"
)

// rssBytes is the resident set size: resident pages from /proc/self/statm
// times the page size.
func rssBytes() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		return 0, fmt.Errorf("parsing /proc/self/statm: %w", err)
	}
	return resident * int64(os.Getpagesize()), nil
}
