package bufferevent

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/levent-go/levent/event"
)

// Rate limiting (libevent's bufferevent_ratelim.c) keeps a token bucket per
// direction: each byte read or written costs a token, and every tick adds
// the rate's worth of tokens, up to the burst. A read or write may move
// at most what the bucket holds (combined with SetMaxSingleRead or
// SetMaxSingleWrite, as bufferevent_get_read_max_ combines
// max_single_read with the limits), and in a RateLimitGroup at most the
// member's share of the group's bucket. What it moved is then taken out,
// so a bucket may go below zero (a TLS record, a share rounded up to the
// minimum). Once a bucket is empty its direction is held: the read or
// write event leaves the loop, as libevent's BEV_SUSPEND_BW and
// BEV_SUSPEND_BW_GROUP suspend it, and nothing is read or written until a
// tick refills the bucket. A BufferEvent's own bucket is refilled by a
// one-shot timer, pending only while it holds a direction; a group's by a
// periodic timer on its base. No goroutine is involved.
//
// Ticks are counted from a fixed instant, not from when a bucket was
// made: a refill adds the rate once per tick boundary passed since the
// last one, so a timer that fires late loses nothing unless the bucket
// reached its burst meanwhile.

// Directions, the index of every per-direction array here.
const (
	dirRead  = 0
	dirWrite = 1
)

var dirName = [2]string{dirRead: "read", dirWrite: "write"}

// MaxRateLimit is the largest rate or burst NewTokenBucketConfig accepts
// (EV_RATE_LIMIT_MAX). It leaves room for a bucket's arithmetic: tokens
// stay within ±MaxRateLimit, so a refill cannot overflow.
const MaxRateLimit int64 = 1 << 61

// Errors of rate limiting.
var (
	ErrRateLimit   = errors.New("bufferevent: bad rate limit")
	ErrNoRateLimit = errors.New("bufferevent: no rate limit set (SetRateLimit)")
	ErrGroupFreed  = errors.New("bufferevent: rate-limit group freed")
)

// TokenBucketConfig is a rate limit: how many bytes may be read and
// written per tick on average, and at most in one burst
// (struct ev_token_bucket_cfg). It cannot be changed once made, so one
// config may serve any number of BufferEvents and groups, on any
// goroutine.
type TokenBucketConfig struct {
	rate  [2]int64 // tokens added per tick, by direction
	burst [2]int64 // the most a bucket holds
	tick  time.Duration
}

// NewTokenBucketConfig returns a rate limit of readRate bytes read and
// writeRate bytes written per tick on average, with at most readBurst
// and writeBurst in any one tick (ev_token_bucket_cfg_new). tick 0 means
// one second, as a NULL tick_len does. A rate below 1, a burst below its
// rate or above MaxRateLimit, and a tick shorter than a millisecond
// (libevent counts ticks in milliseconds) are refused with ErrRateLimit.
func NewTokenBucketConfig(readRate, readBurst, writeRate, writeBurst int, tick time.Duration) (*TokenBucketConfig, error) {
	if tick == 0 {
		tick = time.Second
	}
	if tick < time.Millisecond {
		return nil, fmt.Errorf("%w: tick %v, want at least 1ms", ErrRateLimit, tick)
	}
	cfg := &TokenBucketConfig{tick: tick}
	for d, v := range [2][2]int{dirRead: {readRate, readBurst}, dirWrite: {writeRate, writeBurst}} {
		rate, burst := int64(v[0]), int64(v[1])
		if rate < 1 || burst < rate || burst > MaxRateLimit {
			return nil, fmt.Errorf("%w: %s rate %d, burst %d; want 1 <= rate <= burst <= %d",
				ErrRateLimit, dirName[d], rate, burst, MaxRateLimit)
		}
		cfg.rate[d], cfg.burst[d] = rate, burst
	}
	return cfg, nil
}

// ReadRate is the bytes that may be read per tick on average.
func (c *TokenBucketConfig) ReadRate() int { return int(c.rate[dirRead]) }

// ReadBurst is the most that may be read in one tick.
func (c *TokenBucketConfig) ReadBurst() int { return int(c.burst[dirRead]) }

// WriteRate is the bytes that may be written per tick on average.
func (c *TokenBucketConfig) WriteRate() int { return int(c.rate[dirWrite]) }

// WriteBurst is the most that may be written in one tick.
func (c *TokenBucketConfig) WriteBurst() int { return int(c.burst[dirWrite]) }

// Tick is the length of a tick.
func (c *TokenBucketConfig) Tick() time.Duration { return c.tick }

// tickAt is the number of the tick now falls in (ev_token_bucket_get_tick_).
func (c *TokenBucketConfig) tickAt(now time.Duration) int64 { return int64(now / c.tick) }

// rateEpoch is where ticks are counted from.
var rateEpoch = time.Now()

// rateNow is the time ticks are computed from: the loop's cached time, as
// libevent uses event_base_gettimeofday_cached. Tests swap it.
var rateNow = func(b *event.Base) time.Duration { return b.Now().Sub(rateEpoch) }

// tokenBucket is the tokens left in each direction (struct
// ev_token_bucket). They go below zero when more was moved than was
// left; they never leave ±MaxRateLimit.
type tokenBucket struct {
	tokens [2]int64
	last   int64 // the tick of the last refill
}

// init fills a new bucket with one tick's worth, the rate, not the burst,
// as ev_token_bucket_init_ does.
func (b *tokenBucket) init(cfg *TokenBucketConfig, now time.Duration) {
	b.tokens = cfg.rate
	b.last = cfg.tickAt(now)
}

// reconfigure adapts a bucket made for old to cfg: it is only clipped
// down to the new bursts, since an unknown part of this tick's tokens was
// already spent (ev_token_bucket_init_ with reinitialize). When the tick
// length changes, ticks are counted anew from now (libevent keeps the
// old count, which then means nothing).
func (b *tokenBucket) reconfigure(old, cfg *TokenBucketConfig, now time.Duration) {
	for d := range b.tokens {
		b.tokens[d] = min(b.tokens[d], cfg.burst[d])
	}
	if old.tick != cfg.tick {
		b.last = cfg.tickAt(now)
	}
}

// refill adds the rate once for each tick since the last refill, up to
// the burst (ev_token_bucket_update_). A tick that did not advance adds
// nothing. The comparison is written so that nothing overflows however
// many ticks passed.
func (b *tokenBucket) refill(cfg *TokenBucketConfig, tick int64) {
	n := tick - b.last
	if n <= 0 {
		return
	}
	for d := range b.tokens {
		if (cfg.burst[d]-b.tokens[d])/n < cfg.rate[d] {
			b.tokens[d] = cfg.burst[d]
		} else {
			b.tokens[d] += n * cfg.rate[d]
		}
	}
	b.last = tick
}

// take removes n tokens from direction d (n < 0 adds them), keeping the
// bucket within ±MaxRateLimit.
func (b *tokenBucket) take(d int, n int64) {
	n = max(-MaxRateLimit, min(MaxRateLimit, n))
	b.tokens[d] = max(-MaxRateLimit, min(MaxRateLimit, b.tokens[d]-n))
}

// clampInt converts a bucket level to int (a no-op on 64-bit platforms).
func clampInt(v int64) int { return int(max(math.MinInt, min(math.MaxInt, v))) }

// rateLimit is the rate-limit state of a BufferEvent (struct
// bufferevent_rate_limit), in its bevExt: made by SetRateLimit or
// AddToRateLimitGroup and kept afterwards. Under bev.mu, except idx.
type rateLimit struct {
	bev    *BufferEvent
	cfg    *TokenBucketConfig // the own limit; nil: none (the group's may still apply)
	bucket tokenBucket        // the own bucket, while cfg is set
	held   uint8              // held* bits: which limits hold which direction back
	armed  bool               // refill is pending ⇔ an own bit of held is set
	group  *RateLimitGroup    // changed under both bev.mu and the group's mu
	idx    int                // index in group.members, under the group's mu
	refill event.Event        // one-shot timer refilling the own bucket

	restart   uint8  // 1<<d: direction d is released, its start handed to the loop
	restartFn func() // runRestart's method value, made once
}

// Bits of rateLimit.held, each shifted left by the direction: a limit
// holds reading (<< dirRead) or writing (<< dirWrite). A held direction's
// event is not pending (while connecting, the write event stays for the
// connect).
const (
	heldOwn   uint8 = 1 << 0 // the own bucket is empty (BEV_SUSPEND_BW)
	heldGroup uint8 = 1 << 2 // the group's bucket is empty (BEV_SUSPEND_BW_GROUP)
)

// heldDir is the held bits of either limit for direction d.
func heldDir(d int) uint8 { return (heldOwn | heldGroup) << d }

// rateLimitLocked is the rate-limit state; nil if none was ever set.
func (bev *BufferEvent) rateLimitLocked() *rateLimit {
	if bev.ext == nil {
		return nil
	}
	return bev.ext.rl
}

// rateHeldLocked reports whether a rate limit holds direction d back.
func (bev *BufferEvent) rateHeldLocked(d int) bool {
	rl := bev.rateLimitLocked()
	return rl != nil && rl.held&heldDir(d) != 0
}

// ensureRateLimitLocked returns the rate-limit state, making it first.
func (bev *BufferEvent) ensureRateLimitLocked() (*rateLimit, error) {
	if rl := bev.rateLimitLocked(); rl != nil {
		return rl, nil
	}
	rl := &rateLimit{bev: bev}
	if err := rl.refill.Assign(bev.base, -1, 0, bev.onRefill); err != nil {
		return nil, err
	}
	bev.extra().rl = rl
	return rl, nil
}

// SetRateLimit limits the BufferEvent's reading and writing to cfg
// (bufferevent_set_rate_limit); nil removes the limit, and whatever it
// held resumes at once. A new limit starts with one tick's worth (the
// rate); replacing a limit keeps what is left, clipped to the new burst.
// Setting the config already set does nothing. The limit counts the
// bytes that cross the socket: on a TLS BufferEvent, ciphertext and
// handshake included, as libevent's OpenSSL BufferEvent counts what its
// socket BIO moves. A group's limit (AddToRateLimitGroup) applies besides.
// An in-memory pair end or a filter has no socket: ErrNotSocket (limit
// the socket BufferEvent under the filter instead). Safe from any
// goroutine.
func (bev *BufferEvent) SetRateLimit(cfg *TokenBucketConfig) error {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.life == lsFreed {
		return ErrFreed
	}
	if bev.fdlessLocked() {
		return ErrNotSocket
	}
	rl := bev.rateLimitLocked()
	if cfg == nil {
		if rl != nil && rl.cfg != nil {
			rl.cfg = nil
			bev.releaseLocked(rl, heldOwn, dirRead, false)
			bev.releaseLocked(rl, heldOwn, dirWrite, false)
			bev.disarmLocked(rl)
		}
		return nil
	}
	if rl != nil && rl.cfg == cfg {
		return nil
	}
	rl, err := bev.ensureRateLimitLocked()
	if err != nil {
		return err
	}
	now := rateNow(bev.base)
	if rl.cfg != nil {
		rl.bucket.reconfigure(rl.cfg, cfg, now)
	} else {
		rl.bucket.init(cfg, now)
	}
	bev.disarmLocked(rl) // armed again below, with the new tick, if need be
	rl.cfg = cfg
	bev.settleOwnLocked(rl, false)
	return nil
}

// RateLimit returns the config SetRateLimit set, nil for none
// (bufferevent_get_token_bucket_cfg). Safe from any goroutine.
func (bev *BufferEvent) RateLimit() *TokenBucketConfig {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if rl := bev.rateLimitLocked(); rl != nil {
		return rl.cfg
	}
	return nil
}

// GetReadLimit returns how many bytes the BufferEvent's own read bucket
// holds now, after the refills due (bufferevent_get_read_limit): below
// zero when more was read than it held. Without a limit it returns
// math.MaxInt, as libevent returns EV_SSIZE_MAX. A group's bucket is not
// looked at (RateLimitGroup.GetReadLimit). Safe from any goroutine.
func (bev *BufferEvent) GetReadLimit() int { return bev.getLimit(dirRead) }

// GetWriteLimit is GetReadLimit for writing (bufferevent_get_write_limit).
// Safe from any goroutine.
func (bev *BufferEvent) GetWriteLimit() int { return bev.getLimit(dirWrite) }

func (bev *BufferEvent) getLimit(d int) int {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	rl := bev.rateLimitLocked()
	if rl == nil || rl.cfg == nil {
		return math.MaxInt
	}
	rl.bucket.refill(rl.cfg, rl.cfg.tickAt(rateNow(bev.base)))
	return clampInt(rl.bucket.tokens[d])
}

// DecrementReadLimit takes n bytes out of the BufferEvent's own read
// bucket, or adds them when n is negative (bufferevent_decrement_read_limit),
// without touching a group's. If the bucket goes empty reading is held
// until a refill; if it goes above zero reading resumes at once. Without
// a limit set it returns ErrNoRateLimit (libevent asserts). Safe from any
// goroutine.
func (bev *BufferEvent) DecrementReadLimit(n int) error { return bev.decrementLimit(dirRead, n) }

// DecrementWriteLimit is DecrementReadLimit for writing
// (bufferevent_decrement_write_limit). Safe from any goroutine.
func (bev *BufferEvent) DecrementWriteLimit(n int) error { return bev.decrementLimit(dirWrite, n) }

func (bev *BufferEvent) decrementLimit(d, n int) error {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.life == lsFreed {
		return ErrFreed
	}
	rl := bev.rateLimitLocked()
	if rl == nil || rl.cfg == nil {
		return ErrNoRateLimit
	}
	rl.bucket.refill(rl.cfg, rl.cfg.tickAt(rateNow(bev.base)))
	rl.bucket.take(d, int64(n))
	bev.settleOwnLocked(rl, false)
	return nil
}

// MaxToRead returns the most the next read from the socket may take under
// the rate limits and SetMaxSingleRead (bufferevent_get_max_to_read): 0
// while a limit has nothing left, math.MaxInt when nothing caps it. Safe
// from any goroutine.
func (bev *BufferEvent) MaxToRead() int { return bev.maxTo(dirRead) }

// MaxToWrite is MaxToRead for writing (bufferevent_get_max_to_write). Safe
// from any goroutine.
func (bev *BufferEvent) MaxToWrite() int { return bev.maxTo(dirWrite) }

func (bev *BufferEvent) maxTo(d int) int {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	single := bev.maxReadLocked()
	if d == dirWrite {
		single = bev.maxWriteLocked()
	}
	allow := int64(math.MaxInt64)
	if rl := bev.rateLimitLocked(); rl != nil {
		allow, _ = bev.rateAllowLocked(rl, d)
	}
	if single > 0 {
		allow = min(allow, int64(single))
	}
	return clampInt(max(allow, 0))
}

// rateCapLocked is how much the next read (dirRead) or write may move:
// limit (0: no cap) capped by the rate limits, as bufferevent_get_read_max_
// caps max_single_read. ok is false when a limit has nothing left; the
// direction is then held until a refill.
func (bev *BufferEvent) rateCapLocked(d int, limit int) (n int, ok bool) {
	rl := bev.rateLimitLocked()
	if rl == nil {
		return limit, true
	}
	allow, kind := bev.rateAllowLocked(rl, d)
	if allow <= 0 {
		bev.holdLocked(rl, kind, d)
		return 0, false
	}
	if limit == 0 || allow < int64(limit) {
		limit = int(min(allow, math.MaxInt))
	}
	return limit, true
}

// rateAllowLocked is what the rate limits let direction d move now, after
// refilling the own bucket for the ticks passed; math.MaxInt64 when no
// limit applies. When it is not positive, kind is the limit that has
// nothing left.
func (bev *BufferEvent) rateAllowLocked(rl *rateLimit, d int) (allow int64, kind uint8) {
	allow = math.MaxInt64
	if rl.cfg != nil {
		rl.bucket.refill(rl.cfg, rl.cfg.tickAt(rateNow(bev.base)))
		if allow = rl.bucket.tokens[d]; allow <= 0 {
			return allow, heldOwn
		}
	}
	if g := rl.group; g != nil {
		share := g.share(d)
		if share <= 0 {
			return 0, heldGroup
		}
		allow = min(allow, share)
	}
	return allow, 0
}

// rateSpentLocked takes the n bytes direction d just moved out of the
// buckets (bufferevent_decrement_read_buckets_ and _write_buckets_),
// holding the direction back if that empties one.
func (bev *BufferEvent) rateSpentLocked(d int, n int) {
	rl := bev.rateLimitLocked()
	if rl == nil || n <= 0 {
		return
	}
	if rl.cfg != nil {
		rl.bucket.take(d, int64(n))
		bev.settleOwnLocked(rl, true)
	}
	if g := rl.group; g != nil && g.spend(d, int64(n)) {
		bev.holdLocked(rl, heldGroup, d)
	}
}

// settleOwnLocked holds each direction whose own bucket is empty and
// releases the others; the refill timer stays pending exactly while one
// is held. onLoop says the caller runs on the loop's goroutine.
func (bev *BufferEvent) settleOwnLocked(rl *rateLimit, onLoop bool) {
	for d := range rl.bucket.tokens {
		if rl.bucket.tokens[d] <= 0 {
			bev.holdLocked(rl, heldOwn, d)
		} else {
			bev.releaseLocked(rl, heldOwn, d, onLoop)
		}
	}
	if rl.held&(heldOwn<<dirRead|heldOwn<<dirWrite) == 0 {
		bev.disarmLocked(rl)
	}
}

// disarmLocked removes the refill timer.
func (bev *BufferEvent) disarmLocked(rl *rateLimit) {
	if rl.armed {
		rl.armed = false
		rl.refill.Del()
	}
}

// holdLocked makes the limit kind (heldOwn or heldGroup) hold direction d
// back (bufferevent_suspend_read_ and _write_): its event leaves the loop.
// An own hold arms the refill timer.
func (bev *BufferEvent) holdLocked(rl *rateLimit, kind uint8, d int) {
	rl.held |= kind << d
	if d == dirRead {
		bev.stopReadingLocked()
	} else if bev.life != lsConnecting {
		bev.stopWritingLocked()
	}
	if kind == heldOwn && !rl.armed {
		rl.armed = true
		rl.refill.Add(rl.cfg.tick) // refused only by a closed base, which runs nothing more
	}
}

// releaseLocked lifts kind's hold on direction d; once nothing holds it,
// reading resumes, or writing if something waits to be written
// (bufferevent_unsuspend_read_ and _write_). Starting to read looks at
// Input, which belongs to the loop's goroutine: a caller elsewhere
// (onLoop false) hands the start to the loop, where it runs before the
// loop next waits.
func (bev *BufferEvent) releaseLocked(rl *rateLimit, kind uint8, d int, onLoop bool) {
	if rl.held&(kind<<d) == 0 {
		return
	}
	rl.held &^= kind << d
	if rl.held&heldDir(d) != 0 {
		return
	}
	if onLoop {
		bev.restartLocked(d)
		return
	}
	if rl.restart == 0 {
		if rl.restartFn == nil {
			rl.restartFn = bev.runRestart
		}
		if bev.base.Submit(rl.restartFn) != nil {
			return // a closed base runs nothing more
		}
	}
	rl.restart |= 1 << d
}

// runRestart runs on the loop's goroutine the starts releaseLocked handed
// to it, for the directions still not held.
func (bev *BufferEvent) runRestart() {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	rl := bev.rateLimitLocked()
	dirs := rl.restart
	rl.restart = 0
	for d := range 2 {
		if dirs&(1<<d) != 0 && rl.held&heldDir(d) == 0 && bev.life != lsFreed {
			bev.restartLocked(d)
		}
	}
}

// restartLocked starts direction d again after a rate limit held it:
// reading, or writing if something waits to be written. A refusal of the
// loop to watch the descriptor is reported as Reading|Error or
// Writing|Error, after the caller's transition.
func (bev *BufferEvent) restartLocked(d int) {
	dir, err := event.Read, error(nil)
	switch {
	case d == dirRead:
		err = bev.startReadingLocked()
	case bev.writeWaitingLocked():
		// The write event fires at once on a socket with room, and
		// writes as after EAGAIN.
		dir, err = event.Write, bev.startWritingLocked()
	}
	if err != nil {
		bev.deferLocked(calls{what: bev.armFailedLocked(dir, err)})
	}
}

// writeWaitingLocked reports whether something waits to go to the socket:
// Output, or the end of the sending side, with writing enabled, or a TLS
// BufferEvent's ciphertext.
func (bev *BufferEvent) writeWaitingLocked() bool {
	if !bev.hasIO() {
		return false
	}
	if t := bev.tlsConn(); t != nil && t.pendingOut() > 0 {
		return true
	}
	return bev.enabled&event.Write != 0 && (bev.out().Len() > 0 || bev.work&bsCloseWrite != 0)
}

// onRefill handles the own refill timer (bev_refill_callback_): the
// bucket gets the ticks passed, and each direction it can serve again
// resumes; one still empty arms the timer for another tick.
func (bev *BufferEvent) onRefill(int, event.Flag) {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	rl := bev.rateLimitLocked()
	if bev.life == lsFreed || rl == nil || rl.cfg == nil {
		return
	}
	rl.armed = false
	rl.bucket.refill(rl.cfg, rl.cfg.tickAt(rateNow(bev.base)))
	bev.settleOwnLocked(rl, true)
}

// freeRateLimitLocked is Free's part: the refill timer goes, and the
// BufferEvent leaves its group. Free has already stopped its I/O.
func (bev *BufferEvent) freeRateLimitLocked() {
	rl := bev.rateLimitLocked()
	if rl == nil {
		return
	}
	rl.armed = false
	rl.refill.Free()
	if rl.group != nil {
		bev.leaveGroupLocked(rl)
	}
}
