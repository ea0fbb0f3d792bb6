package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// targets names the servers and limits the report checks.
type targets struct {
	subject   string   // the server under test
	rivals    []string // servers it must beat in msgs/s
	base      string   // the ratio column "vs base"
	ceiling   string   // the ratio column "vs ceiling" and the CPU target
	cpuRatio  float64  // subject's CPU per message at most this times the ceiling's
	idleBytes float64  // memory per idle connection at most this
}

// writeReport writes the Markdown tables.
func writeReport(w io.Writer, r *results, t targets) error {
	var b strings.Builder
	writeSummary(&b, r, t)
	for _, sc := range r.scenarios {
		writeScenario(&b, r, t, sc)
	}
	writeTargets(&b, r, t)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSummary(b *strings.Builder, r *results, t targets) {
	fmt.Fprintf(b, "## Summary\n\nMedian messages per second (higher is better), and in brackets the ratio to %s.\n\n", t.base)
	matrix(b, r, t, "msgs_per_s", t.base)
	fmt.Fprintf(b, "\nMedian server CPU time per message in ns (lower is better), and in brackets the ratio to %s.\n\n", t.ceiling)
	matrix(b, r, t, "srv_ns_per_msg", t.ceiling)
	b.WriteString("\n")
}

// matrix writes a table of the medians of field, a row per server and a
// column per scenario, each with its ratio to server ref's.
func matrix(b *strings.Builder, r *results, t targets, field, ref string) {
	header(b, append([]string{"server"}, r.scenarios...), 1)
	for _, srv := range r.servers {
		row := []string{name(srv, t)}
		for _, sc := range r.scenarios {
			m := median(r.values(sc, srv, field))
			row = append(row, fmt.Sprintf("%s (%s)", count(m), ratio(m, median(r.values(sc, ref, field)))))
		}
		line(b, row)
	}
}

func writeScenario(b *strings.Builder, r *results, t targets, sc string) {
	reps := 0
	for _, srv := range r.servers {
		reps = max(reps, len(r.runs[key{sc, srv}]))
	}
	fmt.Fprintf(b, "## %s: %s\n\n%d run(s) per server; medians, with the min–max of msgs/s.\n\n", sc, r.describe(sc), reps)
	idle := false
	for _, srv := range r.servers {
		idle = idle || len(r.values(sc, srv, "srv_idle_bytes_per_conn")) > 0
	}
	cols := []string{"server", "msgs/s", "min–max", "vs " + t.base, "vs " + t.ceiling, "MB/s", "p50 µs", "p99 µs",
		"srv ns/msg", "ns/msg vs " + t.ceiling, "srv CPU", "client CPU", "others' CPU", "steal", "peak RSS"}
	if idle {
		cols = append(cols, "B/idle conn", "B/conn at end")
	}
	cols = append(cols, "errors")
	header(b, cols, 1)
	baseRate := median(r.values(sc, t.base, "msgs_per_s"))
	ceilRate := median(r.values(sc, t.ceiling, "msgs_per_s"))
	ceilNs := median(r.values(sc, t.ceiling, "srv_ns_per_msg"))
	for _, srv := range r.servers {
		rates := r.values(sc, srv, "msgs_per_s")
		m := median(rates)
		lo, hi := span(rates)
		ns := median(r.values(sc, srv, "srv_ns_per_msg"))
		row := []string{
			name(srv, t), count(m), count(lo) + "–" + count(hi), ratio(m, baseRate), ratio(m, ceilRate),
			fixed(median(r.values(sc, srv, "mb_per_s")), 1),
			fixed(median(r.values(sc, srv, "p50_us")), 0),
			fixed(median(r.values(sc, srv, "p99_us")), 0),
			count(ns), ratio(ns, ceilNs),
			percent(median(r.ratioValues(sc, srv, "srv_cpu_s", "secs", 100))),
			percent(median(r.ratioValues(sc, srv, "client_cpu_s", "secs", 100))),
			percent(median(r.ratioValues(sc, srv, "other_cpu_s", "secs", 100))),
			percent(median(r.ratioValues(sc, srv, "steal_s", "secs", 100))),
			mib(median(r.values(sc, srv, "srv_hwm_kb"))),
		}
		if idle {
			row = append(row, count(median(r.values(sc, srv, "srv_idle_bytes_per_conn"))),
				count(median(r.values(sc, srv, "srv_bytes_per_conn"))))
		}
		row = append(row, errorsText(r, sc, srv))
		line(b, row)
	}
	b.WriteString("\n")
}

// errorsText is the failed connections over all runs, and the runs that
// gave no result at all.
func errorsText(r *results, sc, srv string) string {
	runs := r.runs[key{sc, srv}]
	failed := 0
	for _, kv := range runs {
		if kv["msgs_per_s"] == "" {
			failed++
		}
	}
	s := strconv.Itoa(int(sum(r.values(sc, srv, "errors"))))
	if failed > 0 {
		s += fmt.Sprintf(" (%d of %d runs failed)", failed, len(runs))
	}
	return s
}

func writeTargets(b *strings.Builder, r *results, t targets) {
	fmt.Fprintf(b, "## Targets for %s\n\n", t.subject)
	header(b, []string{"target", "scenario", "measured", "result"}, 4)
	check := func(target, sc, measured string, ok, known bool) {
		verdict := "ok"
		switch {
		case !known:
			verdict = "no data"
		case !ok:
			verdict = "**MISS**"
		}
		line(b, []string{target, sc, measured, verdict})
	}
	for _, sc := range r.scenarios {
		mine := median(r.values(sc, t.subject, "msgs_per_s"))
		for _, rival := range t.rivals {
			theirs := median(r.values(sc, rival, "msgs_per_s"))
			check("msgs/s above "+rival, sc, fmt.Sprintf("%s vs %s (%s)", count(mine), count(theirs), ratio(mine, theirs)),
				mine > theirs, !math.IsNaN(mine) && !math.IsNaN(theirs))
		}
	}
	for _, sc := range r.scenarios {
		mine := median(r.values(sc, t.subject, "srv_ns_per_msg"))
		ceil := median(r.values(sc, t.ceiling, "srv_ns_per_msg"))
		check(fmt.Sprintf("CPU/msg within %.2fx of %s", t.cpuRatio, t.ceiling), sc,
			fmt.Sprintf("%s vs %s ns (%s)", count(mine), count(ceil), ratio(mine, ceil)),
			mine <= t.cpuRatio*ceil, !math.IsNaN(mine) && !math.IsNaN(ceil))
	}
	for _, sc := range r.scenarios {
		v := median(r.values(sc, t.subject, "srv_idle_bytes_per_conn"))
		if math.IsNaN(v) {
			continue
		}
		check(fmt.Sprintf("at most %.0f B per idle connection", t.idleBytes), sc, count(v)+" B", v <= t.idleBytes, true)
	}
	b.WriteString("\n")
}

func name(srv string, t targets) string {
	if srv == t.subject {
		return "**" + srv + "**"
	}
	return srv
}

// header writes a table's header; columns from the first numeric one on
// are aligned right.
func header(b *strings.Builder, cols []string, firstNumeric int) {
	line(b, cols)
	seps := make([]string, len(cols))
	for i := range seps {
		seps[i] = "---"
		if i >= firstNumeric {
			seps[i] = "--:"
		}
	}
	line(b, seps)
}

func line(b *strings.Builder, cells []string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// count writes a whole number with thousands separators; "–" for NaN.
func count(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	neg := v < 0
	s := strconv.FormatInt(int64(math.Abs(math.Round(v))), 10)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func fixed(v float64, prec int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func percent(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", v)
}

func mib(kb float64) string {
	if math.IsNaN(kb) {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", kb/1024)
}
