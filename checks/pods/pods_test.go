package pods

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/opsbot/opsbot/checks"
)

var model48h = model.Duration(48 * time.Hour)

func crashing(name string) *corev1.Pod {
	return pod(name, ofDeployment("api", "7d9f8c6b5"), waiting("app", "CrashLoopBackOff", backoff))
}

// listActions returns the List actions the fake clientset saw.
func listActions(cs *fake.Clientset) []k8stesting.ListActionImpl {
	var out []k8stesting.ListActionImpl
	for _, a := range cs.Actions() {
		if la, ok := a.(k8stesting.ListActionImpl); ok {
			out = append(out, la)
		}
	}
	return out
}

// The fake clientset ignores paging: a reactor serves the pods in pages of
// Limit, with the offset as continue token, and records what it was asked.
func TestPagination(t *testing.T) {
	var all []corev1.Pod
	for i := range 7 {
		all = append(all, *crashing(fmt.Sprintf("api-7d9f8c6b5-%02d", i)))
	}
	c, cs := newCheck(t, Config{PageSize: 3})
	type call struct {
		limit int64
		cont  string
	}
	var calls []call
	cs.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		opts := a.(k8stesting.ListActionImpl).ListOptions
		calls = append(calls, call{opts.Limit, opts.Continue})
		from := 0
		if opts.Continue != "" {
			from, _ = strconv.Atoi(opts.Continue)
		}
		to := min(from+int(opts.Limit), len(all))
		list := &corev1.PodList{Items: all[from:to]}
		if to < len(all) {
			list.Continue = strconv.Itoa(to)
		}
		return true, list, nil
	})

	res := c.Run(context.Background())
	want := []call{{3, ""}, {3, "3"}, {3, "6"}}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("pod list calls %+v, want %+v", calls, want)
	}
	if want := "7 pods in shop: 1 problem"; res.Summary != want {
		t.Errorf("summary %q, want %q", res.Summary, want)
	}
	if len(res.Findings) != 1 || res.Findings[0].Count != 7 {
		t.Errorf("want one finding with count 7, got %v", briefs(res.Findings))
	}
	// One List per kind per namespace (plus pages), each with the limit.
	perKind := map[string]int{}
	for _, la := range listActions(cs) {
		perKind[la.Resource.Resource]++
		if la.ListOptions.Limit != 3 {
			t.Errorf("list %s without the page size: limit %d", la.Resource.Resource, la.ListOptions.Limit)
		}
	}
	if want := map[string]int{"pods": 3, "deployments": 1, "statefulsets": 1, "jobs": 1, "cronjobs": 1}; !reflect.DeepEqual(perKind, want) {
		t.Errorf("list calls per kind %v, want %v", perKind, want)
	}
}

func TestDefaultPageSize(t *testing.T) {
	c, cs := newCheck(t, Config{}, pod("a"))
	c.Run(context.Background())
	for _, la := range listActions(cs) {
		if la.ListOptions.Limit != DefaultPageSize {
			t.Errorf("list %s: limit %d, want %d", la.Resource.Resource, la.ListOptions.Limit, DefaultPageSize)
		}
	}
}

// A server that keeps returning the same continue token does not loop the
// check forever.
func TestPaginationLoop(t *testing.T) {
	c, cs := newCheck(t, Config{})
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		list := &corev1.PodList{Items: []corev1.Pod{*pod("x")}}
		list.Continue = "same"
		return true, list, nil
	})
	res := c.Run(context.Background())
	if res.Status != checks.Unknown || !strings.Contains(res.Summary, "could not list pods in shop: the API server returned the same continue token twice") {
		t.Errorf("got %s %q", res.Status, res.Summary)
	}
}

func forbidden(resource string) error {
	return apierrors.NewForbidden(schema.GroupResource{Group: "batch", Resource: resource}, "",
		fmt.Errorf(`User "system:serviceaccount:ops:opsbot" cannot list resource %q in API group "batch" in the namespace "shop"`, resource))
}

func TestListErrors(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://admin:s3cret@10.0.0.1:6443/api/v1/namespaces/shop/pods?limit=500",
		Err: errors.New("dial tcp 10.0.0.1:6443: connect: connection refused")}
	tests := []struct {
		name       string
		namespaces []string
		objs       []runtime.Object
		fail       map[string]error // resource → error
		wantStatus checks.Status
		wantSum    string
		wantN      int
	}{
		{
			name:       "cronjobs forbidden: the rest is reported, the status is Unknown",
			objs:       []runtime.Object{pod("a")},
			fail:       map[string]error{"cronjobs": forbidden("cronjobs")},
			wantStatus: checks.Unknown,
			wantSum:    "1 pod in shop: no problems seen; could not list cronjobs in shop: forbidden (the account may not list them: check its Role)",
		},
		{
			name:       "a Fail finding still makes it Fail",
			objs:       []runtime.Object{crashing("api-7d9f8c6b5-a")},
			fail:       map[string]error{"cronjobs": forbidden("cronjobs"), "jobs": forbidden("jobs")},
			wantStatus: checks.Fail,
			wantSum:    "1 pod in shop: 1 problem; could not list jobs, cronjobs in shop: forbidden (the account may not list them: check its Role)",
			wantN:      1,
		},
		{
			name:       "several namespaces, several reasons",
			namespaces: []string{"shop", "billing"},
			objs:       []runtime.Object{pod("a")},
			fail: map[string]error{
				"cronjobs":     forbidden("cronjobs"),
				"statefulsets": apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "statefulsets"}, ""),
			},
			wantStatus: checks.Unknown,
			wantSum: "1 pod in 2 namespaces: no problems seen; no pods in billing; " +
				"could not list statefulsets in shop, billing: not found (the API server does not serve this resource); " +
				"could not list cronjobs in shop, billing: forbidden (the account may not list them: check its Role)",
		},
		{
			name:       "nothing listed: Unknown with the reason, no URL or credentials",
			fail:       map[string]error{"*": refused},
			wantStatus: checks.Unknown,
			wantSum:    "could not list pods, deployments, statefulsets, jobs, cronjobs in shop: dial tcp 10.0.0.1:6443: connect: connection refused",
		},
		{
			name:       "unauthorized",
			fail:       map[string]error{"*": apierrors.NewUnauthorized("Unauthorized")},
			wantStatus: checks.Unknown,
			wantSum:    "could not list pods, deployments, statefulsets, jobs, cronjobs in shop: unauthorized (the API server rejected the credentials)",
		},
		{
			name:       "another API error is quoted",
			fail:       map[string]error{"pods": apierrors.NewTooManyRequests("too many requests, please try again later", 1)},
			wantStatus: checks.Unknown,
			wantSum:    "0 pods in shop: no problems seen; could not list pods in shop: too many requests, please try again later",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			namespaces := tt.namespaces
			if namespaces == nil {
				namespaces = []string{ns}
			}
			cs := fake.NewClientset(tt.objs...)
			for resource, err := range tt.fail {
				cs.PrependReactor("list", resource, func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, err
				})
			}
			c, err := New(cs, namespaces, Config{}, clock, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			res := c.Run(context.Background())
			if res.Status != tt.wantStatus || res.Summary != tt.wantSum || len(res.Findings) != tt.wantN {
				t.Errorf("got %s %q with %d findings\nwant %s %q with %d", res.Status, res.Summary, len(res.Findings),
					tt.wantStatus, tt.wantSum, tt.wantN)
			}
			if strings.Contains(res.Summary, "s3cret") || strings.Contains(res.Summary, "https://") {
				t.Errorf("summary leaks the URL: %q", res.Summary)
			}
		})
	}
}

func TestContextDone(t *testing.T) {
	t.Run("cancelled before the start: no calls, Unknown with the cause", func(t *testing.T) {
		c, cs := newCheck(t, Config{}, crashing("api-7d9f8c6b5-a"))
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(errors.New("checklist cancelled by the user"))
		res := c.Run(ctx)
		if n := len(cs.Actions()); n != 0 {
			t.Errorf("%d API calls after cancellation", n)
		}
		want := "could not list pods, deployments, statefulsets, jobs, cronjobs in shop: stopped: checklist cancelled by the user"
		if res.Status != checks.Unknown || res.Summary != want {
			t.Errorf("got %s %q, want Unknown %q", res.Status, res.Summary, want)
		}
	})
	for _, tt := range []struct {
		name       string
		objs       []runtime.Object
		wantStatus checks.Status
		wantSum    string
	}{
		{"cancelled half-way: what was seen is reported", []runtime.Object{crashing("api-7d9f8c6b5-a")}, checks.Fail,
			"1 pod in shop: 1 problem; could not list statefulsets, jobs, cronjobs in shop: stopped: deadline"},
		{"cancelled half-way, nothing wrong so far: Unknown", []runtime.Object{pod("a")}, checks.Unknown,
			"1 pod in shop: no problems seen; could not list statefulsets, jobs, cronjobs in shop: stopped: deadline"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, cs := newCheck(t, Config{}, tt.objs...)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			cs.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
				cancel(errors.New("deadline"))
				return false, nil, nil
			})
			res := c.Run(ctx)
			if res.Status != tt.wantStatus || res.Summary != tt.wantSum {
				t.Errorf("got %s %q, want %s %q", res.Status, res.Summary, tt.wantStatus, tt.wantSum)
			}
			for _, la := range listActions(cs) {
				if r := la.Resource.Resource; r != "pods" && r != "deployments" {
					t.Errorf("listed %s after cancellation", r)
				}
			}
		})
	}
}

func TestSummaryAndNamespaces(t *testing.T) {
	cs := fake.NewClientset(
		crashing("api-7d9f8c6b5-a"),
		pod("b"),
		func() runtime.Object {
			p := crashing("api-7d9f8c6b5-a")
			p.Namespace = "billing"
			return p
		}(),
	)
	c, err := New(cs, []string{"shop", "billing"}, Config{}, clock, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	res := c.Run(context.Background())
	if want := "3 pods in 2 namespaces: 2 problems"; res.Summary != want {
		t.Errorf("summary %q, want %q", res.Summary, want)
	}
	sameLines(t, "findings", briefs(res.Findings), []string{
		"fail pods/billing/Deployment/api/app/CrashLoopBackOff | Deployment billing/api: 1/1 pod in CrashLoopBackOff (container app) | count=1",
		"fail pods/shop/Deployment/api/app/CrashLoopBackOff | Deployment shop/api: 1/1 pod in CrashLoopBackOff (container app) | count=1",
	})
	if res.Status != checks.Fail {
		t.Errorf("status %s", res.Status)
	}
}

// Findings come out in the same order whatever the order of the API's
// lists: severity, then object, then fingerprint.
func TestDeterministicOrder(t *testing.T) {
	objs := []runtime.Object{
		crashing("api-7d9f8c6b5-a"), crashing("api-7d9f8c6b5-b"),
		pod("web-1-a", ofDeployment("web", "1"), lastExit("app", "OOMKilled", 137, time.Hour, 9)),
		pod("zeta", waiting("app", "ImagePullBackOff", "")),
		pod("alpha", notReadySince(time.Hour, "")),
		pod("db-0", ownedBy("StatefulSet", "db"), pending(time.Hour, "Unschedulable", "no nodes")),
		statefulSet("db", 1, 0),
	}
	first := run(t, Config{}, objs...)
	for i := range 5 {
		shuffled := append([]runtime.Object(nil), objs...)
		r := rand.New(rand.NewPCG(uint64(i), 1))
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if got := run(t, Config{}, shuffled...); !reflect.DeepEqual(got, first) {
			t.Fatalf("order %d differs:\n%v\nvs\n%v", i, briefs(got.Findings), briefs(first.Findings))
		}
	}
	var sev []checks.Status
	for _, f := range first.Findings {
		sev = append(sev, f.Severity)
	}
	for i := 1; i < len(sev); i++ {
		if sev[i] > sev[i-1] {
			t.Errorf("findings not sorted by severity: %v", briefs(first.Findings))
		}
	}
}

func TestLink(t *testing.T) {
	cfg := Config{Link: "https://grafana.example.com/d/pods?var-ns={namespace}&var-workload={object}"}
	res := run(t, cfg, crashing("api-7d9f8c6b5-a"), deployment("api", 1, 0))
	if len(res.Findings) != 2 {
		t.Fatalf("findings %v", briefs(res.Findings))
	}
	for _, f := range res.Findings {
		if want := "https://grafana.example.com/d/pods?var-ns=shop&var-workload=api"; f.Link != want {
			t.Errorf("%s: link %q, want %q", f.Fingerprint, f.Link, want)
		}
	}
	if got := expandLink("https://k/{object}?q={namespace}", "a b", "x&y=z"); got != "https://k/x%26y%3Dz?q=a+b" {
		t.Errorf("expandLink does not escape: %q", got)
	}
	if res := run(t, Config{}, crashing("api-7d9f8c6b5-a")); res.Findings[0].Link != "" {
		t.Errorf("link without a template: %q", res.Findings[0].Link)
	}
}

func TestConfig(t *testing.T) {
	var c Config
	c.SetDefaults()
	want := Config{
		RestartThreshold: 5,
		PendingAfter:     model.Duration(10 * time.Minute),
		NotReadyAfter:    model.Duration(10 * time.Minute),
		RolloutGrace:     model.Duration(10 * time.Minute),
		Timeout:          model.Duration(20 * time.Second),
		PageSize:         500,
	}
	if c != want {
		t.Errorf("defaults %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}

	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{RestartThreshold: -1}, "restartThreshold: must be at least 1, got -1"},
		{Config{PendingAfter: -1}, "pendingAfter: must be positive, got"},
		{Config{NotReadyAfter: -1}, "notReadyAfter: must be positive"},
		{Config{RolloutGrace: -1}, "rolloutGrace: must be positive"},
		{Config{Timeout: -1}, "timeout: must be positive"},
		{Config{Window: -1}, "window: must be positive"},
		{Config{PageSize: -5}, "pageSize: must be between 1 and 10000, got -5"},
		{Config{PageSize: 100000}, "pageSize: must be between 1 and 10000, got 100000"},
		{Config{Link: "grafana/{namespace}"}, "link: "},
		{Config{Link: "https://g/{pod}"}, "link: unknown placeholder {pod} (want {namespace} or {object})"},
		{Config{Link: "https://g/?ns={namespace}&w={object}"}, ""},
	} {
		tt.cfg.SetDefaults()
		err := tt.cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tt.cfg, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want prefix %q", tt.cfg, err, tt.want)
		}
	}
}

func TestNew(t *testing.T) {
	cs := fake.NewClientset()
	for _, tt := range []struct {
		name string
		err  func() error
		want string
	}{
		{"nil client", func() error { _, err := New(nil, []string{ns}, Config{}, nil, nil); return err }, "pods: no Kubernetes client"},
		{"no namespaces", func() error { _, err := New(cs, nil, Config{}, nil, nil); return err }, "pods: no namespaces to look at"},
		{"empty namespace", func() error { _, err := New(cs, []string{""}, Config{}, nil, nil); return err }, "pods: namespaces[0] is empty"},
		{"duplicate", func() error { _, err := New(cs, []string{"a", "a"}, Config{}, nil, nil); return err }, `pods: namespace "a" is listed twice`},
		{"bad config", func() error { _, err := New(cs, []string{"a"}, Config{RestartThreshold: -2}, nil, nil); return err }, "restartThreshold: must be at least 1, got -2"},
	} {
		if err := tt.err(); err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}

	c, err := New(cs, []string{ns}, Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var _ checks.Check = c
	var _ checks.Timed = c
	if c.Name() != "pods" || c.Timeout() != DefaultTimeout || c.cfg.Window != model.Duration(DefaultWindow) {
		t.Errorf("name %q, timeout %s, window %s", c.Name(), c.Timeout(), c.cfg.Window)
	}
	c, _ = New(cs, []string{ns}, Config{Window: model48h, Timeout: model.Duration(time.Minute)}, nil, nil)
	if c.Timeout() != time.Minute || c.cfg.Window != model48h {
		t.Errorf("timeout %s, window %s", c.Timeout(), c.cfg.Window)
	}
}

// A List that fails part way keeps the pages it got.
func TestPaginationPartial(t *testing.T) {
	c, cs := newCheck(t, Config{PageSize: 1})
	cs.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.(k8stesting.ListActionImpl).ListOptions.Continue == "" {
			list := &corev1.PodList{Items: []corev1.Pod{*crashing("api-7d9f8c6b5-a")}}
			list.Continue = "1"
			return true, list, nil
		}
		return true, nil, apierrors.NewResourceExpired("The provided continue parameter is too old")
	})
	res := c.Run(context.Background())
	want := "1 pod in shop: 1 problem; could not list pods in shop: The provided continue parameter is too old"
	if res.Status != checks.Fail || res.Summary != want || len(res.Findings) != 1 {
		t.Errorf("got %s %q %v, want Fail %q", res.Status, res.Summary, briefs(res.Findings), want)
	}
}

// When Jobs cannot be listed, a pod of a CronJob's Job is still reported
// under the CronJob, so that its fingerprint does not change.
func TestCronJobPodsWithoutJobs(t *testing.T) {
	c, cs := newCheck(t, Config{}, cronJob("report", false),
		pod("report-29383920-x", ownedBy("Job", "report-29383920"), waiting("app", "CrashLoopBackOff", "")),
		pod("other-29383920-x", ownedBy("Job", "other-29383920"), waiting("app", "CrashLoopBackOff", "")))
	cs.PrependReactor("list", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, forbidden("jobs")
	})
	res := c.Run(context.Background())
	sameLines(t, "findings", briefs(res.Findings), []string{
		"fail pods/shop/CronJob/report/app/CrashLoopBackOff | CronJob shop/report: 1/1 pod in CrashLoopBackOff (container app) | count=1",
		"fail pods/shop/Job/other-29383920/app/CrashLoopBackOff | Job shop/other-29383920: 1/1 pod in CrashLoopBackOff (container app) | count=1",
	})
	if !strings.HasSuffix(res.Summary, "could not list jobs in shop: forbidden (the account may not list them: check its Role)") {
		t.Errorf("summary %q", res.Summary)
	}
}

// An empty namespace among several is named: a misspelt namespace would
// otherwise look healthy forever.
func TestEmptyNamespace(t *testing.T) {
	c, err := New(fake.NewClientset(pod("a")), []string{"shop", "billing"}, Config{}, clock, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	res := c.Run(context.Background())
	if want := "1 pod in 2 namespaces: all healthy; no pods in billing"; res.Summary != want || res.Status != checks.OK {
		t.Errorf("got %s %q, want OK %q", res.Status, res.Summary, want)
	}
}
