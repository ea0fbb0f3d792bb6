// Package signal is levent's signal source: it turns process signals into
// read readiness on one descriptor, so that an event base waits for
// signals in the same poll as for sockets and timers. It is libevent's
// evsignal (signal.c, struct evsig_info), done the one way that works in a
// Go process. The event base uses it for its signal events; programs
// rarely need it directly.
//
//	libevent (signal.c)                      levent
//	evsig_info                               Source
//	ev_signal_pair (socketpair), read end    Fd (an eventfd)
//	evsig_set_handler / sigaction            Watch (os/signal.Notify)
//	evsig_restore_handler (sh_old)           last Unwatch (os/signal.Stop)
//	evsig_handler: write one byte per signal deliver goroutine: count, wake
//	evsig_cb: read bytes, ncaught[sig]++     Read: []Delivery{Sig, Count}
//	evmap_signal_active_(base, sig, ncalls)  the base, for each Delivery
//
// # Why not signalfd, and why not a handler of our own
//
// libevent installs its own sigaction handler, which writes the signal
// number into a socketpair whose other end the base polls. A Go library
// cannot: the Go runtime owns every signal handler in the process. The
// other Linux way, signalfd, only receives a signal that is blocked in
// every thread, and the runtime starts threads whenever it likes with
// SIGINT, SIGTERM, SIGHUP and the others it handles unblocked. Measured:
// a Go program that blocked SIGUSR1 in its own thread and read a signalfd
// received none of 20 kill(getpid(), SIGUSR1), and the same program was
// killed by its first SIGINT, because another thread took it with the
// default action.
//
// So a Source takes signals the way every Go program does, with
// os/signal.Notify on channels of its own, counts them per signal number,
// and makes an eventfd readable so that the loop wakes. It never calls
// os/signal.Reset or Ignore: those change the signal for the whole process
// and would take it away from any other code that asked for it.
//
// # How a signal travels
//
// The kernel runs the runtime's handler, which sets a bit; the runtime's
// signal goroutine passes the signal to os/signal, which sends it, without
// blocking, on every channel registered for it, ours included. Each watched
// signal has its own buffered channel and its own goroutine, which adds one
// to that signal's atomic counter and writes the eventfd only if no
// wake-up is already pending (a compare-and-swap on a flag, as Go's
// netpollBreak does), so a burst costs one write. Read drains the eventfd,
// clears the flag and then takes the counters; in that order no wake-up is
// lost (see Read's body for the argument). Nothing on this path allocates.
//
// One channel per signal is what makes Unwatch exact: os/signal.Stop stops
// a whole channel, so with one shared channel, unwatching one signal would
// mean stopping all of them and registering the rest again, and in between
// a SIGINT would kill the process. One goroutine per channel, rather than
// one goroutine selecting over all of them, because a select over a set
// that changes at run time needs reflect.Select, which allocates on every
// call and must be interrupted and rebuilt on every Watch and Unwatch; a
// parked goroutine costs a few kilobytes, and there are at most 62.
//
// Channels hold 64 signals. os/signal drops a signal when a channel is
// full, but a standard signal is already merged by the kernel while one is
// pending, and again by the runtime until its signal goroutine runs, so a
// full channel only loses what the kernel would have merged in a slightly
// busier moment. Counts are therefore lower bounds, exactly as with
// libevent: after a burst of n kills, Read reports between 1 and n.
// Real-time signals are merged the same way, since the runtime records
// them as one bit each.
//
// # Several sources, and the rest of the program
//
// os/signal delivers each signal to every channel registered for it, so
// several Sources (several event bases) can watch the same signal, and
// each sees every delivery, alongside any signal.Notify elsewhere in the
// program. When the last Unwatch of a signal stops its channel, the signal
// goes back to what it did before the first Watch (Ctrl+C kills the process
// again) unless some other channel in the process still asks for it. Close
// unwatches everything.
//
// Only Linux is supported for now; elsewhere NewSource returns
// ErrUnsupported.
package signal
