package signal

import (
	"errors"
	"fmt"
)

// Errors returned by the package; match them with errors.Is. Failing system
// calls come back as *os.SyscallError instead.
var (
	// ErrClosed is returned by every method of a Source after Close.
	ErrClosed = errors.New("signal: source closed")

	// ErrBadSignal is returned by Watch and Unwatch for a number outside
	// 1..64 and for SIGKILL and SIGSTOP, which no process can catch.
	ErrBadSignal = errors.New("signal: invalid signal")

	// ErrNotWatched is returned by Unwatch for a signal that has no Watch
	// left to undo.
	ErrNotWatched = errors.New("signal: signal not watched")

	// ErrUnsupported is returned by NewSource where the package has no
	// wake-up descriptor yet (everywhere but Linux).
	ErrUnsupported = fmt.Errorf("signal: %w on this platform", errors.ErrUnsupported)
)
