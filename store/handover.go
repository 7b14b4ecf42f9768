package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/handover"
	"github.com/opsbot/opsbot/triage"
)

// The store is the handover's handover.Store.
var _ handover.Store = (*DB)(nil)

// OpHandover is the operation name of the handover's writes, passed to
// the WithBeforeCommit hook.
const OpHandover = "handover"

const handoverColumns = `id, at, by_actor, channel, message_ts, acknowledged_by, acknowledged_at`

func scanHandover(sc scanner) (handover.Record, error) {
	var (
		r       handover.Record
		at      int64
		ackedAt sql.NullInt64
	)
	if err := sc.Scan(&r.ID, &at, &r.By, &r.Channel, &r.MessageTS, &r.AcknowledgedBy, &ackedAt); err != nil {
		return handover.Record{}, err
	}
	r.At = fromNanos(at)
	if ackedAt.Valid {
		r.AcknowledgedAt = fromNanos(ackedAt.Int64)
	}
	return r, nil
}

func (s *DB) getHandover(ctx context.Context, q querier, id int64) (handover.Record, error) {
	r, err := scanHandover(q.QueryRowContext(ctx, `SELECT `+handoverColumns+` FROM handovers WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return handover.Record{}, fmt.Errorf("handover %d: %w", id, opsbot.ErrNotFound)
	}
	if err != nil {
		return handover.Record{}, fmt.Errorf("read handover %d: %w", id, err)
	}
	return r, nil
}

// Handover implements handover.Store.
func (s *DB) Handover(ctx context.Context, id int64) (handover.Record, error) {
	return s.getHandover(ctx, s.read, id)
}

// LastHandover implements handover.Store.
func (s *DB) LastHandover(ctx context.Context) (handover.Record, bool, error) {
	r, err := scanHandover(s.read.QueryRowContext(ctx,
		`SELECT `+handoverColumns+` FROM handovers ORDER BY at DESC, id DESC LIMIT 1`))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return handover.Record{}, false, nil
	case err != nil:
		return handover.Record{}, false, fmt.Errorf("read the last handover: %w", err)
	}
	return r, true, nil
}

// RecordHandover implements handover.Store: one transaction, idempotent on
// key.
func (s *DB) RecordHandover(ctx context.Context, in handover.Record, key string) (handover.Record, bool, error) {
	in.By = opsbot.CleanText(in.By)
	if err := errors.Join(in.Validate(), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return handover.Record{}, false, err
	}
	if key == "" {
		return handover.Record{}, false, errors.New("record handover: the idempotency key is required")
	}
	var (
		out     handover.Record
		created bool
	)
	err := s.inTx(ctx, OpHandover, func(tx *sql.Tx) error {
		last, err := lockIDCounter(ctx, tx, s.d, "handovers", "handover")
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM handovers WHERE idempotency_key = $1`, key).Scan(&id)
		switch {
		case err == nil:
			out, err = s.getHandover(ctx, tx, id)
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("look up handover key: %w", err)
		}
		n := handover.Record{ID: last + 1, At: roundTrip(in.At), By: in.By}
		if err := advanceIDCounter(ctx, tx, "handovers", "handover", n.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO handovers (id, at, by_actor, idempotency_key) VALUES ($1, $2, $3, $4)`,
			n.ID, nanos(n.At), n.By, key); err != nil {
			return fmt.Errorf("insert handover: %w", err)
		}
		out, created = n, true
		return nil
	})
	if err != nil {
		return handover.Record{}, false, fmt.Errorf("record handover: %w", err)
	}
	return out, created, nil
}

// SetHandoverMessage implements handover.Store.
func (s *DB) SetHandoverMessage(ctx context.Context, id int64, channel, ts string) (handover.Record, error) {
	v := opsbot.Validator{What: "handover message"}
	v.Required("channel", channel, opsbot.MaxIDLen)
	v.Required("ts", ts, opsbot.MaxIDLen)
	if err := v.Err(); err != nil {
		return handover.Record{}, err
	}
	var out handover.Record
	err := s.inTx(ctx, OpHandover, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE handovers SET channel = $1, message_ts = $2 WHERE id = $3`, channel, ts, id)
		if err != nil {
			return fmt.Errorf("update handover: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("update handover: %w", err)
		} else if n == 0 {
			return fmt.Errorf("handover %d: %w", id, opsbot.ErrNotFound)
		}
		out, err = s.getHandover(ctx, tx, id)
		return err
	})
	if err != nil {
		return handover.Record{}, fmt.Errorf("set the message of handover %d: %w", id, err)
	}
	return out, nil
}

// AcknowledgeHandover implements handover.Store: one conditional UPDATE,
// so of two people clicking at once one takes over.
func (s *DB) AcknowledgeHandover(ctx context.Context, id int64, by string, at time.Time) (handover.Record, bool, error) {
	v := opsbot.Validator{What: "acknowledgement"}
	v.Required("by", by, opsbot.MaxIDLen)
	v.Time("at", at)
	if err := v.Err(); err != nil {
		return handover.Record{}, false, err
	}
	var (
		out   handover.Record
		first bool
	)
	err := s.inTx(ctx, OpHandover, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE handovers SET acknowledged_by = $1, acknowledged_at = $2
			WHERE id = $3 AND acknowledged_by = ''`, by, nanos(at), id)
		if err != nil {
			return fmt.Errorf("update handover: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("update handover: %w", err)
		}
		first = n == 1
		out, err = s.getHandover(ctx, tx, id)
		return err
	})
	if err != nil {
		return handover.Record{}, false, fmt.Errorf("acknowledge handover %d: %w", id, err)
	}
	return out, first, nil
}

// SilencesEnding implements handover.Store.
func (s *DB) SilencesEnding(ctx context.Context, from, until time.Time) ([]triage.Anomaly, error) {
	return queryAll(ctx, s.read, "silences ending", scanAnomaly, `SELECT `+anomalyColumns+` FROM anomalies
		WHERE silence_id <> '' AND silence_ended_at IS NULL AND silence_ends_at > $1 AND silence_ends_at <= $2
		ORDER BY silence_ends_at, id`, nanos(from), nanos(until))
}

// ClosedSince implements handover.Store.
func (s *DB) ClosedSince(ctx context.Context, since time.Time) ([]triage.Anomaly, error) {
	return queryAll(ctx, s.read, "anomalies closed since", scanAnomaly, `SELECT `+anomalyColumns+` FROM anomalies
		WHERE state = 'closed' AND decided_at >= $1 ORDER BY decided_at, id`, nanos(since))
}

// NewFingerprints implements handover.Store. Runs are kept RunRetention:
// "first found" is within that time.
func (s *DB) NewFingerprints(ctx context.Context, since time.Time) ([]handover.Fingerprint, error) {
	type row struct {
		env, fp, data string
		at            int64
	}
	rows, err := queryAll(ctx, s.read, "new fingerprints", func(sc scanner) (row, error) {
		var r row
		err := sc.Scan(&r.env, &r.fp, &r.data, &r.at)
		return r, err
	}, `SELECT r.environment, f.fingerprint, f.finding_json, r.finished_at
		FROM checklist_findings f JOIN checklist_runs r ON r.id = f.run_id
		WHERE r.saved_at >= $1 AND NOT EXISTS (
			SELECT 1 FROM checklist_findings f2 JOIN checklist_runs r2 ON r2.id = f2.run_id
			WHERE r2.saved_at < $1 AND r2.environment = r.environment AND f2.fingerprint = f.fingerprint)
		ORDER BY r.saved_at, r.id, f.idx`, nanos(since))
	if err != nil {
		return nil, err
	}
	seen := map[[2]string]bool{}
	var out []handover.Fingerprint
	for _, r := range rows {
		k := [2]string{r.env, r.fp}
		if seen[k] {
			continue
		}
		seen[k] = true
		var f checks.Finding
		if err := json.Unmarshal([]byte(r.data), &f); err != nil {
			return nil, fmt.Errorf("new fingerprints: decode a finding of %s: %w", r.env, err)
		}
		out = append(out, handover.Fingerprint{Environment: r.env, Fingerprint: r.fp, Title: f.Title, FirstSeen: fromNanos(r.at)})
	}
	return out, nil
}

// LastRun implements handover.Store.
func (s *DB) LastRun(ctx context.Context) (handover.Run, bool, error) {
	var (
		r  handover.Run
		at int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT r.environment, r.finished_at, r.asked_by, r.status,
			(SELECT COUNT(*) FROM checklist_findings f WHERE f.run_id = r.id)
		FROM checklist_runs r ORDER BY r.saved_at DESC, r.id DESC LIMIT 1`).Scan(&r.Environment, &at, &r.AskedBy, &r.Status, &r.Findings)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return handover.Run{}, false, nil
	case err != nil:
		return handover.Run{}, false, fmt.Errorf("read the last checklist run: %w", err)
	}
	r.At = fromNanos(at)
	return r, true, nil
}
