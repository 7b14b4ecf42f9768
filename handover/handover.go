// Package handover is the ops rotation's handover: what the person or
// group coming on shift needs to know, read from the store in one View
// (open anomalies with their age and who is looking, open incidents with
// their status page state, silences of Noise decisions that end during the
// next shift, Intermittent anomalies close to escalation, the last
// checklist, and what changed since the last handover), and the record of
// each handover posted and of who took over. `/ops handover`, the
// scheduled handover and the bot's App Home tab show the same View. It
// reads and records through Store and Incidents, ports it owns.
package handover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/triage"
)

// Defaults.
const (
	// DefaultShift is the next shift's length when there is no schedule
	// to say when it ends.
	DefaultShift = 24 * time.Hour
	// DefaultNear is how many sightings short of the escalation threshold
	// an Intermittent anomaly is "close to escalation".
	DefaultNear = 1
	// ActorSchedule records a handover posted by the schedule.
	ActorSchedule = "schedule"
)

// Store is what the handover reads and records: the store.
type Store interface {
	// ListOpen returns the open anomalies of env ("" for every one), by
	// opening time.
	ListOpen(ctx context.Context, env string) ([]triage.Anomaly, error)
	// Timeline returns an anomaly's timeline, by Seq.
	Timeline(ctx context.Context, id int64) ([]triage.TimelineEntry, error)
	// SilencesEnding returns the anomalies whose current decision has a
	// silence ending after from and at or before until, by its end; a
	// silence already expired or seen to have run out is not one.
	SilencesEnding(ctx context.Context, from, until time.Time) ([]triage.Anomaly, error)
	// ClosedSince returns the closed anomalies whose current decision was
	// made at or after since, by decision time.
	ClosedSince(ctx context.Context, since time.Time) ([]triage.Anomaly, error)
	// NewFingerprints returns the fingerprints found by the checklist
	// runs saved at or after since that no run saved before found, in
	// the order they were first found.
	NewFingerprints(ctx context.Context, since time.Time) ([]Fingerprint, error)
	// LastRun returns the checklist run saved last; ok is false when
	// there is none.
	LastRun(ctx context.Context) (r Run, ok bool, err error)

	// LastHandover returns the handover recorded last (by time); ok is
	// false when there is none.
	LastHandover(ctx context.Context) (r Record, ok bool, err error)
	// Handover returns handover id (opsbot.ErrNotFound when there is no
	// such handover).
	Handover(ctx context.Context, id int64) (Record, error)
	// RecordHandover records a handover (At, By) under key: the same key
	// again returns the handover recorded first, with created false.
	RecordHandover(ctx context.Context, r Record, key string) (out Record, created bool, err error)
	// SetHandoverMessage records where the handover was posted.
	SetHandoverMessage(ctx context.Context, id int64, channel, ts string) (Record, error)
	// AcknowledgeHandover records that by took over at at, when nobody
	// did before; first is false (and the Record says who did) otherwise.
	AcknowledgeHandover(ctx context.Context, id int64, by string, at time.Time) (r Record, first bool, err error)
}

// Incidents lists the open incidents (the incident store).
type Incidents interface {
	// ListOpen returns the open incidents of env ("" for every one).
	ListOpen(ctx context.Context, env string) ([]incident.Incident, error)
}

// Record is one handover: when, by whom, where it was posted, who took
// over.
type Record struct {
	ID int64
	// At is when it was made; By the Slack user id that asked for it, or
	// ActorSchedule.
	At time.Time
	By string
	// Channel and MessageTS locate its message ("" until posted).
	Channel, MessageTS string
	// AcknowledgedBy is the Slack user id of who took over ("" until
	// someone did); AcknowledgedAt when.
	AcknowledgedBy string
	AcknowledgedAt time.Time
}

// Acknowledged reports whether someone took over.
func (r Record) Acknowledged() bool { return r.AcknowledgedBy != "" }

// Validate checks a record given to Store.RecordHandover.
func (r Record) Validate() error {
	v := opsbot.Validator{What: "handover"}
	v.Time("at", r.At)
	v.Required("by", r.By, opsbot.MaxIDLen)
	return v.Err()
}

// Run is a checklist run as the handover shows it.
type Run struct {
	Environment string
	// At is when it finished.
	At time.Time
	// AskedBy is the Slack user id that asked for it, ActorSchedule, or
	// "" when not known (runs saved before it was kept).
	AskedBy string
	// Status is the report's overall status (checks.Status's names: "ok",
	// "warn", "fail", "unknown"; "" when not known).
	Status string
	// Findings is how many findings it reported.
	Findings int
}

// Fingerprint is a finding the checklist saw for the first time.
type Fingerprint struct {
	Environment, Fingerprint, Title string
	FirstSeen                       time.Time
}

// OpenAnomaly is an anomaly still waiting for work.
type OpenAnomaly struct {
	triage.Anomaly
	// Age is how long it has been open.
	Age time.Duration
	// Owner is the Slack user id of who is looking (who opened it); ""
	// for an anomaly the bot opened.
	Owner string
}

// NearEscalation is an Intermittent anomaly seen again nearly often
// enough to be escalated.
type NearEscalation struct {
	triage.Anomaly
	// Sightings are its sightings within Window since its decision;
	// Threshold those that escalate it.
	Sightings, Threshold int
	Window               time.Duration
}

// View is the state of the rotation at a handover.
type View struct {
	// At is when it was read; Until when the next shift ends.
	At, Until time.Time
	// Since is when the last handover was made (zero when there was
	// none): Changes are from then on.
	Since time.Time
	// Previous is the last handover (nil when there was none).
	Previous *Record

	Anomalies      []OpenAnomaly
	Incidents      []incident.Incident
	Silences       []triage.Anomaly
	NearEscalation []NearEscalation
	// LastRun is the last checklist run (nil when there was none).
	LastRun *Run
	// New are the fingerprints first found since the last handover;
	// Resolved the anomalies closed since (by a decision that closes).
	New      []Fingerprint
	Resolved []triage.Anomaly
}

// Options say how to read the View.
type Options struct {
	// Store is required; Incidents is optional (no incidents without it).
	Store     Store
	Incidents Incidents
	// Recurrence is the triage service's policy: its threshold and
	// window say what is close to escalation.
	Recurrence triage.RecurrencePolicy
	// Near is how many sightings short of the threshold count as close
	// (default DefaultNear).
	Near int
}

// Build reads the View at now for a shift ending at until.
func Build(ctx context.Context, o Options, now, until time.Time) (View, error) {
	if o.Store == nil {
		return View{}, errors.New("handover: a store is required")
	}
	if o.Near <= 0 {
		o.Near = DefaultNear
	}
	p := o.Recurrence
	p.SetDefaults()
	v := View{At: now, Until: until}
	prev, ok, err := o.Store.LastHandover(ctx)
	if err != nil {
		return View{}, fmt.Errorf("handover: the last handover: %w", err)
	}
	since := now.Add(-DefaultShift)
	if ok {
		v.Previous, v.Since, since = &prev, prev.At, prev.At
	}

	open, err := o.Store.ListOpen(ctx, "")
	if err != nil {
		return View{}, fmt.Errorf("handover: open anomalies: %w", err)
	}
	for _, a := range open {
		owner := a.OpenedBy
		if owner == triage.ActorChecklist || owner == opsbot.ActorBot {
			owner = ""
		}
		v.Anomalies = append(v.Anomalies, OpenAnomaly{Anomaly: a, Age: max(now.Sub(a.OpenedAt), 0), Owner: owner})
	}
	if o.Incidents != nil {
		if v.Incidents, err = o.Incidents.ListOpen(ctx, ""); err != nil {
			return View{}, fmt.Errorf("handover: open incidents: %w", err)
		}
	}
	if v.Silences, err = o.Store.SilencesEnding(ctx, now, until); err != nil {
		return View{}, fmt.Errorf("handover: silences: %w", err)
	}
	if v.NearEscalation, err = nearEscalation(ctx, o.Store, p, o.Near, now); err != nil {
		return View{}, err
	}
	if r, ok, err := o.Store.LastRun(ctx); err != nil {
		return View{}, fmt.Errorf("handover: the last checklist: %w", err)
	} else if ok {
		v.LastRun = &r
	}
	if v.New, err = o.Store.NewFingerprints(ctx, since); err != nil {
		return View{}, fmt.Errorf("handover: new fingerprints: %w", err)
	}
	if v.Resolved, err = o.Store.ClosedSince(ctx, since); err != nil {
		return View{}, fmt.Errorf("handover: resolved anomalies: %w", err)
	}
	return v, nil
}

// nearEscalation lists the anomalies closed as Intermittent within the
// policy's window, not escalated, whose sightings since the decision
// within the window are at least 1 and fewer than the threshold by near
// or less.
func nearEscalation(ctx context.Context, s Store, p triage.RecurrencePolicy, near int, now time.Time) ([]NearEscalation, error) {
	closed, err := s.ClosedSince(ctx, now.Add(-time.Duration(p.Window)))
	if err != nil {
		return nil, fmt.Errorf("handover: Intermittent anomalies: %w", err)
	}
	var out []NearEscalation
	for _, a := range closed {
		if a.CurrentDecision() != triage.Intermittent || !a.EscalatedAt.IsZero() {
			continue
		}
		tl, err := s.Timeline(ctx, a.ID)
		if err != nil {
			return nil, fmt.Errorf("handover: the timeline of anomaly %d: %w", a.ID, err)
		}
		r := p.Evaluate(a, tl, now)
		if r.AlreadyEscalated || r.InWindow == 0 || r.InWindow >= r.Threshold || r.Threshold-r.InWindow > near {
			continue
		}
		out = append(out, NearEscalation{Anomaly: a, Sightings: r.InWindow, Threshold: r.Threshold, Window: r.Window})
	}
	return out, nil
}

// ShiftEnd is when the shift starting at at ends: the schedule's next
// occurrence after at when there is a schedule, else at plus shift
// (DefaultShift when not positive). A positive shift wins over the
// schedule.
func ShiftEnd(at time.Time, sched *schedule.Schedule, shift time.Duration) time.Time {
	switch {
	case shift > 0:
		return at.Add(shift)
	case sched != nil:
		if next := sched.Next(at); !next.IsZero() {
			return next
		}
	}
	return at.Add(DefaultShift)
}
