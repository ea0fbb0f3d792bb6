package bufferevent

import (
	"errors"
	"testing"

	"github.com/levent-go/levent/event"
)

// TestGetWatermark ports regress_bufferevent.c test_bufferevent_watermarks'
// bufferevent_getwatermark checks.
func TestGetWatermark(t *testing.T) {
	checkLeaks(t)
	b := startLoop(t)
	bev, _ := pair(t, b, 0)
	if err := bev.SetWatermark(event.Read, 10, 20); err != nil {
		t.Fatal(err)
	}
	if err := bev.SetWatermark(event.Write, 5, 0); err != nil {
		t.Fatal(err)
	}
	if low, high, err := bev.GetWatermark(event.Read); err != nil || low != 10 || high != 20 {
		t.Fatalf("read %d %d %v", low, high, err)
	}
	if low, high, err := bev.GetWatermark(event.Write); err != nil || low != 5 || high != 0 {
		t.Fatalf("write %d %d %v", low, high, err)
	}
	if _, _, err := bev.GetWatermark(event.Read | event.Write); !errors.Is(err, ErrWatermark) {
		t.Fatalf("Read|Write: %v", err)
	}
}
