// Package noise is the noise report: which fingerprints the checklist saw
// most often over a period and what was decided about them, the alerts
// that fired in the most checklists, the anomalies still waiting for a
// decision, the silences of decisions that match no alert any more or
// were extended again and again, the mis-triage rate (anomalies decided
// Noise or Intermittent that later became Serious or an incident) and the
// sightings per day. It reads the store through Store and the
// environments' Alertmanagers through Alertmanager, ports it owns;
// `/ops noise` and `opsbot noise` render the same Report.
//
// Days are UTC days: a period of N days starts at midnight UTC N-1 days
// before now and ends now.
package noise

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/triage"
)

// Limits of the report.
const (
	// MaxDays is the longest period a report covers.
	MaxDays = 90
	// DefaultDays is the period when none is asked for.
	DefaultDays = 7
	// TopFingerprints is how many of the most-seen fingerprints are listed.
	TopFingerprints = 10
	// TopAlerts is how many of the alerts that fired most are listed.
	TopAlerts = 10
	// ExtendedAgain is how many extensions make a silence "extended again
	// and again".
	ExtendedAgain = 2
)

// The sources of the alerts that fired (FiredAlert.Source).
const (
	// SourceAlertmanager: the alerts check, which asks Alertmanager.
	SourceAlertmanager = "alertmanager"
	// SourceAlertsChannel: the alerts channel check, which reads the
	// alerts Alertmanager posted in Slack.
	SourceAlertsChannel = "alertsChannel"
)

// AlertSource is the source of a finding's fingerprint: SourceAlertmanager
// for the alerts check's ("alerts/..."), SourceAlertsChannel for the
// alerts channel check's alerts ("alertschannel/alert/..."), "" for any
// other.
func AlertSource(fingerprint string) string {
	switch {
	case strings.HasPrefix(fingerprint, "alerts/"):
		return SourceAlertmanager
	case strings.HasPrefix(fingerprint, "alertschannel/alert/"):
		return SourceAlertsChannel
	}
	return ""
}

// SourceLabel is how people read an alert's source: "Alertmanager",
// "alerts channel".
func SourceLabel(source string) string {
	switch source {
	case SourceAlertmanager:
		return "Alertmanager"
	case SourceAlertsChannel:
		return "alerts channel"
	}
	return source
}

// Alertmanager is what the report asks an environment's Alertmanager
// (silence.Client): a silence by id, and how many alerts match matchers.
type Alertmanager interface {
	// Get returns the silence with the given id, whatever its state.
	Get(ctx context.Context, id string) (triage.Silence, error)
	// AlertsMatching counts the alerts Alertmanager has (firing,
	// silenced or inhibited) that every one of ms matches.
	AlertsMatching(ctx context.Context, ms []triage.Matcher) (int, error)
}

// Store is what the report reads. A sighting is an anomaly's opened or
// seen_again timeline entry.
type Store interface {
	// FingerprintSightings counts the sightings at or after since and at
	// or before until, per (environment, fingerprint): most first (ties by
	// environment, then fingerprint), at most limit of them.
	FingerprintSightings(ctx context.Context, since, until time.Time, limit int) ([]FingerprintCount, error)
	// SightingsPerDay counts the same sightings per UTC day, days without
	// any left out, in order.
	SightingsPerDay(ctx context.Context, since, until time.Time) ([]DayCount, error)
	// DecisionEntries returns the decided and decision_changed timeline
	// entries at or after since and at or before until, by anomaly then
	// Seq.
	DecisionEntries(ctx context.Context, since, until time.Time) ([]triage.TimelineEntry, error)
	// AnomalyIncidents returns the incidents announced from an anomaly
	// at or after since and at or before until, in order of announcement.
	AnomalyIncidents(ctx context.Context, since, until time.Time) ([]AnomalyIncident, error)
	// Get returns anomaly id.
	Get(ctx context.Context, id int64) (triage.Anomaly, error)
	// ListOpen returns the open anomalies of env ("" for every one).
	ListOpen(ctx context.Context, env string) ([]triage.Anomaly, error)
	// AlertFindings counts, per (environment, fingerprint), the checklist
	// runs started at or after since and at or before until with a
	// finding of an alert (AlertSource not ""): most first (ties by
	// environment, then fingerprint), at most limit of them, each with
	// its latest such finding.
	AlertFindings(ctx context.Context, since, until time.Time, limit int) ([]AlertCount, error)
	// DecisionSilences returns the anomalies whose current decision
	// records a silence, by id.
	DecisionSilences(ctx context.Context) ([]triage.Anomaly, error)
}

// AlertCount is how many checklist runs found one alert firing.
type AlertCount struct {
	Environment, Fingerprint string
	Runs                     int
	// Latest is the alert's finding in the latest of those runs.
	Latest checks.Finding
}

// FingerprintCount is how often one fingerprint was seen, with the most
// recent of its anomalies seen in the period.
type FingerprintCount struct {
	Environment, Fingerprint string
	Sightings                int
	LatestAnomalyID          int64
}

// DayCount is the sightings of one UTC day (Day is its midnight).
type DayCount struct {
	Day       time.Time `json:"day"`
	Sightings int       `json:"sightings"`
}

// AnomalyIncident is an incident announced from an anomaly.
type AnomalyIncident struct {
	AnomalyID, IncidentID int64
	AnnouncedAt           time.Time
}

// Report is the noise report of a period.
type Report struct {
	// Since and Until bound the period (both included); Days is its
	// length in UTC days.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	Days  int       `json:"days"`
	// Sightings is the number of sightings in the period; PerDay splits
	// them by UTC day, every day of the period listed.
	Sightings int        `json:"sightings"`
	PerDay    []DayCount `json:"perDay"`
	// Top lists the most-seen fingerprints, most first.
	Top []Fingerprint `json:"top"`
	// Alerts lists the alerts that fired in the most checklist runs of
	// the period, most first.
	Alerts []FiredAlert `json:"alerts"`
	// Undecided lists the open anomalies without a decision, oldest first.
	Undecided []Undecided `json:"undecided"`
	// Mistriage is the mis-triage rate of the period.
	Mistriage Mistriage `json:"mistriage"`
	// StaleSilences lists the active silences of decisions whose
	// matchers match no alert Alertmanager has any more, by anomaly.
	StaleSilences []SilenceLine `json:"staleSilences"`
	// ExtendedSilences lists the silences of decisions extended at least
	// ExtendedAgain times, standing or ended in the period, by anomaly.
	ExtendedSilences []SilenceLine `json:"extendedSilences"`
	// SilencesUnchecked says, per environment, why its decisions'
	// silences could not be checked against its Alertmanager (none
	// configured, or an error); empty when all were.
	SilencesUnchecked []string `json:"silencesUnchecked,omitempty"`
}

// FiredAlert is an alert that fired in some of the period's checklist
// runs.
type FiredAlert struct {
	Environment string `json:"environment"`
	// Source is SourceAlertmanager or SourceAlertsChannel.
	Source      string `json:"source"`
	Fingerprint string `json:"fingerprint"`
	Title       string `json:"title"`
	// Runs counts the checklist runs that found it firing.
	Runs int `json:"runs"`
	// Count is how many alerts (or posts, in the alerts channel) its
	// latest finding counted; 0 when it did not count.
	Count int `json:"count"`
}

// SilenceLine is the silence of an anomaly's decision.
type SilenceLine struct {
	AnomalyID   int64     `json:"anomalyId"`
	Environment string    `json:"environment"`
	Title       string    `json:"title"`
	SilenceID   string    `json:"silenceId"`
	EndsAt      time.Time `json:"endsAt"`
	Extensions  int       `json:"extensions"`
	// Matchers are the silence's matchers in Alertmanager's syntax, comma
	// separated; for stale silences only (from Alertmanager).
	Matchers string `json:"matchers,omitempty"`
}

// Fingerprint is one of the most-seen fingerprints, with its latest
// anomaly and that anomaly's current decision.
type Fingerprint struct {
	Environment string `json:"environment"`
	Fingerprint string `json:"fingerprint"`
	Sightings   int    `json:"sightings"`
	AnomalyID   int64  `json:"anomalyId"`
	Title       string `json:"title"`
	// Decision is the decision's key ("noise"); "" when undecided.
	Decision  string `json:"decision"`
	DecidedBy string `json:"decidedBy,omitempty"`
	Ticket    string `json:"ticket,omitempty"`
}

// Undecided is an open anomaly without a decision.
type Undecided struct {
	AnomalyID   int64     `json:"anomalyId"`
	Environment string    `json:"environment"`
	Title       string    `json:"title"`
	OpenedAt    time.Time `json:"openedAt"`
	SeenCount   int64     `json:"seenCount"`
}

// Mistriage counts the anomalies decided Noise or Intermittent in the
// period (Decided) and those of them that became Serious or an incident
// after that decision (Anomalies).
type Mistriage struct {
	Decided   int          `json:"decided"`
	Anomalies []Mistriaged `json:"anomalies"`
	// Rate is len(Anomalies) / Decided, 0 when nothing was decided.
	Rate float64 `json:"rate"`
}

// Mistriaged is an anomaly decided Noise or Intermittent that later
// became Serious (Became "serious") or an incident (Became "incident",
// IncidentID set).
type Mistriaged struct {
	AnomalyID int64 `json:"anomalyId"`
	// From is the key of the Noise or Intermittent decision.
	From       string    `json:"from"`
	Became     string    `json:"became"`
	IncidentID int64     `json:"incidentId,omitempty"`
	At         time.Time `json:"at"`
}

// What a mis-triaged anomaly became.
const (
	BecameSerious  = "serious"
	BecameIncident = "incident"
)

// Since is the start of a period of days UTC days ending at now: midnight
// UTC days-1 days before now's day.
func Since(days int, now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(days - 1))
}

// CheckDays checks a period asked for: 1 to MaxDays days.
func CheckDays(days int) error {
	if days < 1 || days > MaxDays {
		return fmt.Errorf("the period must be 1 to %d days, got %d", MaxDays, days)
	}
	return nil
}

// Build is the report of the period of days UTC days ending at now. ams
// are the environments' Alertmanagers, asked whether the decisions'
// silences still match alerts; an environment without one is said
// unchecked (Report.SilencesUnchecked).
func Build(ctx context.Context, s Store, ams map[string]Alertmanager, days int, now time.Time) (Report, error) {
	if err := CheckDays(days); err != nil {
		return Report{}, err
	}
	return build(ctx, s, ams, Since(days, now), now.UTC())
}

func build(ctx context.Context, s Store, ams map[string]Alertmanager, since, until time.Time) (Report, error) {
	r := Report{Since: since, Until: until}
	perDay, err := s.SightingsPerDay(ctx, since, until)
	if err != nil {
		return Report{}, fmt.Errorf("noise report: sightings per day: %w", err)
	}
	counts := make(map[time.Time]int, len(perDay))
	for _, d := range perDay {
		counts[d.Day.UTC()] = d.Sightings
		r.Sightings += d.Sightings
	}
	for day := since; !day.After(until); day = day.AddDate(0, 0, 1) {
		r.PerDay = append(r.PerDay, DayCount{Day: day, Sightings: counts[day]})
	}
	r.Days = len(r.PerDay)

	top, err := s.FingerprintSightings(ctx, since, until, TopFingerprints)
	if err != nil {
		return Report{}, fmt.Errorf("noise report: most-seen fingerprints: %w", err)
	}
	r.Top = make([]Fingerprint, 0, len(top))
	for _, c := range top {
		a, err := s.Get(ctx, c.LatestAnomalyID)
		if err != nil {
			return Report{}, fmt.Errorf("noise report: %w", err)
		}
		f := Fingerprint{Environment: c.Environment, Fingerprint: c.Fingerprint, Sightings: c.Sightings,
			AnomalyID: a.ID, Title: a.Title}
		if a.Decision != nil {
			f.Decision, f.DecidedBy, f.Ticket = a.Decision.Decision.String(), a.Decision.DecidedBy, a.Decision.Ticket
		}
		r.Top = append(r.Top, f)
	}

	open, err := s.ListOpen(ctx, "")
	if err != nil {
		return Report{}, fmt.Errorf("noise report: open anomalies: %w", err)
	}
	r.Undecided = []Undecided{}
	for _, a := range open {
		if a.Decision == nil {
			r.Undecided = append(r.Undecided, Undecided{AnomalyID: a.ID, Environment: a.Environment,
				Title: a.Title, OpenedAt: a.OpenedAt, SeenCount: a.SeenCount})
		}
	}
	slices.SortStableFunc(r.Undecided, func(a, b Undecided) int {
		if c := a.OpenedAt.Compare(b.OpenedAt); c != 0 {
			return c
		}
		return int(a.AnomalyID - b.AnomalyID)
	})

	entries, err := s.DecisionEntries(ctx, since, until)
	if err != nil {
		return Report{}, fmt.Errorf("noise report: decisions: %w", err)
	}
	incidents, err := s.AnomalyIncidents(ctx, since, until)
	if err != nil {
		return Report{}, fmt.Errorf("noise report: incidents: %w", err)
	}
	r.Mistriage = mistriage(entries, incidents)

	fired, err := s.AlertFindings(ctx, since, until, TopAlerts)
	if err != nil {
		return Report{}, fmt.Errorf("noise report: alerts: %w", err)
	}
	r.Alerts = make([]FiredAlert, 0, len(fired))
	for _, c := range fired {
		r.Alerts = append(r.Alerts, FiredAlert{Environment: c.Environment, Source: AlertSource(c.Fingerprint),
			Fingerprint: c.Fingerprint, Title: c.Latest.Title, Runs: c.Runs, Count: c.Latest.Count})
	}

	silenced, err := s.DecisionSilences(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("noise report: silences: %w", err)
	}
	r.StaleSilences, r.ExtendedSilences, r.SilencesUnchecked = silences(ctx, silenced, ams, since, until)
	return r, nil
}

// silences finds, among the anomalies whose decision records a silence,
// the active silences that match no alert (asking each environment's
// Alertmanager about those recorded to end after now: the others ran out)
// and those extended ExtendedAgain times or more (standing, or ended at or
// after since); and says which environments could not be asked, and why.
func silences(ctx context.Context, anomalies []triage.Anomaly, ams map[string]Alertmanager, since, now time.Time) (stale, extended []SilenceLine, unchecked []string) {
	stale, extended = []SilenceLine{}, []SilenceLine{}
	problems := map[string]string{}
	for _, a := range anomalies {
		m := a.Decision.Silence
		line := SilenceLine{AnomalyID: a.ID, Environment: a.Environment, Title: a.Title, SilenceID: m.ID,
			EndsAt: m.EndsAt, Extensions: m.Extensions}
		if m.Extensions >= ExtendedAgain && (!m.Ended() || !m.EndedAt.Before(since)) {
			extended = append(extended, line)
		}
		if m.Ended() || !m.EndsAt.After(now) || problems[a.Environment] != "" {
			continue
		}
		am := ams[a.Environment]
		if am == nil {
			problems[a.Environment] = "no Alertmanager configured"
			continue
		}
		sil, err := am.Get(ctx, m.ID)
		switch {
		case errors.Is(err, opsbot.ErrNotFound):
			continue // no longer in Alertmanager: it matches nothing, and silences nothing
		case err != nil:
			problems[a.Environment] = err.Error()
			continue
		}
		if sil.State != triage.SilenceActive {
			continue // ended in Alertmanager, or not started
		}
		n, err := am.AlertsMatching(ctx, sil.Matchers)
		if err != nil {
			problems[a.Environment] = err.Error()
			continue
		}
		if n == 0 {
			ms := make([]string, len(sil.Matchers))
			for i, x := range sil.Matchers {
				ms[i] = x.String()
			}
			line.Matchers = strings.Join(ms, ", ")
			stale = append(stale, line)
		}
	}
	for _, env := range slices.Sorted(maps.Keys(problems)) {
		unchecked = append(unchecked, env+": "+problems[env])
	}
	return stale, extended, unchecked
}

// mistriage finds, for each anomaly decided Noise or Intermittent in
// entries, the first later Serious decision or incident.
func mistriage(entries []triage.TimelineEntry, incidents []AnomalyIncident) Mistriage {
	type pending struct {
		from triage.Decision
		at   time.Time
		seq  int64
	}
	first := map[int64]pending{} // the first Noise or Intermittent decision of each anomaly
	var order []int64
	became := map[int64]Mistriaged{}
	for _, e := range entries {
		if e.Data.Decision == nil {
			continue
		}
		d := e.Data.Decision.Decision
		p, seen := first[e.AnomalyID]
		switch {
		case !seen && (d == triage.Noise || d == triage.Intermittent):
			first[e.AnomalyID] = pending{from: d, at: e.At, seq: e.Seq}
			order = append(order, e.AnomalyID)
		case seen && d == triage.Serious && e.Seq > p.seq:
			if _, done := became[e.AnomalyID]; !done {
				became[e.AnomalyID] = Mistriaged{AnomalyID: e.AnomalyID, From: p.from.String(), Became: BecameSerious, At: e.At}
			}
		}
	}
	for _, in := range incidents {
		p, seen := first[in.AnomalyID]
		if !seen || in.AnnouncedAt.Before(p.at) {
			continue
		}
		if m, done := became[in.AnomalyID]; !done || in.AnnouncedAt.Before(m.At) {
			became[in.AnomalyID] = Mistriaged{AnomalyID: in.AnomalyID, From: p.from.String(), Became: BecameIncident,
				IncidentID: in.IncidentID, At: in.AnnouncedAt}
		}
	}
	m := Mistriage{Decided: len(order), Anomalies: []Mistriaged{}}
	for _, id := range order {
		if b, ok := became[id]; ok {
			m.Anomalies = append(m.Anomalies, b)
		}
	}
	if m.Decided > 0 {
		m.Rate = float64(len(m.Anomalies)) / float64(m.Decided)
	}
	return m
}

// sparks are the bars of Sparkline, lowest first.
var sparks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws the sightings per day as one bar each, scaled to the
// busiest day: a day without sightings is the lowest bar, the busiest the
// highest.
func Sparkline(days []DayCount) string {
	top := 0
	for _, d := range days {
		top = max(top, d.Sightings)
	}
	out := make([]rune, len(days))
	for i, d := range days {
		out[i] = sparks[0]
		if d.Sightings > 0 {
			out[i] = sparks[1+(d.Sightings*(len(sparks)-1)-1)/top]
		}
	}
	return string(out)
}

// DecisionLabel is the label of a decision's key ("noise": "Noise"), and
// "undecided" for "".
func DecisionLabel(key string) string {
	if key == "" {
		return "undecided"
	}
	d, err := triage.ParseDecision(key)
	if err != nil {
		return key
	}
	return d.Label()
}
