// Command levbench runs the event-loop micro-benchmarks defined in
// bench/SPEC.md on levent, or on Go's runtime timers, and prints one
// "bench=" line per run in the same format as the libevent reference
// program (bench/c/levbench.c), so the two can be compared side by side.
//
// Usage:
//
//	levbench [-impl=levent|go-runtime-timers] SUBCOMMAND ARGS...
//
//	levbench pipechain PIPES ACTIVE WRITES [ITERS=25] [FDS=duplex|pair]
//	levbench timer_churn N [R=10] [COMMON=0|1]
//	levbench timer_fire N [PRECISE=0|1]
//	levbench activate [M=10000000]
//	levbench loop_once [M=1000000]
//	levbench memory [N=1000000]
//
// -impl defaults to $LEVBENCH_IMPL, then to levent. go-runtime-timers
// implements timer_churn (time.AfterFunc, Reset, Stop), timer_fire and
// memory with the standard library's timers instead of levent.
//
// timer_churn's COMMON=1, an addition to SPEC.md that levbench.c shares,
// gives every timer one 10 s timeout: on libevent from
// event_base_init_common_timeout, on levent from Base.InitCommonTimeout;
// the line ends with common=0|1.
//
// levent has a single timer mode: deadlines are kept in nanoseconds of the
// monotonic clock and the wait is precise to the nanosecond, so timer_fire
// always prints precise=1 whatever PRECISE asks for.
//
// A failed check (a lost byte, a timer that did not fire, a wrong callback
// count) prints an error to stderr and exits with status 1; bad arguments
// exit with status 2.
package main
