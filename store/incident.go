package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/incident"
)

// Operation names of the incident writes and claims, passed to the
// WithBeforeCommit hook.
const (
	OpAnnounce   = "announce_incident"
	OpSetMessage = "set_incident_message"
	// OpSetMessageResolved records the edit of the announcement.
	OpSetMessageResolved = "set_incident_message_resolved"
	OpAddUpdate          = "add_incident_update"
	OpSetStatusPage      = "set_incident_statuspage"
	OpResolve            = "resolve_incident"
	OpClaim              = "claim"
)

// Incidents implements incident.Store on the same database and with the
// same guarantees as DB's triage.Store: one transaction per write, which
// locks the incident (or the id counter, to announce), checks the
// idempotency key against the incident timeline, updates the incident with
// a version guard and appends one timeline entry whose Seq is the new
// version. Unique indexes on the timeline's keys, on the open incident of
// an anomaly and on the announcement message back the checks up.
type Incidents struct{ db *DB }

var _ incident.Store = (*Incidents)(nil)

// Incidents returns the incident store of db. (It is a separate type
// because incident.Store's method names, Get, ListOpen and Timeline, are
// also triage.Store's.)
func (s *DB) Incidents() *Incidents { return &Incidents{db: s} }

const incidentColumns = `id, environment, channel, message_ts, message_text, message_resolved,
	from_at, user_impact, what,
	announced_by, announced_at, anomaly_id,
	statuspage_enabled, statuspage_state, statuspage_id, statuspage_key, statuspage_last_error,
	state, until_at, resolved_by, version`

func scanIncident(sc scanner) (incident.Incident, error) {
	var (
		i                   incident.Incident
		fromAt, announcedAt int64
		anomalyID, untilAt  sql.NullInt64
		spState, state      string
	)
	err := sc.Scan(&i.ID, &i.Environment, &i.Channel, &i.MessageTS, &i.MessageText, &i.MessageResolved,
		&fromAt, &i.UserImpact, &i.What,
		&i.AnnouncedBy, &announcedAt, &anomalyID,
		&i.StatusPage.Enabled, &spState, &i.StatusPage.IncidentID, &i.StatusPage.Key, &i.StatusPage.LastError,
		&state, &untilAt, &i.ResolvedBy, &i.Version)
	if err != nil {
		return incident.Incident{}, err
	}
	i.From, i.AnnouncedAt = fromNanos(fromAt), fromNanos(announcedAt)
	i.AnomalyID = anomalyID.Int64
	i.StatusPage.State, i.State = incident.StatusPageState(spState), incident.State(state)
	if untilAt.Valid {
		i.Until = fromNanos(untilAt.Int64)
	}
	return i, nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

func (s *Incidents) get(ctx context.Context, q querier, id int64, lock bool) (incident.Incident, error) {
	query := `SELECT ` + incidentColumns + ` FROM incidents WHERE id = $1`
	if lock {
		query += s.db.d.ForUpdate
	}
	i, err := scanIncident(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return incident.Incident{}, fmt.Errorf("incident %d: %w", id, incident.ErrNotFound)
	}
	if err != nil {
		return incident.Incident{}, fmt.Errorf("read incident %d: %w", id, err)
	}
	return i, nil
}

// appendIncidentEntry adds e to the incident's timeline.
func appendIncidentEntry(ctx context.Context, tx *sql.Tx, e incident.TimelineEntry) error {
	return appendEntryRow(ctx, tx, incidentTimeline, entryRow[incident.TimelineData]{
		Owner: e.IncidentID, Seq: e.Seq, At: e.At, Actor: e.Actor, Kind: string(e.Kind), Data: e.Data, Key: e.IdempotencyKey})
}

// Announce implements incident.Store.
func (s *Incidents) Announce(ctx context.Context, in incident.Incident, key string) (incident.Incident, bool, error) {
	n := in.Normalized()
	if err := errors.Join(n.Validate(s.db.opts.now()), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return incident.Incident{}, false, err
	}
	n.From, n.AnnouncedAt = roundTrip(n.From), roundTrip(n.AnnouncedAt)
	var (
		out     incident.Incident
		created bool
	)
	err := s.db.inTx(ctx, OpAnnounce, func(tx *sql.Tx) error {
		// Lock the id counter first: announcements are serialized, and the
		// checks below see every incident committed before.
		last, err := lockIDCounter(ctx, tx, s.db.d, "incidents", "incident")
		if err != nil {
			return err
		}
		if u, ok, err := lookupKey[incident.Kind](ctx, tx, "incident_timeline", "incident_id", key); err != nil {
			return err
		} else if ok {
			if err := u.replay(key, 0, "incident", opsbot.ErrConflict, incident.KindAnnounced); err != nil {
				return err
			}
			out, err = s.get(ctx, tx, u.id, false)
			created = true
			return err
		}
		if n.AnomalyID != 0 {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM anomalies WHERE id = $1`, n.AnomalyID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return &opsbot.ValidationError{What: "incident", Problems: []opsbot.FieldError{
					{Field: "anomalyId", Problem: fmt.Sprintf("there is no anomaly #%d", n.AnomalyID)}}}
			}
			if err != nil {
				return fmt.Errorf("read anomaly %d: %w", n.AnomalyID, err)
			}
			existing, err := scanIncident(tx.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents
				WHERE anomaly_id = $1 AND state = 'open'`, n.AnomalyID))
			if err == nil {
				out, created = existing, false
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("find the open incident of anomaly %d: %w", n.AnomalyID, err)
			}
		}
		i := n
		i.ID, i.State, i.Version = last+1, incident.Open, 1
		if i.StatusPage.Enabled {
			i.StatusPage.State = incident.StatusPagePending
		}
		if err := advanceIDCounter(ctx, tx, "incidents", "incident", i.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO incidents
			(id, environment, channel, from_at, user_impact, what, announced_by, announced_at, anomaly_id,
			 statuspage_enabled, statuspage_state, state, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			i.ID, i.Environment, i.Channel, nanos(i.From), i.UserImpact, i.What, i.AnnouncedBy, nanos(i.AnnouncedAt),
			nullID(i.AnomalyID), i.StatusPage.Enabled, string(i.StatusPage.State), string(i.State), i.Version); err != nil {
			return fmt.Errorf("insert incident: %w", err)
		}
		if err := appendIncidentEntry(ctx, tx, incident.TimelineEntry{IncidentID: i.ID, Seq: 1, At: i.AnnouncedAt,
			Actor: i.AnnouncedBy, Kind: incident.KindAnnounced, IdempotencyKey: key}); err != nil {
			return err
		}
		out, created = i, true
		return nil
	})
	if err != nil {
		return incident.Incident{}, false, fmt.Errorf("announce incident: %w", err)
	}
	return out, created, nil
}

// incidentChange is what a write does to a locked incident: the incident
// after it and the entry to append, or ok false for "nothing to change".
type incidentChange func(tx *sql.Tx, i incident.Incident) (n incident.Incident, e incident.TimelineEntry, ok bool, err error)

// change runs a write on one incident: lock it, handle a repeated key
// (replayed gets the entry's seq), let apply compute the change, then
// write the incident's changed columns (set) under the version guard and
// the entry.
func (s *Incidents) change(ctx context.Context, op string, id int64, key string, kinds []incident.Kind,
	replayed func(tx *sql.Tx, i incident.Incident, seq int64) error,
	apply incidentChange, set string, args func(n incident.Incident) []any,
) (incident.Incident, error) {
	var out incident.Incident
	err := s.db.inTx(ctx, op, func(tx *sql.Tx) error {
		i, err := s.get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if u, ok, err := lookupKey[incident.Kind](ctx, tx, "incident_timeline", "incident_id", key); err != nil {
			return err
		} else if ok {
			if err := u.replay(key, id, "incident", opsbot.ErrConflict, kinds...); err != nil {
				return err
			}
			out = i
			if replayed != nil {
				return replayed(tx, i, u.seq)
			}
			return nil
		}
		n, e, ok, err := apply(tx, i)
		if err != nil {
			return err
		}
		if !ok {
			out = i
			return nil
		}
		n.Version = i.Version + 1
		a := append(args(n), n.Version, id, i.Version)
		k := len(a)
		if set != "" {
			set += ", "
		}
		if err := oneRow(tx.ExecContext(ctx, `UPDATE incidents SET `+set+
			fmt.Sprintf(`version = $%d WHERE id = $%d AND version = $%d`, k-2, k-1, k), a...)); err != nil {
			return err
		}
		e.IncidentID, e.Seq, e.IdempotencyKey = id, n.Version, key
		if err := appendIncidentEntry(ctx, tx, e); err != nil {
			return err
		}
		out = n
		return nil
	})
	return out, err
}

// SetMessage implements incident.Store.
func (s *Incidents) SetMessage(ctx context.Context, id int64, channel, ts, text, key string) (incident.Incident, error) {
	channel, ts = opsbot.CleanText(channel), opsbot.CleanText(ts)
	// The text is kept as posted (not trimmed): it is edited later.
	if err := errors.Join(incident.ValidateMessage(channel, ts, text), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return incident.Incident{}, err
	}
	at := roundTrip(s.db.opts.now())
	i, err := s.change(ctx, OpSetMessage, id, key, []incident.Kind{incident.KindMessagePosted}, nil,
		func(tx *sql.Tx, i incident.Incident) (incident.Incident, incident.TimelineEntry, bool, error) {
			if i.Channel == channel && i.MessageTS == ts {
				return i, incident.TimelineEntry{}, false, nil
			}
			if i.MessageTS != "" {
				return i, incident.TimelineEntry{}, false, fmt.Errorf("%w: incident %d is announced by message %s/%s already",
					opsbot.ErrConflict, id, i.Channel, i.MessageTS)
			}
			var other int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM incidents WHERE channel = $1 AND message_ts = $2`,
				channel, ts).Scan(&other)
			if err == nil {
				return i, incident.TimelineEntry{}, false, fmt.Errorf("%w: message %s/%s announces incident %d",
					opsbot.ErrConflict, channel, ts, other)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return i, incident.TimelineEntry{}, false, fmt.Errorf("find the incident of message %s/%s: %w", channel, ts, err)
			}
			i.Channel, i.MessageTS, i.MessageText = channel, ts, text
			return i, incident.TimelineEntry{At: at, Actor: opsbot.ActorBot, Kind: incident.KindMessagePosted,
				Data: incident.TimelineData{Channel: channel, MessageTS: ts, Message: text}}, true, nil
		},
		`channel = $1, message_ts = $2, message_text = $3`,
		func(n incident.Incident) []any { return []any{n.Channel, n.MessageTS, n.MessageText} })
	if err != nil {
		return incident.Incident{}, fmt.Errorf("set the message of incident %d: %w", id, err)
	}
	return i, nil
}

// SetMessageResolved implements incident.Store.
func (s *Incidents) SetMessageResolved(ctx context.Context, id int64, text, key string) (incident.Incident, error) {
	if err := errors.Join(incident.ValidateMessageText(text), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return incident.Incident{}, err
	}
	at := roundTrip(s.db.opts.now())
	i, err := s.change(ctx, OpSetMessageResolved, id, key, []incident.Kind{incident.KindMessageEdited}, nil,
		func(_ *sql.Tx, i incident.Incident) (incident.Incident, incident.TimelineEntry, bool, error) {
			switch {
			case i.State != incident.Resolved:
				return i, incident.TimelineEntry{}, false, fmt.Errorf("%w: incident %d is not resolved", opsbot.ErrConflict, id)
			case i.MessageTS == "":
				return i, incident.TimelineEntry{}, false, fmt.Errorf("%w: incident %d has no announcement", opsbot.ErrConflict, id)
			case i.MessageResolved:
				return i, incident.TimelineEntry{}, false, nil
			}
			i.MessageResolved = true
			return i, incident.TimelineEntry{At: at, Actor: opsbot.ActorBot, Kind: incident.KindMessageEdited,
				Data: incident.TimelineData{Channel: i.Channel, MessageTS: i.MessageTS, Message: text}}, true, nil
		},
		`message_resolved = $1`, func(n incident.Incident) []any { return []any{n.MessageResolved} })
	if err != nil {
		return incident.Incident{}, fmt.Errorf("record the edited announcement of incident %d: %w", id, err)
	}
	return i, nil
}

// AddUpdate implements incident.Store.
func (s *Incidents) AddUpdate(ctx context.Context, id int64, in incident.Update, key string) (incident.Incident, incident.Update, error) {
	u := in.Normalized()
	if err := errors.Join(u.Validate(s.db.opts.now()), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return incident.Incident{}, incident.Update{}, err
	}
	u.At = roundTrip(u.At)
	var out incident.Update
	i, err := s.change(ctx, OpAddUpdate, id, key, []incident.Kind{incident.KindUpdated},
		func(tx *sql.Tx, _ incident.Incident, seq int64) error {
			e, err := s.entry(ctx, tx, id, seq)
			if err != nil {
				return err
			}
			out, _ = e.AsUpdate()
			return nil
		},
		func(_ *sql.Tx, i incident.Incident) (incident.Incident, incident.TimelineEntry, bool, error) {
			if i.State != incident.Open {
				return i, incident.TimelineEntry{}, false, fmt.Errorf("%w: incident %d is resolved", opsbot.ErrConflict, id)
			}
			e := incident.TimelineEntry{IncidentID: id, Seq: i.Version + 1, At: u.At, Actor: u.By,
				Kind: incident.KindUpdated, Data: incident.TimelineData{Text: u.Text, ThreadTS: u.ThreadTS, Public: u.Public}}
			out, _ = e.AsUpdate()
			return i, e, true, nil
		},
		"", func(incident.Incident) []any { return nil })
	if err != nil {
		return incident.Incident{}, incident.Update{}, fmt.Errorf("update incident %d: %w", id, err)
	}
	return i, out, nil
}

// SetStatusPage implements incident.Store.
func (s *Incidents) SetStatusPage(ctx context.Context, id int64, ev incident.StatusPageEvent, key string) (incident.Incident, error) {
	ev.StatusPageID, ev.Key, ev.At = opsbot.CleanText(ev.StatusPageID), opsbot.CleanText(ev.Key), ev.At.UTC()
	ev.Error = incident.CutText(opsbot.CleanText(ev.Error), incident.MaxErrorLen)
	if err := errors.Join(incident.ValidateStatusPageEvent(ev), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return incident.Incident{}, err
	}
	ev.At = roundTrip(ev.At)
	i, err := s.change(ctx, OpSetStatusPage, id, key, []incident.Kind{ev.Kind}, nil,
		func(_ *sql.Tx, i incident.Incident) (incident.Incident, incident.TimelineEntry, bool, error) {
			sp, changed, err := i.StatusPage.Apply(i.State, ev)
			if err != nil || !changed {
				return i, incident.TimelineEntry{}, false, err
			}
			i.StatusPage = sp
			return i, ev.Entry(), true, nil
		},
		`statuspage_state = $1, statuspage_id = $2, statuspage_key = $3, statuspage_last_error = $4`,
		func(n incident.Incident) []any {
			sp := n.StatusPage
			return []any{string(sp.State), sp.IncidentID, sp.Key, sp.LastError}
		})
	if err != nil {
		return incident.Incident{}, fmt.Errorf("record %s of incident %d: %w", ev.Kind, id, err)
	}
	return i, nil
}

// Resolve implements incident.Store.
func (s *Incidents) Resolve(ctx context.Context, id int64, until time.Time, by, key string) (incident.Incident, bool, error) {
	by, until = opsbot.CleanText(by), until.UTC()
	now := s.db.opts.now()
	// Checked before the incident is read: until against now, by, the key;
	// until against the incident's From in the transaction.
	if err := errors.Join(incident.ValidateResolve(incident.Incident{}, until, by, now),
		opsbot.ValidateIdempotencyKey(key)); err != nil {
		return incident.Incident{}, false, err
	}
	until = roundTrip(until)
	var changed bool
	i, err := s.change(ctx, OpResolve, id, key, []incident.Kind{incident.KindResolved},
		func(*sql.Tx, incident.Incident, int64) error { changed = true; return nil },
		func(_ *sql.Tx, i incident.Incident) (incident.Incident, incident.TimelineEntry, bool, error) {
			changed = false
			if i.State == incident.Resolved {
				return i, incident.TimelineEntry{}, false, nil
			}
			if err := incident.ValidateResolve(i, until, by, now); err != nil {
				return i, incident.TimelineEntry{}, false, err
			}
			changed = true
			i.State, i.Until, i.ResolvedBy = incident.Resolved, until, by
			return i, incident.TimelineEntry{At: roundTrip(now), Actor: by, Kind: incident.KindResolved,
				Data: incident.TimelineData{Until: until}}, true, nil
		},
		`state = $1, until_at = $2, resolved_by = $3`,
		func(n incident.Incident) []any { return []any{string(n.State), nanos(n.Until), n.ResolvedBy} })
	if err != nil {
		return incident.Incident{}, false, fmt.Errorf("resolve incident %d: %w", id, err)
	}
	return i, changed, nil
}

// Get implements incident.Store.
func (s *Incidents) Get(ctx context.Context, id int64) (incident.Incident, error) {
	return s.get(ctx, s.db.read, id, false)
}

// FindByThread implements incident.Store.
func (s *Incidents) FindByThread(ctx context.Context, channel, ts string) (incident.Incident, error) {
	if channel == "" || ts == "" {
		return incident.Incident{}, fmt.Errorf("incident of thread %s/%s: %w", channel, ts, incident.ErrNotFound)
	}
	i, err := scanIncident(s.db.read.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE channel = $1 AND message_ts = $2`, channel, ts))
	if errors.Is(err, sql.ErrNoRows) {
		return incident.Incident{}, fmt.Errorf("incident of thread %s/%s: %w", channel, ts, incident.ErrNotFound)
	}
	if err != nil {
		return incident.Incident{}, fmt.Errorf("find the incident of thread %s/%s: %w", channel, ts, err)
	}
	return i, nil
}

// ListOpen implements incident.Store.
func (s *Incidents) ListOpen(ctx context.Context, env string) ([]incident.Incident, error) {
	query, args := `SELECT `+incidentColumns+` FROM incidents WHERE state = 'open' ORDER BY from_at, id`, []any(nil)
	if env != "" {
		query = `SELECT ` + incidentColumns + ` FROM incidents WHERE state = 'open' AND environment = $1
			ORDER BY from_at, id`
		args = []any{env}
	}
	return queryAll(ctx, s.db.read, "list open incidents", scanIncident, query, args...)
}

// incidentEntry converts a stored row of the incident timeline.
func incidentEntry(r entryRow[incident.TimelineData]) incident.TimelineEntry {
	e := incident.TimelineEntry{IncidentID: r.Owner, Seq: r.Seq, At: r.At, Actor: r.Actor,
		Kind: incident.Kind(r.Kind), Data: r.Data, IdempotencyKey: r.Key}
	if !e.Data.Until.IsZero() {
		e.Data.Until = e.Data.Until.UTC()
	}
	return e
}

func (s *Incidents) entry(ctx context.Context, q querier, id, seq int64) (incident.TimelineEntry, error) {
	r, err := scanEntryRow[incident.TimelineData](q.QueryRowContext(ctx, `SELECT `+incidentTimeline.columns()+
		` FROM incident_timeline WHERE incident_id = $1 AND seq = $2`, id, seq))
	if err != nil {
		return incident.TimelineEntry{}, fmt.Errorf("timeline of incident %d, entry %d: %w", id, seq, err)
	}
	return incidentEntry(r), nil
}

// Timeline implements incident.Store.
func (s *Incidents) Timeline(ctx context.Context, id int64) ([]incident.TimelineEntry, error) {
	return listTimeline(ctx, s.db.read, incidentTimeline, id, incidentEntry,
		func(ctx context.Context, id int64) error { _, err := s.Get(ctx, id); return err })
}
