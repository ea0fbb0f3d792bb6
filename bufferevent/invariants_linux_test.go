package bufferevent

import (
	"testing"

	"github.com/levent-go/levent/event"
)

// checkInvariants checks, on the loop's goroutine between operations, what
// the lifecycle and the pending-work bits promise (see lifecycle and the
// bs* constants), reporting each broken one with what was found.
func checkInvariants(t testing.TB, b *event.Base, bev *BufferEvent) {
	t.Helper()
	var problems []string
	onLoop(t, b, func() {
		bev.mu.Lock()
		defer bev.mu.Unlock()
		problems = bev.brokenInvariantsLocked()
	})
	for _, p := range problems {
		t.Errorf("invariant broken: %s", p)
	}
}

func (bev *BufferEvent) brokenInvariantsLocked() []string {
	var bad []string
	check := func(ok bool, what string) {
		if !ok {
			bad = append(bad, what+" (life "+lifeName[bev.life]+", work "+workNames(bev.work)+")")
		}
	}
	switch bev.life {
	case lsIdle, lsFreed:
		check(bev.fd == -1, "no descriptor in idle and freed")
	case lsOpen, lsConnecting:
		check(bev.fd >= 0, "a descriptor in open and connecting")
	case lsHandshaking:
		check(bev.fd >= 0 || bev.filterLocked() != nil, "a descriptor in handshaking, unless a TLS filter")
	}
	w := bev.work
	rp, _ := bev.rev.Pending(event.Read)
	check((w&bsReading != 0) == (rp != 0), "bsReading ⇔ rev pending")
	wp := event.Flag(0)
	if bev.wev != nil {
		wp, _ = bev.wev.Pending(event.Write)
	}
	check((w&bsWriting != 0) == (wp != 0), "bsWriting ⇔ wev pending")
	check(w&bsSending == 0 || w&bsWriting != 0 && bev.sendingModeLocked(), "bsSending ⇒ bsWriting, wev has Send")
	check(!bev.out().pinned() || w&bsSending != 0, "Output pinned ⇒ bsSending")
	check(w&bsParked == 0 || w&(bsWriting|bsReading|bsSending) == bsWriting|bsReading && bev.sendingModeLocked(),
		"bsParked ⇒ bsWriting, bsReading, wev has Send, !bsSending")
	if bev.wev != nil {
		check(bev.out().pinned() == (bev.wev.sendHeld > 0) || bev.life == lsFreed, "Output pinned ⇔ sendHeld > 0")
		check(0 <= bev.wev.sendHeld && int(bev.wev.sendHeld) <= bev.out().n && bev.wev.sendGone >= 0,
			"the send's bytes still in Output are held: 0 <= sendHeld <= n, sendGone >= 0")
	}
	check(w&bsSuspended == 0 || w&bsReading == 0, "bsSuspended ⇒ !bsReading")
	check(w&bsTrimArmed == 0 || w&bsReading != 0, "bsTrimArmed ⇒ bsReading")
	check(w&bsRefused == 0 || bev.life == lsConnecting, "bsRefused ⇒ connecting")
	check(w&bsInCallback == 0, "bsInCallback only while the read callback runs")
	check(w&(bsFlushQueued|bsDeferQueued|bsCheckQueued) == 0 || w&bsQueued != 0, "a kind due ⇒ runQueued submitted")
	check(w&bsCheckQueued == 0 || bev.life != lsFreed, "no recheck after Free")
	check(w&(bsPendRead|bsPendWrite) == 0 || w&bsDeferQueued != 0, "a callback due ⇒ runDeferred due")
	check(bev.pendWhat == 0 || w&bsDeferQueued != 0, "pendWhat ⇒ runDeferred due")
	check(bev.life != lsFreed || bev.readcb == nil && bev.writecb == nil && bev.eventcb == nil, "no callbacks after Free")
	if rl := bev.rateLimitLocked(); rl != nil {
		own := rl.held & (heldOwn<<dirRead | heldOwn<<dirWrite)
		check(!bev.rateHeldLocked(dirRead) || w&bsReading == 0, "rate limit holds reading ⇒ !bsReading")
		check(!bev.rateHeldLocked(dirWrite) || w&bsWriting == 0 || bev.life == lsConnecting,
			"rate limit holds writing ⇒ !bsWriting, unless connecting")
		check(rl.cfg != nil || own == 0, "no own limit ⇒ no own hold")
		check(rl.armed == (own != 0) || bev.life == lsFreed, "refill armed ⇔ an own hold")
		tp, _ := rl.refill.Pending(event.Timeout)
		check((tp != 0) == rl.armed, "refill pending ⇔ armed")
		check(rl.group != nil || rl.held&(heldGroup<<dirRead|heldGroup<<dirWrite) == 0, "no group ⇒ no group hold")
		for d := range rl.bucket.tokens {
			check(rl.cfg == nil || rl.bucket.tokens[d] > 0 || rl.held&(heldOwn<<d) != 0 || bev.life == lsFreed,
				"own bucket empty ⇒ own hold")
		}
	}
	return bad
}

var lifeName = [...]string{lsIdle: "idle", lsOpen: "open", lsResolving: "resolving", lsConnecting: "connecting", lsFreed: "freed", lsHandshaking: "handshaking"}

func workNames(w uint16) string {
	return names(int(w), []string{"Reading", "Writing", "Suspended", "TrimArmed", "InCallback", "Refused",
		"FlushQueued", "DeferQueued", "Queued", "DeferFirst", "PendRead", "PendWrite", "CloseWrite", "CheckQueued", "Sending", "Parked"})
}
