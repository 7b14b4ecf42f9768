package noise

import (
	"reflect"
	"testing"
	"time"

	"github.com/opsbot/opsbot/triage"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func decided(id, seq int64, d triage.Decision, minutes int) triage.TimelineEntry {
	return triage.TimelineEntry{AnomalyID: id, Seq: seq, At: t0.Add(time.Duration(minutes) * time.Minute),
		Kind: triage.KindDecided, Data: triage.TimelineData{Decision: &triage.DecisionRecord{Decision: d}}}
}

// TestMistriage: only what became Serious or an incident after the first
// Noise or Intermittent decision counts, once per anomaly, with the
// earliest of the two.
func TestMistriage(t *testing.T) {
	entries := []triage.TimelineEntry{
		// #1: Serious first, Noise later: decided Noise, not mis-triaged.
		decided(1, 2, triage.Serious, 0), decided(1, 3, triage.Noise, 10),
		// #2: Intermittent, then Serious twice: one, the first.
		decided(2, 2, triage.Intermittent, 0), decided(2, 3, triage.Serious, 20), decided(2, 4, triage.Serious, 30),
		// #3: Noise, incident announced before it: not mis-triaged.
		decided(3, 2, triage.Noise, 10),
		// #4: Noise, then an incident, then Serious: the incident.
		decided(4, 2, triage.Noise, 0), decided(4, 3, triage.Serious, 50),
		// #5: Not enough information, then an incident: not counted.
		decided(5, 2, triage.NotEnoughInformation, 0),
	}
	incidents := []AnomalyIncident{
		{AnomalyID: 3, IncidentID: 7, AnnouncedAt: t0},
		{AnomalyID: 4, IncidentID: 8, AnnouncedAt: t0.Add(40 * time.Minute)},
		{AnomalyID: 5, IncidentID: 9, AnnouncedAt: t0.Add(40 * time.Minute)},
	}
	got := mistriage(entries, incidents)
	want := Mistriage{Decided: 4, Rate: 0.5, Anomalies: []Mistriaged{
		{AnomalyID: 2, From: "intermittent", Became: BecameSerious, At: t0.Add(20 * time.Minute)},
		{AnomalyID: 4, From: "noise", Became: BecameIncident, IncidentID: 8, At: t0.Add(40 * time.Minute)},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mistriage =\n%+v\nwant\n%+v", got, want)
	}
}

// TestDays: a period is 1 to MaxDays whole UTC days ending now.
func TestDays(t *testing.T) {
	for _, d := range []int{0, -1, MaxDays + 1} {
		if CheckDays(d) == nil {
			t.Errorf("CheckDays(%d) = nil", d)
		}
	}
	if err := CheckDays(MaxDays); err != nil {
		t.Errorf("CheckDays(%d) = %v", MaxDays, err)
	}
	now := time.Date(2026, 11, 25, 0, 30, 0, 0, time.FixedZone("CET", 3600))
	if got, want := Since(2, now), time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Since(2, %v) = %v, want %v", now, got, want)
	}
}

// TestSparkline: empty days are the lowest bar, the busiest the highest,
// the others in proportion.
func TestSparkline(t *testing.T) {
	days := func(n ...int) []DayCount {
		out := make([]DayCount, len(n))
		for i, v := range n {
			out[i].Sightings = v
		}
		return out
	}
	for _, tc := range []struct {
		in   []DayCount
		want string
	}{
		{days(0, 0, 0), "▁▁▁"},
		{days(0, 1, 7), "▁▂█"},
		{days(4, 3, 2), "█▇▅"},
		{days(1, 1000), "▂█"},
		{nil, ""},
	} {
		if got := Sparkline(tc.in); got != tc.want {
			t.Errorf("Sparkline(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
