package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

func TestTwoInterruptsEndTheLoop(t *testing.T) {
	bin := exampletest.Build(t, ".")
	p := exampletest.Start(t, bin)
	p.Expect("waiting for Ctrl+C")
	p.Signal(syscall.SIGINT)
	if l := p.Expect("received signal"); l != "received signal 2" {
		t.Fatalf("got %q, want %q", l, "received signal 2")
	}
	p.Signal(syscall.SIGINT)
	p.Expect("received signal 2")
	p.Expect("signal event deleted, loop done")
	p.ExitsWithin(exampletest.QuickExit, 0)
}

func TestInterruptAfterDeleteKillsAsBefore(t *testing.T) {
	bin := exampletest.Build(t, ".")
	p := exampletest.Start(t, bin, "-linger", "30s")
	p.Expect("waiting for Ctrl+C")
	p.Signal(syscall.SIGINT)
	p.Expect("received signal 2")
	p.Signal(syscall.SIGINT)
	p.Expect("loop done")
	p.Signal(syscall.SIGINT) // the event is gone: SIGINT's default action again
	ws := p.Wait(10 * time.Second)
	if !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("status %v, want killed by SIGINT", ws)
	}
}
