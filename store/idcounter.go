package store

import (
	"context"
	"database/sql"
	"fmt"
)

// lockIDCounter reads the last id handed out from the counter name
// (id_counters: anomalies, incidents, tips, handovers, checklist_runs) and
// locks it for the rest of tx, so that writes of that kind are serialized
// and the checks after it see every row committed before. what names the
// kind in errors.
func lockIDCounter(ctx context.Context, tx *sql.Tx, d Dialect, name, what string) (int64, error) {
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT last_id FROM id_counters WHERE name = $1`+d.ForUpdate, name).Scan(&last); err != nil {
		return 0, fmt.Errorf("read the %s id counter: %w", what, err)
	}
	return last, nil
}

// advanceIDCounter records id as the last one handed out by the counter
// name, locked by lockIDCounter in the same tx.
func advanceIDCounter(ctx context.Context, tx *sql.Tx, name, what string, id int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE id_counters SET last_id = $1 WHERE name = $2`, id, name); err != nil {
		return fmt.Errorf("advance the %s id counter: %w", what, err)
	}
	return nil
}
