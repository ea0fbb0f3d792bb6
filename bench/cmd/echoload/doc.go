// Command echoload is the load generator of levent's echo benchmark
// (bench/echo.sh). It opens connections to an echo server on the loopback
// interface, keeps a fixed number of messages in flight on each, checks
// every byte that comes back, and prints one line of results.
//
// Usage:
//
//	echoload -addr 127.0.0.1:9001 -conns 100 -size 64 -depth 16 \
//	    -duration 10s -warmup 2s [-idle 10000] [-pid PID]
//
// Each of the -conns active connections starts by sending -depth messages
// of -size bytes and sends a new one each time a whole message has come
// back, so exactly -depth messages are in flight per connection. The -idle
// extra connections connect and send nothing. Message number seq of
// connection c carries c<<40|seq in its first 8 bytes (little endian) and a
// slice of a fixed pseudo-random block, chosen by seq and c, after them, so
// a server that loses, duplicates, reorders or mixes up bytes between
// connections is caught at the first wrong byte.
//
// The load runs for -warmup, then the counters are reset and the measured
// window of -duration begins. The result line has space-separated
// key=value tokens:
//
//	echoload conns=100 idle=0 size=64 depth=16 secs=10.00 msgs=...
//	msgs_per_s=... mb_per_s=... p50_us=... p99_us=... errors=0
//	client_cpu_s=... other_cpu_s=... steal_s=... [srv_...]
//
// msgs_per_s counts messages echoed whole in the window; mb_per_s is
// msgs_per_s*size in 10^6 bytes per second, one direction. p50_us and p99_us
// are percentiles of the round trip of each message, from the moment the
// client queued it to the moment its last byte was read back, in
// microseconds (a log-linear histogram, within 1.6%). errors counts
// connections that failed: a wrong byte, a reset, an early close, an idle
// connection the server dropped. client_cpu_s is this process's own user
// plus system time in the window (getrusage), so that a reader can see
// whether the client, rather than the server, was the bottleneck.
// other_cpu_s is the task time of the whole machine in the window
// (/proc/stat: user, nice and system of every CPU) less the client's and,
// with -pid, the server's: what other programs took from a benchmark that
// should have the machine to itself. steal_s is the time the hypervisor
// took from the machine's CPUs. Both say how far to trust a run.
//
// With -pid, echoload also reads the server's /proc files: srv_cpu_s is
// the server's utime+stime over the window (/proc/PID/stat, all threads),
// srv_ns_per_msg that divided by the messages, srv_rss_kb and srv_hwm_kb
// its VmRSS and VmHWM at the end, srv_idle_bytes_per_conn the growth of
// VmRSS from before the first connection to after the server accepted every
// idle connection, divided by -idle, and srv_bytes_per_conn the growth of
// VmRSS by the end of the window divided by all connections. With -pid it
// also waits, up to -wait, for the server to be listening (/proc/net/tcp)
// before connecting.
//
// For efficiency the whole client is one goroutine on raw epoll
// (golang.org/x/sys/unix), with GOMAXPROCS 1 by default (-procs); reads and
// writes on its non-blocking sockets are raw system calls, which never
// block. It raises its soft RLIMIT_NOFILE to the hard limit, and closes its
// connections with a reset (SO_LINGER 0) so that repeated runs leave no
// TIME_WAIT sockets behind. Only IPv4 addresses in 127.0.0.0/8 are accepted.
//
// Exit status: 0 on success, 1 if any connection failed or the run could
// not be made, 2 for bad flags.
package main
