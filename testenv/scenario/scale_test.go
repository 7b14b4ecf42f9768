package scenario_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/checks/logs/logstest"
	"github.com/opsbot/opsbot/redact"
	"github.com/opsbot/opsbot/testenv"
	"github.com/opsbot/opsbot/testenv/scenario"
)

// memState is a logs.StateStore in memory.
type memState struct {
	mu  sync.Mutex
	doc []byte
}

func (m *memState) LoadLogState(context.Context, string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.doc, nil
}

func (m *memState) SaveLogState(_ context.Context, _ string, state []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.doc = state
	return nil
}

// TestPlantScale plants a small Scale over two namespaces in the real
// environment and reads its logs through the real apiserver: the kubelet
// stub answers sinceSeconds, sinceTime, timestamps and limitBytes on the
// log clock, and the logs check reads incrementally an hour later.
func TestPlantScale(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real kube-apiserver, Prometheus and Alertmanager; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.Options{Kube: &testenv.KubeOptions{}, Prometheus: &testenv.PrometheusOptions{}, Alertmanager: &testenv.AlertmanagerOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	s := scenario.Scale{
		Namespace: "shop", Namespaces: 2, Deployments: 4, PodsPerDeployment: 10, UnhealthyDeployments: 1,
		LogBytesPerPod: 200 << 10, LogErrorRatio: 0.05, FailedJobs: 2, Alerts: 6, AlertNames: 2, CustomQueries: 1,
	}
	planted, err := scenario.PlantScale(ctx, env, root, s)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"shop-00", "shop-01"}; !slices.Equal(planted.Namespaces, want) {
		t.Fatalf("namespaces %q, want %q", planted.Namespaces, want)
	}

	t.Run("namespaces", func(t *testing.T) {
		// The bot can list the pods of each namespace: each has its
		// RoleBinding, and half the pods.
		bot, err := kubernetes.NewForConfig(env.Kube.ConfigForToken(env.Kube.Token(testenv.BotUser)))
		if err != nil {
			t.Fatal(err)
		}
		for _, ns := range planted.Namespaces {
			pods, err := bot.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("the bot lists the pods of %s: %v", ns, err)
			}
			if len(pods.Items) != 20 {
				t.Errorf("%s: %d pods, want 20", ns, len(pods.Items))
			}
		}
		samples, err := env.Prometheus.Query(ctx, `count by (namespace) (container_memory_working_set_bytes)`)
		if err != nil {
			t.Fatal(err)
		}
		byNS := map[string]float64{}
		for _, smp := range samples {
			byNS[smp.Labels["namespace"]] = smp.Value
		}
		if !reflect.DeepEqual(byNS, map[string]float64{"shop-00": 20, "shop-01": 20}) {
			t.Errorf("memory series by namespace %v, want 20 in each", byNS)
		}
		alerts, err := env.Alertmanager.Alerts(ctx, testenv.AlertQuery{})
		if err != nil {
			t.Fatal(err)
		}
		alertsByNS := map[string]int{}
		for _, a := range alerts {
			alertsByNS[a.Labels["namespace"]]++
		}
		if !reflect.DeepEqual(alertsByNS, map[string]int{"shop-00": 3, "shop-01": 3}) {
			t.Errorf("alerts by namespace %v, want 3 in each", alertsByNS)
		}
	})

	// A pod of the second namespace, healthy.
	pods, err := env.Kube.Client().CoreV1().Pods("shop-01").List(ctx, metav1.ListOptions{})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("pods of shop-01: %v", err)
	}
	pod := pods.Items[len(pods.Items)-1].Name
	container := pods.Items[len(pods.Items)-1].Spec.Containers[0].Name
	gen := planted.LogOptions("shop-01", pod)
	read := func(o corev1.PodLogOptions) []byte {
		t.Helper()
		o.Container = container
		rc, err := env.Kube.Client().CoreV1().Pods("shop-01").GetLogs(pod, &o).Stream(ctx)
		if err != nil {
			t.Fatalf("logs of shop-01/%s: %v", pod, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := func(since, until time.Time, timestamps bool) []byte {
		o := gen
		o.Since, o.Until, o.Timestamps = since, until, timestamps
		var b bytes.Buffer
		if _, err := logstest.GenerateWith(&b, o); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	// stamps returns the times of a stamped log's first and last lines.
	stamps := func(log []byte) (first, last time.Time) {
		t.Helper()
		lines := strings.Split(strings.TrimSuffix(string(log), "\n"), "\n")
		for i, l := range []string{lines[0], lines[len(lines)-1]} {
			ts, _, _ := strings.Cut(l, " ")
			tm, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			if i == 0 {
				first = tm
			} else {
				last = tm
			}
		}
		return first, last
	}

	t.Run("requests", func(t *testing.T) {
		now := time.Now().Add(-10 * time.Minute).Truncate(time.Second).Add(123456789)
		planted.SetNow(now)
		defer planted.SetNow(time.Time{})

		hour := int64(3600)
		got := read(corev1.PodLogOptions{SinceSeconds: &hour, Timestamps: true})
		if w := want(now.Add(-time.Hour), now, true); !bytes.Equal(got, w) {
			t.Errorf("sinceSeconds=3600&timestamps=true: %d bytes, want the %d of the hour before the clock", len(got), len(w))
		}
		if first, last := stamps(got); first.Before(now.Add(-time.Hour)) || !last.Before(now) {
			t.Errorf("sinceSeconds=3600: lines from %s to %s, want them in [%s, %s)", first, last, now.Add(-time.Hour), now)
		}

		// sinceTime is sent in whole seconds: lines at or after it.
		since := now.Add(-30*time.Minute - 500*time.Millisecond)
		got = read(corev1.PodLogOptions{SinceTime: &metav1.Time{Time: since}, Timestamps: true})
		if w := want(since.Truncate(time.Second), now, true); !bytes.Equal(got, w) {
			t.Errorf("sinceTime=%s: %d bytes, want %d", since.Truncate(time.Second).Format(time.RFC3339), len(got), len(w))
		}
		// The last line read is served again from its second: what the
		// logs check relies on to tell that a log was not rotated.
		_, last := stamps(got)
		again := read(corev1.PodLogOptions{SinceTime: &metav1.Time{Time: last}, Timestamps: true})
		if !strings.HasPrefix(string(again), last.Format(time.RFC3339Nano)+" ") {
			t.Errorf("sinceTime of the last line read (%s): the log starts %q", last.Format(time.RFC3339Nano), again[:min(len(again), 60)])
		}

		// A day without timestamps: the same lines, about LogBytesPerPod.
		day := int64(86400)
		got = read(corev1.PodLogOptions{SinceSeconds: &day})
		if w := want(now.Add(-24*time.Hour), now, false); !bytes.Equal(got, w) {
			t.Errorf("sinceSeconds=86400: %d bytes, want %d", len(got), len(w))
		}
		if n := float64(len(got)); n < 0.85*float64(s.LogBytesPerPod) || n > 1.15*float64(s.LogBytesPerPod) {
			t.Errorf("a day of logs is %d bytes, want about %d", len(got), s.LogBytesPerPod)
		}

		// No since: the whole log, from an hour before the window.
		got = read(corev1.PodLogOptions{})
		if w := want(time.Time{}, now, false); !bytes.Equal(got, w) || int64(len(got)) <= s.LogBytesPerPod {
			t.Errorf("the whole log: %d bytes, want %d (more than a day's)", len(got), len(w))
		}

		limit := int64(1000)
		got = read(corev1.PodLogOptions{SinceSeconds: &day, LimitBytes: &limit})
		if w := want(now.Add(-24*time.Hour), now, false); !bytes.Equal(got, w[:limit]) {
			t.Errorf("limitBytes=1000: %d bytes, want the first 1000 of the day", len(got))
		}
	})

	t.Run("lag", func(t *testing.T) {
		// The clock runs lag behind the system clock: the last line is
		// at most 4×Gap before it (the generator's longest gap).
		planted.SetLag(2 * time.Hour)
		defer planted.SetLag(0)
		before := time.Now()
		_, last := stamps(read(corev1.PodLogOptions{Timestamps: true}))
		after := time.Now()
		if last.Before(before.Add(-2*time.Hour-4*gen.Gap)) || !last.Before(after.Add(-2*time.Hour)) {
			t.Errorf("lag 2h: the last line at %s, want it within %s before %s", last, 4*gen.Gap, before.Add(-2*time.Hour))
		}
		planted.SetLag(0)
		before = time.Now()
		_, newest := stamps(read(corev1.PodLogOptions{Timestamps: true}))
		after = time.Now()
		if newest.Before(before.Add(-4*gen.Gap)) || !newest.Before(after) || !newest.After(last) {
			t.Errorf("lag 0: the last line at %s, want it within %s before %s (and after %s)", newest, 4*gen.Gap, before, last)
		}
	})

	t.Run("incremental", func(t *testing.T) {
		// The clock stopped on the hour, as the incremental counts are
		// kept by minute and samples by hour (see incremental.go): a
		// repeat run then reports what a full one does.
		t2 := time.Now().Truncate(time.Hour)
		t1 := t2.Add(-time.Hour)
		defer planted.SetNow(time.Time{})
		clock := planted.LogNow
		cfg := logs.Config{Window: model.Duration(24 * time.Hour)}
		st := &memState{}
		run := func(st logs.StateStore) (checks.Result, int64) {
			t.Helper()
			var opts []logs.Option
			if st != nil {
				opts = append(opts, logs.WithState(st, "bench", redact.Redactor{}))
			}
			before := env.Kube.Kubelet().BytesServed()
			res := logs.New(env.Kube.Client(), planted.Namespaces, cfg, clock, nil, opts...).Run(ctx)
			if res.Status == checks.Unknown {
				t.Fatalf("logs check: %s", res.Summary)
			}
			return res, env.Kube.Kubelet().BytesServed() - before
		}

		planted.SetNow(t1)
		first, firstBytes := run(st)
		if !strings.Contains(first.Summary, "0 logs read since the last run") || len(first.Findings) == 0 {
			t.Fatalf("first run: %q, %d findings: want a full read with findings", first.Summary, len(first.Findings))
		}
		full, _ := run(nil)
		sameReport(t, first, full)

		planted.SetNow(t2)
		second, secondBytes := run(st)
		if !strings.Contains(second.Summary, "logs read since the last run") || strings.Contains(second.Summary, "in full") {
			t.Errorf("second run, an hour later: %q, want every log read since the last run", second.Summary)
		}
		full, _ = run(nil)
		sameReport(t, second, full)
		t.Logf("second run: %s (%d bytes served, the first run %d)", second.Summary, secondBytes, firstBytes)
		// An hour of a day's logs, and a statement per log read again.
		if secondBytes*12 > firstBytes {
			t.Errorf("the second run read %d bytes, the first %d: want about an hour of a day", secondBytes, firstBytes)
		}
	})
}

// sameReport fails unless an incremental result reports what a full
// read's does: the same findings and the same summary up to the bytes
// read and the incremental part.
func sameReport(t *testing.T, inc, full checks.Result) {
	t.Helper()
	if !reflect.DeepEqual(inc.Findings, full.Findings) {
		t.Errorf("incremental findings differ from a full read's")
		for i := range max(len(inc.Findings), len(full.Findings)) {
			var a, b checks.Finding
			if i < len(inc.Findings) {
				a = inc.Findings[i]
			}
			if i < len(full.Findings) {
				b = full.Findings[i]
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("finding %d: %q (%d, sample %q), want %q (%d, sample %q)", i, a.Title, a.Count, a.Detail, b.Title, b.Count, b.Detail)
			}
		}
	}
	strip := func(s string) string {
		_, rest, _ := strings.Cut(s, " read: ")
		if i := strings.Index(rest, " read since the last run"); i >= 0 {
			if j := strings.LastIndex(rest[:i], ";"); j >= 0 {
				rest = rest[:j]
			}
		}
		return rest
	}
	if strip(inc.Summary) != strip(full.Summary) || inc.Status != full.Status {
		t.Errorf("incremental result %s %q, full read's %s %q", inc.Status, inc.Summary, full.Status, full.Summary)
	}
}
