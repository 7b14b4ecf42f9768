package database

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opsbot/opsbot/checks/internal/pgsql"
)

// direct gathers the figures on a read-only connection.
type direct struct {
	dsn              string
	statementTimeout time.Duration
	topStatements    int
}

// The queries. Each ignores the check's own backend. Ages are computed by
// the server, by its clock at each query (clock_timestamp(), not now(),
// the transaction's start, which a younger session would be older than).
const (
	sizeSQL = `SELECT current_database(), pg_database_size(current_database())`

	connectionsSQL = `SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
  current_setting('max_connections')::bigint - current_setting('superuser_reserved_connections')::bigint`

	// The longest running statement: active sessions.
	longestQuerySQL = `SELECT pid, coalesce(usename, ''), coalesce(datname, ''),
  extract(epoch FROM clock_timestamp() - query_start)::float8, coalesce(query, '')
FROM pg_stat_activity
WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND query_start IS NOT NULL
ORDER BY query_start LIMIT 1`

	// The oldest transaction that has outlived its statement: idle in
	// transaction, or begun before the statement running now. (A single
	// long statement is the longest query, not a long transaction too.)
	longestTxSQL = `SELECT pid, coalesce(usename, ''), coalesce(datname, ''),
  extract(epoch FROM clock_timestamp() - xact_start)::float8, coalesce(query, '')
FROM pg_stat_activity
WHERE xact_start IS NOT NULL AND backend_type = 'client backend' AND pid <> pg_backend_pid()
  AND (state <> 'active' OR xact_start < query_start)
ORDER BY xact_start LIMIT 1`

	// Sessions waiting for a lock, the longest waiting first, with the
	// first session blocking it.
	lockWaitsSQL = `SELECT w.pid, coalesce(w.usename, ''), coalesce(w.datname, ''),
  extract(epoch FROM clock_timestamp() - coalesce(l.waitstart, clock_timestamp()))::float8, coalesce(w.query, ''),
  coalesce(b.pid, 0), coalesce(b.usename, ''), coalesce(b.datname, ''), coalesce(b.query, '')
FROM pg_locks l
JOIN pg_stat_activity w ON w.pid = l.pid
LEFT JOIN pg_stat_activity b ON b.pid = (pg_blocking_pids(l.pid))[1]
WHERE NOT l.granted AND l.pid <> pg_backend_pid()
ORDER BY l.waitstart NULLS LAST`

	replicationSQL = `SELECT coalesce(application_name, ''), coalesce(client_addr::text, ''),
  extract(epoch FROM replay_lag)::float8
FROM pg_stat_replication`

	replicaLagSQL = `SELECT extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8`

	statementsSQL = `SELECT queryid, calls, mean_exec_time, coalesce(query, '')
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND calls > 0 AND queryid IS NOT NULL
ORDER BY mean_exec_time DESC LIMIT $1`
)

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// gather measures everything in one read-only transaction.
func (d *direct) gather(ctx context.Context) (figures, error) {
	var f figures
	conn, err := pgsql.Open(ctx, d.dsn, "database", d.statementTimeout)
	if err != nil {
		return f, err
	}
	defer pgsql.Close(ctx, conn)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return f, d.fail("starting a read-only transaction", err)
	}
	defer pgsql.Rollback(ctx, tx)

	var name string
	var size int64
	if err := tx.QueryRow(ctx, sizeSQL).Scan(&name, &size); err != nil {
		return f, d.fail("database size", err)
	}
	f.size = map[string]int64{name: size}
	if err := tx.QueryRow(ctx, connectionsSQL).Scan(&f.connections, &f.maxConnections); err != nil {
		return f, d.fail("connections", err)
	}
	if f.longestQuery, err = oneSession(ctx, tx, longestQuerySQL); err != nil {
		return f, d.fail("the longest query", err)
	}
	if f.longestTx, err = oneSession(ctx, tx, longestTxSQL); err != nil {
		return f, d.fail("the oldest transaction", err)
	}
	if err := d.lockWaits(ctx, tx, &f); err != nil {
		return f, d.fail("lock waits", err)
	}
	if err := d.replication(ctx, tx, &f); err != nil {
		return f, d.fail("replication", err)
	}
	// Last: an error here aborts the transaction, and is only a note
	// (the extension installed but not preloaded, say).
	if err := d.statements(ctx, tx, &f); err != nil {
		f.statements = nil
		f.statementsNote = "no statement times: " + pgsql.Redact(pgsql.Describe(err, pgsql.Timeouts{Statement: d.statementTimeout}), d.dsn)
	}
	return f, nil
}

func (d *direct) fail(what string, err error) error {
	return fmt.Errorf("%s: %s", what, pgsql.Redact(pgsql.Describe(err, pgsql.Timeouts{Statement: d.statementTimeout}), d.dsn))
}

// oneSession runs a query of one session row, nil when there is none.
func oneSession(ctx context.Context, tx pgx.Tx, sql string) (*session, error) {
	var s session
	var age float64
	err := tx.QueryRow(ctx, sql).Scan(&s.pid, &s.user, &s.db, &age, &s.query)
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.age, s.query = seconds(age), sanitize(s.query)
	return &s, nil
}

func (d *direct) lockWaits(ctx context.Context, tx pgx.Tx, f *figures) error {
	rows, err := tx.Query(ctx, lockWaitsSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	waiters := map[int32]bool{}
	for rows.Next() {
		var w, b session
		var age float64
		if err := rows.Scan(&w.pid, &w.user, &w.db, &age, &w.query, &b.pid, &b.user, &b.db, &b.query); err != nil {
			return err
		}
		waiters[w.pid] = true
		if f.longestWait != nil {
			continue
		}
		w.age, w.query = seconds(age), sanitize(w.query)
		f.longestWait = &w
		if b.pid != 0 {
			b.query = sanitize(b.query)
			f.blocker = &b
		}
	}
	f.lockKnown, f.lockWaiters = true, len(waiters)
	return rows.Err()
}

func (d *direct) replication(ctx context.Context, tx pgx.Tx, f *figures) error {
	if err := tx.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&f.isReplica); err != nil {
		return err
	}
	if f.isReplica {
		var lag *float64
		if err := tx.QueryRow(ctx, replicaLagSQL).Scan(&lag); err != nil {
			return err
		}
		if lag != nil {
			l := seconds(*lag)
			f.lag = &l
		}
		return nil
	}
	rows, err := tx.Query(ctx, replicationSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var app, addr string
		var lag *float64
		if err := rows.Scan(&app, &addr, &lag); err != nil {
			return err
		}
		f.replicas++
		if lag == nil {
			continue
		}
		if l := seconds(*lag); f.lag == nil || l > *f.lag {
			f.lag, f.lagOf = &l, "replica "+cmp.Or(app, addr)
		}
	}
	return rows.Err()
}

func (d *direct) statements(ctx context.Context, tx pgx.Tx, f *figures) error {
	var installed bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')").Scan(&installed); err != nil {
		return err
	}
	if !installed {
		f.statementsNote = "no statement times (pg_stat_statements is not installed in this database)"
		return nil
	}
	rows, err := tx.Query(ctx, statementsSQL, d.topStatements)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s statement
		var meanMS float64
		if err := rows.Scan(&s.id, &s.calls, &meanMS, &s.query); err != nil {
			return err
		}
		s.mean, s.query = time.Duration(meanMS*float64(time.Millisecond)), sanitize(s.query)
		f.statements = append(f.statements, s)
	}
	return rows.Err()
}
