package database

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks/internal/pgsql"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/internal/promapi"
)

// Env is what the check needs besides its configuration: the DSN (source
// postgres) or the environment's Prometheus (source prometheus).
type Env struct {
	// DSN is the connection string, read from the variable cfg.DSNEnv
	// names.
	DSN string
	// PrometheusURL is the Prometheus base URL; Client carries its
	// credentials (nil: a plain client).
	PrometheusURL string
	Client        *http.Client
}

// New returns the database check. cfg is defaulted and validated.
func New(cfg Config, env Env, logger *zap.Logger) (*Check, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lim, _ := cfg.Thresholds.limits() // validated
	if logger == nil {
		logger = zap.NewNop()
	}
	c := &Check{cfg: cfg, lim: lim, logger: logger.With(zap.String("check", "database"))}
	if cfg.Source == SourcePrometheus || cfg.PVC != "" {
		if err := httpx.CheckURL(env.PrometheusURL); err != nil {
			return nil, fmt.Errorf("source prometheus and pvc need the environment's prometheus url: %w", err)
		}
		client := env.Client
		if client == nil {
			client = httpx.NewClient(httpx.Options{})
		}
		c.prom = &prom{api: promapi.New(env.PrometheusURL, client)}
	}
	switch cfg.Source {
	case SourcePrometheus:
		c.src = &exporter{prom: c.prom, database: cfg.Database}
	default:
		if strings.TrimSpace(env.DSN) == "" {
			return nil, fmt.Errorf("dsnEnv: environment variable %s is empty", cfg.DSNEnv)
		}
		if _, err := pgx.ParseConfig(env.DSN); err != nil {
			return nil, fmt.Errorf("dsnEnv: the connection string in %s cannot be parsed: %s", cfg.DSNEnv, pgsql.Redact(err.Error(), env.DSN))
		}
		c.src = &direct{dsn: env.DSN, statementTimeout: time.Duration(cfg.StatementTimeout), topStatements: cfg.TopStatements}
	}
	return c, nil
}
