//go:build !linux

package signal

// openWake returns ErrUnsupported: only Linux has a wake-up descriptor so
// far (a pipe would do elsewhere).
func openWake() (int, error) { return -1, ErrUnsupported }

func writeWake(fd int) error { return ErrUnsupported }

func drainWake(fd int, buf *[8]byte) {}

func closeWake(fd int) error { return ErrUnsupported }
