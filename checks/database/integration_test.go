package database

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/store/postgres/pgtest"
)

// password is the monitoring role's; it must never show in a result.
const password = "s3cret-pw-database"

// eventually waits (polling, without a fixed sleep) until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		<-tick.C
	}
}

func dur(d time.Duration) *model.Duration { m := model.Duration(d); return &m }

// TestPressureAgainstPostgres plants pressure on a real PostgreSQL (a long
// query, a session idle in a transaction holding a lock, another waiting
// for it, connections near max_connections, a slow statement, a database
// near its size limit) and expects the check, connected as a role that
// can only read and monitor, to find each and nothing else.
func TestPressureAgainstPostgres(t *testing.T) {
	ctx := context.Background()
	srv, err := pgtest.Start(ctx, pgtest.Options{Settings: map[string]string{
		"max_connections":                "20", // 17 for clients: 3 are reserved for superusers
		"superuser_reserved_connections": "3",
		"shared_preload_libraries":       "pg_stat_statements",
	}})
	if errors.Is(err, pgtest.ErrNotInstalled) && testing.Short() {
		t.Skipf("-short: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	admin, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := srv.CreateDatabase(ctx) // without pg_stat_statements
	if err != nil {
		t.Fatal(err)
	}
	connect := func(dsn string) *pgx.Conn {
		t.Helper()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	exec := func(c *pgx.Conn, sql string) {
		t.Helper()
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	db := connect(admin)
	exec(db, `CREATE EXTENSION pg_stat_statements;
CREATE TABLE accounts (id int PRIMARY KEY, note text);
INSERT INTO accounts VALUES (1, 'one');
CREATE ROLE monitor LOGIN PASSWORD '`+password+`';
GRANT pg_monitor TO monitor;
SELECT pg_stat_statements_reset();`)
	// A slow statement, finished: pg_stat_statements counts it.
	exec(db, "SELECT pg_sleep(0.5)")

	// A long query, running until the test cancels it.
	var running sync.WaitGroup
	planted, cancel := context.WithCancel(ctx)
	sleeper := connect(admin)
	running.Go(func() { _, _ = sleeper.Exec(planted, "SELECT pg_sleep(600)") })
	// A session idle in a transaction that holds a row lock, with a
	// secret in its statement, and one waiting for that lock.
	holder := connect(admin)
	exec(holder, "BEGIN")
	exec(holder, "UPDATE accounts SET note = 'password=hunter2' WHERE id = 1")
	waiter := connect(admin)
	running.Go(func() { _, _ = waiter.Exec(planted, "UPDATE accounts SET note = 'two' WHERE id = 1") })
	// Before the connections close (cleanups run last first).
	t.Cleanup(func() { cancel(); running.Wait() })

	clients := func() int {
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Connections: 14 here, and the check's own makes 15 of 17 (88%).
	for clients() < 14 {
		connect(admin)
	}
	var size int64
	if err := db.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&size); err != nil {
		t.Fatal(err)
	}
	// Each planted session has been at it for longer than the thresholds.
	eventually(t, "the planted sessions are past the thresholds", func() bool {
		var n int
		err := db.QueryRow(ctx, `SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)' AND now() - query_start > '200ms') +
  (SELECT count(*) FROM pg_locks WHERE NOT granted AND now() - waitstart > '200ms') +
  (SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND now() - xact_start > '200ms')`).Scan(&n)
		return err == nil && n == 3
	})

	cfg := Config{
		DSNEnv:    "OPS_DATABASE_DSN",
		SizeLimit: logs.ByteSize(float64(size) / 0.85),
		Thresholds: Thresholds{
			QueryWarn: dur(100 * time.Millisecond), TransactionWarn: dur(100 * time.Millisecond),
			LockWaitWarn: dur(100 * time.Millisecond), StatementWarn: dur(300 * time.Millisecond),
		},
	}
	monitorDSN := func(dsn string) string {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword("monitor", password)
		return u.String()
	}
	c, err := New(cfg, Env{DSN: monitorDSN(admin)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := c.Run(ctx)

	var got []string
	byReason := map[string]checks.Finding{}
	for _, f := range res.Findings {
		reason := strings.Split(f.Fingerprint, "/")[1]
		got = append(got, f.Severity.String()+" "+reason)
		byReason[reason] = f
		if strings.Contains(f.Title+f.Detail, "hunter2") || strings.Contains(f.Title+f.Detail, password) {
			t.Errorf("finding shows a secret: %+v", f)
		}
	}
	slices.Sort(got)
	want := []string{"warn connections", "warn lock-wait", "warn long-query", "warn long-transaction", "warn size", "warn slow-statement"}
	if !slices.Equal(got, want) {
		t.Fatalf("findings %q, want %q\nresult: %+v", got, want, res)
	}
	if f := byReason["connections"]; !strings.HasPrefix(f.Title, "15 of 17 connections in use (88%") {
		t.Errorf("connections title = %q", f.Title)
	}
	if f := byReason["long-query"]; !strings.HasSuffix(f.Detail, "(postgres@test_1): SELECT pg_sleep(600)") {
		t.Errorf("long query detail = %q", f.Detail)
	}
	update := "(postgres@test_1): UPDATE accounts SET note = '?' WHERE id = 1"
	if f := byReason["long-transaction"]; !strings.HasSuffix(f.Detail, update) {
		t.Errorf("long transaction detail = %q", f.Detail)
	}
	lock := byReason["lock-wait"]
	if !strings.HasPrefix(lock.Title, "1 session waiting on locks, the longest for ") || lock.Count != 1 ||
		!strings.Contains(lock.Detail, "\nblocked by: pid ") || strings.Count(lock.Detail, update) != 2 {
		t.Errorf("lock wait finding = %+v", lock)
	}
	if f := byReason["slow-statement"]; f.Detail != "SELECT pg_sleep($1)" || !strings.Contains(f.Title, "over 1 calls") {
		t.Errorf("slow statement finding = %+v", f)
	}
	if f := byReason["size"]; !strings.Contains(f.Title, "(85%; warn 80%, fail 90%)") {
		t.Errorf("size title = %q", f.Title)
	}
	if res.Status != checks.Warn || !strings.Contains(res.Summary, "no replicas") {
		t.Errorf("status %s, summary %q", res.Status, res.Summary)
	}

	// The pressure gone, the check sees nothing of it, nor of itself:
	// its own statement is not "the longest query".
	cancel()
	running.Wait()
	exec(holder, "ROLLBACK")
	eventually(t, "the planted sessions are idle", func() bool {
		var n int
		err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state <> 'idle'`).Scan(&n)
		return err == nil && n == 0
	})
	res = c.Run(ctx)
	for _, f := range res.Findings {
		if reason := strings.Split(f.Fingerprint, "/")[1]; reason != "size" && reason != "connections" && reason != "slow-statement" {
			t.Errorf("once the pressure is gone: %+v", f)
		}
	}
	if strings.Contains(res.Summary, "longest query") || strings.Contains(res.Summary, "oldest transaction") ||
		!strings.Contains(res.Summary, "no lock waits") {
		t.Errorf("once the pressure is gone: summary %q", res.Summary)
	}

	// A database without pg_stat_statements: said, not an error.
	c, err = New(cfg, Env{DSN: monitorDSN(bare)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res = c.Run(ctx)
	const note = "no statement times (pg_stat_statements is not installed in this database)"
	if res.Status == checks.Unknown || !strings.Contains(res.Summary, note) {
		t.Errorf("without pg_stat_statements: status %s, summary %q", res.Status, res.Summary)
	}
	for _, f := range res.Findings {
		if strings.Contains(f.Fingerprint, "slow-statement") {
			t.Errorf("a slow statement without pg_stat_statements: %+v", f)
		}
	}
}
