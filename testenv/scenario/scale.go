package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opsbot/opsbot/checks/logs/logstest"
	"github.com/opsbot/opsbot/testenv"
)

// Scale sizes the benchmark's scenario.
type Scale struct {
	// Namespace of the workloads; with Namespaces > 1, the prefix of
	// theirs: "shop" gives shop-00, shop-01, ...
	Namespace string
	// Namespaces is how many namespaces the Deployments, Jobs, alerts and
	// custom series are spread over, evenly; 0 or 1: Namespace alone.
	Namespaces int
	// Deployments × PodsPerDeployment pods; the first UnhealthyDeployments
	// are unhealthy, cycling through the kinds of trouble the pods check
	// knows.
	Deployments, PodsPerDeployment, UnhealthyDeployments int
	// LogBytesPerPod of generated logs per pod (one container each) in a
	// LogWindow: reading a window's log returns about that many bytes,
	// without timestamps. Each log begins an hour before the window that
	// ends when it is planted and goes on with the log clock (see
	// Planted.SetLag).
	LogBytesPerPod int64
	// LogWindow is 24 hours by default.
	LogWindow time.Duration
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
	// Concurrency of the planting itself; 32 by default.
	Concurrency int
}

// Pods is the number of pods s plants.
func (s Scale) Pods() int { return s.Deployments * s.PodsPerDeployment }

// NamespaceNames are the namespaces s plants in.
func (s Scale) NamespaceNames() []string {
	if s.Namespaces <= 1 {
		return []string{s.Namespace}
	}
	width := max(2, len(strconv.Itoa(s.Namespaces-1)))
	names := make([]string, s.Namespaces)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%0*d", s.Namespace, width, i)
	}
	return names
}

// validate says what is wrong with s, if anything.
func (s Scale) validate() error {
	switch {
	case s.Namespace == "":
		return errors.New("scale: no namespace")
	case s.Namespaces < 0, s.Deployments < 0, s.PodsPerDeployment < 0, s.UnhealthyDeployments < 0,
		s.FailedJobs < 0, s.FailedCronJobs < 0, s.Alerts < 0, s.CustomQueries < 0, s.Concurrency < 0:
		return fmt.Errorf("scale: negative count in %+v", s)
	case s.LogBytesPerPod < 0 || s.LogWindow < 0:
		return fmt.Errorf("scale: negative log size %d or window %s", s.LogBytesPerPod, s.LogWindow)
	case s.LogErrorRatio < 0 || s.LogErrorRatio > 1:
		return fmt.Errorf("scale: log error ratio %g is not between 0 and 1", s.LogErrorRatio)
	case s.Alerts > 0 && s.AlertNames < 1:
		return fmt.Errorf("scale: %d alerts need at least one alert name", s.Alerts)
	}
	return nil
}

// Planted is a planted Scale, with the clock of its logs.
type Planted struct {
	// Queries are the PromQL queries of the custom series, to configure
	// alongside the built-in ones.
	Queries []string
	// Namespaces the workloads are in.
	Namespaces []string

	lag      atomic.Int64              // time.Duration
	stopped  atomic.Pointer[time.Time] // set by SetNow
	logStart time.Time
	gap      time.Duration // 0: no logs
	ratio    float64
}

// SetLag sets the log clock d behind the system clock: the logs served
// end at time.Now()-d (0 at first). A kubelet serves the logs as they are
// at that time, answering sinceSeconds from it; moving the lag back to 0
// an hour after a run is what the run would see an hour later. Safe for
// concurrent use.
func (p *Planted) SetLag(d time.Duration) { p.lag.Store(int64(d)) }

// SetNow stops the log clock at t, for tests that need the same time in
// the kubelet and in the code they test (a window that starts on the
// hour); the zero time makes it run again, lag behind the system clock.
func (p *Planted) SetNow(t time.Time) {
	if t.IsZero() {
		p.stopped.Store(nil)
		return
	}
	p.stopped.Store(&t)
}

// LogNow is the log clock's time: time.Now() minus the lag, unless
// stopped by SetNow.
func (p *Planted) LogNow() time.Time {
	if t := p.stopped.Load(); t != nil {
		return *t
	}
	return time.Now().Add(-time.Duration(p.lag.Load()))
}

// LogOptions are the generator options of a pod's log (with Gap 0 if the
// Scale has no logs, and then none is served). The stub kubelet
// serves logstest.NewReader of these with Until the log clock's time and
// Since and Timestamps from the request: a test can compare what it read
// with what was generated.
func (p *Planted) LogOptions(namespace, pod string) logstest.Options {
	return logstest.Options{Seed: int64(hash(namespace + "/" + pod)), ErrorRatio: p.ratio, Gap: p.gap, Start: p.logStart}
}

// serveLog returns the LogFunc of a pod's container: it answers like a
// kubelet, with the lines up to the log clock's time, those at or after
// sinceSeconds ago or sinceTime, stamped when timestamps are asked for,
// truncated at limitBytes by the stub kubelet itself (tailLines is not
// honoured). It generates the log as it streams it, in constant memory.
func (p *Planted) serveLog(namespace, pod string) testenv.LogFunc {
	o := p.LogOptions(namespace, pod)
	return func(_ context.Context, req testenv.LogRequest, w io.Writer) error {
		if o.Gap == 0 {
			return nil
		}
		o := o
		o.Until, o.Timestamps = p.LogNow(), req.Timestamps
		switch {
		case req.SinceSeconds != nil:
			o.Since = o.Until.Add(-time.Duration(*req.SinceSeconds) * time.Second)
		case req.SinceTime != nil:
			o.Since = *req.SinceTime
		}
		// The generator keeps or drops a statement whole, on its time;
		// its lines are stamped within its microsecond. A since in that
		// microsecond, after the statement's time (never the case of a
		// sinceTime, in whole seconds), drops the statement: as if the
		// kubelet's clock read a few nanoseconds later.
		if t := o.Since.Truncate(time.Microsecond); t.Before(o.Since) {
			o.Since = t.Add(time.Microsecond)
		}
		_, err := io.Copy(w, logstest.NewReader(o))
		return err
	}
}

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

// PlantScale plants the benchmark's scenario: s's namespaces, each with
// the bot's RoleBinding, their workloads, logs, alerts and metrics, and
// waits until Prometheus has scraped every series.
func PlantScale(ctx context.Context, env *testenv.Env, repoRoot string, s Scale) (*Planted, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	if s.LogWindow == 0 {
		s.LogWindow = 24 * time.Hour
	}
	if s.Concurrency == 0 {
		s.Concurrency = 32
	}
	now := time.Now()
	p := &Planted{Namespaces: s.NamespaceNames(), logStart: now.Add(-s.LogWindow - time.Hour).Truncate(time.Microsecond), ratio: s.LogErrorRatio}
	if s.LogBytesPerPod > 0 {
		p.gap = logstest.GapFor(logstest.Options{ErrorRatio: s.LogErrorRatio}, s.LogBytesPerPod, s.LogWindow)
	}
	clusters := make([]*Cluster, len(p.Namespaces))
	for i, ns := range p.Namespaces {
		if err := env.Kube.CreateNamespace(ctx, ns); err != nil {
			return nil, err
		}
		if err := GrantBotRole(ctx, env.Kube, repoRoot, ns); err != nil {
			return nil, err
		}
		clusters[i] = &Cluster{Kube: env.Kube, Namespace: ns, Now: now}
	}
	if err := plantScaleWorkloads(ctx, clusters, env.Exporter, s, p); err != nil {
		return nil, err
	}
	if err := plantScaleAlerts(ctx, env.Alertmanager, s, p.Namespaces); err != nil {
		return nil, err
	}
	queries, err := plantScaleMetrics(ctx, env, s, p.Namespaces)
	if err != nil {
		return nil, err
	}
	p.Queries = queries
	return p, nil
}

func plantScaleWorkloads(ctx context.Context, clusters []*Cluster, e *testenv.Exporter, s Scale, p *Planted) error {
	type job struct {
		c      *Cluster
		owner  *Owner
		labels map[string]string
		name   string
		i      int
		status corev1.PodStatus
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range s.Concurrency {
		wg.Go(func() {
			for j := range jobs {
				pod := PodName(j.owner, j.i)
				err := j.c.CreatePod(ctx, Pod{Name: pod, Owner: j.owner, Labels: j.labels, Containers: []string{j.name}, Status: j.status,
					Logs: map[string]testenv.LogFunc{j.name: p.serveLog(j.c.Namespace, pod)}})
				if err == nil {
					err = podMetrics(e, j.c.Namespace, pod, j.name)
				}
				if err != nil {
					cancel(err)
				}
			}
		})
	}
	// Deployment d goes to namespace d mod n: the unhealthy ones too are
	// spread evenly.
	planted := func() error {
		defer close(jobs)
		for d := range s.Deployments {
			c := clusters[d%len(clusters)]
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
				return err
			}
			for i := range s.PodsPerDeployment {
				st := testenv.PodStatus(corev1.PodRunning, testenv.RunningContainer(name, 0))
				if bad != nil {
					st = bad(c, name)
				}
				select {
				case jobs <- job{c, owner, labels, name, i, st}:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}
		}
		return nil
	}()
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if planted != nil {
		return planted
	}
	for i := range s.FailedJobs {
		c := clusters[i%len(clusters)]
		if err := c.CreateJob(ctx, fmt.Sprintf("migrate-%03d", i), nil, true, c.Now.Add(-time.Hour)); err != nil {
			return err
		}
	}
	for i := range s.FailedCronJobs {
		c := clusters[i%len(clusters)]
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

func plantScaleAlerts(ctx context.Context, am *testenv.Alertmanager, s Scale, namespaces []string) error {
	var alerts []testenv.Alert
	for i := range s.Alerts {
		alerts = append(alerts, testenv.Alert{
			Labels: testenv.Labels{
				"alertname": fmt.Sprintf("BenchAlert%02d", i%s.AlertNames),
				"namespace": namespaces[i%len(namespaces)], "severity": []string{"critical", "warning"}[i%2],
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

func plantScaleMetrics(ctx context.Context, env *testenv.Env, s Scale, namespaces []string) ([]string, error) {
	var queries []string
	for q := range s.CustomQueries {
		name := fmt.Sprintf("bench_queue_depth_%02d", q)
		for i := range 10 {
			ns := namespaces[i%len(namespaces)]
			if err := env.Exporter.Set(name, testenv.Labels{"namespace": ns, "queue": fmt.Sprintf("q%d", i)}, float64(i*100)); err != nil {
				return nil, err
			}
		}
		queries = append(queries, fmt.Sprintf(`max by (namespace, queue) (%s{namespace=~"{{namespace}}"})`, name))
	}
	// Wait until Prometheus has scraped every planted series (and twice,
	// for the rates), not just the first. Namespace names need no
	// escaping in a regular expression.
	in := strings.Join(namespaces, "|")
	var waits []string
	if s.Pods() > 0 {
		waits = append(waits, fmt.Sprintf(`count(rate(container_cpu_usage_seconds_total{namespace=~%q}[5m]) > 0) == %d`, in, s.Pods()))
	}
	if s.CustomQueries > 0 {
		waits = append(waits, fmt.Sprintf(`count({__name__=~"bench_queue_depth_.+", namespace=~%q}) == %d`, in, 10*s.CustomQueries))
	}
	for _, q := range waits {
		if _, err := env.Prometheus.WaitForQuery(ctx, q); err != nil {
			return nil, err
		}
	}
	return queries, nil
}
