// Package timer is the timer queue levent's event base uses for every
// timeout. It plays the part of libevent's timeheap (min_heap.h, the heap of
// struct event ordered by ev_timeout), built on github.com/google/btree's
// generic BTreeG instead of an array heap.
//
// An Entry is one timer, held inside the object being timed; a Queue orders
// the scheduled entries by deadline, then by the order of the Schedule
// calls, so equal deadlines come out first-in first-out (libevent leaves
// their order unspecified). Deadlines are int64 nanoseconds on any monotonic
// scale the caller chooses.
//
//	Schedule    add, or move if already scheduled   (event_add with a timeout)
//	Remove      unschedule                          (event_del)
//	Purge       unschedule and forget now           (event_free)
//	Min         earliest entry                      (min_heap_top)
//	WakeTime    when to wake, at or before Min      (timeout_next)
//	PopExpired  take the earliest entry due by now  (timeout_process)
//
// Adding an entry, moving it and removing it cost O(1) at the call, as in
// Go's runtime timers: the tree keeps the entry where it was (a new entry
// waits on a list), and Min, WakeTime and PopExpired repair its position
// lazily, once, when it matters. Min is exact, so it repairs whatever
// stands before the earliest entry. An event loop that sleeps until
// WakeTime instead, a lower bound, and then calls PopExpired gets the
// runtime's bargain: an entry moved later is repaired only when its old
// deadline passes, and entries added or moved earlier only when one of
// them may be due, sorted, which at a million timers takes about half the
// time of as many inserts at random places (a long list goes in over
// several passes, so that no pass holds the loop for long). The commonest
// timer of a server, a connection's idle timeout pushed later on every
// read, then costs one tree update per timeout period at most. Purge costs
// O(log n).
//
// A Queue is not safe for concurrent use: reads and writes need external
// synchronisation (the event base guards its queue with its own lock). The
// package does not import the rest of levent.
package timer
