// Package event is levent's event loop: libevent's event_base, event and
// evtimer, in pure Go.
//
// A Base watches descriptors, timers and signals and runs callbacks when
// they fire. An Event says what to watch and which Callback to run. The
// calls map one to one onto libevent's:
//
//	event_base_new / _with_config   NewBase / NewBaseWithConfig
//	event_base_dispatch / _loop     (*Base).Dispatch / Loop
//	event_base_loopexit / _break    (*Base).LoopExit / LoopBreak
//	event_base_once                 (*Base).Once
//	event_base_free                 (*Base).Close
//	event_new / event_assign        New / (*Event).Assign
//	evtimer_new / evsignal_new      NewTimer / NewSignal
//	event_add / event_del           (*Event).Add / Del
//	event_active / event_pending    (*Event).Active / Pending
//	event_free                      (*Event).Free
//	event_base_foreach_event        (*Base).ForeachEvent
//	event_base_init_common_timeout  (*Base).InitCommonTimeout
//	event_base_dump_events          (*Base).Dump
//	EV_READ, EV_WRITE, EV_PERSIST   Read, Write, Persist (same bit values)
//
// Closures replace libevent's void *arg, time.Duration replaces struct
// timeval, and (*Base).Submit is the Go way to hand work to the loop from
// another goroutine.
//
// # Life cycle of an event
//
// New (or Assign) makes an event initialized: it watches nothing yet. Add
// makes it pending: the base now waits for its conditions (a descriptor
// becoming readable or writable, a signal, the timeout passing). When one
// of them happens the event becomes active and its callback runs in the
// current loop iteration. A non-persistent event stops being pending before
// its callback runs, so the callback may Add it again; a Persist event stays
// pending, and its timeout, if it has one, is re-armed each time it fires,
// which makes a periodic timer. Del makes an event non-pending again and
// takes it off the active queue; Free releases it for good.
//
//	New ─► initialized ─Add─► pending ─fires─► active ─► callback ─┐
//	           ▲                 ▲                                  │
//	           │                 └──────────── Persist ─────────────┤
//	           └────────────────── otherwise ───────────────────────┘
//
// # One iteration of the loop
//
// The loop flushes descriptor changes to the kernel, waits until something
// is ready or the earliest deadline comes, marks ready descriptors' events
// active (OR-ing the conditions that fired), then expired timers, then runs
// the functions handed over by Submit, then the callbacks of the most
// urgent priority that has active events. Dispatch returns when no event is
// pending or active, or after LoopExit or LoopBreak.
//
// Deadlines are read from the monotonic clock in nanoseconds, so no timer
// fires before its deadline, and the wait ends at the deadline to the
// nanosecond where the kernel has epoll_pwait2. Linux may still end the
// wait up to 50 µs late (the thread's timer slack); Config.PreciseTimer
// (EVENT_BASE_FLAG_PRECISE_TIMER) removes that slack.
//
// # Goroutines
//
// Callbacks always run on the goroutine that called Dispatch or Loop, one
// at a time, without the base's lock held, so a callback may call anything.
// Add, Del, Active, Free, RemoveTimer, Submit, LoopExit and LoopBreak are
// safe from any goroutine and wake a loop blocked in the kernel promptly (an
// eventfd, as libevent's notify) whenever they change what the loop would
// do next: new work, an earlier or later next deadline, or nothing left to
// wait for, which ends Dispatch. A change that leaves the sleep's outcome
// as it was writes no wake-up, and a loop that is awake is never woken.
// They never wait for a running callback: like
// time.Timer.Stop, Del promises only that no run of the callback begins
// after it returns. The other methods are for the loop's goroutine or for
// set-up before the loop runs.
//
// # Backends and descriptors
//
// epoll is the default on Linux and poll the fallback; LEVENT_NOEPOLL and
// LEVENT_NOPOLL in the environment, or Config.AvoidMethods, exclude one.
// io_uring (readiness through IORING_OP_POLL_ADD, every change and the
// sleep in one io_uring_enter per iteration) is used only when asked for,
// by Config.Method = "io_uring" or LEVENT_IOURING in the environment
// (LEVENT_NOIOURING overrides both); where the kernel refuses it the base
// runs on epoll and Base.MethodFallback says why. On io_uring a descriptor
// closed while watched stays open in the kernel until its event is
// deleted (the poll holds the file). The ring is set up with
// IORING_SETUP_COOP_TASKRUN, under which the kernel posts a completion
// through the thread that submitted the request when that thread next
// enters the kernel: so while Loop runs on io_uring its goroutine stays on
// one OS thread (runtime.LockOSThread), every request is submitted from
// there, and a change another goroutine makes while the loop sleeps wakes
// the loop to submit it, as on poll (a descriptor freed there stays open
// in the kernel until the loop has woken and cancelled its poll).
//
// A Read event with Recv on a stream socket lets io_uring receive for it: a
// multishot recv fills buffers from one ring the base lends the kernel, the
// event fires once data has arrived, and (*Base).Recv copies it out, so a
// message costs no read(2). A stream that sends large pieces (one fills a
// whole ring buffer) is read with read(2) on readiness instead, until its
// reads are short again: a piece split across ring buffers costs a
// completion and a copy per buffer where one read(2) takes it whole. On the
// other backends (and kernels before 6.3) Recv changes nothing and
// (*Base).Recv is read(2); Base.Receives says which.
//
// Likewise a Read event with Accept on a listening socket lets io_uring
// accept for it: a multishot accept takes connections off the backlog as
// they arrive (a bounded number per socket; the backlog holds the rest),
// the event fires while any wait, and (*Base).Accept hands them out with no
// accept4(2), non-blocking and close-on-exec as accept4 would make them.
// Deleting the event keeps them for when it is added again; freeing it
// closes those nobody took. Elsewhere (and before Linux 6.3) Accept changes
// nothing and (*Base).Accept is accept4(2); Base.Accepts says which.
//
// And a Write event with Send on a stream socket lets io_uring send for
// it: (*Base).Send queues an IORING_OP_SEND (IORING_OP_SENDMSG for data in
// two parts) that goes to the kernel with the io_uring_enter the loop makes
// to wait anyway, so a loop iteration's sends cost no system call of their
// own; the send waits for room inside the kernel, the event fires when it
// has completed, and (*Base).Sent gives its count or errno. The bytes stay
// the kernel's until then; one send per descriptor is in flight, and
// deleting the event lets it finish. Elsewhere Send changes nothing, the
// event fires on writability and (*Base).Send is writev(2); Base.Sends
// says which.
//
// Several events may watch one descriptor; their interest is counted and
// the kernel is told only when the total changes, batched until the loop
// next waits, so deleting and re-adding an event costs no system call. ET
// (edge-triggered) and level-triggered events cannot be mixed on one
// descriptor. The base never closes a descriptor it did not create. Free
// (not Del) takes a descriptor out of the kernel at once, so close it after
// Free; a number that is closed and reused is recognised by a generation
// tag, so a stale readiness report never reaches the number's next owner.
package event
