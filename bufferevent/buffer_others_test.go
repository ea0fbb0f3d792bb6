//go:build !linux

package bufferevent

import (
	"errors"
	"testing"
)

// fuzzFd checks that ReadFd and WriteFd report that they are unsupported
// here, and returns the model unchanged.
func fuzzFd(t *testing.T, b *Buffer, m []byte, read bool, ctl byte, max, limit int, src []byte) []byte {
	t.Helper()
	var err error
	if read {
		_, err = b.ReadFd(0, max)
	} else {
		_, err = b.WriteFd(0, max)
	}
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("fd I/O error = %v, want errors.ErrUnsupported", err)
	}
	return m
}
