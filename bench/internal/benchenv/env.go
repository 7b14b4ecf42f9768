// Package benchenv is what the benchmark commands under bench/ share: it
// starts the real test environment and plants the scale scenario in it,
// builds opsbot and writes its configuration for that environment, and
// measures runs (CPU time of processes, requests the servers answered,
// medians over runs).
package benchenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/opsbot/opsbot/checks/metrics"
	"github.com/opsbot/opsbot/testenv"
	"github.com/opsbot/opsbot/testenv/scenario"
)

// Step prints a step of a benchmark, with the time, to standard error.
func Step(s string) { fmt.Fprintf(os.Stderr, "==> %s %s\n", time.Now().Format("15:04:05"), s) }

// RepoRoot is the root of the opsbot repository the working directory is
// in: the nearest directory upwards whose go.mod is opsbot's.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/opsbot/opsbot\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside the opsbot repository")
		}
		dir = parent
	}
}

// Build builds the opsbot command of the repository at root into dir and
// returns the binary's path. The compiler's messages go to standard error.
func Build(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "opsbot")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/opsbot")
	build.Dir, build.Stderr = root, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}

// Start starts the whole test environment: etcd, kube-apiserver, the stub
// kubelet, Prometheus and Alertmanager.
func Start(ctx context.Context) (*testenv.Env, error) {
	return testenv.Start(ctx, testenv.Options{Kube: &testenv.KubeOptions{}, Prometheus: &testenv.PrometheusOptions{}, Alertmanager: &testenv.AlertmanagerOptions{}})
}

// Scale is the part of the scale scenario both benchmarks plant alike:
// pods in Deployments of 20 in namespace "shop" (or namespaces shop-NN),
// logBytes of logs per pod of which 1% are errors, 5 failed Jobs and 5
// failed CronJobs, planted 16 objects at a time. The caller sets the
// unhealthy Deployments, the alerts and the custom series.
func Scale(pods, namespaces int, logBytes int64) scenario.Scale {
	return scenario.Scale{
		Namespace: "shop", Namespaces: namespaces, Deployments: pods / 20, PodsPerDeployment: 20,
		LogBytesPerPod: logBytes, LogErrorRatio: 0.01, FailedJobs: 5, FailedCronJobs: 5, Concurrency: 16,
	}
}

// MetricsConfig is the benchmarks' metrics check: the built-in queries
// plus the custom ones, named queue-00, queue-01, ..., each warning at 500
// and failing at 5000.
func MetricsConfig(custom []string) metrics.Config {
	var cfg metrics.Config
	for i, q := range custom {
		warn, fail := 500.0, 5000.0
		cfg.Queries = append(cfg.Queries, metrics.Query{Name: fmt.Sprintf("queue-%02d", i), Query: q, Warn: &warn, Fail: &fail})
	}
	return cfg
}

// Config is opsbot.yaml for a benchmark: one environment, "bench", on the
// test environment's cluster as testenv.KubeconfigContext.
type Config struct {
	// Kubeconfig is the path of the kubeconfig opsbot uses.
	Kubeconfig string
	Namespaces []string
	// Timeout is the environment's, a YAML duration such as "10m".
	Timeout string
	// PrometheusURL and AlertmanagerURL are written when not empty.
	PrometheusURL, AlertmanagerURL string
	// Checks are the checks' settings, in order.
	Checks []Check
	// Metrics, when not nil, is the metrics check's, written after Checks.
	Metrics *Metrics
}

// Check is one check's settings.
type Check struct {
	Name string
	// Settings is a YAML flow mapping, such as "{timeout: 5m}".
	Settings string
}

// Metrics is the metrics check's settings: its timeout and the custom
// queries of MetricsConfig(Custom).
type Metrics struct {
	Timeout string
	Custom  []string
}

// YAML is the configuration file's text.
func (c Config) YAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "environments:\n  bench:\n    kubernetes: {kubeconfig: %q, context: %s}\n    namespaces: [%s]\n    timeout: %s\n",
		c.Kubeconfig, testenv.KubeconfigContext, strings.Join(c.Namespaces, ", "), c.Timeout)
	if c.PrometheusURL != "" {
		fmt.Fprintf(&b, "    prometheus: {url: %s}\n", c.PrometheusURL)
	}
	if c.AlertmanagerURL != "" {
		fmt.Fprintf(&b, "    alertmanager: {url: %s}\n", c.AlertmanagerURL)
	}
	b.WriteString("    checks:\n")
	for _, ch := range c.Checks {
		fmt.Fprintf(&b, "      %s: %s\n", ch.Name, ch.Settings)
	}
	if c.Metrics != nil {
		fmt.Fprintf(&b, "      metrics:\n        timeout: %s\n        queries:\n", c.Metrics.Timeout)
		for _, q := range MetricsConfig(c.Metrics.Custom).Queries {
			fmt.Fprintf(&b, "          - {name: %s, query: %q, warn: %g, fail: %g}\n", q.Name, q.Query, *q.Warn, *q.Fail)
		}
	}
	return b.String()
}

// Write writes the configuration file to path, readable by its owner only.
func (c Config) Write(path string) error {
	return os.WriteFile(path, []byte(c.YAML()), 0o600)
}
