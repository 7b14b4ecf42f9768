package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/triage"
)

var _ triage.Store = (*DB)(nil)

const anomalyColumns = `id, environment, fingerprint, title, detail, link, source, opened_by, opened_at,
	channel, thread_ts, state, escalated_at, version, seen_count, last_seen_at,
	decision, conclusion, five_whys, ticket, users_affected, outage, to_collect, dashboard,
	decided_by, decided_at, escalation_pending, magnitude, decided_magnitude,
	labels, silence_id, silence_ends_at,
	silence_length, silence_extensions, silence_ended_at, silence_ended_by`

// nanos and fromNanos convert times to and from their stored form.
func nanos(t time.Time) int64         { return t.UnixNano() }
func fromNanos(n int64) time.Time     { return time.Unix(0, n).UTC() }
func roundTrip(t time.Time) time.Time { return fromNanos(nanos(t)) }

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

type scanner interface{ Scan(dest ...any) error }

func scanAnomaly(sc scanner) (triage.Anomaly, error) {
	var (
		a                      triage.Anomaly
		r                      triage.DecisionRecord
		source, state          string
		openedAt, lastSeenAt   int64
		escalatedAt, decidedAt sql.NullInt64
		decision               sql.NullString
		labels, silenceID      string
		silenceEndsAt          sql.NullInt64
		silence                triage.SilenceMark
		silenceEndedAt         sql.NullInt64
	)
	err := sc.Scan(&a.ID, &a.Environment, &a.Fingerprint, &a.Title, &a.Detail, &a.Link, &source, &a.OpenedBy, &openedAt,
		&a.Channel, &a.ThreadTS, &state, &escalatedAt, &a.Version, &a.SeenCount, &lastSeenAt,
		&decision, &r.Conclusion, &r.FiveWhys, &r.Ticket, &r.UsersAffected, &r.Outage, &r.ToCollect, &r.Dashboard,
		&r.DecidedBy, &decidedAt, &a.EscalationPending, &a.Magnitude, &r.Magnitude,
		&labels, &silenceID, &silenceEndsAt,
		&silence.Length, &silence.Extensions, &silenceEndedAt, &silence.EndedBy)
	if err != nil {
		return triage.Anomaly{}, err
	}
	if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
		return triage.Anomaly{}, fmt.Errorf("anomaly %d: labels: %w", a.ID, err)
	}
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	a.Source, a.State = triage.Source(source), triage.State(state)
	a.OpenedAt, a.LastSeenAt = fromNanos(openedAt), fromNanos(lastSeenAt)
	if escalatedAt.Valid {
		a.EscalatedAt = fromNanos(escalatedAt.Int64)
	}
	if decision.Valid {
		if r.Decision, err = triage.ParseDecision(decision.String); err != nil {
			return triage.Anomaly{}, fmt.Errorf("anomaly %d: %w", a.ID, err)
		}
		r.DecidedAt = fromNanos(decidedAt.Int64)
		if silenceID != "" {
			silence.ID, silence.EndsAt = silenceID, fromNanos(silenceEndsAt.Int64)
			if silenceEndedAt.Valid {
				silence.EndedAt = fromNanos(silenceEndedAt.Int64)
			}
			r.Silence = &silence
		}
		a.Decision = &r
	}
	return a, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// getAnomaly reads one anomaly; with lock, it also locks its row until the
// end of the transaction.
func (s *DB) getAnomaly(ctx context.Context, q querier, id int64, lock bool) (triage.Anomaly, error) {
	query := `SELECT ` + anomalyColumns + ` FROM anomalies WHERE id = $1`
	if lock {
		query += s.d.ForUpdate
	}
	a, err := scanAnomaly(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return triage.Anomaly{}, fmt.Errorf("anomaly %d: %w", id, triage.ErrNotFound)
	}
	if err != nil {
		return triage.Anomaly{}, fmt.Errorf("read anomaly %d: %w", id, err)
	}
	return a, nil
}

func (s *DB) findOpen(ctx context.Context, q querier, env, fingerprint string) (triage.Anomaly, error) {
	a, err := scanAnomaly(q.QueryRowContext(ctx, `SELECT `+anomalyColumns+` FROM anomalies
		WHERE environment = $1 AND fingerprint = $2 AND state = 'open'`, env, fingerprint))
	if errors.Is(err, sql.ErrNoRows) {
		return triage.Anomaly{}, fmt.Errorf("open anomaly %s %s: %w", env, fingerprint, triage.ErrNotFound)
	}
	if err != nil {
		return triage.Anomaly{}, fmt.Errorf("find open anomaly: %w", err)
	}
	return a, nil
}

// checkNoOtherOpen returns ErrConflict if an anomaly other than a with a's
// fingerprint is open: a cannot be reopened.
func (s *DB) checkNoOtherOpen(ctx context.Context, tx *sql.Tx, a triage.Anomaly) error {
	other, err := s.findOpen(ctx, tx, a.Environment, a.Fingerprint)
	switch {
	case errors.Is(err, triage.ErrNotFound):
		return nil
	case err != nil:
		return err
	case other.ID == a.ID:
		return nil
	}
	return fmt.Errorf("%w: anomaly %d cannot be reopened: anomaly %d with the same fingerprint is open",
		opsbot.ErrConflict, a.ID, other.ID)
}

// appendEntry adds e to the anomaly's timeline.
func appendEntry(ctx context.Context, tx *sql.Tx, e triage.TimelineEntry) error {
	return appendEntryRow(ctx, tx, anomalyTimeline, entryRow[triage.TimelineData]{
		Owner: e.AnomalyID, Seq: e.Seq, At: e.At, Actor: e.Actor, Kind: string(e.Kind), Data: e.Data, Key: e.IdempotencyKey})
}

// oneRow turns "the version guard matched no row" into errRetry.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("update anomaly: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update anomaly: %w", err)
	}
	if n != 1 {
		return errRetry
	}
	return nil
}

// OpenAnomaly implements triage.Store.
func (s *DB) OpenAnomaly(ctx context.Context, in triage.Anomaly, key string) (triage.Anomaly, bool, error) {
	a := in.Normalized()
	if err := errors.Join(a.Validate(), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return triage.Anomaly{}, false, err
	}
	a.OpenedAt = roundTrip(a.OpenedAt)
	labels := "{}"
	if a.Labels != nil {
		b, err := json.Marshal(a.Labels)
		if err != nil {
			return triage.Anomaly{}, false, fmt.Errorf("open anomaly: labels: %w", err)
		}
		labels = string(b)
	}
	var (
		out     triage.Anomaly
		created bool
	)
	err := s.inTx(ctx, OpOpenAnomaly, func(tx *sql.Tx) error {
		// Lock the id counter first: openings are serialized, and the checks
		// below see every anomaly committed before.
		last, err := lockIDCounter(ctx, tx, s.d, "anomalies", "anomaly")
		if err != nil {
			return err
		}
		if u, ok, err := lookupKey[triage.Kind](ctx, tx, "timeline", "anomaly_id", key); err != nil {
			return err
		} else if ok {
			if err := u.replay(key, 0, "anomaly", opsbot.ErrConflict, triage.KindOpened); err != nil {
				return err
			}
			out, err = s.getAnomaly(ctx, tx, u.id, false)
			created = true
			return err
		}
		existing, err := s.findOpen(ctx, tx, a.Environment, a.Fingerprint)
		if err == nil {
			out, created = existing, false
			return nil
		}
		if !errors.Is(err, triage.ErrNotFound) {
			return err
		}

		n := a
		n.ID, n.State, n.Version, n.SeenCount, n.LastSeenAt = last+1, triage.Open, 1, 1, a.OpenedAt
		if err := advanceIDCounter(ctx, tx, "anomalies", "anomaly", n.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO anomalies
			(id, environment, fingerprint, title, detail, link, source, opened_by, opened_at,
			 state, version, seen_count, last_seen_at, magnitude, labels)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			n.ID, n.Environment, n.Fingerprint, n.Title, n.Detail, n.Link, string(n.Source), n.OpenedBy,
			nanos(n.OpenedAt), string(n.State), n.Version, n.SeenCount, nanos(n.LastSeenAt), n.Magnitude, labels); err != nil {
			return fmt.Errorf("insert anomaly: %w", err)
		}
		if err := appendEntry(ctx, tx, triage.TimelineEntry{AnomalyID: n.ID, Seq: 1, At: n.OpenedAt,
			Actor: n.OpenedBy, Kind: triage.KindOpened, Data: triage.TimelineData{Magnitude: n.Magnitude},
			IdempotencyKey: key}); err != nil {
			return err
		}
		out, created = n, true
		return nil
	})
	if err != nil {
		return triage.Anomaly{}, false, fmt.Errorf("open anomaly: %w", err)
	}
	return out, created, nil
}

// change runs a write on one existing anomaly: lock it, handle a repeated
// key, then let apply compute the new anomaly and the entry to append (apply
// returns ok false for "nothing to change"), and write both.
func (s *DB) change(ctx context.Context, op string, id int64, key string, kinds []triage.Kind,
	apply func(tx *sql.Tx, a triage.Anomaly) (n triage.Anomaly, e triage.TimelineEntry, ok bool, err error),
	update func(tx *sql.Tx, n triage.Anomaly, oldVersion int64) error,
) (triage.Anomaly, error) {
	var out triage.Anomaly
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		a, err := s.getAnomaly(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if u, ok, err := lookupKey[triage.Kind](ctx, tx, "timeline", "anomaly_id", key); err != nil {
			return err
		} else if ok {
			if err := u.replay(key, id, "anomaly", opsbot.ErrConflict, kinds...); err != nil {
				return err
			}
			out = a
			return nil
		}
		n, e, ok, err := apply(tx, a)
		if err != nil {
			return err
		}
		if !ok {
			out = a
			return nil
		}
		n.Version = a.Version + 1
		if err := update(tx, n, a.Version); err != nil {
			return err
		}
		e.AnomalyID, e.Seq, e.IdempotencyKey = id, n.Version, key
		if err := appendEntry(ctx, tx, e); err != nil {
			return err
		}
		out = n
		return nil
	})
	return out, err
}

// LinkThread implements triage.Store. It is a compare-and-set: the thread
// is recorded only while the anomaly has none. When another thread is
// already linked (another replica posted first), nothing is written and
// the anomaly is returned with that thread: the caller compares ThreadTS
// with its own and, when they differ, deletes its post and uses the
// recorded thread.
func (s *DB) LinkThread(ctx context.Context, id int64, channel, threadTS, key string) (triage.Anomaly, error) {
	channel, threadTS = opsbot.CleanText(channel), opsbot.CleanText(threadTS)
	if err := errors.Join(triage.ValidateThread(channel, threadTS), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return triage.Anomaly{}, err
	}
	at := roundTrip(s.opts.now())
	a, err := s.change(ctx, OpLinkThread, id, key, []triage.Kind{triage.KindThreadLinked},
		func(_ *sql.Tx, a triage.Anomaly) (triage.Anomaly, triage.TimelineEntry, bool, error) {
			if a.ThreadTS != "" {
				return a, triage.TimelineEntry{}, false, nil // the same thread, or the winner's
			}
			e := triage.TimelineEntry{At: at, Actor: opsbot.ActorBot, Kind: triage.KindThreadLinked,
				Data: triage.TimelineData{Channel: channel, ThreadTS: threadTS,
					PreviousChannel: a.Channel, PreviousThreadTS: a.ThreadTS}}
			a.Channel, a.ThreadTS = channel, threadTS
			return a, e, true, nil
		},
		func(tx *sql.Tx, n triage.Anomaly, old int64) error {
			return oneRow(tx.ExecContext(ctx, `UPDATE anomalies SET channel = $1, thread_ts = $2, version = $3
				WHERE id = $4 AND version = $5 AND thread_ts = ''`, n.Channel, n.ThreadTS, n.Version, n.ID, old))
		})
	if err != nil {
		return triage.Anomaly{}, fmt.Errorf("link thread of anomaly %d: %w", id, err)
	}
	return a, nil
}

// Decide implements triage.Store.
func (s *DB) Decide(ctx context.Context, id int64, rec triage.DecisionRecord, key string) (triage.Anomaly, error) {
	rec = rec.Normalized()
	if err := errors.Join(rec.Validate(), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return triage.Anomaly{}, err
	}
	rec.DecidedAt = roundTrip(rec.DecidedAt)
	a, err := s.change(ctx, OpDecide, id, key, []triage.Kind{triage.KindDecided, triage.KindDecisionChanged},
		func(tx *sql.Tx, a triage.Anomaly) (triage.Anomaly, triage.TimelineEntry, bool, error) {
			state := triage.StateFor(rec.Decision, false)
			if state == triage.Open && a.State == triage.Closed {
				if err := s.checkNoOtherOpen(ctx, tx, a); err != nil {
					return a, triage.TimelineEntry{}, false, err
				}
			}
			r := rec
			r.Magnitude, r.Silence = a.Magnitude, nil
			e := triage.TimelineEntry{At: rec.DecidedAt, Actor: rec.DecidedBy, Kind: triage.KindDecided,
				Data: triage.TimelineData{Decision: &r}}
			if a.Decision != nil {
				e.Kind, e.Data.Previous = triage.KindDecisionChanged, a.Decision.Decision
			}
			current := r
			a.Decision, a.State, a.EscalatedAt, a.EscalationPending = &current, state, time.Time{}, false
			return a, e, true, nil
		},
		func(tx *sql.Tx, n triage.Anomaly, old int64) error {
			r := n.Decision
			return oneRow(tx.ExecContext(ctx, `UPDATE anomalies SET
				state = $1, escalated_at = NULL, version = $2,
				escalation_pending = FALSE, escalation_holder = '', escalation_lease = 0,
				decision = $3, conclusion = $4, five_whys = $5, ticket = $6, users_affected = $7,
				outage = $8, to_collect = $9, dashboard = $10, decided_by = $11, decided_at = $12,
				decided_magnitude = $13, silence_id = '', silence_ends_at = NULL,
				silence_length = 0, silence_extensions = 0, silence_ended_at = NULL, silence_ended_by = ''
				WHERE id = $14 AND version = $15`,
				string(n.State), n.Version,
				r.Decision.String(), r.Conclusion, r.FiveWhys, r.Ticket, r.UsersAffected,
				r.Outage, r.ToCollect, r.Dashboard, r.DecidedBy, nanos(r.DecidedAt),
				r.Magnitude, n.ID, old))
		})
	if err != nil {
		return triage.Anomaly{}, fmt.Errorf("decide anomaly %d: %w", id, err)
	}
	return a, nil
}

// RecordSilence implements triage.Store.
func (s *DB) RecordSilence(ctx context.Context, id int64, m triage.SilenceMark, actor string, at time.Time, key string) (triage.Anomaly, error) {
	m = triage.SilenceMark{ID: opsbot.CleanText(m.ID), EndsAt: roundTrip(m.EndsAt), Length: m.Length}
	actor = opsbot.CleanText(actor)
	v := opsbot.Validator{What: "silence"}
	v.Required("actor", actor, opsbot.MaxIDLen)
	v.Time("at", at)
	if err := errors.Join(m.Validate(), v.Err(), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return triage.Anomaly{}, err
	}
	at = roundTrip(at)
	a, err := s.change(ctx, OpRecordSilence, id, key, []triage.Kind{triage.KindSilenced},
		func(_ *sql.Tx, a triage.Anomaly) (triage.Anomaly, triage.TimelineEntry, bool, error) {
			if a.CurrentDecision() != triage.Noise {
				return a, triage.TimelineEntry{}, false, fmt.Errorf("%w: anomaly %d is not decided Noise: only a Noise decision is silenced",
					opsbot.ErrConflict, a.ID)
			}
			if old := a.Decision.Silence; old != nil && old.ID == m.ID && old.EndsAt.Equal(m.EndsAt) {
				return a, triage.TimelineEntry{}, false, nil
			}
			mark := m
			current := *a.Decision
			current.Silence = &mark
			a.Decision = &current
			return a, triage.TimelineEntry{At: at, Actor: actor, Kind: triage.KindSilenced,
				Data: triage.TimelineData{Silence: &mark}}, true, nil
		},
		func(tx *sql.Tx, n triage.Anomaly, old int64) error {
			return oneRow(tx.ExecContext(ctx, `UPDATE anomalies SET silence_id = $1, silence_ends_at = $2,
				silence_length = $3, silence_extensions = 0, silence_ended_at = NULL, silence_ended_by = '', version = $4
				WHERE id = $5 AND version = $6`, m.ID, nanos(m.EndsAt), int64(m.Length), n.Version, n.ID, old))
		})
	if err != nil {
		return triage.Anomaly{}, fmt.Errorf("record the silence of anomaly %d: %w", id, err)
	}
	return a, nil
}

// ChangeSilence implements triage.Store.
func (s *DB) ChangeSilence(ctx context.Context, id int64, c triage.SilenceChange, actor string, at time.Time, key string) (triage.Anomaly, error) {
	c.From, c.ID, c.EndsAt = opsbot.CleanText(c.From), opsbot.CleanText(c.ID), roundTrip(c.EndsAt)
	actor = opsbot.CleanText(actor)
	v := opsbot.Validator{What: "silence change"}
	v.Required("actor", actor, opsbot.MaxIDLen)
	v.Time("at", at)
	if err := errors.Join(c.Validate(), v.Err(), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return triage.Anomaly{}, err
	}
	at = roundTrip(at)
	a, err := s.change(ctx, OpChangeSilence, id, key, []triage.Kind{c.Kind},
		func(_ *sql.Tx, a triage.Anomaly) (triage.Anomaly, triage.TimelineEntry, bool, error) {
			if a.CurrentDecision() != triage.Noise || a.Decision.Silence == nil {
				return a, triage.TimelineEntry{}, false, fmt.Errorf("%w: anomaly %d's decision has no silence", opsbot.ErrConflict, a.ID)
			}
			mark := *a.Decision.Silence
			if mark.ID != c.From {
				return a, triage.TimelineEntry{}, false, fmt.Errorf("%w: anomaly %d's silence is %s, not %s", opsbot.ErrConflict, a.ID, mark.ID, c.From)
			}
			switch {
			case c.Kind == triage.KindSilenceExtended && mark.Ended():
				return a, triage.TimelineEntry{}, false, fmt.Errorf("%w: silence %s of anomaly %d has ended", opsbot.ErrConflict, mark.ID, a.ID)
			case mark.Ended():
				return a, triage.TimelineEntry{}, false, nil // seen ended before
			case c.Kind == triage.KindSilenceExtended:
				mark.ID, mark.EndsAt, mark.Extensions = c.ID, c.EndsAt, mark.Extensions+1
			default:
				mark.EndedAt, mark.EndedBy = at, actor
			}
			current := *a.Decision
			current.Silence = &mark
			a.Decision = &current
			return a, triage.TimelineEntry{At: at, Actor: actor, Kind: c.Kind,
				Data: triage.TimelineData{Silence: &mark}}, true, nil
		},
		func(tx *sql.Tx, n triage.Anomaly, old int64) error {
			m := n.Decision.Silence
			var ended sql.NullInt64
			if m.Ended() {
				ended = sql.NullInt64{Int64: nanos(m.EndedAt), Valid: true}
			}
			return oneRow(tx.ExecContext(ctx, `UPDATE anomalies SET silence_id = $1, silence_ends_at = $2,
				silence_extensions = $3, silence_ended_at = $4, silence_ended_by = $5, version = $6
				WHERE id = $7 AND version = $8`, m.ID, nanos(m.EndsAt), m.Extensions, ended, m.EndedBy, n.Version, n.ID, old))
		})
	if err != nil {
		return triage.Anomaly{}, fmt.Errorf("change the silence of anomaly %d: %w", id, err)
	}
	return a, nil
}

// KeyUsed implements triage.Store.
func (s *DB) KeyUsed(ctx context.Context, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	var one int
	err := s.read.QueryRowContext(ctx, `SELECT 1 FROM timeline WHERE idempotency_key = $1`, key).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up idempotency key: %w", err)
	}
	return true, nil
}

// Escalate implements triage.Store.
func (s *DB) Escalate(ctx context.Context, id int64, esc triage.Escalation, key string) (triage.Anomaly, error) {
	esc = esc.Normalized()
	if err := errors.Join(esc.Validate(), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return triage.Anomaly{}, err
	}
	esc.At = roundTrip(esc.At)
	a, err := s.change(ctx, OpEscalate, id, key, []triage.Kind{triage.KindEscalated},
		func(tx *sql.Tx, a triage.Anomaly) (triage.Anomaly, triage.TimelineEntry, bool, error) {
			if a.State == triage.Closed {
				if err := s.checkNoOtherOpen(ctx, tx, a); err != nil {
					return a, triage.TimelineEntry{}, false, err
				}
			}
			e := triage.TimelineEntry{At: esc.At, Actor: esc.Actor, Kind: triage.KindEscalated,
				Data: triage.TimelineData{Reason: esc.Reason}}
			a.State, a.EscalatedAt, a.EscalationPending = triage.Open, esc.At, true
			return a, e, true, nil
		},
		func(tx *sql.Tx, n triage.Anomaly, old int64) error {
			return oneRow(tx.ExecContext(ctx, `UPDATE anomalies SET state = $1, escalated_at = $2, version = $3,
				escalation_pending = TRUE, escalation_holder = '', escalation_lease = 0
				WHERE id = $4 AND version = $5`, string(n.State), nanos(n.EscalatedAt), n.Version, n.ID, old))
		})
	if err != nil {
		return triage.Anomaly{}, fmt.Errorf("escalate anomaly %d: %w", id, err)
	}
	return a, nil
}

// RecordSighting implements triage.Store.
func (s *DB) RecordSighting(ctx context.Context, env, fingerprint string, magnitude float64, at time.Time, key string) (triage.Anomaly, bool, error) {
	env, fingerprint, at = opsbot.CleanText(env), opsbot.CleanText(fingerprint), at.UTC()
	if err := errors.Join(triage.ValidateSighting(env, fingerprint, magnitude, at), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return triage.Anomaly{}, false, err
	}
	at = roundTrip(at)
	var (
		out   triage.Anomaly
		found bool
	)
	err := s.inTx(ctx, OpRecordSighting, func(tx *sql.Tx) error {
		out, found = triage.Anomaly{}, false
		// The open anomaly of the fingerprint, or else the latest one.
		a, err := scanAnomaly(tx.QueryRowContext(ctx, `SELECT `+anomalyColumns+` FROM anomalies
			WHERE environment = $1 AND fingerprint = $2
			ORDER BY CASE WHEN state = 'open' THEN 0 ELSE 1 END, id DESC
			LIMIT 1`+s.d.ForUpdate, env, fingerprint))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find anomaly: %w", err)
		}
		if u, ok, err := lookupKey[triage.Kind](ctx, tx, "timeline", "anomaly_id", key); err != nil {
			return err
		} else if ok {
			if err := u.replay(key, 0, "anomaly", opsbot.ErrConflict, triage.KindSeenAgain); err != nil {
				return err
			}
			if u.id != a.ID {
				if a, err = s.getAnomaly(ctx, tx, u.id, false); err != nil {
					return err
				}
				if a.Environment != env || a.Fingerprint != fingerprint {
					return fmt.Errorf("%w: idempotency key %q was already used for a sighting of anomaly %d",
						opsbot.ErrConflict, key, a.ID)
				}
			}
			out, found = a, true
			return nil
		}
		old := a.Version
		a.Version++
		a.SeenCount++
		// The latest sighting says how big the finding is now; a late
		// one (an older run retried) does not.
		if !at.Before(a.LastSeenAt) {
			a.LastSeenAt, a.Magnitude = at, magnitude
		}
		if err := oneRow(tx.ExecContext(ctx, `UPDATE anomalies SET seen_count = $1, last_seen_at = $2, magnitude = $3,
			version = $4 WHERE id = $5 AND version = $6`,
			a.SeenCount, nanos(a.LastSeenAt), a.Magnitude, a.Version, a.ID, old)); err != nil {
			return err
		}
		if err := appendEntry(ctx, tx, triage.TimelineEntry{AnomalyID: a.ID, Seq: a.Version, At: at,
			Actor: triage.ActorChecklist, Kind: triage.KindSeenAgain,
			Data: triage.TimelineData{SeenCount: a.SeenCount, Magnitude: magnitude}, IdempotencyKey: key}); err != nil {
			return err
		}
		out, found = a, true
		return nil
	})
	if err != nil {
		return triage.Anomaly{}, false, fmt.Errorf("record sighting of %s %s: %w", env, fingerprint, err)
	}
	return out, found, nil
}

// Get implements triage.Store.
func (s *DB) Get(ctx context.Context, id int64) (triage.Anomaly, error) {
	return s.getAnomaly(ctx, s.read, id, false)
}

// FindOpen implements triage.Store.
func (s *DB) FindOpen(ctx context.Context, env, fingerprint string) (triage.Anomaly, error) {
	return s.findOpen(ctx, s.read, env, fingerprint)
}

// ListOpen implements triage.Store.
func (s *DB) ListOpen(ctx context.Context, env string) ([]triage.Anomaly, error) {
	query, args := `SELECT `+anomalyColumns+` FROM anomalies WHERE state = 'open' ORDER BY opened_at, id`, []any(nil)
	if env != "" {
		query = `SELECT ` + anomalyColumns + ` FROM anomalies WHERE state = 'open' AND environment = $1
			ORDER BY opened_at, id`
		args = []any{env}
	}
	return queryAll(ctx, s.read, "list open anomalies", scanAnomaly, query, args...)
}

// PendingEscalations implements triage.Store.
func (s *DB) PendingEscalations(ctx context.Context, env string) ([]triage.Anomaly, error) {
	query, args := `SELECT `+anomalyColumns+` FROM anomalies WHERE escalation_pending ORDER BY escalated_at, id`, []any(nil)
	if env != "" {
		query = `SELECT ` + anomalyColumns + ` FROM anomalies WHERE escalation_pending AND environment = $1
			ORDER BY escalated_at, id`
		args = []any{env}
	}
	return queryAll(ctx, s.read, "list pending escalations", scanAnomaly, query, args...)
}

// TakeEscalation implements triage.Store: one conditional UPDATE, so of
// replicas taking it at once one matches the row.
func (s *DB) TakeEscalation(ctx context.Context, id int64, holder string, now, until time.Time) (bool, error) {
	if err := opsbot.ValidateIdempotencyKey(holder); err != nil {
		return false, err
	}
	if holder == "" {
		return false, errors.New("take escalation: the holder is required")
	}
	if !until.After(now) {
		return false, fmt.Errorf("take escalation: the lease ends (%s) before it starts (%s)", until, now)
	}
	var took bool
	err := s.inTx(ctx, OpEscalationPost, func(tx *sql.Tx) error {
		if _, err := s.getAnomaly(ctx, tx, id, true); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE anomalies SET escalation_holder = $1, escalation_lease = $2
			WHERE id = $3 AND escalation_pending AND (escalation_holder = '' OR escalation_lease <= $4)`,
			holder, nanos(until), id, nanos(now))
		if err != nil {
			return fmt.Errorf("update anomaly: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("update anomaly: %w", err)
		}
		took = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("take the escalation of anomaly %d: %w", id, err)
	}
	return took, nil
}

// EndEscalationPost implements triage.Store.
func (s *DB) EndEscalationPost(ctx context.Context, id int64, holder string, posted bool) error {
	if holder == "" {
		return errors.New("end escalation post: the holder is required")
	}
	err := s.inTx(ctx, OpEscalationPost, func(tx *sql.Tx) error {
		if _, err := s.getAnomaly(ctx, tx, id, true); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE anomalies SET escalation_pending = escalation_pending AND NOT $1,
			escalation_holder = '', escalation_lease = 0 WHERE id = $2 AND escalation_holder = $3`, posted, id, holder)
		if err != nil {
			return fmt.Errorf("update anomaly: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("end the escalation post of anomaly %d: %w", id, err)
	}
	return nil
}

// Timeline implements triage.Store.
func (s *DB) Timeline(ctx context.Context, id int64) ([]triage.TimelineEntry, error) {
	return listTimeline(ctx, s.read, anomalyTimeline, id,
		func(r entryRow[triage.TimelineData]) triage.TimelineEntry {
			return triage.TimelineEntry{AnomalyID: r.Owner, Seq: r.Seq, At: r.At, Actor: r.Actor,
				Kind: triage.Kind(r.Kind), Data: r.Data, IdempotencyKey: r.Key}
		},
		func(ctx context.Context, id int64) error { _, err := s.Get(ctx, id); return err })
}
