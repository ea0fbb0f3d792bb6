package bufferevent

import (
	"testing"

	"github.com/levent-go/levent/event"
)

// A filter freed without CloseOnFree gives its underlying back reading,
// even when a Disable of the filter that began before the Free reaches the
// underlying after it: Free comes in, through a test hook, between the
// Disable and the underlying's lock. Plain and TLS filters alike.
func TestFilterGivesUnderlyingBackReadingDespiteARacingDisable(t *testing.T) {
	kinds := []struct {
		name string
		make func(t *testing.T, b *event.Base, under *BufferEvent) *BufferEvent
	}{
		{"NewFilter", func(t *testing.T, b *event.Base, under *BufferEvent) *BufferEvent {
			return newFilter(t, under, nil, nil, 0, nil)
		}},
		{"NewTLSFilter", func(t *testing.T, b *event.Base, under *BufferEvent) *BufferEvent {
			scfg, ccfg := tlsConfigs(t)
			peer := under.Partner()
			server := newTLSFilter(t, peer, scfg, TLSAccepting, CloseOnFree)
			server.SetCallbacks(echoRead, nil, nil)
			server.Enable(event.Read)
			client := newTLSFilter(t, under, ccfg, TLSConnecting, 0)
			e := newEchoCheck(t, b, client)
			e.ev.expect(t, Connected)
			e.send([]byte("before the race"))
			return client
		}},
	}
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			checkLeaks(t)
			b := startLoop(t)
			under, peer, err := NewPair(b, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer under.Free()
			defer peer.Free()
			fl := kind.make(t, b, under)
			fl.Enable(event.Read)
			settle(t, b)
			if under.Enabled()&event.Read == 0 {
				t.Fatal("the filter reads but its underlying does not")
			}
			defer onLoop(t, b, func() { underReadingHook = nil })
			onLoop(t, b, func() { // the loop's goroutine reads the hook
				underReadingHook = func() {
					underReadingHook = nil
					fl.Free()
				}
				if err := fl.Disable(event.Read); err != nil {
					t.Errorf("Disable: %v", err)
				}
			})
			if under.Enabled()&event.Read == 0 {
				t.Error("the underlying was given back with reading disabled")
			}
			onLoop(t, b, func() {
				if underReadingHook != nil {
					t.Error("the hook never ran: the Disable did not reach the underlying")
				}
			})
		})
	}
}
