package triage

import (
	"math"
	"time"

	"github.com/opsbot/opsbot"
)

// State says whether an anomaly still needs someone's attention.
type State string

// The states of an anomaly. See the package documentation for when an
// anomaly is open.
const (
	Open   State = "open"
	Closed State = "closed"
)

// Source says how an anomaly was found.
type Source string

// The sources of anomalies.
const (
	// SourceChecklist: a finding of the daily checklist.
	SourceChecklist Source = "checklist"
	// SourceManual: reported by a person (`/ops investigate ...`).
	SourceManual Source = "manual"
)

// Actors recorded on the timeline for what the bot does by itself (Slack
// user ids are recorded for what people do).
const (
	// ActorChecklist is the checklist reporting a sighting.
	ActorChecklist = "checklist"
)

// Anomaly is one thing that looked wrong, and its investigation.
type Anomaly struct {
	// ID is assigned by the store: small increasing numbers people can quote
	// ("anomaly #42").
	ID int64

	// Environment ("prod") and Fingerprint (checks.Fingerprint: check, object,
	// reason) identify what was seen; at most one anomaly per pair is open.
	Environment string
	Fingerprint string
	// Title is one line: what is wrong. Detail is a few lines of evidence.
	Title  string
	Detail string
	// Link points at where to look (Grafana, Alertmanager, logs).
	Link string
	// Labels identify the alerts of an anomaly found by the alerts check
	// (checks.Finding.Labels): what a silence of it matches. Nil for
	// other anomalies.
	Labels map[string]string
	// Source: SourceChecklist or SourceManual.
	Source Source
	// OpenedBy is the Slack user id of whoever clicked "Investigate" (or
	// ActorChecklist). OpenedAt is when.
	OpenedBy string
	OpenedAt time.Time

	// Channel and ThreadTS locate the Slack thread of the investigation; empty
	// until the bot has posted it (Store.LinkThread).
	Channel  string
	ThreadTS string

	// State is Open or Closed; the store derives it (see the package
	// documentation).
	State State
	// Decision is the current decision, nil until the first one. Every
	// decision, including replaced ones, is on the timeline.
	Decision *DecisionRecord
	// EscalatedAt is when the anomaly was last escalated after its current
	// decision (it reopened it); zero if it was not. A new decision clears it.
	EscalatedAt time.Time
	// EscalationPending: the escalation's mention is not posted in the
	// thread yet (Store.TakeEscalation). A new decision clears it.
	EscalationPending bool

	// Version increases by one with every change; it equals the Seq of the
	// anomaly's latest timeline entry.
	Version int64

	// SeenCount is how many times the anomaly was seen, its opening included;
	// LastSeenAt is the latest of those times.
	SeenCount  int64
	LastSeenAt time.Time
	// Magnitude is how big the finding was when last seen (its
	// checks.Finding.Count: log lines of a signature, pods, alerts,
	// series), from the opening or the latest sighting; 0 when it has none.
	// The decision records it (DecisionRecord.Magnitude), so that a finding
	// that grows past it is reported as new again.
	Magnitude float64
}

// CurrentDecision returns the current decision, or 0 when there is none.
func (a Anomaly) CurrentDecision() Decision {
	if a.Decision == nil {
		return 0
	}
	return a.Decision.Decision
}

// HasThread reports whether the anomaly's Slack thread was recorded.
func (a Anomaly) HasThread() bool { return a.Channel != "" && a.ThreadTS != "" }

// StateFor is the state of an anomaly with decision d (0: none) that was, or
// was not, escalated after it.
func StateFor(d Decision, escalated bool) State {
	if d.Closes() && !escalated {
		return Closed
	}
	return Open
}

// Normalized returns the anomaly's caller-supplied fields as a store keeps
// them: text cleaned (opsbot.CleanText), times in UTC. Store-owned fields (ID,
// State, Decision, EscalatedAt, EscalationPending, Version, SeenCount, LastSeenAt, Channel,
// ThreadTS) are reset: stores set them. Magnitude is kept: it is the
// finding's at the opening.
func (a Anomaly) Normalized() Anomaly {
	return Anomaly{
		Environment: opsbot.CleanText(a.Environment),
		Fingerprint: opsbot.CleanText(a.Fingerprint),
		Title:       opsbot.CleanText(a.Title),
		Detail:      opsbot.CleanText(a.Detail),
		Link:        opsbot.CleanText(a.Link),
		Labels:      normalizedLabels(a.Labels),
		Source:      Source(opsbot.CleanText(string(a.Source))),
		OpenedBy:    opsbot.CleanText(a.OpenedBy),
		OpenedAt:    a.OpenedAt.UTC(),
		Magnitude:   a.Magnitude,
	}
}

// Validate checks the fields a caller gives to Store.OpenAnomaly.
func (a Anomaly) Validate() error {
	v := opsbot.Validator{What: "anomaly"}
	v.Required("environment", a.Environment, opsbot.MaxIDLen)
	v.Required("fingerprint", a.Fingerprint, MaxFingerprintLen)
	v.Required("title", a.Title, MaxTitleLen)
	v.Text("detail", a.Detail, MaxTextLen)
	v.HTTPURL("link", a.Link)
	if len(a.Labels) > MaxLabels {
		v.Add("labels", "at most %d labels, got %d", MaxLabels, len(a.Labels))
	}
	for name, value := range a.Labels {
		v.Required("labels", name, opsbot.MaxIDLen)
		v.Text("labels."+name, value, MaxTextLen)
	}
	if a.Source != SourceChecklist && a.Source != SourceManual {
		v.Add("source", "must be %q or %q, got %q", SourceChecklist, SourceManual, a.Source)
	}
	v.Required("openedBy", a.OpenedBy, opsbot.MaxIDLen)
	v.Time("openedAt", a.OpenedAt)
	validateMagnitude(&v, a.Magnitude)
	return v.Err()
}

// MaxLabels bounds an anomaly's labels.
const MaxLabels = 64

// normalizedLabels returns labels with names and values cleaned
// (opsbot.CleanText), empty values left out; nil when none is left.
func normalizedLabels(labels map[string]string) map[string]string {
	var out map[string]string
	for name, value := range labels {
		name, value = opsbot.CleanText(name), opsbot.CleanText(value)
		if value == "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = value
	}
	return out
}

// validateMagnitude checks a finding's magnitude: finite, not negative.
func validateMagnitude(v *opsbot.Validator, m float64) {
	if m < 0 || math.IsNaN(m) || math.IsInf(m, 0) {
		v.Add("magnitude", "must be a finite number, 0 or more, got %v", m)
	}
}

// ValidateThread checks the arguments of Store.LinkThread.
func ValidateThread(channel, ts string) error {
	v := opsbot.Validator{What: "thread"}
	v.Required("channel", channel, opsbot.MaxIDLen)
	v.Required("threadTs", ts, opsbot.MaxIDLen)
	return v.Err()
}

// ValidateSighting checks the arguments of Store.RecordSighting.
func ValidateSighting(env, fingerprint string, magnitude float64, at time.Time) error {
	v := opsbot.Validator{What: "sighting"}
	v.Required("environment", env, opsbot.MaxIDLen)
	v.Required("fingerprint", fingerprint, MaxFingerprintLen)
	validateMagnitude(&v, magnitude)
	v.Time("at", at)
	return v.Err()
}
