package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/opsbot/opsbot/triage"
)

// History implements triage.HistoryStore: one query for all the
// fingerprints, on SQLite and PostgreSQL alike. Of the decided anomalies
// of each fingerprint (opened before q.BeforeID, if set), the one whose
// decision is the latest (then the one with the highest id) is the last
// time; its sightings are counted over every anomaly of the fingerprint
// (opened and seen_again timeline entries since q.SeenSince), with the
// indexes anomalies_by_fingerprint and timeline's primary key.
func (s *DB) History(ctx context.Context, q triage.HistoryQuery) (map[string]triage.History, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	out := map[string]triage.History{}
	if len(q.Fingerprints) == 0 {
		return out, nil
	}
	before := q.BeforeID
	if before <= 0 {
		before = math.MaxInt64
	}
	args := []any{q.Environment, nanos(q.SeenSince), before}
	marks := make([]string, len(q.Fingerprints))
	for i, fp := range q.Fingerprints {
		args = append(args, fp)
		marks[i] = "$" + strconv.Itoa(len(args))
	}
	rows, err := queryAll(ctx, s.read, "history of fingerprints", scanHistory,
		`SELECT a.environment, a.fingerprint, a.id, a.channel, a.thread_ts,
			a.decision, a.conclusion, a.five_whys, a.ticket, a.users_affected, a.outage, a.to_collect,
			a.dashboard, a.decided_by, a.decided_at, a.decided_magnitude,
			(SELECT COUNT(*) FROM timeline t JOIN anomalies s ON s.id = t.anomaly_id
				WHERE s.environment = a.environment AND s.fingerprint = a.fingerprint
				AND t.kind IN `+sightingKinds+` AND t.occurred_at >= $2) AS seen
		FROM anomalies a
		WHERE a.environment = $1 AND a.fingerprint IN (`+strings.Join(marks, ", ")+`)
			AND a.decision IS NOT NULL AND a.id < $3
			AND NOT EXISTS (SELECT 1 FROM anomalies b
				WHERE b.environment = a.environment AND b.fingerprint = a.fingerprint
				AND b.decision IS NOT NULL AND b.id < $3
				AND (b.decided_at > a.decided_at OR (b.decided_at = a.decided_at AND b.id > a.id)))`,
		args...)
	if err != nil {
		return nil, err
	}
	for _, h := range rows {
		if prev, dup := out[h.Fingerprint]; dup {
			return nil, fmt.Errorf("history of %q: anomalies %d and %d both read as the last decision", h.Fingerprint, prev.AnomalyID, h.AnomalyID)
		}
		out[h.Fingerprint] = h
	}
	return out, nil
}

func scanHistory(sc scanner) (triage.History, error) {
	var (
		h         triage.History
		r         = &h.Decision
		decision  string
		decidedAt sql.NullInt64
	)
	err := sc.Scan(&h.Environment, &h.Fingerprint, &h.AnomalyID, &h.Channel, &h.ThreadTS,
		&decision, &r.Conclusion, &r.FiveWhys, &r.Ticket, &r.UsersAffected, &r.Outage, &r.ToCollect,
		&r.Dashboard, &r.DecidedBy, &decidedAt, &r.Magnitude, &h.Seen)
	if err != nil {
		return h, err
	}
	if r.Decision, err = triage.ParseDecision(decision); err != nil {
		return h, fmt.Errorf("anomaly %d: %w", h.AnomalyID, err)
	}
	r.DecidedAt = fromNanos(decidedAt.Int64)
	return h, nil
}
