package handover_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/opsbot/opsbot/handover"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/triage"
)

var now = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// fakeStore serves fixed answers and records the times asked for.
type fakeStore struct {
	handover.Store // unused methods panic

	open      []triage.Anomaly
	closed    []triage.Anomaly // every closed anomaly, by decision time
	timelines map[int64][]triage.TimelineEntry
	last      *handover.Record
	run       *handover.Run
	err       error

	silencesFrom, silencesUntil, newSince time.Time
}

func (f *fakeStore) ListOpen(context.Context, string) ([]triage.Anomaly, error) { return f.open, f.err }
func (f *fakeStore) Timeline(_ context.Context, id int64) ([]triage.TimelineEntry, error) {
	return f.timelines[id], nil
}
func (f *fakeStore) SilencesEnding(_ context.Context, from, until time.Time) ([]triage.Anomaly, error) {
	f.silencesFrom, f.silencesUntil = from, until
	return nil, nil
}
func (f *fakeStore) ClosedSince(_ context.Context, since time.Time) ([]triage.Anomaly, error) {
	var out []triage.Anomaly
	for _, a := range f.closed {
		if !a.Decision.DecidedAt.Before(since) {
			out = append(out, a)
		}
	}
	return out, nil
}
func (f *fakeStore) NewFingerprints(_ context.Context, since time.Time) ([]handover.Fingerprint, error) {
	f.newSince = since
	return nil, nil
}
func (f *fakeStore) LastRun(context.Context) (handover.Run, bool, error) {
	if f.run == nil {
		return handover.Run{}, false, nil
	}
	return *f.run, true, nil
}
func (f *fakeStore) LastHandover(context.Context) (handover.Record, bool, error) {
	if f.last == nil {
		return handover.Record{}, false, nil
	}
	return *f.last, true, nil
}

type fakeIncidents []incident.Incident

func (f fakeIncidents) ListOpen(context.Context, string) ([]incident.Incident, error) { return f, nil }

// intermittent is an anomaly decided Intermittent at decided, seen again
// at each of seen.
func intermittent(id int64, decided time.Time, seen ...time.Time) (triage.Anomaly, []triage.TimelineEntry) {
	a := triage.Anomaly{ID: id, State: triage.Closed, OpenedAt: decided.Add(-time.Hour),
		Decision: &triage.DecisionRecord{Decision: triage.Intermittent, DecidedAt: decided}}
	tl := []triage.TimelineEntry{{AnomalyID: id, Seq: 1, Kind: triage.KindOpened, At: a.OpenedAt},
		{AnomalyID: id, Seq: 2, Kind: triage.KindDecided, At: decided}}
	for i, at := range seen {
		tl = append(tl, triage.TimelineEntry{AnomalyID: id, Seq: int64(3 + i), Kind: triage.KindSeenAgain, At: at})
	}
	return a, tl
}

func TestBuild(t *testing.T) {
	f := &fakeStore{timelines: map[int64][]triage.TimelineEntry{}}
	f.open = []triage.Anomaly{
		{ID: 1, OpenedBy: "U0ALICE", OpenedAt: now.Add(-3 * time.Hour)},
		{ID: 2, OpenedBy: triage.ActorChecklist, OpenedAt: now.Add(-time.Hour)},
	}
	add := func(a triage.Anomaly, tl []triage.TimelineEntry) {
		f.closed = append(f.closed, a)
		f.timelines[a.ID] = tl
	}
	day := 24 * time.Hour
	add(intermittent(10, now.Add(-2*day), now.Add(-day), now.Add(-time.Hour)))       // 2 of 3: close
	add(intermittent(11, now.Add(-2*day), now.Add(-day)))                            // 1 of 3: not close
	add(intermittent(12, now.Add(-2*day)))                                           // never seen again
	add(intermittent(13, now.Add(-10*day), now.Add(-9*day), now.Add(-8*day)))        // decided before the window
	esc, tl := intermittent(14, now.Add(-2*day), now.Add(-day), now.Add(-time.Hour)) // escalated already
	esc.EscalatedAt = now.Add(-time.Hour)
	add(esc, tl)
	serious := triage.Anomaly{ID: 20, State: triage.Closed,
		Decision: &triage.DecisionRecord{Decision: triage.Serious, DecidedAt: now.Add(-time.Hour)}}
	add(serious, nil)
	prev := handover.Record{ID: 7, At: now.Add(-day), By: handover.ActorSchedule}
	f.last = &prev
	f.run = &handover.Run{Environment: "prod", At: now.Add(-time.Hour), AskedBy: "U0ALICE", Status: "fail", Findings: 2}

	until := now.Add(day)
	v, err := handover.Build(context.Background(), handover.Options{Store: f, Incidents: fakeIncidents{{ID: 3}}}, now, until)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Anomalies) != 2 || v.Anomalies[0].Owner != "U0ALICE" || v.Anomalies[0].Age != 3*time.Hour ||
		v.Anomalies[1].Owner != "" {
		t.Errorf("anomalies %+v", v.Anomalies)
	}
	if len(v.Incidents) != 1 || v.Incidents[0].ID != 3 {
		t.Errorf("incidents %+v", v.Incidents)
	}
	if len(v.NearEscalation) != 1 || v.NearEscalation[0].ID != 10 || v.NearEscalation[0].Sightings != 2 ||
		v.NearEscalation[0].Threshold != 3 || v.NearEscalation[0].Window != 7*day {
		t.Errorf("near escalation %+v", v.NearEscalation)
	}
	if !f.silencesFrom.Equal(now) || !f.silencesUntil.Equal(until) {
		t.Errorf("silences asked from %s until %s", f.silencesFrom, f.silencesUntil)
	}
	if v.Previous == nil || v.Previous.ID != 7 || !v.Since.Equal(prev.At) || !f.newSince.Equal(prev.At) {
		t.Errorf("since %s (previous %+v), new fingerprints since %s", v.Since, v.Previous, f.newSince)
	}
	// Resolved since the last handover: the Serious one, and the
	// Intermittent ones decided... two days ago are not.
	if len(v.Resolved) != 1 || v.Resolved[0].ID != 20 {
		t.Errorf("resolved %+v", v.Resolved)
	}
	if v.LastRun == nil || *v.LastRun != *f.run {
		t.Errorf("last run %+v", v.LastRun)
	}

	// Near 2: one sighting short by two counts too.
	v, err = handover.Build(context.Background(), handover.Options{Store: f, Near: 2}, now, until)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.NearEscalation) != 2 || v.NearEscalation[1].ID != 11 || v.Incidents != nil {
		t.Errorf("near 2: %+v; incidents %+v", v.NearEscalation, v.Incidents)
	}
}

func TestBuildWithoutALastHandover(t *testing.T) {
	f := &fakeStore{}
	v, err := handover.Build(context.Background(), handover.Options{Store: f}, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if v.Previous != nil || !v.Since.IsZero() || !f.newSince.Equal(now.Add(-handover.DefaultShift)) || v.LastRun != nil {
		t.Errorf("view %+v, new fingerprints since %s", v, f.newSince)
	}
}

func TestBuildFails(t *testing.T) {
	boom := errors.New("store down")
	if _, err := handover.Build(context.Background(), handover.Options{Store: &fakeStore{err: boom}}, now, now); !errors.Is(err, boom) {
		t.Errorf("Build = %v, want the store's error", err)
	}
	if _, err := handover.Build(context.Background(), handover.Options{}, now, now); err == nil {
		t.Error("Build without a store succeeded")
	}
}

func TestShiftEnd(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	weekdays, err := schedule.Parse("0 9 * * MON-FRI", london)
	if err != nil {
		t.Fatal(err)
	}
	fri := time.Date(2026, 11, 27, 9, 0, 0, 0, london)
	tests := []struct {
		name  string
		sched *schedule.Schedule
		shift time.Duration
		want  time.Time
	}{
		{"the next occurrence", weekdays, 0, time.Date(2026, 11, 30, 9, 0, 0, 0, london)},
		{"the shift wins", weekdays, 12 * time.Hour, fri.Add(12 * time.Hour)},
		{"no schedule", nil, 0, fri.Add(handover.DefaultShift)},
	}
	for _, tt := range tests {
		if got := handover.ShiftEnd(fri, tt.sched, tt.shift); !got.Equal(tt.want) {
			t.Errorf("%s: ShiftEnd = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestRecordValidate(t *testing.T) {
	if err := (handover.Record{At: now, By: "U0ALICE"}).Validate(); err != nil {
		t.Errorf("valid record: %v", err)
	}
	if err := (handover.Record{At: now}).Validate(); err == nil {
		t.Error("a record without by is valid")
	}
}
