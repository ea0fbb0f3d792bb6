package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// results are the raw lines of one benchmark run, grouped by scenario and
// server in the order they first appear.
type results struct {
	scenarios []string
	servers   []string
	runs      map[key][]map[string]string
}

type key struct{ scenario, server string }

// parse reads result lines; see the package documentation for the format.
func parse(r io.Reader) (*results, error) {
	res := &results{runs: map[key][]map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		kv := map[string]string{}
		for _, tok := range strings.Fields(text) {
			if k, v, ok := strings.Cut(tok, "="); ok {
				kv[k] = v
			}
		}
		k := key{kv["scenario"], kv["server"]}
		if k.scenario == "" || k.server == "" {
			return nil, fmt.Errorf("line %d: no scenario= or server=", line)
		}
		if !slices.Contains(res.scenarios, k.scenario) {
			res.scenarios = append(res.scenarios, k.scenario)
		}
		if !slices.Contains(res.servers, k.server) {
			res.servers = append(res.servers, k.server)
		}
		res.runs[k] = append(res.runs[k], kv)
	}
	return res, sc.Err()
}

// values returns the numbers key f has in the runs of scenario and server;
// runs without it (a failed run) are left out.
func (r *results) values(scenario, server, f string) []float64 {
	var out []float64
	for _, kv := range r.runs[key{scenario, server}] {
		if v, err := strconv.ParseFloat(kv[f], 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// ratioValues returns num/den per run, for runs that have both.
func (r *results) ratioValues(scenario, server, num, den string, scale float64) []float64 {
	var out []float64
	for _, kv := range r.runs[key{scenario, server}] {
		n, err1 := strconv.ParseFloat(kv[num], 64)
		d, err2 := strconv.ParseFloat(kv[den], 64)
		if err1 == nil && err2 == nil && d > 0 {
			out = append(out, n/d*scale)
		}
	}
	return out
}

// describe names a scenario by the parameters of its first run, such as
// "100 connections x 64 B, 16 in flight each, 10 s".
func (r *results) describe(scenario string) string {
	for _, srv := range r.servers {
		for _, kv := range r.runs[key{scenario, srv}] {
			if kv["conns"] == "" {
				continue
			}
			d := fmt.Sprintf("%s connections x %s, %s in flight each", kv["conns"], sizeText(kv["size"]), kv["depth"])
			if kv["idle"] != "" && kv["idle"] != "0" {
				d = fmt.Sprintf("%s idle + %s", kv["idle"], d)
			}
			if s, err := strconv.ParseFloat(kv["secs"], 64); err == nil {
				d += fmt.Sprintf(", %.0f s", s)
			}
			return d
		}
	}
	return scenario
}

func sizeText(s string) string {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return s + " B"
	case n >= 1024 && n%1024 == 0:
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}

// median is element floor((n-1)/2) of the sorted values (bench/SPEC.md's
// percentile rule); NaN when there are none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// span returns the smallest and largest value; NaN, NaN when there are none.
func span(v []float64) (lo, hi float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	return slices.Min(v), slices.Max(v)
}

func sum(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}
