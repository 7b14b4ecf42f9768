package integrity

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/checks/internal/pgsql"
)

// Config is the integrity check's block of an environment's configuration.
type Config struct {
	// DSNEnv names the environment variable holding the connection string
	// (postgres://user:password@host:5432/db?sslmode=require, or the
	// key=value form). Required. Give it a role that can only read.
	DSNEnv string `yaml:"dsnEnv"`
	// Timeout bounds the whole check, connecting included. Default 30s.
	Timeout model.Duration `yaml:"timeout"`
	// StatementTimeout bounds each invariant's query (PostgreSQL's
	// statement_timeout); its lock_timeout is half of it, so a query kept
	// waiting by a migration's lock says so. Default 5s.
	StatementTimeout model.Duration `yaml:"statementTimeout"`
	// MaxIDs is how many ids of the offending rows a finding shows; all of
	// them are counted. Default 5, at most 100.
	MaxIDs int `yaml:"maxIds"`
	// Invariants are the queries, each expected to return no rows.
	// At least one.
	Invariants []Invariant `yaml:"invariants"`
}

// Invariant is one query that should return no rows: every row it returns
// breaks the invariant.
type Invariant struct {
	// Name identifies the invariant in fingerprints and messages:
	// letters, digits, '-', '_', '.' and ':'.
	Name string `yaml:"name"`
	// Description says what the rows are, e.g. "referrals without a
	// service user"; it starts the finding's title. Default: the name.
	Description string `yaml:"description"`
	// Query is one SELECT (a trailing ';' is allowed, no other).
	Query string `yaml:"query"`
	// IDColumn is the column of the query's rows shown as their ids.
	// Default "id".
	IDColumn string `yaml:"idColumn"`
	// Severity of a finding: "fail" (default) or "warn".
	Severity string `yaml:"severity"`
}

// Defaults of the Config fields.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultStatementTimeout = 5 * time.Second
	DefaultMaxIDs           = 5
	DefaultIDColumn         = "id"
	// MaxMaxIDs is the most maxIds may be.
	MaxMaxIDs = 100
)

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
)

// SetDefaults fills unset fields with their defaults, the invariants'
// included (in place).
func (c *Config) SetDefaults() {
	if c.Timeout == 0 {
		c.Timeout = model.Duration(DefaultTimeout)
	}
	if c.StatementTimeout == 0 {
		c.StatementTimeout = model.Duration(DefaultStatementTimeout)
	}
	if c.MaxIDs == 0 {
		c.MaxIDs = DefaultMaxIDs
	}
	for i := range c.Invariants {
		inv := &c.Invariants[i]
		if inv.IDColumn == "" {
			inv.IDColumn = DefaultIDColumn
		}
		if inv.Severity == "" {
			inv.Severity = "fail"
		}
	}
}

// Validate checks the configuration. Errors name the offending key relative
// to the check's block, e.g. `invariants[1].query: must be one statement:
// ...`. Zero values count as "use the default".
func (c Config) Validate() error {
	if err := pgsql.CheckSettings(c.DSNEnv, time.Duration(c.Timeout), time.Duration(c.StatementTimeout)); err != nil {
		return err
	}
	switch {
	case c.DSNEnv == "":
		return fmt.Errorf("dsnEnv: required: the name of the environment variable holding the connection string")
	case c.MaxIDs < 0:
		return fmt.Errorf("maxIds: must be at least 1, got %d", c.MaxIDs)
	case c.MaxIDs > MaxMaxIDs:
		return fmt.Errorf("maxIds: at most %d (a finding is read in Slack), got %d", MaxMaxIDs, c.MaxIDs)
	case len(c.Invariants) == 0:
		return fmt.Errorf("invariants: at least one is required")
	}
	seen := map[string]int{}
	for i, inv := range c.Invariants {
		if err := inv.validate(); err != nil {
			return fmt.Errorf("invariants[%d]%w", i, err)
		}
		if j, dup := seen[inv.Name]; dup {
			return fmt.Errorf("invariants[%d].name: %q is already the name of invariants[%d]", i, inv.Name, j)
		}
		seen[inv.Name] = i
	}
	return nil
}

// validate returns an error starting with ".key: ", to follow
// "invariants[i]".
func (inv Invariant) validate() error {
	switch {
	case strings.TrimSpace(inv.Name) == "":
		return fmt.Errorf(".name: must not be empty")
	case !nameRE.MatchString(inv.Name):
		return fmt.Errorf(".name: must be letters, digits, '-', '_', '.' or ':', got %q", inv.Name)
	case inv.Severity != "" && inv.Severity != "fail" && inv.Severity != "warn":
		return fmt.Errorf(".severity: must be \"fail\" or \"warn\", got %q", inv.Severity)
	case inv.IDColumn != "" && strings.TrimSpace(inv.IDColumn) != inv.IDColumn:
		return fmt.Errorf(".idColumn: must be a column name without surrounding spaces, got %q", inv.IDColumn)
	}
	if _, err := pgsql.SingleStatement(inv.Query); err != nil {
		return fmt.Errorf(".query: %w", err)
	}
	return nil
}
