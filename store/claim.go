package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/opsbot/opsbot/triage"
)

// Claim records key as claimed and reports whether this call was the first
// to claim it: of any number of calls with one key, on any replica at any
// time, exactly one gets true. It implements internal/schedule's Claimer,
// which guards each occurrence of a schedule ("checklist/2026-11-24T09:30Z")
// so that it runs once. Claims are never released.
func (s *DB) Claim(ctx context.Context, key string) (bool, error) {
	if err := triage.ValidateIdempotencyKey(key); err != nil {
		return false, err
	}
	if key == "" {
		return false, fmt.Errorf("claim: the key is required")
	}
	at := nanos(s.opts.now())
	var won bool
	err := s.inTx(ctx, OpClaim, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO claims (key, claimed_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, at)
		if err != nil {
			return fmt.Errorf("insert claim: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert claim: %w", err)
		}
		won = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("claim %q: %w", key, err)
	}
	return won, nil
}
