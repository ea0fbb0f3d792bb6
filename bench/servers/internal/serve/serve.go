// Package serve holds what every Go echo server of levent's echo benchmark
// shares: the command line (-addr, -nodelay, -cpuprofile), the CPU profile,
// stopping on SIGINT and SIGTERM, and, for the levent servers, the loop
// around their accept callback.
package serve

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/levent-go/levent/bench/internal/cpuprof"
	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/listener"
)

// Options are the flags every echo server takes.
type Options struct {
	Addr       string // address to listen on
	CPUProfile string // file for a CPU profile of the whole run; "" for none
	NoDelay    bool   // set TCP_NODELAY on accepted connections
}

// Main is a server's main function: it reads the command line of server
// name, which listens on defaultAddr unless -addr says otherwise, runs run
// under the CPU profile -cpuprofile asks for, and exits: with status 1 and
// the error if run or the profile failed, 2 on bad flags.
func Main(name, defaultAddr string, run func(Options) error) {
	var o Options
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	fs.StringVar(&o.Addr, "addr", defaultAddr, "`address` to listen on")
	fs.BoolVar(&o.NoDelay, "nodelay", true, "set TCP_NODELAY on accepted connections")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to `file`")
	fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "%s: unexpected arguments %q\n", name, fs.Args())
		os.Exit(2)
	}
	if err := cpuprof.Run(o.CPUProfile, func() error { return run(o) }); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Signals returns a channel that receives SIGINT and SIGTERM, for servers
// whose loop does not watch signals itself.
func Signals() <-chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	return c
}

// Levent runs a levent server: one base, a listener on addr that hands
// each connection to accept, and signal events that end the loop on
// SIGINT and SIGTERM. It returns when the loop ends.
func Levent(addr string, accept listener.Callback) error {
	base, err := event.NewBase()
	if err != nil {
		return err
	}
	defer base.Close()
	l, err := listener.NewBind(base, accept, listener.Reuseable|listener.CloseOnFree, -1, "tcp", addr)
	if err != nil {
		return err
	}
	defer l.Free()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		ev, err := event.NewSignal(base, sig, func(int, event.Flag) { base.LoopExit(0) })
		if err != nil {
			return err
		}
		defer ev.Free()
		if err := ev.Add(0); err != nil {
			return err
		}
	}
	return base.Dispatch()
}
