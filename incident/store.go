package incident

import (
	"context"
	"time"
)

// Store keeps incidents and their timelines. It is implemented by the
// store package (store/sqlite, store/postgres: db.Incidents()) and checked
// by store/storetest.
//
// Every write is one transaction that changes the incident, bumps its
// Version and appends exactly one timeline entry, or changes nothing.
// Writes to one incident are serialized.
//
// Writes take an idempotency key (a Slack view id or action ts, prefixed
// with the operation: "announce:"+viewID). A call repeated with the same key
// writes nothing more and returns the incident as it is now, with created
// or changed true, as the first call said: "this key did it, carry on with
// the next steps". A key already used for another operation or incident is
// opsbot.ErrConflict. The empty key means "not idempotent".
//
// Inputs are validated (with the store's clock for "not in the future")
// before anything is written.
type Store interface {
	// Announce records a new incident (state open, status page pending
	// when inc.StatusPage.Enabled). Only the fields listed in
	// Incident.Normalized are read. If inc links an anomaly that already
	// has an open incident, that one is returned with created false and
	// nothing is written: announcing twice from one anomaly leads to one
	// incident. A linked anomaly must exist (a *opsbot.ValidationError on
	// "anomalyId" otherwise).
	Announce(ctx context.Context, inc Incident, key string) (_ Incident, created bool, _ error)

	// SetMessage records the announcement's channel, ts and text as
	// posted (a message_posted entry). Recording the same message again
	// changes nothing; another message when one is recorded is opsbot.ErrConflict
	// (the first one posted stays the incident's).
	SetMessage(ctx context.Context, id int64, channel, ts, text, key string) (Incident, error)

	// SetMessageResolved records that the announcement of a resolved
	// incident was edited to show the resolution, with the text it shows
	// (a message_edited entry; MessageResolved). Recording it again
	// changes nothing; an open incident, or one without a message, is
	// opsbot.ErrConflict.
	SetMessageResolved(ctx context.Context, id int64, text, key string) (Incident, error)

	// AddUpdate appends an update (an updated entry); u.IncidentID is
	// ignored, u.Seq is assigned. Updating a resolved incident is
	// opsbot.ErrConflict. A repeated key returns the update its first call added.
	AddUpdate(ctx context.Context, id int64, u Update, key string) (Incident, Update, error)

	// SetStatusPage records the outcome of a status page call (one
	// statuspage_* entry) and the incident's StatusPage that follows from
	// it (StatusPage.Apply). An event that changes nothing writes nothing.
	SetStatusPage(ctx context.Context, id int64, ev StatusPageEvent, key string) (Incident, error)

	// Resolve resolves an open incident: state resolved, Until, ResolvedBy
	// and a resolved entry. changed is false, and nothing is written, when
	// it was resolved already (by another call with another key): resolving
	// twice changes nothing, and of two resolves at once exactly one
	// changes it. A repeated key of the call that resolved it returns
	// changed true again, so that its caller can finish the steps after it.
	Resolve(ctx context.Context, id int64, until time.Time, by, key string) (_ Incident, changed bool, _ error)

	// Get returns one incident, or ErrNotFound.
	Get(ctx context.Context, id int64) (Incident, error)
	// FindByThread returns the incident whose announcement is the message
	// ts in channel (the incident's thread), or ErrNotFound.
	FindByThread(ctx context.Context, channel, ts string) (Incident, error)
	// ListOpen returns the open incidents of env (of every environment when
	// env is ""), oldest From first.
	ListOpen(ctx context.Context, env string) ([]Incident, error)
	// Timeline returns the incident's timeline in order (by Seq); Updates
	// extracts its updates.
	Timeline(ctx context.Context, id int64) ([]TimelineEntry, error)
}
