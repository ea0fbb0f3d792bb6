#!/usr/bin/env bash
# echo.sh builds levent's echo servers (bench/servers and examples/echo),
# the same server on libevent, gnet, nbio, Go's net, bare epoll and bare
# io_uring (C, liburing), and the
# load generator echoload, then runs every scenario against every server on
# one machine in one run and writes BENCHMARKS.md (tables of medians and
# ratios) and bench/echo.png (a chart).
#
#   bench/echo.sh                 full run: 3 repetitions (about 18 minutes)
#   QUICK=1 bench/echo.sh         smoke run: 1 repetition, 3 s windows (about 5 minutes)
#   REPS=5 bench/echo.sh          more repetitions
#   ONLY="levent-bev epoll" SCENARIOS="S1 S4" bench/echo.sh   a subset
#   OUT=dir bench/echo.sh         keep raw lines and logs in dir
#   BUSY_LIMIT=0.05 MAX_ATTEMPTS=3 MAX_RETRIES=30   repeat disturbed runs (see run_one)
#
# Every server runs pinned to CPU 0 and the load to CPU 1 (taskset); Go
# programs run with GOMAXPROCS=1, so every server does its I/O on one
# thread. For each scenario the servers take turns (s1 s2 ... s8, s1 s2
# ...), so a noisy neighbour slows them all rather than one. Each run
# starts a fresh server process, so its peak RSS is that scenario's.
#
# A full run writes BENCHMARKS.md at the top of the repository and
# bench/echo.png; a QUICK or partial run writes them into OUT unless
# REPORT= and PNG= name other files.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=$here/bin
quick=${QUICK:-0}
out=${OUT:-$(mktemp -d /tmp/echo-bench.XXXXXX)}
mkdir -p "$out/logs"
raw=$out/raw.txt
: >"$raw"
: >"$out/all.txt"
# A run during which other programs took more than busy_limit of a CPU is
# repeated, at most max_attempts times per run and max_retries times in all
# (which bounds the full run at about 22 minutes).
busy_limit=${BUSY_LIMIT:-0.05}
max_attempts=${MAX_ATTEMPTS:-3}
max_retries=${MAX_RETRIES:-30}
retries=0

if [[ $quick == 1 ]]; then
	reps=${REPS:-1} long=3s short=3s warm=${WARMUP:-1s}
else
	reps=${REPS:-3} long=10s short=8s warm=${WARMUP:-2s}
fi
partial=$quick
[[ -n ${ONLY:-} || -n ${SCENARIOS:-} ]] && partial=1
if [[ $partial == 1 ]]; then
	report=${REPORT:-$out/BENCHMARKS.md} png=${PNG:-$out/echo.png}
else
	report=${REPORT:-$root/BENCHMARKS.md} png=${PNG:-$here/echo.png}
fi

# name:port:binary[:server flags[:environment]], in the order they take
# turns.
# levent-example is examples/echo, the program the README tells users to
# run, built from the main module as `go run ./examples/echo` builds it;
# -quiet stops its per-message log line, as its doc says to for load tests.
# levent-uring is the same program on the io_uring backend, asked for by
# the environment as a user would.
all_servers=(
	levent-bev:9001:levent-bev
	levent-example:9008:levent-example:-quiet
	levent-uring:9009:levent-example:-quiet:LEVENT_IOURING=1
	levent-raw:9002:levent-raw
	gonet:9003:gonet
	gnet:9004:gnet
	nbio:9005:nbio
	libevent:9006:echo_libevent
	epoll:9007:echo_epoll
	uring-c:9010:echo_uring
)
# id:echoload flags.
all_scenarios=(
	"S1:-conns 100 -size 64 -depth 16 -duration $long"
	"S2:-conns 1000 -size 512 -depth 1 -duration $short"
	"S3:-conns 10 -size 65536 -depth 4 -duration $short"
	"S4:-idle 10000 -conns 100 -size 64 -depth 1 -duration $short"
)

servers=()
for s in "${all_servers[@]}"; do
	if [[ -z ${ONLY:-} || " $ONLY " == *" ${s%%:*} "* ]]; then servers+=("$s"); fi
done
scenarios=()
for s in "${all_scenarios[@]}"; do
	if [[ -z ${SCENARIOS:-} || " $SCENARIOS " == *" ${s%%:*} "* ]]; then scenarios+=("$s"); fi
done
((${#servers[@]} > 0 && ${#scenarios[@]} > 0)) || { echo "echo.sh: ONLY or SCENARIOS selects nothing" >&2; exit 2; }

for tool in go gcc taskset; do
	command -v $tool >/dev/null || { echo "echo.sh: $tool not found (taskset is in util-linux)" >&2; exit 1; }
done
if [[ ! -e /usr/include/event2/event.h ]]; then
	echo "echo.sh: libevent's headers are missing: apt-get install -y libevent-dev" >&2
	exit 1
fi

echo "building into $bin" >&2
mkdir -p "$bin"
(
	cd "$here"
	go build -o "$bin/echoload" ./cmd/echoload
	go build -o "$bin/echoplot" ./plot
	for s in levent-bev levent-raw gonet gnet nbio; do go build -o "$bin/$s" "./servers/$s"; done
)
(cd "$root" && go build -o "$bin/levent-example" ./examples/echo)
gcc -O2 -Wall -o "$bin/echo_libevent" "$here/c/echo_libevent.c" -levent
gcc -O2 -Wall -o "$bin/echo_epoll" "$here/c/echo_epoll.c"
if [[ " ${servers[*]} " == *" uring-c:"* ]]; then
	[[ -e /usr/include/liburing.h ]] || { echo "echo.sh: liburing's headers are missing: apt-get install -y liburing-dev" >&2; exit 1; }
	gcc -O2 -Wall -o "$bin/echo_uring" "$here/c/echo_uring.c" -luring
fi

# stop_server PID: SIGTERM, then SIGKILL after 5 s. Sets srv_exit to the
# exit status, "crashed:STATUS" if the server had died before, or
# "killed" if it ignored SIGTERM. (Not a command substitution: only this
# shell can wait for its child.)
stop_server() {
	local pid=$1 st=0 i
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" || st=$?
		srv_exit="crashed:$st"
		return
	fi
	kill -TERM "$pid"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" || true
		srv_exit=killed
		return
	fi
	wait "$pid" || st=$?
	srv_exit=$st
}

# attempt NAME PORT BINARY SERVER_FLAGS LOG ENV FLAGS...: one run of a fresh
# server under load; sets line to echoload's result line ("failed=1" if
# none) with the exit statuses added.
attempt() {
	local name=$1 port=$2 exe=$3 log=$5 rc=0 pid srvflags srvenv
	read -r -a srvflags <<<"$4"
	read -r -a srvenv <<<"$6"
	shift 6
	env ${srvenv[@]+"${srvenv[@]}"} GOMAXPROCS=1 taskset -c 0 "$bin/$exe" -addr "127.0.0.1:$port" ${srvflags[@]+"${srvflags[@]}"} >"$log.server" 2>&1 &
	pid=$!
	line=$(GOMAXPROCS=1 taskset -c 1 "$bin/echoload" -addr "127.0.0.1:$port" -pid "$pid" -warmup "$warm" "$@" 2>"$log.client") || rc=$?
	stop_server "$pid"
	[[ -n $line ]] || line="failed=1"
	line="$line echoload_exit=$rc srv_exit=$srv_exit"
	if [[ -s $log.client ]]; then sed "s/^/    /" "$log.client" >&2; fi
}

# others_share LINE: what other programs took of the window, in CPUs (0.05
# is 5% of one CPU); 9 when the run failed.
others_share() {
	awk '{ o = -1; s = 0
		for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "other_cpu_s") o = kv[2]; if (kv[1] == "secs") s = kv[2] }
		if (o < 0 || s <= 0) print 9; else printf "%.3f\n", o / s }' <<<"$1"
}

# run_one SCENARIO NAME PORT BINARY SERVER_FLAGS SERVER_ENV REP FLAGS...: a run, repeated while
# other programs took more than busy_limit of a CPU during its window (at
# most max_attempts times, and max_retries repeats in the whole script);
# the attempt the others disturbed least is kept. Every attempt goes to
# all.txt.
run_one() {
	local sc=$1 name=$2 port=$3 exe=$4 srvflags=$5 srvenv=$6 rep=$7 n=0 best="" best_share=99 share
	shift 7
	while :; do
		n=$((n + 1))
		attempt "$name" "$port" "$exe" "$srvflags" "$out/logs/$sc-$name-$rep-$n" "$srvenv" "$@"
		echo "scenario=$sc server=$name rep=$rep attempt=$n $line" >>"$out/all.txt"
		share=$(others_share "$line")
		if awk -v a="$share" -v b="$best_share" 'BEGIN { exit !(a < b) }'; then
			best=$line best_share=$share
		fi
		if awk -v a="$share" -v l="$busy_limit" 'BEGIN { exit !(a <= l) }' || ((n >= max_attempts || retries >= max_retries)); then
			break
		fi
		retries=$((retries + 1))
		echo "    others took $share of a CPU during $sc $name rep $rep: running it again ($retries of at most $max_retries repeats)" >&2
	done
	echo "scenario=$sc server=$name rep=$rep attempts=$n $best" | tee -a "$raw" >&2
}

start=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $load_before; $(nproc) CPUs; $reps repetition(s); results in $out" >&2
for sc in "${scenarios[@]}"; do
	id=${sc%%:*}
	read -r -a flags <<<"${sc#*:}"
	for ((rep = 1; rep <= reps; rep++)); do
		for s in "${servers[@]}"; do
			IFS=: read -r name port exe srvflags srvenv <<<"$s"
			run_one "$id" "$name" "$port" "$exe" "$srvflags" "$srvenv" "$rep" "${flags[@]}"
		done
	done
done
elapsed=$(($(date +%s) - start))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average after: $load_after; $elapsed s" >&2

"$bin/echoplot" -in "$raw" -png "$png" -title "levent echo benchmark: messages per second, median of $reps"

# The machine, as the report describes it.
virt="not detected"
if grep -qi gvisor /proc/version 2>/dev/null || dmesg 2>/dev/null | grep -qi gvisor; then
	virt="gVisor (system calls are intercepted by a user-space kernel and cost several times more than on bare Linux)"
elif dmesg 2>/dev/null | grep -qi firecracker; then
	virt="a Firecracker microVM (dmesg); virtual CPUs may be shared with other guests"
elif command -v systemd-detect-virt >/dev/null; then
	virt=$(systemd-detect-virt 2>/dev/null || echo none)
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
libevent_version=$(pkg-config --modversion libevent 2>/dev/null || echo unknown)
mod() { awk -v m="$1" '$1 == m {print $2; exit}' "$here/go.mod"; }
cmd="bench/echo.sh"
[[ $quick == 1 ]] && cmd="QUICK=1 $cmd"
[[ -n ${REPS:-} ]] && cmd="REPS=$REPS $cmd"
[[ -n ${ONLY:-} ]] && cmd="ONLY=\"$ONLY\" $cmd"
[[ -n ${SCENARIOS:-} ]] && cmd="SCENARIOS=\"$SCENARIOS\" $cmd"
for v in BUSY_LIMIT MAX_ATTEMPTS MAX_RETRIES WARMUP; do
	[[ -n ${!v:-} ]] && cmd="$v=${!v} $cmd"
done
png_rel=$png
[[ $png == "$here/echo.png" ]] && png_rel=bench/echo.png

{
	cat <<EOT
# levent benchmarks: echo servers

levent's echo server, written as a user writes it (listener + bufferevent,
\`bench/servers/levent-bev\`), and the echo server users run first
(\`examples/echo\` with \`-quiet\`, as \`levent-example\`, and on io_uring with
\`LEVENT_IOURING=1\` as \`levent-uring\`), side by side with
the same server on libevent 2.1 (C), gnet v2, nbio, Go's net, levent's bare
events and bare epoll (C), on one machine in one run. Written by
\`bench/echo.sh\` from the results of the run below; do not edit by hand.

![messages per second per server and scenario]($png_rel)

## How it was measured

Command: \`$cmd\` ($reps repetition(s), warm-up $warm, measured windows $long for S1 and $short for the others; $elapsed s in all; $retries run(s) repeated because other programs were busy).

| | |
| --- | --- |
| CPUs (\`nproc\`) | $(nproc) ($cpu) |
| memory | $mem |
| kernel | $(uname -sr) |
| virtualisation | $virt |
| load average before / after | $load_before / $load_after |
| Go | $(go version | cut -d' ' -f3-) |
| C compiler | $(gcc --version | head -1) |
| libevent | $libevent_version |
| gnet / nbio | $(mod github.com/panjf2000/gnet/v2) / $(mod github.com/lesismal/nbio) |

- Every server runs pinned to CPU 0 (\`taskset -c 0\`) and the load generator
  to CPU 1 (\`taskset -c 1\`); Go programs run with GOMAXPROCS=1. Every server
  does its I/O on one thread: one levent base, one libevent base, one gnet
  event loop, one nbio poller (nbio accepts on a goroutine of its own), a
  goroutine per connection on one P for Go's net, one epoll loop in C.
- The load generator, \`bench/cmd/echoload\`, is one goroutine on raw epoll.
  Each active connection keeps a fixed number of messages in flight and
  sends a new one each time one comes back whole; every echoed byte is
  checked against what was sent (each message carries its connection and
  sequence number and a body that differs from its neighbours'). The same
  client, pinning and message sizes are used for every server.
- msgs/s: messages echoed whole per second in the measured window; MB/s is
  that times the message size, one direction. p50/p99: round trip of each
  message, from the moment the client queued it until its last byte was
  read back.
- srv ns/msg: the server's user+system CPU time over the window
  (\`/proc/PID/stat\`, all threads) divided by the messages. srv CPU and
  client CPU: each side's CPU time as a share of the window; when client CPU
  is near 100% the client, not the server, limits msgs/s, and srv ns/msg is
  the fairer comparison. others' CPU: the task time of the whole machine in
  the window (\`/proc/stat\`) less the server's and the client's, i.e. what
  other programs took from the two CPUs (200% would be both CPUs); steal:
  the time the hypervisor took. The machine is shared: a run during which
  other programs took more than $busy_limit of a CPU is run again, up to
  $max_attempts attempts (and $max_retries repeats in the whole run), and the
  attempt they disturbed least is kept, whichever the server (\`attempts=\`
  in the raw lines). Runs that stayed disturbed show it in this column and
  in the min–max spread.
- peak RSS: the server's VmHWM at the end of the run (\`/proc/PID/status\`).
  B/idle conn (S4): the growth of the server's VmRSS from before the first
  connection until it has accepted all 10,000 idle connections (counted in
  \`/proc/PID/fd\`), divided by 10,000. B/conn at end: the growth by the end
  of the window, divided by all 10,100 connections. The kernel's socket
  buffers are not in RSS.
- Medians are element floor((n-1)/2) of the sorted runs; ratios are ratios
  of medians: "vs libevent" above 1 and "ns/msg vs epoll" below 1 are good.
- Every server, and the client, sets TCP_NODELAY on its connections. Go's
  net, gnet and nbio do so by default; the levent, libevent and epoll
  servers do it in their accept callback (every server takes
  \`-nodelay=false\` to leave Nagle's algorithm on). Without it, a server
  that writes a second reply before the first is acknowledged waits for the
  client's delayed ACK, and the comparison would measure that instead.
  levent-example is the exception: it runs as users run it, and like the
  libevent program it ports it leaves Nagle's algorithm on.

EOT
	"$bin/echoplot" -in "$raw" -md -
	echo "## Raw results"
	echo
	echo "<details><summary>One line per run (scenario, server, repetition, echoload's result, exit statuses)</summary>"
	echo
	echo '```'
	cat "$raw"
	echo '```'
	echo
	echo "</details>"
} >"$report"
echo "wrote $report and $png" >&2
