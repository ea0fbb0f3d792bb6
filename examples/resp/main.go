package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"syscall"

	"github.com/levent-go/levent/event"
)

func main() {
	cfg := defaultConfig
	flag.StringVar(&cfg.addr, "addr", cfg.addr, "address to listen on (port 0: any free port)")
	flag.IntVar(&cfg.maxBulk, "max-bulk", cfg.maxBulk, "longest bulk string accepted in a request, in bytes")
	flag.IntVar(&cfg.maxInline, "max-inline", cfg.maxInline, "longest inline request accepted, in bytes")
	flag.IntVar(&cfg.maxQuery, "max-query", cfg.maxQuery, "most bytes of requests buffered per connection")
	flag.IntVar(&cfg.maxOutput, "max-output", cfg.maxOutput, "reply bytes waiting to be sent before a connection stops reading")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "resp:", err)
		os.Exit(1)
	}
}

func (cfg config) check() error {
	if cfg.maxBulk <= 0 || cfg.maxInline <= 0 || cfg.maxQuery <= 0 || cfg.maxOutput <= 0 {
		return errors.New("the limits must be positive")
	}
	return nil
}

func run(cfg config) error {
	if err := cfg.check(); err != nil {
		return err
	}
	base, err := event.NewBase()
	if err != nil {
		return err
	}
	defer base.Close()
	srv, err := newServer(base, cfg)
	if err != nil {
		return err
	}
	defer srv.close()
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
	fmt.Printf("listening on %s\n", srv.Addr())
	return base.Dispatch()
}
