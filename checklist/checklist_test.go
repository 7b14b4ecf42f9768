package checklist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/opsbot/opsbot/internal/config"
)

func environment(t *testing.T, doc string) *config.Environment {
	t.Helper()
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	env, err := cfg.Environment("")
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func names(t *testing.T, doc string) []string {
	t.Helper()
	list, err := Build(environment(t, doc), Options{Kube: fake.NewClientset(), Dynamic: dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range list {
		out = append(out, c.Name())
	}
	return out
}

func TestBuildEnablesChecksInTheRunbooksOrder(t *testing.T) {
	t.Setenv("OPSBOT_TEST_INTEGRITY_DSN", "postgres://checker@db.example:5432/shop")
	for _, tt := range []struct {
		name, doc, want string
	}{
		{"by default: the cluster's looks", `
environments:
  prod: {namespaces: [shop]}
`, "pods logs"},
		{"every backend", `
environments:
  prod:
    namespaces: [shop]
    prometheus: {url: http://prometheus:9090}
    alertmanager: {url: http://alertmanager:9093}
    checks:
      http: {targets: [{name: api, url: http://api/health}]}
      grafana: {files: [../checks/grafana/testdata/ceph-cluster.json]}
`, "pods logs alerts metrics grafana http"},
		{"security, on with a few lines", `
environments:
  prod:
    namespaces: [shop]
    checks:
      security:
        vulnerabilities: {}
`, "pods logs security"},
		{"integrity when it has invariants", `
environments:
  prod:
    namespaces: [shop]
    checks:
      integrity:
        dsnEnv: OPSBOT_TEST_INTEGRITY_DSN
        invariants: [{name: orphans, query: "SELECT id FROM referrals"}]
`, "pods logs integrity"},
		{"database from a connection", `
environments:
  prod:
    namespaces: [shop]
    checks:
      database: {dsnEnv: OPSBOT_TEST_INTEGRITY_DSN}
`, "pods logs database"},
		{"database from prometheus", `
environments:
  prod:
    namespaces: [shop]
    prometheus: {url: http://prometheus:9090}
    checks:
      database: {source: prometheus}
`, "pods logs metrics database"},
		{"turned off", `
environments:
  prod:
    namespaces: [shop]
    alertmanager: {url: http://alertmanager:9093}
    checks:
      logs: {enabled: false}
      alerts: {enabled: false}
`, "pods"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(names(t, tt.doc), " "); got != tt.want {
				t.Errorf("checks = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBuildErrorsNameTheField(t *testing.T) {
	t.Setenv("OPSBOT_TEST_NO_SUCH_TOKEN", "")
	for _, tt := range []struct {
		name, doc, want string
	}{
		{"a missing secret names its key", `
environments:
  prod:
    namespaces: [shop]
    alertmanager: {url: http://alertmanager:9093, bearerTokenEnv: OPSBOT_TEST_NO_SUCH_TOKEN}
`, "environments.prod.alertmanager.bearerTokenEnv: environment variable OPSBOT_TEST_NO_SUCH_TOKEN is not set"},
		{"a missing Grafana token names its key", `
environments:
  prod:
    namespaces: [shop]
    prometheus: {url: http://prometheus:9090}
    checks:
      grafana: {url: http://grafana:3000, tokenEnv: OPSBOT_TEST_NO_SUCH_TOKEN, dashboards: [checkout]}
`, "environments.prod.checks.grafana.tokenEnv: environment variable OPSBOT_TEST_NO_SUCH_TOKEN is not set"},
		{"a missing dashboard file names the check", `
environments:
  prod:
    namespaces: [shop]
    prometheus: {url: http://prometheus:9090}
    checks:
      grafana: {files: [no-such-dashboard.json]}
`, "environments.prod.checks.grafana: files[0]: stat no-such-dashboard.json: no such file or directory"},
		{"the alerts channel without a Slack token names the check", `
environments:
  prod:
    namespaces: [shop]
    checks:
      alertschannel: {channel: C0123ALERT}
`, "environments.prod.checks.alertschannel: reading the alerts channel needs the Slack bot token"},
		{"the GitHub token names its key", `
environments:
  prod:
    namespaces: [shop]
    checks:
      security:
        github: {tokenEnv: OPSBOT_TEST_NO_SUCH_TOKEN, workflows: [{repo: acme/shop, workflow: codeql.yml}]}
`, "environments.prod.checks.security.github.tokenEnv: environment variable OPSBOT_TEST_NO_SUCH_TOKEN is not set"},
		{"integrity without its DSN names the variable", `
environments:
  prod:
    namespaces: [shop]
    checks:
      integrity:
        dsnEnv: OPSBOT_TEST_NO_SUCH_TOKEN
        invariants: [{name: orphans, query: "SELECT id FROM referrals"}]
`, "environments.prod.checks.integrity: dsnEnv: environment variable OPSBOT_TEST_NO_SUCH_TOKEN is not set"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(environment(t, tt.doc), Options{Kube: fake.NewClientset()})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Build = %v, want %q", err, tt.want)
			}
		})
	}
}

// RESTConfig asks for protobuf and sets no client-side rate limit unless
// kubernetes.qps asks for one: client-go's token bucket was what bounded a
// 2,000-pod checklist.
func TestRESTConfigLimitsAndEncoding(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	rc, err := RESTConfig(config.Kubernetes{Kubeconfig: kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	if rc.ContentType != "application/vnd.kubernetes.protobuf" || !strings.Contains(rc.AcceptContentTypes, "application/json") {
		t.Errorf("content types %q, accept %q; want protobuf, accepting JSON too", rc.ContentType, rc.AcceptContentTypes)
	}
	if rc.QPS >= 0 || rc.RateLimiter != nil {
		t.Errorf("default: QPS %v, burst %d, limiter %v; want no client-side limit (QPS < 0)", rc.QPS, rc.Burst, rc.RateLimiter)
	}
	rc, err = RESTConfig(config.Kubernetes{Kubeconfig: kubeconfig, QPS: 50})
	if err != nil {
		t.Fatal(err)
	}
	if rc.QPS != 50 || rc.Burst != 50 {
		t.Errorf("qps: 50: QPS %v, burst %d; want 50 and 50", rc.QPS, rc.Burst)
	}
}
