//go:build !linux

package main

import (
	"errors"
	"io"
)

// load needs epoll and /proc, which only Linux has.
func load(config, io.Writer) (result, error) {
	return result{}, errors.New("echoload runs only on Linux")
}
