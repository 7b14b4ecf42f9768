package database

import (
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/checks/internal/pgsql"
	"github.com/opsbot/opsbot/checks/logs"
)

// Config is the database check's block of an environment's configuration.
type Config struct {
	// Source is where the figures come from: "postgres" (default), a
	// direct connection with the DSN dsnEnv names, or "prometheus",
	// postgres_exporter's metrics in the environment's Prometheus.
	Source string `yaml:"source"`
	// DSNEnv names the environment variable holding the connection string
	// (source postgres). Give it a read-only role with pg_monitor, which
	// lets it see other sessions' queries and waits.
	DSNEnv string `yaml:"dsnEnv"`
	// Database is the datname label of the database whose size is
	// looked at (source prometheus). Default: every database the
	// exporter reports, each against sizeLimit.
	Database string `yaml:"database"`
	// Timeout bounds the whole check. Default 30s.
	Timeout model.Duration `yaml:"timeout"`
	// StatementTimeout bounds each of the check's own queries (source
	// postgres). Default 5s.
	StatementTimeout model.Duration `yaml:"statementTimeout"`
	// SizeLimit is the most the database may take ("50GiB", "500GB"): its
	// volume's capacity, or a quota. Unset: the size is shown, not judged.
	SizeLimit logs.ByteSize `yaml:"sizeLimit"`
	// PVC, "namespace/name", is the PersistentVolumeClaim holding the
	// database: its capacity (kubelet_volume_stats_capacity_bytes in the
	// environment's Prometheus) is the size limit. Instead of sizeLimit.
	PVC string `yaml:"pvc"`
	// TopStatements is how many of pg_stat_statements' slowest
	// statements (by mean time) are looked at. Default 5.
	TopStatements int `yaml:"topStatements"`
	// Thresholds override the defaults (see DefaultThresholds).
	Thresholds Thresholds `yaml:"thresholds"`
}

// Thresholds are the warn and fail levels of each figure. Ratios are
// fractions (0.8 is 80%). Unset fields keep the defaults.
type Thresholds struct {
	// SizeWarn and SizeFail are fractions of sizeLimit.
	SizeWarn *float64 `yaml:"sizeWarn"`
	SizeFail *float64 `yaml:"sizeFail"`
	// ConnectionsWarn and ConnectionsFail are fractions of the
	// connections available: max_connections less
	// superuser_reserved_connections.
	ConnectionsWarn *float64 `yaml:"connectionsWarn"`
	ConnectionsFail *float64 `yaml:"connectionsFail"`
	// QueryWarn and QueryFail: the longest running statement.
	QueryWarn *model.Duration `yaml:"queryWarn"`
	QueryFail *model.Duration `yaml:"queryFail"`
	// TransactionWarn and TransactionFail: the oldest transaction that has
	// outlived its statement (idle in transaction, or several statements).
	TransactionWarn *model.Duration `yaml:"transactionWarn"`
	TransactionFail *model.Duration `yaml:"transactionFail"`
	// LockWaitWarn and LockWaitFail: the longest wait for a lock.
	LockWaitWarn *model.Duration `yaml:"lockWaitWarn"`
	LockWaitFail *model.Duration `yaml:"lockWaitFail"`
	// ReplicationLagWarn and ReplicationLagFail: the most a replica is
	// behind (on a primary, pg_stat_replication's replay_lag; on a
	// replica, how old the last replayed transaction is).
	ReplicationLagWarn *model.Duration `yaml:"replicationLagWarn"`
	ReplicationLagFail *model.Duration `yaml:"replicationLagFail"`
	// StatementWarn and StatementFail: a statement's mean execution time
	// in pg_stat_statements.
	StatementWarn *model.Duration `yaml:"statementWarn"`
	StatementFail *model.Duration `yaml:"statementFail"`
}

// limits are the effective thresholds.
type limits struct {
	sizeWarn, sizeFail           float64
	connWarn, connFail           float64
	queryWarn, queryFail         time.Duration
	txWarn, txFail               time.Duration
	lockWarn, lockFail           time.Duration
	lagWarn, lagFail             time.Duration
	statementWarn, statementFail time.Duration
}

// DefaultThresholds are the thresholds where the configuration sets none.
var defaultLimits = limits{
	sizeWarn: 0.8, sizeFail: 0.9,
	connWarn: 0.8, connFail: 0.95,
	queryWarn: 5 * time.Minute, queryFail: 30 * time.Minute,
	txWarn: 15 * time.Minute, txFail: time.Hour,
	lockWarn: 30 * time.Second, lockFail: 5 * time.Minute,
	lagWarn: 30 * time.Second, lagFail: 5 * time.Minute,
	statementWarn: time.Second, statementFail: 10 * time.Second,
}

// The sources.
const (
	SourcePostgres   = "postgres"
	SourcePrometheus = "prometheus"
)

// Defaults of the Config fields.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultStatementTimeout = 5 * time.Second
	DefaultTopStatements    = 5
)

var (
	pvcRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
)

// SetDefaults fills unset fields with their defaults.
func (c *Config) SetDefaults() {
	if c.Source == "" {
		c.Source = SourcePostgres
	}
	if c.Timeout == 0 {
		c.Timeout = model.Duration(DefaultTimeout)
	}
	if c.StatementTimeout == 0 {
		c.StatementTimeout = model.Duration(DefaultStatementTimeout)
	}
	if c.TopStatements == 0 {
		c.TopStatements = DefaultTopStatements
	}
}

// Validate checks the configuration. Errors name the offending key relative
// to the check's block, e.g. `thresholds.connectionsFail: must be >=
// connectionsWarn (0.8), got 0.5`. Zero values count as "use the default".
func (c Config) Validate() error {
	if err := pgsql.CheckSettings(c.DSNEnv, time.Duration(c.Timeout), time.Duration(c.StatementTimeout)); err != nil {
		return err
	}
	switch {
	case c.Source != "" && c.Source != SourcePostgres && c.Source != SourcePrometheus:
		return fmt.Errorf("source: must be %q or %q, got %q", SourcePostgres, SourcePrometheus, c.Source)
	case (c.Source == "" || c.Source == SourcePostgres) && c.DSNEnv == "":
		return fmt.Errorf("dsnEnv: required with source postgres: the name of the environment variable holding the connection string")
	case c.Source == SourcePrometheus && c.DSNEnv != "":
		return fmt.Errorf("dsnEnv: not used with source prometheus (the figures come from postgres_exporter's metrics)")
	case c.SizeLimit < 0:
		return fmt.Errorf("sizeLimit: must be positive, got %d", c.SizeLimit)
	case c.PVC != "" && c.SizeLimit > 0:
		return fmt.Errorf("pvc: set sizeLimit or pvc, not both")
	case c.PVC != "" && !pvcRE.MatchString(c.PVC):
		return fmt.Errorf("pvc: must be namespace/name, e.g. db/data-postgres-0, got %q", c.PVC)
	case c.TopStatements < 0:
		return fmt.Errorf("topStatements: must be at least 1, got %d", c.TopStatements)
	}
	if _, err := c.Thresholds.limits(); err != nil {
		return fmt.Errorf("thresholds.%w", err)
	}
	return nil
}

// limits returns the effective thresholds, or an error naming the key at
// fault (without the "thresholds." prefix).
func (t Thresholds) limits() (limits, error) {
	l := defaultLimits
	ratio := func(key string, v *float64, dst *float64) error {
		if v == nil {
			return nil
		}
		if math.IsNaN(*v) || *v <= 0 || *v > 1 {
			return fmt.Errorf("%s: must be a fraction above 0 and at most 1 (0.8 is 80%%), got %v", key, *v)
		}
		*dst = *v
		return nil
	}
	dur := func(key string, v *model.Duration, dst *time.Duration) error {
		if v == nil {
			return nil
		}
		if *v <= 0 {
			return fmt.Errorf("%s: must be positive, got %s", key, *v)
		}
		*dst = time.Duration(*v)
		return nil
	}
	for _, err := range []error{
		ratio("sizeWarn", t.SizeWarn, &l.sizeWarn), ratio("sizeFail", t.SizeFail, &l.sizeFail),
		ratio("connectionsWarn", t.ConnectionsWarn, &l.connWarn), ratio("connectionsFail", t.ConnectionsFail, &l.connFail),
		dur("queryWarn", t.QueryWarn, &l.queryWarn), dur("queryFail", t.QueryFail, &l.queryFail),
		dur("transactionWarn", t.TransactionWarn, &l.txWarn), dur("transactionFail", t.TransactionFail, &l.txFail),
		dur("lockWaitWarn", t.LockWaitWarn, &l.lockWarn), dur("lockWaitFail", t.LockWaitFail, &l.lockFail),
		dur("replicationLagWarn", t.ReplicationLagWarn, &l.lagWarn), dur("replicationLagFail", t.ReplicationLagFail, &l.lagFail),
		dur("statementWarn", t.StatementWarn, &l.statementWarn), dur("statementFail", t.StatementFail, &l.statementFail),
	} {
		if err != nil {
			return l, err
		}
	}
	pairs := []struct {
		name       string
		warn, fail float64
		show       func(float64) string
	}{
		{"size", l.sizeWarn, l.sizeFail, fmtFloat},
		{"connections", l.connWarn, l.connFail, fmtFloat},
		{"query", sec(l.queryWarn), sec(l.queryFail), fmtSeconds},
		{"transaction", sec(l.txWarn), sec(l.txFail), fmtSeconds},
		{"lockWait", sec(l.lockWarn), sec(l.lockFail), fmtSeconds},
		{"replicationLag", sec(l.lagWarn), sec(l.lagFail), fmtSeconds},
		{"statement", sec(l.statementWarn), sec(l.statementFail), fmtSeconds},
	}
	for _, p := range pairs {
		if p.fail < p.warn {
			return l, fmt.Errorf("%sFail: must be >= %sWarn (%s), got %s", p.name, p.name, p.show(p.warn), p.show(p.fail))
		}
	}
	return l, nil
}

func sec(d time.Duration) float64 { return d.Seconds() }
func fmtFloat(v float64) string   { return fmt.Sprint(v) }
func fmtSeconds(v float64) string { return time.Duration(v * float64(time.Second)).String() }
