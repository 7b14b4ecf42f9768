package pods

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/internal/httpx"
)

// Config is the pods check's block of the configuration. The namespaces are
// not here: they belong to the environment and are passed to New.
type Config struct {
	// RestartThreshold is how many restarts make a container "restarting
	// often", provided its last restart is inside the window. Default 5.
	RestartThreshold int `yaml:"restartThreshold"`
	// PendingAfter is how long a pod may stay Pending before it is
	// reported. Default 10m.
	PendingAfter model.Duration `yaml:"pendingAfter"`
	// NotReadyAfter is how long a Running pod may stay not Ready (since its
	// Ready condition last changed) before it is reported. Default 10m.
	NotReadyAfter model.Duration `yaml:"notReadyAfter"`
	// RolloutGrace is how long a Deployment or StatefulSet may have fewer
	// ready replicas than desired while it is visibly settling (a rollout
	// making progress, a scale-up, pods that became unready only recently)
	// before it is reported. Default 10m.
	RolloutGrace model.Duration `yaml:"rolloutGrace"`
	// Window is how far back the check looks for events that are over:
	// restarts, OOM kills, failed and evicted pods, failed Jobs. Zero (the
	// default) means the environment's window, which the caller copies in;
	// New uses DefaultWindow (24h) when it is still zero. SetDefaults leaves
	// it zero on purpose, so that an unset key can be told from a set one.
	Window model.Duration `yaml:"window"`
	// Timeout bounds the whole check (every List call). Default 20s.
	Timeout model.Duration `yaml:"timeout"`
	// PageSize is the Limit of each List call; the check follows the
	// continue token until the list is complete. Default 500.
	PageSize int `yaml:"pageSize"`
	// Link, if set, is the findings' link: a URL template where {namespace}
	// and {object} (the workload's or the bare pod's name) are replaced by
	// their query-escaped values, e.g.
	// https://grafana.example.com/d/pods?var-namespace={namespace}&var-workload={object}
	Link string `yaml:"link"`
}

// Defaults of the configuration keys.
const (
	DefaultRestartThreshold = 5
	DefaultPendingAfter     = 10 * time.Minute
	DefaultNotReadyAfter    = 10 * time.Minute
	DefaultRolloutGrace     = 10 * time.Minute
	DefaultWindow           = 24 * time.Hour
	DefaultTimeout          = 20 * time.Second
	DefaultPageSize         = 500
)

// maxPageSize bounds pageSize: bigger pages only make the API server work
// harder per call.
const maxPageSize = 10000

// SetDefaults fills unset fields with their defaults, except Window (see
// its comment).
func (c *Config) SetDefaults() {
	if c.RestartThreshold == 0 {
		c.RestartThreshold = DefaultRestartThreshold
	}
	if c.PendingAfter == 0 {
		c.PendingAfter = model.Duration(DefaultPendingAfter)
	}
	if c.NotReadyAfter == 0 {
		c.NotReadyAfter = model.Duration(DefaultNotReadyAfter)
	}
	if c.RolloutGrace == 0 {
		c.RolloutGrace = model.Duration(DefaultRolloutGrace)
	}
	if c.Timeout == 0 {
		c.Timeout = model.Duration(DefaultTimeout)
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
}

// Validate checks the configuration. Errors name the offending key relative
// to the check's block, e.g. `restartThreshold: must be at least 1, got 0`.
// It expects defaults to have been set.
func (c Config) Validate() error {
	if c.RestartThreshold < 1 {
		return fmt.Errorf("restartThreshold: must be at least 1, got %d", c.RestartThreshold)
	}
	for _, d := range []struct {
		key string
		v   model.Duration
	}{
		{"pendingAfter", c.PendingAfter},
		{"notReadyAfter", c.NotReadyAfter},
		{"rolloutGrace", c.RolloutGrace},
		{"timeout", c.Timeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%s: must be positive, got %s", d.key, d.v)
		}
	}
	if c.Window < 0 {
		return fmt.Errorf("window: must be positive, got %s", c.Window)
	}
	if c.PageSize < 1 || c.PageSize > maxPageSize {
		return fmt.Errorf("pageSize: must be between 1 and %d, got %d", maxPageSize, c.PageSize)
	}
	if c.Link != "" {
		if err := checkLink(c.Link); err != nil {
			return fmt.Errorf("link: %w", err)
		}
	}
	return nil
}

var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

// checkLink accepts an absolute http(s) URL template whose only placeholders
// are {namespace} and {object}.
func checkLink(tmpl string) error {
	for _, p := range placeholderRE.FindAllString(tmpl, -1) {
		if p != "{namespace}" && p != "{object}" {
			return fmt.Errorf("unknown placeholder %s (want {namespace} or {object})", p)
		}
	}
	return httpx.CheckURL(expandLink(tmpl, "namespace", "object"))
}

// expandLink fills a link template.
func expandLink(tmpl, namespace, object string) string {
	return strings.NewReplacer(
		"{namespace}", url.QueryEscape(namespace),
		"{object}", url.QueryEscape(object),
	).Replace(tmpl)
}
