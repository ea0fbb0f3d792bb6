package poller

import "testing"

// Level-triggered readiness is reported on every Wait until it is consumed.
func TestLevelTriggeredRepeatsUntilRead(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		a, b := socketpair(t)
		update(t, p, a, 1, 0, In)
		write(t, b, "x")
		waitFor(t, p, a)
		for i := 0; i < 3; i++ {
			if _, ok := poll0(t, p)[int32(a)]; !ok {
				t.Fatalf("unread data, Wait %d: fd %d not reported, want ReadyIn again", i+2, a)
			}
		}
	})
}

// Edge-triggered readiness is reported once per edge: once after a write,
// not again while the data sits unread, and once more after a new write.
func TestEdgeTriggeredReportsOncePerEdge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		if p.Features()&FeatureET == 0 {
			t.Skipf("%s has no FeatureET", p.Name())
		}
		a, b := socketpair(t)
		update(t, p, a, 4, 0, In|ET)
		mustNotReport(t, p, a, "nothing written yet")
		for edge := 1; edge <= 3; edge++ {
			write(t, b, "x")
			got := waitFor(t, p, a)
			want := Event{Fd: int32(a), Gen: 4, Ready: ReadyIn}
			if got != want {
				t.Errorf("edge %d: report = %+v, want %+v", edge, got, want)
			}
			mustNotReport(t, p, a, "same edge, data still unread")
		}
	})
}

// A backend without FeatureET must not lose readiness when asked for ET: it
// either refuses the registration or keeps reporting the level.
func TestEdgeTriggeredWithoutFeatureNeverLosesReadiness(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		if p.Features()&FeatureET != 0 {
			t.Skipf("%s has FeatureET", p.Name())
		}
		a, b := socketpair(t)
		if err := p.Update(a, 4, 0, In|ET); err != nil {
			return // refused: fine
		}
		defer update(t, p, a, 4, In|ET, 0)
		write(t, b, "x")
		waitFor(t, p, a)
		if _, ok := poll0(t, p)[int32(a)]; !ok {
			t.Errorf("%s accepted ET without FeatureET, then reported the unread data only once", p.Name())
		}
	})
}
