package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/schedule"
)

// stateRuns is memRuns that also keeps the logs check's state (as the
// store does).
type stateRuns struct {
	memRuns
	saved map[string][]byte
}

func (s stateRuns) LoadLogState(_ context.Context, env string) ([]byte, error) {
	return s.saved[env], nil
}

func (s stateRuns) SaveLogState(_ context.Context, env string, state []byte) error {
	s.saved[env] = state
	return nil
}

// TestLogStateWiring: the bot's checklist gives the logs check the store
// as its state, with the config's redaction: a secret in a log line is
// not kept.
func TestLogStateWiring(t *testing.T) {
	stamp := time.Now().UTC().Format(time.RFC3339Nano)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/namespaces/shop/pods":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "v1", "kind": "PodList", "metadata": map[string]any{},
				"items": []any{map[string]any{
					"metadata": map[string]any{"name": "api-1", "namespace": "shop"},
					"spec":     map[string]any{"containers": []any{map[string]any{"name": "app"}}},
					"status": map[string]any{"phase": "Running", "containerStatuses": []any{map[string]any{
						"name": "app", "containerID": "containerd://aaa", "state": map[string]any{"running": map[string]any{}}}}},
				}}})
		case "/api/v1/namespaces/shop/pods/api-1/log":
			if r.URL.Query().Get("timestamps") != "true" {
				t.Errorf("log read without timestamps: %s", r.URL.RawQuery)
			}
			_, _ = w.Write([]byte(stamp + " ERROR login failed with password=hunter2secret\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	kubeconfig := writeKubeconfig(t, api.URL)
	cfg := parseConfig(t, `
environments:
  prod:
    kubernetes: {kubeconfig: `+kubeconfig+`}
    namespaces: [shop]
    checks: {pods: {enabled: false}}
`)
	runs := stateRuns{memRuns{schedule.NewMemoryClaimer()}, map[string][]byte{}}
	list, err := checklistFactory(cfg, zap.NewNop(), nil, runs)(context.Background(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	res := list.Checks[0].Run(context.Background())
	if !strings.Contains(res.Summary, "1 log in full (1 new)") || len(res.Findings) != 1 {
		t.Fatalf("%s %q %+v: want the log read in full, its state kept", res.Status, res.Summary, res.Findings)
	}
	state := string(runs.saved["prod"])
	if !strings.Contains(state, "shop/api-1/app") {
		t.Errorf("saved state %q does not have the container", state)
	}
	if strings.Contains(state, "hunter2secret") {
		t.Errorf("the saved state keeps the secret: %s", state)
	}
}
