package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/triage"
)

// The store is the noise report's noise.Store.
var _ noise.Store = (*DB)(nil)

// sightingKinds are the timeline kinds that are sightings, as SQL.
var sightingKinds = `('` + string(triage.KindOpened) + `', '` + string(triage.KindSeenAgain) + `')`

// nanosPerDay is a UTC day in the stored unit: integer division of a time
// by it is its day, in SQLite and PostgreSQL alike.
const nanosPerDay = int64(24 * time.Hour)

// perDay is nanosPerDay in SQL (a literal: a parameter's type would be
// left to each dialect to guess).
var perDay = strconv.FormatInt(nanosPerDay, 10)

// FingerprintSightings implements noise.Store.
func (s *DB) FingerprintSightings(ctx context.Context, since, until time.Time, limit int) ([]noise.FingerprintCount, error) {
	return queryAll(ctx, s.read, "sightings per fingerprint", func(sc scanner) (noise.FingerprintCount, error) {
		var c noise.FingerprintCount
		err := sc.Scan(&c.Environment, &c.Fingerprint, &c.Sightings, &c.LatestAnomalyID)
		return c, err
	}, `SELECT a.environment, a.fingerprint, COUNT(*) AS n, MAX(a.id)
		FROM timeline t JOIN anomalies a ON a.id = t.anomaly_id
		WHERE t.kind IN `+sightingKinds+` AND t.occurred_at >= $1 AND t.occurred_at <= $2
		GROUP BY a.environment, a.fingerprint
		ORDER BY n DESC, a.environment, a.fingerprint
		LIMIT $3`, nanos(since), nanos(until), limit)
}

// SightingsPerDay implements noise.Store.
func (s *DB) SightingsPerDay(ctx context.Context, since, until time.Time) ([]noise.DayCount, error) {
	return queryAll(ctx, s.read, "sightings per day", func(sc scanner) (noise.DayCount, error) {
		var (
			c   noise.DayCount
			day int64
		)
		if err := sc.Scan(&day, &c.Sightings); err != nil {
			return c, err
		}
		c.Day = fromNanos(day * nanosPerDay)
		return c, nil
	}, `SELECT occurred_at / `+perDay+` AS day, COUNT(*)
		FROM timeline
		WHERE kind IN `+sightingKinds+` AND occurred_at >= $1 AND occurred_at <= $2
		GROUP BY occurred_at / `+perDay+`
		ORDER BY day`, nanos(since), nanos(until))
}

// DecisionEntries implements noise.Store.
func (s *DB) DecisionEntries(ctx context.Context, since, until time.Time) ([]triage.TimelineEntry, error) {
	return queryAll(ctx, s.read, "decisions", func(sc scanner) (triage.TimelineEntry, error) {
		r, err := scanEntryRow[triage.TimelineData](sc)
		if err != nil {
			return triage.TimelineEntry{}, err
		}
		return triage.TimelineEntry{AnomalyID: r.Owner, Seq: r.Seq, At: r.At, Actor: r.Actor,
			Kind: triage.Kind(r.Kind), Data: r.Data, IdempotencyKey: r.Key}, nil
	}, `SELECT `+anomalyTimeline.columns()+` FROM timeline
		WHERE kind IN ('`+string(triage.KindDecided)+`', '`+string(triage.KindDecisionChanged)+`')
		AND occurred_at >= $1 AND occurred_at <= $2
		ORDER BY anomaly_id, seq`, nanos(since), nanos(until))
}

// AnomalyIncidents implements noise.Store.
func (s *DB) AnomalyIncidents(ctx context.Context, since, until time.Time) ([]noise.AnomalyIncident, error) {
	return queryAll(ctx, s.read, "incidents of anomalies", func(sc scanner) (noise.AnomalyIncident, error) {
		var (
			i  noise.AnomalyIncident
			at int64
		)
		if err := sc.Scan(&i.AnomalyID, &i.IncidentID, &at); err != nil {
			return i, err
		}
		i.AnnouncedAt = fromNanos(at)
		return i, nil
	}, `SELECT anomaly_id, id, announced_at FROM incidents
		WHERE anomaly_id IS NOT NULL AND announced_at >= $1 AND announced_at <= $2
		ORDER BY announced_at, id`, nanos(since), nanos(until))
}

// alertFingerprints is the SQL condition on a findings row f that its
// fingerprint is an alert's (noise.AlertSource): substr, not LIKE, so the
// prefixes need no escaping, the same in SQLite and PostgreSQL.
const alertFingerprints = `(substr(f.fingerprint, 1, 7) = 'alerts/' OR substr(f.fingerprint, 1, 20) = 'alertschannel/alert/')`

// AlertFindings implements noise.Store. The runs are those of the period
// still kept (RunRetention).
func (s *DB) AlertFindings(ctx context.Context, since, until time.Time, limit int) ([]noise.AlertCount, error) {
	type counted struct {
		c     noise.AlertCount
		runID int64
	}
	rows, err := queryAll(ctx, s.read, "alerts fired", func(sc scanner) (counted, error) {
		var c counted
		err := sc.Scan(&c.c.Environment, &c.c.Fingerprint, &c.c.Runs, &c.runID)
		return c, err
	}, `SELECT r.environment, f.fingerprint, COUNT(DISTINCT r.id) AS n, MAX(r.id)
		FROM checklist_findings f JOIN checklist_runs r ON r.id = f.run_id
		WHERE `+alertFingerprints+` AND r.started_at >= $1 AND r.started_at <= $2
		GROUP BY r.environment, f.fingerprint
		ORDER BY n DESC, r.environment, f.fingerprint
		LIMIT $3`, nanos(since), nanos(until), limit)
	if err != nil {
		return nil, err
	}
	out := make([]noise.AlertCount, 0, len(rows))
	for _, r := range rows {
		var data string
		if err := s.read.QueryRowContext(ctx, `SELECT finding_json FROM checklist_findings f
			WHERE run_id = $1 AND fingerprint = $2 ORDER BY idx LIMIT 1`, r.runID, r.c.Fingerprint).Scan(&data); err != nil {
			return nil, fmt.Errorf("alerts fired: the latest finding of %s: %w", r.c.Fingerprint, err)
		}
		if err := json.Unmarshal([]byte(data), &r.c.Latest); err != nil {
			return nil, fmt.Errorf("alerts fired: the latest finding of %s: %w", r.c.Fingerprint, err)
		}
		out = append(out, r.c)
	}
	return out, nil
}

// DecisionSilences implements noise.Store.
func (s *DB) DecisionSilences(ctx context.Context) ([]triage.Anomaly, error) {
	return queryAll(ctx, s.read, "decision silences", scanAnomaly,
		`SELECT `+anomalyColumns+` FROM anomalies WHERE silence_id <> '' AND decision IS NOT NULL ORDER BY id`)
}
