package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/security/trivytest"
	"github.com/opsbot/opsbot/schedule"
)

// historyRuns is memRuns that also keeps run history (as the store does):
// its last run of prod found nothing.
type historyRuns struct {
	memRuns
	asked *string
}

func (h historyRuns) LastRunFindings(_ context.Context, env, prefix string) ([]checks.Finding, bool, error) {
	*h.asked = env + " " + prefix
	return nil, true, nil
}

// TestLastRunFindingsWiring: the bot's checklist gives the security check
// the environment's last run from the store, so what the last checklist
// did not see is marked new.
func TestLastRunFindingsWiring(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/aquasecurity.github.io/v1alpha1/namespaces/shop/vulnerabilityreports" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "VulnerabilityReportList",
			"metadata": map[string]any{}, "items": []any{trivytest.DocsReport("shop").Object},
		})
	}))
	defer api.Close()
	kubeconfig := writeKubeconfig(t, api.URL)
	cfg := parseConfig(t, `
environments:
  prod:
    kubernetes: {kubeconfig: `+kubeconfig+`}
    namespaces: [shop]
    checks: {pods: {enabled: false}, logs: {enabled: false}, security: {vulnerabilities: {}}}
`)
	var asked string
	list, err := checklistFactory(cfg, zap.NewNop(), nil, historyRuns{memRuns{schedule.NewMemoryClaimer()}, &asked})(context.Background(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	res := list.Checks[0].Run(context.Background())
	if len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Detail, "2 new since the last checklist") {
		t.Fatalf("%s %q %+v: want the nginx finding with its vulnerabilities new", res.Status, res.Summary, res.Findings)
	}
	if asked != "prod security/vulnerabilities/" {
		t.Errorf("asked the history %q", asked)
	}
}

// writeKubeconfig writes a kubeconfig whose one context reaches server
// with a token, and returns its path.
func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "`+server+`"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
