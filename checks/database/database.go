// Package database is the runbook's look at the team's PostgreSQL itself:
// is it within its tolerances? It measures, each against warn and fail
// thresholds (defaults in parentheses):
//
//   - the database's size against sizeLimit, or the capacity of its PVC
//     (kubelet_volume_stats_capacity_bytes in Prometheus) (80%, 90%), when
//     one is set;
//   - connections in use against max_connections less
//     superuser_reserved_connections (80%, 95%);
//   - the longest running statement (5m, 30m) and the oldest transaction
//     that has outlived its statement, idle in transaction or several
//     statements long (15m, 1h), ignoring idle sessions and its own;
//   - sessions waiting on locks: how many, and the longest wait (30s,
//     5m), with the query of the session blocking it;
//   - replication lag (30s, 5m): on a primary, its replicas' replay_lag;
//     on a replica, how old its last replayed transaction is;
//   - the slowest statements by mean execution time (1s, 10s), from
//     pg_stat_statements when the extension is installed in the database
//     (when it is not, the summary says so: that is not an error).
//
// The figures come from a read-only connection (source postgres: the DSN
// an environment variable names, with a statement timeout), or from
// postgres_exporter's metrics in the environment's Prometheus (source
// prometheus), which has no query texts, lock waits or statement times.
//
// Query texts from pg_stat_activity and pg_stat_statements are other
// people's SQL: their string literals are replaced with '?', then they are
// shortened and redacted before they reach a finding.
package database

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/redact"
)

// session is a backend of pg_stat_activity.
type session struct {
	pid   int32
	user  string
	db    string
	age   time.Duration // of its statement, transaction or lock wait
	query string        // sanitized
}

// statement is a row of pg_stat_statements.
type statement struct {
	id    int64
	calls int64
	mean  time.Duration
	query string // sanitized
}

// figures are what the check measured; a source fills what it can.
type figures struct {
	size      map[string]int64 // bytes, by database name
	sizeLimit int64            // the PVC's capacity; 0: sizeLimit, if any
	limitNote string           // why the PVC's capacity is not known

	connections, maxConnections int64 // maxConnections 0: not known

	longestQuery *session
	longestTx    *session

	lockKnown   bool
	lockWaiters int
	longestWait *session // the waiting session
	blocker     *session // the session it waits for, if known

	isReplica       bool
	replicas        int            // on a primary: how many replicas report
	replicasUnknown bool           // a primary's replicas are not known
	lag             *time.Duration // the worst lag, when known
	lagOf           string         // which replica

	statementsNote string // why there are no statement times
	statements     []statement
}

// Check looks at one PostgreSQL.
type Check struct {
	cfg    Config
	lim    limits
	src    source
	prom   *prom // for the PVC's capacity; nil without pvc or source prometheus
	logger *zap.Logger
}

// source gathers the figures.
type source interface {
	gather(ctx context.Context) (figures, error)
}

// Name returns "database".
func (c *Check) Name() string { return "database" }

// Timeout returns the check's deadline (config key timeout).
func (c *Check) Timeout() time.Duration { return time.Duration(c.cfg.Timeout) }

// Run gathers the figures and judges them.
func (c *Check) Run(ctx context.Context) checks.Result {
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout(), fmt.Errorf("no answer within %s", c.Timeout()))
	defer cancel()
	f, err := c.src.gather(ctx)
	if err != nil {
		c.logger.Warn("cannot measure the database", zap.String("error", err.Error()))
		return checks.UnknownResult(httpx.Truncate(err.Error(), 500))
	}
	if c.cfg.PVC != "" {
		c.capacity(ctx, &f)
	}
	return c.evaluate(f)
}

// capacity sets the size limit to the PVC's capacity, or says why it
// cannot.
func (c *Check) capacity(ctx context.Context, f *figures) {
	ns, name, _ := strings.Cut(c.cfg.PVC, "/")
	q := fmt.Sprintf(`max(kubelet_volume_stats_capacity_bytes{namespace=%q,persistentvolumeclaim=%q})`, ns, name)
	v, ok, err := c.prom.scalar(ctx, q)
	switch {
	case err != nil:
		c.logger.Warn("cannot read the PVC's capacity", zap.Error(err))
		f.limitNote = "capacity of PVC " + c.cfg.PVC + " unknown: " + httpx.Truncate(err.Error(), 200)
	case !ok || v <= 0:
		f.limitNote = "capacity of PVC " + c.cfg.PVC + " unknown: no kubelet_volume_stats_capacity_bytes for it"
	default:
		f.sizeLimit = int64(v)
	}
}

// severity is Fail, Warn or OK for v against warn and fail.
func severity(v, warn, fail float64) checks.Status {
	switch {
	case v >= fail:
		return checks.Fail
	case v >= warn:
		return checks.Warn
	}
	return checks.OK
}

// evaluate turns the figures into findings and a summary.
func (c *Check) evaluate(f figures) checks.Result {
	var findings []checks.Finding
	var sum []string
	l := c.lim
	add := func(sev checks.Status, reason, object, title, detail string, count int) {
		if sev == checks.OK {
			return
		}
		findings = append(findings, checks.Finding{
			Fingerprint: checks.Fingerprint("database", reason, object),
			Severity:    sev, Object: object, Title: title, Detail: detail, Count: count,
		})
	}

	// Size.
	switch {
	case len(f.size) == 0:
		sum = append(sum, "size unknown")
	default:
		var parts []string
		for _, name := range sortedKeys(f.size) {
			b := f.size[name]
			part := checks.HumanBytes(b)
			if len(f.size) > 1 {
				part = name + " " + part
			}
			if lim := cmp.Or(f.sizeLimit, int64(c.cfg.SizeLimit)); lim > 0 {
				r := float64(b) / float64(lim)
				part += fmt.Sprintf(" of %s", checks.HumanBytes(lim))
				on := ""
				if f.sizeLimit > 0 {
					on = " on PVC " + c.cfg.PVC
				}
				add(severity(r, l.sizeWarn, l.sizeFail), "size", "database "+name,
					fmt.Sprintf("database %s at %s of %s%s (%s; warn %s, fail %s)", name, checks.HumanBytes(b),
						checks.HumanBytes(lim), on, percent(r), percent(l.sizeWarn), percent(l.sizeFail)), "", 0)
			}
			parts = append(parts, part)
		}
		sum = append(sum, "size "+strings.Join(parts, ", "))
	}
	if f.limitNote != "" {
		sum = append(sum, f.limitNote)
	}

	// Connections.
	if f.maxConnections > 0 {
		r := float64(f.connections) / float64(f.maxConnections)
		sum = append(sum, fmt.Sprintf("%d of %d connections", f.connections, f.maxConnections))
		add(severity(r, l.connWarn, l.connFail), "connections", "",
			fmt.Sprintf("%d of %d connections in use (%s; warn %s, fail %s)", f.connections, f.maxConnections,
				percent(r), percent(l.connWarn), percent(l.connFail)), "", int(f.connections))
	}

	// Longest query and transaction.
	if s := f.longestQuery; s != nil {
		sum = append(sum, "longest query "+fmtAge(s.age))
		add(severity(sec(s.age), sec(l.queryWarn), sec(l.queryFail)), "long-query", "",
			fmt.Sprintf("a query has run for %s (warn %s, fail %s)", fmtAge(s.age), fmtAge(l.queryWarn), fmtAge(l.queryFail)),
			describe(s), 0)
	}
	if s := f.longestTx; s != nil {
		sum = append(sum, "oldest transaction "+fmtAge(s.age))
		add(severity(sec(s.age), sec(l.txWarn), sec(l.txFail)), "long-transaction", "",
			fmt.Sprintf("a transaction has been open for %s (warn %s, fail %s)", fmtAge(s.age), fmtAge(l.txWarn), fmtAge(l.txFail)),
			describe(s), 0)
	}

	// Lock waits.
	if f.lockKnown {
		if f.lockWaiters == 0 || f.longestWait == nil {
			sum = append(sum, "no lock waits")
		} else {
			w := f.longestWait
			sum = append(sum, fmt.Sprintf("%d waiting on locks", f.lockWaiters))
			detail := "waiting: " + describe(w)
			if b := f.blocker; b != nil {
				detail += "\nblocked by: " + describe(b)
			}
			add(severity(sec(w.age), sec(l.lockWarn), sec(l.lockFail)), "lock-wait", "",
				fmt.Sprintf("%d %s waiting on locks, the longest for %s (warn %s, fail %s)", f.lockWaiters,
					plural(f.lockWaiters, "session", "sessions"), fmtAge(w.age), fmtAge(l.lockWarn), fmtAge(l.lockFail)),
				detail, f.lockWaiters)
		}
	}

	// Replication.
	switch {
	case f.lag != nil:
		who := "replica"
		if !f.isReplica {
			who = cmp.Or(f.lagOf, "a replica")
		}
		if f.isReplica {
			sum = append(sum, "replica, "+fmtAge(*f.lag)+" behind")
		} else {
			sum = append(sum, fmt.Sprintf("%d %s, lag %s", f.replicas, plural(f.replicas, "replica", "replicas"), fmtAge(*f.lag)))
		}
		add(severity(sec(*f.lag), sec(l.lagWarn), sec(l.lagFail)), "replication-lag", "",
			fmt.Sprintf("%s %s behind (warn %s, fail %s)", who, fmtAge(*f.lag), fmtAge(l.lagWarn), fmtAge(l.lagFail)), "", 0)
	case !f.isReplica && f.replicas == 0 && !f.replicasUnknown:
		sum = append(sum, "no replicas")
	}

	// Statements.
	if f.statementsNote != "" {
		sum = append(sum, f.statementsNote)
	} else if len(f.statements) > 0 {
		sum = append(sum, "slowest statement mean "+fmtAge(f.statements[0].mean))
		for _, s := range f.statements {
			add(severity(sec(s.mean), sec(l.statementWarn), sec(l.statementFail)), "slow-statement", fmt.Sprintf("queryid %d", s.id),
				fmt.Sprintf("a statement takes %s on average over %s calls (warn %s, fail %s)", fmtAge(s.mean),
					checks.Thousands(s.calls), fmtAge(l.statementWarn), fmtAge(l.statementFail)), s.query, 0)
		}
	}
	return checks.Result{Status: checks.Summarize(findings), Summary: strings.Join(sum, "; "), Findings: findings}
}

// describe names a session: "pid 7 (app@shop): SELECT ...", or "" when
// nothing is known of it but its age (source prometheus).
func describe(s *session) string {
	if s.pid == 0 {
		return ""
	}
	who := fmt.Sprintf("pid %d", s.pid)
	if s.user != "" {
		who += " (" + s.user
		if s.db != "" {
			who += "@" + s.db
		}
		who += ")"
	}
	if s.query != "" {
		who += ": " + s.query
	}
	return who
}

var (
	literalRE = regexp.MustCompile(`'(?:[^']|'')*'?`)
	spacesRE  = regexp.MustCompile(`\s+`)
)

// sanitize makes other people's SQL fit to show: string literals replaced
// with '?', whitespace collapsed, redacted, then shortened to 200
// characters (after: a secret cut in half might not be recognised).
func sanitize(query string) string {
	q := literalRE.ReplaceAllString(query, "'?'")
	q = strings.TrimSpace(spacesRE.ReplaceAllString(q, " "))
	return httpx.Truncate(redact.Redactor{}.Text(q), 200)
}

func percent(r float64) string { return fmt.Sprintf("%.0f%%", r*100) }

// fmtAge is a duration as people read it: 12m30s, 1h5m, 5m, 850ms.
func fmtAge(d time.Duration) string {
	var s string
	switch {
	case d >= time.Hour:
		s = d.Truncate(time.Minute).String()
	case d >= time.Minute:
		s = d.Truncate(time.Second).String()
	case d >= time.Second:
		s = d.Truncate(100 * time.Millisecond).String()
	default:
		s = d.Truncate(time.Millisecond).String()
	}
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
