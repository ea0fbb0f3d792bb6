package main

import (
	"bytes"
	"fmt"
	"strconv"
)

// compute answers one request line as factor(1) does: "12: 2 2 3". It
// gives up, returning false, when stop is closed.
func compute(line []byte, stop <-chan struct{}) ([]byte, bool) {
	s := string(bytes.TrimSpace(line))
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return []byte(fmt.Sprintf("error: %q is not a valid unsigned integer\n", s)), true
	}
	fs, ok := factor(n, stop)
	if !ok {
		return nil, false
	}
	b := strconv.AppendUint(nil, n, 10)
	b = append(b, ':')
	for _, f := range fs {
		b = append(b, ' ')
		b = strconv.AppendUint(b, f, 10)
	}
	return append(b, '\n'), true
}

// factor returns n's prime factors in ascending order, by trial division.
// It checks stop every 32768 divisors and gives up, returning false, once
// it is closed.
func factor(n uint64, stop <-chan struct{}) ([]uint64, bool) {
	var fs []uint64
	for n > 1 && n%2 == 0 {
		fs = append(fs, 2)
		n /= 2
	}
	for d := uint64(3); d <= n/d; d += 2 {
		if d&0xffff == 1 {
			select {
			case <-stop:
				return nil, false
			default:
			}
		}
		for n%d == 0 {
			fs = append(fs, d)
			n /= d
		}
	}
	if n > 1 {
		fs = append(fs, n)
	}
	return fs, true
}
