package poller

import "golang.org/x/sys/unix"

// FineSleep makes the calling thread's timed sleeps end as close to their
// deadline as the kernel can, by setting its timer slack to 1 ns
// (prctl PR_SET_TIMERSLACK). By default Linux lets a normal thread's
// sleep, an epoll_wait timeout included, run up to 50 µs past its end, so
// that nearby wake-ups can be served together; a loop that sleeps until
// its next timer then fires that timer up to 50 µs late. libevent's
// EVENT_BASE_FLAG_PRECISE_TIMER arms a timerfd instead, whose expiry no
// slack delays; the slack also covers the poll backend, and costs no
// descriptor.
//
// The setting belongs to the thread, not the goroutine: call it just
// before each sleep, because Go may move the goroutine to another thread
// between sleeps, and goroutines that run on the thread later keep it.
// It costs one system call and cannot fail for the calling thread.
func FineSleep() {
	unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_TIMERSLACK, 1, 0, 0, 0, 0)
}

// TimerSlack returns the calling thread's timer slack in nanoseconds
// (prctl PR_GET_TIMERSLACK).
func TimerSlack() (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_GET_TIMERSLACK, 0, 0, 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
