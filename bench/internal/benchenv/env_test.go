package benchenv

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/testenv"
)

// The file Config writes is one opsbot accepts, and says what was asked:
// the cluster, namespaces, endpoints, each check's settings and the custom
// queries verbatim (quotes and line breaks included).
func TestConfig(t *testing.T) {
	custom := []string{`sum by (queue) (queue_depth{namespace=~"{{namespace}}"})`, "max(\n  up\n)"}
	c := Config{
		Kubeconfig: filepath.Join(t.TempDir(), "kube config"), Namespaces: []string{"shop-00", "shop-01"}, Timeout: "10m",
		PrometheusURL: "http://127.0.0.1:9090", AlertmanagerURL: "http://127.0.0.1:9093",
		Checks:  []Check{{Name: "pods", Settings: "{timeout: 5m}"}, {Name: "logs", Settings: "{timeout: 10m, concurrency: 16}"}},
		Metrics: &Metrics{Timeout: "1m", Custom: custom},
	}
	path := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := c.Write(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("opsbot.yaml: %v, %v; want mode 0600", fi.Mode(), err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	env := cfg.Environments["bench"]
	if env == nil {
		t.Fatalf("no environment bench in %+v", cfg.Environments)
	}
	if env.Kubernetes.Kubeconfig != c.Kubeconfig || env.Kubernetes.Context != testenv.KubeconfigContext {
		t.Errorf("kubernetes = %+v", env.Kubernetes)
	}
	if !slices.Equal(env.Namespaces, c.Namespaces) || time.Duration(env.Timeout) != 10*time.Minute {
		t.Errorf("namespaces %v, timeout %v", env.Namespaces, env.Timeout)
	}
	if env.Prometheus == nil || env.Prometheus.URL != c.PrometheusURL || env.Alertmanager == nil || env.Alertmanager.URL != c.AlertmanagerURL {
		t.Errorf("prometheus %+v, alertmanager %+v", env.Prometheus, env.Alertmanager)
	}
	if l := env.Checks.Logs.Config; time.Duration(l.Timeout) != 10*time.Minute || l.Concurrency != 16 {
		t.Errorf("logs settings %+v", l)
	}
	m := env.Checks.Metrics.Config
	if time.Duration(m.Timeout) != time.Minute || len(m.Queries) != len(custom) {
		t.Fatalf("metrics settings %+v", m)
	}
	for i, q := range m.Queries {
		want := MetricsConfig(custom).Queries[i]
		if q.Name != want.Name || q.Query != custom[i] || *q.Warn != 500 || *q.Fail != 5000 {
			t.Errorf("query %d = %s %q warn %v fail %v, want %s %q", i, q.Name, q.Query, *q.Warn, *q.Fail, want.Name, custom[i])
		}
	}
}

// Without endpoints or a metrics block the file has neither: opsbot then
// leaves the alerts and metrics checks off.
func TestConfigMinimal(t *testing.T) {
	c := Config{Kubeconfig: "/k", Namespaces: []string{"shop"}, Timeout: "5m", Checks: []Check{{Name: "logs", Settings: "{timeout: 5m}"}}}
	cfg, err := config.Parse([]byte(c.YAML()))
	if err != nil {
		t.Fatal(err)
	}
	env := cfg.Environments["bench"]
	if env.Prometheus != nil || env.Alertmanager != nil || len(env.Checks.Metrics.Config.Queries) != 0 {
		t.Errorf("prometheus %+v, alertmanager %+v, queries %v", env.Prometheus, env.Alertmanager, env.Checks.Metrics.Config.Queries)
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "bench", "internal", "benchenv", "env.go")); err != nil {
		t.Errorf("RepoRoot = %s, not this repository: %v", root, err)
	}
	t.Chdir(t.TempDir())
	if _, err := RepoRoot(); err == nil {
		t.Error("RepoRoot outside the repository: no error")
	}
}

func TestScale(t *testing.T) {
	s := Scale(2000, 10, 100<<10)
	if s.Pods() != 2000 || s.Namespaces != 10 || s.Deployments != 100 || s.LogBytesPerPod != 100<<10 || s.Namespace != "shop" {
		t.Errorf("Scale = %+v", s)
	}
}
