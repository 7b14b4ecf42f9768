package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/opsbot/opsbot/testenv"
)

// TestApply applies the base and the ha overlay to a fresh kube-apiserver
// each (RBAC on, PodSecurity admission on), with the watched namespaces
// under the restricted profile, then requires that
//   - the apply succeeds without PodSecurity warnings, and again (idempotent);
//   - a pod made from the Deployment's template is admitted in opsbot's
//     restricted namespace, and the same pod made less safe is refused, so
//     the admission is really enforcing;
//   - opsbot's ServiceAccount, with a token from the TokenRequest API, can
//     do exactly what the checks and the Lease need, and nothing else.
//
// "documented" applies the base with the README's command, client-side
// `kubectl apply -k deploy/`, which failed on a fresh cluster before the
// Namespace was part of the base.
func TestApply(t *testing.T) {
	kubectl := kubectlPath(t)
	cases := []struct {
		name string
		v    variant
		// apply returns kubectl's arguments after --kubeconfig.
		apply func(rendered string) []string
	}{
		{"base", base, func(r string) []string { return []string{"apply", "--server-side", "-f", r} }},
		{"ha", ha, func(r string) []string { return []string{"apply", "--server-side", "-f", r} }},
		{"documented", base, func(string) []string { return []string{"apply", "-k", "."} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := render(t, kubectl, tc.v)
			d := inspect(t, m)
			ns := d.deploy.Namespace

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			start := time.Now()
			k, err := testenv.StartKube(ctx, testenv.KubeOptions{KubectlPath: kubectl})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = k.Stop() })
			t.Logf("kube-apiserver ready in %v", time.Since(start).Round(time.Millisecond))
			admin := k.Client()

			// The watched namespaces are the applications': they exist
			// before opsbot, here under the restricted profile.
			for _, w := range d.watched {
				if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
					Name: w, Labels: map[string]string{restrictedLabel: "restricted"},
				}}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}

			dir := t.TempDir()
			kubeconfig := filepath.Join(dir, "kubeconfig")
			if err := k.WriteKubeconfig(kubeconfig, testenv.AdminUser); err != nil {
				t.Fatal(err)
			}
			rendered := filepath.Join(dir, "rendered.yaml")
			if err := os.WriteFile(rendered, m.yaml, 0o600); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				var stdout, stderr bytes.Buffer
				cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig}, tc.apply(rendered)...)...)
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("apply #%d: %v\n%s%s", i+1, err, stdout.String(), stderr.String())
				}
				if strings.Contains(stderr.String(), "PodSecurity") {
					t.Errorf("apply #%d warns:\n%s", i+1, stderr.String())
				}
				if i == 0 {
					t.Logf("applied:\n%s", stdout.String())
				}
			}

			n, err := admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if n.Labels[restrictedLabel] != "restricted" {
				t.Fatalf("namespace %s: %s=%q after apply, want restricted", ns, restrictedLabel, n.Labels[restrictedLabel])
			}
			if _, err := admin.AppsV1().Deployments(ns).Get(ctx, d.deploy.Name, metav1.GetOptions{}); err != nil {
				t.Fatal(err)
			}

			checkAdmission(t, ctx, admin, d, k.NodeName())
			checkAccess(t, ctx, k, d)
		})
	}
}

// checkAdmission creates a pod from the Deployment's template in its
// restricted namespace (on the stub node: only admission matters), then
// pods that break the profile one field at a time, which must be refused.
func checkAdmission(t *testing.T, ctx context.Context, admin kubernetes.Interface, d deployed, node string) {
	t.Helper()
	ns := d.deploy.Namespace
	pod := func(name string) *corev1.Pod {
		tmpl := d.deploy.Spec.Template.DeepCopy()
		spec := tmpl.Spec
		spec.NodeName = node
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: tmpl.Labels}, Spec: spec}
	}
	if _, err := admin.CoreV1().Pods(ns).Create(ctx, pod("from-template"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("a pod from the Deployment's template is refused in %s: %v", ns, err)
	}
	for _, bad := range []struct {
		name   string
		mutate func(*corev1.Pod)
	}{
		{"privilege-escalation", func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptr(true) }},
		{"capabilities", func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.Capabilities = nil }},
		{"root", func(p *corev1.Pod) {
			p.Spec.SecurityContext.RunAsNonRoot, p.Spec.Containers[0].SecurityContext.RunAsNonRoot = nil, nil
			p.Spec.SecurityContext.RunAsUser, p.Spec.Containers[0].SecurityContext.RunAsUser = ptr[int64](0), ptr[int64](0)
		}},
		{"seccomp", func(p *corev1.Pod) {
			p.Spec.SecurityContext.SeccompProfile, p.Spec.Containers[0].SecurityContext.SeccompProfile = nil, nil
		}},
	} {
		p := pod("without-" + bad.name)
		bad.mutate(p)
		_, err := admin.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "PodSecurity") {
			t.Errorf("a pod %s: %v, want forbidden by PodSecurity (is the namespace enforcing?)", p.Name, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// access is one request opsbot's ServiceAccount might make.
type access struct {
	ns, verb, group, resource, subresource, name string
}

func (a access) String() string {
	r := a.resource
	if a.group != "" {
		r += "." + a.group
	}
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	if a.name != "" {
		r += " " + a.name
	}
	where := "cluster-wide"
	if a.ns != "" {
		where = "in " + a.ns
	}
	return fmt.Sprintf("%s %s %s", a.verb, r, where)
}

// checkAccess asks the apiserver, as the ServiceAccount, what it may do:
// SelfSubjectAccessReviews for what the checks need and for what they must
// never do, and SelfSubjectRulesReviews for everything it may do in each
// namespace.
func checkAccess(t *testing.T, ctx context.Context, k *testenv.Kube, d deployed) {
	t.Helper()
	ns, sa := d.deploy.Namespace, d.deploy.Spec.Template.Spec.ServiceAccountName
	tr, err := k.Client().CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	asBot, err := kubernetes.NewForConfig(k.ConfigForToken(tr.Status.Token))
	if err != nil {
		t.Fatal(err)
	}
	allowed := func(a access) bool {
		t.Helper()
		r, err := asBot.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: a.ns, Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource, Name: a.name,
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		return r.Status.Allowed
	}

	lease := "opsbot-scheduler"
	var want, deny []access
	for _, w := range d.watched {
		want = append(want,
			access{w, "list", "", "pods", "", ""},
			access{w, "get", "", "pods", "log", ""},
			access{w, "list", "apps", "deployments", "", ""},
			access{w, "list", "apps", "statefulsets", "", ""},
			access{w, "list", "batch", "jobs", "", ""},
			access{w, "list", "batch", "cronjobs", "", ""},
			access{w, "list", "aquasecurity.github.io", "vulnerabilityreports", "", ""},
		)
		deny = append(deny,
			access{w, "get", "", "secrets", "", ""},
			access{w, "list", "", "secrets", "", ""},
			access{w, "get", "", "configmaps", "", ""},
			access{w, "create", "", "pods", "exec", ""},
			access{w, "get", "", "pods", "exec", ""},
			access{w, "create", "", "pods", "portforward", ""},
			access{w, "create", "", "pods", "eviction", ""},
			access{w, "delete", "", "pods", "", ""},
			access{w, "create", "", "pods", "", ""},
			access{w, "get", "", "pods", "", ""},
			access{w, "watch", "", "pods", "", ""},
			access{w, "patch", "apps", "deployments", "", ""},
			access{w, "update", "apps", "deployments", "scale", ""},
			access{w, "delete", "batch", "jobs", "", ""},
			access{w, "create", "rbac.authorization.k8s.io", "rolebindings", "", ""},
			access{w, "get", "aquasecurity.github.io", "vulnerabilityreports", "", ""},
			access{w, "watch", "aquasecurity.github.io", "vulnerabilityreports", "", ""},
			access{w, "delete", "aquasecurity.github.io", "vulnerabilityreports", "", ""},
			access{w, "list", "aquasecurity.github.io", "configauditreports", "", ""},
			access{w, "list", "aquasecurity.github.io", "exposedsecretreports", "", ""},
		)
	}
	want = append(want,
		access{ns, "create", "coordination.k8s.io", "leases", "", ""},
		access{ns, "get", "coordination.k8s.io", "leases", "", lease},
		access{ns, "update", "coordination.k8s.io", "leases", "", lease},
	)
	deny = append(deny,
		// Not even its own Slack tokens: they arrive as environment
		// variables.
		access{ns, "get", "", "secrets", "", "opsbot-slack"},
		access{ns, "list", "", "secrets", "", ""},
		access{ns, "get", "coordination.k8s.io", "leases", "", "another-lease"},
		access{ns, "update", "coordination.k8s.io", "leases", "", "another-lease"},
		access{ns, "delete", "coordination.k8s.io", "leases", "", lease},
		access{ns, "list", "", "pods", "", ""},
		access{ns, "create", "", "pods", "exec", ""},
		access{"", "list", "", "namespaces", "", ""},
		access{"", "list", "", "nodes", "", ""},
		access{"", "list", "", "pods", "", ""},
		access{"", "get", "", "secrets", "", ""},
	)
	for _, other := range []string{"default", "kube-system"} {
		deny = append(deny,
			access{other, "list", "", "pods", "", ""},
			access{other, "get", "", "pods", "log", ""},
			access{other, "list", "apps", "deployments", "", ""},
			access{other, "get", "", "secrets", "", ""},
			access{other, "list", "aquasecurity.github.io", "vulnerabilityreports", "", ""},
		)
	}

	// RBAC's authorizer sees new bindings through an informer: wait until
	// the first grant shows, then ask everything once.
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !allowed(want[0]) {
		if time.Now().After(deadline) {
			break
		}
		<-tick.C
	}
	for _, a := range want {
		if !allowed(a) {
			t.Errorf("the ServiceAccount may not %s", a)
		}
	}
	for _, a := range deny {
		if allowed(a) {
			t.Errorf("the ServiceAccount may %s", a)
		}
	}

	// Everything it may do, namespace by namespace, besides asking about
	// itself (system:basic-user grants every authenticated user that).
	rules := func(namespace string) []string {
		t.Helper()
		r, err := asBot.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, &authorizationv1.SelfSubjectRulesReview{
			Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: namespace},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Incomplete {
			t.Fatalf("rules in %s: incomplete: %s", namespace, r.Status.EvaluationError)
		}
		var out []string
		for _, rule := range r.Status.ResourceRules {
			for _, g := range rule.APIGroups {
				for _, res := range rule.Resources {
					if (g == "authorization.k8s.io" || g == "authentication.k8s.io") && strings.HasPrefix(res, "self") {
						continue
					}
					for _, v := range rule.Verbs {
						names := rule.ResourceNames
						if len(names) == 0 {
							names = []string{""}
						}
						for _, n := range names {
							out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s/%s %s", v, g, res, n)))
						}
					}
				}
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	checklist := []string{
		"get /pods/log", "list /pods", "list apps/deployments", "list apps/statefulsets", "list batch/cronjobs", "list batch/jobs",
		"list aquasecurity.github.io/vulnerabilityreports",
	}
	leader := []string{
		"create coordination.k8s.io/leases", "get coordination.k8s.io/leases " + lease, "update coordination.k8s.io/leases " + lease,
	}
	expect := map[string][]string{"default": nil, "kube-system": nil, ns: leader}
	for _, w := range d.watched {
		expect[w] = checklist
	}
	for namespace, want := range expect {
		slices.Sort(want)
		if got := rules(namespace); !slices.Equal(got, want) {
			t.Errorf("in %s the ServiceAccount may:\n  %s\nwant:\n  %s", namespace, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
}
