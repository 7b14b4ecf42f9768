package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/triage"
)

// Operation names of the tips' writes (WithBeforeCommit).
const (
	OpAddTip    = "add_tip"
	OpRemoveTip = "remove_tip"
)

var tipTimeline = timeline{table: "tip_timeline", owner: "tip_id", what: "tip"}

// tipData is the data of a tip's timeline entry: the tip as it was.
type tipData struct {
	Pattern string `json:"pattern"`
	Text    string `json:"text"`
}

const tipColumns = `id, pattern, text, author, created_at, removed_at, removed_by`

func scanTip(sc scanner) (triage.Tip, error) {
	var (
		t       triage.Tip
		created int64
		removed sql.NullInt64
	)
	if err := sc.Scan(&t.ID, &t.Pattern, &t.Text, &t.Author, &created, &removed, &t.RemovedBy); err != nil {
		return t, err
	}
	t.CreatedAt = fromNanos(created)
	if removed.Valid {
		t.RemovedAt = fromNanos(removed.Int64)
	}
	return t, nil
}

func (s *DB) getTip(ctx context.Context, q querier, id int64, lock bool) (triage.Tip, error) {
	query := `SELECT ` + tipColumns + ` FROM tips WHERE id = $1`
	if lock {
		query += s.d.ForUpdate
	}
	t, err := scanTip(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("tip %d: %w", id, triage.ErrTipNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("read tip %d: %w", id, err)
	}
	return t, nil
}

// AddTip implements triage.TipStore.
func (s *DB) AddTip(ctx context.Context, in triage.Tip, key string) (triage.Tip, error) {
	t := in.Normalized()
	if err := errors.Join(t.Validate(), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return triage.Tip{}, err
	}
	t.CreatedAt = roundTrip(t.CreatedAt)
	var out triage.Tip
	err := s.inTx(ctx, OpAddTip, func(tx *sql.Tx) error {
		// The counter's lock serializes additions: the count below is
		// exact.
		last, err := lockIDCounter(ctx, tx, s.d, "tips", "tip")
		if err != nil {
			return err
		}
		if u, ok, err := lookupKey[triage.Kind](ctx, tx, tipTimeline.table, tipTimeline.owner, key); err != nil {
			return err
		} else if ok {
			if err := u.replay(key, 0, "tip", opsbot.ErrConflict, triage.KindTipAdded); err != nil {
				return err
			}
			out, err = s.getTip(ctx, tx, u.id, false)
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tips WHERE removed_at IS NULL`).Scan(&n); err != nil {
			return fmt.Errorf("count the tips: %w", err)
		}
		if n >= triage.MaxTips {
			return triage.ErrTooManyTips
		}
		t.ID = last + 1
		if err := advanceIDCounter(ctx, tx, "tips", "tip", t.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tips (id, pattern, text, author, created_at)
			VALUES ($1, $2, $3, $4, $5)`, t.ID, t.Pattern, t.Text, t.Author, nanos(t.CreatedAt)); err != nil {
			return fmt.Errorf("insert tip: %w", err)
		}
		out = t
		return appendEntryRow(ctx, tx, tipTimeline, entryRow[tipData]{Owner: t.ID, Seq: 1, At: t.CreatedAt, Actor: t.Author,
			Kind: string(triage.KindTipAdded), Data: tipData{Pattern: t.Pattern, Text: t.Text}, Key: key})
	})
	if err != nil {
		return triage.Tip{}, err
	}
	return out, nil
}

// RemoveTip implements triage.TipStore.
func (s *DB) RemoveTip(ctx context.Context, id int64, by string, at time.Time, key string) (triage.Tip, error) {
	by = opsbot.CleanText(by)
	v := opsbot.Validator{What: "tip removal"}
	v.Required("removedBy", by, opsbot.MaxIDLen)
	v.Time("removedAt", at)
	if err := errors.Join(v.Err(), opsbot.ValidateIdempotencyKey(key)); err != nil {
		return triage.Tip{}, err
	}
	at = roundTrip(at.UTC())
	var out triage.Tip
	err := s.inTx(ctx, OpRemoveTip, func(tx *sql.Tx) error {
		if u, ok, err := lookupKey[triage.Kind](ctx, tx, tipTimeline.table, tipTimeline.owner, key); err != nil {
			return err
		} else if ok {
			if err := u.replay(key, id, "tip", opsbot.ErrConflict, triage.KindTipRemoved); err != nil {
				return err
			}
			out, err = s.getTip(ctx, tx, id, false)
			return err
		}
		t, err := s.getTip(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !t.RemovedAt.IsZero() {
			return fmt.Errorf("tip %d was removed already: %w", id, triage.ErrTipNotFound)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tips SET removed_at = $1, removed_by = $2 WHERE id = $3`,
			nanos(at), by, id); err != nil {
			return fmt.Errorf("remove tip %d: %w", id, err)
		}
		t.RemovedAt, t.RemovedBy = at, by
		out = t
		return appendEntryRow(ctx, tx, tipTimeline, entryRow[tipData]{Owner: id, Seq: 2, At: at, Actor: by,
			Kind: string(triage.KindTipRemoved), Data: tipData{Pattern: t.Pattern, Text: t.Text}, Key: key})
	})
	if err != nil {
		return triage.Tip{}, err
	}
	return out, nil
}

// Tips implements triage.TipStore.
func (s *DB) Tips(ctx context.Context) ([]triage.Tip, error) {
	return queryAll(ctx, s.read, "tips", scanTip,
		`SELECT `+tipColumns+` FROM tips WHERE removed_at IS NULL ORDER BY id`)
}

// TipTimeline returns tip id's timeline (added, removed), in order: for
// the conformance suite and whoever audits the tips.
func (s *DB) TipTimeline(ctx context.Context, id int64) ([]triage.TipEntry, error) {
	return listTimeline(ctx, s.read, tipTimeline, id, func(r entryRow[tipData]) triage.TipEntry {
		return triage.TipEntry{TipID: r.Owner, Seq: r.Seq, At: r.At, Actor: r.Actor, Kind: triage.Kind(r.Kind),
			Pattern: r.Data.Pattern, Text: r.Data.Text, IdempotencyKey: r.Key}
	}, func(ctx context.Context, id int64) error {
		_, err := s.getTip(ctx, s.read, id, false)
		return err
	})
}
