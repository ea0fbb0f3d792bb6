package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/levent-go/levent/bench/internal/cpuprof"
)

// Implementation names, as printed in the impl= key.
const (
	implLevent  = "levent"
	implRuntime = "go-runtime-timers"
)

// errUsage marks argument errors, which exit with status 2 rather than 1.
var errUsage = errors.New("bad arguments")

const usageText = `usage: levbench [-impl=levent|go-runtime-timers] [-cpuprofile=FILE] SUBCOMMAND ARGS...
  pipechain PIPES ACTIVE WRITES [ITERS=25] [FDS=duplex|pair]
  timer_churn N [R=10] [COMMON=0|1]
  timer_fire N [PRECISE=0|1]
  activate [M=10000000]
  loop_once [M=1000000]
  memory [N=1000000]
-impl defaults to $LEVBENCH_IMPL, then levent; go-runtime-timers runs
timer_churn, timer_fire and memory on Go's own timers. -cpuprofile writes
a CPU profile of the whole run (set-up included) to FILE.
`

// subcommand runs one benchmark with its positional arguments and returns
// the bench= line to print.
type subcommand func(impl string, args *argList) (string, error)

var subcommands = map[string]subcommand{
	"pipechain":   runPipechain,
	"timer_churn": runTimerChurn,
	"timer_fire":  runTimerFire,
	"activate":    runActivate,
	"loop_once":   runLoopOnce,
	"memory":      runMemory,
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	fs := flag.NewFlagSet("levbench", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, usageText) }
	impl := fs.String("impl", envOr("LEVBENCH_IMPL", implLevent), "implementation: levent or go-runtime-timers")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the run to `file`")
	if err := fs.Parse(argv); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	name := fs.Arg(0)
	sub, ok := subcommands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "levbench: unknown subcommand %q\n", name)
		fs.Usage()
		return 2
	}
	if *impl != implLevent && *impl != implRuntime {
		fmt.Fprintf(os.Stderr, "levbench: unknown implementation %q\n", *impl)
		return 2
	}
	// Every benchmark may need many descriptors; the hard limit is the
	// ceiling, never exceeded.
	if err := raiseNofile(); err != nil {
		fmt.Fprintf(os.Stderr, "levbench: %v\n", err)
		return 1
	}
	var line string
	err := cpuprof.Run(*profile, func() (err error) {
		line, err = sub(*impl, &argList{name: name, args: fs.Args()[1:]})
		return err
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "levbench: %s: %v\n", name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	fmt.Println(line)
	return 0
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// argList hands out a subcommand's positional arguments in order.
type argList struct {
	name string
	args []string
	next int
}

// int returns the next argument as a non-negative integer, def when it is
// absent, or an error when def < 0 (the argument is required) and it is
// missing.
func (a *argList) int(what string, def int) (int, error) {
	if a.next >= len(a.args) {
		if def < 0 {
			return 0, fmt.Errorf("%w: missing %s", errUsage, what)
		}
		return def, nil
	}
	s := a.args[a.next]
	a.next++
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%w: %s must be a non-negative integer, got %q", errUsage, what, s)
	}
	return v, nil
}

// positive is int for counts that must be at least 1.
func (a *argList) positive(what string, def int) (int, error) {
	v, err := a.int(what, def)
	if err == nil && v < 1 {
		err = fmt.Errorf("%w: %s must be at least 1", errUsage, what)
	}
	return v, err
}

// word returns the next argument, which must be one of allowed, or def.
func (a *argList) word(what, def string, allowed ...string) (string, error) {
	if a.next >= len(a.args) {
		return def, nil
	}
	s := a.args[a.next]
	a.next++
	for _, w := range allowed {
		if s == w {
			return s, nil
		}
	}
	return "", fmt.Errorf("%w: %s must be one of %v, got %q", errUsage, what, allowed, s)
}

// done reports surplus arguments.
func (a *argList) done() error {
	if a.next < len(a.args) {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, a.args[a.next])
	}
	return nil
}

// onlyLevent refuses go-runtime-timers for benchmarks that are about a
// loop, which Go's timers do not have.
func onlyLevent(impl, name string) error {
	if impl != implLevent {
		return fmt.Errorf("%w: %s exists only for impl=levent", errUsage, name)
	}
	return nil
}
