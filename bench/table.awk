# table.awk turns micro.sh's raw lines ("ID IMPL bench=... key=value ...",
# one a run) into a table of medians with the ratios levent/libevent and
# levent/go-runtime-timers, then checks levent's targets. IMPL is lev,
# levu (levent on io_uring), libev, rt or libev0 (libevent's coarse timer
# mode). Re-print a saved run
# with: awk -v reps=3 -f bench/table.awk raw.txt
function isparam(k) { return k ~ /^(bench|impl|pipes|active|writes|fds|n|r|precise)$/ }
function isextra(k) { return k == "struct_bytes" || k == "heap_bytes_per_event" }
# median: element floor((n-1)/2) of the values sorted ascending (SPEC.md)
function median(list,   v, n, i, j, t) {
	n = split(list, v, " ")
	for (i = 2; i <= n; i++) {
		t = v[i] + 0
		for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]
		v[j + 1] = t
	}
	return v[int((n - 1) / 2) + 1] + 0
}
function fmt(x) { return x == "" ? "-" : sprintf("%.1f", x) }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
{
	id = $1; impl = $2
	if (!(id in seen)) { seen[id] = 1; ids[++nid] = id }
	keys = ""
	for (i = 3; i <= NF; i++) {
		split($i, kv, "=")
		k = kv[1]
		if (!isextra(k)) keys = keys " " k
		if (isparam(k)) continue
		if (!((id, k) in mseen)) { mseen[id, k] = 1; metrics[id, ++nm[id]] = k }
		vals[id, impl, k] = vals[id, impl, k] " " kv[2]
		if (k == "late_min_us" && impl == "lev" && kv[2] + 0 < 0) early[id] = 1
	}
	# levent and the reference must print the same keys in the same order
	if ((id, "keys") in keyseq) {
		if (keyseq[id, "keys"] != keys) mismatch[id] = mismatch[id] "\n  " impl ":" keys "\n  first:" keyseq[id, "keys"]
	} else keyseq[id, "keys"] = keys
}
END {
	printf "medians of %d run(s); lev/libev and lev/go-rt are ratios of medians (lower is better for levent)\n\n", reps
	printf "%-31s %-20s %11s %11s %11s %11s %11s %9s %9s %9s\n", "case", "metric", "levent", "lev-uring", "libevent", "go-rt", "libev-coarse", "lev/libev", "uring/libev", "lev/go-rt"
	for (c = 1; c <= nid; c++) {
		id = ids[c]
		for (m = 1; m <= nm[id]; m++) {
			k = metrics[id, m]
			L = ((id, "lev", k) in vals) ? median(vals[id, "lev", k]) : ""
			C = ((id, "libev", k) in vals) ? median(vals[id, "libev", k]) : ""
			R = ((id, "rt", k) in vals) ? median(vals[id, "rt", k]) : ""
			C0 = ((id, "libev0", k) in vals) ? median(vals[id, "libev0", k]) : ""
			U = ((id, "levu", k) in vals) ? median(vals[id, "levu", k]) : ""
			med[id, "lev", k] = L; med[id, "libev", k] = C; med[id, "rt", k] = R; med[id, "levu", k] = U
			printf "%-31s %-20s %11s %11s %11s %11s %11s %9s %9s %9s\n", id, k, fmt(L), fmt(U), fmt(C), fmt(R), fmt(C0), ratio(L, C), ratio(U, C), ratio(L, R)
		}
	}
	print ""
	print "levent targets:"
	for (c = 1; c <= nid; c++) {
		id = ids[c]
		if (id ~ /^pipechain/) check(id, "ns_per_event", med[id, "lev", "ns_per_event"], "<=", 1.0 * med[id, "libev", "ns_per_event"], "1.0x libevent")
		if (id == "activate") check(id, "ns_per_cb", med[id, "lev", "ns_per_cb"], "<=", 1.5 * med[id, "libev", "ns_per_cb"], "1.5x libevent")
		if (id == "loop_once") check(id, "ns_per_iter", med[id, "lev", "ns_per_iter"], "<=", 1.2 * med[id, "libev", "ns_per_iter"], "1.2x libevent")
		if (id == "loop_once" && med[id, "levu", "ns_per_iter"] != "") check(id " io_uring", "ns_per_iter", med[id, "levu", "ns_per_iter"], "<=", 1.0 * med[id, "libev", "ns_per_iter"], "1.0x libevent")
		if (id ~ /^timer_churn/) {
			check(id, "ns_per_add", med[id, "lev", "ns_per_add"], "<=", med[id, "rt", "ns_per_add"], "go-runtime-timers")
			check(id, "ns_per_del", med[id, "lev", "ns_per_del"], "<=", med[id, "rt", "ns_per_del"], "go-runtime-timers")
		}
		if (id == "memory") check(id, "bytes_per_event", med[id, "lev", "bytes_per_event"], "<=", 128, "128 bytes")
		if (id == "timer_fire(10000)") {
			check(id, "late_p99_us", med[id, "lev", "late_p99_us"], "<=", 200, "200 us")
			printf "  %-5s %-31s no timer early (late_min_us >= 0 in every run)\n", (id in early) ? "MISS" : "ok", id
		}
	}
	for (id in mismatch) printf "KEY MISMATCH in %s:%s\n", id, mismatch[id]
}
function check(id, k, got, op, limit, what) {
	printf "  %-5s %-31s %s = %.1f, target <= %.1f (%s)\n", (got + 0 <= limit + 0) ? "ok" : "MISS", id, k, got, limit, what
}
