package alerts

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/internal/httpx"
)

// Config is the alerts check's block of the configuration. The
// Alertmanager URL is not here: it belongs to the environment and is passed
// to New.
type Config struct {
	// Matchers restrict the alerts to this environment's, in Alertmanager's
	// matcher syntax, one matcher per entry: `namespace="shop"`,
	// `severity=~"critical|warning"`, `team!="infra"`. Each is sent as one
	// `filter` parameter. Empty, the checklist uses the environment's
	// namespaces: `namespace=~"shop|payments"`.
	Matchers []string `yaml:"matchers"`
	// IgnoreAlertnames are alert names never reported. Default: Watchdog
	// and InfoInhibitor (always firing by design in kube-prometheus). An
	// explicit empty list ignores nothing.
	IgnoreAlertnames []string `yaml:"ignoreAlertnames"`
	// IncludeInfo reports alerts whose severity label is info, none or low
	// (as Warn findings). By default they are left out of the findings and
	// only counted in the summary.
	IncludeInfo bool `yaml:"includeInfo"`
	// FingerprintLabels are the labels that, besides the alert name,
	// identify a group of alerts in its fingerprint, when every alert of
	// the group has the same value for them. Default: namespace, service,
	// job, deployment.
	FingerprintLabels []string `yaml:"fingerprintLabels"`
	// Timeout bounds the whole check. Default 10s.
	Timeout model.Duration `yaml:"timeout"`
	// Link is the Alertmanager UI base URL used for finding links, e.g.
	// https://alertmanager.example.com. Default: the API URL.
	Link string `yaml:"link"`
}

// DefaultTimeout is the check's deadline when Config.Timeout is not set.
const DefaultTimeout = 10 * time.Second

// SetDefaults fills unset fields with their defaults.
func (c *Config) SetDefaults() {
	if c.IgnoreAlertnames == nil {
		c.IgnoreAlertnames = []string{"Watchdog", "InfoInhibitor"}
	}
	if c.FingerprintLabels == nil {
		c.FingerprintLabels = []string{"namespace", "service", "job", "deployment"}
	}
	if c.Timeout == 0 {
		c.Timeout = model.Duration(DefaultTimeout)
	}
}

// Validate checks the configuration. Errors name the offending key relative
// to the check's block, e.g. `matchers[1]: ...`.
func (c Config) Validate() error {
	for i, m := range c.Matchers {
		if _, err := parseMatcher(m); err != nil {
			return fmt.Errorf("matchers[%d]: %w", i, err)
		}
	}
	for i, n := range c.IgnoreAlertnames {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("ignoreAlertnames[%d]: must not be empty", i)
		}
	}
	for i, n := range c.FingerprintLabels {
		if !labelNameRE.MatchString(n) {
			return fmt.Errorf("fingerprintLabels[%d]: %q is not a valid label name", i, n)
		}
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout: must be positive, got %s", c.Timeout)
	}
	if c.Link != "" {
		if err := httpx.CheckURL(c.Link); err != nil {
			return fmt.Errorf("link: %w", err)
		}
	}
	return nil
}

// matcher is one parsed label matcher.
type matcher struct {
	Name, Op, Value string
}

var (
	// The syntax Alertmanager's matcher parsers (classic and UTF-8) both
	// accept: a label name, an operator and a double-quoted value. '=~'
	// comes before '=' in the alternation so that '=~' is not read as '='.
	matcherRE   = regexp.MustCompile(`^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|!~|!=|=)\s*"(.*)"\s*$`)
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// parseMatcher parses `name(=|!=|=~|!~)"value"` with OpenMetrics escaping in
// the value (\" \\ \n; a backslash before anything else is literal, as in
// Alertmanager), and checks that a regex value compiles.
func parseMatcher(s string) (matcher, error) {
	ms := matcherRE.FindStringSubmatch(s)
	if ms == nil {
		return matcher{}, fmt.Errorf(`want name="value" with =, !=, =~ or !~ and a double-quoted value, got %q`, s)
	}
	raw := ms[3]
	var v strings.Builder
	escaped := false
	for _, r := range raw {
		if escaped {
			escaped = false
			switch r {
			case 'n':
				v.WriteByte('\n')
			case '"', '\\':
				v.WriteRune(r)
			default:
				v.WriteByte('\\')
				v.WriteRune(r)
			}
			continue
		}
		switch r {
		case '\\':
			escaped = true
		case '"':
			return matcher{}, fmt.Errorf(`unescaped double quote in the value of %q (write \" inside the quotes)`, s)
		default:
			v.WriteRune(r)
		}
	}
	if escaped {
		// A trailing backslash escapes the closing quote.
		return matcher{}, fmt.Errorf("value of %q ends with a backslash that escapes the closing quote", s)
	}
	m := matcher{Name: ms[1], Op: ms[2], Value: v.String()}
	if m.Op == "=~" || m.Op == "!~" {
		// Alertmanager anchors matcher regexes.
		if _, err := regexp.Compile("^(?:" + m.Value + ")$"); err != nil {
			return matcher{}, fmt.Errorf("invalid regex %q: %w", m.Value, err)
		}
	}
	return m, nil
}
