package triage

import (
	"context"
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
)

// Errors returned by stores, matched with errors.Is. Invalid input is a
// *opsbot.ValidationError (errors.Is(err, opsbot.ErrInvalid)).
var (
	// ErrNotFound: no such anomaly.
	ErrNotFound = fmt.Errorf("anomaly %w", opsbot.ErrNotFound)
)

// Store keeps anomalies and their timelines. It is implemented by
// store/sqlite and store/postgres, and checked by store/storetest.
//
// Every write is one transaction that changes the anomaly, bumps its Version
// and appends exactly one timeline entry, or changes nothing. Writes to one
// anomaly are serialized: when two people decide at once, both decisions are
// on the timeline and the anomaly ends equal to the later one.
//
// Writes take an idempotency key (a Slack envelope id, view id or action ts;
// prefix it with the operation, e.g. "decide:"+viewID). A call repeated with
// the same key changes nothing more and returns the anomaly as it is now.
// A key already used by a different operation or anomaly is opsbot.ErrConflict.
// The empty key means "not idempotent".
//
// Inputs are validated before anything is written; text is kept as
// Normalized says.
type Store interface {
	HistoryStore
	TipStore

	// OpenAnomaly opens an investigation of a. If an anomaly with the same
	// environment and fingerprint is open, it is returned with created false
	// (nothing is written), so "Investigate" clicked twice leads to the same
	// thread. A repeated key returns the anomaly its first call opened, with
	// created true: post the thread when ThreadTS is empty, whatever created
	// says. Only the fields listed in Anomaly.Normalized are read from a.
	OpenAnomaly(ctx context.Context, a Anomaly, key string) (_ Anomaly, created bool, _ error)

	// LinkThread records the Slack thread of the investigation, only while
	// none is linked: it returns the anomaly with the thread it has, so a
	// caller whose thread lost a race (two replicas posting at once) sees
	// the winner's and removes its own. Linking the thread already recorded
	// changes nothing.
	LinkThread(ctx context.Context, id int64, channel, threadTS, key string) (Anomaly, error)

	// Decide records a decision: a decided entry (or decision_changed, with
	// the previous decision) and the anomaly's new current decision and
	// state. The decision records the anomaly's Magnitude then
	// (DecisionRecord.Magnitude). A decision that would reopen the anomaly while another one with
	// its fingerprint is open is opsbot.ErrConflict.
	Decide(ctx context.Context, id int64, rec DecisionRecord, key string) (Anomaly, error)

	// RecordSilence records silence m on the anomaly's current decision,
	// which must be Noise (else opsbot.ErrConflict), with a silenced
	// timeline entry by actor at at. Recording the mark the decision
	// already has changes nothing. Decide clears it: a new decision has
	// no silence.
	RecordSilence(ctx context.Context, id int64, m SilenceMark, actor string, at time.Time, key string) (Anomaly, error)

	// ChangeSilence records a change to the silence on the anomaly's
	// current decision (SilenceChange), with a timeline entry of c.Kind
	// by actor at at. The decision's silence must be c.From and, to be
	// extended, must not have ended (else opsbot.ErrConflict); a silence
	// already ended is left as it is by an expiry or a run-out.
	ChangeSilence(ctx context.Context, id int64, c SilenceChange, actor string, at time.Time, key string) (Anomaly, error)

	// KeyUsed reports whether a write with idempotency key key was
	// recorded: a Slack delivery handled before, by this replica or
	// another, before a restart or not. The empty key is never used.
	KeyUsed(ctx context.Context, key string) (bool, error)

	// RecordSighting records that the checklist saw (env, fingerprint) again
	// at the given time, magnitude big (Magnitude): on the open anomaly
	// with that fingerprint, or else the most recent one. The anomaly's
	// Magnitude becomes the latest sighting's (by time). found is false
	// (and nothing is written) when no anomaly has that fingerprint.
	RecordSighting(ctx context.Context, env, fingerprint string, magnitude float64, at time.Time, key string) (_ Anomaly, found bool, _ error)

	// Escalate reopens the anomaly for a new decision, keeping its current
	// one, and records why. Like Decide, it is opsbot.ErrConflict when another
	// anomaly with the same fingerprint is open. The escalation is pending
	// (EscalationPending) until EndEscalationPost says it was posted.
	Escalate(ctx context.Context, id int64, e Escalation, key string) (Anomaly, error)

	// PendingEscalations returns the anomalies of env (of every environment
	// when env is "") whose escalation is pending, oldest first.
	PendingEscalations(ctx context.Context, env string) ([]Anomaly, error)

	// TakeEscalation takes the posting of anomaly id's pending escalation
	// for holder until until, and reports whether it did: not when nothing
	// is pending, nor while another holder's lease runs (at now). Of any
	// number of replicas taking it at once, one gets true.
	TakeEscalation(ctx context.Context, id int64, holder string, now, until time.Time) (bool, error)

	// EndEscalationPost ends holder's lease on anomaly id's escalation:
	// posted, it is no longer pending; not posted, anyone may take it again.
	// A holder that no longer holds the lease changes nothing.
	//
	// The bookkeeping of posting (TakeEscalation, EndEscalationPost) is not
	// a change of the anomaly: neither bumps Version nor appends to the
	// timeline.
	EndEscalationPost(ctx context.Context, id int64, holder string, posted bool) error

	// Get returns one anomaly.
	Get(ctx context.Context, id int64) (Anomaly, error)
	// FindOpen returns the open anomaly with this environment and
	// fingerprint, or ErrNotFound.
	FindOpen(ctx context.Context, env, fingerprint string) (Anomaly, error)
	// ListOpen returns the open anomalies of env (of every environment when
	// env is ""), oldest first.
	ListOpen(ctx context.Context, env string) ([]Anomaly, error)
	// Timeline returns the anomaly's timeline in order (by Seq).
	Timeline(ctx context.Context, id int64) ([]TimelineEntry, error)
}
