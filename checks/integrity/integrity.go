// Package integrity is the runbook's look at the data itself: invariant
// queries the team writes in the configuration ("referrals without a
// service user", "appointments ending before they start"), each expected
// to return no rows. Every row is a violation: the check reports each
// broken invariant as one finding, with how many rows it returned and the
// ids of the first few.
//
// The queries run against the team's PostgreSQL on a connection whose DSN
// comes from an environment variable, each in its own read-only
// transaction (BEGIN READ ONLY, on a session whose
// default_transaction_read_only is on) with a statement_timeout and a
// lock_timeout of half of it. A query that fails, times out, waits too
// long for a lock (a migration holding one) or tries to write makes its
// invariant unknown, with the reason; the others still report.
//
// A query runs wrapped, so that all its rows are counted but only the
// first few are read:
//
//	SELECT count(*) OVER (), q.<idColumn>::text FROM (
//	<query>
//	) AS q ORDER BY q.<idColumn> LIMIT <maxIds>
//
// (the ids in order, the first maxIds of them, all rows counted).
//
// A query with a ';' other than a trailing one is rejected by the
// configuration's validation, and the extended protocol the driver uses
// refuses several statements anyway; the wrapper is not a security
// boundary. The read-only transaction is: a query that writes, directly or
// through a function, is refused by PostgreSQL. Still, give the check a
// role that can only read (SELECT on the tables the invariants read).
//
// The integrity and database checks are two packages, as every check is
// (its package, its Name() and its configuration key are one name); what
// they share, the read-only connection and the way errors are said, is in
// checks/internal/pgsql.
package integrity

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/internal/pgsql"
	"github.com/opsbot/opsbot/internal/httpx"
)

// Check runs the invariants of one database.
type Check struct {
	cfg    Config
	dsn    string
	logger *zap.Logger
}

// New returns the integrity check. dsn is the connection string (read from
// the variable cfg.DSNEnv names); cfg is defaulted and validated.
func New(cfg Config, dsn string, logger *zap.Logger) (*Check, error) {
	cfg.Invariants = append([]Invariant(nil), cfg.Invariants...) // SetDefaults writes to them
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(dsn) == "" {
		return nil, fmt.Errorf("dsnEnv: environment variable %s is empty", cfg.DSNEnv)
	}
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return nil, fmt.Errorf("dsnEnv: the connection string in %s cannot be parsed: %s", cfg.DSNEnv, pgsql.Redact(err.Error(), dsn))
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Check{cfg: cfg, dsn: dsn, logger: logger.With(zap.String("check", "integrity"))}, nil
}

// Name returns "integrity".
func (c *Check) Name() string { return "integrity" }

// Timeout returns the check's deadline (config key timeout).
func (c *Check) Timeout() time.Duration { return time.Duration(c.cfg.Timeout) }

// outcome is what one invariant's query gave: the number of rows and the
// first ids, or why it could not tell.
type outcome struct {
	rows    int64
	ids     []string
	unknown string
}

// Run runs every invariant, one after the other, on one connection.
func (c *Check) Run(ctx context.Context) checks.Result {
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout(), fmt.Errorf("no answer within %s", c.Timeout()))
	defer cancel()
	st := time.Duration(c.cfg.StatementTimeout)
	conn, err := pgsql.Open(ctx, c.dsn, "integrity", st)
	if err != nil {
		c.logger.Warn("cannot connect", zap.String("error", err.Error()))
		return checks.UnknownResult(httpx.Truncate(err.Error(), 500))
	}
	defer pgsql.Close(ctx, conn)
	outcomes := make([]outcome, len(c.cfg.Invariants))
	for i, inv := range c.cfg.Invariants {
		if ctx.Err() != nil {
			outcomes[i].unknown = "not run: " + context.Cause(ctx).Error()
			continue
		}
		outcomes[i] = c.run(ctx, conn, inv)
		if o := outcomes[i]; o.unknown != "" {
			c.logger.Warn("invariant unknown", zap.String("invariant", inv.Name), zap.String("reason", o.unknown))
		}
	}
	return c.evaluate(outcomes)
}

// run runs one invariant in a read-only transaction of its own, rolled
// back whatever happens.
func (c *Check) run(ctx context.Context, conn *pgx.Conn, inv Invariant) outcome {
	query, _ := pgsql.SingleStatement(inv.Query) // validated
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return outcome{unknown: c.describe(err)}
	}
	defer pgsql.Rollback(ctx, tx)
	// SET LOCAL takes no parameters; the values are digits and "ms".
	t := c.timeouts()
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = '%dms'", t.Statement.Milliseconds())); err != nil {
		return outcome{unknown: c.describe(err)}
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = '%dms'", max(t.Lock.Milliseconds(), 1))); err != nil {
		return outcome{unknown: c.describe(err)}
	}
	rows, err := tx.Query(ctx, wrap(query, inv.IDColumn, c.cfg.MaxIDs))
	if err != nil {
		return outcome{unknown: c.describe(err)}
	}
	var o outcome
	for rows.Next() {
		var id *string
		if err := rows.Scan(&o.rows, &id); err != nil {
			rows.Close()
			return outcome{unknown: c.describe(err)}
		}
		o.ids = append(o.ids, httpx.Truncate(cmp.Or(deref(id), "NULL"), 64))
	}
	if err := rows.Err(); err != nil {
		return outcome{unknown: c.describe(err)}
	}
	return o
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// wrap is the query that counts query's rows and reads the first maxIDs
// ids. The newlines keep a trailing "-- comment" of query from commenting
// out the rest. It has no parameters, so a "$1" in query is an error of
// its own, not the wrapper's limit.
func wrap(query, idColumn string, maxIDs int) string {
	id := "q." + pgx.Identifier{idColumn}.Sanitize()
	return "SELECT count(*) OVER (), " + id + "::text FROM (\n" + query + "\n) AS q ORDER BY " + id + " LIMIT " + strconv.Itoa(maxIDs)
}

// describe says why a query gave no answer, without the DSN.
func (c *Check) describe(err error) string {
	return pgsql.Redact(pgsql.Describe(err, c.timeouts()), c.dsn)
}

// timeouts are an invariant's statement_timeout and its lock_timeout, half
// of it: a query kept waiting by a lock (a migration's) says so, rather
// than merely timing out.
func (c *Check) timeouts() pgsql.Timeouts {
	st := time.Duration(c.cfg.StatementTimeout)
	return pgsql.Timeouts{Statement: st, Lock: st / 2}
}

// evaluate turns the outcomes into the check's result: a finding per
// broken invariant, and one per invariant that could not be told.
func (c *Check) evaluate(outcomes []outcome) checks.Result {
	var (
		findings []checks.Finding
		broken   int
		unknown  []string
	)
	for i, inv := range c.cfg.Invariants {
		o := outcomes[i]
		desc := cmp.Or(strings.TrimSpace(inv.Description), inv.Name)
		if o.unknown != "" {
			unknown = append(unknown, inv.Name+": "+o.unknown)
			findings = append(findings, checks.Finding{
				Fingerprint: checks.Fingerprint("integrity", inv.Name, "unknown"),
				Severity:    checks.Warn,
				Object:      "invariant " + inv.Name,
				Title:       httpx.Truncate(fmt.Sprintf("%s: unknown: %s", desc, o.unknown), 300),
				Detail:      httpx.Truncate(inv.Query, 1000),
			})
			continue
		}
		if o.rows == 0 {
			continue
		}
		broken++
		sev := checks.Fail
		if inv.Severity == "warn" {
			sev = checks.Warn
		}
		detail := "ids " + strings.Join(o.ids, ", ")
		if more := o.rows - int64(len(o.ids)); more > 0 {
			detail += fmt.Sprintf(" and %s more", checks.Thousands(more))
		}
		findings = append(findings, checks.Finding{
			Fingerprint: checks.Fingerprint("integrity", inv.Name),
			Severity:    sev,
			Object:      "invariant " + inv.Name,
			Title:       fmt.Sprintf("%s: %s %s", desc, checks.Thousands(o.rows), plural(o.rows, "row", "rows")),
			Detail:      detail,
			Count:       int(o.rows),
		})
	}
	n := len(c.cfg.Invariants)
	if len(unknown) == n {
		reason := "invariant " + unknown[0]
		if n > 1 {
			reason = fmt.Sprintf("all %d invariants unknown, e.g. %s", n, unknown[0])
		}
		return checks.UnknownResult(httpx.Truncate(reason, 500))
	}
	var sum []string
	switch {
	case broken > 0:
		sum = append(sum, fmt.Sprintf("%d of %d invariants broken", broken, n))
	default:
		held := n - len(unknown)
		sum = append(sum, fmt.Sprintf("%d %s %s", held, plural(int64(held), "invariant", "invariants"), plural(int64(held), "holds", "hold")))
	}
	if len(unknown) > 0 {
		sum = append(sum, fmt.Sprintf("%d unknown (%s)", len(unknown), httpx.Truncate(unknown[0], 200)))
	}
	status := checks.Summarize(findings)
	if len(unknown) > 0 {
		status = checks.Worst(status, checks.Unknown)
	}
	return checks.Result{Status: status, Summary: strings.Join(sum, "; "), Findings: findings}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
