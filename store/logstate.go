package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/opsbot/opsbot"
)

// OpSaveLogState is the operation name of SaveLogState (WithBeforeCommit).
const OpSaveLogState = "save_log_state"

// LoadLogState returns the logs check's state of environment env (see
// checks/logs.StateStore), nil if none was saved.
func (s *DB) LoadLogState(ctx context.Context, env string) ([]byte, error) {
	var state string
	err := s.read.QueryRowContext(ctx, `SELECT state FROM log_state WHERE environment = $1`, env).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load the logs state of %s: %w", env, err)
	}
	return []byte(state), nil
}

// SaveLogState replaces the logs check's state of environment env, a JSON
// document.
func (s *DB) SaveLogState(ctx context.Context, env string, state []byte) error {
	if strings.TrimSpace(env) == "" {
		return fmt.Errorf("save the logs state: the environment is required: %w", opsbot.ErrInvalid)
	}
	if !json.Valid(state) || !utf8.Valid(state) {
		return fmt.Errorf("save the logs state of %s: not UTF-8 JSON: %w", env, opsbot.ErrInvalid)
	}
	now := s.opts.now()
	err := s.inTx(ctx, OpSaveLogState, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO log_state (environment, state, saved_at) VALUES ($1, $2, $3)
			ON CONFLICT (environment) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at`,
			textSafe(env), string(state), nanos(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("save the logs state of %s: %w", env, err)
	}
	return nil
}
