// Command checklist is the checklist benchmark: the whole `opsbot checklist`
// against the real test environment at production size, side by side in the
// same run with bench/baseline.sh, which does what a person does by hand
// (kubectl get pods, kubectl logs for each pod piped to grep, curl to
// Alertmanager and Prometheus). It prints a Markdown table for
// BENCHMARKS.md: wall time, peak RSS and API calls of each, and the log
// scanning throughput of opsbot's scanner against grep -c on the same bytes.
//
//	go run ./bench/checklist            # 2,000 pods, 200 MB of logs
//	go run ./bench/checklist -pods 200  # a quicker look
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/checks/logs/logstest"
	"github.com/opsbot/opsbot/checks/metrics"
	"github.com/opsbot/opsbot/testenv"
	"github.com/opsbot/opsbot/testenv/scenario"
)

func main() { os.Exit(run()) }

func run() int {
	pods := flag.Int("pods", 2000, "pods in the namespace (in deployments of 20)")
	logKB := flag.Int64("log-kb", 100, "KiB of logs per pod")
	alerts := flag.Int("alerts", 100, "firing alerts")
	queries := flag.Int("custom-queries", 14, "custom PromQL queries on top of the 6 built-ins")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	if err := bench(ctx, *pods, *logKB<<10, *alerts, *queries); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

// measurement is one side of the comparison.
type measurement struct {
	wall                         time.Duration
	maxRSSKB                     int64
	apiserver, kubelet, am, prom int64
	out                          string
}

func bench(ctx context.Context, pods int, logBytes int64, alerts, customQueries int) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "opsbot-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	step("building opsbot")
	bin := filepath.Join(work, "opsbot")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/opsbot")
	build.Dir, build.Stderr = root, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}

	step("starting etcd, kube-apiserver, stub kubelet, Prometheus, Alertmanager")
	env, err := testenv.Start(ctx, testenv.Options{Kube: &testenv.KubeOptions{}, Prometheus: &testenv.PrometheusOptions{}, Alertmanager: &testenv.AlertmanagerOptions{}})
	if err != nil {
		return err
	}
	defer env.Stop()

	s := scenario.Scale{
		Namespace: "shop", Deployments: pods / 20, PodsPerDeployment: 20, UnhealthyDeployments: pods / 20 / 10,
		LogBytesPerPod: logBytes, LogErrorRatio: 0.01, FailedJobs: 5, FailedCronJobs: 5,
		Alerts: alerts, AlertNames: 20, CustomQueries: customQueries, Concurrency: 16,
	}
	step(fmt.Sprintf("planting %d pods (%d unhealthy), %d MB of logs, %d alerts, %d custom queries",
		s.Pods(), s.UnhealthyDeployments*s.PodsPerDeployment, int64(s.Pods())*logBytes>>20, alerts, customQueries))
	planted := time.Now()
	scale, err := scenario.PlantScale(ctx, env, root, s)
	if err != nil {
		return err
	}
	custom := scale.Queries
	step(fmt.Sprintf("planted in %s", time.Since(planted).Round(time.Second)))

	// opsbot runs with deploy/watched/role/role.yaml's least privilege; the
	// person doing it by hand has their own, broader access (kubectl logs
	// gets the pod first, which the bot's Role does not allow).
	kubeconfig := filepath.Join(work, "kubeconfig")
	if err := env.Kube.WriteKubeconfig(kubeconfig, testenv.BotUser); err != nil {
		return err
	}
	personKubeconfig := filepath.Join(work, "kubeconfig-person")
	if err := env.Kube.WriteKubeconfig(personKubeconfig, testenv.AdminUser); err != nil {
		return err
	}
	cfgPath := filepath.Join(work, "opsbot.yaml")
	if err := os.WriteFile(cfgPath, []byte(config(kubeconfig, s.Namespace, env, custom)), 0o600); err != nil {
		return err
	}
	// The baseline runs the very queries opsbot runs.
	mcheck, err := metrics.New(metricsConfig(custom), metrics.Env{PrometheusURL: env.Prometheus.URL(), Namespaces: []string{s.Namespace}}, nil, nil)
	if err != nil {
		return err
	}
	allQueries := mcheck.Expressions()
	queriesFile := filepath.Join(work, "queries.txt")
	oneLine := strings.NewReplacer("\n", " ")
	for i := range allQueries {
		allQueries[i] = oneLine.Replace(allQueries[i])
	}
	if err := os.WriteFile(queriesFile, []byte(strings.Join(allQueries, "\n")+"\n"), 0o600); err != nil {
		return err
	}

	step("opsbot checklist")
	ops, err := measure(ctx, env, exec.CommandContext(ctx, bin, "checklist", "--config", cfgPath, "--output", "json"), 1)
	if err != nil {
		return err
	}
	var rep struct {
		Checks []struct {
			checks.Result
			DurationMS int64 `json:"durationMs"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(ops.out), &rep); err != nil {
		return fmt.Errorf("opsbot output: %w", err)
	}
	for _, r := range rep.Checks {
		fmt.Fprintf(os.Stderr, "    %-8s %-7s %s (%d findings, %dms)\n", r.Check, r.Status, r.Summary, len(r.Findings), r.DurationMS)
	}

	step("baseline: kubectl get pods, kubectl logs | grep for each pod, curl")
	base := exec.CommandContext(ctx, "bash", filepath.Join(root, "bench", "baseline.sh"),
		personKubeconfig, s.Namespace, "24h", env.Alertmanager.URL(), env.Prometheus.URL(), queriesFile)
	base.Env = append(os.Environ(), "KUBECTL="+env.Kube.KubectlPath())
	bl, err := measure(ctx, env, base, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "    %s", bl.out)

	step("log scanning: opsbot's scanner vs grep -c on the same bytes")
	scanMBs, grepMBs, size, err := scanVersusGrep(ctx, work, int64(s.Pods())*logBytes)
	if err != nil {
		return err
	}

	fmt.Printf("\n| %d pods, %d MB logs, %d alerts, %d queries | opsbot checklist | by hand (baseline.sh) | ratio |\n|---|---|---|---|\n",
		s.Pods(), int64(s.Pods())*logBytes>>20, alerts, len(allQueries))
	row := func(name string, a, b float64, unit string, digits int) {
		fmt.Printf("| %s | %.*f %s | %.*f %s | %.1f× |\n", name, digits, a, unit, digits, b, unit, b/a)
	}
	row("wall time", ops.wall.Seconds(), bl.wall.Seconds(), "s", 1)
	row("peak RSS (largest process)", float64(ops.maxRSSKB)/1024, float64(bl.maxRSSKB)/1024, "MB", 0)
	row("kube-apiserver requests", float64(ops.apiserver), float64(bl.apiserver), "", 0)
	row("kubelet log requests", float64(ops.kubelet), float64(bl.kubelet), "", 0)
	row("Alertmanager requests", float64(ops.am), float64(bl.am), "", 0)
	row("Prometheus requests", float64(ops.prom), float64(bl.prom), "", 0)
	fmt.Printf("\n| log scanning, %d MB generated log file | MB/s |\n|---|---|\n| opsbot scanner | %.0f |\n| grep -c -i -E 'error\\|fatal\\|exception' | %.0f |\n| ratio | %.2f |\n",
		size>>20, scanMBs, grepMBs, scanMBs/grepMBs)
	return nil
}

// measure runs cmd, with the servers' request counters read before and
// after, and its wall time and peak RSS. okExit is the exit code that
// counts as success besides 0 (opsbot exits 1 when it finds problems, which
// it should here).
func measure(ctx context.Context, env *testenv.Env, cmd *exec.Cmd, okExit int) (measurement, error) {
	before, err := counters(ctx, env)
	if err != nil {
		return measurement{}, err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || okExit == 0 || ee.ExitCode() != okExit {
			return measurement{}, fmt.Errorf("%s: %w", cmd.Path, err)
		}
	}
	after, err := counters(ctx, env)
	if err != nil {
		return measurement{}, err
	}
	m := measurement{wall: wall, out: out.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSSKB = ru.Maxrss
	}
	m.apiserver, m.kubelet, m.am, m.prom = after[0]-before[0], after[1]-before[1], after[2]-before[2], after[3]-before[3]
	return m, nil
}

// counters reads how many requests each server has answered: the
// apiserver's apiserver_request_total, the stub kubelet's own count,
// Alertmanager's and Prometheus's HTTP request counters. The reads
// themselves are subtracted out by reading before and after.
func counters(ctx context.Context, env *testenv.Env) ([4]int64, error) {
	var c [4]int64
	var err error
	if c[0], err = metricSum(ctx, env.Kube.URL()+"/metrics", env.Kube.AdminToken(), "apiserver_request_total", env.Kube.CAData()); err != nil {
		return c, err
	}
	c[1] = env.Kube.Kubelet().Requests()
	if c[2], err = metricSum(ctx, env.Alertmanager.URL()+"/metrics", "", "alertmanager_http_request_duration_seconds_count", nil); err != nil {
		return c, err
	}
	if c[3], err = metricSum(ctx, env.Prometheus.URL()+"/metrics", "", "prometheus_http_requests_total", nil); err != nil {
		return c, err
	}
	return c, nil
}

func metricSum(ctx context.Context, url, token, name string, ca []byte) (int64, error) {
	client := http.DefaultClient
	if ca != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca)
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || (len(line) > len(name) && line[len(name)] != '{' && line[len(name)] != ' ') {
			continue
		}
		f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum += f
		}
	}
	return int64(sum), sc.Err()
}

// scanVersusGrep generates size bytes of logs into a file and measures the
// throughput of opsbot's scanner and of grep -c over it, each after one
// warm-up read so both start from the page cache.
func scanVersusGrep(ctx context.Context, dir string, size int64) (scanMBs, grepMBs float64, n int64, err error) {
	path := filepath.Join(dir, "logs.txt")
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := logstest.GenerateWith(w, logstest.Options{Size: size, Seed: 1, ErrorRatio: 0.01}); err != nil {
		return 0, 0, 0, err
	}
	if err := w.Flush(); err != nil {
		return 0, 0, 0, err
	}
	if err := f.Close(); err != nil {
		return 0, 0, 0, err
	}
	mbs := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
	grep := func() (time.Duration, error) {
		cmd := exec.CommandContext(ctx, "grep", "-c", "-i", "-E", "error|fatal|exception", path)
		cmd.Stdout = io.Discard
		start := time.Now()
		err := cmd.Run()
		return time.Since(start), err
	}
	scan := func() (time.Duration, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		start := time.Now()
		sc := logs.NewScanner(logs.ScannerConfig{})
		err = sc.Scan(f)
		return time.Since(start), err
	}
	best := func(fn func() (time.Duration, error)) (time.Duration, error) {
		var min time.Duration
		for i := range 4 { // the first run warms the page cache
			d, err := fn()
			if err != nil {
				return 0, err
			}
			if i == 1 || (i > 1 && d < min) {
				min = d
			}
		}
		return min, nil
	}
	g, err := best(grep)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("grep: %w", err)
	}
	s, err := best(scan)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("scan: %w", err)
	}
	return mbs(s), mbs(g), size, nil
}

// metricsConfig is the benchmark's metrics block: the built-ins plus the
// custom queries.
func metricsConfig(custom []string) metrics.Config {
	var cfg metrics.Config
	for i, q := range custom {
		warn, fail := 500.0, 5000.0
		cfg.Queries = append(cfg.Queries, metrics.Query{Name: fmt.Sprintf("queue-%02d", i), Query: q, Warn: &warn, Fail: &fail})
	}
	return cfg
}

// config is the benchmark's opsbot.yaml.
func config(kubeconfig, ns string, env *testenv.Env, custom []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `environments:
  bench:
    kubernetes: {kubeconfig: %q, context: %s}
    namespaces: [%s]
    timeout: 5m
    prometheus: {url: %s}
    alertmanager: {url: %s}
    checks:
      pods: {timeout: 5m}
      logs: {timeout: 5m}
      alerts: {timeout: 1m}
      metrics:
        timeout: 1m
        queries:
`, kubeconfig, testenv.KubeconfigContext, ns, env.Prometheus.URL(), env.Alertmanager.URL())
	for _, q := range metricsConfig(custom).Queries {
		fmt.Fprintf(&b, "          - {name: %s, query: %q, warn: %g, fail: %g}\n", q.Name, q.Query, *q.Warn, *q.Fail)
	}
	return b.String()
}

func step(s string) { fmt.Fprintf(os.Stderr, "==> %s\n", s) }

func repoRoot() (string, error) {
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
