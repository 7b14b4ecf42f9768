package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// keyUse is where an idempotency key was used: the anomaly or incident, the
// timeline entry's sequence number and its kind.
type keyUse[K ~string] struct {
	id, seq int64
	kind    K
}

// lookupKey looks an idempotency key up on a timeline table (timeline or
// incident_timeline, whose owner column is idColumn). An empty key is never
// used: it means "not idempotent". table and idColumn are constants of this
// package, never input.
func lookupKey[K ~string](ctx context.Context, tx *sql.Tx, table, idColumn, key string) (keyUse[K], bool, error) {
	var u keyUse[K]
	if key == "" {
		return u, false, nil
	}
	err := tx.QueryRowContext(ctx, `SELECT `+idColumn+`, seq, kind FROM `+table+` WHERE idempotency_key = $1`, key).
		Scan(&u.id, &u.seq, &u.kind)
	if errors.Is(err, sql.ErrNoRows) {
		return keyUse[K]{}, false, nil
	}
	if err != nil {
		return keyUse[K]{}, false, fmt.Errorf("look up idempotency key: %w", err)
	}
	return u, true, nil
}

// replay checks a used key against the operation being repeated: the same
// anomaly or incident (id 0: any) and one of the kinds the operation
// writes. Anything else is conflict: the key was used for something else.
func (u keyUse[K]) replay(key string, id int64, what string, conflict error, kinds ...K) error {
	if id == 0 || u.id == id {
		for _, k := range kinds {
			if u.kind == k {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: idempotency key %q was already used for a %s entry of %s %d", conflict, key, u.kind, what, u.id)
}
