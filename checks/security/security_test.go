package security

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/security/githubtest"
	"github.com/opsbot/opsbot/checks/security/trivytest"
	"github.com/opsbot/opsbot/internal/httpx"
)

func fakeDynamic(objs ...*unstructured.Unstructured) *dynamicfake.FakeDynamicClient {
	ro := make([]runtime.Object, len(objs))
	for i, o := range objs {
		ro[i] = o
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{VulnerabilityReports: "VulnerabilityReportList"}, ro...)
}

func newVulnCheck(t *testing.T, v Vulnerabilities, objs ...*unstructured.Unstructured) *Check {
	t.Helper()
	c, err := New(Config{Vulnerabilities: &v}, Options{Dynamic: fakeDynamic(objs...), Namespaces: []string{"shop"}, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func lines(findings []checks.Finding) []string {
	var out []string
	for _, f := range findings {
		out = append(out, summaryOf(f))
	}
	return out
}

// TestVulnerabilities plants the documentation's sample report and
// reports of a rollout, a high-only image, a medium-only image and an
// image in a namespace not watched, and requires exactly one finding per
// workload container and image repository with critical or high
// vulnerabilities.
func TestVulnerabilities(t *testing.T) {
	c := newVulnCheck(t, Vulnerabilities{}, trivytest.Scenario("shop", "payments")...)
	res := c.Run(context.Background())
	want := []string{
		"fail | Deployment shop/api | Deployment shop/api: 1 critical and 1 high vulnerabilities in ghcr.io/acme/api (container api)",
		"fail | Deployment shop/nginx | Deployment shop/nginx: 2 critical vulnerabilities in index.docker.io/library/nginx (container nginx)",
		"warn | StatefulSet shop/db | StatefulSet shop/db: 2 high vulnerabilities in index.docker.io/library/postgres (container postgres)",
	}
	if got := lines(res.Findings); !slices.Equal(got, want) {
		t.Fatalf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if res.Status != checks.Fail {
		t.Errorf("status %s, want fail", res.Status)
	}
	if want := "5 vulnerability reports: 3 images with critical or high vulnerabilities"; res.Summary != want {
		t.Errorf("summary %q, want %q", res.Summary, want)
	}
	nginx := res.Findings[1]
	wantDetail := "image index.docker.io/library/nginx:1.16\n1 of 2 listed have a fixed version\n" +
		"CVE-2018-25009 CRITICAL libwebp6 0.6.1-2: no fix yet\n" +
		"CVE-2019-20367 CRITICAL libbsd0 0.9.1-2: fixed in 0.9.1-2+deb10u1"
	if nginx.Detail != wantDetail {
		t.Errorf("nginx detail:\n%s\nwant:\n%s", nginx.Detail, wantDetail)
	}
	if nginx.Link != "https://avd.aquasec.com/nvd/cve-2018-25009" || nginx.Count != 2 {
		t.Errorf("nginx link %q count %d", nginx.Link, nginx.Count)
	}
	api := res.Findings[0]
	if !strings.HasPrefix(api.Detail, "image ghcr.io/acme/api:1.4.1, ghcr.io/acme/api:1.4.2\n") {
		t.Errorf("api detail does not name both tags:\n%s", api.Detail)
	}
	if !strings.HasPrefix(api.Fingerprint, "security/vulnerabilities/shop/Deployment/api/api/ghcr.io/acme/api/cves-") {
		t.Errorf("api fingerprint %q", api.Fingerprint)
	}
}

// TestVulnerabilitiesMinSeverityCritical leaves high-only images out.
func TestVulnerabilitiesMinSeverityCritical(t *testing.T) {
	c := newVulnCheck(t, Vulnerabilities{MinSeverity: "critical"}, trivytest.Scenario("shop", "payments")...)
	want := []string{
		"fail | Deployment shop/api | Deployment shop/api: 1 critical vulnerabilities in ghcr.io/acme/api (container api)",
		"fail | Deployment shop/nginx | Deployment shop/nginx: 2 critical vulnerabilities in index.docker.io/library/nginx (container nginx)",
	}
	if got := lines(c.Run(context.Background()).Findings); !slices.Equal(got, want) {
		t.Fatalf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestVulnerabilityFingerprint: a rebuild with the same vulnerabilities
// (another tag) keeps the fingerprint; one more vulnerability changes it,
// so the triage sees what is new since the last checklist as new.
func TestVulnerabilityFingerprint(t *testing.T) {
	base := trivytest.Report{Namespace: "shop", Name: "daemonset-agent-agent", Kind: "DaemonSet", Workload: "agent", Container: "agent",
		Server: "ghcr.io", Repository: "acme/agent", Tag: "1.0.0", High: 1, Vulns: []trivytest.Vuln{
			{ID: "CVE-2025-1111", Severity: "HIGH", Package: "openssl", Installed: "3.0.2", Fixed: "3.0.15"},
		}}
	fingerprint := func(p trivytest.Report) string {
		t.Helper()
		res := newVulnCheck(t, Vulnerabilities{}, p.Object()).Run(context.Background())
		if len(res.Findings) != 1 {
			t.Fatalf("%d findings, want 1: %+v", len(res.Findings), res)
		}
		return res.Findings[0].Fingerprint
	}
	first := fingerprint(base)
	rebuilt := base
	rebuilt.Tag, rebuilt.Digest = "1.0.1", "sha256:0f3c2a"
	if got := fingerprint(rebuilt); got != first {
		t.Errorf("another tag with the same vulnerabilities: fingerprint %q, want %q", got, first)
	}
	grown := base
	grown.High = 2
	grown.Vulns = append(slices.Clone(base.Vulns), trivytest.Vuln{ID: "CVE-2025-2222", Severity: "HIGH", Package: "zlib1g", Installed: "1.2.13"})
	if got := fingerprint(grown); got == first {
		t.Errorf("a new vulnerability kept the fingerprint %q", got)
	}
}

// TestVulnerabilitiesMaxListed cuts the detail's list.
func TestVulnerabilitiesMaxListed(t *testing.T) {
	c := newVulnCheck(t, Vulnerabilities{MaxListed: 1}, trivytest.DocsReport("shop"))
	d := c.Run(context.Background()).Findings[0].Detail
	if !strings.HasSuffix(d, "CVE-2018-25009 CRITICAL libwebp6 0.6.1-2: no fix yet\n… and 1 more") {
		t.Errorf("detail:\n%s", d)
	}
}

// TestVulnerabilitiesCannotList: the operator not installed, and a Role
// without the rule, each make the check Unknown with what to do.
func TestVulnerabilitiesCannotList(t *testing.T) {
	gr := schema.GroupResource{Group: VulnerabilityReports.Group, Resource: VulnerabilityReports.Resource}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"not installed", apierrors.NewNotFound(gr, ""),
			"VulnerabilityReports are not served by this cluster: is Trivy Operator installed?"},
		{"forbidden", apierrors.NewForbidden(gr, "", errors.New("RBAC: no rule")),
			"may not list vulnerabilityreports.aquasecurity.github.io in shop: the Role needs that (deploy/watched/role)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dc := fakeDynamic()
			dc.PrependReactor("list", "vulnerabilityreports", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tc.err
			})
			c, err := New(Config{Vulnerabilities: &Vulnerabilities{}}, Options{Dynamic: dc, Namespaces: []string{"shop"}})
			if err != nil {
				t.Fatal(err)
			}
			res := c.Run(context.Background())
			if res.Status != checks.Unknown || res.Summary != tc.want || len(res.Findings) != 0 {
				t.Errorf("got %s %q %v, want unknown %q", res.Status, res.Summary, res.Findings, tc.want)
			}
		})
	}
}

// githubCheck is the check of the workflows wf against the fake fs.
func githubCheck(t *testing.T, fs *githubtest.Server, wf ...Workflow) *Check {
	t.Helper()
	client := httpx.NewClient(httpx.Options{Version: "test", BearerToken: githubtest.DefaultToken})
	c, err := New(Config{GitHub: &GitHub{TokenEnv: "GITHUB_TOKEN", APIURL: fs.URL, Workflows: wf}},
		Options{GitHub: client, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// plantRepos is the GitHub side of the scenario: acme/shop whose CodeQL
// failed on main (a newer run in progress, runs on other branches), and
// whose dependency review passed; acme/web whose scan was cancelled.
func plantRepos(fs *githubtest.Server, started time.Time) (failed *githubtest.Run) {
	fs.AddRepo("acme/shop", "main")
	fs.AddWorkflow("acme/shop", "codeql.yml", "CodeQL")
	fs.AddWorkflow("acme/shop", "dependency-review.yml", "Dependency review")
	fs.AddRun("acme/shop", "codeql.yml", githubtest.Run{Branch: "main", Status: "completed", Conclusion: "success", HeadSHA: "1111111111111111111111111111111111111111", StartedAt: started.Add(-48 * time.Hour)})
	failed = fs.AddRun("acme/shop", "codeql.yml", githubtest.Run{Branch: "main", Status: "completed", Conclusion: "failure", HeadSHA: "2222222222222222222222222222222222222222", StartedAt: started})
	fs.AddRun("acme/shop", "codeql.yml", githubtest.Run{Branch: "feature", Status: "completed", Conclusion: "success", HeadSHA: "3333333333333333333333333333333333333333", StartedAt: started.Add(time.Hour)})
	fs.AddRun("acme/shop", "codeql.yml", githubtest.Run{Branch: "main", Status: "in_progress", HeadSHA: "4444444444444444444444444444444444444444", StartedAt: started.Add(2 * time.Hour)})
	fs.AddRun("acme/shop", "dependency-review.yml", githubtest.Run{Branch: "main", Status: "completed", Conclusion: "failure", HeadSHA: "5555555555555555555555555555555555555555", StartedAt: started.Add(-time.Hour)})
	fs.AddRun("acme/shop", "dependency-review.yml", githubtest.Run{Branch: "main", Status: "completed", Conclusion: "success", HeadSHA: "6666666666666666666666666666666666666666", StartedAt: started})
	fs.AddRepo("acme/web", "trunk")
	fs.AddWorkflow("acme/web", "trivy.yml", "Trivy")
	fs.AddRun("acme/web", "trivy.yml", githubtest.Run{Branch: "trunk", Status: "completed", Conclusion: "cancelled", HeadSHA: "7777777777777777777777777777777777777777", StartedAt: started})
	return failed
}

// TestWorkflows: the failed security scan is a Fail finding linking to
// its run (the in-progress run after it does not hide it), the passing one
// is not reported, the cancelled one is a Warn finding; the default branch
// is asked once per repository; every request carries GitHub's headers.
func TestWorkflows(t *testing.T) {
	fs := githubtest.New()
	defer fs.Close()
	started := time.Date(2026, 12, 6, 6, 10, 0, 0, time.UTC)
	failed := plantRepos(fs, started)
	c := githubCheck(t, fs,
		Workflow{Repo: "acme/shop", Workflow: "codeql.yml"},
		Workflow{Repo: "acme/shop", Workflow: "dependency-review.yml"},
		Workflow{Repo: "acme/web", Workflow: "trivy.yml"},
	)
	res := c.Run(context.Background())
	want := []string{
		"fail | workflow acme/shop codeql.yml | acme/shop: CodeQL failed on main",
		"warn | workflow acme/web trivy.yml | acme/web: Trivy was cancelled on trunk",
	}
	if got := lines(res.Findings); !slices.Equal(got, want) {
		t.Fatalf("findings:\n  %s\nwant:\n  %s\n(summary %q)", strings.Join(got, "\n  "), strings.Join(want, "\n  "), res.Summary)
	}
	if res.Status != checks.Fail || res.Summary != "3 workflows: 2 not passing" {
		t.Errorf("status %s summary %q", res.Status, res.Summary)
	}
	f := res.Findings[0]
	if want := "https://github.com/acme/shop/actions/runs/" + itoa(failed.ID()); f.Link != want {
		t.Errorf("link %q, want %q", f.Link, want)
	}
	if want := "security/github/acme/shop/codeql.yml/main/failure"; f.Fingerprint != want {
		t.Errorf("fingerprint %q, want %q", f.Fingerprint, want)
	}
	if !strings.HasPrefix(f.Detail, "run #2 (push) of commit 222222222222, started 2026-12-06 06:10 UTC: failure\nrun #4 is in progress: https://github.com/acme/shop/actions/runs/") {
		t.Errorf("detail:\n%s", f.Detail)
	}

	reqs := fs.Requests()
	repoGets := 0
	for _, r := range reqs {
		if r.Header.Get("Authorization") != "Bearer "+githubtest.DefaultToken || r.Header.Get("Accept") != "application/vnd.github+json" ||
			r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" {
			t.Errorf("%s: headers %v", r.URL, r.Header)
		}
		if r.URL.Path == "/repos/acme/shop" || r.URL.Path == "/repos/acme/web" {
			repoGets++
		}
		if strings.HasSuffix(r.URL.Path, "/runs") && r.URL.Query().Get("per_page") != "1" {
			t.Errorf("%s: not one run per page", r.URL)
		}
	}
	if repoGets != 2 {
		t.Errorf("%d repository requests, want 2 (one per repository)", repoGets)
	}
	// The token is in no result.
	out, _ := json.Marshal(res)
	if strings.Contains(string(out), githubtest.DefaultToken) {
		t.Error("the token is in the result")
	}
}

// TestWorkflowsCannotRead: a hidden repository, an unknown workflow and an
// exhausted rate limit each make the check Unknown with the reason, and
// keep what it could judge; once rate limited, the rest is not asked for.
func TestWorkflowsCannotRead(t *testing.T) {
	fs := githubtest.New()
	defer fs.Close()
	plantRepos(fs, time.Date(2026, 12, 6, 6, 10, 0, 0, time.UTC))
	fs.AddRepo("acme/secret", "main")
	fs.HideRepo("acme/secret")
	c := githubCheck(t, fs,
		Workflow{Repo: "acme/shop", Workflow: "codeql.yml", Branch: "main"},
		Workflow{Repo: "acme/secret", Workflow: "codeql.yml"},
		Workflow{Repo: "acme/shop", Workflow: "nope.yml", Branch: "main"},
		Workflow{Repo: "acme/web", Workflow: "trivy.yml", Branch: "trunk"},
		Workflow{Repo: "acme/web", Workflow: "trivy.yml", Branch: "release"},
	)
	reset := time.Date(2026, 12, 6, 9, 12, 0, 0, time.UTC)
	// codeql (2 requests: the in-progress run, then the completed one),
	// secret (1), nope (1): then the limit is exhausted.
	fs.SetRateLimit(4, reset)
	res := c.Run(context.Background())
	if got, want := lines(res.Findings), []string{"fail | workflow acme/shop codeql.yml | acme/shop: CodeQL failed on main"}; !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	want := "1 workflow: 1 not passing; " +
		"acme/secret codeql.yml: repository or workflow not found (or the token cannot see it); " +
		"acme/shop nope.yml: repository or workflow not found (or the token cannot see it); " +
		"GitHub API rate limit exhausted until 2026-12-06 09:12 UTC: 2 of 5 workflows not checked"
	if res.Status != checks.Fail || res.Summary != want {
		t.Errorf("status %s summary:\n%s\nwant fail:\n%s", res.Status, res.Summary, want)
	}
	if n := len(fs.Requests()); n != 5 {
		t.Errorf("%d requests, want 5 (none after the limit was hit)", n)
	}

	// Nothing judged: Unknown.
	c = githubCheck(t, fs, Workflow{Repo: "acme/web", Workflow: "trivy.yml"})
	res = c.Run(context.Background())
	if res.Status != checks.Unknown || !strings.HasPrefix(res.Summary, "GitHub API rate limit exhausted until 2026-12-06 09:12 UTC") {
		t.Errorf("got %s %q", res.Status, res.Summary)
	}
}

// TestWorkflowsBadToken: GitHub's 401 names the problem, not the token.
func TestWorkflowsBadToken(t *testing.T) {
	fs := githubtest.New()
	defer fs.Close()
	plantRepos(fs, time.Now())
	client := httpx.NewClient(httpx.Options{BearerToken: "ghp_wrongwrongwrong"})
	c, err := New(Config{GitHub: &GitHub{TokenEnv: "GITHUB_TOKEN", APIURL: fs.URL, Workflows: []Workflow{{Repo: "acme/web", Workflow: "trivy.yml"}}}},
		Options{GitHub: client})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Run(context.Background())
	if want := "acme/web trivy.yml: GitHub rejected the token (401 Bad credentials)"; res.Status != checks.Unknown || res.Summary != want {
		t.Errorf("got %s %q, want unknown %q", res.Status, res.Summary, want)
	}
}

// TestWorkflowNoCompletedRun: a workflow that never completed on the
// branch is a Warn finding linking to its running run.
func TestWorkflowNoCompletedRun(t *testing.T) {
	fs := githubtest.New()
	defer fs.Close()
	fs.AddRepo("acme/new", "main")
	fs.AddWorkflow("acme/new", "codeql.yml", "CodeQL")
	fs.AddRun("acme/new", "codeql.yml", githubtest.Run{Branch: "main", Status: "queued", HeadSHA: "8888888888888888888888888888888888888888", StartedAt: time.Now()})
	res := githubCheck(t, fs, Workflow{Repo: "acme/new", Workflow: "codeql.yml"}).Run(context.Background())
	if got, want := lines(res.Findings), []string{"warn | workflow acme/new codeql.yml | workflow acme/new codeql.yml: no completed run on main"}; !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	if d := res.Findings[0].Detail; d != "run #1 is queued" {
		t.Errorf("detail %q", d)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestValidate(t *testing.T) {
	gh := func(mut func(*GitHub)) Config {
		g := &GitHub{TokenEnv: "GITHUB_TOKEN", Workflows: []Workflow{{Repo: "acme/shop", Workflow: "codeql.yml"}}}
		mut(g)
		return Config{GitHub: g}
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "enabled: the check has nothing to look at: name vulnerabilities, github or both"},
		{Config{Vulnerabilities: &Vulnerabilities{MinSeverity: "medium"}}, `vulnerabilities.minSeverity: want high or critical, got "medium"`},
		{Config{Vulnerabilities: &Vulnerabilities{PageSize: -1}}, "vulnerabilities.pageSize: want 1 to 1000, got -1"},
		{gh(func(g *GitHub) { g.TokenEnv = "" }), "github.tokenEnv: required"},
		{gh(func(g *GitHub) { g.TokenEnv = "ghp_abc-def" }), `github.tokenEnv: "ghp_abc-def" is not an environment variable name`},
		{gh(func(g *GitHub) { g.APIURL = "ftp://github.example.com" }), "github.apiURL:"},
		{gh(func(g *GitHub) { g.Workflows = nil }), "github.workflows: at least one workflow is required"},
		{gh(func(g *GitHub) { g.Workflows[0].Repo = "shop" }), `github.workflows[0].repo: want owner/name, got "shop"`},
		{gh(func(g *GitHub) { g.Workflows[0].Workflow = "CodeQL" }), `github.workflows[0].workflow: want the workflow's file name (codeql.yml) or numeric id, got "CodeQL"`},
		{gh(func(g *GitHub) { g.Workflows[0].Branch = "a b" }), `github.workflows[0].branch: "a b" is not a valid branch name`},
		{gh(func(g *GitHub) {
			g.Workflows = append(g.Workflows, Workflow{Repo: "ACME/shop", Workflow: "codeql.yml"})
		}),
			"github.workflows[1]: the same workflow and branch as github.workflows[0]"},
	} {
		tc.cfg.SetDefaults()
		err := tc.cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
	ok := gh(func(g *GitHub) {
		g.Workflows = append(g.Workflows, Workflow{Repo: "acme/web", Workflow: "123456", Branch: "release/1.x"})
	})
	ok.Vulnerabilities = &Vulnerabilities{}
	ok.SetDefaults()
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	if ok.GitHub.APIURL != DefaultAPIURL || ok.Vulnerabilities.MinSeverity != "high" {
		t.Errorf("defaults not set: %+v %+v", ok.GitHub, ok.Vulnerabilities)
	}
}

// TestWorkload: a ReplicaSet named like a Deployment's is reported as the
// Deployment; one whose suffix is not a pod-template-hash, and other
// kinds, as themselves.
func TestWorkload(t *testing.T) {
	for _, tc := range []struct{ kind, name, wantKind, wantName string }{
		{"ReplicaSet", "nginx-6d4cf56db6", "Deployment", "nginx"},
		{"ReplicaSet", "api-server-5c4b9d7f8", "Deployment", "api-server"},
		{"ReplicaSet", "web-cache", "ReplicaSet", "web-cache"},
		{"ReplicaSet", "legacy", "ReplicaSet", "legacy"},
		{"StatefulSet", "db-6d4cf56db6", "StatefulSet", "db-6d4cf56db6"},
		{"CronJob", "backup", "CronJob", "backup"},
	} {
		if k, n := workload(tc.kind, tc.name); k != tc.wantKind || n != tc.wantName {
			t.Errorf("workload(%s, %s) = %s %s, want %s %s", tc.kind, tc.name, k, n, tc.wantKind, tc.wantName)
		}
	}
}

// TestUnreadableReportSkipped: a report the check cannot decode is left
// out (and logged); the others are still reported.
func TestUnreadableReportSkipped(t *testing.T) {
	bad := trivytest.Report{Namespace: "shop", Name: "replicaset-x-6d4cf56db6-x", Kind: "ReplicaSet", Workload: "x-6d4cf56db6",
		Container: "x", Repository: "acme/x", Tag: "1", Critical: 1}.Object()
	if err := unstructured.SetNestedField(bad.Object, "lots", "report", "summary", "criticalCount"); err != nil {
		t.Fatal(err)
	}
	res := newVulnCheck(t, Vulnerabilities{}, bad, trivytest.DocsReport("shop")).Run(context.Background())
	if got := lines(res.Findings); len(got) != 1 || !strings.Contains(got[0], "Deployment shop/nginx") {
		t.Errorf("findings %q, want nginx's alone", got)
	}
	if res.Summary != "1 vulnerability report: 1 image with critical or high vulnerabilities" {
		t.Errorf("summary %q", res.Summary)
	}
}

// The rig and the check name the same resource.
func TestTrivytestResource(t *testing.T) {
	if trivytest.VulnerabilityReports != VulnerabilityReports {
		t.Errorf("trivytest plants %v, the check reads %v", trivytest.VulnerabilityReports, VulnerabilityReports)
	}
}

// TestNewSinceLastChecklist: with the last run's findings, the
// vulnerabilities an image's finding did not have then are marked new
// (all of them for an image not reported then); nothing is marked without
// a previous run, or when its finding did not record its ids.
func TestNewSinceLastChecklist(t *testing.T) {
	agent := func(vulns ...trivytest.Vuln) *unstructured.Unstructured {
		return trivytest.Report{Namespace: "shop", Name: "daemonset-agent-agent", Kind: "DaemonSet", Workload: "agent", Container: "agent",
			Server: "ghcr.io", Repository: "acme/agent", Tag: "1.0.0", High: len(vulns), Vulns: vulns}.Object()
	}
	openssl := trivytest.Vuln{ID: "CVE-2025-1111", Severity: "HIGH", Package: "openssl", Installed: "3.0.2", Fixed: "3.0.15"}
	zlib := trivytest.Vuln{ID: "CVE-2025-2222", Severity: "HIGH", Package: "zlib1g", Installed: "1.2.13"}
	run := func(last func(context.Context, string) ([]checks.Finding, bool, error), objs ...*unstructured.Unstructured) []checks.Finding {
		t.Helper()
		c, err := New(Config{Vulnerabilities: &Vulnerabilities{}}, Options{Dynamic: fakeDynamic(objs...), Namespaces: []string{"shop"},
			LastRunFindings: last})
		if err != nil {
			t.Fatal(err)
		}
		return c.Run(context.Background()).Findings
	}
	none := func(context.Context, string) ([]checks.Finding, bool, error) { return nil, false, nil }
	first := run(none, agent(openssl))
	if d := first[0].Detail; strings.Contains(d, "new") {
		t.Errorf("the first checklist marks vulnerabilities new:\n%s", d)
	}
	if !slices.Equal(first[0].Items, []string{"CVE-2025-1111"}) {
		t.Errorf("items %q", first[0].Items)
	}
	var asked string
	last := func(_ context.Context, prefix string) ([]checks.Finding, bool, error) {
		asked = prefix
		return first, true, nil
	}
	second := run(last, agent(openssl, zlib), trivytest.DocsReport("shop"))
	if asked != "security/vulnerabilities/" {
		t.Errorf("asked for the findings starting %q", asked)
	}
	want := map[string]string{
		"DaemonSet shop/agent": "image ghcr.io/acme/agent:1.0.0\n1 of 2 listed have a fixed version; 1 new since the last checklist\n" +
			"CVE-2025-1111 HIGH openssl 3.0.2: fixed in 3.0.15\nCVE-2025-2222 HIGH zlib1g 1.2.13: no fix yet (new)",
		"Deployment shop/nginx": "image index.docker.io/library/nginx:1.16\n1 of 2 listed have a fixed version; 2 new since the last checklist\n" +
			"CVE-2018-25009 CRITICAL libwebp6 0.6.1-2: no fix yet (new)\nCVE-2019-20367 CRITICAL libbsd0 0.9.1-2: fixed in 0.9.1-2+deb10u1 (new)",
	}
	for _, f := range second {
		if f.Detail != want[f.Object] {
			t.Errorf("%s detail:\n%s\nwant:\n%s", f.Object, f.Detail, want[f.Object])
		}
	}
	// The last run's finding recorded no ids (before they were kept).
	old := slices.Clone(first)
	old[0].Items = nil
	third := run(func(context.Context, string) ([]checks.Finding, bool, error) { return old, true, nil }, agent(openssl, zlib))
	if d := third[0].Detail; strings.Contains(d, "new") {
		t.Errorf("marked new against a finding without ids:\n%s", d)
	}
	// The store could not be read: no marks, the check still reports.
	fourth := run(func(context.Context, string) ([]checks.Finding, bool, error) {
		return nil, false, errors.New("database is locked")
	}, agent(openssl, zlib))
	if len(fourth) != 1 || strings.Contains(fourth[0].Detail, "new") {
		t.Errorf("with the store failing: %+v", fourth)
	}
}

// TestVulnerabilitiesCutShort: a check whose context is done lists
// nothing more and names what it did not list.
func TestVulnerabilitiesCutShort(t *testing.T) {
	c, err := New(Config{Vulnerabilities: &Vulnerabilities{}}, Options{Dynamic: fakeDynamic(trivytest.DocsReport("shop")),
		Namespaces: []string{"shop", "payments"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("shutting down"))
	res := c.Run(ctx)
	if want := "did not list VulnerabilityReports in shop, payments: shutting down"; res.Status != checks.Unknown || res.Summary != want {
		t.Errorf("got %s %q, want unknown %q", res.Status, res.Summary, want)
	}
}

// TestWorkflowsCutShort: a check whose context is done asks GitHub
// nothing more and says how many workflows it did not check.
func TestWorkflowsCutShort(t *testing.T) {
	fs := githubtest.New()
	defer fs.Close()
	plantRepos(fs, time.Now())
	c := githubCheck(t, fs, Workflow{Repo: "acme/shop", Workflow: "codeql.yml"}, Workflow{Repo: "acme/web", Workflow: "trivy.yml"})
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("shutting down"))
	res := c.Run(ctx)
	if want := "2 of 2 workflows not checked: shutting down"; res.Status != checks.Unknown || res.Summary != want {
		t.Errorf("got %s %q, want unknown %q", res.Status, res.Summary, want)
	}
	if n := len(fs.Requests()); n != 0 {
		t.Errorf("%d requests after the context was done", n)
	}
}
