package noise

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/opsbot/opsbot"
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

// fakeAM is an Alertmanager with silences by id and the number of alerts
// each silence's first matcher matches.
type fakeAM struct {
	silences map[string]triage.Silence
	alerts   map[string]int
	err      error
}

func (f fakeAM) Get(_ context.Context, id string) (triage.Silence, error) {
	if f.err != nil {
		return triage.Silence{}, f.err
	}
	s, ok := f.silences[id]
	if !ok {
		return triage.Silence{}, fmt.Errorf("silence %s: %w", id, opsbot.ErrNotFound)
	}
	return s, nil
}

func (f fakeAM) AlertsMatching(_ context.Context, ms []triage.Matcher) (int, error) {
	return f.alerts[ms[0].String()], nil
}

// silenced is an anomaly of env whose Noise decision records silence m.
func silenced(id int64, env string, m triage.SilenceMark) triage.Anomaly {
	return triage.Anomaly{ID: id, Environment: env, Title: fmt.Sprintf("anomaly %d", id),
		Decision: &triage.DecisionRecord{Decision: triage.Noise, Silence: &m}}
}

// TestSilences: an active silence matching no alert is stale, one
// matching alerts, no longer active or gone from Alertmanager is not, one
// recorded ended is not asked about; two extensions or more are listed
// while the silence stands or ended in the period; an environment whose
// Alertmanager is missing or fails is said unchecked, once.
func TestSilences(t *testing.T) {
	since := t0
	end := t0.Add(48 * time.Hour)
	ms := func(v string) []triage.Matcher { return []triage.Matcher{{Name: "alertname", Value: v}} }
	am := fakeAM{
		silences: map[string]triage.Silence{
			"gone":    {ID: "gone", Matchers: ms("Gone"), State: triage.SilenceActive, EndsAt: end},
			"firing":  {ID: "firing", Matchers: ms("Firing"), State: triage.SilenceActive, EndsAt: end},
			"expired": {ID: "expired", Matchers: ms("Expired"), State: triage.SilenceExpired, EndsAt: t0},
			// Extended by hand in Alertmanager: opsbot's record has it run out.
			"ran-out": {ID: "ran-out", Matchers: ms("RanOut"), State: triage.SilenceActive, EndsAt: end},
		},
		alerts: map[string]int{`alertname="Firing"`: 2},
	}
	anomalies := []triage.Anomaly{
		silenced(1, "prod", triage.SilenceMark{ID: "gone", EndsAt: end}),
		silenced(2, "prod", triage.SilenceMark{ID: "firing", EndsAt: end, Extensions: 3}),
		silenced(3, "prod", triage.SilenceMark{ID: "expired", EndsAt: t0, Extensions: 2}),
		silenced(4, "prod", triage.SilenceMark{ID: "ended-before", EndsAt: t0, Extensions: 5,
			EndedAt: t0.Add(-time.Hour), EndedBy: "U0ALICE"}),
		silenced(5, "prod", triage.SilenceMark{ID: "ended-in-period", EndsAt: t0, Extensions: 2,
			EndedAt: t0.Add(time.Hour), EndedBy: "U0ALICE"}),
		silenced(9, "prod", triage.SilenceMark{ID: "deleted", EndsAt: end}),
		// Recorded to have run out: not asked.
		silenced(10, "prod", triage.SilenceMark{ID: "ran-out", EndsAt: t0}),
		silenced(6, "dev", triage.SilenceMark{ID: "x", EndsAt: end}),
		silenced(7, "dev", triage.SilenceMark{ID: "y", EndsAt: end}),
		silenced(8, "staging", triage.SilenceMark{ID: "z", EndsAt: end}),
	}
	stale, extended, unchecked := silences(context.Background(), anomalies,
		map[string]Alertmanager{"prod": am, "staging": fakeAM{err: errors.New("alertmanager http://am.staging: 503")}}, since, t0.Add(time.Hour))
	want := []SilenceLine{{AnomalyID: 1, Environment: "prod", Title: "anomaly 1", SilenceID: "gone", EndsAt: end, Matchers: `alertname="Gone"`}}
	if !reflect.DeepEqual(stale, want) {
		t.Errorf("stale = %+v\nwant %+v", stale, want)
	}
	var ids []int64
	for _, l := range extended {
		ids = append(ids, l.AnomalyID)
	}
	if !reflect.DeepEqual(ids, []int64{2, 3, 5}) {
		t.Errorf("extended again and again: anomalies %v, want 2, 3, 5", ids)
	}
	wantUnchecked := []string{"dev: no Alertmanager configured", "staging: alertmanager http://am.staging: 503"}
	if !reflect.DeepEqual(unchecked, wantUnchecked) {
		t.Errorf("unchecked = %q, want %q", unchecked, wantUnchecked)
	}
}

// TestAlertSource: the alerts check's and the alerts channel's alerts are
// alerts; the channel's exceptions and other checks' findings are not.
func TestAlertSource(t *testing.T) {
	for fp, want := range map[string]string{
		"alerts/prod/DiskFilling/shop":        SourceAlertmanager,
		"alertschannel/alert/KubeJobFailed":   SourceAlertsChannel,
		"alertschannel/exception/NullPointer": "",
		"alertsmanager/x":                     "",
		"pods/api/crashloop":                  "",
	} {
		if got := AlertSource(fp); got != want {
			t.Errorf("AlertSource(%q) = %q, want %q", fp, got, want)
		}
	}
}
