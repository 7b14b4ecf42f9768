package store

import (
	"context"
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
