package event

import "errors"

// Errors returned for misuse. Each names what was wrong; compare with
// errors.Is.
var (
	ErrClosed         = errors.New("event: base is closed")
	ErrNilBase        = errors.New("event: nil base")
	ErrFreed          = errors.New("event: event was freed")
	ErrNilCallback    = errors.New("event: nil callback")
	ErrBadFd          = errors.New("event: bad file descriptor")
	ErrBadFlags       = errors.New("event: unknown or conflicting flags")
	ErrPending        = errors.New("event: event is pending")
	ErrActive         = errors.New("event: event is active")
	ErrPriority       = errors.New("event: priority out of range")
	ErrTimeout        = errors.New("event: negative timeout")
	ErrMixedET        = errors.New("event: edge- and level-triggered events on one descriptor")
	ErrMixedRecv      = errors.New("event: Read events with and without Recv on one descriptor")
	ErrMixedSend      = errors.New("event: Write events with and without Send on one descriptor")
	ErrMixedAccept    = errors.New("event: Read events with and without Accept on one descriptor")
	ErrNotSupported   = errors.New("event: not supported by this backend")
	ErrNoMethod       = errors.New("event: no event method satisfies the configuration")
	ErrLoopRunning    = errors.New("event: the loop is already running")
	ErrNotInitialized = errors.New("event: event was not initialized with New or Assign")
	ErrTooManyEvents  = errors.New("event: 65,535 events of one kind already watch this descriptor")
)
