//go:build !linux

package poller

// Methods lists the backends of this platform, best first: none yet.
func Methods() []string { return nil }

// Open returns ErrUnsupported: only linux has backends so far.
func Open(name string) (Poller, error) { return nil, ErrUnsupported }

// Waker is not available on this platform.
type Waker struct{}

// NewWaker returns ErrUnsupported.
func NewWaker() (*Waker, error) { return nil, ErrUnsupported }

// Fd returns -1.
func (w *Waker) Fd() int { return -1 }

// Wake does nothing.
func (w *Waker) Wake() error { return ErrUnsupported }

// Drain does nothing.
func (w *Waker) Drain() {}

// Pending reports false: nothing is ever written.
func (w *Waker) Pending() bool { return false }

// Close does nothing.
func (w *Waker) Close() error { return nil }

// FineSleep does nothing: only Linux's timer slack is handled so far.
func FineSleep() {}

// TimerSlack returns ErrUnsupported.
func TimerSlack() (int, error) { return 0, ErrUnsupported }

// Read is read(2); there is none here.
func Read(fd int, p []byte) (int, error) { return 0, ErrUnsupported }

// OptInMethods lists the backends chosen only by name: none here.
func OptInMethods() []string { return nil }

// Write is writev(2); there is none here.
func Write(fd int, p0, p1 []byte) (int, error) { return 0, ErrUnsupported }

// Accept4 is accept4(2); there is none here.
func Accept4(fd int) (int, error) { return -1, ErrUnsupported }
