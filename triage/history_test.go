package triage_test

import (
	"testing"
	"time"

	"github.com/opsbot/opsbot/triage"
)

// A fingerprint decided before: the new anomaly's root message shows that
// decision when posted and when updated (never the anomaly's own), and
// History says it for the fingerprints asked, their sightings counted
// over the last 30 days.
func TestHistoryLastTime(t *testing.T) {
	r := newRig(t)
	first := r.open(t, "checkout is slow", "k1").Anomaly
	if c := r.threads.callsOf("PostRoot"); len(c) != 1 || c[0].Last != 0 {
		t.Fatalf("first root: %+v; want no last time", c)
	}
	r.decide(t, first.ID, triage.Serious, "d1")
	if c := r.threads.callsOf("UpdateRoot"); c[len(c)-1].Last != 0 {
		t.Errorf("the first anomaly's root shows its own decision as last time: %+v", c)
	}

	r.clock.Advance(7 * 24 * time.Hour)
	second := r.open(t, "Checkout  is slow", "k2").Anomaly
	if second.ID == first.ID {
		t.Fatal("a second anomaly was not opened")
	}
	if c := r.threads.callsOf("PostRoot"); len(c) != 2 || c[1].Last != first.ID {
		t.Fatalf("second root: %+v; want the first anomaly's decision as last time", c)
	}
	r.decide(t, second.ID, triage.Noise, "d2")
	if c := r.threads.callsOf("UpdateRoot"); c[len(c)-1].Anomaly != second.ID || c[len(c)-1].Last != first.ID {
		t.Errorf("second root updated: %+v; want the first anomaly's decision still", c[len(c)-1])
	}

	hs, err := r.svc.History(r.ctx, "prod", []string{second.Fingerprint, second.Fingerprint, "manual/unknown"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, ok := hs[second.Fingerprint]
	if len(hs) != 1 || !ok || h.AnomalyID != second.ID || h.Decision.Decision != triage.Noise || h.Seen != 2 {
		t.Errorf("History = %+v; want the second anomaly's Noise, seen twice", hs)
	}
	// 31 days later, the sightings are out of the window; the decision is not.
	r.clock.Advance(31 * 24 * time.Hour)
	if hs, err = r.svc.History(r.ctx, "prod", []string{second.Fingerprint}, 0); err != nil || hs[second.Fingerprint].Seen != 0 ||
		hs[second.Fingerprint].AnomalyID != second.ID {
		t.Errorf("History a month later = %+v, %v; want the decision, seen 0 times", hs, err)
	}
	if hs, err = r.svc.History(r.ctx, "prod", nil, 0); err != nil || len(hs) != 0 {
		t.Errorf("History of nothing = %v, %v", hs, err)
	}
}
