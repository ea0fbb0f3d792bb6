package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"
)

// config is what the flags ask for.
type config struct {
	addr     netip.AddrPort
	conns    int
	idle     int
	size     int
	depth    int
	duration time.Duration
	warmup   time.Duration
	pid      int           // server process to read /proc of; 0: none
	wait     time.Duration // how long to wait for the server to listen
	procs    int
}

// result is what one run measured.
type result struct {
	secs      float64 // measured window, wall clock
	msgs      uint64  // messages echoed whole in the window
	p50, p99  float64 // round trip, ns
	errors    int
	clientCPU time.Duration
	otherCPU  time.Duration // the machine's task time, less the client's and the server's
	steal     time.Duration // time the hypervisor stole from the machine's CPUs
	srv       *serverStats  // nil without -pid
}

// serverStats is what the server's /proc files said.
type serverStats struct {
	cpu              time.Duration // utime+stime over the window
	rssKB, hwmKB     int64         // VmRSS and VmHWM at the end
	idleBytesPerConn float64       // RSS growth per idle connection
	bytesPerConn     float64       // RSS growth per connection by the end
	idleMeasured     bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "echoload:", err)
		}
		return 2
	}
	runtime.GOMAXPROCS(cfg.procs)
	res, err := load(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "echoload:", err)
		return 1
	}
	fmt.Fprintln(stdout, formatResult(cfg, res))
	if res.errors > 0 {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("echoload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9001", "echo server `address`, IPv4 loopback only")
	fs.IntVar(&cfg.conns, "conns", 100, "active connections")
	fs.IntVar(&cfg.idle, "idle", 0, "extra connections that connect and send nothing")
	fs.IntVar(&cfg.size, "size", 64, "message size in `bytes` (at least 8)")
	fs.IntVar(&cfg.depth, "depth", 1, "messages in flight per active connection")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured window")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "load before the measured window")
	fs.IntVar(&cfg.pid, "pid", 0, "server process `id`: report its CPU time and memory from /proc")
	fs.DurationVar(&cfg.wait, "wait", 10*time.Second, "with -pid, how long to wait for the server to listen")
	fs.IntVar(&cfg.procs, "procs", 1, "GOMAXPROCS of the client")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil {
		return cfg, fmt.Errorf("-addr: %w", err)
	}
	if !ap.Addr().Is4() || !ap.Addr().IsLoopback() {
		return cfg, fmt.Errorf("-addr %s: only IPv4 loopback addresses (127.0.0.0/8) are allowed", ap)
	}
	cfg.addr = ap
	switch {
	case cfg.conns < 1:
		return cfg, fmt.Errorf("-conns %d: want at least 1", cfg.conns)
	case cfg.idle < 0:
		return cfg, fmt.Errorf("-idle %d: want 0 or more", cfg.idle)
	case cfg.size < headerLen:
		return cfg, fmt.Errorf("-size %d: want at least %d", cfg.size, headerLen)
	case cfg.depth < 1:
		return cfg, fmt.Errorf("-depth %d: want at least 1", cfg.depth)
	case cfg.duration <= 0:
		return cfg, fmt.Errorf("-duration %v: want more than 0", cfg.duration)
	case cfg.warmup < 0:
		return cfg, fmt.Errorf("-warmup %v: want 0 or more", cfg.warmup)
	case cfg.pid < 0:
		return cfg, fmt.Errorf("-pid %d: want a process id", cfg.pid)
	case cfg.procs < 1:
		return cfg, fmt.Errorf("-procs %d: want at least 1", cfg.procs)
	}
	return cfg, nil
}

// formatResult renders the result line (see the package documentation).
func formatResult(cfg config, r result) string {
	var b strings.Builder
	rate := 0.0
	if r.secs > 0 {
		rate = float64(r.msgs) / r.secs
	}
	fmt.Fprintf(&b, "echoload conns=%d idle=%d size=%d depth=%d secs=%.2f msgs=%d", cfg.conns, cfg.idle, cfg.size, cfg.depth, r.secs, r.msgs)
	fmt.Fprintf(&b, " msgs_per_s=%.0f mb_per_s=%.2f p50_us=%.1f p99_us=%.1f errors=%d client_cpu_s=%.3f other_cpu_s=%.2f steal_s=%.2f",
		rate, rate*float64(cfg.size)/1e6, r.p50/1e3, r.p99/1e3, r.errors, r.clientCPU.Seconds(), r.otherCPU.Seconds(), r.steal.Seconds())
	if s := r.srv; s != nil {
		perMsg := 0.0
		if r.msgs > 0 {
			perMsg = float64(s.cpu.Nanoseconds()) / float64(r.msgs)
		}
		fmt.Fprintf(&b, " srv_cpu_s=%.3f srv_ns_per_msg=%.0f srv_rss_kb=%d srv_hwm_kb=%d srv_bytes_per_conn=%.0f",
			s.cpu.Seconds(), perMsg, s.rssKB, s.hwmKB, s.bytesPerConn)
		if s.idleMeasured {
			fmt.Fprintf(&b, " srv_idle_bytes_per_conn=%.0f", s.idleBytesPerConn)
		}
	}
	return b.String()
}
