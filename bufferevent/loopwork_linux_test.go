package bufferevent

import (
	"testing"

	"golang.org/x/sys/unix"
)

// A flush and deferred callbacks share one submitted function; when both
// are due it still runs them in the order they were asked for. The
// deferred read callback tells which ran first by looking whether the
// flushed byte has reached the peer, or, where the base sends in the
// kernel, whether a send of it is queued.
func TestFlushAndDeferredCallbacksRunInTheOrderAsked(t *testing.T) {
	for _, tc := range []struct {
		name       string
		flushFirst bool
	}{
		{"flush then callback", true},
		{"callback then flush", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			bev, peer := pair(t, b, DeferCallbacks)
			defer onLoop(t, b, bev.Free)
			sawData := make(chan bool, 1)
			bev.SetCallbacks(func(*BufferEvent) {
				var buf [1]byte
				n, _, err := unix.Recvfrom(peer, buf[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
				bev.mu.Lock()
				queued := bev.work&bsSending != 0
				bev.mu.Unlock()
				sawData <- err == nil && n == 1 || queued
			}, nil, nil)
			deferRead := func() {
				bev.mu.Lock()
				bev.work |= bsPendRead
				bev.queueLocked(bsDeferQueued)
				bev.mu.Unlock()
			}
			onLoop(t, b, func() {
				if !tc.flushFirst {
					deferRead()
				}
				if _, err := bev.WriteString("x"); err != nil {
					t.Errorf("Write: %v", err)
				}
				if tc.flushFirst {
					deferRead()
				}
			})
			if got := wait(t, sawData, "the deferred read callback"); got != tc.flushFirst {
				t.Errorf("the callback saw the flushed byte: %v, want %v", got, tc.flushFirst)
			}
		})
	}
}

// Work asked for while the submitted function runs, after it started, is
// not lost: a deferred callback asked for from the last deferred callback
// of a run runs too, and so does a flush asked for from there.
func TestWorkAskedFromADeferredCallbackIsNotLost(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, peer := pair(t, b, DeferCallbacks)
	defer onLoop(t, b, bev.Free)
	ran := make(chan struct{})
	bev.SetCallbacks(func(bev *BufferEvent) {
		bev.mu.Lock()
		bev.pendWhat = Connected
		bev.queueLocked(bsDeferQueued)
		bev.mu.Unlock()
	}, nil, func(bev *BufferEvent, _ What) {
		bev.WriteString("late")
		close(ran)
	})
	onLoop(t, b, func() {
		bev.WriteString("x") // the flush runs first, then the read callback
		bev.mu.Lock()
		bev.work |= bsPendRead
		bev.queueLocked(bsDeferQueued)
		bev.mu.Unlock()
	})
	wait(t, ran, "the deferred event callback asked for by the read callback")
	settle(t, b)
	var buf [8]byte
	n, err := unix.Read(peer, buf[:])
	if err != nil || string(buf[:n]) != "xlate" {
		t.Errorf("peer read %q, %v; want \"xlate\"", buf[:max(n, 0)], err)
	}
}
