package scenario

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/opsbot/opsbot/checks/security/githubtest"
	"github.com/opsbot/opsbot/testenv"
)

// The namespaces of the checklist scenario: the checklist watches Watched;
// Other has problems of its own that must not be reported.
const (
	Watched = "shop"
	Other   = "payments"
)

// Checklist is the planted integration scenario: a namespace with healthy
// and unhealthy workloads of every kind the pods check knows, noisy and
// clean logs, firing, silenced, inhibited and foreign alerts, metrics over
// and under their thresholds, and a healthy and an unhealthy health URL.
// PlantSecurity and StartDatabase add the runbook's other looks.
type Checklist struct {
	// Health is the two health endpoints (storefront UP, payments-api
	// DOWN); Close them when done.
	Health *HealthServers
	// GitHub is the GitHub fake, once PlantSecurity returned.
	GitHub *githubtest.Server
	// Database is the team's PostgreSQL: set it to StartDatabase's
	// result (which can start while PlantChecklist plants the rest) to
	// have Config include the integrity and database checks.
	Database *Database

	kube *testenv.Kube
}

// PlantSecurity plants the security check's findings: Trivy Operator's
// CRD and VulnerabilityReports in the cluster (critical and high ones in
// Watched, a critical one in Other), and a GitHub fake whose security
// workflow failed and whose CI passed. Its token is in Environ.
func (c *Checklist) PlantSecurity(ctx context.Context) error {
	if err := plantVulnerabilities(ctx, c.kube); err != nil {
		return fmt.Errorf("planting vulnerability reports: %w", err)
	}
	c.GitHub = startGitHub()
	return nil
}

// Environ is the environment variables the config's secrets are read
// from (the checklist's process needs them), for what was planted.
func (c *Checklist) Environ() map[string]string {
	env := map[string]string{}
	if c.GitHub != nil {
		env[GitHubTokenEnv] = githubtest.DefaultToken
	}
	if c.Database != nil {
		env[DatabaseDSNEnv] = c.Database.ReadOnlyDSN
	}
	return env
}

// Close stops what the scenario started outside the Env: the health
// servers, the GitHub fake and the database.
func (c *Checklist) Close() error {
	c.Health.Close()
	if c.GitHub != nil {
		c.GitHub.Close()
	}
	if c.Database != nil {
		return c.Database.Close()
	}
	return nil
}

// HealthServers are the http check's targets.
type HealthServers struct {
	Storefront, PaymentsAPI *httptest.Server
}

// Close stops both servers.
func (h *HealthServers) Close() {
	h.Storefront.Close()
	h.PaymentsAPI.Close()
}

// PlantChecklist plants the whole scenario in env, which must have Kube,
// Prometheus and Alertmanager. It returns once every planted thing is
// visible: pods in the API, alerts processed by Alertmanager, series
// (rates included) in Prometheus. Checklist.Config is the opsbot.yaml
// that finds it all, once Checklist.WaitSettled returned.
func PlantChecklist(ctx context.Context, env *testenv.Env, repoRoot string) (*Checklist, error) {
	for _, ns := range []string{Watched, Other} {
		if err := env.Kube.CreateNamespace(ctx, ns); err != nil {
			return nil, err
		}
	}
	if err := GrantBotRole(ctx, env.Kube, repoRoot, Watched); err != nil {
		return nil, err
	}
	now := time.Now()
	if err := plantWorkloads(ctx, &Cluster{Kube: env.Kube, Namespace: Watched, Now: now}); err != nil {
		return nil, fmt.Errorf("planting workloads: %w", err)
	}
	// A crash loop in a namespace the checklist does not watch.
	other := &Cluster{Kube: env.Kube, Namespace: Other, Now: now}
	owner, labels, err := other.CreateDeployment(ctx, "ledger", 1, 0)
	if err != nil {
		return nil, err
	}
	if err := other.CreatePod(ctx, Pod{Name: PodName(owner, 0), Owner: owner, Labels: labels, Containers: []string{"ledger"},
		Status: testenv.PodStatus(corev1.PodRunning, testenv.CrashLoopingContainer("ledger", 9, "Error", 1))}); err != nil {
		return nil, err
	}
	if err := plantAlerts(ctx, env.Alertmanager); err != nil {
		return nil, fmt.Errorf("planting alerts: %w", err)
	}
	if err := plantMetrics(ctx, env.Exporter, env.Prometheus); err != nil {
		return nil, fmt.Errorf("planting metrics: %w", err)
	}
	return &Checklist{Health: startHealth(), kube: env.Kube}, nil
}

// GrantBotRole creates deploy/watched/role/role.yaml's Role in ns and binds
// it to the bot's user, so the checklist runs with exactly the access it
// ships with.
func GrantBotRole(ctx context.Context, k *testenv.Kube, repoRoot, ns string) error {
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "watched", "role", "role.yaml"))
	if err != nil {
		return err
	}
	var role rbacv1.Role
	if err := yaml.UnmarshalStrict(data, &role); err != nil {
		return fmt.Errorf("deploy/watched/role/role.yaml: %w", err)
	}
	role.Namespace = ns
	if _, err := k.Client().RbacV1().Roles(ns).Create(ctx, &role, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create role: %w", err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: testenv.BotUser}},
	}
	if _, err := k.Client().RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create rolebinding: %w", err)
	}
	return nil
}

// lines serves fixed log text, one line per element, all written when
// lines is called, as the kubelet does (since, timestamps, tailLines).
func lines(text ...string) testenv.LogFunc {
	now := time.Now()
	ll := make([]testenv.LogLine, len(text))
	for i, t := range text {
		ll[i] = testenv.LogLine{Time: now, Text: t}
	}
	return testenv.ServeLines(ll...)
}

// cleanLog is the log of a healthy service: nothing in it is an error,
// including lines that mention errors in passing, and untrusted text that
// would mention everyone in Slack if it were not escaped.
var cleanLog = lines(
	"2026-11-24T08:00:00.000Z  INFO 1 --- [main] c.e.shop.Application : Started Application in 4.2 seconds",
	"2026-11-24T08:00:01.000Z  INFO 1 --- [exec-1] c.e.shop.Orders : processed 120 orders, 0 errors",
	"2026-11-24T08:00:02.000Z  INFO 1 --- [exec-2] c.e.shop.Orders : error_count=0 retries=0",
	`{"level":"info","msg":"request served","path":"/api/cart","status":200}`,
	"2026-11-24T08:00:03.000Z  WARN 1 --- [exec-3] c.e.shop.Chat : user typed <!channel> in a review",
)

// checkoutLog has two error signatures: a timeout whose numbers, address
// and id vary (40 lines), and a NullPointerException with its stack trace
// (3 events, each one event however many lines its trace has).
func checkoutLog(pod int) testenv.LogFunc {
	var out []string
	for i := range 40 {
		out = append(out, "2026-11-24T08:00:00.000Z  INFO 1 --- [exec-1] c.e.shop.Cart : cart updated")
		out = append(out, fmt.Sprintf("2026-11-24T08:%02d:%02d.%03dZ ERROR 1 --- [exec-%d] c.e.shop.Payment : payment timeout after %dms talking to 10.0.%d.%d:8443 order=%08x-4b1d-4c2e-9f3a-%012x",
			i%60, (i*7)%60, i*13%1000, i%8, 1000+i*37+pod, pod, i, i*7919+pod, i*104729))
	}
	for i := range 3 {
		out = append(out,
			fmt.Sprintf("2026-11-24T09:%02d:00.000Z ERROR 1 --- [exec-%d] c.e.shop.Checkout : checkout failed", i, i),
			"java.lang.NullPointerException: Cannot invoke \"com.example.shop.Cart.total()\" because \"cart\" is null",
			"\tat com.example.shop.Checkout.submit(Checkout.java:88)",
			"\tat com.example.shop.CheckoutController.post(CheckoutController.java:41)",
			"\tat java.base/java.lang.Thread.run(Thread.java:1583)",
		)
	}
	return lines(out...)
}

func plantWorkloads(ctx context.Context, c *Cluster) error {
	ago := func(d time.Duration) time.Time { return c.Now.Add(-d) }
	running := func(containers ...corev1.ContainerStatus) corev1.PodStatus {
		return testenv.PodStatus(corev1.PodRunning, containers...)
	}
	restarted := func(name string, restarts int32, reason string, exit int32, at time.Time) corev1.ContainerStatus {
		cs := testenv.RunningContainer(name, restarts)
		cs.LastTerminationState = corev1.ContainerState{Terminated: testenv.TerminatedState(exit, reason, at)}
		return cs
	}
	deploy := func(name string, replicas, ready int32, pods ...Pod) error {
		owner, labels, err := c.CreateDeployment(ctx, name, replicas, ready)
		if err != nil {
			return err
		}
		for i, p := range pods {
			p.Name, p.Owner, p.Labels = PodName(owner, i), owner, labels
			if p.Containers == nil {
				p.Containers = []string{name}
			}
			if err := c.CreatePod(ctx, p); err != nil {
				return err
			}
		}
		return nil
	}

	// Healthy: web (clean logs that mention errors in passing) and
	// checkout (healthy pods, noisy logs).
	if err := deploy("web", 3, 3,
		Pod{Status: running(testenv.RunningContainer("web", 0)), Logs: map[string]testenv.LogFunc{"web": cleanLog}},
		Pod{Status: running(testenv.RunningContainer("web", 0)), Logs: map[string]testenv.LogFunc{"web": cleanLog}},
		Pod{Status: running(testenv.RunningContainer("web", 0)), Logs: map[string]testenv.LogFunc{"web": cleanLog}},
	); err != nil {
		return err
	}
	if err := deploy("checkout", 2, 2,
		Pod{Status: running(testenv.RunningContainer("checkout", 0)), Logs: map[string]testenv.LogFunc{"checkout": checkoutLog(0)}},
		Pod{Status: running(testenv.RunningContainer("checkout", 0)), Logs: map[string]testenv.LogFunc{"checkout": checkoutLog(1)}},
	); err != nil {
		return err
	}
	// Restarted 50 times, but the last was ten days ago: stable now.
	if err := deploy("legacy", 1, 1,
		Pod{Status: running(restarted("legacy", 50, "Error", 1, ago(240*time.Hour))), Logs: map[string]testenv.LogFunc{"legacy": cleanLog}},
	); err != nil {
		return err
	}

	// api: both replicas in CrashLoopBackOff: one finding for the
	// Deployment's pods, one for its missing replicas.
	crash := func() corev1.PodStatus {
		return running(testenv.CrashLoopingContainer("api", 7, "Error", 1))
	}
	if err := deploy("api", 2, 0, Pod{Status: crash()}, Pod{Status: crash()}); err != nil {
		return err
	}
	// worker: ImagePullBackOff.
	if err := deploy("worker", 1, 0, Pod{Status: testenv.PodStatus(corev1.PodPending,
		testenv.WaitingContainer("worker", "ImagePullBackOff", `Back-off pulling image "registry.example.com/worker:v2.3.1"`, 0))}); err != nil {
		return err
	}
	// notifier: CreateContainerConfigError.
	if err := deploy("notifier", 1, 0, Pod{Status: testenv.PodStatus(corev1.PodPending,
		testenv.WaitingContainer("notifier", "CreateContainerConfigError", `secret "notifier-smtp" not found`, 0))}); err != nil {
		return err
	}
	// cache: running and ready, but restarted 12 times, the last an hour ago.
	if err := deploy("cache", 1, 1, Pod{Status: running(restarted("cache", 12, "Error", 137, ago(time.Hour)))}); err != nil {
		return err
	}
	// report-ui: Pending for an hour, unschedulable.
	pending := testenv.PodStatus(corev1.PodPending)
	pending.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
		Message: "0/1 nodes are available: 1 Insufficient memory.", LastTransitionTime: metav1.NewTime(ago(time.Hour))}}
	pending.StartTime = nil
	if err := deploy("report-ui", 1, 0, Pod{Status: pending}); err != nil {
		return err
	}
	// search: running, not ready for 30 minutes.
	notReady := running(testenv.RunningContainer("search", 0))
	notReady.ContainerStatuses[0].Ready = false
	for i := range notReady.Conditions {
		if t := notReady.Conditions[i].Type; t == corev1.PodReady || t == corev1.ContainersReady {
			notReady.Conditions[i].Status = corev1.ConditionFalse
			notReady.Conditions[i].LastTransitionTime = metav1.NewTime(ago(30 * time.Minute))
		}
	}
	if err := deploy("search", 1, 0, Pod{Status: notReady, Logs: map[string]testenv.LogFunc{"search": cleanLog}}); err != nil {
		return err
	}
	// thumbs: healthy, but one old pod was evicted three hours ago.
	evicted := testenv.PodStatus(corev1.PodFailed)
	evicted.Reason, evicted.Message = "Evicted", "The node was low on resource: memory."
	evicted.ContainerStatuses = []corev1.ContainerStatus{testenv.TerminatedContainer("thumbs", 137, "Error", 0)}
	evicted.ContainerStatuses[0].State.Terminated.FinishedAt = metav1.NewTime(ago(3 * time.Hour))
	// As the kubelet's eviction manager leaves it: DisruptionTarget added
	// as it kills the pod, Ready false from then on. The pod object itself
	// is created now, so its creation is newer than its eviction.
	evicted.Conditions = []corev1.PodCondition{
		{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "TerminationByKubelet",
			Message: evicted.Message, LastTransitionTime: metav1.NewTime(ago(3 * time.Hour))},
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "PodFailed", LastTransitionTime: metav1.NewTime(ago(3 * time.Hour))},
	}
	if err := deploy("thumbs", 1, 1,
		Pod{Status: running(testenv.RunningContainer("thumbs", 0)), Logs: map[string]testenv.LogFunc{"thumbs": cleanLog}},
		Pod{Status: evicted},
	); err != nil {
		return err
	}
	// mailer: its init container "migrate" fails.
	initFail := testenv.PodStatus(corev1.PodPending, testenv.WaitingContainer("mailer", "PodInitializing", "", 0))
	initFail.InitContainerStatuses = []corev1.ContainerStatus{testenv.CrashLoopingContainer("migrate", 4, "Error", 2)}
	if err := deploy("mailer", 1, 0, Pod{Status: initFail, InitContainers: []string{"migrate"}}); err != nil {
		return err
	}

	// db: a StatefulSet whose db-1 was OOMKilled two hours ago.
	dbOwner, dbLabels, err := c.CreateStatefulSet(ctx, "db", 2, 2)
	if err != nil {
		return err
	}
	for i, st := range []corev1.PodStatus{
		running(testenv.RunningContainer("db", 0)),
		running(restarted("db", 1, "OOMKilled", 137, ago(2*time.Hour))),
	} {
		if err := c.CreatePod(ctx, Pod{Name: PodName(dbOwner, i), Owner: dbOwner, Labels: dbLabels, Containers: []string{"db"}, Status: st,
			Logs: map[string]testenv.LogFunc{"db": cleanLog}}); err != nil {
			return err
		}
	}

	// Jobs: a failed one-off migration; a CronJob whose last run failed; a
	// CronJob whose failure was followed by a success; a suspended CronJob;
	// a completed Job.
	if err := c.CreateJob(ctx, "migrate-orders", nil, true, ago(2*time.Hour)); err != nil {
		return err
	}
	if err := c.CreateJob(ctx, "seed-catalog", nil, false, ago(3*time.Hour)); err != nil {
		return err
	}
	nightly, err := c.CreateCronJob(ctx, "nightly-report", false)
	if err != nil {
		return err
	}
	if err := c.CreateJob(ctx, "nightly-report-29001", nightly, false, ago(29*time.Hour)); err != nil {
		return err
	}
	if err := c.CreateJob(ctx, "nightly-report-29002", nightly, true, ago(5*time.Hour)); err != nil {
		return err
	}
	hourly, err := c.CreateCronJob(ctx, "hourly-sync", false)
	if err != nil {
		return err
	}
	if err := c.CreateJob(ctx, "hourly-sync-29100", hourly, true, ago(3*time.Hour)); err != nil {
		return err
	}
	if err := c.CreateJob(ctx, "hourly-sync-29101", hourly, false, ago(2*time.Hour)); err != nil {
		return err
	}
	paused, err := c.CreateCronJob(ctx, "paused-export", true)
	if err != nil {
		return err
	}
	return c.CreateJob(ctx, "paused-export-28000", paused, true, ago(4*time.Hour))
}

func plantAlerts(ctx context.Context, am *testenv.Alertmanager) error {
	alert := func(name, ns, severity string, extra ...string) testenv.Alert {
		l := testenv.Labels{"alertname": name, "severity": severity}
		if ns != "" {
			l["namespace"] = ns
		}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return testenv.Alert{Labels: l, Annotations: testenv.Labels{
			"summary": fmt.Sprintf("%s in %s", name, ns), "description": "<!here> see the runbook & the dashboard",
		}}
	}
	if _, err := am.Silence(ctx, []testenv.Matcher{{Name: "alertname", Value: "DiskFilling"}}, 24*time.Hour); err != nil {
		return err
	}
	if err := am.PostAlerts(ctx,
		alert("HighErrorRate", Watched, "critical", "service", "checkout"),
		alert("KubeLatency", Watched, "critical"),
		alert("KubeLatency", Watched, "warning"), // inhibited by the critical one
		alert("DiskFilling", Watched, "warning"), // silenced
		alert("Watchdog", "", "none"),            // the always-firing heartbeat
		alert("LedgerDown", Other, "critical"),   // not our namespace
	); err != nil {
		return err
	}
	// Wait until Alertmanager has processed all six: the inhibited and the
	// silenced ones are suppressed.
	_, err := am.WaitForAlertsFunc(ctx, testenv.AlertQuery{}, func(as []testenv.ListedAlert) bool {
		suppressed := 0
		for _, a := range as {
			if a.Status.State == testenv.AlertStateUnprocessed {
				return false
			}
			if a.Status.State == testenv.AlertStateSuppressed {
				suppressed++
			}
		}
		return len(as) == 6 && suppressed == 2
	})
	return err
}

// Queries is the custom PromQL query of the scenario's config.
const QueueDepthQuery = `max by (namespace, queue) (shop_queue_depth{namespace=~"{{namespace}}"})`

func plantMetrics(ctx context.Context, e *testenv.Exporter, p *testenv.Prometheus) error {
	const gib = 1 << 30
	set := func(name string, l testenv.Labels, v float64) error { return e.Set(name, l, v) }
	webPod := PodName(&Owner{Kind: "ReplicaSet", Name: "web-" + TemplateHash("web")}, 0)
	checkoutPod := PodName(&Owner{Kind: "ReplicaSet", Name: "checkout-" + TemplateHash("checkout")}, 0)

	// Network, against the config's networkLimit (NetworkLimit, 12.5 MB/s),
	// as cAdvisor reports it: checkout receives 15 MB/s (120%, fail),
	// reported on the pod's cgroup and again on its pause container, which
	// counts once; its busy loopback does not count; web receives 1 MB/s
	// and sends 0.5 MB/s; a pod of Other receives 50 MB/s.
	//
	// rate(...[5m]) divides by the whole five minutes, and Prometheus has
	// only seconds of samples: each counter is scraped at 0, then jumps by
	// five minutes' worth of bytes and goes on growing at its rate. Its
	// rate() is then at least the planted one, at any time (extrapolation
	// to the end of the window adds at most one scrape interval's worth of
	// the jump), and at most about twice it: web's stays under 80%,
	// checkout's over 95%.
	nic := func(ns, pod, container, iface string) testenv.Labels {
		return testenv.Labels{"namespace": ns, "pod": pod, "container": container, "interface": iface}
	}
	const rx, tx = "container_network_receive_bytes_total", "container_network_transmit_bytes_total"
	network := []struct {
		name string
		l    testenv.Labels
		rate float64 // bytes per second
	}{
		{rx, nic(Watched, checkoutPod, "", "eth0"), 15e6},
		{rx, nic(Watched, checkoutPod, "POD", "eth0"), 15e6},
		{rx, nic(Watched, checkoutPod, "", "lo"), 100e6},
		{tx, nic(Watched, checkoutPod, "", "eth0"), 1e6},
		{rx, nic(Watched, webPod, "", "eth0"), 1e6},
		{tx, nic(Watched, webPod, "", "eth0"), 0.5e6},
		{rx, nic(Other, PodName(&Owner{Kind: "ReplicaSet", Name: "ledger-" + TemplateHash("ledger")}, 0), "", "eth0"), 50e6},
	}
	for _, n := range network {
		if err := e.SetCounter(n.name, n.l, 0, 0); err != nil {
			return err
		}
	}
	if _, err := p.WaitForQuery(ctx, fmt.Sprintf(`count(%s) + count(%s) == %d`, rx, tx, len(network))); err != nil {
		return err
	}
	for _, n := range network {
		if err := e.SetCounter(n.name, n.l, n.rate*300, n.rate); err != nil {
			return err
		}
	}
	for _, s := range []struct {
		name string
		l    testenv.Labels
		v    float64
	}{
		// memory: web at 97% of its limit (fail), checkout at 50%.
		{"container_memory_working_set_bytes", testenv.Labels{"namespace": Watched, "pod": webPod, "container": "web"}, 0.97 * gib},
		{"kube_pod_container_resource_limits", testenv.Labels{"namespace": Watched, "pod": webPod, "container": "web", "resource": "memory"}, gib},
		{"container_memory_working_set_bytes", testenv.Labels{"namespace": Watched, "pod": checkoutPod, "container": "checkout"}, 0.5 * gib},
		{"kube_pod_container_resource_limits", testenv.Labels{"namespace": Watched, "pod": checkoutPod, "container": "checkout", "resource": "memory"}, gib},
		// cpu limit of checkout (its usage is a counter below: 25%).
		{"kube_pod_container_resource_limits", testenv.Labels{"namespace": Watched, "pod": checkoutPod, "container": "checkout", "resource": "cpu"}, 2},
		// pvc: db's data volume 85% full (warn); another 10%.
		{"kubelet_volume_stats_used_bytes", testenv.Labels{"namespace": Watched, "persistentvolumeclaim": "data-db-0"}, 85 * gib},
		{"kubelet_volume_stats_capacity_bytes", testenv.Labels{"namespace": Watched, "persistentvolumeclaim": "data-db-0"}, 100 * gib},
		{"kubelet_volume_stats_used_bytes", testenv.Labels{"namespace": Watched, "persistentvolumeclaim": "data-db-1"}, 10 * gib},
		{"kubelet_volume_stats_capacity_bytes", testenv.Labels{"namespace": Watched, "persistentvolumeclaim": "data-db-1"}, 100 * gib},
		// The custom query: the orders queue is deep (warn), emails is not.
		{"shop_queue_depth", testenv.Labels{"namespace": Watched, "queue": "orders"}, 250},
		{"shop_queue_depth", testenv.Labels{"namespace": Watched, "queue": "emails"}, 3},
		// Over every threshold, but in a namespace not watched.
		{"kubelet_volume_stats_used_bytes", testenv.Labels{"namespace": Other, "persistentvolumeclaim": "ledger"}, 99 * gib},
		{"kubelet_volume_stats_capacity_bytes", testenv.Labels{"namespace": Other, "persistentvolumeclaim": "ledger"}, 100 * gib},
		{"shop_queue_depth", testenv.Labels{"namespace": Other, "queue": "orders"}, 5000},
	} {
		if err := set(s.name, s.l, s.v); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		name string
		l    testenv.Labels
		rate float64
	}{
		{"container_cpu_usage_seconds_total", testenv.Labels{"namespace": Watched, "pod": checkoutPod, "container": "checkout"}, 0.5},
		// checkout answers 10 requests/s, 1 of them a 500: 9% (fail).
		{"http_requests_total", testenv.Labels{"namespace": Watched, "job": "checkout", "code": "200"}, 10},
		{"http_requests_total", testenv.Labels{"namespace": Watched, "job": "checkout", "code": "500"}, 1},
		// web: no errors at all.
		{"http_requests_total", testenv.Labels{"namespace": Watched, "job": "web", "code": "200"}, 20},
	} {
		if err := e.SetCounter(c.name, c.l, 0, c.rate); err != nil {
			return err
		}
	}
	// Rates need two scrapes in the window: wait until Prometheus has them.
	for _, q := range []string{
		`rate(http_requests_total{code="500"}[5m]) > 0`,
		`rate(container_cpu_usage_seconds_total[5m]) > 0`,
		`shop_queue_depth`,
		`kubelet_volume_stats_used_bytes`,
		`min(container_network_receive_bytes_total) > 0`,
		`min(container_network_transmit_bytes_total) > 0`,
	} {
		if _, err := p.WaitForQuery(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func startHealth() *HealthServers {
	json := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
	return &HealthServers{
		Storefront:  httptest.NewServer(json(200, `{"status":"UP","components":{"db":{"status":"UP"}}}`)),
		PaymentsAPI: httptest.NewServer(json(503, `{"status":"DOWN","components":{"db":{"status":"DOWN"},"diskSpace":{"status":"UP"}}}`)),
	}
}
