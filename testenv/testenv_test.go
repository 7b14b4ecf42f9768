package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// The integration tests start real binaries; they are skipped under -short.

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real components; skipped with -short")
	}
}

// testContext is a context for one test, ending before the test binary's
// own deadline.
func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually calls f until it returns nil or ctx is done.
func eventually(ctx context.Context, f func() error) error {
	return poll(ctx, nil, func(context.Context) (bool, error) {
		err := f()
		return err == nil, err
	})
}

// assertNoProcesses fails if any process still has dir in its command line.
func assertNoProcesses(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("pgrep", "-a", "-f", dir).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return // no match
	}
	if err != nil {
		t.Fatalf("pgrep: %v", err)
	}
	t.Errorf("processes left after Stop:\n%s", out)
}

// assertProcesses fails unless some process has dir in its command line
// (so assertNoProcesses is known to look at the right thing).
func assertProcesses(t *testing.T, dir string) {
	t.Helper()
	if err := exec.Command("pgrep", "-f", dir).Run(); err != nil {
		t.Fatalf("pgrep -f %s finds no running process: %v", dir, err)
	}
}

func stopAndCheck(t *testing.T, dir string, stop func() error) {
	t.Helper()
	start := time.Now()
	if err := stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
	if err := stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	assertNoProcesses(t, dir)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temp dir %s still there after Stop (stat: %v)", dir, err)
	}
}

// readAll returns a function reading a whole log stream, failing t on
// error: readAll(t)(req.Stream(ctx)).
func readAll(t *testing.T) func(io.ReadCloser, error) string {
	return func(rc io.ReadCloser, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("stream logs: %v", err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatalf("read logs: %v", err)
		}
		return string(b)
	}
}

func TestKube(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 5*time.Minute)

	startCtx, cancelStart := context.WithTimeout(ctx, 2*time.Minute)
	start := time.Now()
	k, err := StartKube(startCtx, KubeOptions{})
	cancelStart() // the components must outlive the start-up context
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("StartKube: %v (apiserver %s)", time.Since(start).Round(time.Millisecond), k.URL())
	dir := k.Dir()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = k.Stop()
		}
	})
	if k.CAData() == nil {
		t.Error("the apiserver's certificate in cert-dir did not verify; clients skip TLS verification")
	}

	const ns = "team-a"
	if err := k.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	admin := k.Client()

	node, err := admin.CoreV1().Nodes().Get(ctx, k.NodeName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := node.Status.DaemonEndpoints.KubeletEndpoint.Port; int(got) != k.Kubelet().Port() {
		t.Errorf("node kubelet port = %d, want %d", got, k.Kubelet().Port())
	}

	pod, err := k.CreatePod(ctx, NewPod(ns, "web-7d4b9-x2x1z", "app", "sidecar"))
	if err != nil {
		t.Fatal(err)
	}
	if pod.Spec.NodeName != k.NodeName() {
		t.Errorf("pod nodeName = %q, want %q", pod.Spec.NodeName, k.NodeName())
	}
	got, err := k.SetPodStatus(ctx, ns, pod.Name, PodStatus(corev1.PodRunning,
		RunningContainer("app", 0),
		CrashLoopingContainer("sidecar", 7, "OOMKilled", 137)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Phase != corev1.PodRunning || len(got.Status.ContainerStatuses) != 2 {
		t.Fatalf("status not stored: %+v", got.Status)
	}
	if cs := got.Status.ContainerStatuses[1]; cs.RestartCount != 7 || cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" ||
		cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.Reason != "OOMKilled" {
		t.Errorf("sidecar status not stored as set: %+v", cs)
	}

	now := time.Now()
	k.Logs().SetLines(ns, pod.Name, "app",
		LogLine{Time: now.Add(-2 * time.Hour), Text: "old line"},
		LogLine{Time: now.Add(-time.Minute), Text: `level=error msg="connection refused" <@U123>`},
		LogLine{Time: now, Text: "last line"})
	k.Logs().SetPreviousLines(ns, pod.Name, "sidecar", LogLine{Time: now, Text: "fatal: out of memory"})
	const wantAll = "old line\nlevel=error msg=\"connection refused\" <@U123>\nlast line\n"

	t.Run("logs as admin", func(t *testing.T) {
		before := k.Kubelet().Requests()
		req := admin.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "app"})
		if got := readAll(t)(req.Stream(ctx)); got != wantAll {
			t.Errorf("logs = %q, want %q", got, wantAll)
		}
		if n := k.Kubelet().Requests() - before; n != 1 {
			t.Errorf("stub kubelet counted %d requests, want 1", n)
		}
	})

	t.Run("log options reach the kubelet", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			opts corev1.PodLogOptions
			want string
		}{
			{"tailLines", corev1.PodLogOptions{Container: "app", TailLines: ptr[int64](1)}, "last line\n"},
			{"sinceSeconds", corev1.PodLogOptions{Container: "app", SinceSeconds: ptr[int64](3600)}, "level=error msg=\"connection refused\" <@U123>\nlast line\n"},
			{"limitBytes", corev1.PodLogOptions{Container: "app", LimitBytes: ptr[int64](12)}, "old line\nlev"},
			{"previous", corev1.PodLogOptions{Container: "sidecar", Previous: true}, "fatal: out of memory\n"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := readAll(t)(admin.CoreV1().Pods(ns).GetLogs(pod.Name, &tc.opts).Stream(ctx))
				if got != tc.want {
					t.Errorf("logs = %q, want %q", got, tc.want)
				}
			})
		}
		got := readAll(t)(admin.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "app", TailLines: ptr[int64](1), Timestamps: true}).Stream(ctx))
		if want := now.UTC().Format(time.RFC3339Nano) + " last line\n"; got != want {
			t.Errorf("timestamps: logs = %q, want %q", got, want)
		}
		_, err := admin.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "sidecar"}).Stream(ctx)
		if err == nil {
			t.Error("logs of a container with no logs set: no error")
		}
	})

	t.Run("logs with an RBAC-limited token", func(t *testing.T) {
		bot, err := kubernetes.NewForConfig(k.ConfigForToken(k.BotToken()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = bot.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "app"}).Stream(ctx)
		if !apierrors.IsForbidden(err) {
			t.Fatalf("bot before any RoleBinding: err = %v, want Forbidden", err)
		}
		grantPodLogs(ctx, t, admin, ns, BotUser)
		var got string
		err = eventually(ctx, func() error { // RBAC's informers catch up asynchronously
			rc, err := bot.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "app"}).Stream(ctx)
			if err != nil {
				return err
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			got = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != wantAll {
			t.Errorf("logs = %q, want %q", got, wantAll)
		}
		// Only what the Role grants: not secrets, not other namespaces.
		if _, err := bot.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("bot lists secrets: err = %v, want Forbidden", err)
		}
		if _, err := bot.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("bot lists pods in default: err = %v, want Forbidden", err)
		}
	})

	t.Run("kubeconfig with clientcmd and kubectl", func(t *testing.T) {
		for _, user := range []string{AdminUser, BotUser} { // the bot's Role was granted above
			path := filepath.Join(t.TempDir(), user+".kubeconfig")
			if err := k.WriteKubeconfig(path, user); err != nil {
				t.Fatal(err)
			}
			cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
				&clientcmd.ClientConfigLoadingRules{ExplicitPath: path},
				&clientcmd.ConfigOverrides{CurrentContext: KubeconfigContext}).ClientConfig()
			if err != nil {
				t.Fatal(err)
			}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t)(cs.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "app"}).Stream(ctx)); got != wantAll {
				t.Errorf("%s via clientcmd: logs = %q, want %q", user, got, wantAll)
			}
			start := time.Now()
			cmd := exec.CommandContext(ctx, k.KubectlPath(), "--kubeconfig", path, "logs", pod.Name, "-n", ns, "-c", "app")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: kubectl logs: %v\n%s", user, err, stderr.String())
			}
			t.Logf("%s: kubectl logs took %v", user, time.Since(start).Round(time.Millisecond))
			if string(out) != wantAll {
				t.Errorf("%s: kubectl logs = %q, want %q", user, out, wantAll)
			}
		}
	})

	t.Run("large log streams through the apiserver", func(t *testing.T) {
		const size = 64 << 20
		line := strings.Repeat("x", 127) + "\n" // 128 bytes: size is a whole number of lines
		k.Logs().SetFunc(ns, pod.Name, "sidecar", func(ctx context.Context, req LogRequest, w io.Writer) error {
			for written := 0; written < size; written += len(line) {
				if _, err := io.WriteString(w, line); err != nil {
					return err
				}
			}
			return nil
		})
		start := time.Now()
		rc, err := admin.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "sidecar"}).Stream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		el := time.Since(start)
		if n != size {
			t.Errorf("read %d bytes, want %d", n, size)
		}
		t.Logf("streamed %d MiB in %v (%.0f MiB/s)", n>>20, el.Round(time.Millisecond), float64(n)/(1<<20)/el.Seconds())
	})

	assertProcesses(t, dir)
	stopped = true
	stopAndCheck(t, dir, k.Stop)
}

// grantPodLogs binds a Role allowing get/list pods and get pods/log in ns
// to user.
func grantPodLogs(ctx context.Context, t *testing.T, admin kubernetes.Interface, ns, user string) {
	t.Helper()
	_, err := admin.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-logs"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-logs"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-logs"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestPrometheus(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 3*time.Minute)

	exp := NewExporter()
	t.Cleanup(exp.Close)
	if err := exp.Set("kube_pod_container_status_ready", Labels{"namespace": "team-a", "pod": "web-1", "container": "app"}, 1); err != nil {
		t.Fatal(err)
	}
	if err := exp.SetCounter("http_requests_total", Labels{"namespace": "team-a", "code": "500"}, 100, 10); err != nil {
		t.Fatal(err)
	}
	if err := exp.Set("bad-name", nil, 1); err == nil {
		t.Error("Set with an invalid metric name: no error")
	}

	start := time.Now()
	p, err := StartPrometheus(ctx, PrometheusOptions{}) // targets set below, through a reload
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("StartPrometheus: %v (%s)", time.Since(start).Round(time.Millisecond), p.URL())
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = p.Stop()
		}
	})
	start = time.Now()
	if err := p.SetTargets(ctx, exp.Target()); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitForTargets(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("target up %v after SetTargets", time.Since(start).Round(time.Millisecond))

	got, err := p.WaitForQuery(ctx, `kube_pod_container_status_ready{namespace="team-a"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Value != 1 || got[0].Labels["pod"] != "web-1" || got[0].Labels["job"] != "testenv" {
		t.Errorf("query result = %+v", got)
	}

	// rate() over [5s] is only meaningful once the window holds 5 s of
	// scrapes.
	start = time.Now()
	if _, err := p.WaitForQuery(ctx, `count_over_time(http_requests_total{code="500"}[5s]) >= 5`); err != nil {
		t.Fatal(err)
	}
	got, err = p.Query(ctx, `rate(http_requests_total{code="500"}[5s])`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("5 s window full after %v more; rate = %+v", time.Since(start).Round(time.Millisecond), got)
	// The counter grows 10/s by construction; the tolerance only absorbs
	// scrape jitter in Prometheus's extrapolation.
	if len(got) != 1 || math.Abs(got[0].Value-10) > 2 {
		t.Errorf("rate = %+v, want about 10/s", got)
	}
	if got[0].Labels["namespace"] != "team-a" {
		t.Errorf("rate labels = %v, want namespace team-a kept", got[0].Labels)
	}

	if _, err := p.WaitForQuery(ctx, `rate(`); err == nil || !strings.Contains(err.Error(), "bad_data") {
		t.Errorf("invalid query: err = %v, want bad_data", err)
	}
	if exp.Scrapes() == 0 {
		t.Error("exporter never scraped")
	}

	dir := p.Dir()
	assertProcesses(t, dir)
	stopped = true
	stopAndCheck(t, dir, p.Stop)
}

func TestAlertmanager(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 3*time.Minute)

	start := time.Now()
	am, err := StartAlertmanager(ctx, AlertmanagerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("StartAlertmanager: %v (%s)", time.Since(start).Round(time.Millisecond), am.URL())
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = am.Stop()
		}
	})

	id, err := am.Silence(ctx, []Matcher{{Name: "alertname", Value: "NoisyJob"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if id == "" {
		t.Fatal("Silence returned no ID")
	}
	err = am.PostAlerts(ctx,
		Alert{Labels: Labels{"alertname": "PodCrashLooping", "namespace": "team-a", "severity": "critical"},
			Annotations: map[string]string{"summary": "web is crash looping"}, GeneratorURL: "http://prometheus.example/graph"},
		Alert{Labels: Labels{"alertname": "PodCrashLooping", "namespace": "team-a", "severity": "warning"}},
		Alert{Labels: Labels{"alertname": "NoisyJob", "namespace": "team-a", "severity": "warning"}},
		Alert{Labels: Labels{"alertname": "DiskFilling", "namespace": "team-b", "severity": "warning"}},
	)
	if err != nil {
		t.Fatal(err)
	}

	all, err := am.WaitForAlerts(ctx, AlertQuery{}, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.Labels["severity"] == "critical" {
			if a.Annotations["summary"] != "web is crash looping" || a.GeneratorURL != "http://prometheus.example/graph" ||
				a.Fingerprint == "" || a.Status.State != AlertStateActive || len(a.Receivers) != 1 || a.Receivers[0] != "null" {
				t.Errorf("critical alert = %+v", a)
			}
			if a.EndsAt.Before(time.Now().Add(time.Hour)) {
				t.Errorf("critical alert ends at %v, want far in the future", a.EndsAt)
			}
		}
	}

	// silenced=false hides the silenced alert.
	notSilenced, err := am.WaitForAlertsFunc(ctx, AlertQuery{ExcludeSilenced: true}, func(as []ListedAlert) bool {
		for _, a := range as {
			if a.Labels["alertname"] == "NoisyJob" {
				return false
			}
		}
		return len(as) == 3
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("not silenced: %s", describeAlerts(notSilenced))
	silenced, err := am.Alerts(ctx, AlertQuery{Filter: []string{`alertname="NoisyJob"`}})
	if err != nil {
		t.Fatal(err)
	}
	if len(silenced) != 1 || silenced[0].Status.State != AlertStateSuppressed || len(silenced[0].Status.SilencedBy) != 1 || silenced[0].Status.SilencedBy[0] != id {
		t.Errorf("silenced alert = %+v, want suppressed by %s", silenced, id)
	}

	// The warning with the same alertname and namespace as the critical
	// alert is inhibited (asynchronously: wait for it).
	start = time.Now()
	inhibited, err := am.WaitForAlertsFunc(ctx, AlertQuery{Filter: []string{`alertname="PodCrashLooping"`, `severity="warning"`}}, func(as []ListedAlert) bool {
		return len(as) == 1 && as[0].Status.State == AlertStateSuppressed && len(as[0].Status.InhibitedBy) == 1
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("inhibition visible after %v", time.Since(start).Round(time.Millisecond))
	if inhibited[0].Status.InhibitedBy[0] == "" {
		t.Errorf("inhibited alert = %+v", inhibited[0])
	}
	if _, err := am.WaitForAlerts(ctx, AlertQuery{ExcludeSilenced: true, ExcludeInhibited: true}, 2); err != nil {
		t.Fatal(err)
	}

	if err := am.ExpireSilence(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := am.WaitForAlerts(ctx, AlertQuery{ExcludeSilenced: true, ExcludeInhibited: true}, 3); err != nil {
		t.Fatalf("after expiring the silence: %v", err)
	}

	dir := am.Dir()
	assertProcesses(t, dir)
	stopped = true
	stopAndCheck(t, dir, am.Stop)
}

func TestStartAll(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 3*time.Minute)
	start := time.Now()
	env, err := Start(ctx, Options{Kube: &KubeOptions{}, Prometheus: &PrometheusOptions{}, Alertmanager: &AlertmanagerOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start (all three, concurrently): %v", time.Since(start).Round(time.Millisecond))
	dirs := []string{env.Kube.Dir(), env.Prometheus.Dir(), env.Alertmanager.Dir()}
	t.Cleanup(func() { _ = env.Stop() })

	if err := env.Exporter.Set("up_test", Labels{"namespace": "x"}, 42); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Prometheus.WaitForQuery(ctx, `up_test == 42`); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Kube.Client().CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Alertmanager.Alerts(ctx, AlertQuery{}); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		assertProcesses(t, d)
	}
	// PIDs names each child process by the binary it runs (Debian's
	// Alertmanager is prometheus-alertmanager).
	pids := env.PIDs()
	for _, name := range []string{"etcd", "kube-apiserver", "prometheus", "alertmanager"} {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pids[name]))
		if err != nil || !strings.HasSuffix(filepath.Base(exe), name) {
			t.Errorf("PIDs()[%q] = %d, running %q (%v)", name, pids[name], exe, err)
		}
	}
	start = time.Now()
	if err := env.Stop(); err != nil {
		t.Error(err)
	}
	t.Logf("Env.Stop: %v", time.Since(start).Round(time.Millisecond))
	if err := env.Stop(); err != nil {
		t.Error(err)
	}
	for _, d := range dirs {
		assertNoProcesses(t, d)
	}
}

func TestStartFailureReportsLogTail(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, time.Minute)
	_, err := StartAlertmanager(ctx, AlertmanagerOptions{Config: "route: [not a route\n"})
	if err == nil {
		t.Fatal("Alertmanager with a broken config started")
	}
	if !strings.Contains(err.Error(), "last lines of") || !strings.Contains(err.Error(), "alertmanager.yml") {
		t.Errorf("error does not carry the log tail: %v", err)
	}
}

// Unit tests below need no binaries and also run with -short.

func TestParseKubeVersion(t *testing.T) {
	for _, tc := range []struct {
		name, gomod, want string
	}{
		{"one line", "module x\n\nrequire k8s.io/kubernetes v1.32.4\n", "v1.32.4"},
		{"block", "module x\nrequire (\n\tk8s.io/api v0.32.4 // indirect\n\tk8s.io/kubernetes v1.32.5\n)\n", "v1.32.5"},
		{"comment", "module x\n// require k8s.io/kubernetes v9\nrequire k8s.io/kubernetes v1.33.0 // pinned\n", "v1.33.0"},
		{"missing", "module x\nrequire k8s.io/api v0.32.4\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseKubeVersion(tc.gomod, "go.mod")
			if tc.want == "" {
				if err == nil {
					t.Errorf("got %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestKubeBinariesFromEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(envKubeBinDir, dir)
	if _, _, err := KubeBinaries(context.Background()); err == nil {
		t.Error("empty $OPSBOT_KUBE_BIN_DIR accepted")
	}
	for _, n := range []string{"kube-apiserver", "kubectl"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a, c, err := KubeBinaries(context.Background())
	if err != nil || a != filepath.Join(dir, "kube-apiserver") || c != filepath.Join(dir, "kubectl") {
		t.Errorf("KubeBinaries = %q, %q, %v", a, c, err)
	}
}

func TestRepoRootAndVersion(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	v, err := kubeVersion(filepath.Join(root, kubeToolsDir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "v1.") {
		t.Errorf("version = %q", v)
	}
}

func TestLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := lockFile(ctx, path); err == nil {
		t.Fatal("second lock taken while the first is held")
	}
	unlock()
	unlock2, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

func TestWriteLines(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	lines := []LogLine{
		{Time: now.Add(-3 * time.Hour), Text: "a"},
		{Time: now.Add(-2 * time.Hour), Text: "b"},
		{Time: now.Add(-time.Minute), Text: "c"},
		{Text: "d (no time)"},
	}
	since := now.Add(-90 * time.Minute)
	for _, tc := range []struct {
		name string
		req  LogRequest
		want string
	}{
		{"all", LogRequest{}, "a\nb\nc\nd (no time)\n"},
		{"tail", LogRequest{TailLines: ptr[int64](2)}, "c\nd (no time)\n"},
		{"tail more than there is", LogRequest{TailLines: ptr[int64](10)}, "a\nb\nc\nd (no time)\n"},
		{"sinceSeconds", LogRequest{SinceSeconds: ptr[int64](3600)}, "c\nd (no time)\n"},
		{"sinceTime", LogRequest{SinceTime: &since}, "c\nd (no time)\n"},
		{"tail then since", LogRequest{TailLines: ptr[int64](3), SinceSeconds: ptr[int64](3 * 3600)}, "b\nc\nd (no time)\n"},
		{"timestamps", LogRequest{TailLines: ptr[int64](2), Timestamps: true}, "2026-11-24T08:59:00Z c\n1970-01-01T00:00:00Z d (no time)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeLines(tc.req, lines, &b, now); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func TestStubKubelet(t *testing.T) {
	logs := NewLogs()
	k, err := StartKubelet(logs)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	logs.SetText("ns", "pod", "c", "one\ntwo\nthree\n")
	logs.SetFunc("ns", "big", "c", func(ctx context.Context, req LogRequest, w io.Writer) error {
		for i := 0; ; i++ { // endless: only limitBytes ends it
			if _, err := fmt.Fprintf(w, "line %d\n", i); err != nil {
				return err
			}
		}
	})
	cfg := &rest.Config{TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("https://127.0.0.1:%d/containerLogs/", k.Port())
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"ns/pod/c", 200, "one\ntwo\nthree\n"},
		{"ns/pod/c?tailLines=1", 200, "three\n"},
		{"ns/pod/c?limitBytes=5", 200, "one\nt"},
		{"ns/big/c?limitBytes=20", 200, "line 0\nline 1\nline 2"},
		{"ns/big/c?limitBytes=0", 200, ""},
		{"ns/pod/c?previous=true", 404, ""},
		{"ns/nope/c", 404, ""},
		{"ns/pod/c?tailLines=x", 400, ""},
	} {
		code, body := get(tc.path)
		if code != tc.code || (code == 200 && body != tc.want) {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, code, body, tc.code, tc.want)
		}
	}
	if got := k.Requests(); got != 8 {
		t.Errorf("Requests = %d, want 8", got)
	}
	// One client, one request after another: one kept-alive connection.
	if got := k.Connections(); got != 1 {
		t.Errorf("Connections = %d, want 1", got)
	}
	// client-go caches transports by config: a transport of its own.
	other := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer other.CloseIdleConnections()
	resp, err := other.Get(base + "ns/pod/c")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := k.Connections(); got != 2 {
		t.Errorf("Connections after a second client = %d, want 2", got)
	}
}

func TestExporterFormat(t *testing.T) {
	e := NewExporter()
	defer e.Close()
	if err := e.Set("g", Labels{"b": "2", "a": `q"uo\te` + "\n"}, 1.5); err != nil {
		t.Fatal(err)
	}
	if err := e.SetCounter("c_total", nil, 3, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.Set("g", Labels{"__name__": "x"}, 1); err == nil {
		t.Error("reserved label name accepted")
	}
	resp, err := rest.HTTPClientFor(&rest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := resp.Get(e.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	want := "# TYPE c_total counter\nc_total 3\n# TYPE g gauge\ng{a=\"q\\\"uo\\\\te\\n\",b=\"2\"} 1.5\n"
	if string(b) != want {
		t.Errorf("exposition =\n%s\nwant\n%s", b, want)
	}
	e.Delete("g", Labels{"b": "2", "a": `q"uo\te` + "\n"})
	if e.Scrapes() != 1 {
		t.Errorf("Scrapes = %d", e.Scrapes())
	}
}

func TestTailFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := tailFile(path, 2); got != "line 98\nline 99" {
		t.Errorf("tailFile = %q", got)
	}
}

func TestStartWithPortsRetriesOnPortClash(t *testing.T) {
	dir := t.TempDir()
	attempts := 0
	p, err := startWithPorts(testContext(t, time.Minute), 1, func(ports []int) (*process, error) {
		attempts++
		script := "echo 'listen tcp 127.0.0.1:1: bind: address already in use' >&2; exit 1"
		if attempts == 2 {
			script = "exec sleep 60"
		}
		return startProcess("fake", "/bin/sh", []string{"-c", script, dir}, dir, filepath.Join(dir, "fake.log"), nil)
	}, func(ctx context.Context) (bool, error) {
		return attempts == 2, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop(stopGrace)
	if attempts != 2 {
		t.Errorf("attempts = %d, want 2", attempts)
	}
}

func TestStartWithPortsReportsLogTail(t *testing.T) {
	dir := t.TempDir()
	_, err := startWithPorts(testContext(t, time.Minute), 1, func(ports []int) (*process, error) {
		return startProcess("fake", "/bin/sh", []string{"-c", "echo 'config is broken' >&2; exit 2"}, dir, filepath.Join(dir, "fake.log"), nil)
	}, func(ctx context.Context) (bool, error) { return false, errors.New("not yet") })
	if err == nil || !strings.Contains(err.Error(), "config is broken") || !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("err = %v, want the exit status and the log tail", err)
	}
}

func TestStopKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	// A child that ignores SIGTERM and has a grandchild of its own.
	grandchild := "sleep 300; echo " + dir
	p, err := startProcess("fake", "/bin/sh", []string{"-c", "trap '' TERM; /bin/sh -c '" + grandchild + "' & wait"}, dir, filepath.Join(dir, "fake.log"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t, time.Minute)
	if err := eventually(ctx, func() error { return exec.Command("pgrep", "-f", "^/bin/sh -c "+grandchild).Run() }); err != nil {
		t.Fatalf("grandchild never started: %v", err)
	}
	p.stop(100 * time.Millisecond)
	p.stop(100 * time.Millisecond) // idempotent
	assertNoProcesses(t, dir)
	if err := syscall.Kill(p.cmd.Process.Pid, 0); err == nil {
		t.Error("child still alive")
	}
}

// TestPrometheusBackfill: history given as OpenMetrics is in the TSDB when
// Prometheus is ready, at its times; history promtool rejects fails the
// start with promtool's reason.
func TestPrometheusBackfill(t *testing.T) {
	skipShort(t)
	ctx := testContext(t, 2*time.Minute)
	at := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	om := fmt.Sprintf("# TYPE planted gauge\nplanted{team=\"a\"} 41 %d\nplanted{team=\"a\"} 42 %d\n# EOF\n",
		at.Add(-time.Minute).Unix(), at.Unix())
	p, err := StartPrometheus(ctx, PrometheusOptions{Backfill: om})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	got, err := p.Query(ctx, fmt.Sprintf(`planted @ %d`, at.Unix()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Value != 42 || got[0].Labels["team"] != "a" {
		t.Errorf("planted at %s = %+v, want 42", at, got)
	}

	_, err = StartPrometheus(ctx, PrometheusOptions{Backfill: "planted 1 2 3 4\n"})
	if err == nil || !strings.Contains(err.Error(), "prometheus backfill: promtool") {
		t.Errorf("bad history: %v, want promtool's error", err)
	}
}
