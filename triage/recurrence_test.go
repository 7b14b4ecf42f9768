package triage

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

var day0 = time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)

func days(n float64) time.Time { return day0.Add(time.Duration(n * float64(24*time.Hour))) }

// history builds an anomaly and its timeline from a script of kinds at times.
type step struct {
	kind Kind
	at   time.Time
	d    Decision // for decisions
}

func history(steps ...step) (Anomaly, []TimelineEntry) {
	a := Anomaly{ID: 1, OpenedAt: day0, SeenCount: 1, State: Open}
	tl := []TimelineEntry{{AnomalyID: 1, Seq: 1, At: day0, Kind: KindOpened}}
	for _, s := range steps {
		e := TimelineEntry{AnomalyID: 1, Seq: int64(len(tl) + 1), At: s.at, Kind: s.kind}
		switch s.kind {
		case KindDecided, KindDecisionChanged:
			r := record(s.d)
			r.DecidedAt = s.at
			a.Decision, a.EscalatedAt = &r, time.Time{}
			e.Data.Decision = &r
		case KindSeenAgain:
			a.SeenCount++
			a.LastSeenAt = s.at
		case KindEscalated:
			a.EscalatedAt = s.at
		}
		a.State = StateFor(a.CurrentDecision(), !a.EscalatedAt.IsZero())
		tl = append(tl, e)
	}
	a.Version = int64(len(tl))
	return a, tl
}

func seen(at time.Time) step                { return step{kind: KindSeenAgain, at: at} }
func decided(d Decision, at time.Time) step { return step{kind: KindDecided, at: at, d: d} }
func changed(d Decision, at time.Time) step { return step{kind: KindDecisionChanged, at: at, d: d} }
func escalated(at time.Time) step           { return step{kind: KindEscalated, at: at} }

func TestRecurrenceEvaluate(t *testing.T) {
	tests := []struct {
		name                    string
		steps                   []step
		now                     time.Time
		policy                  RecurrencePolicy
		sinceDecision, inWindow int
		escalate, already       bool
		text                    string
	}{
		{
			name:  "undecided, seen again",
			steps: []step{seen(days(1)), seen(days(2))}, now: days(2),
			sinceDecision: 2, inWindow: 2,
			text: "seen again, 3rd time since it was opened on 2026-01-02 09:00 UTC",
		},
		{
			name:  "intermittent, first time again",
			steps: []step{decided(Intermittent, days(1)), seen(days(2))}, now: days(2),
			sinceDecision: 1, inWindow: 1,
			text: "seen again, 1st time since it was decided Intermittent on 2026-01-03 09:00 UTC (1 in the last 7d; escalated at 3)",
		},
		{
			name:  "intermittent, third time within 7 days: escalate",
			steps: []step{seen(days(0.5)), decided(Intermittent, days(1)), seen(days(2)), seen(days(4)), seen(days(6))},
			now:   days(6), sinceDecision: 3, inWindow: 3, escalate: true,
			text: "seen again, 3rd time since it was decided Intermittent on 2026-01-03 09:00 UTC (3 in the last 7d: escalating, the threshold is 3)",
		},
		{
			name:  "intermittent, three times but spread over more than the window",
			steps: []step{decided(Intermittent, days(1)), seen(days(2)), seen(days(8)), seen(days(12))},
			now:   days(12), sinceDecision: 3, inWindow: 2,
		},
		{
			name:  "custom policy: 2 in 1 day",
			steps: []step{decided(Intermittent, days(1)), seen(days(2)), seen(days(2.5))},
			now:   days(2.5), policy: RecurrencePolicy{Threshold: 2, Window: model.Duration(24 * time.Hour)},
			sinceDecision: 2, inWindow: 2, escalate: true,
		},
		{
			name:  "sightings before the decision do not count",
			steps: []step{seen(days(1)), seen(days(1.1)), seen(days(1.2)), decided(Intermittent, days(1.5)), seen(days(2))},
			now:   days(2), sinceDecision: 1, inWindow: 1,
		},
		{
			name:  "a changed decision restarts the count",
			steps: []step{decided(Intermittent, days(1)), seen(days(2)), seen(days(3)), changed(Intermittent, days(3.5)), seen(days(4))},
			now:   days(4), sinceDecision: 1, inWindow: 1,
		},
		{
			name:  "already escalated: not twice",
			steps: []step{decided(Intermittent, days(1)), seen(days(2)), seen(days(3)), seen(days(4)), escalated(days(4)), seen(days(5))},
			now:   days(5), sinceDecision: 4, inWindow: 4, already: true,
			text: "seen again, 4th time since it was decided Intermittent on 2026-01-03 09:00 UTC (4 in the last 7d; already escalated)",
		},
		{
			name:  "escalated then decided again: counts afresh",
			steps: []step{decided(Intermittent, days(1)), seen(days(2)), seen(days(3)), seen(days(4)), escalated(days(4)), decided(Intermittent, days(4.5)), seen(days(5)), seen(days(5.1)), seen(days(5.2))},
			now:   days(5.2), sinceDecision: 3, inWindow: 3, escalate: true,
		},
		{
			name:  "noise is not escalated",
			steps: []step{decided(Noise, days(1)), seen(days(2)), seen(days(3)), seen(days(4))},
			now:   days(4), sinceDecision: 3, inWindow: 3,
			text: "seen again, 3rd time since it was decided Noise on 2026-01-03 09:00 UTC",
		},
		{
			name:  "undetermined is open already: not escalated",
			steps: []step{decided(Undetermined, days(1)), seen(days(2)), seen(days(3)), seen(days(4))},
			now:   days(4), sinceDecision: 3, inWindow: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, tl := history(tt.steps...)
			r := tt.policy.Evaluate(a, tl, tt.now)
			if r.SinceDecision != tt.sinceDecision || r.InWindow != tt.inWindow ||
				r.Escalate != tt.escalate || r.AlreadyEscalated != tt.already {
				t.Errorf("Evaluate = since %d, window %d, escalate %v, already %v; want %d, %d, %v, %v",
					r.SinceDecision, r.InWindow, r.Escalate, r.AlreadyEscalated,
					tt.sinceDecision, tt.inWindow, tt.escalate, tt.already)
			}
			if r.SeenCount != a.SeenCount {
				t.Errorf("SeenCount = %d, want %d", r.SeenCount, a.SeenCount)
			}
			if tt.text != "" && r.String() != tt.text {
				t.Errorf("String() =\n%q\nwant\n%q", r.String(), tt.text)
			}
		})
	}
}

// TestRecurrenceCovers: which standing decisions suppress a finding seen
// again, and when it grew past them.
func TestRecurrenceCovers(t *testing.T) {
	tests := []struct {
		name      string
		steps     []step
		decidedAt float64 // the decision's magnitude
		magnitude float64 // the sighting's
		now       time.Time
		policy    RecurrencePolicy
		want      Cover
	}{
		{name: "undecided", steps: nil, magnitude: 5, now: days(2)},
		{name: "noise", steps: []step{decided(Noise, days(1))}, decidedAt: 12, magnitude: 30, now: days(2),
			want: Cover{Suppressed: true}},
		{name: "noise, long after", steps: []step{decided(Noise, days(1))}, decidedAt: 12, magnitude: 12, now: days(400),
			want: Cover{Suppressed: true}},
		{name: "noise, shrunk to nothing", steps: []step{decided(Noise, days(1))}, decidedAt: 12, magnitude: 0, now: days(2),
			want: Cover{Suppressed: true}},
		{name: "noise, just under 10x", steps: []step{decided(Noise, days(1))}, decidedAt: 12, magnitude: 119, now: days(2),
			want: Cover{Suppressed: true}},
		{name: "noise, 10x", steps: []step{decided(Noise, days(1))}, decidedAt: 12, magnitude: 120, now: days(2),
			want: Cover{Grew: true}},
		{name: "noise decided without a magnitude: any size", steps: []step{decided(Noise, days(1))}, magnitude: 1e6, now: days(2),
			want: Cover{Suppressed: true}},
		{name: "noise, growth 3", steps: []step{decided(Noise, days(1))}, decidedAt: 12, magnitude: 36, now: days(2),
			policy: RecurrencePolicy{Growth: 3}, want: Cover{Grew: true}},
		{name: "noise changed to serious", steps: []step{decided(Noise, days(1)), changed(Serious, days(1.5))}, decidedAt: 12,
			magnitude: 12, now: days(2)},
		{name: "serious", steps: []step{decided(Serious, days(1))}, decidedAt: 12, magnitude: 12, now: days(2)},
		{name: "not enough information", steps: []step{decided(NotEnoughInformation, days(1))}, magnitude: 1, now: days(2)},
		{name: "undetermined", steps: []step{decided(Undetermined, days(1))}, magnitude: 1, now: days(2)},
		{name: "intermittent within its window", steps: []step{decided(Intermittent, days(1))}, decidedAt: 2, magnitude: 3,
			now: days(7.9), want: Cover{Suppressed: true}},
		{name: "intermittent past its window", steps: []step{decided(Intermittent, days(1))}, decidedAt: 2, magnitude: 3,
			now: days(8)},
		{name: "intermittent, 10x", steps: []step{decided(Intermittent, days(1))}, decidedAt: 2, magnitude: 20, now: days(2),
			want: Cover{Grew: true}},
		{name: "intermittent escalated", steps: []step{decided(Intermittent, days(1)), escalated(days(3))}, decidedAt: 2,
			magnitude: 2, now: days(3)},
		{name: "noise escalated by hand", steps: []step{decided(Noise, days(1)), escalated(days(3))}, decidedAt: 2,
			magnitude: 2, now: days(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := history(tt.steps...)
			if a.Decision != nil {
				a.Decision.Magnitude = tt.decidedAt
			}
			if got := tt.policy.Covers(a, tt.magnitude, tt.now); got != tt.want {
				t.Errorf("Covers = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRecurrencePolicy(t *testing.T) {
	var p RecurrencePolicy
	p.SetDefaults()
	if p.Threshold != 3 || p.Window != model.Duration(7*24*time.Hour) || p.Growth != 10 {
		t.Errorf("defaults = %+v", p)
	}
	for _, g := range []float64{1, 0.5, -2, math.NaN(), math.Inf(1)} {
		if err := (RecurrencePolicy{Threshold: 1, Window: p.Window, Growth: g}).Validate(); err == nil ||
			!strings.HasPrefix(err.Error(), "growth: must be a number more than 1") {
			t.Errorf("Validate(growth %v) = %v", g, err)
		}
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
	if err := (RecurrencePolicy{Threshold: -1, Window: p.Window}).Validate(); err == nil ||
		!strings.HasPrefix(err.Error(), "threshold: must be at least 1") {
		t.Errorf("Validate = %v", err)
	}
	if err := (RecurrencePolicy{Threshold: 1, Window: -1}).Validate(); err == nil ||
		!strings.HasPrefix(err.Error(), "window:") {
		t.Errorf("Validate = %v", err)
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th",
		13: "13th", 21: "21st", 22: "22nd", 101: "101st", 111: "111th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}
