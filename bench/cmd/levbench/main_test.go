package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// specKeys are the keys of each bench= line, in SPEC.md's order; a port
// may add keys at the end (extra).
var specKeys = map[string]struct{ keys, extra string }{
	"pipechain":   {"bench impl pipes active writes fds us_per_iter ns_per_event total_us_per_iter", ""},
	"timer_churn": {"bench impl n r ns_per_add ns_per_del ns_per_first_add ns_per_readd reps fired", "common"},
	"timer_fire":  {"bench impl n precise total_ms ns_per_timer cpu_ns_per_timer late_p50_us late_p99_us late_max_us late_min_us add_ms", ""},
	"activate":    {"bench impl n ns_per_cb", ""},
	"loop_once":   {"bench impl n ns_per_iter", ""},
	"memory":      {"bench impl n bytes_per_event", "heap_bytes_per_event"},
}

// parseLine splits a bench= line into its keys, in order, and values.
func parseLine(t *testing.T, line string) (keys []string, vals map[string]string) {
	t.Helper()
	vals = map[string]string{}
	for _, tok := range strings.Fields(line) {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			t.Fatalf("token %q of %q is not key=value", tok, line)
		}
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals
}

// runSub runs one subcommand as the command line would.
func runSub(t *testing.T, impl string, argv ...string) (string, error) {
	t.Helper()
	sub, ok := subcommands[argv[0]]
	if !ok {
		t.Fatalf("no subcommand %q", argv[0])
	}
	return sub(impl, &argList{name: argv[0], args: argv[1:]})
}

// openFds counts the process's open descriptors.
func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

func TestEverySubcommandPrintsTheSpecLine(t *testing.T) {
	if err := raiseNofile(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		impl string
		argv []string
		want map[string]string // parameter values the line must echo
	}{
		{implLevent, []string{"pipechain", "10", "3", "50", "4"}, map[string]string{"pipes": "10", "active": "3", "writes": "50", "fds": "duplex"}},
		{implLevent, []string{"pipechain", "7", "2", "20", "3", "duplex"}, map[string]string{"pipes": "7", "fds": "duplex"}},
		{implLevent, []string{"pipechain", "10", "1", "0", "2", "pair"}, map[string]string{"writes": "0", "fds": "pair"}},
		{implLevent, []string{"timer_churn", "100000", "1"}, map[string]string{"n": "100000", "r": "1", "reps": "10", "fired": "0"}},
		{implRuntime, []string{"timer_churn", "100000", "1"}, map[string]string{"n": "100000", "r": "1", "reps": "10", "fired": "0"}},
		{implLevent, []string{"timer_churn", "1000", "2", "1"}, map[string]string{"n": "1000", "r": "2", "fired": "0", "common": "1"}},
		{implRuntime, []string{"timer_churn", "1000", "2", "1"}, map[string]string{"n": "1000", "common": "1"}},
		{implLevent, []string{"timer_fire", "200"}, map[string]string{"n": "200", "precise": "1"}},
		{implLevent, []string{"timer_fire", "200", "0"}, map[string]string{"precise": "1"}},
		{implRuntime, []string{"timer_fire", "200", "1"}, map[string]string{"n": "200", "precise": "1"}},
		{implLevent, []string{"activate", "1000"}, map[string]string{"n": "1000"}},
		{implLevent, []string{"loop_once", "1000"}, map[string]string{"n": "1000"}},
		{implLevent, []string{"memory", "1000"}, map[string]string{"n": "1000"}},
		{implRuntime, []string{"memory", "1000"}, map[string]string{"n": "1000"}},
	} {
		name := tc.impl + " " + strings.Join(tc.argv, " ")
		t.Run(name, func(t *testing.T) {
			fds := openFds(t)
			line, err := runSub(t, tc.impl, tc.argv...)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			keys, vals := parseLine(t, line)
			spec := specKeys[tc.argv[0]]
			want := strings.Fields(spec.keys + " " + spec.extra)
			if got := strings.Join(keys, " "); got != strings.Join(want, " ") {
				t.Errorf("keys\n got %s\nwant %s", got, strings.Join(want, " "))
			}
			if vals["bench"] != tc.argv[0] || vals["impl"] != tc.impl {
				t.Errorf("bench=%s impl=%s, want bench=%s impl=%s", vals["bench"], vals["impl"], tc.argv[0], tc.impl)
			}
			for k, v := range tc.want {
				if vals[k] != v {
					t.Errorf("%s=%s, want %s", k, vals[k], v)
				}
			}
			if got := openFds(t); got != fds {
				t.Errorf("%d descriptors open after the run, want %d", got, fds)
			}
		})
	}
}

func TestTimerFireNeverFiresEarly(t *testing.T) {
	for _, impl := range []string{implLevent, implRuntime} {
		line, err := runSub(t, impl, "timer_fire", "500")
		if err != nil {
			t.Fatal(err)
		}
		_, vals := parseLine(t, line)
		if strings.HasPrefix(vals["late_min_us"], "-") {
			t.Errorf("%s: late_min_us=%s, want >= 0 (a timer fired early)", impl, vals["late_min_us"])
		}
	}
}

func TestFloatsHaveOneDecimal(t *testing.T) {
	line, err := runSub(t, implLevent, "activate", "100")
	if err != nil {
		t.Fatal(err)
	}
	_, vals := parseLine(t, line)
	v := vals["ns_per_cb"]
	if dot := strings.IndexByte(v, '.'); dot < 0 || len(v)-dot-1 != 1 {
		t.Errorf("ns_per_cb=%s, want %%.1f formatting", v)
	}
}

func TestBadArgumentsExitWithStatusTwo(t *testing.T) {
	for _, argv := range [][]string{
		{},
		{"nosuch"},
		{"-impl=libuv", "activate"},
		{"-impl=go-runtime-timers", "activate", "10"},
		{"-impl=go-runtime-timers", "pipechain", "10", "1", "1"},
		{"pipechain", "10", "1"},
		{"pipechain", "10", "11", "1"},
		{"pipechain", "10", "1", "1", "25", "triple"},
		{"timer_churn", "x"},
		{"timer_churn", "0"},
		{"timer_churn", "10", "1", "2"},
		{"timer_fire", "10", "2"},
		{"loop_once", "10", "20"},
		{"memory", "-5"},
	} {
		if got := run(argv); got != 2 {
			t.Errorf("run(%q) = %d, want 2", argv, got)
		}
	}
}

func TestImplComesFromTheEnvironment(t *testing.T) {
	t.Setenv("LEVBENCH_IMPL", implRuntime)
	// activate exists only for levent, so the environment's choice shows
	// as a refusal.
	if got := run([]string{"activate", "10"}); got != 2 {
		t.Errorf("run(activate) with LEVBENCH_IMPL=%s = %d, want 2", implRuntime, got)
	}
	if got := run([]string{"-impl=levent", "activate", "10"}); got != 0 {
		t.Errorf("run(-impl=levent activate) = %d, want 0 (the flag wins)", got)
	}
}

func TestPRNGMatchesTheReferenceSequence(t *testing.T) {
	// Values printed by the C reference (bench/c/levbench.c's rng_next).
	rng := newPRNG()
	for i, want := range []uint64{0x78f387421171faef, 0x3568246c7ecb9e75, 0x28123566065505} {
		if got := rng.next(); got != want {
			t.Errorf("draw %d = %#x, want %#x", i, got, want)
		}
	}
	for i, want := range []time.Duration{59005073 * time.Microsecond, 10359323 * time.Microsecond, 5344268 * time.Microsecond} {
		if got := rng.idleTimeout(); got != want {
			t.Errorf("idle timeout %d = %v, want %v", i, got, want)
		}
	}
}

func TestPercentileTakesTheFloorIndex(t *testing.T) {
	v := []int64{50, 10, 40, 20, 30, 60}
	for _, tc := range []struct {
		q    int
		want int64
	}{{0, 10}, {50, 30}, {99, 50}, {100, 60}} {
		if got := percentile(v, tc.q); got != tc.want {
			t.Errorf("percentile(q=%d) = %d, want %d", tc.q, got, tc.want)
		}
	}
}

func TestDuplexPipesCarryBytesToTheirReadEnd(t *testing.T) {
	for _, tc := range []struct {
		pipes int
		pair  bool
		fds   int
	}{{5, false, 6}, {6, false, 6}, {4, true, 8}} {
		before := openFds(t)
		r, w, err := makePipes(tc.pipes, tc.pair)
		if err != nil {
			t.Fatal(err)
		}
		if got := openFds(t) - before; got != tc.fds {
			t.Errorf("pipes=%d pair=%v opened %d descriptors, want %d", tc.pipes, tc.pair, got, tc.fds)
		}
		for i := range r {
			if _, err := unix.Write(w[i], []byte{byte(i)}); err != nil {
				t.Fatalf("write to pipe %d: %v", i, err)
			}
			var b [2]byte
			n, err := unix.Read(r[i], b[:])
			if err != nil || n != 1 || b[0] != byte(i) {
				t.Errorf("pipe %d read %d bytes %v (err %v), want 1 byte %d", i, n, b[:n], err, i)
			}
		}
		closeAll(r, w)
		if got := openFds(t); got != before {
			t.Errorf("%d descriptors open after closeAll, want %d", got, before)
		}
	}
}

func TestPipeCallbackCountsFailedReadsAndWrites(t *testing.T) {
	// A read from and a write to a closed descriptor are failures, which
	// make the iteration's check fail; the write still counts as fired.
	c := &chain{w: []int{-1}, writes: 1}
	c.callback(0)(-1, 0)
	if c.failures != 2 || c.count != 0 || c.fired != 1 || c.writes != 0 {
		t.Errorf("failures=%d count=%d fired=%d writes=%d, want 2 0 1 0", c.failures, c.count, c.fired, c.writes)
	}
}

// -cpuprofile writes a profile of the run; a file that cannot be created
// fails the run with status 1 before the benchmark starts.
func TestCPUProfileIsWritten(t *testing.T) {
	path := t.TempDir() + "/cpu.prof"
	if got := run([]string{"-cpuprofile=" + path, "activate", "1000"}); got != 0 {
		t.Fatalf("run with -cpuprofile = %d, want 0", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("profile %s: %v, want a non-empty file", path, err)
	}
	if got := run([]string{"-cpuprofile=" + t.TempDir() + "/no/such/dir/cpu.prof", "activate", "10"}); got != 1 {
		t.Errorf("run with an unwritable -cpuprofile = %d, want 1", got)
	}
}
