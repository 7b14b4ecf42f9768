package triage

import (
	"time"

	"github.com/opsbot/opsbot"
)

// DecisionRecord is one decision on an anomaly with what the runbook asks to
// write down for it.
type DecisionRecord struct {
	Decision Decision `json:"decision"`
	// Conclusion is what the investigation found, in a few sentences.
	// Required for every decision.
	Conclusion string `json:"conclusion"`
	// FiveWhys is the "five whys" analysis, free text; optional.
	FiveWhys string `json:"fiveWhys,omitempty"`
	// Ticket is the URL of the follow-up ticket. Required for Noise (the
	// noise must be eliminated); optional otherwise.
	Ticket string `json:"ticket,omitempty"`

	// UsersAffected (Serious only, required): how many users are affected and
	// how.
	UsersAffected string `json:"usersAffected,omitempty"`
	// Outage (Serious only): it is an outage; an incident must be announced.
	Outage bool `json:"outage,omitempty"`
	// ToCollect (NotEnoughInformation only, required): what extra
	// information to collect.
	ToCollect string `json:"toCollect,omitempty"`
	// Dashboard (Noise only, required): the URL of the dashboard that shows
	// it.
	Dashboard string `json:"dashboard,omitempty"`

	// DecidedBy is the Slack user id of who decided; DecidedAt is when.
	DecidedBy string    `json:"decidedBy"`
	DecidedAt time.Time `json:"decidedAt"`

	// Magnitude is the anomaly's Magnitude when the decision was recorded:
	// set by the store (what a caller gives is ignored). A finding that
	// grows to RecurrencePolicy.Growth times it is no longer covered by
	// the decision.
	Magnitude float64 `json:"magnitude,omitempty"`

	// Silence is the Alertmanager silence made for a Noise decision:
	// set by the store (Store.RecordSilence) after the decision was
	// recorded; what a caller gives to Decide is ignored. Nil when there
	// is none.
	Silence *SilenceMark `json:"silence,omitempty"`
}

// SilenceMark is a silence as a decision records it: its Alertmanager id
// and its end, the length it was made for, how often it was extended and,
// once opsbot saw it end, when and by whom.
type SilenceMark struct {
	ID     string    `json:"id"`
	EndsAt time.Time `json:"endsAt"`
	// Length is how long the silence was made for: what Extend adds. Zero
	// for a silence recorded without it.
	Length time.Duration `json:"length,omitempty"`
	// Extensions counts the times it was extended (Store.ChangeSilence).
	Extensions int `json:"extensions,omitempty"`
	// EndedAt is when opsbot saw it end: expired by EndedBy (a Slack user
	// id), or ran out (EndedBy opsbot.ActorBot). Zero while it stands.
	EndedAt time.Time `json:"endedAt,omitzero"`
	EndedBy string    `json:"endedBy,omitempty"`
}

// Ended reports whether opsbot saw the silence end.
func (m SilenceMark) Ended() bool { return !m.EndedAt.IsZero() }

// RanOut reports whether the silence ended by itself, not expired by a
// person.
func (m SilenceMark) RanOut() bool { return m.Ended() && m.EndedBy == opsbot.ActorBot }

// Validate checks a mark given to Store.RecordSilence.
func (m SilenceMark) Validate() error {
	v := opsbot.Validator{What: "silence"}
	v.Required("id", m.ID, opsbot.MaxIDLen)
	v.Time("endsAt", m.EndsAt)
	if m.Length < 0 {
		v.Add("length", "must not be negative, got %s", m.Length)
	}
	return v.Err()
}

// Normalized returns the record as a store keeps it: text cleaned
// (opsbot.CleanText), DecidedAt in UTC.
func (r DecisionRecord) Normalized() DecisionRecord {
	r.Conclusion = opsbot.CleanText(r.Conclusion)
	r.FiveWhys = opsbot.CleanText(r.FiveWhys)
	r.Ticket = opsbot.CleanText(r.Ticket)
	r.UsersAffected = opsbot.CleanText(r.UsersAffected)
	r.ToCollect = opsbot.CleanText(r.ToCollect)
	r.Dashboard = opsbot.CleanText(r.Dashboard)
	r.DecidedBy = opsbot.CleanText(r.DecidedBy)
	r.DecidedAt = r.DecidedAt.UTC()
	if r.Silence != nil {
		m := *r.Silence
		m.ID, m.EndsAt, m.EndedBy = opsbot.CleanText(m.ID), m.EndsAt.UTC(), opsbot.CleanText(m.EndedBy)
		if m.Ended() {
			m.EndedAt = m.EndedAt.UTC()
		}
		r.Silence = &m
	}
	return r
}

// Validate checks the record and returns a *opsbot.ValidationError listing every
// problem, by field:
//
//   - decision: one of the five;
//   - conclusion: required; every text at most MaxTextLen characters;
//   - ticket, dashboard: http(s) URLs;
//   - Serious needs usersAffected; NotEnoughInformation needs toCollect;
//     Noise needs dashboard and ticket;
//   - usersAffected and outage belong to Serious only, toCollect to
//     NotEnoughInformation only, dashboard to Noise only (a value given for
//     another decision is refused rather than silently dropped);
//   - decidedBy and decidedAt: required.
func (r DecisionRecord) Validate() error {
	v := opsbot.Validator{What: "decision"}
	if !r.Decision.valid() {
		v.Add("decision", "must be one of the five decisions, got %s", r.Decision)
	}
	v.Required("conclusion", r.Conclusion, MaxTextLen)
	v.Text("fiveWhys", r.FiveWhys, MaxTextLen)
	v.HTTPURL("ticket", r.Ticket)
	v.Text("usersAffected", r.UsersAffected, MaxTextLen)
	v.Text("toCollect", r.ToCollect, MaxTextLen)
	v.HTTPURL("dashboard", r.Dashboard)

	only := func(field string, set bool, d Decision) {
		if set && r.Decision != d && r.Decision.valid() {
			v.Add(field, "only for a %s decision, not %s", d.Label(), r.Decision.Label())
		}
	}
	only("usersAffected", r.UsersAffected != "", Serious)
	only("outage", r.Outage, Serious)
	only("toCollect", r.ToCollect != "", NotEnoughInformation)
	only("dashboard", r.Dashboard != "", Noise)

	switch r.Decision {
	case Serious:
		if r.UsersAffected == "" {
			v.Add("usersAffected", "required for a Serious decision: how many users are affected, and how")
		}
	case NotEnoughInformation:
		if r.ToCollect == "" {
			v.Add("toCollect", "required for a Not enough information decision: what extra information to collect")
		}
	case Noise:
		if r.Dashboard == "" {
			v.Add("dashboard", "required for a Noise decision: the dashboard that shows it")
		}
		if r.Ticket == "" {
			v.Add("ticket", "required for a Noise decision: the ticket to eliminate it")
		}
	}

	v.Required("decidedBy", r.DecidedBy, opsbot.MaxIDLen)
	v.Time("decidedAt", r.DecidedAt)
	return v.Err()
}
