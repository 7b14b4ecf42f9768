package grafana

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/internal/httpx"
)

// Config is the grafana check's block of the configuration.
type Config struct {
	// URL is Grafana's base URL (https://grafana.example.com), for the
	// API and the findings' links. Required with dashboards; without it,
	// findings of files have no link.
	URL string `yaml:"url"`
	// TokenEnv names the environment variable holding a service-account
	// token, sent as a bearer token to Grafana's API (never logged).
	TokenEnv string `yaml:"tokenEnv"`
	// Dashboards are uids of dashboards read from Grafana's API
	// (GET /api/dashboards/uid/<uid>).
	Dashboards []string `yaml:"dashboards"`
	// Files are paths of dashboards exported as JSON.
	Files []string `yaml:"files"`
	// Window is the time range the panels are evaluated over. Default:
	// the environment's window.
	Window model.Duration `yaml:"window"`
	// ScrapeInterval is the Prometheus datasource's scrape interval
	// (Grafana's "Scrape interval" setting): the minimum step, and the
	// base of $__rate_interval. Default 15s, as in Grafana.
	ScrapeInterval model.Duration `yaml:"scrapeInterval"`
	// MaxDataPoints is the points per series of a panel that sets none.
	// Grafana uses the panel's width in pixels, which opsbot cannot know.
	// Default 1000.
	MaxDataPoints int `yaml:"maxDataPoints"`
	// Datasources names (or uids) of datasources that are the
	// environment's Prometheus, besides those whose type says prometheus,
	// a datasource variable of type prometheus, an export's
	// ${DS_...} input of plugin prometheus, and the default datasource.
	Datasources []string `yaml:"datasources"`
	// Timeout bounds the whole check. Default 30s.
	Timeout model.Duration `yaml:"timeout"`
	// Concurrency is how many queries run at once. Default 4.
	Concurrency int `yaml:"concurrency"`
	// MaxFindings caps the findings of one panel (its series); the
	// summary says how many more there were. Default 10.
	MaxFindings int `yaml:"maxFindings"`
}

// Named reports whether the config names any dashboard or file: the
// check is on by default when it does.
func (c Config) Named() bool { return len(c.Dashboards) > 0 || len(c.Files) > 0 }

// Defaults of the Config fields.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultConcurrency    = 4
	DefaultMaxFindings    = 10
	DefaultMaxDataPoints  = 1000
	DefaultScrapeInterval = 15 * time.Second
)

var (
	// uidRE is a Grafana dashboard uid: at most 40 letters, digits, '-'
	// and '_'.
	uidRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)
	envRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// SetDefaults fills unset fields with their defaults (Window is the
// environment's, given to New in Env).
func (c *Config) SetDefaults() {
	if c.ScrapeInterval == 0 {
		c.ScrapeInterval = model.Duration(DefaultScrapeInterval)
	}
	if c.MaxDataPoints == 0 {
		c.MaxDataPoints = DefaultMaxDataPoints
	}
	if c.Timeout == 0 {
		c.Timeout = model.Duration(DefaultTimeout)
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxFindings == 0 {
		c.MaxFindings = DefaultMaxFindings
	}
}

// Validate checks the configuration. Errors name the key relative to the
// check's block, e.g. `dashboards[1]: "a b" is not a dashboard uid ...`.
// Zero values count as "use the default".
func (c Config) Validate() error {
	if c.URL != "" {
		if err := httpx.CheckURL(c.URL); err != nil {
			return fmt.Errorf("url: %w", err)
		}
	}
	if c.TokenEnv != "" && !envRE.MatchString(c.TokenEnv) {
		return fmt.Errorf("tokenEnv: must be the name of an environment variable, got %q", c.TokenEnv)
	}
	if len(c.Dashboards) == 0 && len(c.Files) == 0 {
		return fmt.Errorf("dashboards, files: name at least one dashboard (a uid) or exported dashboard file")
	}
	if len(c.Dashboards) > 0 && c.URL == "" {
		return fmt.Errorf("url: required with dashboards, which are read from Grafana's API: Grafana's base URL, e.g. https://grafana.example.com")
	}
	for i, uid := range c.Dashboards {
		if !uidRE.MatchString(uid) {
			return fmt.Errorf("dashboards[%d]: %q is not a dashboard uid (at most 40 letters, digits, '-' and '_': the part after /d/ in its URL)", i, uid)
		}
		for j := range i {
			if c.Dashboards[j] == uid {
				return fmt.Errorf("dashboards[%d]: %q is already dashboards[%d]", i, uid, j)
			}
		}
	}
	for i, f := range c.Files {
		if strings.TrimSpace(f) == "" {
			return fmt.Errorf("files[%d]: must not be empty", i)
		}
	}
	for i, d := range c.Datasources {
		if strings.TrimSpace(d) == "" {
			return fmt.Errorf("datasources[%d]: must not be empty", i)
		}
	}
	switch {
	case c.Window < 0:
		return fmt.Errorf("window: must be positive, got %s", c.Window)
	case c.ScrapeInterval < 0:
		return fmt.Errorf("scrapeInterval: must be positive, got %s", c.ScrapeInterval)
	case c.MaxDataPoints < 0:
		return fmt.Errorf("maxDataPoints: must be at least 1, got %d", c.MaxDataPoints)
	case c.Timeout < 0:
		return fmt.Errorf("timeout: must be positive, got %s", c.Timeout)
	case c.Concurrency < 0:
		return fmt.Errorf("concurrency: must be at least 1, got %d", c.Concurrency)
	case c.MaxFindings < 0:
		return fmt.Errorf("maxFindings: must be at least 1, got %d", c.MaxFindings)
	}
	return nil
}
