package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/opsbot/opsbot"
)

// Claim records key as claimed and reports whether this call was the first
// to claim it: of any number of calls with one key, on any replica at any
// time, exactly one gets true. It implements schedule.Claimer,
// which guards each occurrence of a schedule ("checklist/2026-11-24T09:30Z")
// so that it runs once. Claims are never released.
func (s *DB) Claim(ctx context.Context, key string) (bool, error) {
	if err := opsbot.ValidateIdempotencyKey(key); err != nil {
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

// LastClaim returns the claim recorded last (by the time it was claimed)
// among the keys starting with prefix, and when it was claimed; key is ""
// when there is none. The bot records each finished scheduled checklist as
// a claim ("checklist-done/prod/2026-11-24T09:30Z") and reads the latest
// back as "the last checklist".
func (s *DB) LastClaim(ctx context.Context, prefix string) (key string, claimedAt time.Time, err error) {
	if prefix == "" {
		return "", time.Time{}, errors.New("last claim: the prefix is required")
	}
	// substr rather than LIKE: no wildcards to escape in the prefix, and
	// the same in SQLite and PostgreSQL (lengths in characters).
	var at int64
	err = s.read.QueryRowContext(ctx,
		`SELECT key, claimed_at FROM claims WHERE substr(key, 1, $1) = $2 ORDER BY claimed_at DESC, key DESC LIMIT 1`,
		utf8.RuneCountInString(prefix), prefix).Scan(&key, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", time.Time{}, nil
	case err != nil:
		return "", time.Time{}, fmt.Errorf("last claim %q: %w", prefix, err)
	}
	return key, fromNanos(at), nil
}
