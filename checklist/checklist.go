// Package checklist is the runbook's morning run. Build makes an
// environment's checks from the configuration: the one place where each
// kind of check is registered, with the clients it needs (Kubernetes,
// Prometheus, Alertmanager, plain HTTP). Run runs them and does what
// follows, the same for `opsbot checklist` in a terminal and for the bot:
// the report, the run saved (RunStore) and the sightings of its findings
// recorded (triage).
package checklist

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/opsbot/opsbot/checks"
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
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/internal/version"
	"github.com/opsbot/opsbot/redact"
)

// Options are the dependencies Build does not read from the config.
type Options struct {
	Logger *zap.Logger
	// Kube, if set, is used instead of the client the config describes
	// (tests, or a caller that already has one).
	Kube kubernetes.Interface
	// Dynamic, if set, is used instead of the dynamic client the config
	// describes (the security check's custom resources).
	Dynamic dynamic.Interface
	// Now is the clock of the checks; time.Now when nil.
	Now func() time.Time
	// Slack reads the alerts channel's history (a *slack.Client with the
	// bot token); needed only when the alertschannel check is on.
	Slack alertschannel.History
	// LastChecklist says when the checklist last ran, so the alerts
	// channel is read from there; nil means the check's window.
	LastChecklist func(ctx context.Context) (time.Time, error)
	// LastRunFindings returns the findings of the environment's last saved
	// run whose fingerprint starts with prefix (ok false: none saved), so
	// that the security check marks the vulnerabilities new since; nil
	// (the terminal, which has no store) marks none.
	LastRunFindings func(ctx context.Context, prefix string) (findings []checks.Finding, ok bool, err error)
	// LogState, if set, keeps the logs check's state between runs, so that
	// a run reads only what was logged since the last (see checks/logs);
	// nil reads every log in full.
	LogState logs.StateStore
	// Redactor takes secrets out of what the checks keep between runs (the
	// logs state); use the one of the reports (RunOptions.Redactor).
	Redactor redact.Redactor
	// Location is the time zone of times in summaries; time.Local when nil.
	Location *time.Location
	// Meter, if set, counts what the checks' HTTP clients do (give it to
	// Run too: the report's cost).
	Meter *Meter
}

// kind is one kind of check: its name (the check's package, Name() and
// config key) and how to build it for an environment. build returns a nil
// Check when the check is off there.
type kind struct {
	name  string
	build func(b *build) (checks.Check, error)
}

// kinds is every kind of check, in the runbook's order. A new check is one
// line here, a builder below, a block in config.Checks and a rule in
// deploy/watched/role/role.yaml if it reads the cluster (ARCHITECTURE.md).
var kinds = []kind{
	{"pods", buildPods},
	{"logs", buildLogs},
	{"alerts", buildAlerts},
	{"metrics", buildMetrics},
	{"grafana", buildGrafana},
	{"http", buildHTTP},
	{"alertschannel", buildAlertsChannel},
	{"security", buildSecurity},
	{"integrity", buildIntegrity},
	{"database", buildDatabase},
}

// build is what the builders share: the environment, the options and the
// clients they have in common, made once.
type build struct {
	env    *config.Environment
	opts   Options
	logger *zap.Logger
	now    func() time.Time
	field  string // "environments.prod"

	kubeClient kubernetes.Interface
	kubeErr    error
}

// dynamic is the environment's dynamic Kubernetes client (custom
// resources), Options.Dynamic or connected from the config.
func (b *build) dynamic() (dynamic.Interface, error) {
	if b.opts.Dynamic != nil {
		return b.opts.Dynamic, nil
	}
	rc, err := b.restConfig()
	if err == nil {
		var d dynamic.Interface
		if d, err = dynamic.NewForConfig(rc); err == nil {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%s.kubernetes: %w", b.field, err)
}

// kube is the environment's Kubernetes client, connected on first use.
func (b *build) kube() (kubernetes.Interface, error) {
	if b.kubeClient == nil && b.kubeErr == nil {
		if b.kubeClient = b.opts.Kube; b.kubeClient == nil {
			var rc *rest.Config
			if rc, b.kubeErr = b.restConfig(); b.kubeErr == nil {
				b.kubeClient, b.kubeErr = kubernetes.NewForConfig(rc)
			}
			if b.kubeErr != nil {
				b.kubeErr = fmt.Errorf("%s.kubernetes: %w", b.field, b.kubeErr)
			}
		}
	}
	return b.kubeClient, b.kubeErr
}

// restConfig is the environment's client-go configuration, metered.
func (b *build) restConfig() (*rest.Config, error) {
	rc, err := RESTConfig(b.env.Kubernetes)
	if err != nil {
		return nil, err
	}
	if b.opts.Meter != nil {
		rc.Wrap(b.opts.Meter.wrap)
	}
	return rc, nil
}

// endpointClient is the HTTP client of a Prometheus or Alertmanager: the
// Kubernetes API's (its credentials, metered) when it is reached through
// the API server's service proxy, else its own with the credentials the
// config names.
func (b *build) endpointClient(ep *config.Endpoint, field string) (*http.Client, error) {
	if ep.ThroughKubernetes {
		rc, err := b.restConfig()
		if err != nil {
			return nil, located(fmt.Errorf("%s.kubernetes: %w", b.field, err))
		}
		c, err := rest.HTTPClientFor(rc)
		if err != nil {
			return nil, located(fmt.Errorf("%s.kubernetes: %w", b.field, err))
		}
		return c, nil
	}
	c, err := EndpointClient(ep, field)
	if err != nil {
		return nil, located(err)
	}
	return b.metered(c), nil
}

// metered is c counting its requests on the build's meter, if any.
func (b *build) metered(c *http.Client) *http.Client {
	if b.opts.Meter == nil {
		return c
	}
	mc := *c
	mc.Transport = b.opts.Meter.Transport(c.Transport)
	return &mc
}

// Build returns the enabled checks of env, in the runbook's order (kinds).
// Errors are configuration problems (a missing secret, an unreadable
// kubeconfig) and name the field at fault.
func Build(env *config.Environment, opts Options) ([]checks.Check, error) {
	b := &build{env: env, opts: opts, logger: opts.Logger, now: opts.Now, field: "environments." + env.Name}
	if b.logger == nil {
		b.logger = zap.NewNop()
	}
	if b.now == nil {
		b.now = time.Now
	}
	var list []checks.Check
	for _, k := range kinds {
		chk, err := k.build(b)
		var located *locatedError
		switch {
		case errors.As(err, &located):
			return nil, located.err
		case err != nil:
			return nil, fmt.Errorf("%s.checks.%s: %w", b.field, k.name, err)
		case chk != nil:
			list = append(list, chk)
		}
	}
	return list, nil
}

// locatedError is a builder's error that names its field already (the
// kubeconfig, an endpoint's secret), not the check's block.
type locatedError struct{ err error }

func (e *locatedError) Error() string { return e.err.Error() }

func located(err error) error {
	if err == nil {
		return nil
	}
	return &locatedError{err}
}

func buildPods(b *build) (checks.Check, error) {
	c := b.env.Checks.Pods
	if !c.On(true) {
		return nil, nil
	}
	kube, err := b.kube()
	if err != nil {
		return nil, located(err)
	}
	cfg := c.Config
	if cfg.Window == 0 {
		cfg.Window = b.env.Window
	}
	return pods.New(kube, b.env.Namespaces, cfg, b.now, b.logger.Named("pods"))
}

func buildLogs(b *build) (checks.Check, error) {
	c := b.env.Checks.Logs
	if !c.On(true) {
		return nil, nil
	}
	kube, err := b.kube()
	if err != nil {
		return nil, located(err)
	}
	cfg := c.Config
	if cfg.Window == 0 {
		cfg.Window = b.env.Window
	}
	var opts []logs.Option
	if b.opts.LogState != nil {
		opts = append(opts, logs.WithState(b.opts.LogState, b.env.Name, b.opts.Redactor))
	}
	return logs.New(kube, b.env.Namespaces, cfg, b.now, b.logger.Named("logs"), opts...), nil
}

func buildAlerts(b *build) (checks.Check, error) {
	c, am := b.env.Checks.Alerts, b.env.Alertmanager
	if !c.On(am != nil) {
		return nil, nil
	}
	client, err := b.endpointClient(am, b.field+".alertmanager")
	if err != nil {
		return nil, err
	}
	cfg := c.Config
	if len(cfg.Matchers) == 0 {
		// The environment's alerts: those of its namespaces, by the
		// namespace label (checks.alerts.matchers says otherwise).
		quoted := make([]string, len(b.env.Namespaces))
		for i, ns := range b.env.Namespaces {
			quoted[i] = regexp.QuoteMeta(ns)
		}
		cfg.Matchers = []string{fmt.Sprintf(`namespace=~"%s"`, strings.Join(quoted, "|"))}
	}
	return alerts.New(cfg, am.URL, client, b.logger.Named("alerts"))
}

func buildMetrics(b *build) (checks.Check, error) {
	c, prom := b.env.Checks.Metrics, b.env.Prometheus
	if !c.On(prom != nil) {
		return nil, nil
	}
	client, err := b.endpointClient(prom, b.field+".prometheus")
	if err != nil {
		return nil, err
	}
	menv := metrics.Env{PrometheusURL: prom.URL, Namespaces: b.env.Namespaces}
	if b.env.Grafana != nil {
		menv.GrafanaURL = b.env.Grafana.URL
	}
	return metrics.New(c.Config, menv, client, b.logger.Named("metrics"))
}

func buildGrafana(b *build) (checks.Check, error) {
	c, prom := b.env.Checks.Grafana, b.env.Prometheus
	if !c.On(c.Config.Named()) {
		return nil, nil
	}
	if prom == nil {
		return nil, errors.New("the grafana check needs the environment's prometheus.url")
	}
	promClient, err := b.endpointClient(prom, b.field+".prometheus")
	if err != nil {
		return nil, err
	}
	// A client of its own: the service-account token goes to Grafana
	// only, and Prometheus's credentials never go to Grafana.
	tok, err := config.Secret(b.field+".checks.grafana.tokenEnv", c.Config.TokenEnv)
	if err != nil {
		return nil, located(err)
	}
	grafanaClient := b.metered(httpx.NewClient(httpx.Options{Version: version.Version, BearerToken: httpx.Secret(tok)}))
	return grafana.New(c.Config, grafana.Env{
		PrometheusURL: prom.URL, Window: time.Duration(b.env.Window), Location: b.opts.Location, Now: b.now,
	}, grafana.Clients{Prometheus: promClient, Grafana: grafanaClient}, b.logger.Named("grafana"))
}

func buildHTTP(b *build) (checks.Check, error) {
	c := b.env.Checks.HTTP
	if !c.On(len(c.Config.Targets) > 0) {
		return nil, nil
	}
	// A client of its own: the Prometheus or Alertmanager credentials
	// must never be sent to a health URL.
	return httpcheck.New(c.Config, b.metered(httpx.NewClient(httpx.Options{Version: version.Version})), b.logger.Named("http"))
}

func buildAlertsChannel(b *build) (checks.Check, error) {
	c := b.env.Checks.AlertsChannel
	if !c.On(c.Config.Channel != "") {
		return nil, nil
	}
	if b.opts.Slack == nil {
		return nil, errors.New("reading the alerts channel needs the Slack bot token: set SLACK_BOT_TOKEN")
	}
	return alertschannel.New(b.opts.Slack, c.Config, alertschannel.Options{
		Since: b.opts.LastChecklist, Now: b.now, Location: b.opts.Location, Logger: b.logger.Named("alertschannel"),
	})
}

func buildSecurity(b *build) (checks.Check, error) {
	c := b.env.Checks.Security
	if !c.On(c.Config.On()) {
		return nil, nil
	}
	o := security.Options{Namespaces: b.env.Namespaces, LastRunFindings: b.opts.LastRunFindings,
		Location: b.opts.Location, Logger: b.logger.Named("security")}
	if c.Config.Vulnerabilities != nil {
		d, err := b.dynamic()
		if err != nil {
			return nil, located(err)
		}
		o.Dynamic = d
	}
	if gh := c.Config.GitHub; gh != nil {
		tok, err := config.Secret(b.field+".checks.security.github.tokenEnv", gh.TokenEnv)
		if err != nil {
			return nil, located(err)
		}
		// A client of its own: the token goes to GitHub only.
		o.GitHub = b.metered(httpx.NewClient(httpx.Options{Version: version.Version, BearerToken: httpx.Secret(tok)}))
	}
	return security.New(c.Config, o)
}

func buildIntegrity(b *build) (checks.Check, error) {
	c := b.env.Checks.Integrity
	if !c.On(len(c.Config.Invariants) > 0) {
		return nil, nil
	}
	dsn, err := config.Secret("dsnEnv", c.Config.DSNEnv)
	if err != nil {
		return nil, err
	}
	return integrity.New(c.Config, dsn, b.logger.Named("integrity"))
}

func buildDatabase(b *build) (checks.Check, error) {
	if !b.env.Checks.DatabaseOn() {
		return nil, nil
	}
	cfg := b.env.Checks.Database.Config
	var denv database.Env
	if cfg.Source == database.SourcePrometheus || cfg.PVC != "" {
		prom := b.env.Prometheus
		if prom == nil {
			return nil, fmt.Errorf("source prometheus and pvc need %s.prometheus.url", b.field)
		}
		client, err := b.endpointClient(prom, b.field+".prometheus")
		if err != nil {
			return nil, err
		}
		denv.PrometheusURL, denv.Client = prom.URL, client
	}
	if cfg.Source != database.SourcePrometheus {
		dsn, err := config.Secret("dsnEnv", cfg.DSNEnv)
		if err != nil {
			return nil, err
		}
		denv.DSN = dsn
	}
	return database.New(cfg, denv, b.logger.Named("database"))
}

// KubeClient connects to the cluster the config names: in-cluster, or a
// kubeconfig context (the usual $KUBECONFIG rules when no path is given).
func KubeClient(k config.Kubernetes) (kubernetes.Interface, error) {
	rc, err := RESTConfig(k)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

// RESTConfig is the client-go configuration for k, with opsbot's user agent,
// rate limits (none by default) and protobuf for the built-in kinds.
func RESTConfig(k config.Kubernetes) (*rest.Config, error) {
	var rc *rest.Config
	var err error
	if k.InCluster {
		rc, err = rest.InClusterConfig()
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if k.Kubeconfig != "" {
			rules.ExplicitPath = k.Kubeconfig
		}
		overrides := &clientcmd.ConfigOverrides{CurrentContext: k.Context}
		rc, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
		if clientcmd.IsEmptyConfig(err) {
			// client-go would say "try setting KUBERNETES_MASTER".
			where := "$KUBECONFIG is not set and ~/.kube/config does not exist"
			if k.Kubeconfig != "" {
				where = k.Kubeconfig + " holds no cluster"
			}
			return nil, fmt.Errorf("no kubeconfig: %s; give one with --kubeconfig (or kubernetes.kubeconfig), "+
				"or run opsbot in a pod with kubernetes.inCluster: true", where)
		}
	}
	if err != nil {
		return nil, err
	}
	rc = rest.CopyConfig(rc)
	rc.UserAgent = version.UserAgent()
	// Built-in kinds in protobuf, as Kubernetes' own components ask for
	// them: a List of 2,000 pods is a third of its JSON and decodes several
	// times faster, on both sides, and every run lists every pod twice (the
	// pods and logs checks). The dynamic client (custom resources) sets
	// JSON on its own copy; a proxied Prometheus or Alertmanager still
	// finds application/json among the accepted types.
	rc.ContentType = runtime.ContentTypeProtobuf
	rc.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	// No client-side rate limit unless kubernetes.qps asks for one: the
	// checks bound their requests in flight, and client-go's default token
	// bucket (5 per second, a burst of 10; formerly 100 and 200 here) was
	// what bounded the checklist: 1,900 log requests took 18 s of waiting
	// at 2,000 pods, with the processes' CPU mostly idle (BENCHMARKS.md).
	rc.QPS, rc.Burst = -1, 0
	if k.QPS > 0 {
		rc.QPS, rc.Burst = float32(k.QPS), k.QPS
	}
	return rc, nil
}

// EndpointClient is the HTTP client of a Prometheus or Alertmanager reached
// directly (not ThroughKubernetes), with its credentials read from the
// environment variables the config names; field locates the endpoint in
// the config for errors (e.g. "environments.prod.alertmanager").
func EndpointClient(ep *config.Endpoint, field string) (*http.Client, error) {
	o := httpx.Options{Version: version.Version}
	tok, err := config.Secret(field+".bearerTokenEnv", ep.BearerTokenEnv)
	if err != nil {
		return nil, err
	}
	o.BearerToken = httpx.Secret(tok)
	if ba := ep.BasicAuth; ba != nil {
		pw, err := config.Secret(field+".basicAuth.passwordEnv", ba.PasswordEnv)
		if err != nil {
			return nil, err
		}
		o.Username, o.Password = ba.Username, httpx.Secret(pw)
	}
	return httpx.NewClient(o), nil
}
