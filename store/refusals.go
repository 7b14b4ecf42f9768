package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
)

// OpRecordRefusal is the operation name of RecordRefusal, passed to the
// WithBeforeCommit and failure hooks.
const OpRecordRefusal = "record_refusal"

// RecordRefusal adds r to the audit record of refused requests and reports
// whether it was added: false when a refusal with r.Key is already
// recorded (the same request delivered again), which changes nothing. An
// invalid r is an opsbot.ValidationError and records nothing.
func (s *DB) RecordRefusal(ctx context.Context, r opsbot.Refusal) (bool, error) {
	if err := r.Validate(); err != nil {
		return false, err
	}
	var added bool
	err := s.inTx(ctx, OpRecordRefusal, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO refusals
			(idempotency_key, occurred_at, user_id, team_id, enterprise_id, channel_id, action, reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING`,
			r.Key, nanos(r.At), r.UserID, r.TeamID, r.EnterpriseID, r.Channel, r.Action, r.Reason)
		if err != nil {
			return fmt.Errorf("insert refusal: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert refusal: %w", err)
		}
		added = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record refusal %q: %w", r.Key, err)
	}
	return added, nil
}

// Refusals returns the refusals recorded at or after since, newest first,
// at most limit of them (limit <= 0: all).
func (s *DB) Refusals(ctx context.Context, since time.Time, limit int) ([]opsbot.Refusal, error) {
	q := `SELECT idempotency_key, occurred_at, user_id, team_id, enterprise_id, channel_id, action, reason
		FROM refusals WHERE occurred_at >= $1 ORDER BY occurred_at DESC, idempotency_key DESC`
	args := []any{nanos(since)}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	return queryAll(ctx, s.read, "refusals", func(sc scanner) (opsbot.Refusal, error) {
		var (
			r  opsbot.Refusal
			at int64
		)
		if err := sc.Scan(&r.Key, &at, &r.UserID, &r.TeamID, &r.EnterpriseID, &r.Channel, &r.Action, &r.Reason); err != nil {
			return opsbot.Refusal{}, err
		}
		r.At = fromNanos(at)
		return r, nil
	}, q, args...)
}
