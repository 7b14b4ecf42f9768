package checklist

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/security/githubtest"
	"github.com/opsbot/opsbot/checks/security/trivytest"
	"github.com/opsbot/opsbot/testenv"
)

// TestSecurityAgainstTheAPIServer runs the security check, built from a few
// lines of config, against a real kube-apiserver under the deployed Role
// (deploy/watched/role, bound to opsbot's ServiceAccount, whose token comes
// from the TokenRequest API) and against the GitHub fake:
//   - before Trivy Operator's CRD is installed, the check says so;
//   - with the real CRD and planted reports in a watched and an unwatched
//     namespace, read in pages of 2, it finds exactly the watched
//     namespace's vulnerable images, and the failing security workflow;
//   - asked about the unwatched namespace, where the Role is not bound, it
//     is refused and says which permission is missing: the Role grants no
//     more than the watched namespaces.
func TestSecurityAgainstTheAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real kube-apiserver; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k, err := testenv.StartKube(ctx, testenv.KubeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Stop() })
	admin := k.Client()
	adminDyn, err := dynamic.NewForConfig(k.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}

	const watched, other, home = "shop", "payments", "opsbot"
	for _, ns := range []string{watched, other, home} {
		if err := k.CreateNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.CoreV1().ServiceAccounts(home).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "opsbot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	applyWatchedRole(t, ctx, admin, watched)
	tr, err := admin.CoreV1().ServiceAccounts(home).CreateToken(ctx, "opsbot", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	asBot := k.ConfigForToken(tr.Status.Token)
	botDyn, err := dynamic.NewForConfig(asBot)
	if err != nil {
		t.Fatal(err)
	}
	botKube, err := kubernetes.NewForConfig(asBot)
	if err != nil {
		t.Fatal(err)
	}
	waitAllowed(t, ctx, botKube, watched)

	fs := githubtest.New()
	defer fs.Close()
	fs.AddRepo("acme/shop", "main")
	fs.AddWorkflow("acme/shop", "codeql.yml", "CodeQL")
	fs.AddWorkflow("acme/shop", "ci.yml", "CI")
	failed := fs.AddRun("acme/shop", "codeql.yml", githubtest.Run{Branch: "main", Status: "completed", Conclusion: "failure",
		HeadSHA: "9f2c4e1d0b8a7c6e5f4d3c2b1a0f9e8d7c6b5a49", StartedAt: time.Date(2026, 12, 6, 6, 10, 0, 0, time.UTC)})
	fs.AddRun("acme/shop", "ci.yml", githubtest.Run{Branch: "main", Status: "completed", Conclusion: "success",
		HeadSHA: "9f2c4e1d0b8a7c6e5f4d3c2b1a0f9e8d7c6b5a49", StartedAt: time.Date(2026, 12, 6, 6, 10, 0, 0, time.UTC)})
	t.Setenv("OPSBOT_TEST_GITHUB_TOKEN", githubtest.DefaultToken)

	run := func(namespaces ...string) checks.Result {
		t.Helper()
		env := environment(t, fmt.Sprintf(`
environments:
  prod:
    namespaces: [%s]
    checks:
      pods: {enabled: false}
      logs: {enabled: false}
      security:
        vulnerabilities: {pageSize: 2}
        github:
          tokenEnv: OPSBOT_TEST_GITHUB_TOKEN
          apiURL: %s
          workflows:
            - {repo: acme/shop, workflow: codeql.yml}
            - {repo: acme/shop, workflow: ci.yml}
`, strings.Join(namespaces, ", "), fs.URL))
		list, err := Build(env, Options{Kube: botKube, Dynamic: botDyn, Location: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Name() != "security" {
			t.Fatalf("checks %v, want the security check alone", list)
		}
		return list[0].Run(ctx)
	}
	failedWorkflow := "fail | workflow acme/shop codeql.yml | acme/shop: CodeQL failed on main"

	// Trivy Operator not installed.
	res := run(watched)
	if want := "2 workflows: 1 not passing; VulnerabilityReports are not served by this cluster: is Trivy Operator installed?"; res.Status != checks.Fail || res.Summary != want {
		t.Errorf("without the CRD: %s %q, want fail %q", res.Status, res.Summary, want)
	}
	if got := findingLines(res); !slices.Equal(got, []string{failedWorkflow}) {
		t.Errorf("without the CRD: findings %q", got)
	}

	if err := trivytest.ApplyCRD(ctx, adminDyn); err != nil {
		t.Fatal(err)
	}
	if err := trivytest.Create(ctx, adminDyn, trivytest.Scenario(watched, other)...); err != nil {
		t.Fatal(err)
	}
	res = run(watched)
	want := []string{
		"fail | Deployment shop/api | Deployment shop/api: 1 critical and 1 high vulnerabilities in ghcr.io/acme/api (container api)",
		"fail | Deployment shop/nginx | Deployment shop/nginx: 2 critical vulnerabilities in index.docker.io/library/nginx (container nginx)",
		"warn | StatefulSet shop/db | StatefulSet shop/db: 2 high vulnerabilities in index.docker.io/library/postgres (container postgres)",
		failedWorkflow,
	}
	if got := findingLines(res); !slices.Equal(got, want) {
		t.Fatalf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	wantSummary := "5 vulnerability reports: 3 images with critical or high vulnerabilities; 2 workflows: 1 not passing"
	if res.Status != checks.Fail || res.Summary != wantSummary {
		t.Errorf("%s %q, want fail %q", res.Status, res.Summary, wantSummary)
	}
	if f := res.Findings[3]; f.Link != fmt.Sprintf("https://github.com/acme/shop/actions/runs/%d", failed.ID()) {
		t.Errorf("the failed workflow links to %q", f.Link)
	}

	// The unwatched namespace: the Role is not bound there.
	res = run(watched, other)
	wantBlind := "may not list vulnerabilityreports.aquasecurity.github.io in payments: the Role needs that (deploy/watched/role)"
	if res.Status != checks.Fail || !strings.HasSuffix(res.Summary, "; "+wantBlind) || len(res.Findings) != 4 {
		t.Errorf("with %s: %s %q (%d findings), want fail ending %q and the same 4 findings", other, res.Status, res.Summary, len(res.Findings), wantBlind)
	}
}

func findingLines(r checks.Result) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, fmt.Sprintf("%s | %s | %s", f.Severity, f.Object, f.Title))
	}
	return out
}

// applyWatchedRole creates deploy/watched/role's Role and RoleBinding (to
// ServiceAccount opsbot/opsbot) in ns, as kustomize renders them there.
func applyWatchedRole(t *testing.T, ctx context.Context, admin kubernetes.Interface, ns string) {
	t.Helper()
	dir := filepath.Join("..", "deploy", "watched", "role")
	var role rbacv1.Role
	var binding rbacv1.RoleBinding
	for file, into := range map[string]any{"role.yaml": &role, "rolebinding.yaml": &binding} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.UnmarshalStrict(data, into); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	role.Namespace, binding.Namespace = ns, ns
	if _, err := admin.RbacV1().Roles(ns).Create(ctx, &role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, &binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitAllowed waits until RBAC's authorizer (which sees new bindings
// through an informer) shows the Role's binding in ns: the bot may list
// pods there. Whether it may list VulnerabilityReports is the test's to
// find out.
func waitAllowed(t *testing.T, ctx context.Context, bot kubernetes.Interface, ns string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		r, err := bot.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: ns, Verb: "list", Resource: "pods",
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Allowed {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the Role's binding never showed: %v", context.Cause(ctx))
		case <-tick.C:
		}
	}
}
