//go:build !linux

package bufferevent

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/levent-go/levent/event"
)

// errFdUnsupported is what ReadFd and WriteFd return outside Linux.
var errFdUnsupported = fmt.Errorf("bufferevent: ReadFd and WriteFd are not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// ReadFd reads from a file descriptor on Linux; elsewhere it returns an
// error matching errors.ErrUnsupported.
func (b *Buffer) ReadFd(fd int, max int) (int, error) { return 0, errFdUnsupported }

// WriteFd writes to a file descriptor on Linux; elsewhere it returns an
// error matching errors.ErrUnsupported.
func (b *Buffer) WriteFd(fd int, max int) (int, error) { return 0, errFdUnsupported }

func (b *Buffer) readFd(int, int, bool) (int, error)        { return 0, errFdUnsupported }
func (b *Buffer) recvFd(*event.Base, int, int) (int, error) { return 0, errFdUnsupported }
func (b *Buffer) writeFd(int, int, bool) (int, error)       { return 0, errFdUnsupported }

// setNonblock: descriptors are only supported on Linux.
func setNonblock(int) error { return errFdUnsupported }
