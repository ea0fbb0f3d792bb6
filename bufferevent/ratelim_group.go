package bufferevent

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/levent-go/levent/event"
)

// defaultMinShare is a new group's minimum share, libevent's.
const defaultMinShare = 64

// RateLimitGroup is a rate limit that the BufferEvents in it share
// (struct bufferevent_rate_limit_group): together they read and write at
// most its config's rate. Each member may move at most its share of the
// group's bucket at a time: what the bucket holds divided by the number of
// members, but no less than the minimum share (SetMinShare). When the
// bucket is empty every member is held; each tick refills it, on a
// periodic timer of the group's base, and once it holds the minimum
// share again the members resume, in an order that starts at a random
// member, as libevent's does, so that no member is always first to take
// the new tokens.
//
// A member stops at the first read or write it tries after the bucket
// ran out, with nothing moved, rather than all of them at once the moment
// it runs out: that is how a libevent member that the group could not
// lock stops, and here it is how every member but the one that emptied
// the bucket stops, so that no lock of one BufferEvent is ever taken
// while holding another's.
//
// Members may be on other bases than the group's. Every method is safe
// from any goroutine. The group's timer keeps its base's loop from
// finding nothing pending: Free the group when done.
type RateLimitGroup struct {
	base   *event.Base
	refill *event.Event // periodic, every tick

	mu         sync.Mutex // guards what follows; taken after a member's bev.mu, never before
	cfg        *TokenBucketConfig
	bucket     tokenBucket
	suspended  [2]bool // the bucket ran out: members are held until it holds minShare
	minShare   int64   // the share in effect: configured, at most the rates, at least 1
	setShare   int     // the share SetMinShare asked for
	members    []*rateLimit
	totals     [2]uint64
	freed      bool
	resumeMu   sync.Mutex   // serializes resumeMembers, which takes members' locks; taken before any other
	resumeList []*rateLimit // resumeMembers' copy of members, kept for its storage
}

// NewRateLimitGroup returns a group limited to cfg, whose refill timer
// runs on b (bufferevent_rate_limit_group_new). Its bucket starts with one
// tick's worth; the minimum share is 64 bytes. Safe from any goroutine.
func NewRateLimitGroup(b *event.Base, cfg *TokenBucketConfig) (*RateLimitGroup, error) {
	if b == nil {
		return nil, event.ErrNilBase
	}
	if cfg == nil {
		return nil, fmt.Errorf("%w: nil config", ErrRateLimit)
	}
	g := &RateLimitGroup{base: b, cfg: cfg}
	g.bucket.init(cfg, rateNow(b))
	g.setMinShareLocked(defaultMinShare)
	ev, err := event.New(b, -1, event.Persist, g.onRefill)
	if err != nil {
		return nil, err
	}
	if err := ev.Add(cfg.tick); err != nil {
		ev.Free()
		return nil, err
	}
	g.refill = ev
	return g, nil
}

// SetConfig replaces the group's limit (bufferevent_rate_limit_group_set_cfg).
// The bucket keeps what it holds, clipped to the new bursts; the minimum
// share is applied again within the new rates; a new tick length takes
// effect from now. Safe from any goroutine.
func (g *RateLimitGroup) SetConfig(cfg *TokenBucketConfig) error {
	if cfg == nil {
		return fmt.Errorf("%w: nil config", ErrRateLimit)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.freed {
		return ErrGroupFreed
	}
	old := g.cfg
	g.cfg = cfg
	g.bucket.reconfigure(old, cfg, rateNow(g.base))
	g.setMinShareLocked(g.setShare)
	if old.tick != cfg.tick {
		return g.refill.Add(cfg.tick)
	}
	return nil
}

// Config returns the group's limit. Safe from any goroutine.
func (g *RateLimitGroup) Config() *TokenBucketConfig {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cfg
}

// SetMinShare sets the least a member may move at a time, however many
// members share the bucket (bufferevent_rate_limit_group_set_min_share):
// a group too tight to give every member a useful amount per tick then
// lets some of them move that much, which costs fewer tiny packets, and
// the members take turns. It is kept within the config's rates (so that
// at least one member moves each tick) and is at least 1; 0 lets shares
// be as small as a byte. The default is 64. Safe from any goroutine.
func (g *RateLimitGroup) SetMinShare(n int) error {
	if n < 0 {
		return fmt.Errorf("%w: minimum share %d", ErrRateLimit, n)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.freed {
		return ErrGroupFreed
	}
	g.setMinShareLocked(n)
	return nil
}

func (g *RateLimitGroup) setMinShareLocked(n int) {
	g.setShare = n
	g.minShare = max(1, min(int64(n), g.cfg.rate[dirRead], g.cfg.rate[dirWrite]))
}

// MinShare returns the minimum share in effect: the one SetMinShare set,
// within the config's rates. Safe from any goroutine.
func (g *RateLimitGroup) MinShare() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return int(g.minShare)
}

// GetReadLimit returns how many bytes the group's read bucket holds
// (bufferevent_rate_limit_group_get_read_limit); below zero when its
// members read more than it held. Safe from any goroutine.
func (g *RateLimitGroup) GetReadLimit() int { return g.getLimit(dirRead) }

// GetWriteLimit is GetReadLimit for writing
// (bufferevent_rate_limit_group_get_write_limit). Safe from any goroutine.
func (g *RateLimitGroup) GetWriteLimit() int { return g.getLimit(dirWrite) }

func (g *RateLimitGroup) getLimit(d int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return clampInt(g.bucket.tokens[d])
}

// DecrementRead takes n bytes out of the group's read bucket, or adds
// them when n is negative (bufferevent_rate_limit_group_decrement_read).
// If the bucket goes empty the members are held; if it goes from empty to
// above zero they resume. Safe from any goroutine.
func (g *RateLimitGroup) DecrementRead(n int) error { return g.decrement(dirRead, n) }

// DecrementWrite is DecrementRead for writing
// (bufferevent_rate_limit_group_decrement_write). Safe from any goroutine.
func (g *RateLimitGroup) DecrementWrite(n int) error { return g.decrement(dirWrite, n) }

func (g *RateLimitGroup) decrement(d, n int) error {
	g.mu.Lock()
	if g.freed {
		g.mu.Unlock()
		return ErrGroupFreed
	}
	old := g.bucket.tokens[d]
	g.bucket.take(d, int64(n))
	resume := false
	switch now := g.bucket.tokens[d]; {
	case old > 0 && now <= 0:
		g.suspended[d] = true
	case old <= 0 && now > 0:
		g.suspended[d] = false
		resume = true
	}
	g.mu.Unlock()
	if resume {
		g.resumeMembers(false)
	}
	return nil
}

// TotalRead returns the bytes the group's members have read since the
// group was made or ResetTotals (bufferevent_rate_limit_group_get_totals).
// Safe from any goroutine.
func (g *RateLimitGroup) TotalRead() uint64 { return g.total(dirRead) }

// TotalWritten is TotalRead for the bytes written. Safe from any goroutine.
func (g *RateLimitGroup) TotalWritten() uint64 { return g.total(dirWrite) }

func (g *RateLimitGroup) total(d int) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.totals[d]
}

// ResetTotals sets TotalRead and TotalWritten back to zero
// (bufferevent_rate_limit_group_reset_totals). Safe from any goroutine.
func (g *RateLimitGroup) ResetTotals() {
	g.mu.Lock()
	g.totals = [2]uint64{}
	g.mu.Unlock()
}

// Members returns how many BufferEvents are in the group. Safe from any
// goroutine.
func (g *RateLimitGroup) Members() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.members)
}

// Free releases the group (bufferevent_rate_limit_group_free): its timer
// leaves the loop, and BufferEvents still in it leave it and go on
// without its limit (libevent requires the group to be empty). Later
// methods return ErrGroupFreed. Safe from any goroutine, and inside
// callbacks.
func (g *RateLimitGroup) Free() {
	g.mu.Lock()
	if g.freed {
		g.mu.Unlock()
		return
	}
	g.freed = true
	members := g.members
	g.members = nil
	g.mu.Unlock()
	g.refill.Free()
	for _, rl := range members {
		bev := rl.bev
		bev.mu.Lock()
		if rl.group == g {
			bev.leaveGroupLocked(rl)
		}
		bev.mu.Unlock()
	}
}

// share is what one member may move in direction d now: the bucket
// divided among the members, at least the minimum share; 0 while the
// group is suspended. A freed group limits nothing.
func (g *RateLimitGroup) share(d int) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.freed:
		return math.MaxInt64
	case g.suspended[d]: // ⇐ the bucket is empty
		return 0
	}
	return max(g.bucket.tokens[d]/int64(len(g.members)), g.minShare)
}

// spend takes the n bytes a member moved in direction d out of the bucket
// and reports whether the group is now suspended in that direction.
func (g *RateLimitGroup) spend(d int, n int64) (suspended bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.freed {
		return false
	}
	g.bucket.take(d, n)
	g.totals[d] += uint64(n)
	if g.bucket.tokens[d] <= 0 {
		g.suspended[d] = true
	}
	return g.suspended[d]
}

// onRefill handles the group's timer (bev_group_refill_callback_): the
// bucket gets the ticks passed, and a suspended direction resumes once
// the bucket holds the minimum share.
func (g *RateLimitGroup) onRefill(int, event.Flag) {
	g.mu.Lock()
	if g.freed {
		g.mu.Unlock()
		return
	}
	g.bucket.refill(g.cfg, g.cfg.tickAt(rateNow(g.base)))
	resume := false
	for d := range g.suspended {
		if g.suspended[d] && g.bucket.tokens[d] >= g.minShare {
			g.suspended[d] = false
			resume = true
		}
	}
	g.mu.Unlock()
	if resume {
		g.resumeMembers(true)
	}
}

// resumeMembers releases the group's holds on its members for each
// direction no longer suspended, starting at a random member and going
// round (libevent's FOREACH_RANDOM_ORDER): a resumed member's event
// rejoins the loop in this order, which is the order the members are
// served in when all of them are ready.
//
// Members' locks come before the group's, so the members are copied
// under the group's lock and released after it; each one checks again,
// under its own lock and then the group's, that the group is still
// not suspended. onLoop says the caller runs on the loop of the group's
// base: members on that base then resume at once.
func (g *RateLimitGroup) resumeMembers(onLoop bool) {
	g.resumeMu.Lock()
	defer g.resumeMu.Unlock()
	g.mu.Lock()
	list := g.resumeList[:0]
	if n := len(g.members); n > 0 {
		start := rand.IntN(n)
		list = append(list, g.members[start:]...)
		list = append(list, g.members[:start]...)
	}
	g.mu.Unlock()
	for i, rl := range list {
		bev := rl.bev
		bev.mu.Lock()
		if rl.group == g && bev.life != lsFreed {
			bev.releaseGroupLocked(rl, onLoop && bev.base == g.base)
		}
		bev.mu.Unlock()
		list[i] = nil // no member kept alive by the copy
	}
	g.resumeList = list[:0]
}

// releaseGroupLocked releases the group's hold on each direction the
// group no longer suspends.
func (bev *BufferEvent) releaseGroupLocked(rl *rateLimit, onLoop bool) {
	g := rl.group
	g.mu.Lock()
	suspended := g.suspended
	g.mu.Unlock()
	for d := range suspended {
		if !suspended[d] {
			bev.releaseLocked(rl, heldGroup, d, onLoop)
		}
	}
}

// AddToRateLimitGroup makes the BufferEvent a member of g
// (bufferevent_add_to_rate_limit_group), leaving the group it was in, if
// any; nil leaves it. Its own limit, if any, applies as well. If g is
// suspended, the BufferEvent is held at once. ErrNotSocket for an
// in-memory pair end or a filter. Safe from any goroutine.
func (bev *BufferEvent) AddToRateLimitGroup(g *RateLimitGroup) error {
	if g == nil {
		return bev.RemoveFromRateLimitGroup()
	}
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.life == lsFreed {
		return ErrFreed
	}
	if bev.fdlessLocked() {
		return ErrNotSocket
	}
	rl, err := bev.ensureRateLimitLocked()
	if err != nil {
		return err
	}
	if rl.group == g {
		return nil
	}
	if rl.group != nil {
		bev.leaveGroupLocked(rl)
	}
	g.mu.Lock()
	if g.freed {
		g.mu.Unlock()
		return ErrGroupFreed
	}
	rl.group, rl.idx = g, len(g.members)
	g.members = append(g.members, rl)
	suspended := g.suspended
	g.mu.Unlock()
	for d := range suspended {
		if suspended[d] {
			bev.holdLocked(rl, heldGroup, d)
		}
	}
	return nil
}

// RemoveFromRateLimitGroup takes the BufferEvent out of its group, if it
// is in one (bufferevent_remove_from_rate_limit_group); what the group
// held resumes at once. Safe from any goroutine.
func (bev *BufferEvent) RemoveFromRateLimitGroup() error {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.life == lsFreed {
		return ErrFreed
	}
	if rl := bev.rateLimitLocked(); rl != nil && rl.group != nil {
		bev.leaveGroupLocked(rl)
	}
	return nil
}

// RateLimitGroup returns the group the BufferEvent is in, nil for none.
// Safe from any goroutine.
func (bev *BufferEvent) RateLimitGroup() *RateLimitGroup {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if rl := bev.rateLimitLocked(); rl != nil {
		return rl.group
	}
	return nil
}

// leaveGroupLocked takes the BufferEvent out of its group, and releases
// what the group held.
func (bev *BufferEvent) leaveGroupLocked(rl *rateLimit) {
	g := rl.group
	g.mu.Lock()
	if !g.freed { // Free took the whole list
		last := len(g.members) - 1
		moved := g.members[last]
		g.members[rl.idx], moved.idx = moved, rl.idx
		g.members[last] = nil
		g.members = g.members[:last]
	}
	g.mu.Unlock()
	rl.group = nil
	bev.releaseLocked(rl, heldGroup, dirRead, false)
	bev.releaseLocked(rl, heldGroup, dirWrite, false)
}
