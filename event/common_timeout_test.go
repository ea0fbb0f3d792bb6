//go:build linux

package event

import (
	"errors"
	"testing"
	"time"
)

func TestInitCommonTimeoutReturnsTheDuration(t *testing.T) {
	eachBackend(t, func(t *testing.T, cfg Config) {
		base := newBase(t, cfg)
		d, err := base.InitCommonTimeout(30 * time.Millisecond)
		if err != nil || d != 30*time.Millisecond {
			t.Fatalf("InitCommonTimeout(30ms) = %v, %v; want 30ms, nil", d, err)
		}
		// Events added with it fire with Timeout, no sooner than d, first
		// added first.
		var order []int
		start := time.Now()
		var late time.Duration
		for i := 0; i < 3; i++ {
			i := i
			ev := mustNew(t, base, -1, 0, func(_ int, what Flag) {
				if what != Timeout {
					t.Errorf("event %d fired with %v, want Timeout", i, what)
				}
				if i == 0 {
					late = time.Since(start)
				}
				order = append(order, i)
			})
			if err := ev.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := base.Dispatch(); err != nil {
			t.Fatal(err)
		}
		if len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
			t.Fatalf("fired in order %v, want [0 1 2]", order)
		}
		if late < d {
			t.Fatalf("the first event fired after %v, before its timeout %v", late, d)
		}
	})
}

func TestInitCommonTimeoutMisuse(t *testing.T) {
	var nilBase *Base
	if _, err := nilBase.InitCommonTimeout(time.Second); !errors.Is(err, ErrNilBase) {
		t.Errorf("nil base: err = %v, want ErrNilBase", err)
	}
	base := newBase(t, Config{})
	for _, d := range []time.Duration{0, -time.Second} {
		if got, err := base.InitCommonTimeout(d); !errors.Is(err, ErrTimeout) || got != 0 {
			t.Errorf("InitCommonTimeout(%v) = %v, %v; want 0, ErrTimeout", d, got, err)
		}
	}
	base.Close()
	if _, err := base.InitCommonTimeout(time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("closed base: err = %v, want ErrClosed", err)
	}
}
