package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levent-go/levent/internal/exampletest"
)

func TestTicksThenExits(t *testing.T) {
	bin := exampletest.Build(t, ".")
	p := exampletest.Start(t, bin, "-n", "3", "-interval", "50ms")
	for i := 0; i < 3; i++ {
		l := p.Expect("timeout_cb called at")
		if !strings.Contains(l, "seconds elapsed.") {
			t.Fatalf("line %q lacks the elapsed time", l)
		}
	}
	p.ExitsWithin(10*time.Second, 0) // after 3 ticks
}

func TestInterruptStopsIt(t *testing.T) {
	bin := exampletest.Build(t, ".")
	p := exampletest.Start(t, bin, "-interval", "20ms")
	p.Expect("timeout_cb called at")
	p.ExitsCleanly(syscall.SIGINT)
}
