package database

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/opsbot/opsbot/internal/promapi"
	"github.com/prometheus/common/model"
)

// exporter gathers the figures from postgres_exporter's metrics in
// Prometheus (source prometheus), by the names the exporter documents.
// It has no query texts, lock waits or statement times; its longest
// transaction is pg_stat_activity_max_tx_duration, which counts a single
// long statement too.
type exporter struct {
	prom     *prom
	database string // datname, or "" for every database
}

// prom asks the environment's Prometheus.
type prom struct {
	api *promapi.Client
}

// The queries, one per figure.
const (
	promSize        = `max by (datname) (pg_database_size_bytes%s)`
	promConnections = `sum(pg_stat_activity_count)`
	promMax         = `max(pg_settings_max_connections)`
	promReserved    = `max(pg_settings_superuser_reserved_connections)`
	promMaxTx       = `max(pg_stat_activity_max_tx_duration)`
	promIsReplica   = `max(pg_replication_is_replica)`
	promLag         = `max(pg_replication_lag_seconds)`
)

func (e *exporter) gather(ctx context.Context) (figures, error) {
	f := figures{statementsNote: "no statement times (source prometheus)"}
	sel := ""
	if e.database != "" {
		sel = fmt.Sprintf(`{datname=%q}`, e.database)
	}
	size, err := e.prom.query(ctx, fmt.Sprintf(promSize, sel))
	if err != nil {
		return f, err
	}
	if len(size) == 0 {
		// The exporter's first metric: without it, nothing else is there.
		return f, fmt.Errorf("prometheus has no pg_database_size_bytes%s: is postgres_exporter scraped?", sel)
	}
	f.size = map[string]int64{}
	for _, s := range size {
		f.size[string(s.Metric["datname"])] = int64(s.Value)
	}
	conns, ok, err := e.prom.scalar(ctx, promConnections)
	if err != nil {
		return f, err
	}
	maxConns, okMax, err := e.prom.scalar(ctx, promMax)
	if err != nil {
		return f, err
	}
	reserved, _, err := e.prom.scalar(ctx, promReserved)
	if err != nil {
		return f, err
	}
	if ok && okMax && maxConns-reserved > 0 {
		f.connections, f.maxConnections = int64(conns), int64(maxConns-reserved)
	}
	if tx, ok, err := e.prom.scalar(ctx, promMaxTx); err != nil {
		return f, err
	} else if ok && tx > 0 {
		f.longestTx = &session{age: seconds(tx)}
	}
	// postgres_exporter reports the lag on a replica (on a primary it is
	// 0): a primary's replicas are not known here.
	f.replicasUnknown = true
	isReplica, _, err := e.prom.scalar(ctx, promIsReplica)
	if err != nil {
		return f, err
	}
	if isReplica == 1 {
		f.isReplica = true
		if lag, ok, err := e.prom.scalar(ctx, promLag); err != nil {
			return f, err
		} else if ok {
			l := seconds(lag)
			f.lag = &l
		}
	}
	return f, nil
}

// scalar runs query and returns its one value; ok is false when it has
// none (the metric is not there).
func (e *prom) scalar(ctx context.Context, query string) (v float64, ok bool, err error) {
	vec, err := e.query(ctx, query)
	if err != nil || len(vec) == 0 || math.IsNaN(float64(vec[0].Value)) {
		return 0, false, err
	}
	return float64(vec[0].Value), true, nil
}

// query runs an instant query at now. Errors say what failed, with
// credentials redacted from the URL.
func (e *prom) query(ctx context.Context, query string) (model.Vector, error) {
	a, err := e.api.Instant(ctx, query, time.Now())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", query, err)
	}
	return a.Samples, nil
}
