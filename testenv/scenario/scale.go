package scenario

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsbot/opsbot/checks/logs/logstest"
	"github.com/opsbot/opsbot/testenv"
)

// Scale sizes the benchmark's scenario.
type Scale struct {
	Namespace string
	// Deployments × PodsPerDeployment pods; the first UnhealthyDeployments
	// are unhealthy, cycling through the kinds of trouble the pods check
	// knows.
	Deployments, PodsPerDeployment, UnhealthyDeployments int
	// LogBytesPerPod of generated logs per pod (one container each).
	LogBytesPerPod int64
	// LogErrorRatio is the share of log statements that are errors.
	LogErrorRatio float64
	// FailedJobs one-off Jobs and FailedCronJobs CronJobs whose last run
	// failed.
	FailedJobs, FailedCronJobs int
	// Alerts firing alerts over AlertNames names.
	Alerts, AlertNames int
	// CustomQueries series families for custom PromQL queries (the
	// built-in queries come on top).
	CustomQueries int
	// Concurrency of the planting itself.
	Concurrency int
}

// Pods is the number of pods s plants.
func (s Scale) Pods() int { return s.Deployments * s.PodsPerDeployment }

// trouble is a kind of unhealthy pod.
type trouble func(c *Cluster, name string) corev1.PodStatus

var troubles = []struct {
	name   string
	status trouble
}{
	{"crashloop", func(_ *Cluster, n string) corev1.PodStatus {
		return testenv.PodStatus(corev1.PodRunning, testenv.CrashLoopingContainer(n, 9, "Error", 1))
	}},
	{"imagepull", func(_ *Cluster, n string) corev1.PodStatus {
		return testenv.PodStatus(corev1.PodPending, testenv.WaitingContainer(n, "ImagePullBackOff", "Back-off pulling image", 0))
	}},
	{"configerror", func(_ *Cluster, n string) corev1.PodStatus {
		return testenv.PodStatus(corev1.PodPending, testenv.WaitingContainer(n, "CreateContainerConfigError", `secret "x" not found`, 0))
	}},
	{"oomkilled", func(c *Cluster, n string) corev1.PodStatus {
		cs := testenv.RunningContainer(n, 1)
		cs.LastTerminationState = corev1.ContainerState{Terminated: testenv.TerminatedState(137, "OOMKilled", c.Now.Add(-time.Hour))}
		return testenv.PodStatus(corev1.PodRunning, cs)
	}},
	{"restarts", func(c *Cluster, n string) corev1.PodStatus {
		cs := testenv.RunningContainer(n, 20)
		cs.LastTerminationState = corev1.ContainerState{Terminated: testenv.TerminatedState(1, "Error", c.Now.Add(-30*time.Minute))}
		return testenv.PodStatus(corev1.PodRunning, cs)
	}},
	{"pending", func(c *Cluster, _ string) corev1.PodStatus {
		st := testenv.PodStatus(corev1.PodPending)
		st.StartTime = nil
		st.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
			Message: "0/1 nodes are available: 1 Insufficient cpu.", LastTransitionTime: metav1.NewTime(c.Now.Add(-time.Hour))}}
		return st
	}},
	{"notready", func(c *Cluster, n string) corev1.PodStatus {
		st := testenv.PodStatus(corev1.PodRunning, testenv.RunningContainer(n, 0))
		st.ContainerStatuses[0].Ready = false
		for i := range st.Conditions {
			if t := st.Conditions[i].Type; t == corev1.PodReady || t == corev1.ContainersReady {
				st.Conditions[i].Status = corev1.ConditionFalse
				st.Conditions[i].LastTransitionTime = metav1.NewTime(c.Now.Add(-time.Hour))
			}
		}
		return st
	}},
	{"evicted", func(c *Cluster, n string) corev1.PodStatus {
		st := testenv.PodStatus(corev1.PodFailed)
		st.Reason, st.Conditions = "Evicted", nil
		st.ContainerStatuses = []corev1.ContainerStatus{testenv.TerminatedContainer(n, 137, "Error", 0)}
		st.ContainerStatuses[0].State.Terminated.FinishedAt = metav1.NewTime(c.Now.Add(-time.Hour))
		return st
	}},
}

// PlantScale plants the benchmark's scenario and returns the PromQL queries
// of its custom series, to configure alongside the built-ins.
func PlantScale(ctx context.Context, env *testenv.Env, repoRoot string, s Scale) ([]string, error) {
	if err := env.Kube.CreateNamespace(ctx, s.Namespace); err != nil {
		return nil, err
	}
	if err := GrantBotRole(ctx, env.Kube, repoRoot, s.Namespace); err != nil {
		return nil, err
	}
	c := &Cluster{Kube: env.Kube, Namespace: s.Namespace, Now: time.Now()}
	if err := plantScaleWorkloads(ctx, c, env.Exporter, s); err != nil {
		return nil, err
	}
	if err := plantScaleAlerts(ctx, env.Alertmanager, s); err != nil {
		return nil, err
	}
	return plantScaleMetrics(ctx, env, s)
}

func plantScaleWorkloads(ctx context.Context, c *Cluster, e *testenv.Exporter, s Scale) error {
	type job struct {
		owner  *Owner
		labels map[string]string
		name   string
		i      int
		status corev1.PodStatus
	}
	jobs := make(chan job)
	errs := make(chan error, s.Concurrency)
	var wg sync.WaitGroup
	for range s.Concurrency {
		wg.Go(func() {
			for j := range jobs {
				pod := PodName(j.owner, j.i)
				seed := int64(hash(pod))
				err := c.CreatePod(ctx, Pod{Name: pod, Owner: j.owner, Labels: j.labels, Containers: []string{j.name}, Status: j.status,
					Logs: map[string]testenv.LogFunc{j.name: func(_ context.Context, _ testenv.LogRequest, w io.Writer) error {
						_, err := io.Copy(w, logstest.NewReader(logstest.Options{Size: s.LogBytesPerPod, Seed: seed, ErrorRatio: s.LogErrorRatio}))
						return err
					}}})
				if err == nil {
					err = podMetrics(e, s.Namespace, pod, j.name)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	var planted error
	for d := range s.Deployments {
		name := fmt.Sprintf("svc-%03d", d)
		ready := int32(s.PodsPerDeployment)
		var bad trouble
		if d < s.UnhealthyDeployments {
			bad = troubles[d%len(troubles)].status
			name = fmt.Sprintf("%s-%s", name, troubles[d%len(troubles)].name)
			ready = 0
		}
		owner, labels, err := c.CreateDeployment(ctx, name, int32(s.PodsPerDeployment), ready)
		if err != nil {
			planted = err
			break
		}
		for i := range s.PodsPerDeployment {
			st := testenv.PodStatus(corev1.PodRunning, testenv.RunningContainer(name, 0))
			if bad != nil {
				st = bad(c, name)
			}
			jobs <- job{owner, labels, name, i, st}
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	if planted != nil {
		return planted
	}
	for i := range s.FailedJobs {
		if err := c.CreateJob(ctx, fmt.Sprintf("migrate-%03d", i), nil, true, c.Now.Add(-time.Hour)); err != nil {
			return err
		}
	}
	for i := range s.FailedCronJobs {
		cj, err := c.CreateCronJob(ctx, fmt.Sprintf("report-%03d", i), false)
		if err != nil {
			return err
		}
		if err := c.CreateJob(ctx, fmt.Sprintf("report-%03d-29000", i), cj, true, c.Now.Add(-2*time.Hour)); err != nil {
			return err
		}
	}
	return nil
}

// podMetrics gives a pod the cAdvisor and kube-state-metrics series the
// built-in queries read: memory at 40% of its limit, CPU at 25%.
func podMetrics(e *testenv.Exporter, ns, pod, container string) error {
	const gib = 1 << 30
	l := testenv.Labels{"namespace": ns, "pod": pod, "container": container}
	withRes := func(r string) testenv.Labels {
		m := testenv.Labels{"resource": r}
		for k, v := range l {
			m[k] = v
		}
		return m
	}
	for _, err := range []error{
		e.Set("container_memory_working_set_bytes", l, 0.4*gib),
		e.Set("kube_pod_container_resource_limits", withRes("memory"), gib),
		e.Set("kube_pod_container_resource_limits", withRes("cpu"), 1),
		e.SetCounter("container_cpu_usage_seconds_total", l, 0, 0.25),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func plantScaleAlerts(ctx context.Context, am *testenv.Alertmanager, s Scale) error {
	var alerts []testenv.Alert
	for i := range s.Alerts {
		alerts = append(alerts, testenv.Alert{
			Labels: testenv.Labels{
				"alertname": fmt.Sprintf("BenchAlert%02d", i%s.AlertNames),
				"namespace": s.Namespace, "severity": []string{"critical", "warning"}[i%2],
				"pod": fmt.Sprintf("svc-%03d-%d", i, i),
			},
			Annotations: testenv.Labels{"summary": fmt.Sprintf("bench alert %d", i)},
		})
	}
	if err := am.PostAlerts(ctx, alerts...); err != nil {
		return err
	}
	_, err := am.WaitForAlertsFunc(ctx, testenv.AlertQuery{}, func(as []testenv.ListedAlert) bool {
		for _, a := range as {
			if a.Status.State == testenv.AlertStateUnprocessed {
				return false
			}
		}
		return len(as) == s.Alerts
	})
	return err
}

func plantScaleMetrics(ctx context.Context, env *testenv.Env, s Scale) ([]string, error) {
	var queries []string
	for q := range s.CustomQueries {
		name := fmt.Sprintf("bench_queue_depth_%02d", q)
		for i := range 10 {
			if err := env.Exporter.Set(name, testenv.Labels{"namespace": s.Namespace, "queue": fmt.Sprintf("q%d", i)}, float64(i*100)); err != nil {
				return nil, err
			}
		}
		queries = append(queries, fmt.Sprintf(`max by (namespace, queue) (%s{namespace=~"{{namespace}}"})`, name))
	}
	// Wait until Prometheus has scraped every planted series (and twice,
	// for the rates), not just the first.
	waits := []string{fmt.Sprintf(`count(rate(container_cpu_usage_seconds_total{namespace=%q}[5m]) > 0) == %d`, s.Namespace, s.Pods())}
	if s.CustomQueries > 0 {
		waits = append(waits, fmt.Sprintf(`count({__name__=~"bench_queue_depth_.+", namespace=%q}) == %d`, s.Namespace, 10*s.CustomQueries))
	}
	for _, q := range waits {
		if _, err := env.Prometheus.WaitForQuery(ctx, q); err != nil {
			return nil, err
		}
	}
	return queries, nil
}
