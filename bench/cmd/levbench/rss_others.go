//go:build !linux

package main

import "errors"

// rssBytes needs /proc/self/statm, which only Linux has.
func rssBytes() (int64, error) {
	return 0, errors.New("resident set size is only measured on Linux")
}
