package scenario

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opsbot/opsbot/store/postgres/pgtest"
)

// DatabaseDSNEnv names the environment variable holding the read-only
// role's connection string, which the scenario's integrity and database
// checks both read (Checklist.Environ sets it).
const DatabaseDSNEnv = "OPSBOT_SHOP_DB_DSN"

// pressureAfter is the scenario config's queryWarn, transactionWarn and
// lockWaitWarn. The planted sessions are seconds old, so production's
// minutes would take them for ordinary traffic; WaitSettled waits until
// each is older than this.
const pressureAfter = time.Second

// Connections: max_connections less superuser_reserved_connections leaves
// 17 for clients. The planted sessions hold 13; the database check's own
// makes 14 (82%), and the integrity check's, if it is connected at the
// same moment, 15 (88%): over the 80% warn level either way, under the
// 95% fail level.
const (
	maxConnections      = 20
	reservedConnections = 3
	plantedConnections  = 13
)

// readOnlyPassword is the read-only role's; it must never show in a
// finding.
const readOnlyPassword = "s3cret-pw-scenario"

// Database is the scenario's PostgreSQL: the team's data with integrity
// violations, a read-only role for the checks, and pressure held on the
// server (a long query, a session idle in a transaction holding a row
// lock, another waiting on it, connections near max_connections) until
// Close.
type Database struct {
	// ReadOnlyDSN is the connection string of a role that may only SELECT
	// the team's tables and read the server's activity (pg_monitor).
	ReadOnlyDSN string

	srv     *pgtest.Server
	admin   *pgx.Conn
	conns   []*pgx.Conn
	cancel  context.CancelFunc
	running sync.WaitGroup
}

// The team's data: service users, their referrals and appointments.
// Planted: referrals 11..13 point at no service user (fail), appointment
// 42 ends before it starts (warn); every appointment belongs to a
// referral (holds).
const schema = `
CREATE TABLE service_users (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE referrals (id int PRIMARY KEY, service_user_id int);
CREATE TABLE appointments (id int PRIMARY KEY, referral_id int NOT NULL,
  starts_at timestamptz NOT NULL, ends_at timestamptz NOT NULL, note text);
INSERT INTO service_users SELECT i, 'user ' || i FROM generate_series(1, 10) i;
INSERT INTO referrals SELECT i, CASE WHEN i <= 10 THEN i ELSE 1000 + i END FROM generate_series(1, 13) i;
INSERT INTO appointments VALUES
  (41, 1, '2026-12-01 09:00Z', '2026-12-01 10:00Z', NULL),
  (42, 2, '2026-12-01 09:00Z', '2026-12-01 08:30Z', NULL);
`

// StartDatabase starts PostgreSQL, creates the team's data and the
// read-only role, and plants the pressure. It fails, matching
// pgtest.ErrNotInstalled, when PostgreSQL is not installed. Close it when
// done (Checklist.Close does, once it is the Checklist's Database).
func StartDatabase(ctx context.Context) (_ *Database, err error) {
	srv, err := pgtest.Start(ctx, pgtest.Options{Settings: map[string]string{
		"max_connections":                fmt.Sprint(maxConnections),
		"superuser_reserved_connections": fmt.Sprint(reservedConnections),
	}})
	if err != nil {
		return nil, fmt.Errorf("starting the scenario's database: %w", err)
	}
	d := &Database{srv: srv}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	adminDSN, err := srv.CreateDatabase(ctx)
	if err != nil {
		return nil, err
	}
	connect := func() (*pgx.Conn, error) {
		c, err := pgx.Connect(ctx, adminDSN)
		if err != nil {
			return nil, fmt.Errorf("connect to the scenario's database: %w", err)
		}
		d.conns = append(d.conns, c)
		return c, nil
	}
	if d.admin, err = connect(); err != nil {
		return nil, err
	}
	if _, err := d.admin.Exec(ctx, schema+`
CREATE ROLE checker LOGIN PASSWORD '`+readOnlyPassword+`';
GRANT SELECT ON service_users, referrals, appointments TO checker;
GRANT pg_monitor TO checker;`); err != nil {
		return nil, fmt.Errorf("create the scenario's data: %w", err)
	}
	u, err := url.Parse(adminDSN)
	if err != nil {
		return nil, err
	}
	u.User = url.UserPassword("checker", readOnlyPassword)
	d.ReadOnlyDSN = u.String()

	// The pressure runs until Close cancels it.
	var planted context.Context
	planted, d.cancel = context.WithCancel(context.WithoutCancel(ctx))
	sleeper, err := connect()
	if err != nil {
		return nil, err
	}
	d.running.Go(func() { _, _ = sleeper.Exec(planted, "SELECT pg_sleep(3600)") })
	holder, err := connect()
	if err != nil {
		return nil, err
	}
	for _, sql := range []string{"BEGIN", "UPDATE appointments SET note = 'moved' WHERE id = 41"} {
		if _, err := holder.Exec(ctx, sql); err != nil {
			return nil, fmt.Errorf("%s: %w", sql, err)
		}
	}
	waiter, err := connect()
	if err != nil {
		return nil, err
	}
	d.running.Go(func() { _, _ = waiter.Exec(planted, "UPDATE appointments SET note = 'cancelled' WHERE id = 41") })
	for len(d.conns) < plantedConnections {
		if _, err := connect(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// waitPressure waits until each planted session is older than
// pressureAfter: the query has run, the transaction been open and the
// waiter waited that long.
func (d *Database) waitPressure(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		err := d.admin.QueryRow(ctx, `SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(3600)' AND now() - query_start > $1::interval) +
  (SELECT count(*) FROM pg_locks WHERE NOT granted AND now() - waitstart > $1::interval) +
  (SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND now() - xact_start > $1::interval)`,
			fmt.Sprintf("%d ms", (pressureAfter+100*time.Millisecond).Milliseconds())).Scan(&n)
		if err != nil {
			return fmt.Errorf("look at the planted database pressure: %w", err)
		}
		if n == 3 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the planted database pressure: %w", context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// Close ends the pressure and stops the server.
func (d *Database) Close() error {
	if d.cancel != nil {
		d.cancel()
		d.running.Wait()
	}
	for _, c := range d.conns {
		_ = c.Close(context.Background())
	}
	return d.srv.Stop()
}
