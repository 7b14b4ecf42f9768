package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/testenv"
	"github.com/opsbot/opsbot/testenv/scenario"
)

// The integration scenario: the real `opsbot checklist` against a real
// kube-apiserver (RBAC on, the bot's own Role from deploy/), pod logs
// through the apiserver from a stub kubelet, Trivy Operator's reports in
// the apiserver, a real Prometheus and a real Alertmanager, a GitHub fake,
// and a real PostgreSQL read through a read-only role, all on 127.0.0.1.
// It must find every planted anomaly and nothing else.

var (
	env       *testenv.Env
	planted   *scenario.Checklist
	kubeconf  string
	startTime time.Time
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	flag.Parse() // testing.Short needs the flags
	if testing.Short() {
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	startTime = time.Now()
	var err error
	env, err = testenv.Start(ctx, testenv.Options{
		Kube:         &testenv.KubeOptions{},
		Prometheus:   &testenv.PrometheusOptions{},
		Alertmanager: &testenv.AlertmanagerOptions{},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the test environment: %v\n", err)
		return 1
	}
	defer env.Stop()
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// PostgreSQL starts while the cluster and the backends are planted. A
	// missing PostgreSQL fails the run (CI installs it), as a missing
	// kube-apiserver or Prometheus does above; only -short skips it.
	type started struct {
		db  *scenario.Database
		err error
	}
	database := make(chan started, 1)
	go func() {
		db, err := scenario.StartDatabase(ctx)
		database <- started{db, err}
	}()
	planted, err = scenario.PlantChecklist(ctx, env, root)
	db := <-database
	if err != nil || db.err != nil {
		if db.db != nil {
			_ = db.db.Close()
		}
		if planted != nil {
			_ = planted.Close()
		}
		fmt.Fprintf(os.Stderr, "planting the scenario: %v\n", errors.Join(err, db.err))
		return 1
	}
	planted.Database = db.db
	defer planted.Close()
	if err := planted.PlantSecurity(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "planting the scenario: %v\n", err)
		return 1
	}
	for k, v := range planted.Environ() {
		os.Setenv(k, v)
	}
	dir, err := os.MkdirTemp("", "opsbot-checklist-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := planted.WaitSettled(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The checklist runs as the bot's user, with only deploy/watched/role/role.yaml.
	kubeconf = filepath.Join(dir, "kubeconfig")
	if err := env.Kube.WriteKubeconfig(kubeconf, testenv.BotUser); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// writeConfig writes the scenario's config, with alertmanagerURL and
// prometheusURL substituted so a test can point one at nothing.
func writeConfig(t *testing.T, prometheusURL, alertmanagerURL string) string {
	t.Helper()
	cfg := planted.Config(scenario.ConfigOptions{
		Environment: "prod", Kubeconfig: kubeconf, Context: testenv.KubeconfigContext,
		PrometheusURL: prometheusURL, AlertmanagerURL: alertmanagerURL,
	})
	path := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runChecklistJSON(t *testing.T, configPath string) (checks.Report, int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := opsbot(context.Background(), []string{"checklist", "--config", configPath, "--output", "json"}, &stdout, &stderr)
	var rep checks.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, output is not a JSON report: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout.String(), stderr.String())
	}
	return rep, code, stderr.String()
}

func TestChecklistFindsEveryPlantedAnomalyAndNothingElse(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	rep, code, stderr := runChecklistJSON(t, writeConfig(t, env.Prometheus.URL(), env.Alertmanager.URL()))
	if code != exitProblems {
		t.Errorf("exit code %d, want %d (problems found)", code, exitProblems)
	}

	want := map[string][]string{
		"pods": {
			"pods/shop/Deployment/api/api/CrashLoopBackOff",
			"pods/shop/Deployment/api/-/ReplicasUnavailable",
			"pods/shop/Deployment/worker/worker/ImagePullBackOff",
			"pods/shop/Deployment/worker/-/ReplicasUnavailable",
			"pods/shop/Deployment/notifier/notifier/CreateContainerConfigError",
			"pods/shop/Deployment/notifier/-/ReplicasUnavailable",
			"pods/shop/Deployment/cache/cache/Restarts",
			"pods/shop/Deployment/report-ui/-/Pending",
			"pods/shop/Deployment/report-ui/-/ReplicasUnavailable",
			"pods/shop/Deployment/search/-/NotReady",
			"pods/shop/Deployment/search/-/ReplicasUnavailable",
			"pods/shop/Deployment/thumbs/-/Evicted",
			"pods/shop/Deployment/mailer/migrate/CrashLoopBackOff",
			"pods/shop/Deployment/mailer/-/ReplicasUnavailable",
			"pods/shop/StatefulSet/db/db/OOMKilled",
			"pods/shop/Job/migrate-orders/-/JobFailed",
			"pods/shop/CronJob/nightly-report/-/JobFailed",
		},
		"alerts": {
			"alerts/HighErrorRate/namespace=shop/service=checkout",
			"alerts/KubeLatency/namespace=shop",
		},
		"metrics": {
			"metrics/memory/namespace=shop/pod=web/container=web",
			"metrics/pvc/namespace=shop/persistentvolumeclaim=data-db-0",
			"metrics/http5xx/namespace=shop/job=checkout",
			"metrics/queue-depth/namespace=shop/queue=orders",
			// Over networkLimit: checkout's receive (not web's, nor a
			// pod's in payments).
			"metrics/networkReceive/namespace=shop/pod=checkout",
		},
		"http": {
			"http/payments-api/status-down",
		},
		// The critical and high vulnerabilities of shop (not web's medium
		// one, nor ledger's critical one in payments), and the failed
		// security scan (not the passing CI). The fingerprints end in a
		// hash of the CVEs, left out here.
		"security": {
			"security/vulnerabilities/shop/Deployment/api/api/ghcr.io/acme/api/cves-",
			"security/vulnerabilities/shop/Deployment/nginx/nginx/index.docker.io/library/nginx/cves-",
			"security/vulnerabilities/shop/StatefulSet/db/postgres/index.docker.io/library/postgres/cves-",
			"security/github/acme/shop/codeql.yml/main/failure",
		},
		// Two invariants broken, the third holds.
		"integrity": {
			"integrity/referrals-orphaned",
			"integrity/appointments-backwards",
		},
		// The planted pressure; no size finding (no size limit set), no
		// slow statements (no pg_stat_statements), no replication lag.
		"database": {
			"database/connections/-",
			"database/long-query/-",
			"database/long-transaction/-",
			"database/lock-wait/-",
		},
	}
	got := map[string][]string{}
	for _, r := range rep.Results {
		for _, f := range r.Findings {
			fp := f.Fingerprint
			if i := strings.LastIndex(fp, "/cves-"); i >= 0 {
				fp = fp[:i+len("/cves-")]
			}
			got[r.Check] = append(got[r.Check], fp)
			// thumbs' pod was evicted three hours ago, and created (its
			// status written) just now: the age is the eviction's.
			if f.Fingerprint == "pods/shop/Deployment/thumbs/-/Evicted" && !strings.Contains(f.Title, "Evicted, last 3h ago") {
				t.Errorf("evicted pod: %q, want it evicted 3h ago", f.Title)
			}
		}
	}
	// Logs: checkout's two signatures, each counted across both pods, and
	// nothing from web's clean log (which mentions "0 errors" and
	// "error_count=0"). Log fingerprints end in a hash of the signature.
	wantLogs := map[string]int{"ERROR payment timeout after Nms talking to N.N.N.N:N order=<uuid>": 80, "java.lang.NullPointerException": 6}
	for _, r := range rep.Results {
		if r.Check != "logs" {
			continue
		}
		if len(r.Findings) != len(wantLogs) {
			t.Errorf("logs: %d findings, want %d", len(r.Findings), len(wantLogs))
		}
		for _, f := range r.Findings {
			matched := false
			for sig, n := range wantLogs {
				if strings.Contains(f.Title, sig) && f.Count == n && strings.HasPrefix(f.Fingerprint, "logs/shop/Deployment/checkout/checkout/sig:") {
					matched = true
				}
			}
			if !matched {
				t.Errorf("unexpected logs finding %s: %s (count %d)", f.Fingerprint, f.Title, f.Count)
			}
		}
	}
	for _, name := range []string{"pods", "alerts", "metrics", "http", "security", "integrity", "database"} {
		w, g := slices.Clone(want[name]), slices.Clone(got[name])
		sort.Strings(w)
		sort.Strings(g)
		if !slices.Equal(w, g) {
			t.Errorf("%s findings:\n got %s\nwant %s", name, strings.Join(g, "\n     "), strings.Join(w, "\n     "))
		}
	}
	for _, r := range rep.Results {
		if r.Status == checks.Unknown {
			t.Errorf("%s is unknown: %s", r.Check, r.Summary)
		}
	}
	// The read-only role's password is in the environment, never in the
	// report or on stderr.
	dsn, err := url.Parse(planted.Database.ReadOnlyDSN)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := dsn.User.Password()
	if out, _ := json.Marshal(rep); pw == "" || strings.Contains(string(out)+stderr, pw) {
		t.Errorf("the database password %q is shown (or empty)", pw)
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", stderr)
		for _, r := range rep.Results {
			for _, f := range r.Findings {
				t.Logf("%s %s: %s | %s", r.Check, f.Severity, f.Title, strings.ReplaceAll(f.Detail, "\n", " / "))
			}
		}
	}
}

// The findings carry what an engineer needs: the scheduler's reason for a
// Pending pod, the alert's summary, the log sample; and a Slack mention in
// a log line or alert annotation stays text in the JSON (escaping for Slack
// happens when the bot renders it).
func TestChecklistFindingsSayWhy(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	rep, _, _ := runChecklistJSON(t, writeConfig(t, env.Prometheus.URL(), env.Alertmanager.URL()))
	find := func(fp string) checks.Finding {
		for _, r := range rep.Results {
			for _, f := range r.Findings {
				if f.Fingerprint == fp {
					return f
				}
			}
		}
		t.Fatalf("no finding %s", fp)
		return checks.Finding{}
	}
	for fp, want := range map[string]string{
		"pods/shop/Deployment/report-ui/-/Pending":                          "Insufficient memory",
		"pods/shop/Deployment/notifier/notifier/CreateContainerConfigError": `secret "notifier-smtp" not found`,
		"alerts/HighErrorRate/namespace=shop/service=checkout":              "HighErrorRate in shop",
		"http/payments-api/status-down":                                     "db: DOWN",
		"integrity/referrals-orphaned":                                      "ids 11, 12, 13",
		"database/long-query/-":                                             "SELECT pg_sleep(3600)",
		"database/lock-wait/-":                                              "blocked by: pid ",
		"security/github/acme/shop/codeql.yml/main/failure":                 "CodeQL failed on main",
		"metrics/networkReceive/namespace=shop/pod=checkout":                "network receive vs limit (100 Mbit/s)",
	} {
		f := find(fp)
		if !strings.Contains(f.Title+"\n"+f.Detail, want) {
			t.Errorf("%s: title %q / detail %q should mention %q", fp, f.Title, f.Detail, want)
		}
	}
	api := find("pods/shop/Deployment/api/api/CrashLoopBackOff")
	if api.Count != 2 || api.Severity != checks.Fail {
		t.Errorf("api crash loop: count %d severity %v, want both replicas in one Fail finding", api.Count, api.Severity)
	}
}

// A backend that is down or hangs makes its check Unknown, with the reason,
// within the check's deadline; every other check still reports.
func TestChecklistBackendDownOrSlow(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	defer hang.Close()
	down := closedPortURL(t)

	start := time.Now()
	rep, code, _ := runChecklistJSON(t, writeConfig(t, hang.URL, down))
	elapsed := time.Since(start)
	if code != exitProblems {
		t.Errorf("exit code %d, want %d", code, exitProblems)
	}
	byName := map[string]checks.Result{}
	for _, r := range rep.Results {
		byName[r.Check] = r
	}
	if r := byName["alerts"]; r.Status != checks.Unknown || !strings.Contains(r.Summary, "connection refused") {
		t.Errorf("alerts with Alertmanager down: %v %q, want unknown saying connection refused", r.Status, r.Summary)
	}
	if r := byName["metrics"]; r.Status != checks.Unknown || !strings.Contains(r.Summary, "5s") {
		t.Errorf("metrics with Prometheus hanging: %v %q, want unknown naming its 5s deadline", r.Status, r.Summary)
	}
	for _, name := range []string{"pods", "logs", "http"} {
		if r := byName[name]; r.Status == checks.Unknown || len(r.Findings) == 0 {
			t.Errorf("%s should still report its findings: %v %q", name, r.Status, r.Summary)
		}
	}
	// The checklist as a whole is bounded by the slowest deadline (5s for
	// metrics) plus the Runner's grace, not by the hanging server.
	if limit := 5*time.Second + checks.DefaultGrace + 20*time.Second; elapsed > limit {
		t.Errorf("the checklist took %s with a hanging Prometheus", elapsed)
	}
}

// closedPortURL is an http URL on 127.0.0.1 where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestChecklistWithoutAConfigFile: the first run a new user types, like
// kubectl: a namespace, the kubeconfig's current context, and the backends
// given by flag; what is not given is said on stderr, not silently left out.
func TestChecklistWithoutAConfigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	t.Chdir(t.TempDir()) // no opsbot.yaml here
	t.Setenv("OPSBOT_CONFIG", "")
	run := func(t *testing.T, args ...string) (checks.Report, int, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := opsbot(context.Background(), append([]string{"checklist", "--output", "json", "--kubeconfig", kubeconf}, args...), &stdout, &stderr)
		var rep checks.Report
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("exit %d, output is not a JSON report: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout.String(), stderr.String())
		}
		return rep, code, stderr.String()
	}
	names := func(rep checks.Report) string {
		var out []string
		for _, r := range rep.Results {
			out = append(out, r.Check)
			if r.Status == checks.Unknown {
				t.Errorf("%s is unknown: %s", r.Check, r.Summary)
			}
		}
		return strings.Join(out, " ")
	}
	has := func(rep checks.Report, fp string) bool {
		for _, r := range rep.Results {
			for _, f := range r.Findings {
				if f.Fingerprint == fp {
					return true
				}
			}
		}
		return false
	}

	t.Run("the cluster's looks", func(t *testing.T) {
		rep, code, stderr := run(t, "-n", scenario.Watched)
		if code != exitProblems {
			t.Errorf("exit %d, want %d", code, exitProblems)
		}
		if rep.Environment != testenv.KubeconfigContext {
			t.Errorf("environment %q, want the context's name %q", rep.Environment, testenv.KubeconfigContext)
		}
		if got := names(rep); got != "pods logs" {
			t.Errorf("checks %q, want pods and logs", got)
		}
		if !has(rep, "pods/shop/Deployment/api/api/CrashLoopBackOff") {
			t.Error("the crash loop is not reported")
		}
		// The report says what it cost: a List per kind and a log request
		// per container, through the real apiserver.
		if c := rep.Cost; c == nil || c.Calls < 5 || c.LogBytes == 0 || c.Throttled != 0 {
			t.Errorf("cost = %+v, want the requests and the log bytes counted", c)
		}
		for _, want := range []string{"alerts: not checked: no Alertmanager", "metrics: not checked: no Prometheus"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		}
	})
	t.Run("incremental logs with --state", func(t *testing.T) {
		// The scenario's lines are all of one second, which sinceTime
		// serves again: the bytes saved are measured in checks/logs.
		state := filepath.Join(t.TempDir(), "state.json")
		logsOf := func(rep checks.Report) checks.Result {
			for _, r := range rep.Results {
				if r.Check == "logs" {
					return r
				}
			}
			t.Fatal("no logs result")
			return checks.Result{}
		}
		first, _, _ := run(t, "-n", scenario.Watched, "--state", state)
		second, _, _ := run(t, "-n", scenario.Watched, "--state", state)
		a, b := logsOf(first), logsOf(second)
		if !strings.Contains(a.Summary, "0 logs read since the last run") || !strings.Contains(b.Summary, "read since the last run") ||
			strings.Contains(b.Summary, "in full") {
			t.Errorf("the second run did not read from where the first stopped:\n%s\n%s", a.Summary, b.Summary)
		}
		if !reflect.DeepEqual(a.Findings, b.Findings) {
			t.Errorf("the second run's findings differ:\n%+v\n%+v", b.Findings, a.Findings)
		}
	})
	t.Run("with the backends", func(t *testing.T) {
		rep, code, stderr := run(t, "-n", scenario.Watched, "--prometheus-url", env.Prometheus.URL(),
			"--alertmanager-url", env.Alertmanager.URL(), "--context", testenv.KubeconfigContext)
		if code != exitProblems {
			t.Errorf("exit %d, want %d", code, exitProblems)
		}
		if got := names(rep); got != "pods logs alerts metrics" {
			t.Errorf("checks %q, want pods, logs, alerts and metrics", got)
		}
		if !has(rep, "alerts/HighErrorRate/namespace=shop/service=checkout") {
			t.Error("the firing alert is not reported")
		}
		// Only the alerts of the namespaces looked at (-n).
		for _, r := range rep.Results {
			for _, f := range r.Findings {
				if r.Check == "alerts" && !strings.Contains(f.Fingerprint, "namespace=shop") {
					t.Errorf("an alert of another namespace: %s", f.Fingerprint)
				}
			}
		}
		if strings.Contains(stderr, "not checked") {
			t.Errorf("stderr says something is not checked:\n%s", stderr)
		}
	})
	t.Run("found in the cluster", func(t *testing.T) {
		// An admin may list Services: Prometheus and Alertmanager as
		// kube-prometheus installs them are found and reached through the
		// API server's service proxy. Here nothing backs them (no pods,
		// no Endpoints: the apiserver answers that it cannot find where to
		// proxy), so the two checks say so: the request did go through the
		// real apiserver, with the kubeconfig's credentials (no 401/403).
		ctx := context.Background()
		admin := filepath.Join(t.TempDir(), "admin-kubeconfig")
		if err := env.Kube.WriteKubeconfig(admin, testenv.AdminUser); err != nil {
			t.Fatal(err)
		}
		client := env.Kube.Client()
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "monitoring"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		for name, port := range map[string]int32{"prometheus-k8s": 9090, "alertmanager-main": 9093} {
			s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: name},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "web", Port: port}}}}
			if _, err := client.CoreV1().Services("monitoring").Create(ctx, s, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
		var stdout, stderr bytes.Buffer
		code := opsbot(ctx, []string{"checklist", "--output", "json", "--kubeconfig", admin, "-n", scenario.Watched}, &stdout, &stderr)
		var rep checks.Report
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("exit %d, not a report: %v\n%s", code, err, stderr.String())
		}
		for _, want := range []string{"metrics: Prometheus found at monitoring/prometheus-k8s", "alerts: Alertmanager found at monitoring/alertmanager-main"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
			}
		}
		got := map[string]checks.Result{}
		for _, r := range rep.Results {
			got[r.Check] = r
		}
		for _, c := range []string{"alerts", "metrics"} {
			r, ok := got[c]
			if !ok {
				t.Errorf("no %s check", c)
				continue
			}
			if r.Status != checks.Unknown || !strings.Contains(r.Summary, "/api/v1/namespaces/monitoring/services/") ||
				!strings.Contains(r.Summary, "not found") {
				t.Errorf("%s: %s %q, want unknown, the apiserver's proxy saying it found nothing to proxy to", c, r.Status, r.Summary)
			}
		}
	})
	t.Run("mistakes", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{nil, "no namespace: say which with -n NAMESPACE"},
			{[]string{"-n", "Shop"}, `namespaces[0] (-n): "Shop" is not a valid namespace name`},
			{[]string{"-n", "shop", "--context", "nope"}, `context "nope" does not exist`},
			{[]string{"-n", "shop", "prod"}, `no config file (opsbot.yaml) to find environment "prod" in`},
		} {
			var stdout, stderr bytes.Buffer
			code := opsbot(context.Background(), append([]string{"checklist", "--kubeconfig", kubeconf}, tt.args...), &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tt.want) || stdout.Len() != 0 {
				t.Errorf("%q: exit %d, stderr %q; want exit %d saying %q and nothing on stdout", tt.args, code, stderr.String(), exitUsage, tt.want)
			}
		}
	})
}
