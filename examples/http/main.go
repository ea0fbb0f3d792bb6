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
	flag.StringVar(&cfg.root, "root", cfg.root, "directory served under /static/")
	flag.DurationVar(&cfg.headerTimeout, "header-timeout", cfg.headerTimeout, "time allowed for a request head, from its first byte")
	flag.DurationVar(&cfg.idleTimeout, "idle-timeout", cfg.idleTimeout, "time a connection may wait for a request, or for a body or a write to progress")
	flag.IntVar(&cfg.maxHeader, "max-header", cfg.maxHeader, "longest request head accepted, in bytes (431 beyond)")
	flag.IntVar(&cfg.maxBody, "max-body", cfg.maxBody, "largest request body accepted, in bytes (413 beyond)")
	flag.IntVar(&cfg.maxOutput, "max-output", cfg.maxOutput, "response bytes waiting to be sent before a connection stops reading")
	flag.StringVar(&cfg.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain) file; needs -tls-key")
	flag.StringVar(&cfg.tlsKey, "tls-key", "", "the PEM private key of -tls-cert")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "http:", err)
		os.Exit(1)
	}
}

func (cfg config) check() error {
	if cfg.headerTimeout <= 0 || cfg.idleTimeout <= 0 {
		return errors.New("the timeouts must be positive")
	}
	if cfg.maxHeader <= 0 || cfg.maxBody < 0 || cfg.maxOutput <= 0 {
		return errors.New("the limits must be positive")
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
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
