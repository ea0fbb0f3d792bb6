#!/usr/bin/env bash
# micro.sh builds levbench (levent and Go runtime timers) and levbench-c
# (libevent 2.1), runs every parameter set of SPEC.md for each
# implementation, interleaved (A B A B A B), and prints a table of medians
# with the ratios levent/libevent and levent/go-runtime-timers, then checks
# levent's targets.
#
#   bench/micro.sh             full run, 3 repetitions (about 5-10 minutes)
#   QUICK=1 bench/micro.sh     smaller parameter sets, 1 repetition (about 1-2 min)
#   REPS=5 bench/micro.sh      more repetitions
#   OUT=dir bench/micro.sh     keep the raw lines in dir/raw.txt
#   REPORT=MICRO.md bench/micro.sh   also write the table and the raw lines as Markdown
#   TABLE_ONLY=raw.txt bench/micro.sh   no runs: the table (and REPORT) of earlier raw lines
#
# Micro-benchmarks are single-threaded, so nothing is pinned. The machine
# may be shared and noisy: compare medians and ratios, not single runs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
quick=${QUICK:-0}
if [[ $quick == 1 ]]; then reps=${REPS:-1}; else reps=${REPS:-3}; fi
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
raw=$out/raw.txt

# report prints the table of the raw lines in $raw, and writes it to
# $REPORT as Markdown with the lines themselves, if REPORT is set.
report() {
	local table
	table=$(awk -v reps="$reps" -f "$here/table.awk" "$raw")
	echo "$table"
	[[ -n ${REPORT:-} ]] || return 0
	{
		echo "# levent micro-benchmarks"
		echo
		echo "The micro-benchmarks of \`bench/SPEC.md\` on levent, libevent 2.1 (C) and Go's"
		echo "runtime timers, interleaved on one machine in one run. Written by"
		echo "\`REPORT=bench/MICRO.md bench/micro.sh\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs, $(uname -r));"
		echo "do not edit by hand. Ratios are of medians; lower is better for levent."
		echo
		echo '```'
		echo "$table"
		echo '```'
		echo
		echo "<details><summary>Raw lines (case, implementation, output)</summary>"
		echo
		echo '```'
		cat "$raw"
		echo '```'
		echo
		echo "</details>"
	} >"$REPORT"
	echo "report: $REPORT" >&2
}

if [[ -n ${TABLE_ONLY:-} ]]; then
	raw=$TABLE_ONLY
	report
	exit 0
fi
: >"$raw"

gobin=$here/bin/levbench
cbin=$here/bin/levbench-c
echo "building $gobin and $cbin" >&2
mkdir -p "$here/bin"
(cd "$here" && go build -o "$gobin" ./cmd/levbench)
gcc -O2 -Wall -o "$cbin" "$here/c/levbench.c" -levent

# run_case ID IMPLS ARGS... runs ARGS on each implementation in IMPLS
# (space-separated: lev, libev, rt, libev0), reps times, interleaved.
# libev0 is libevent's default, coarse timer mode: ARGS' last argument
# (PRECISE) is replaced by 0.
run_case() {
	local id=$1 impls=$2 rep impl line
	shift 2
	for ((rep = 1; rep <= reps; rep++)); do
		for impl in $impls; do
			case $impl in
			lev) line=$("$gobin" -impl=levent "$@") ;;
			levu) line=$(LEVENT_IOURING=1 "$gobin" -impl=levent "$@") ;;
			rt) line=$("$gobin" -impl=go-runtime-timers "$@") ;;
			libev) line=$("$cbin" "$@") ;;
			libev0) line=$("$cbin" "${@:1:$#-1}" 0) ;;
			esac
			echo "$line" >&2
			echo "$id $impl $line" >>"$raw"
		done
	done
}

start=$(date +%s)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $reps repetition(s)" >&2

run_case "pipechain(100,1,100)" "lev levu libev" pipechain 100 1 100
run_case "pipechain(1000,100,10000)" "lev levu libev" pipechain 1000 100 10000
if [[ $quick != 1 ]]; then
	run_case "pipechain(10000,100,10000)" "lev libev" pipechain 10000 100 10000
	run_case "pipechain(10000,1000,100000)" "lev libev" pipechain 10000 1000 100000
	run_case "pipechain(100,1,100,pair)" "lev libev" pipechain 100 1 100 25 pair
	run_case "pipechain(1000,100,10000,pair)" "lev libev" pipechain 1000 100 10000 25 pair
fi
run_case "timer_churn(1000)" "lev libev rt" timer_churn 1000
run_case "timer_churn(100000)" "lev libev rt" timer_churn 100000
[[ $quick == 1 ]] || run_case "timer_churn(1000000)" "lev libev rt" timer_churn 1000000
# every timer on one 10 s timeout: libevent's common-timeout queue
# (event_base_init_common_timeout) against levent's InitCommonTimeout
run_case "timer_churn(100000,common)" "lev libev rt" timer_churn 100000 10 1
run_case "timer_fire(10000)" "lev libev rt libev0" timer_fire 10000 1
[[ $quick == 1 ]] || run_case "timer_fire(100000)" "lev libev rt libev0" timer_fire 100000 1
run_case "activate" "lev levu libev" activate
run_case "loop_once" "lev levu libev" loop_once
run_case "memory" "lev libev rt" memory

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); $(($(date +%s) - start)) s" >&2
echo "raw lines: $raw" >&2
echo

report
