package triage

import (
	"time"

	"github.com/opsbot/opsbot"
)

// Kind is what a timeline entry records.
type Kind string

// The kinds of timeline entries. Later features add kinds; readers should
// show an unknown kind rather than fail.
const (
	// KindOpened: the anomaly was opened (Actor: Anomaly.OpenedBy).
	KindOpened Kind = "opened"
	// KindThreadLinked: its Slack thread was recorded (Data.Channel,
	// Data.ThreadTS; Data.PreviousThreadTS when it replaced another).
	KindThreadLinked Kind = "thread_linked"
	// KindDecided: the first decision (Data.Decision).
	KindDecided Kind = "decided"
	// KindDecisionChanged: a later decision (Data.Decision) replaced
	// Data.Previous.
	KindDecisionChanged Kind = "decision_changed"
	// KindSeenAgain: the checklist saw it again (Data.SeenCount,
	// Data.Magnitude).
	KindSeenAgain Kind = "seen_again"
	// KindEscalated: it was reopened for a new decision (Data.Reason).
	KindEscalated Kind = "escalated"
	// KindSilenced: the current (Noise) decision's alerts were silenced
	// in Alertmanager (Data.Silence).
	KindSilenced Kind = "silenced"
	// KindSilenceExtended: the decision's silence was extended
	// (Data.Silence: the silence after, its Extensions counted).
	KindSilenceExtended Kind = "silence_extended"
	// KindSilenceExpired: a person expired the decision's silence
	// (Data.Silence, EndedBy the actor).
	KindSilenceExpired Kind = "silence_expired"
	// KindSilenceRanOut: opsbot saw the decision's silence had ended by
	// itself (Data.Silence, EndedBy opsbot.ActorBot).
	KindSilenceRanOut Kind = "silence_ran_out"
)

// TimelineEntry is one line of an anomaly's append-only history: who did what
// when.
type TimelineEntry struct {
	AnomalyID int64
	// Seq numbers an anomaly's entries 1, 2, 3...: it is the anomaly's
	// Version after the change the entry records.
	Seq   int64
	At    time.Time
	Actor string
	Kind  Kind
	Data  TimelineData
	// IdempotencyKey is the key of the call that wrote the entry ("" if none).
	IdempotencyKey string
}

// TimelineData is the payload of a timeline entry; which fields are set
// depends on the Kind. It is stored as JSON, so fields can be added.
type TimelineData struct {
	// Decision is the record of a decided or decision_changed entry.
	Decision *DecisionRecord `json:"decision,omitempty"`
	// Previous is the decision a decision_changed entry replaced.
	Previous Decision `json:"previous,omitempty"`

	// Channel and ThreadTS: the thread of a thread_linked entry; the previous
	// thread when it replaced one.
	Channel          string `json:"channel,omitempty"`
	ThreadTS         string `json:"threadTs,omitempty"`
	PreviousChannel  string `json:"previousChannel,omitempty"`
	PreviousThreadTS string `json:"previousThreadTs,omitempty"`

	// SeenCount is the anomaly's SeenCount after a seen_again entry.
	SeenCount int64 `json:"seenCount,omitempty"`
	// Magnitude is the finding's magnitude at an opened or seen_again
	// entry (0: none).
	Magnitude float64 `json:"magnitude,omitempty"`

	// Reason says why an escalated entry escalated ("seen 3 times in 7d").
	Reason string `json:"reason,omitempty"`

	// Silence is the silence of a silenced, silence_extended,
	// silence_expired or silence_ran_out entry, as it is after it.
	Silence *SilenceMark `json:"silence,omitempty"`
}

// Escalation is a request to reopen an anomaly for a new decision.
type Escalation struct {
	At time.Time
	// Actor is opsbot.ActorBot for the automatic recurrence rule, or a Slack user id.
	Actor string
	// Reason is shown to people: Recurrence.String() for the automatic rule.
	Reason string
}

// Normalized returns the escalation with text cleaned and At in UTC.
func (e Escalation) Normalized() Escalation {
	return Escalation{At: e.At.UTC(), Actor: opsbot.CleanText(e.Actor), Reason: opsbot.CleanText(e.Reason)}
}

// Validate checks an escalation: At, Actor and Reason are required.
func (e Escalation) Validate() error {
	v := opsbot.Validator{What: "escalation"}
	v.Time("at", e.At)
	v.Required("actor", e.Actor, opsbot.MaxIDLen)
	v.Required("reason", e.Reason, MaxTextLen)
	return v.Err()
}
