package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/checks"
)

// OpSaveRun is the operation name of SaveRun, passed to the
// WithBeforeCommit hook.
const OpSaveRun = "save_checklist_run"

// RunRetention is how long a checklist run's findings are kept: SaveRun
// deletes the runs saved longer ago, and RunFinding no longer returns them.
// (The bot tells a user who clicks an older report's button so.)
const RunRetention = 30 * 24 * time.Hour

// findingsPerInsert is how many findings one INSERT writes (4 parameters
// each, far below both backends' parameter limits).
const findingsPerInsert = 100

// SaveRun records a checklist run, rep, whose report is (or is about to
// be) message messageTS in channel: its environment, times, who asked
// for it (rep.AskedBy), its overall status and findings
// in report order (the findings of rep.Results[0], then of Results[1]...;
// RunFinding's idx counts them from 0). It returns the run's id, which is
// never reused. In the same transaction it deletes the runs saved more
// than RunRetention ago (by the store's clock, WithClock).
func (s *DB) SaveRun(ctx context.Context, rep checks.Report, channel, messageTS string) (int64, error) {
	if strings.TrimSpace(rep.Environment) == "" {
		return 0, errors.New("save checklist run: the environment is required")
	}
	type row struct {
		fingerprint, data string
	}
	var rows []row
	for _, res := range rep.Results {
		for _, f := range res.Findings {
			// encoding/json replaces invalid UTF-8 and escapes control
			// characters (NUL included): PostgreSQL's TEXT takes it.
			data, err := json.Marshal(f)
			if err != nil {
				return 0, fmt.Errorf("save checklist run: encode a finding: %w", err)
			}
			rows = append(rows, row{fingerprint: textSafe(f.Fingerprint), data: string(data)})
		}
	}
	now := s.opts.now()
	var id int64
	err := s.inTx(ctx, OpSaveRun, func(tx *sql.Tx) error {
		cutoff := nanos(now.Add(-RunRetention))
		if _, err := tx.ExecContext(ctx, `DELETE FROM checklist_findings
			WHERE run_id IN (SELECT id FROM checklist_runs WHERE saved_at < $1)`, cutoff); err != nil {
			return fmt.Errorf("delete expired findings: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM checklist_runs WHERE saved_at < $1`, cutoff); err != nil {
			return fmt.Errorf("delete expired runs: %w", err)
		}
		last, err := lockIDCounter(ctx, tx, s.d, "checklist_runs", "run")
		if err != nil {
			return err
		}
		id = last + 1
		if err := advanceIDCounter(ctx, tx, "checklist_runs", "run", id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO checklist_runs
			(id, environment, channel, message_ts, started_at, finished_at, saved_at, asked_by, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			id, textSafe(rep.Environment), textSafe(channel), textSafe(messageTS),
			nanos(rep.StartedAt), nanos(rep.FinishedAt), nanos(now), textSafe(rep.AskedBy), rep.Status.String()); err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		for start := 0; start < len(rows); start += findingsPerInsert {
			batch := rows[start:min(start+findingsPerInsert, len(rows))]
			var q strings.Builder
			q.WriteString(`INSERT INTO checklist_findings (run_id, idx, fingerprint, finding_json) VALUES `)
			args := make([]any, 0, 4*len(batch))
			for i, r := range batch {
				if i > 0 {
					q.WriteString(", ")
				}
				n := len(args)
				fmt.Fprintf(&q, "($%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4)
				args = append(args, id, int64(start+i), r.fingerprint, r.data)
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("insert findings: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("save checklist run: %w", err)
	}
	return id, nil
}

// RunFinding returns finding idx (report order, from 0) of run runID and
// the run's environment. ok is false when there is no such run or finding,
// or the run was saved more than RunRetention ago.
func (s *DB) RunFinding(ctx context.Context, runID int64, idx int) (f checks.Finding, env string, ok bool, err error) {
	if runID <= 0 || idx < 0 {
		return checks.Finding{}, "", false, nil
	}
	cutoff := nanos(s.opts.now().Add(-RunRetention))
	var data string
	err = s.read.QueryRowContext(ctx, `SELECT r.environment, f.finding_json
		FROM checklist_runs r JOIN checklist_findings f ON f.run_id = r.id
		WHERE r.id = $1 AND f.idx = $2 AND r.saved_at >= $3`, runID, int64(idx), cutoff).Scan(&env, &data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return checks.Finding{}, "", false, nil
	case err != nil:
		return checks.Finding{}, "", false, fmt.Errorf("read finding %d of checklist run %d: %w", idx, runID, err)
	}
	if err := json.Unmarshal([]byte(data), &f); err != nil {
		return checks.Finding{}, "", false, fmt.Errorf("decode finding %d of checklist run %d: %w", idx, runID, err)
	}
	return f, env, true, nil
}

// LastRunFindings returns the findings of env's latest kept checklist run
// whose fingerprint starts with prefix, in report order: what the last
// checklist saw, for a check to say what is new since. ok is false when env
// has no kept run (the first checklist, or none for RunRetention).
func (s *DB) LastRunFindings(ctx context.Context, env, prefix string) (findings []checks.Finding, ok bool, err error) {
	cutoff := nanos(s.opts.now().Add(-RunRetention))
	var id int64
	err = s.read.QueryRowContext(ctx, `SELECT id FROM checklist_runs
		WHERE environment = $1 AND saved_at >= $2 ORDER BY id DESC LIMIT 1`, env, cutoff).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read the last checklist run of %s: %w", env, err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT fingerprint, finding_json FROM checklist_findings
		WHERE run_id = $1 ORDER BY idx`, id)
	if err != nil {
		return nil, false, fmt.Errorf("read the findings of checklist run %d: %w", id, err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var fp, data string
		if err := rows.Scan(&fp, &data); err != nil {
			return nil, false, fmt.Errorf("read the findings of checklist run %d: %w", id, err)
		}
		if !strings.HasPrefix(fp, prefix) {
			continue
		}
		var f checks.Finding
		if err := json.Unmarshal([]byte(data), &f); err != nil {
			return nil, false, fmt.Errorf("decode a finding of checklist run %d: %w", id, err)
		}
		findings = append(findings, f)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("read the findings of checklist run %d: %w", id, err)
	}
	return findings, true, nil
}

// textSafe makes s storable in a PostgreSQL TEXT column: valid UTF-8,
// without NUL.
func textSafe(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}
