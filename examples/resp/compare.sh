#!/usr/bin/env bash
# compare.sh measures the resp example against Debian's redis-server with
# redis-benchmark, in one run, and prints a table of requests per second.
#
#   examples/resp/compare.sh                 3 repetitions, medians
#   REPS=5 N=200000 N16=2000000 examples/resp/compare.sh
#   RESP_BIN=/tmp/resp examples/resp/compare.sh   measure that build of resp
#
# Beside requests per second, the table shows each server's CPU time per
# request (user + system, from /proc/PID/stat, at clock-tick resolution).
#
# Both servers run pinned to CPU 0 (taskset -c 0), resp with GOMAXPROCS=1,
# redis-server with persistence off; redis-benchmark runs pinned to CPU 1.
# For every test the two servers take turns, REPS times, so that a noisy
# neighbour slows both rather than one; the table shows the medians.
#
# Each figure is one redis-benchmark run:
#   redis-benchmark -p PORT -c 50 -P 1 -t TEST -n 100000 --csv
#   redis-benchmark -p PORT -c 50 -P 16 -t TEST -n 1000000 --csv
# for TEST in ping_inline, ping_mbulk, set and get. The ratio column is the
# median of the ratios of the pairs, each pair measured back to back.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
reps=${REPS:-3}
n=${N:-100000}     # requests per run with -P 1
n16=${N16:-1000000} # with -P 16, which goes about ten times faster
conns=${CONNS:-50}
redis_port=${REDIS_PORT:-16379}
resp_port=${RESP_PORT:-16380}

for tool in redis-server redis-benchmark taskset; do
	command -v "$tool" >/dev/null || { echo "compare.sh: $tool is not installed (apt-get install redis-server redis-tools util-linux)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/resp-compare.XXXXXX)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

if [[ -n ${RESP_BIN:-} ]]; then
	cp "$RESP_BIN" "$work/resp" # a build to try, such as one with a changed levent
else
	(cd "$root" && go build -o "$work/resp" ./examples/resp)
fi

taskset -c 0 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize no --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
GOMAXPROCS=1 taskset -c 0 "$work/resp" -addr "127.0.0.1:$resp_port" >"$work/resp.log" 2>&1 &
pids+=($!)

# wait_port waits until something answers PING on port.
wait_port() {
	for _ in $(seq 100); do
		redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "compare.sh: nothing answers on port $1" >&2
	exit 1
}
wait_port "$redis_port"
wait_port "$resp_port"

# The server's CPU time, user and system, in clock ticks: with the client
# able to keep only so many requests in flight, both servers may answer at
# the client's pace, and then the CPU each request costs the server is
# what tells them apart.
declare -A pid_of=([redis-server]=${pids[0]} [resp]=${pids[1]})
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# bench runs one redis-benchmark test against one server and appends
# "server pipeline test rps rep cpu_ns_per_request" to $work/raw.
bench() {
	local name=$1 port=$2 pipeline=$3 test=$4 rep=$5
	local requests=$n csv t0 t1
	((pipeline == 1)) || requests=$n16
	t0=$(cpu_ticks "${pid_of[$name]}")
	csv=$(taskset -c 1 redis-benchmark -p "$port" -c "$conns" -P "$pipeline" -t "$test" -n "$requests" --csv)
	t1=$(cpu_ticks "${pid_of[$name]}")
	awk -F'"' -v s="$name" -v p="$pipeline" -v r="$rep" -v cpu="$(((t1 - t0) * 1000000000 / hz / requests))" \
		'NR > 1 && $2 != "" { print s, p, $2, $4, r, cpu }' <<<"$csv" >>"$work/raw"
}

# Each test runs on both servers back to back, the order swapped every
# repetition, so that the two figures of a pair see the same machine.
: >"$work/raw"
for rep in $(seq "$reps"); do
	for pipeline in 1 16; do
		echo "rep $rep/$reps, -P $pipeline" >&2
		for test in ping_inline ping_mbulk set get; do
			if ((rep % 2)); then
				bench redis-server "$redis_port" "$pipeline" "$test" "$rep"
				bench resp "$resp_port" "$pipeline" "$test" "$rep"
			else
				bench resp "$resp_port" "$pipeline" "$test" "$rep"
				bench redis-server "$redis_port" "$pipeline" "$test" "$rep"
			fi
		done
	done
done

# The table: for each test and pipeline depth, the median requests per
# second of each server and the median of the per-repetition ratios.
awk '
	{ key = $3 " " $2; if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
	  v[key, $1, ++cnt[key, $1]] = $4; c[key, $1, cnt[key, $1]] = $6
	  pair[key, $5, $1] = $4; reps[key] = $5 > reps[key] ? $5 : reps[key] }
	function median(a, k,   i, j, t) {
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((k + 1) / 2)]
	}
	function server(key, s,   i, a) { for (i = 1; i <= cnt[key, s]; i++) a[i] = v[key, s, i]; return median(a, cnt[key, s]) }
	function cpu(key, s,   i, a) { for (i = 1; i <= cnt[key, s]; i++) a[i] = c[key, s, i]; return median(a, cnt[key, s]) }
	function ratio(key,   i, a) { for (i = 1; i <= reps[key]; i++) a[i] = pair[key, i, "resp"] / pair[key, i, "redis-server"]; return median(a, reps[key]) }
	END {
		printf "| %-12s | %3s | %18s | %18s | %11s | %17s | %17s |\n", "test", "-P", "redis-server req/s", "levent resp req/s", "resp/redis", "redis CPU ns/req", "resp CPU ns/req"
		printf "|--------------|-----|--------------------|--------------------|-------------|-------------------|-------------------|\n"
		for (i = 1; i <= nk; i++) {
			split(order[i], kp, " ")
			printf "| %-12s | %3s | %18.0f | %18.0f | %10.2fx | %17.0f | %17.0f |\n", kp[1], kp[2], server(order[i], "redis-server"), server(order[i], "resp"), ratio(order[i]), cpu(order[i], "redis-server"), cpu(order[i], "resp")
		}
	}' "$work/raw"
