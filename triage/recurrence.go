package triage

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Recurrence defaults: an Intermittent anomaly seen 3 times within 7 days of
// its decision is escalated; a finding decided Noise or Intermittent is new
// again once it is 10 times as big as when it was decided.
const (
	DefaultEscalateThreshold = 3
	DefaultEscalateWindow    = model.Duration(7 * 24 * time.Hour)
	DefaultGrowth            = 10.0
)

// RecurrencePolicy says what a finding seen again means for its anomaly:
// when an anomaly decided Intermittent has come back often enough to be
// escalated (seen Threshold times after the decision, within Window
// before the latest sighting), and when a decision still covers the
// finding, so that the checklist suppresses it as known noise (Covers).
// The zero value means the defaults.
type RecurrencePolicy struct {
	// Threshold is how many sightings escalate. Default 3.
	Threshold int `yaml:"threshold"`
	// Window is how recent those sightings must be ("7d"), and how long an
	// Intermittent decision covers its finding. Default 7d.
	Window model.Duration `yaml:"window"`
	// Growth is how many times bigger than when it was decided
	// (DecisionRecord.Magnitude) a finding must be for its Noise or
	// Intermittent decision to stop covering it. Default 10.
	Growth float64 `yaml:"growth"`
}

// SetDefaults fills zero fields with the defaults.
func (p *RecurrencePolicy) SetDefaults() {
	if p.Threshold == 0 {
		p.Threshold = DefaultEscalateThreshold
	}
	if p.Window == 0 {
		p.Window = DefaultEscalateWindow
	}
	if p.Growth == 0 {
		p.Growth = DefaultGrowth
	}
}

// Validate checks the policy after SetDefaults; errors name the yaml key.
func (p RecurrencePolicy) Validate() error {
	if p.Threshold < 1 {
		return fmt.Errorf("threshold: must be at least 1, got %d", p.Threshold)
	}
	if p.Window <= 0 {
		return fmt.Errorf("window: must be positive, got %s", p.Window)
	}
	if !(p.Growth > 1) || math.IsInf(p.Growth, 0) {
		return fmt.Errorf("growth: must be a number more than 1, got %v", p.Growth)
	}
	return nil
}

// Cover is what an anomaly's standing decision makes of a sighting of its
// finding (RecurrencePolicy.Covers).
type Cover struct {
	// Suppressed: the decision covers the finding; the checklist counts
	// it as known noise rather than reporting it as a new problem.
	Suppressed bool
	// Grew: the decision would cover it, but the finding grew to Growth
	// times its magnitude when decided: it is reported as new again.
	Grew bool
}

// Covers says whether anomaly a's decision covers a sighting of its
// finding, magnitude big, at now. A decision covers its finding while it
// stands, the anomaly closed (not escalated since): Noise always,
// Intermittent for Window after it was made. Serious never does: a
// serious problem is reported every time. A finding that grew to Growth
// times the magnitude recorded with the decision is not covered (Grew); a
// decision recorded without a magnitude (0) covers whatever the size.
func (p RecurrencePolicy) Covers(a Anomaly, magnitude float64, now time.Time) Cover {
	p.SetDefaults()
	d := a.Decision
	if d == nil || a.State != Closed || !a.EscalatedAt.IsZero() {
		return Cover{}
	}
	switch d.Decision {
	case Noise:
	case Intermittent:
		if now.Sub(d.DecidedAt) >= time.Duration(p.Window) {
			return Cover{}
		}
	default:
		return Cover{}
	}
	if d.Magnitude > 0 && magnitude >= p.Growth*d.Magnitude {
		return Cover{Grew: true}
	}
	return Cover{Suppressed: true}
}

// Recurrence is what a sighting means for an anomaly.
type Recurrence struct {
	// Decision is the anomaly's current decision (0: none yet).
	Decision Decision
	// Since is when that decision was made (when the anomaly was opened, if
	// it has no decision).
	Since time.Time
	// SinceDecision is how many times it was seen again after Since.
	SinceDecision int
	// InWindow is how many of those sightings fall within Window before now.
	InWindow int
	// SeenCount is how many times it was seen in all, its opening included.
	SeenCount int64
	// Threshold and Window are the policy's.
	Threshold int
	Window    time.Duration
	// AlreadyEscalated: it was escalated after its current decision; it is
	// not escalated twice.
	AlreadyEscalated bool
	// Escalate: the anomaly is closed as Intermittent, was not escalated
	// since, and InWindow reached Threshold.
	Escalate bool
}

// Evaluate computes the recurrence of anomaly a from its timeline (as
// Store.Timeline returns it), at time now (the latest sighting). Only
// seen_again entries after the latest decision entry count; ordering is by
// Seq, not by clock, so skewed clocks cannot reorder a decision and a
// sighting.
func (p RecurrencePolicy) Evaluate(a Anomaly, timeline []TimelineEntry, now time.Time) Recurrence {
	p.SetDefaults()
	r := Recurrence{
		Decision:  a.CurrentDecision(),
		Since:     a.OpenedAt,
		SeenCount: a.SeenCount,
		Threshold: p.Threshold,
		Window:    time.Duration(p.Window),
	}
	if a.Decision != nil {
		r.Since = a.Decision.DecidedAt
	}
	var decisionSeq int64
	for _, e := range timeline {
		if (e.Kind == KindDecided || e.Kind == KindDecisionChanged) && e.Seq > decisionSeq {
			decisionSeq = e.Seq
		}
	}
	cutoff := now.Add(-r.Window)
	for _, e := range timeline {
		if e.Seq <= decisionSeq {
			continue
		}
		switch e.Kind {
		case KindSeenAgain:
			r.SinceDecision++
			if e.At.After(cutoff) {
				r.InWindow++
			}
		case KindEscalated:
			r.AlreadyEscalated = true
		}
	}
	if !a.EscalatedAt.IsZero() {
		r.AlreadyEscalated = true
	}
	r.Escalate = r.Decision == Intermittent && a.State == Closed && !r.AlreadyEscalated &&
		r.InWindow >= r.Threshold
	return r
}

// String says it for people, e.g. "seen again, 3rd time since it was decided
// Intermittent on 2026-01-02 09:14 UTC (3 in the last 7d: escalating, the
// threshold is 3)".
func (r Recurrence) String() string {
	var b strings.Builder
	since := r.Since.UTC().Format("2006-01-02 15:04 UTC")
	if r.Decision == 0 {
		fmt.Fprintf(&b, "seen again, %s time since it was opened on %s", ordinal(r.SinceDecision+1), since)
		return b.String()
	}
	fmt.Fprintf(&b, "seen again, %s time since it was decided %s on %s",
		ordinal(r.SinceDecision), r.Decision.Label(), since)
	if r.Decision != Intermittent {
		return b.String()
	}
	w := formatWindow(r.Window)
	switch {
	case r.Escalate:
		fmt.Fprintf(&b, " (%d in the last %s: escalating, the threshold is %d)", r.InWindow, w, r.Threshold)
	case r.AlreadyEscalated:
		fmt.Fprintf(&b, " (%d in the last %s; already escalated)", r.InWindow, w)
	default:
		fmt.Fprintf(&b, " (%d in the last %s; escalated at %d)", r.InWindow, w, r.Threshold)
	}
	return b.String()
}

// formatWindow formats whole days as "7d" (model.Duration would say "1w").
func formatWindow(d time.Duration) string {
	if day := 24 * time.Hour; d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return model.Duration(d).String()
}

// ordinal formats 1 as "1st", 2 as "2nd", 11 as "11th", 23 as "23rd".
func ordinal(n int) string {
	suffix := "th"
	switch n % 100 {
	case 11, 12, 13:
	default:
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
