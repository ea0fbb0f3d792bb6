package main

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample has two scenarios, three servers and up to three runs each; the
// subject misses its target against libevent in S2 and its CPU target in
// S1, and one of libevent's S2 runs failed.
const sample = `# comment
scenario=S1 server=levent-bev rep=1 echoload conns=100 idle=0 size=64 depth=16 secs=10.00 msgs=1 msgs_per_s=300 mb_per_s=1.0 p50_us=10 p99_us=20 errors=0 client_cpu_s=5 other_cpu_s=2 steal_s=0.1 srv_cpu_s=8 srv_ns_per_msg=130 srv_hwm_kb=2048
scenario=S1 server=libevent rep=1 echoload conns=100 idle=0 size=64 depth=16 secs=10.00 msgs=1 msgs_per_s=200 mb_per_s=1.0 p50_us=10 p99_us=20 errors=0 client_cpu_s=5 srv_cpu_s=8 srv_ns_per_msg=110 srv_hwm_kb=1024
scenario=S1 server=epoll rep=1 echoload conns=100 idle=0 size=64 depth=16 secs=10.00 msgs=1 msgs_per_s=400 mb_per_s=1.0 p50_us=10 p99_us=20 errors=0 client_cpu_s=5 srv_cpu_s=8 srv_ns_per_msg=100 srv_hwm_kb=1024
scenario=S1 server=levent-bev rep=2 echoload conns=100 idle=0 size=64 depth=16 secs=10.00 msgs=1 msgs_per_s=100 srv_ns_per_msg=140 errors=1
scenario=S1 server=levent-bev rep=3 echoload conns=100 idle=0 size=64 depth=16 secs=10.00 msgs=1 msgs_per_s=500 srv_ns_per_msg=120 errors=0
scenario=S2 server=levent-bev rep=1 echoload conns=10 idle=10000 size=65536 depth=1 secs=8.00 msgs=1 msgs_per_s=50 srv_ns_per_msg=100 srv_idle_bytes_per_conn=400 srv_bytes_per_conn=600
scenario=S2 server=libevent rep=1 echoload conns=10 idle=10000 size=65536 depth=1 secs=8.00 msgs=1 msgs_per_s=60 srv_ns_per_msg=100 srv_idle_bytes_per_conn=900
scenario=S2 server=libevent rep=2 failed=1 echoload_exit=1 srv_exit=crashed:139
scenario=S2 server=epoll rep=1 echoload conns=10 idle=10000 size=65536 depth=1 secs=8.00 msgs=1 msgs_per_s=70 srv_ns_per_msg=95 srv_idle_bytes_per_conn=0
`

var sampleTargets = targets{subject: "levent-bev", rivals: []string{"libevent"}, base: "libevent", ceiling: "epoll", cpuRatio: 1.10, idleBytes: 512}

func TestParseKeepsOrderOfFirstAppearance(t *testing.T) {
	r, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.scenarios, ","); got != "S1,S2" {
		t.Errorf("scenarios %s, want S1,S2", got)
	}
	if got := strings.Join(r.servers, ","); got != "levent-bev,libevent,epoll" {
		t.Errorf("servers %s, want levent-bev,libevent,epoll", got)
	}
	if got := r.values("S1", "levent-bev", "msgs_per_s"); len(got) != 3 {
		t.Errorf("S1 levent-bev msgs_per_s %v, want 3 values", got)
	}
	if got := r.values("S2", "libevent", "msgs_per_s"); len(got) != 1 {
		t.Errorf("S2 libevent msgs_per_s %v, want the one run that did not fail", got)
	}
}

func TestParseRejectsLineWithoutServer(t *testing.T) {
	if _, err := parse(strings.NewReader("scenario=S1 msgs_per_s=3\n")); err == nil {
		t.Error("a line without server= was accepted")
	}
}

func TestMedianIsLowerMiddle(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2}, {[]float64{7}, 7}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := median(nil); !math.IsNaN(got) {
		t.Errorf("median(nil) = %v, want NaN", got)
	}
}

func TestDescribeNamesTheParameters(t *testing.T) {
	r, _ := parse(strings.NewReader(sample))
	if got, want := r.describe("S2"), "10000 idle + 10 connections x 64 KiB, 1 in flight each, 8 s"; got != want {
		t.Errorf("describe(S2) = %q, want %q", got, want)
	}
}

func TestReportTablesRatiosAndTargets(t *testing.T) {
	r, _ := parse(strings.NewReader(sample))
	var b bytes.Buffer
	if err := writeReport(&b, r, sampleTargets); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| **levent-bev** | 300 | 100–500 | 1.50x | 0.75x |", // S1 row: median 300 of 100,300,500
		"| 80% | 50% | 20% | 1% | 2.0 MiB |",                 // S1 levent-bev run 1: CPU shares
		"| msgs/s above libevent | S1 | 300 vs 200 (1.50x) | ok |",
		"| msgs/s above libevent | S2 | 50 vs 60 (0.83x) | **MISS** |",
		"| CPU/msg within 1.10x of epoll | S1 | 130 vs 100 ns (1.30x) | **MISS** |",
		"| CPU/msg within 1.10x of epoll | S2 | 100 vs 95 ns (1.05x) | ok |",
		"| at most 512 B per idle connection | S2 | 400 B | ok |",
		"| 0 (1 of 2 runs failed) |",
		"| B/idle conn | B/conn at end |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Count(md, "B/idle conn") != 1 {
		t.Errorf("the idle-memory columns belong to S2's table only:\n%s", md)
	}
}

func TestCountSeparatesThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.6: "1,234,568", -4500: "-4,500"} {
		if got := count(in); got != want {
			t.Errorf("count(%v) = %q, want %q", in, got, want)
		}
	}
	if got := count(math.NaN()); got != "–" {
		t.Errorf("count(NaN) = %q, want –", got)
	}
}

func TestShortLabels(t *testing.T) {
	for in, want := range map[float64]string{950: "950", 12500: "12.5K", 1250000: "1.25M", 2000000: "2M", 40000: "40K"} {
		if got := short(in); got != want {
			t.Errorf("short(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestChartIsAPNGWithAPanelPerScenario(t *testing.T) {
	r, _ := parse(strings.NewReader(sample))
	var b bytes.Buffer
	if err := writeChart(&b, r, "title"); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := img.Bounds().Dx(), 2*margin+2*panelW; got != want {
		t.Errorf("width %d, want %d (two panels)", got, want)
	}
	// The subject's bar is drawn in the first colour.
	found := false
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y && !found; y++ {
		for x := img.Bounds().Min.X + 200; x < img.Bounds().Max.X; x++ {
			if rr, g, bb, _ := img.At(x, y).RGBA(); rr>>8 == uint32(palette[0].R) && g>>8 == uint32(palette[0].G) && bb>>8 == uint32(palette[0].B) {
				found = true
				break
			}
		}
	}
	if !found {
		t.Error("no bar in the first colour outside the legend")
	}
}

func TestFontHasEveryCharacterOfTheLabels(t *testing.T) {
	r, _ := parse(strings.NewReader(sample))
	texts := []string{"levent echo benchmark: messages per second, median of 3", "MESSAGES PER SECOND, MEDIAN; LINE: MIN-MAX",
		"levent-bev levent-raw gonet gnet nbio libevent epoll", "0123456789.KM FAILED NO DATA"}
	for _, sc := range r.scenarios {
		texts = append(texts, sc+": "+r.describe(sc))
	}
	for _, s := range texts {
		for _, c := range strings.ToUpper(s) {
			if _, ok := glyphs[c]; !ok {
				t.Errorf("no glyph for %q (in %q)", c, s)
			}
		}
	}
}

func TestRunWritesBothFiles(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "raw.txt")
	if err := os.WriteFile(in, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	md, pngFile := filepath.Join(dir, "t.md"), filepath.Join(dir, "c.png")
	var stderr bytes.Buffer
	if got := run([]string{"-in", in, "-md", md, "-png", pngFile}, &stderr); got != 0 {
		t.Fatalf("status %d, stderr %q", got, stderr.String())
	}
	for _, f := range []string{md, pngFile} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v, want a non-empty file", f, err)
		}
	}
	if got := run([]string{"-in", in}, &stderr); got != 2 {
		t.Errorf("without outputs: status %d, want 2", got)
	}
}
