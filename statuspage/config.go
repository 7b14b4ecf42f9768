package statuspage

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/internal/httpx"
)

// Defaults for zero Config fields.
const (
	// DefaultBaseURL is Statuspage's REST API v1.
	DefaultBaseURL = "https://api.statuspage.io/v1"
	// DefaultAPIKeyEnv is the environment variable holding the API key.
	DefaultAPIKeyEnv = "STATUSPAGE_API_KEY"
	// DefaultComponentStatus is what the configured components show while
	// an incident is open, unless the incident says otherwise.
	DefaultComponentStatus = PartialOutage
	// DefaultTimeout bounds one call of the client (CreateIncident,
	// UpdateIncident...), its pacing waits and its one retry included.
	DefaultTimeout = 30 * time.Second
	// DefaultRequestsPerSecond is Statuspage's documented limit: "Each API
	// token is limited to 1 request / second as measured on a 60 second
	// rolling window" (developer.statuspage.io, Rate Limiting).
	DefaultRequestsPerSecond = 1.0
)

// Config is the status page block of the configuration.
type Config struct {
	// BaseURL is the API's base URL. Default https://api.statuspage.io/v1;
	// tests point it at statuspagetest.
	BaseURL string `yaml:"baseURL"`
	// PageID is the Statuspage page the incidents go to (the id in
	// manage.statuspage.io/pages/<id>). Required.
	PageID string `yaml:"pageID"`
	// APIKeyEnv names the environment variable that holds the API key.
	// Default STATUSPAGE_API_KEY. The key never lives in the file.
	APIKeyEnv string `yaml:"apiKeyEnv"`
	// APIKey is the API key, read from APIKeyEnv by the config layer. It is
	// sent as "Authorization: OAuth <key>" and never printed or logged.
	APIKey httpx.Secret `yaml:"-"`
	// Components are the ids of the components an incident affects when
	// the incident does not name its own. Optional.
	Components []string `yaml:"components"`
	// ComponentStatus is the status those components take while the
	// incident is open: degraded_performance, partial_outage (default),
	// major_outage or under_maintenance.
	ComponentStatus ComponentStatus `yaml:"componentStatus"`
	// Timeout bounds each call of the client. Default 30s.
	Timeout model.Duration `yaml:"timeout"`
	// RequestsPerSecond is the pace the client keeps so that it does not
	// hit Statuspage's rate limit. Default 1 (Statuspage's limit per API
	// key); raise it only if Atlassian raised the key's limit.
	RequestsPerSecond float64 `yaml:"requestsPerSecond"`
}

// SetDefaults fills unset fields with their defaults.
func (c *Config) SetDefaults() {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.APIKeyEnv == "" {
		c.APIKeyEnv = DefaultAPIKeyEnv
	}
	if c.ComponentStatus == "" {
		c.ComponentStatus = DefaultComponentStatus
	}
	if c.Timeout == 0 {
		c.Timeout = model.Duration(DefaultTimeout)
	}
	if c.RequestsPerSecond == 0 {
		c.RequestsPerSecond = DefaultRequestsPerSecond
	}
}

var (
	// idRE is what the client accepts as a page, component or incident
	// id: Statuspage's are 12 lower-case letters and digits; anything that
	// is safe in a URL path segment is allowed.
	idRE     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	envVarRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks the configuration, defaults applied. It expects APIKey to
// have been read from the environment. Errors name the offending key
// relative to the block, e.g. `pageID: required`; all problems are
// reported, joined.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if err := httpx.CheckURL(c.BaseURL); err != nil {
		add("baseURL", "%v", err)
	} else if u, _ := url.Parse(c.BaseURL); u.User != nil {
		add("baseURL", "must not contain credentials: the API key is read from the environment variable named by apiKeyEnv")
	} else if u.RawQuery != "" || u.Fragment != "" {
		add("baseURL", "must not have a query or fragment, got %q", httpx.RedactURL(c.BaseURL))
	}
	switch {
	case c.PageID == "":
		add("pageID", "required: the id of the Statuspage page")
	case !idRE.MatchString(c.PageID):
		add("pageID", "%q is not a Statuspage id (letters, digits, - and _)", c.PageID)
	}
	switch {
	case !envVarRE.MatchString(c.APIKeyEnv):
		add("apiKeyEnv", "%q is not an environment variable name", c.APIKeyEnv)
	case c.APIKey == "":
		add("apiKeyEnv", "the environment variable %s is empty or unset: it must hold the Statuspage API key", c.APIKeyEnv)
	}
	seen := make(map[string]bool, len(c.Components))
	for i, id := range c.Components {
		switch {
		case !idRE.MatchString(id):
			add(fmt.Sprintf("components[%d]", i), "%q is not a Statuspage component id", id)
		case seen[id]:
			add(fmt.Sprintf("components[%d]", i), "%q is listed twice", id)
		}
		seen[id] = true
	}
	if !c.ComponentStatus.valid() {
		add("componentStatus", "must be one of %s, got %q", componentStatusList, c.ComponentStatus)
	}
	if c.Timeout <= 0 {
		add("timeout", "must be positive, got %s", c.Timeout)
	}
	if c.RequestsPerSecond <= 0 {
		add("requestsPerSecond", "must be positive, got %g", c.RequestsPerSecond)
	}
	return errors.Join(errs...)
}
