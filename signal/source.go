package signal

import (
	"fmt"
	"os"
	ossignal "os/signal"
	"sync"
	"sync/atomic"
	"syscall"
)

// maxSignal is the highest signal number Linux has (NSIG-1).
const maxSignal = 64

// chanBuffer is the capacity of each signal's channel. os/signal never
// blocks: it drops a signal when the channel is full. The kernel already
// merges a standard signal that arrives while one is pending, and the Go
// runtime merges again until its signal goroutine runs, so a channel only
// fills if the delivery goroutine is starved while the runtime keeps
// sending; 64 gives that goroutine ample slack, and a drop then costs no
// more than the merging the kernel does anyway.
const chanBuffer = 64

// Delivery says that Sig arrived Count times since the previous Read.
type Delivery struct {
	Sig   syscall.Signal
	Count uint64
}

// Source turns signals into read readiness on one descriptor, for one
// event base (libevent's evsig_info). Create it with NewSource; a zero
// Source behaves as a closed one. All methods are safe from any goroutine;
// Read is meant for the goroutine that waits on Fd.
type Source struct {
	fd int // the eventfd; open from NewSource until Close

	// Written by the delivery goroutines, without mu.
	pending atomic.Bool                  // a wake-up was written to fd and Read has not drained it
	counts  [maxSignal + 1]atomic.Uint64 // deliveries per signal not yet returned by Read

	mu      sync.Mutex
	open    bool                 // from NewSource until Close
	watches [maxSignal + 1]watch // indexed by signal number
	rbuf    [8]byte              // eventfd read buffer; here so Read allocates nothing
}

// watch is the delivery state of one signal. refs > 0 if and only if ch is
// registered with os/signal and a deliver goroutine is reading it.
type watch struct {
	refs int
	ch   chan os.Signal
	done chan struct{} // closed when the deliver goroutine returns
}

// NewSource creates the eventfd. No goroutine starts until the first Watch.
func NewSource() (*Source, error) {
	fd, err := openWake()
	if err != nil {
		return nil, err
	}
	return &Source{fd: fd, open: true}, nil
}

// Fd returns the descriptor to register for read readiness, level-triggered.
// It stays open until Close, and only Close closes it; after Close, Fd
// returns -1. Do not read it: Read does.
func (s *Source) Fd() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return -1
	}
	return s.fd
}

// Watch starts counting deliveries of sig. Watches are counted: the first
// Watch of sig asks os/signal for it (from then on the signal no longer has
// its default action, e.g. Ctrl+C stops killing the process), and each
// Watch needs its own Unwatch.
func (s *Source) Watch(sig syscall.Signal) error {
	w, err := s.lockWatch(sig)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	if w.refs == 0 {
		s.start(sig)
	}
	w.refs++
	return nil
}

// Unwatch undoes one Watch of sig. The last Unwatch stops sig's channel with
// os/signal's Stop, so that the signal does again what it did before the
// first Watch (unless other code in the process still asks for it), and
// discards the deliveries of sig that Read has not returned yet. When it
// returns, sig will not show up in Read until the next Watch.
func (s *Source) Unwatch(sig syscall.Signal) error {
	w, err := s.lockWatch(sig)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	if w.refs == 0 {
		return fmt.Errorf("%w: %s", ErrNotWatched, signalName(sig))
	}
	w.refs--
	if w.refs == 0 {
		s.stop(sig)
		s.counts[sig].Store(0)
	}
	return nil
}

// Read drains Fd and appends to dst one Delivery for each signal that
// arrived since the previous Read, in ascending signal order, and returns
// the extended slice. It allocates nothing when dst has room for every
// watched signal. A Read that finds nothing (Fd can be readable for
// deliveries that an earlier Read already returned) returns dst unchanged;
// so does a Read after Close.
func (s *Source) Read(dst []Delivery) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return dst
	}
	// Drain, then clear the flag, then take the counts. A delivery adds to
	// its count before it looks at the flag, so one that sees the flag
	// still set has its count taken below, and one that sees it clear
	// writes fd again and is returned by the next Read. Clearing before
	// draining would be wrong: the drain could swallow a write made after
	// the clear, leaving the flag set with nothing to read, and every later
	// wake-up would be skipped.
	drainWake(s.fd, &s.rbuf)
	s.pending.Store(false)
	for sig := 1; sig <= maxSignal; sig++ {
		c := &s.counts[sig]
		if c.Load() == 0 { // a plain load first: most signals have nothing
			continue
		}
		if n := c.Swap(0); n > 0 {
			dst = append(dst, Delivery{Sig: syscall.Signal(sig), Count: n})
		}
	}
	return dst
}

// Close unwatches every signal, waits until its goroutines have returned
// and closes Fd. Calling it again returns ErrClosed.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return ErrClosed
	}
	s.open = false
	for sig := 1; sig <= maxSignal; sig++ {
		if s.watches[sig].refs > 0 {
			s.stop(syscall.Signal(sig))
			s.watches[sig].refs = 0
			s.counts[sig].Store(0)
		}
	}
	return closeWake(s.fd)
}

// lockWatch checks sig, locks mu and returns sig's watch. On error mu is
// not held.
func (s *Source) lockWatch(sig syscall.Signal) (*watch, error) {
	if err := checkSignal(sig); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if !s.open {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	return &s.watches[sig], nil
}

// start registers a channel for sig and starts its deliver goroutine.
// Called with mu held and sig not yet watched.
func (s *Source) start(sig syscall.Signal) {
	w := &s.watches[sig]
	w.ch = make(chan os.Signal, chanBuffer)
	w.done = make(chan struct{})
	ossignal.Notify(w.ch, sig)
	go s.deliver(&s.counts[sig], w.ch, w.done)
}

// stop unregisters sig's channel and waits for its goroutine, which counts
// whatever was still buffered. Called with mu held and sig watched.
func (s *Source) stop(sig syscall.Signal) {
	w := &s.watches[sig]
	ossignal.Stop(w.ch) // after Stop returns, nothing is sent on w.ch,
	close(w.ch)         // so closing it is safe and ends deliver's loop
	<-w.done
	w.ch, w.done = nil, nil
}

// deliver is the goroutine of one watched signal: the part of libevent's
// evsig_handler that records the signal and writes to the socketpair.
// Each receive costs an atomic add, a compare-and-swap, and a write only
// when no wake-up is pending; nothing allocates.
func (s *Source) deliver(count *atomic.Uint64, ch <-chan os.Signal, done chan<- struct{}) {
	defer close(done)
	for range ch {
		count.Add(1)
		s.wake()
	}
}

// wake makes fd readable unless a wake-up is already pending, so a burst of
// signals costs one write (Go's netpollBreak does the same).
func (s *Source) wake() {
	if !s.pending.CompareAndSwap(false, true) {
		return
	}
	// fd stays open until Close, which waits for every deliver goroutine,
	// so the write can only fail in ways that leave fd unreadable. Clear
	// the flag then, so that the next delivery tries again; its count, and
	// this one's, are still there.
	if writeWake(s.fd) != nil {
		s.pending.Store(false)
	}
}

// checkSignal rejects numbers no process can catch.
func checkSignal(sig syscall.Signal) error {
	switch {
	case sig <= 0 || sig > maxSignal:
		return fmt.Errorf("%w: %d is outside 1..%d", ErrBadSignal, int(sig), maxSignal)
	case sig == syscall.SIGKILL || sig == syscall.SIGSTOP:
		return fmt.Errorf("%w: %s cannot be caught", ErrBadSignal, signalName(sig))
	}
	return nil
}

// signalName names sig in errors: "SIGKILL" says more than "killed".
func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGSTOP:
		return "SIGSTOP"
	}
	return fmt.Sprintf("signal %d (%v)", int(sig), sig)
}
