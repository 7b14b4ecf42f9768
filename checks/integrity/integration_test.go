package integrity

import (
	"context"
	"errors"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/store/postgres/pgtest"
)

// password is the read-only role's; it must never show in a result.
const password = "s3cret-pw-integrity"

// startDatabase starts a real PostgreSQL with a database holding planted
// violations, and returns the superuser's DSN and the DSN of a role that
// can only read the invariants' tables.
func startDatabase(t *testing.T) (admin, readOnly string) {
	t.Helper()
	ctx := context.Background()
	srv, err := pgtest.Start(ctx, pgtest.Options{})
	if errors.Is(err, pgtest.ErrNotInstalled) && testing.Short() {
		t.Skipf("-short: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	admin, err = srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
CREATE TABLE service_users (id int PRIMARY KEY);
CREATE TABLE referrals (id int PRIMARY KEY, service_user_id int);
CREATE TABLE appointments (id int PRIMARY KEY, starts_at timestamptz NOT NULL, ends_at timestamptz NOT NULL);
CREATE TABLE audit (id serial PRIMARY KEY, note text);
CREATE TABLE invoices (id int PRIMARY KEY);
INSERT INTO service_users SELECT generate_series(1, 10);
-- referrals 1..10 have their user; 11..17 do not.
INSERT INTO referrals SELECT i, CASE WHEN i <= 10 THEN i ELSE 1000 + i END FROM generate_series(1, 17) i;
INSERT INTO appointments VALUES
  (41, '2026-12-01 09:00Z', '2026-12-01 10:00Z'),
  (42, '2026-12-01 09:00Z', '2026-12-01 08:30Z');
-- Owned by the superuser and run with its rights: only the read-only
-- transaction stands between it and the audit table.
CREATE FUNCTION sneaky_write() RETURNS SETOF int SECURITY DEFINER LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit (note) VALUES ('written by an invariant');
  RETURN QUERY SELECT 1;
END $$;
CREATE ROLE checker LOGIN PASSWORD '`+password+`';
GRANT SELECT ON service_users, referrals, appointments, invoices TO checker;
GRANT pg_monitor TO checker;
`)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("checker", password)
	return admin, u.String()
}

func TestInvariantsAgainstPostgres(t *testing.T) {
	admin, dsn := startDatabase(t)
	ctx := context.Background()
	cfg := Config{
		DSNEnv:           "OPS_INTEGRITY_DSN",
		StatementTimeout: model.Duration(500 * time.Millisecond),
		Invariants: []Invariant{
			{Name: "referrals-orphaned", Description: "referrals without a service user",
				Query: "SELECT r.id FROM referrals r LEFT JOIN service_users u ON u.id = r.service_user_id WHERE u.id IS NULL -- orphans\n;"},
			{Name: "appointments-backwards", Description: "appointments ending before they start",
				Query: "SELECT id FROM appointments WHERE ends_at < starts_at", Severity: "warn"},
			{Name: "users-negative", Query: "SELECT id FROM service_users WHERE id < 0"},
			{Name: "writes", Query: "SELECT s AS id FROM sneaky_write() s"},
			{Name: "slow", Query: "SELECT 1 AS id FROM pg_sleep(60)"},
			{Name: "hidden", Query: "SELECT id FROM audit"},
			{Name: "invoices-locked", Query: "SELECT id FROM invoices"},
		},
	}
	// A migration holds an exclusive lock on invoices while the check runs.
	migration, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer migration.Close(ctx)
	for _, sql := range []string{"BEGIN", "LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE"} {
		if _, err := migration.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(cfg, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := c.Run(ctx)

	if res.Status != checks.Fail {
		t.Errorf("status = %s, want fail", res.Status)
	}
	const wantSummary = "2 of 7 invariants broken; 4 unknown (writes: refused: read-only transaction"
	if !strings.HasPrefix(res.Summary, wantSummary) {
		t.Errorf("summary = %q, want it to start %q", res.Summary, wantSummary)
	}
	byFP := map[string]checks.Finding{}
	for _, f := range res.Findings {
		byFP[f.Fingerprint] = f
		if strings.Contains(f.Title+f.Detail, password) {
			t.Errorf("finding shows the password: %+v", f)
		}
	}
	want := []string{
		"integrity/appointments-backwards", "integrity/hidden/unknown", "integrity/invoices-locked/unknown",
		"integrity/referrals-orphaned", "integrity/slow/unknown", "integrity/writes/unknown",
	}
	if got := slices.Sorted(maps.Keys(byFP)); !slices.Equal(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	orphans := byFP["integrity/referrals-orphaned"]
	if orphans.Severity != checks.Fail || orphans.Count != 7 ||
		orphans.Title != "referrals without a service user: 7 rows" ||
		orphans.Detail != "ids 11, 12, 13, 14, 15 and 2 more" {
		t.Errorf("orphans finding = %+v", orphans)
	}
	backwards := byFP["integrity/appointments-backwards"]
	if backwards.Severity != checks.Warn || backwards.Count != 1 ||
		backwards.Title != "appointments ending before they start: 1 row" || backwards.Detail != "ids 42" {
		t.Errorf("backwards finding = %+v", backwards)
	}
	if f := byFP["integrity/writes/unknown"]; !strings.Contains(f.Title, "writes: unknown: refused: read-only transaction") {
		t.Errorf("write finding title = %q", f.Title)
	}
	if f := byFP["integrity/slow/unknown"]; !strings.Contains(f.Title, "slow: unknown: timed out after 500ms (statementTimeout)") {
		t.Errorf("slow finding title = %q", f.Title)
	}
	if f := byFP["integrity/invoices-locked/unknown"]; !strings.Contains(f.Title,
		"invoices-locked: unknown: waited more than 250ms for a lock, held by a migration or a long transaction") {
		t.Errorf("locked finding title = %q", f.Title)
	}
	// The role may not read the audit table: said, not hidden.
	if f := byFP["integrity/hidden/unknown"]; !strings.Contains(f.Title, "permission denied for table audit") {
		t.Errorf("hidden finding title = %q", f.Title)
	}

	// Nothing was written: the read-only transaction refused the write
	// the function would have made with the superuser's rights.
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var written int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM audit").Scan(&written); err != nil {
		t.Fatal(err)
	}
	if written != 0 {
		t.Errorf("the audit table has %d rows: an invariant wrote", written)
	}
}

// TestUnreachableDatabase: a database that cannot be reached makes the
// check unknown, saying where it tried, without the DSN's password.
func TestUnreachableDatabase(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	dsn := "postgres://checker:" + password + "@127.0.0.1:" + strconv.Itoa(port) + "/shop?sslmode=disable&connect_timeout=5"
	c, err := New(Config{DSNEnv: "OPS_INTEGRITY_DSN", Invariants: []Invariant{{Name: "a", Query: "SELECT 1 AS id"}}}, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := c.Run(context.Background())
	if res.Status != checks.Unknown || len(res.Findings) != 0 {
		t.Errorf("status %s with %d findings, want unknown without findings", res.Status, len(res.Findings))
	}
	want := "connecting to 127.0.0.1:" + strconv.Itoa(port) + "/shop: "
	if !strings.HasPrefix(res.Summary, want) || strings.Contains(res.Summary, password) {
		t.Errorf("summary = %q, want it to start %q and not show the password", res.Summary, want)
	}
}
