package bufferevent

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestNewTokenBucketConfigChecksItsValues(t *testing.T) {
	for _, tc := range []struct {
		name                                       string
		readRate, readBurst, writeRate, writeBurst int
		tick                                       time.Duration
	}{
		{"read rate 0", 0, 10, 1, 10, time.Second},
		{"write rate 0", 1, 10, 0, 10, time.Second},
		{"negative rate", -5, 10, 1, 10, time.Second},
		{"read burst below rate", 10, 9, 1, 10, time.Second},
		{"write burst below rate", 1, 10, 10, 9, time.Second},
		{"negative tick", 1, 1, 1, 1, -time.Second},
		{"tick under a millisecond", 1, 1, 1, 1, 999 * time.Microsecond},
		{"burst above MaxRateLimit", 1, int(min(MaxRateLimit+1, math.MaxInt)), 1, 1, time.Second},
	} {
		if math.MaxInt <= MaxRateLimit && tc.name == "burst above MaxRateLimit" {
			continue // an int cannot say it on this platform
		}
		cfg, err := NewTokenBucketConfig(tc.readRate, tc.readBurst, tc.writeRate, tc.writeBurst, tc.tick)
		if !errors.Is(err, ErrRateLimit) || cfg != nil {
			t.Errorf("%s: got %v, %v; want nil, ErrRateLimit", tc.name, cfg, err)
		}
	}
	cfg, err := NewTokenBucketConfig(100, 400, 200, 800, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ReadRate() != 100 || cfg.ReadBurst() != 400 || cfg.WriteRate() != 200 || cfg.WriteBurst() != 800 {
		t.Errorf("got rates %d/%d and %d/%d, want 100/400 and 200/800",
			cfg.ReadRate(), cfg.ReadBurst(), cfg.WriteRate(), cfg.WriteBurst())
	}
	if cfg.Tick() != time.Second {
		t.Errorf("tick 0: got %v, want 1s, as libevent's default", cfg.Tick())
	}
	if _, err := NewTokenBucketConfig(1, 1, 1, 1, time.Millisecond); err != nil {
		t.Errorf("a 1ms tick: %v", err)
	}
}

func mustConfig(t testing.TB, rate, burst int, tick time.Duration) *TokenBucketConfig {
	t.Helper()
	cfg, err := NewTokenBucketConfig(rate, burst, rate, burst, tick)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The bucket's arithmetic, tick by tick: a new bucket holds one tick's
// worth, each tick adds the rate up to the burst, spending more than is
// left goes below zero and takes that many ticks to make up.
func TestTokenBucketRefill(t *testing.T) {
	cfg := mustConfig(t, 100, 250, time.Second)
	var b tokenBucket
	b.init(cfg, 10*time.Second+500*time.Millisecond) // tick 10
	want := func(step string, read, write int64) {
		t.Helper()
		if b.tokens != [2]int64{read, write} {
			t.Fatalf("%s: got read %d, write %d; want %d, %d", step, b.tokens[dirRead], b.tokens[dirWrite], read, write)
		}
	}
	want("new", 100, 100)
	b.refill(cfg, 10)
	want("same tick", 100, 100)
	b.refill(cfg, 9)
	want("a tick back", 100, 100)
	b.refill(cfg, 11)
	want("one tick", 200, 200)
	b.refill(cfg, 12)
	want("burst reached", 250, 250)
	b.refill(cfg, 20)
	want("burst kept", 250, 250)
	b.take(dirRead, 400)
	want("overspent", -150, 250)
	b.refill(cfg, 21)
	want("one tick after", -50, 250)
	b.refill(cfg, 22)
	want("two ticks after", 50, 250)
	b.take(dirWrite, -1000)
	want("added by hand, above the burst", 50, 1250)
	b.refill(cfg, 23)
	want("a refill clips it", 150, 250)
}

// However large the numbers, a refill cannot overflow: the bucket stays
// within ±MaxRateLimit and reaches the burst.
func TestTokenBucketDoesNotOverflow(t *testing.T) {
	cfg, err := NewTokenBucketConfig(int(min(MaxRateLimit, math.MaxInt)), int(min(MaxRateLimit, math.MaxInt)), 1, 1, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var b tokenBucket
	b.init(cfg, 0)
	b.take(dirRead, math.MaxInt)
	b.take(dirRead, math.MaxInt)
	b.take(dirWrite, math.MinInt)
	b.take(dirWrite, math.MinInt)
	if lo, hi := b.tokens[dirRead], b.tokens[dirWrite]; lo < -MaxRateLimit || hi > MaxRateLimit {
		t.Fatalf("after huge takes: read %d, write %d; want within ±%d", lo, hi, MaxRateLimit)
	}
	b.refill(cfg, math.MaxInt64)
	if b.tokens != cfg.burst {
		t.Fatalf("after every tick there is: got %v, want the bursts %v", b.tokens, cfg.burst)
	}
}

// Changing a bucket's config only clips it down; a new tick length counts
// ticks anew.
func TestTokenBucketReconfigure(t *testing.T) {
	old := mustConfig(t, 100, 1000, time.Second)
	var b tokenBucket
	b.init(old, 5*time.Second)
	b.refill(old, 15)
	b.reconfigure(old, mustConfig(t, 10, 300, time.Second), 15*time.Second)
	if b.tokens != [2]int64{300, 300} || b.last != 15 {
		t.Fatalf("got %v at tick %d, want [300 300] at tick 15", b.tokens, b.last)
	}
	b.reconfigure(old, mustConfig(t, 10, 5000, 100*time.Millisecond), 15*time.Second+250*time.Millisecond)
	if b.tokens != [2]int64{300, 300} || b.last != 152 {
		t.Fatalf("new tick: got %v at tick %d, want [300 300] at tick 152", b.tokens, b.last)
	}
}
