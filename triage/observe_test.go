package triage

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeStore implements the part of Store that Observe uses, in memory.
type fakeStore struct {
	Store // nil: other methods panic
	a     Anomaly
	tl    []TimelineEntry
	keys  map[string]bool
	// failEscalate makes the next Escalate fail.
	failEscalate bool
}

func (f *fakeStore) append(e TimelineEntry, key string) {
	f.a.Version++
	e.AnomalyID, e.Seq, e.IdempotencyKey = f.a.ID, f.a.Version, key
	f.tl = append(f.tl, e)
	if key != "" {
		f.keys[key] = true
	}
}

func (f *fakeStore) RecordSighting(_ context.Context, env, fp string, magnitude float64, at time.Time, key string) (Anomaly, bool, error) {
	if env != f.a.Environment || fp != f.a.Fingerprint {
		return Anomaly{}, false, nil
	}
	if f.keys[key] {
		return f.a, true, nil
	}
	f.a.SeenCount++
	f.a.LastSeenAt, f.a.Magnitude = at, magnitude
	f.append(TimelineEntry{At: at, Kind: KindSeenAgain, Actor: ActorChecklist, Data: TimelineData{Magnitude: magnitude}}, key)
	return f.a, true, nil
}

func (f *fakeStore) Timeline(_ context.Context, id int64) ([]TimelineEntry, error) {
	return append([]TimelineEntry(nil), f.tl...), nil
}

func (f *fakeStore) Escalate(_ context.Context, id int64, e Escalation, key string) (Anomaly, error) {
	if f.failEscalate {
		f.failEscalate = false
		return Anomaly{}, errors.New("connection reset")
	}
	if f.keys[key] {
		return f.a, nil
	}
	f.a.EscalatedAt, f.a.State = e.At, Open
	f.append(TimelineEntry{At: e.At, Kind: KindEscalated, Actor: e.Actor, Data: TimelineData{Reason: e.Reason}}, key)
	return f.a, nil
}

func TestObserve(t *testing.T) {
	ctx := context.Background()
	a, tl := history(decided(Intermittent, days(1)))
	a.Environment, a.Fingerprint = "prod", "pods/x"
	f := &fakeStore{a: a, tl: tl, keys: map[string]bool{}}
	var p RecurrencePolicy

	obs, err := Observe(ctx, f, p, "prod", "other", 0, days(2), "run1/other")
	if err != nil || obs.Found {
		t.Fatalf("unknown fingerprint: %+v, %v", obs, err)
	}
	for i, run := range []string{"run1", "run2"} {
		obs, err := Observe(ctx, f, p, "prod", "pods/x", 0, days(2+float64(i)), run+"/pods/x")
		if err != nil || !obs.Found || obs.Escalated || obs.Recurrence.SinceDecision != i+1 {
			t.Fatalf("%s: %+v, %v", run, obs, err)
		}
	}
	// The third sighting escalates, but the escalation write fails...
	f.failEscalate = true
	if _, err := Observe(ctx, f, p, "prod", "pods/x", 0, days(4), "run3/pods/x"); err == nil {
		t.Fatal("Observe did not report the failed escalation")
	}
	if f.a.State != Closed {
		t.Fatalf("state = %v after a failed escalation", f.a.State)
	}
	// ...so the retried run records no second sighting and escalates.
	obs, err = Observe(ctx, f, p, "prod", "pods/x", 0, days(4), "run3/pods/x")
	if err != nil || !obs.Escalated || obs.Anomaly.State != Open || f.a.SeenCount != 4 {
		t.Fatalf("retry: %+v, %v (seen %d)", obs, err, f.a.SeenCount)
	}
	last := f.tl[len(f.tl)-1]
	if last.Kind != KindEscalated || last.IdempotencyKey != "run3/pods/x/escalate" || last.Data.Reason != obs.Recurrence.String() {
		t.Errorf("last entry = %+v", last)
	}
	// Replaying again changes nothing and does not escalate twice.
	n := len(f.tl)
	obs, err = Observe(ctx, f, p, "prod", "pods/x", 0, days(4), "run3/pods/x")
	if err != nil || obs.Escalated || len(f.tl) != n {
		t.Fatalf("second replay: %+v, %v, %d entries (want %d)", obs, err, len(f.tl), n)
	}
	// A fourth sighting is recorded but not escalated again.
	obs, err = Observe(ctx, f, p, "prod", "pods/x", 0, days(5), "run4/pods/x")
	if err != nil || obs.Escalated || !obs.Recurrence.AlreadyEscalated {
		t.Fatalf("run4: %+v, %v", obs, err)
	}
}
