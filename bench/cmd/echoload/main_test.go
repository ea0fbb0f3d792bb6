package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFlagsRejectBadValues(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "10.0.0.1:80"},
		{"-addr", "[::1]:80"},
		{"-addr", "localhost"},
		{"-size", "7"},
		{"-conns", "0"},
		{"-depth", "0"},
		{"-idle", "-1"},
		{"-duration", "0s"},
		{"extra"},
	} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted it, want an error", args)
		}
	}
}

func TestFlagsDefaults(t *testing.T) {
	cfg, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr.String() != "127.0.0.1:9001" || cfg.conns != 100 || cfg.depth != 1 || cfg.size != 64 ||
		cfg.duration != 10*time.Second || cfg.warmup != 2*time.Second || cfg.procs != 1 {
		t.Errorf("defaults %+v", cfg)
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	var out, errOut bytes.Buffer
	if got := run([]string{"-size", "1"}, &out, &errOut); got != 2 || out.Len() != 0 {
		t.Errorf("run with -size 1: status %d, stdout %q; want 2 and nothing", got, out.String())
	}
}

func TestResultLineKeysInOrder(t *testing.T) {
	cfg := config{conns: 100, idle: 5, size: 64, depth: 16}
	line := formatResult(cfg, result{secs: 2, msgs: 1000, p50: 1500, p99: 9000, clientCPU: time.Second, otherCPU: 250 * time.Millisecond, steal: 10 * time.Millisecond})
	want := "echoload conns=100 idle=5 size=64 depth=16 secs=2.00 msgs=1000 msgs_per_s=500 mb_per_s=0.03 p50_us=1.5 p99_us=9.0 errors=0 client_cpu_s=1.000 other_cpu_s=0.25 steal_s=0.01"
	if line != want {
		t.Errorf("got  %q\nwant %q", line, want)
	}
	srv := formatResult(cfg, result{secs: 2, msgs: 1000, srv: &serverStats{cpu: time.Millisecond, bytesPerConn: 10}})
	if !strings.HasSuffix(srv, "srv_cpu_s=0.001 srv_ns_per_msg=1000 srv_rss_kb=0 srv_hwm_kb=0 srv_bytes_per_conn=10") {
		t.Errorf("server keys: got %q", srv)
	}
}
