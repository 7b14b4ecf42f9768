package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/opsbot/opsbot/checks"
)

var testNow = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func clock() time.Time { return testNow }

// pod builds a pod; opts adjust it.
func pod(ns, name string, opts ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{
			Phase:             corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{running("app")},
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func running(name string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

// ownedBy sets the pod's controller.
func ownedBy(kind, name string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{Kind: kind, Name: name, Controller: &yes}}
	}
}

// deployment makes the pod one of Deployment name's (ReplicaSet
// name-hash).
func deployment(name, hash string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		ownedBy("ReplicaSet", name+"-"+hash)(p)
		p.Labels["pod-template-hash"] = hash
	}
}

// containers replaces the pod's containers (all running).
func containers(names ...string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Containers, p.Status.ContainerStatuses = nil, nil
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n})
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, running(n))
		}
	}
}

// fakeStreamer serves logs from memory and records the requests.
type fakeStreamer struct {
	mu    sync.Mutex
	logs  map[string]string // "ns/pod/container", + "/previous"
	errs  map[string]error
	calls []string
	opts  map[string]corev1.PodLogOptions

	// Concurrency tracking: gate, if set, holds every read until it is
	// closed; it is closed when inflight reaches gateAt.
	gate        chan struct{}
	gateAt      int
	gateOnce    sync.Once
	inflight    int
	maxInflight int
	closed      int
	// block makes reads block until the body is closed.
	block bool
}

func newFakeStreamer() *fakeStreamer {
	return &fakeStreamer{logs: map[string]string{}, errs: map[string]error{}, opts: map[string]corev1.PodLogOptions{}}
}

func (f *fakeStreamer) Stream(ctx context.Context, ns, podName string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	key := ns + "/" + podName + "/" + opts.Container
	if opts.Previous {
		key += "/previous"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, key)
	f.opts[key] = *opts
	if err := f.errs[key]; err != nil {
		return nil, err
	}
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	if f.gate != nil && f.inflight >= f.gateAt {
		f.gateOnce.Do(func() { close(f.gate) })
	}
	return &fakeBody{f: f, r: strings.NewReader(f.logs[key]), closed: make(chan struct{})}, nil
}

type fakeBody struct {
	f         *fakeStreamer
	r         io.Reader
	closeOnce sync.Once
	closed    chan struct{}
}

func (b *fakeBody) Read(p []byte) (int, error) {
	if b.f.gate != nil {
		select {
		case <-b.f.gate:
		case <-b.closed:
			return 0, errors.New("body closed")
		}
	}
	if b.f.block {
		<-b.closed
		return 0, errors.New("body closed")
	}
	return b.r.Read(p)
}

func (b *fakeBody) Close() error {
	b.closeOnce.Do(func() {
		close(b.closed)
		b.f.mu.Lock()
		b.f.inflight--
		b.f.closed++
		b.f.mu.Unlock()
	})
	return nil
}

func (f *fakeStreamer) sortedCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := slices.Clone(f.calls)
	slices.Sort(c)
	return c
}

// repeat returns n copies of line, each with a different number in it.
func repeat(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format+"\n", 1000+i*37)
	}
	return b.String()
}

func newCheck(t *testing.T, cfg Config, ns []string, s *fakeStreamer, objs ...runtime.Object) *Check {
	t.Helper()
	c := New(fake.NewClientset(objs...), ns, cfg, clock, zap.NewNop(), WithStreamer(s))
	return c
}

func TestCheckFindings(t *testing.T) {
	s := newFakeStreamer()
	timeout := "2026-11-24T08:00:00.000Z ERROR 1 --- [main] c.e.shop.PaymentClient : timeout after %dms talking to 10.0.0.3"
	s.logs["shop/api-7d9f8c6b5-x2x9q/api"] = repeat(70, timeout) + "INFO fine\n"
	s.logs["shop/api-7d9f8c6b5-k8s7d/api"] = repeat(50, timeout)
	s.logs["shop/api-7d9f8c6b5-k8s7d/istio-proxy"] = `[2026-11-24T08:00:00.000Z] "GET /health HTTP/1.1" 200 - via_upstream`
	s.logs["shop/db-0/app"] = "FATAL could not open data directory /var/lib/db\n"
	s.logs["shop/debug/app"] = "ERROR order 17 rejected\nERROR order 18 rejected\n"
	s.logs["shop/backup-29012345-abcde/app"] = "ERROR backup of 3 tables failed\n"
	s.logs["shop/agent-x1y2z/app"] = "level=info msg=ok\n"
	c := newCheck(t, Config{Link: "https://grafana.example.com/explore?q={namespace}/{pod}/{container}&x=1"}, []string{"shop"}, s,
		pod("shop", "api-7d9f8c6b5-x2x9q", deployment("api", "7d9f8c6b5"), containers("api")),
		pod("shop", "api-7d9f8c6b5-k8s7d", deployment("api", "7d9f8c6b5"), containers("api", "istio-proxy")),
		pod("shop", "db-0", ownedBy("StatefulSet", "db")),
		pod("shop", "debug"),
		pod("shop", "backup-29012345-abcde", ownedBy("Job", "backup-29012345")),
		pod("shop", "agent-x1y2z", ownedBy("DaemonSet", "agent")),
		pod("other", "api-1", deployment("api", "1")), // another namespace: not looked at
		pod("shop", "pending", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending; p.Status.ContainerStatuses = nil }),
	)
	res := c.Run(context.Background())

	if res.Status != checks.Fail {
		t.Errorf("status %s, want fail", res.Status)
	}
	wantSummary := "7 containers, 13.4 kB read: 4 error signatures (124 events)"
	if res.Summary != wantSummary {
		t.Errorf("summary\n%q\nwant\n%q", res.Summary, wantSummary)
	}
	want := []checks.Finding{
		{
			Fingerprint: "logs/shop/Deployment/api/api/" + signatureID("ERROR timeout after Nms talking to N.N.N.N"),
			Severity:    checks.Fail, // 120 >= failThreshold 100
			Object:      "Deployment shop/api",
			Title:       "api (Deployment shop/api): 120× `ERROR timeout after Nms talking to N.N.N.N`",
			// Both pods have it: the sample is from the first by name.
			Detail: "2026-11-24T08:00:00.000Z ERROR 1 --- [main] c.e.shop.PaymentClient : timeout after 1000ms talking to 10.0.0.3\n(pod api-7d9f8c6b5-k8s7d)",
			Count:  120,
			Link:   "https://grafana.example.com/explore?q=shop/api-7d9f8c6b5-k8s7d/api&x=1",
		},
		{
			Fingerprint: "logs/shop/Pod/debug/app/" + signatureID("ERROR order N rejected"),
			Severity:    checks.Warn,
			Object:      "Pod shop/debug",
			Title:       "app (Pod shop/debug): 2× `ERROR order N rejected`",
			Detail:      "ERROR order 17 rejected\n(pod debug)",
			Count:       2,
			Link:        "https://grafana.example.com/explore?q=shop/debug/app&x=1",
		},
		{
			Fingerprint: "logs/shop/CronJob/backup/app/" + signatureID("ERROR backup of N tables failed"),
			Severity:    checks.Warn,
			Object:      "CronJob shop/backup",
			Title:       "app (CronJob shop/backup): 1× `ERROR backup of N tables failed`",
			Detail:      "ERROR backup of 3 tables failed\n(pod backup-29012345-abcde)",
			Count:       1,
			Link:        "https://grafana.example.com/explore?q=shop/backup-29012345-abcde/app&x=1",
		},
		{
			Fingerprint: "logs/shop/StatefulSet/db/app/" + signatureID("FATAL could not open data directory /var/lib/db"),
			Severity:    checks.Fail,
			Object:      "StatefulSet shop/db",
			Title:       "app (StatefulSet shop/db): 1× `FATAL could not open data directory /var/lib/db`",
			Detail:      "FATAL could not open data directory /var/lib/db\n(pod db-0)",
			Count:       1,
			Link:        "https://grafana.example.com/explore?q=shop/db-0/app&x=1",
		},
	}
	if len(res.Findings) != len(want) {
		t.Fatalf("%d findings, want %d: %+v", len(res.Findings), len(want), res.Findings)
	}
	for i := range want {
		if !reflect.DeepEqual(res.Findings[i], want[i]) {
			t.Errorf("finding %d\n got %+v\nwant %+v", i, res.Findings[i], want[i])
		}
	}
	wantCalls := []string{
		"shop/agent-x1y2z/app", "shop/api-7d9f8c6b5-k8s7d/api", "shop/api-7d9f8c6b5-k8s7d/istio-proxy",
		"shop/api-7d9f8c6b5-x2x9q/api", "shop/backup-29012345-abcde/app", "shop/db-0/app", "shop/debug/app",
	}
	if got := s.sortedCalls(); !slices.Equal(got, wantCalls) {
		t.Errorf("log requests\n%v\nwant\n%v", got, wantCalls)
	}
}

func TestCheckLogRequests(t *testing.T) {
	s := newFakeStreamer()
	restartedAt := func(ago time.Duration) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].RestartCount = 1
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{
				ExitCode: 1, FinishedAt: metav1.NewTime(testNow.Add(-ago)),
			}
		}
	}
	crashLooping := func(p *corev1.Pod) {
		restartedAt(time.Minute)(p)
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	}
	notStarted := func(p *corev1.Pod) {
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	}
	failedWithRestarts := func(p *corev1.Pod) {
		restartedAt(time.Hour)(p)
		p.Status.Phase = corev1.PodFailed
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}
	}
	sidecar := func(p *corev1.Pod) {
		always := corev1.ContainerRestartPolicyAlways
		p.Spec.InitContainers = []corev1.Container{{Name: "init"}, {Name: "proxy", RestartPolicy: &always}}
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{
			{Name: "init", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}},
			running("proxy"),
		}
	}
	cfg := Config{Window: model.Duration(2 * time.Hour), LimitBytes: 1 << 20}
	c := newCheck(t, cfg, []string{"shop"}, s,
		pod("shop", "recent-restart", restartedAt(30*time.Minute)),
		pod("shop", "old-restart", restartedAt(3*time.Hour)),
		pod("shop", "crashloop", crashLooping),
		pod("shop", "creating", notStarted),
		pod("shop", "failed", failedWithRestarts),
		pod("shop", "with-sidecar", sidecar),
	)
	res := c.Run(context.Background())
	want := []string{
		"shop/crashloop/app", "shop/failed/app", "shop/old-restart/app", "shop/recent-restart/app",
		"shop/recent-restart/app/previous", "shop/with-sidecar/app", "shop/with-sidecar/proxy",
	}
	if got := s.sortedCalls(); !slices.Equal(got, want) {
		t.Errorf("log requests\n%v\nwant\n%v", got, want)
	}
	for key, o := range s.opts {
		if o.SinceSeconds == nil || *o.SinceSeconds != 7200 || o.LimitBytes == nil || *o.LimitBytes != 1<<20 ||
			o.Timestamps || o.Follow || o.Previous != strings.HasSuffix(key, "/previous") {
			t.Errorf("%s: options %+v", key, o)
		}
	}
	if !strings.Contains(res.Summary, "1 container not started") || res.Status != checks.OK {
		t.Errorf("result %s %q", res.Status, res.Summary)
	}
}

func TestCheckTopMinCountAllowList(t *testing.T) {
	s := newFakeStreamer()
	s.logs["shop/a/app"] = "ERROR one\nERROR two\nERROR two\nERROR three\nERROR three\nERROR three\nERROR four\nERROR four\nERROR four\nERROR four\n"
	s.logs["shop/a/sidecar"] = "ERROR from the sidecar\nERROR from the sidecar\n"
	cfg := Config{Top: 2, MinCount: 2, FailThreshold: 4, Containers: []string{"app"}}
	c := newCheck(t, cfg, []string{"shop"}, s, pod("shop", "a", containers("app", "sidecar")))
	res := c.Run(context.Background())
	if len(res.Findings) != 2 || res.Findings[0].Count != 4 || res.Findings[1].Count != 3 {
		t.Fatalf("findings %+v", res.Findings)
	}
	if res.Findings[0].Severity != checks.Fail || res.Findings[1].Severity != checks.Warn {
		t.Errorf("severities %s %s, want fail warn", res.Findings[0].Severity, res.Findings[1].Severity)
	}
	want := "1 container, 110 B read: 3 error signatures (10 events); top 2 shown, and 1 more signature"
	if res.Summary != want {
		t.Errorf("summary\n%q\nwant\n%q", res.Summary, want)
	}
	if calls := s.sortedCalls(); !slices.Equal(calls, []string{"shop/a/app"}) {
		t.Errorf("calls %v: the allow-list should leave the sidecar out", calls)
	}
}

func TestCheckUnreadableLogs(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pods/log"}, "b", errors.New(`User "opsbot" cannot get resource "pods/log"`))
	s := newFakeStreamer()
	s.logs["shop/a/app"] = "ERROR boom\n"
	s.errs["shop/b/app"] = forbidden
	objs := []runtime.Object{pod("shop", "a"), pod("shop", "b")}
	res := newCheck(t, Config{}, []string{"shop"}, s, objs...).Run(context.Background())
	if res.Status != checks.Warn || len(res.Findings) != 1 {
		t.Errorf("status %s, findings %+v", res.Status, res.Findings)
	}
	if !strings.Contains(res.Summary, `; 1 log unreadable (shop/b/app: pods/log "b" is forbidden: User "opsbot" cannot get resource "pods/log")`) {
		t.Errorf("summary %q", res.Summary)
	}

	// Nothing readable at all: Unknown.
	s.errs["shop/a/app"] = forbidden
	res = newCheck(t, Config{}, []string{"shop"}, s, objs...).Run(context.Background())
	if res.Status != checks.Unknown || !strings.HasPrefix(res.Summary, "no log could be read: 2 logs unreadable (shop/a/app: ") {
		t.Errorf("all unreadable: %s %q", res.Status, res.Summary)
	}
}

func TestCheckListErrors(t *testing.T) {
	client := fake.NewClientset(pod("ok", "a"))
	client.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == "secret" {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no access"))
		}
		return false, nil, nil
	})
	s := newFakeStreamer()
	s.logs["ok/a/app"] = "ERROR boom\n"
	res := New(client, []string{"secret"}, Config{}, clock, zap.NewNop(), WithStreamer(s)).Run(context.Background())
	if res.Status != checks.Unknown || res.Summary != `listing pods in secret: pods is forbidden: no access` {
		t.Errorf("%s %q", res.Status, res.Summary)
	}
	res = New(client, []string{"ok", "secret"}, Config{}, clock, zap.NewNop(), WithStreamer(s)).Run(context.Background())
	if res.Status != checks.Warn || !strings.HasSuffix(res.Summary, "; listing pods in secret: pods is forbidden: no access") {
		t.Errorf("%s %q", res.Status, res.Summary)
	}
}

func TestCheckNoPods(t *testing.T) {
	res := newCheck(t, Config{}, []string{"shop", "web"}, newFakeStreamer()).Run(context.Background())
	if res.Status != checks.OK || res.Summary != "no running pods in shop, web" {
		t.Errorf("%s %q", res.Status, res.Summary)
	}
}

func TestCheckBoundedConcurrency(t *testing.T) {
	const pods, concurrency = 20, 3
	s := newFakeStreamer()
	s.gate, s.gateAt = make(chan struct{}), concurrency
	var objs []runtime.Object
	for i := range pods {
		name := fmt.Sprintf("p%d", i)
		objs = append(objs, pod("shop", name, deployment("web", "5d4b8")))
		s.logs["shop/"+name+"/app"] = "ERROR boom\n"
	}
	res := newCheck(t, Config{Concurrency: concurrency}, []string{"shop"}, s, objs...).Run(context.Background())
	if s.maxInflight != concurrency {
		t.Errorf("at most %d streams open at once, want exactly %d", s.maxInflight, concurrency)
	}
	if s.closed != pods || len(res.Findings) != 1 || res.Findings[0].Count != pods {
		t.Errorf("closed %d bodies; findings %+v", s.closed, res.Findings)
	}
}

func TestCheckCancel(t *testing.T) {
	s := newFakeStreamer()
	s.block = true
	s.gate, s.gateAt = make(chan struct{}), 2
	var objs []runtime.Object
	for i := range 10 {
		objs = append(objs, pod("shop", fmt.Sprintf("p%d", i)))
	}
	c := newCheck(t, Config{Concurrency: 2}, []string{"shop"}, s, objs...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan checks.Result)
	go func() { done <- c.Run(ctx) }()
	<-s.gate // two streams are open and blocked
	cancel()
	res := <-done
	if res.Status != checks.Unknown || !strings.Contains(res.Summary, "context canceled") {
		t.Errorf("%s %q", res.Status, res.Summary)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != 0 || len(s.calls) != 2 {
		t.Errorf("%d streams still open, %d opened: want 0 and 2", s.inflight, len(s.calls))
	}
}

func TestCheckCutAtLimitBytes(t *testing.T) {
	s := newFakeStreamer()
	s.logs["shop/a/app"] = strings.Repeat("INFO fine\n", 200) // 2,000 bytes: the limit
	res := newCheck(t, Config{LimitBytes: 2000}, []string{"shop"}, s, pod("shop", "a")).Run(context.Background())
	want := "1 container, 2.0 kB read: no errors; 1 log cut at limitBytes (2000 B: only the start of the window read)"
	if res.Status != checks.OK || res.Summary != want {
		t.Errorf("%s %q, want %q", res.Status, res.Summary, want)
	}
}

func TestCheckExclude(t *testing.T) {
	s := newFakeStreamer()
	s.logs["shop/a/app"] = "ERROR health probe failed\nERROR real\n"
	res := newCheck(t, Config{Exclude: []string{"health probe"}}, []string{"shop"}, s, pod("shop", "a")).Run(context.Background())
	if len(res.Findings) != 1 || res.Findings[0].Title != "app (Pod shop/a): 1× `ERROR real`" {
		t.Errorf("findings %+v", res.Findings)
	}
}

func TestCheckInvalidConfig(t *testing.T) {
	res := newCheck(t, Config{Exclude: []string{"("}}, []string{"shop"}, newFakeStreamer(), pod("shop", "a")).Run(context.Background())
	if res.Status != checks.Unknown || !strings.HasPrefix(res.Summary, "invalid configuration: exclude[0]: invalid regexp") {
		t.Errorf("%s %q", res.Status, res.Summary)
	}
}

// TestKubeStreamer reads logs through the fake clientset's pods/log, the
// default path.
func TestKubeStreamer(t *testing.T) {
	client := fake.NewClientset(pod("shop", "a", ownedBy("StatefulSet", "s")), pod("shop", "b", ownedBy("StatefulSet", "s")))
	var mu sync.Mutex
	var seen []corev1.PodLogOptions
	client.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ga, ok := a.(k8stesting.GenericAction)
		if !ok || a.GetSubresource() != "log" {
			return false, nil, nil
		}
		mu.Lock()
		seen = append(seen, *ga.GetValue().(*corev1.PodLogOptions))
		mu.Unlock()
		return true, &runtime.Unknown{Raw: []byte("ERROR from the fake kubelet 42\n")}, nil
	})
	c := New(client, []string{"shop"}, Config{Window: model.Duration(time.Hour)}, clock, zap.NewNop())
	res := c.Run(context.Background())
	if len(res.Findings) != 1 || res.Findings[0].Count != 2 || res.Findings[0].Fingerprint == "" {
		t.Fatalf("findings %+v (%s)", res.Findings, res.Summary)
	}
	if len(seen) != 2 || *seen[0].SinceSeconds != 3600 || *seen[0].LimitBytes != int64(DefaultLimitBytes) || seen[0].Container != "app" {
		t.Errorf("options %+v", seen)
	}

	// Without a reactor the fake answers "fake logs": no errors.
	res = New(fake.NewClientset(pod("shop", "a")), []string{"shop"}, Config{}, clock, nil).Run(context.Background())
	if res.Status != checks.OK || res.Summary != "1 container, 9 B read: no errors" {
		t.Errorf("%s %q", res.Status, res.Summary)
	}
}

func TestPodOwner(t *testing.T) {
	for _, tc := range []struct {
		pod  *corev1.Pod
		want owner
	}{
		{pod("ns", "api-7d9f8c6b5-x2x9q", deployment("api", "7d9f8c6b5")), owner{"Deployment", "api"}},
		{pod("ns", "api-x", ownedBy("ReplicaSet", "api-7d9f8c6b5")), owner{"ReplicaSet", "api-7d9f8c6b5"}},
		{pod("ns", "db-0", ownedBy("StatefulSet", "db")), owner{"StatefulSet", "db"}},
		{pod("ns", "agent-abcde", ownedBy("DaemonSet", "agent")), owner{"DaemonSet", "agent"}},
		{pod("ns", "migrate-xyz", ownedBy("Job", "migrate")), owner{"Job", "migrate"}},
		{pod("ns", "backup-29012345-abcde", ownedBy("Job", "backup-29012345")), owner{"CronJob", "backup"}},
		{pod("ns", "db-v2-1234-x", ownedBy("Job", "db-v2-1234")), owner{"Job", "db-v2-1234"}},
		{pod("ns", "kube-apiserver-node1", ownedBy("Node", "node1")), owner{"Pod", "kube-apiserver-node1"}},
		{pod("ns", "debug"), owner{"Pod", "debug"}},
		{pod("ns", "r-1", ownedBy("Rollout", "r")), owner{"Rollout", "r"}},
	} {
		if got := podOwner(tc.pod); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.pod.Name, got, tc.want)
		}
	}
}

func TestCheckNameAndTimeout(t *testing.T) {
	c := New(fake.NewClientset(), []string{"shop"}, Config{}, nil, nil)
	if c.Name() != "logs" || c.Timeout() != DefaultTimeout {
		t.Errorf("%s %s", c.Name(), c.Timeout())
	}
	c = New(fake.NewClientset(), []string{"shop"}, Config{Timeout: model.Duration(5 * time.Second)}, nil, nil)
	if c.Timeout() != 5*time.Second {
		t.Errorf("timeout %s", c.Timeout())
	}
}

func TestThousandsAndBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1204: "1,204", 1234567: "1,234,567", -1204: "-1,204"} {
		if got := checks.Thousands(n); got != want {
			t.Errorf("checks.Thousands(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{512: "512 B", 2000: "2.0 kB", 38_400_000: "38.4 MB", 1_200_000_000: "1.2 GB"} {
		if got := checks.HumanBytes(n); got != want {
			t.Errorf("checks.HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCheckBrokenStream(t *testing.T) {
	s := newFakeStreamer()
	s.logs["shop/a/app"] = "ERROR boom\n"
	c := newCheck(t, Config{}, []string{"shop"}, s, pod("shop", "a"))
	c.streamer = brokenStreamer{s}
	res := c.Run(context.Background())
	if len(res.Findings) != 1 || !strings.HasSuffix(res.Summary, "; 1 log broken off (shop/a/app: unexpected EOF)") {
		t.Errorf("%s %q %+v", res.Status, res.Summary, res.Findings)
	}
}

// brokenStreamer's bodies fail after their content.
type brokenStreamer struct{ f *fakeStreamer }

func (b brokenStreamer) Stream(ctx context.Context, ns, podName string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	body, err := b.f.Stream(ctx, ns, podName, opts)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(body, iotest.ErrReader(io.ErrUnexpectedEOF)), body}, nil
}

func TestSignatureIDIsShortAndStable(t *testing.T) {
	long := strings.Repeat("ERROR something went wrong with N ", 20)
	id := signatureID(long)
	if id != signatureID(long) || len(id) != len("sig:")+12 || id == signatureID(long+"x") {
		t.Errorf("signatureID(%d chars) = %q: want a stable 12-hex id that differs between signatures", len(long), id)
	}
}

// firstStream wraps a LogStreamer and closes started at its first request.
type firstStream struct {
	LogStreamer
	once    sync.Once
	started chan struct{}
}

func (f *firstStream) Stream(ctx context.Context, ns, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	f.once.Do(func() { close(f.started) })
	return f.LogStreamer.Stream(ctx, ns, pod, opts)
}

// The logs of a page are read while the next page is on its way: the
// API server below does not answer the second page until a log has been
// requested.
func TestCheckReadsWhileListing(t *testing.T) {
	s := newFakeStreamer()
	s.logs["shop/a/app"] = "ERROR boom\n"
	s.logs["shop/b/app"] = "ERROR boom\n"
	fs := &firstStream{LogStreamer: s, started: make(chan struct{})}
	client := fake.NewClientset()
	client.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		opts := a.(k8stesting.ListActionImpl).ListOptions
		if opts.Continue == "" {
			list := &corev1.PodList{Items: []corev1.Pod{*pod("shop", "a", deployment("web", "5d4b8"))}}
			list.Continue = "page-2"
			return true, list, nil
		}
		select {
		case <-fs.started:
			return true, &corev1.PodList{Items: []corev1.Pod{*pod("shop", "b", deployment("web", "5d4b8"))}}, nil
		case <-time.After(5 * time.Second):
			return true, nil, errors.New("no log was read while the pods were being listed")
		}
	})
	res := New(client, []string{"shop"}, Config{}, clock, zap.NewNop(), WithStreamer(fs)).Run(context.Background())
	if res.Status != checks.Warn || len(res.Findings) != 1 || res.Findings[0].Count != 2 || strings.Contains(res.Summary, "listing") {
		t.Errorf("%s %q %+v", res.Status, res.Summary, res.Findings)
	}
}
