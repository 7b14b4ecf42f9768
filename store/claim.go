package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/schedule"
)

// Claim records key as claimed and reports whether this call was the first
// to claim it: of any number of calls with one key, on any replica at any
// time, exactly one gets true. The bot records each finished scheduled
// checklist this way ("checklist-done/prod/2026-11-24T09:30Z"). Claims are
// never released.
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

// Take implements schedule.Claimer: it takes the occurrence key for holder
// until until, in one transaction, when it is not done and nobody else
// holds it (no claim, or a lease expired at now).
func (s *DB) Take(ctx context.Context, key, holder string, now, until time.Time) (schedule.Claim, error) {
	if err := errors.Join(opsbot.ValidateIdempotencyKey(key), opsbot.ValidateIdempotencyKey(holder)); err != nil {
		return 0, err
	}
	if key == "" || holder == "" {
		return 0, errors.New("take: the key and the holder are required")
	}
	var out schedule.Claim
	err := s.inTx(ctx, OpClaim, func(tx *sql.Tx) error {
		var (
			current string
			expires int64
			done    bool
		)
		err := tx.QueryRowContext(ctx, `SELECT holder, expires_at, done FROM claims WHERE key = $1`+s.d.ForUpdate, key).
			Scan(&current, &expires, &done)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// A race with another replica's insert is a unique violation:
			// inTx runs the transaction again, which then sees its row.
			if _, err := tx.ExecContext(ctx, `INSERT INTO claims (key, claimed_at, holder, expires_at, done)
				VALUES ($1, $2, $3, $4, FALSE)`, key, nanos(now), holder, nanos(until)); err != nil {
				return err
			}
			out = schedule.Taken
			return nil
		case err != nil:
			return fmt.Errorf("read claim: %w", err)
		case done:
			out = schedule.Done
			return nil
		case current != holder && nanos(now) < expires:
			out = schedule.Held
			return nil
		}
		out = schedule.Taken
		return oneRow(tx.ExecContext(ctx, `UPDATE claims SET holder = $1, expires_at = $2 WHERE key = $3 AND done = FALSE`,
			holder, nanos(until), key))
	})
	if err != nil {
		return 0, fmt.Errorf("take %q: %w", key, err)
	}
	return out, nil
}

// Finish implements schedule.Claimer: the occurrence is done, if holder
// holds it.
func (s *DB) Finish(ctx context.Context, key, holder string) error {
	err := s.inTx(ctx, OpClaim, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE claims SET done = TRUE WHERE key = $1 AND holder = $2`, key, holder)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish %q: %w", key, err)
	}
	return nil
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
