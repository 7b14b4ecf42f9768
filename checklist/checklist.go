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
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/alerts"
	"github.com/opsbot/opsbot/checks/alertschannel"
	"github.com/opsbot/opsbot/checks/httpcheck"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/checks/metrics"
	"github.com/opsbot/opsbot/checks/pods"
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/internal/version"
)

// Kubernetes client rate limits. The checklist makes one List per namespace
// and kind, then one log request per container, in a burst; client-go's
// defaults (5 QPS) would make a 2,000-pod namespace take minutes.
const (
	kubeQPS   = 100
	kubeBurst = 200
)

// Options are the dependencies Build does not read from the config.
type Options struct {
	Logger *zap.Logger
	// Kube, if set, is used instead of the client the config describes
	// (tests, or a caller that already has one).
	Kube kubernetes.Interface
	// Now is the clock of the checks; time.Now when nil.
	Now func() time.Time
	// Slack reads the alerts channel's history (a *slack.Client with the
	// bot token); needed only when the alertsChannel check is on.
	Slack alertschannel.History
	// LastChecklist says when the checklist last ran, so the alerts
	// channel is read from there; nil means the check's window.
	LastChecklist func(ctx context.Context) (time.Time, error)
	// Location is the time zone of times in summaries; time.Local when nil.
	Location *time.Location
}

// Build returns the enabled checks of env, in the runbook's order: pods,
// logs, alerts, metrics, http, the alerts channel. Errors are configuration problems (a missing
// secret, an unreadable kubeconfig) and name the field at fault.
func Build(env *config.Environment, opts Options) ([]checks.Check, error) {
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	p := "environments." + env.Name
	c := env.Checks
	var list []checks.Check

	podsOn, logsOn := c.Pods.On(true), c.Logs.On(true)
	if podsOn || logsOn {
		kube := opts.Kube
		if kube == nil {
			var err error
			if kube, err = KubeClient(env.Kubernetes); err != nil {
				return nil, fmt.Errorf("%s.kubernetes: %w", p, err)
			}
		}
		if podsOn {
			cfg := c.Pods.Config
			if cfg.Window == 0 {
				cfg.Window = env.Window
			}
			chk, err := pods.New(kube, env.Namespaces, cfg, now, logger.Named("pods"))
			if err != nil {
				return nil, fmt.Errorf("%s.checks.pods: %w", p, err)
			}
			list = append(list, chk)
		}
		if logsOn {
			cfg := c.Logs.Config
			if cfg.Window == 0 {
				cfg.Window = env.Window
			}
			list = append(list, logs.New(kube, env.Namespaces, cfg, now, logger.Named("logs")))
		}
	}

	if c.Alerts.On(env.Alertmanager != nil) {
		client, err := endpointClient(env.Alertmanager, p+".alertmanager")
		if err != nil {
			return nil, err
		}
		chk, err := alerts.New(c.Alerts.Config, env.Alertmanager.URL, client, logger.Named("alerts"))
		if err != nil {
			return nil, fmt.Errorf("%s.checks.alerts: %w", p, err)
		}
		list = append(list, chk)
	}

	if c.Metrics.On(env.Prometheus != nil) {
		client, err := endpointClient(env.Prometheus, p+".prometheus")
		if err != nil {
			return nil, err
		}
		menv := metrics.Env{PrometheusURL: env.Prometheus.URL, Namespaces: env.Namespaces}
		if env.Grafana != nil {
			menv.GrafanaURL = env.Grafana.URL
		}
		chk, err := metrics.New(c.Metrics.Config, menv, client, logger.Named("metrics"))
		if err != nil {
			return nil, fmt.Errorf("%s.checks.metrics: %w", p, err)
		}
		list = append(list, chk)
	}

	if c.HTTP.On(len(c.HTTP.Config.Targets) > 0) {
		// A client of its own: the Prometheus or Alertmanager credentials
		// must never be sent to a health URL.
		chk, err := httpcheck.New(c.HTTP.Config, httpx.NewClient(httpx.Options{Version: version.Version}), logger.Named("http"))
		if err != nil {
			return nil, fmt.Errorf("%s.checks.http: %w", p, err)
		}
		list = append(list, chk)
	}
	if c.AlertsChannel.On(c.AlertsChannel.Config.Channel != "") {
		if opts.Slack == nil {
			return nil, fmt.Errorf("%s.checks.alertschannel: reading the alerts channel needs the Slack bot token: set SLACK_BOT_TOKEN", p)
		}
		chk, err := alertschannel.New(opts.Slack, c.AlertsChannel.Config, alertschannel.Options{
			Since: opts.LastChecklist, Now: now, Location: opts.Location, Logger: logger.Named("alertschannel"),
		})
		if err != nil {
			return nil, fmt.Errorf("%s.checks.alertschannel: %w", p, err)
		}
		list = append(list, chk)
	}
	return list, nil
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

// RESTConfig is the client-go configuration for k, with opsbot's user agent
// and rate limits.
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
	}
	if err != nil {
		return nil, err
	}
	rc = rest.CopyConfig(rc)
	rc.UserAgent = version.UserAgent()
	rc.QPS, rc.Burst = kubeQPS, kubeBurst
	return rc, nil
}

// endpointClient is the HTTP client of a Prometheus or Alertmanager, with
// its credentials read from the environment variables the config names.
func endpointClient(ep *config.Endpoint, field string) (*http.Client, error) {
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
