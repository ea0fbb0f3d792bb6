#!/usr/bin/env bash
# compare.sh measures the resp example against Debian's redis-server with
# redis-benchmark, in one run, and prints a table of requests per second.
#
#   examples/resp/compare.sh                 3 repetitions, medians
#   REPS=5 N=200000 examples/resp/compare.sh
#
# Both servers run pinned to CPU 0 (taskset -c 0), resp with GOMAXPROCS=1,
# redis-server with persistence off; redis-benchmark runs pinned to CPU 1.
# For every row the two servers take turns, REPS times, so that a noisy
# neighbour slows both rather than one; the table shows the medians.
#
# Each row is one redis-benchmark run:
#   redis-benchmark -p PORT -c 50 -P {1,16} -t ping,set,get -n N --csv
# (-t ping gives two rows, PING_INLINE and PING_MBULK).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
reps=${REPS:-3}
n=${N:-100000}
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

(cd "$root" && go build -o "$work/resp" ./examples/resp)

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

# bench runs one redis-benchmark and appends "server pipeline test rps"
# lines to $work/raw.
bench() {
	local name=$1 port=$2 pipeline=$3
	taskset -c 1 redis-benchmark -p "$port" -c "$conns" -P "$pipeline" -t ping,set,get -n "$n" --csv |
		awk -F'"' -v s="$name" -v p="$pipeline" 'NR > 1 && $2 != "" { print s, p, $2, $4 }' >>"$work/raw"
}

: >"$work/raw"
for rep in $(seq "$reps"); do
	for pipeline in 1 16; do
		echo "rep $rep/$reps, -P $pipeline" >&2
		bench redis-server "$redis_port" "$pipeline"
		bench resp "$resp_port" "$pipeline"
	done
done

# The table: medians per (test, pipeline) and server, and their ratio.
awk '
	{ key = $3 " " $2; v[key, $1, ++cnt[key, $1]] = $4; if (!(key in seen)) { seen[key] = 1; order[++nk] = key } }
	function median(key, s,   i, j, t, a, k) {
		k = cnt[key, s]
		for (i = 1; i <= k; i++) a[i] = v[key, s, i]
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((k + 1) / 2)]
	}
	END {
		printf "| %-12s | %3s | %18s | %18s | %11s |\n", "test", "-P", "redis-server req/s", "levent resp req/s", "resp/redis"
		printf "|--------------|-----|--------------------|--------------------|-------------|\n"
		for (i = 1; i <= nk; i++) {
			split(order[i], kp, " ")
			r = median(order[i], "redis-server"); l = median(order[i], "resp")
			printf "| %-12s | %3s | %18.0f | %18.0f | %10.2fx |\n", kp[1], kp[2], r, l, l / r
		}
	}' "$work/raw"
