// Package config reads opsbot's configuration: one YAML file describing the
// environments (dev, preprod, prod...) the checklist looks at, and the
// thresholds of each check. Secrets never live in the file: it names the
// environment variables that hold them.
//
// Parse is strict: an unknown key, a bad value or a missing required field is
// an error naming the field by its path, e.g.
// "environments.prod.prometheus.url: must be an absolute http or https URL".
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/opsbot/opsbot/checks/alerts"
	"github.com/opsbot/opsbot/checks/alertschannel"
	"github.com/opsbot/opsbot/checks/database"
	"github.com/opsbot/opsbot/checks/grafana"
	"github.com/opsbot/opsbot/checks/httpcheck"
	"github.com/opsbot/opsbot/checks/integrity"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/checks/metrics"
	"github.com/opsbot/opsbot/checks/pods"
	"github.com/opsbot/opsbot/checks/security"
	"github.com/opsbot/opsbot/statuspage"
)

// Defaults applied where the file says nothing.
const (
	DefaultWindow  = model.Duration(24 * time.Hour)
	DefaultTimeout = model.Duration(30 * time.Second)
)

// Config is the whole configuration file.
type Config struct {
	// DefaultEnvironment is used when a command names none. It may be
	// omitted when there is exactly one environment.
	DefaultEnvironment string `yaml:"defaultEnvironment"`
	// Environments by name.
	Environments map[string]*Environment `yaml:"environments"`
	// Bot configures `opsbot serve` (bot.go); nil when the file has no
	// bot block.
	Bot *Bot `yaml:"bot"`
	// Redaction says what is redacted besides secrets (redaction.go).
	Redaction Redaction `yaml:"redaction"`
}

// Environment is one place the checklist looks at: a cluster and namespaces,
// its Prometheus, Alertmanager and dashboards.
type Environment struct {
	// Name is the key of the environment in the file.
	Name string `yaml:"-"`

	Kubernetes Kubernetes `yaml:"kubernetes"`
	// Namespaces the checks look at (the runbook's "prod namespace").
	Namespaces []string `yaml:"namespaces"`
	// Window is how far back the checks look (restarts, OOM kills, logs,
	// failed jobs). Default 24h: yesterday's 9am to today's.
	Window model.Duration `yaml:"window"`
	// Timeout is the deadline of a check that sets none of its own.
	Timeout model.Duration `yaml:"timeout"`

	Prometheus   *Endpoint `yaml:"prometheus"`
	Alertmanager *Endpoint `yaml:"alertmanager"`
	// Grafana is the dashboard linked from metric findings.
	Grafana *Link `yaml:"grafana"`

	Checks Checks `yaml:"checks"`

	// StatusPage, optional, is the environment's Atlassian Statuspage
	// page, where incidents are raised (incident.go). The API key comes
	// from the environment variable named by apiKeyEnv.
	StatusPage *statuspage.Config `yaml:"statusPage"`
}

// Kubernetes says how to reach the cluster.
type Kubernetes struct {
	// InCluster uses the pod's service account; Kubeconfig and Context must
	// then be empty.
	InCluster bool `yaml:"inCluster"`
	// Kubeconfig is a kubeconfig path; empty means the usual rules
	// ($KUBECONFIG, then ~/.kube/config).
	Kubeconfig string `yaml:"kubeconfig"`
	// Context is the kubeconfig context; empty means the current one.
	Context string `yaml:"context"`
	// QPS caps opsbot's requests per second to the API server on the
	// client side (client-go's token bucket, burst QPS). 0, the default,
	// sets no such cap: the checks bound how many requests they have in
	// flight (one List at a time per check, the logs check's concurrency),
	// and the API server's Priority and Fairness answers an overload with
	// 429 and Retry-After, which client-go honours.
	QPS int `yaml:"qps"`
}

// maxKubeQPS bounds kubernetes.qps: a cap above it caps nothing a
// checklist does.
const maxKubeQPS = 10000

// Endpoint is an HTTP API opsbot queries (Prometheus, Alertmanager).
type Endpoint struct {
	URL string `yaml:"url"`
	// BearerTokenEnv names the environment variable holding a bearer token.
	BearerTokenEnv string `yaml:"bearerTokenEnv"`
	// BasicAuth, if set, authenticates with a user name and a password
	// read from the environment.
	BasicAuth *BasicAuth `yaml:"basicAuth"`
	// ThroughKubernetes: URL is the Kubernetes API server's proxy to a
	// Service found in the cluster (`opsbot checklist -n` without a
	// config file), reached with the kubeconfig's credentials. Not a key of
	// the file.
	ThroughKubernetes bool `yaml:"-"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username    string `yaml:"username"`
	PasswordEnv string `yaml:"passwordEnv"`
}

// Link is a URL shown to people (a dashboard).
type Link struct {
	URL string `yaml:"url"`
}

// Checks configures each check of an environment. A check is on when its
// block is present or, for pods and logs, by default; `enabled: false` turns
// it off. Each key is the check's name (its package and its Name()).
type Checks struct {
	// Pods is the `kubectl get pods` look.
	Pods Check[pods.Config] `yaml:"pods"`
	// Logs is the "read the logs" look.
	Logs Check[logs.Config] `yaml:"logs"`
	// Alerts is the Alertmanager look; on when the environment has an
	// Alertmanager.
	Alerts Check[alerts.Config] `yaml:"alerts"`
	// Metrics is the Grafana look; on when the environment has a
	// Prometheus.
	Metrics Check[metrics.Config] `yaml:"metrics"`
	// Grafana evaluates the team's dashboards' panels against the
	// environment's Prometheus; on when it names dashboards or files.
	Grafana Check[grafana.Config] `yaml:"grafana"`
	// HTTP probes health URLs; on when it has targets. (Its package is
	// checks/httpcheck, as net/http has the name.)
	HTTP Check[httpcheck.Config] `yaml:"http"`
	// AlertsChannel reads the alerts channel's history (Alertmanager and
	// exception posts); on when it names a channel. It needs the Slack bot
	// token (SLACK_BOT_TOKEN).
	AlertsChannel Check[alertschannel.Config] `yaml:"alertschannel"`
	// Security reads Trivy Operator's VulnerabilityReports and the latest
	// runs of CI workflows on GitHub; on when it names either.
	Security Check[security.Config] `yaml:"security"`
	// Integrity runs the team's invariant queries against its PostgreSQL
	// (read-only); on when it has invariants.
	Integrity Check[integrity.Config] `yaml:"integrity"`
	// Database is PostgreSQL's tolerances, from a read-only connection
	// (on when it has a dsnEnv) or postgres_exporter's metrics (on with
	// source: prometheus).
	Database Check[database.Config] `yaml:"database"`
}

// DatabaseOn reports whether the database check is on: as enabled says,
// else when it names a DSN variable or the prometheus source.
func (c Checks) DatabaseOn() bool {
	d := c.Database
	return d.On(d.Config.DSNEnv != "" || d.Config.Source == database.SourcePrometheus)
}

// Check is one check's block: `enabled` beside the check's own keys, which
// its package defines (Config, with SetDefaults and Validate).
type Check[C any] struct {
	Enabled *bool `yaml:"enabled"`
	Config  C     `yaml:",inline"`
}

// On reports whether the check is enabled: as the file says, else def.
func (c Check[C]) On(def bool) bool { return On(c.Enabled, def) }

// On reports whether a check is enabled, given its default.
func On(enabled *bool, def bool) bool {
	if enabled == nil {
		return def
	}
	return *enabled
}

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// renamedKeys are keys of earlier versions, with their new names, so that an
// old file says what to change rather than "unknown key".
var renamedKeys = map[string]string{
	"alertsChannel": "alertschannel", // one name per check: package, Name(), key
}

// Parse decodes and validates a configuration document. Unknown keys are
// errors, so a misspelt threshold is not silently ignored.
func Parse(data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty: it needs at least one environment")
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, m := range te.Errors {
				msgs[i] = unknownField.ReplaceAllStringFunc(m, func(f string) string {
					key := unknownField.FindStringSubmatch(f)[1]
					if to, ok := renamedKeys[key]; ok {
						return fmt.Sprintf("key %q was renamed %q", key, to)
					}
					return fmt.Sprintf("unknown key %q", key)
				})
			}
			return nil, errors.New(strings.Join(msgs, "; "))
		}
		return nil, locate(data, err)
	}
	if err := cfg.setDefaultsAndValidate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// locate adds the line and key path to a value error. yaml.v3 returns the
// errors of custom unmarshalers (durations, byte sizes, status codes) without
// saying where; the bad value is quoted in them, so the scalar holding it
// names the field.
func locate(data []byte, err error) error {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return err
	}
	msg := err.Error()
	var found func(n *yaml.Node, path string) error
	found = func(n *yaml.Node, path string) error {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if e := found(c, path); e != nil {
					return e
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				if e := found(n.Content[i+1], p); e != nil {
					return e
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if e := found(c, fmt.Sprintf("%s[%d]", path, i)); e != nil {
					return e
				}
			}
		case yaml.ScalarNode:
			if n.Value != "" && strings.Contains(msg, fmt.Sprintf("%q", n.Value)) {
				return fmt.Errorf("line %d: %s: %w", n.Line, path, err)
			}
		}
		return nil
	}
	if e := found(&root, ""); e != nil {
		return e
	}
	return err
}

// Environment returns the named environment, or the default one when name
// is empty.
func (c *Config) Environment(name string) (*Environment, error) {
	if name == "" {
		name = c.DefaultEnvironment
	}
	env, ok := c.Environments[name]
	if !ok {
		return nil, fmt.Errorf("no environment %q in the config (have: %s)", name, strings.Join(c.EnvironmentNames(), ", "))
	}
	return env, nil
}

// EnvironmentNames lists the environments in a stable order.
func (c *Config) EnvironmentNames() []string {
	names := make([]string, 0, len(c.Environments))
	for n := range c.Environments {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// fieldErrors collects validation problems, each prefixed with its path.
type fieldErrors []string

func (fe *fieldErrors) add(path, format string, args ...any) {
	*fe = append(*fe, path+": "+fmt.Sprintf(format, args...))
}

// addErr records a check package's own validation error under prefix.
func (fe *fieldErrors) addErr(prefix string, err error) {
	if err == nil {
		return
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			*fe = append(*fe, prefix+"."+line)
		}
	}
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return errors.New(strings.Join(fe, "\n"))
}

var envName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)

// dns1123Label is what Kubernetes accepts as a namespace name.
var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

func (c *Config) setDefaultsAndValidate() error {
	var fe fieldErrors
	if len(c.Environments) == 0 {
		fe.add("environments", "at least one environment is required")
		return fe.err()
	}
	if c.DefaultEnvironment == "" && len(c.Environments) == 1 {
		for n := range c.Environments {
			c.DefaultEnvironment = n
		}
	}
	if c.DefaultEnvironment == "" {
		fe.add("defaultEnvironment", "required when there are several environments (have: %s)", strings.Join(c.EnvironmentNames(), ", "))
	} else if _, ok := c.Environments[c.DefaultEnvironment]; !ok {
		fe.add("defaultEnvironment", "%q is not one of the environments (have: %s)", c.DefaultEnvironment, strings.Join(c.EnvironmentNames(), ", "))
	}
	if c.Bot != nil {
		c.Bot.setDefaults()
		c.Bot.validate("bot", &fe)
		c.Bot.Schedule.setDefaultsAndValidate(c, "bot.schedule", &fe)
		c.Bot.Handover.setDefaultsAndValidate(c, "bot.handover", &fe)
		c.Bot.Noise.setDefaultsAndValidate(c.Bot, "bot.noise", &fe)
	}
	for _, name := range c.EnvironmentNames() {
		env := c.Environments[name]
		p := "environments." + name
		if !envName.MatchString(name) {
			fe.add(p, "environment names are lower-case letters, digits and dashes (at most 32)")
		}
		if env == nil {
			fe.add(p, "is empty")
			continue
		}
		env.Name = name
		env.setDefaults()
		env.validate(p, &fe)
	}
	return fe.err()
}

func (e *Environment) setDefaults() {
	if e.Window == 0 {
		e.Window = DefaultWindow
	}
	if e.Timeout == 0 {
		e.Timeout = DefaultTimeout
	}
	c := &e.Checks
	c.Pods.Config.SetDefaults()
	c.Logs.Config.SetDefaults()
	c.Alerts.Config.SetDefaults()
	c.Metrics.Config.SetDefaults()
	c.Grafana.Config.SetDefaults()
	c.HTTP.Config.SetDefaults()
	c.AlertsChannel.Config.SetDefaults()
	c.Security.Config.SetDefaults()
	c.Integrity.Config.SetDefaults()
	c.Database.Config.SetDefaults()
}

func (e *Environment) validate(p string, fe *fieldErrors) {
	k := e.Kubernetes
	if k.InCluster && (k.Kubeconfig != "" || k.Context != "") {
		fe.add(p+".kubernetes", "inCluster cannot be combined with kubeconfig or context")
	}
	if k.QPS < 0 || k.QPS > maxKubeQPS {
		fe.add(p+".kubernetes.qps", "must be between 0 (no client-side cap) and %d requests per second, got %d", maxKubeQPS, k.QPS)
	}
	if len(e.Namespaces) == 0 {
		fe.add(p+".namespaces", "at least one namespace is required")
	}
	for i, ns := range e.Namespaces {
		if !dns1123Label.MatchString(ns) {
			fe.add(fmt.Sprintf("%s.namespaces[%d]", p, i), "%q is not a valid namespace name", ns)
		} else if slices.Index(e.Namespaces, ns) != i {
			fe.add(fmt.Sprintf("%s.namespaces[%d]", p, i), "%q is listed twice", ns)
		}
	}
	if e.Window < 0 {
		fe.add(p+".window", "must be positive, got %s", e.Window)
	}
	if e.Timeout < 0 {
		fe.add(p+".timeout", "must be positive, got %s", e.Timeout)
	}
	e.Prometheus.validate(p+".prometheus", fe)
	e.Alertmanager.validate(p+".alertmanager", fe)
	if e.Grafana != nil {
		if err := checkURL(e.Grafana.URL); err != nil {
			fe.add(p+".grafana.url", "%v", err)
		}
	}

	c := p + ".checks"
	if e.Checks.Alerts.On(e.Alertmanager != nil) && e.Alertmanager == nil {
		fe.add(c+".alerts.enabled", "the alerts check needs %s.alertmanager.url", p)
	}
	if e.Checks.Metrics.On(e.Prometheus != nil) && e.Prometheus == nil {
		fe.add(c+".metrics.enabled", "the metrics check needs %s.prometheus.url", p)
	}
	fe.addErr(c+".pods", e.Checks.Pods.Config.Validate())
	fe.addErr(c+".logs", e.Checks.Logs.Config.Validate())
	fe.addErr(c+".alerts", e.Checks.Alerts.Config.Validate())
	fe.addErr(c+".metrics", e.Checks.Metrics.Config.Validate())
	if g := e.Checks.Grafana; g.On(g.Config.Named()) {
		if e.Prometheus == nil {
			fe.add(c+".grafana.enabled", "the grafana check needs %s.prometheus.url: the panels' queries go to it", p)
		}
		fe.addErr(c+".grafana", g.Config.Validate())
	}
	fe.addErr(c+".http", e.Checks.HTTP.Config.Validate())
	e.validateStatusPage(p, fe)
	if ac := e.Checks.AlertsChannel; ac.On(ac.Config.Channel != "") {
		fe.addErr(c+".alertschannel", ac.Config.Validate())
	}
	if sc := e.Checks.Security; sc.On(sc.Config.On()) {
		fe.addErr(c+".security", sc.Config.Validate())
	}
	if ic := e.Checks.Integrity; ic.On(len(ic.Config.Invariants) > 0) {
		fe.addErr(c+".integrity", ic.Config.Validate())
	}
	if e.Checks.DatabaseOn() {
		d := e.Checks.Database.Config
		fe.addErr(c+".database", d.Validate())
		if d.Source == database.SourcePrometheus && e.Prometheus == nil {
			fe.add(c+".database.source", "source prometheus needs %s.prometheus.url", p)
		}
		if d.PVC != "" && e.Prometheus == nil {
			fe.add(c+".database.pvc", "the PVC's capacity comes from %s.prometheus.url, which is not set", p)
		}
	}
}

func (ep *Endpoint) validate(p string, fe *fieldErrors) {
	if ep == nil {
		return
	}
	if err := checkURL(ep.URL); err != nil {
		fe.add(p+".url", "%v", err)
	}
	if ep.BearerTokenEnv != "" && ep.BasicAuth != nil {
		fe.add(p, "bearerTokenEnv and basicAuth cannot both be set")
	}
	if ep.BasicAuth != nil {
		if ep.BasicAuth.Username == "" {
			fe.add(p+".basicAuth.username", "required")
		}
		if ep.BasicAuth.PasswordEnv == "" {
			fe.add(p+".basicAuth.passwordEnv", "required: the name of the environment variable holding the password")
		}
	}
}

// checkURL accepts absolute http(s) URLs without credentials: secrets come
// from the environment, never from the file.
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http or https URL, got %q", raw)
	}
	if u.User != nil {
		return errors.New("must not contain credentials: use bearerTokenEnv or basicAuth.passwordEnv")
	}
	return nil
}

// Secret reads the environment variable a config field names. The error
// names the field and the variable, never a value.
func Secret(field, variable string) (string, error) {
	if variable == "" {
		return "", nil
	}
	v, ok := os.LookupEnv(variable)
	if !ok || v == "" {
		return "", fmt.Errorf("%s: environment variable %s is not set", field, variable)
	}
	return v, nil
}
