#!/usr/bin/env bash
# compare.sh measures the http example against the same routes served by
# Go's net/http (examples/http/nethttp), with wrk, in one run, and prints
# a table of requests per second and 99th-percentile latency.
#
#   examples/http/compare.sh                      3 repetitions of 10 s, medians
#   REPS=5 DURATION=5s examples/http/compare.sh
#   ROUTES="/plaintext /json" examples/http/compare.sh
#   TLS=1 examples/http/compare.sh                 over HTTPS (a self-signed
#                                                   certificate made with openssl)
#   CLOSE=1 TLS=1 examples/http/compare.sh         a new connection per request
#                                                   (Connection: close): handshakes/s
#
# Both servers run pinned to CPU 0 (taskset -c 0) with GOMAXPROCS=1; wrk
# runs pinned to CPU 1. For every route the two servers take turns, REPS
# times, so that a noisy neighbour slows both rather than one; the table
# shows the medians. Each run is
#   taskset -c 1 wrk -t1 -c100 -d$DURATION --latency http[s]://127.0.0.1:PORT$ROUTE
#
# wrk's full output of a run that reports errors is kept in a directory
# named at the end, with the kernel's TCP counters before and after the
# run: "timeout" errors (a response later than 2 s) come from an
# overloaded machine; "read" errors or non-2xx responses would be a bug.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
reps=${REPS:-3}
duration=${DURATION:-10s}
conns=${CONNS:-100}
routes=${ROUTES:-/plaintext /json /static/hello.txt}
levent_port=${LEVENT_PORT:-18080}
nethttp_port=${NETHTTP_PORT:-18081}
use_tls=${TLS:-0}
wrk_flags=()
[[ ${CLOSE:-0} == 1 ]] && wrk_flags=(-H "Connection: close")

for tool in wrk taskset; do
	command -v "$tool" >/dev/null || { echo "compare.sh: $tool is not installed (apt-get install wrk util-linux)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/http-compare.XXXXXX)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && go build -o "$work/levent-http" ./examples/http && go build -o "$work/nethttp" ./examples/http/nethttp)
mkdir "$work/www"
printf 'hello, file\n' >"$work/www/hello.txt"
scheme=http tls_flags=()
if [[ $use_tls == 1 ]]; then
	command -v openssl >/dev/null || { echo "compare.sh: TLS=1 needs openssl (apt-get install openssl)" >&2; exit 1; }
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
		-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
	scheme=https tls_flags=(-tls-cert "$work/cert.pem" -tls-key "$work/key.pem")
fi

GOMAXPROCS=1 taskset -c 0 "$work/levent-http" -addr "127.0.0.1:$levent_port" -root "$work/www" "${tls_flags[@]}" >"$work/levent.log" 2>&1 &
pids+=($!)
GOMAXPROCS=1 taskset -c 0 "$work/nethttp" -addr "127.0.0.1:$nethttp_port" -root "$work/www" "${tls_flags[@]}" >"$work/nethttp.log" 2>&1 &
pids+=($!)
for log in "$work/levent.log" "$work/nethttp.log"; do
	for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.1; done
	grep -q listening "$log" || { echo "compare.sh: a server did not start:" >&2; cat "$log" >&2; exit 1; }
done

# tcpstat prints the kernel's TCP counters (the lines of /proc/net/netstat
# and /proc/net/snmp).
tcpstat() { cat /proc/net/netstat /proc/net/snmp 2>/dev/null || true; }

kept=""
# run benchmarks one server on one route and appends
# "server route req/s p99_ms errors" to $work/raw.
run() {
	local name=$1 port=$2 route=$3 out before
	before=$(tcpstat)
	out=$(taskset -c 1 wrk -t1 -c"$conns" -d"$duration" --latency "${wrk_flags[@]}" "$scheme://127.0.0.1:$port$route")
	if grep -qE 'Socket errors|Non-2xx' <<<"$out"; then
		[[ -n $kept ]] || kept=$(mktemp -d /tmp/http-compare-errors.XXXXXX)
		local f=$kept/${name//\//-}${route//\//_}.$(date +%s%N).txt
		{ echo "$out"; echo "--- TCP counters before"; echo "$before"; echo "--- after"; tcpstat; } >"$f"
		echo "$out" | sed -n "s|^ *\(Socket errors.*\|Non-2xx.*\)|$name $route: \1 (full output in $f)|p" >&2
	fi
	echo "$out" | awk -v s="$name" -v r="$route" '
		function ms(v) {
			if (v ~ /us$/) return v / 1000
			if (v ~ /ms$/) return v + 0
			if (v ~ /s$/) return v * 1000
			return v
		}
		/Requests\/sec:/ { rps = $2 }
		$1 == "99%" { p99 = ms($2) }
		/Socket errors|Non-2xx/ { err = 1 }
		END { print s, r, rps, p99, err + 0 }' >>"$work/raw"
}

: >"$work/raw"
for rep in $(seq "$reps"); do
	for route in $routes; do
		echo "rep $rep/$reps, $route" >&2
		if ((rep % 2)); then # the order swaps every repetition
			run levent "$levent_port" "$route"
			run net/http "$nethttp_port" "$route"
		else
			run net/http "$nethttp_port" "$route"
			run levent "$levent_port" "$route"
		fi
	done
done

awk '
	{ key = $2; if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
	  n = ++cnt[key, $1]; rps[key, $1, n] = $3; p99[key, $1, n] = $4; errs += $5 }
	function median(arr, key, s,   i, j, t, a, k) {
		k = cnt[key, s]
		for (i = 1; i <= k; i++) a[i] = arr[key, s, i]
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((k + 1) / 2)]
	}
	END {
		printf "| %-18s | %12s | %12s | %9s | %14s | %14s |\n", "route", "levent req/s", "net/http req/s", "ratio", "levent p99 ms", "net/http p99 ms"
		printf "|--------------------|--------------|----------------|-----------|----------------|-----------------|\n"
		for (i = 1; i <= nk; i++) {
			k = order[i]
			l = median(rps, k, "levent"); g = median(rps, k, "net/http")
			printf "| %-18s | %12.0f | %14.0f | %8.2fx | %14.2f | %15.2f |\n", k, l, g, l / g, median(p99, k, "levent"), median(p99, k, "net/http")
		}
		if (errs) print "\nwrk reported socket errors or non-2xx responses in " errs " runs (listed above, on stderr)"
	}' "$work/raw"
[[ -z $kept ]] || echo "wrk output of the runs with errors: $kept" >&2
