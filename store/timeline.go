package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// timeline is one of the append-only timeline tables: `timeline` (an
// anomaly's) and `incident_timeline` (an incident's). Both have the same
// columns but the owner's id, and one row per change of their owner; the
// entry's data is JSON of the domain's own type (D).
type timeline struct {
	table string // "timeline", "incident_timeline"
	owner string // its owner's id column: "anomaly_id", "incident_id"
	what  string // the owner, in errors: "anomaly", "incident"
}

var (
	anomalyTimeline  = timeline{table: "timeline", owner: "anomaly_id", what: "anomaly"}
	incidentTimeline = timeline{table: "incident_timeline", owner: "incident_id", what: "incident"}
)

// entryRow is a timeline row as stored, with its data decoded as D.
type entryRow[D any] struct {
	Owner, Seq int64
	At         time.Time
	Actor      string
	Kind       string
	Data       D
	Key        string // idempotency key; "" for none
}

// columns lists the table's columns in entryRow's order.
func (t timeline) columns() string {
	return t.owner + `, seq, occurred_at, actor, kind, data, idempotency_key`
}

// appendEntryRow adds r to timeline t.
func appendEntryRow[D any](ctx context.Context, tx *sql.Tx, t timeline, r entryRow[D]) error {
	data, err := json.Marshal(r.Data)
	if err != nil {
		return fmt.Errorf("encode timeline data: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO `+t.table+` (`+t.columns()+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.Owner, r.Seq, nanos(r.At), r.Actor, r.Kind, string(data), nullString(r.Key))
	if err != nil {
		return fmt.Errorf("append to the %s timeline: %w", t.what, err)
	}
	return nil
}

// scanEntryRow reads one row selected with columns().
func scanEntryRow[D any](sc scanner) (entryRow[D], error) {
	var (
		r    entryRow[D]
		at   int64
		data string
		key  sql.NullString
	)
	if err := sc.Scan(&r.Owner, &r.Seq, &at, &r.Actor, &r.Kind, &data, &key); err != nil {
		return entryRow[D]{}, err
	}
	r.At, r.Key = fromNanos(at), key.String
	if err := json.Unmarshal([]byte(data), &r.Data); err != nil {
		return entryRow[D]{}, fmt.Errorf("entry %d: %w", r.Seq, err)
	}
	return r, nil
}

// listTimeline returns owner id's timeline in order, converted by conv; an
// owner without entries is checked with exists (its ErrNotFound), since
// every owner has at least its first entry.
func listTimeline[D, E any](ctx context.Context, db *sql.DB, t timeline, id int64,
	conv func(entryRow[D]) E, exists func(ctx context.Context, id int64) error) ([]E, error) {
	out, err := queryAll(ctx, db, fmt.Sprintf("timeline of %s %d", t.what, id),
		func(sc scanner) (E, error) {
			r, err := scanEntryRow[D](sc)
			if err != nil {
				var zero E
				return zero, err
			}
			return conv(r), nil
		},
		`SELECT `+t.columns()+` FROM `+t.table+` WHERE `+t.owner+` = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if err := exists(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}
