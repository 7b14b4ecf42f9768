package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsbot/opsbot/chart"
	"github.com/opsbot/opsbot/chart/charttest"
	"github.com/opsbot/opsbot/checklist"
)

// TestChecklistWritesCharts runs `opsbot checklist --charts DIR` against
// the real Prometheus of the scenario: one PNG per metrics finding, named
// after its fingerprint, with its thresholds drawn, and the report says
// where they went.
func TestChecklistWritesCharts(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := filepath.Join(t.TempDir(), "charts") // created by the flag
	var stdout, stderr bytes.Buffer
	code := opsbot(context.Background(), []string{"checklist", "--config", writeConfig(t, env.Prometheus.URL(), env.Alertmanager.URL()),
		"--color", "never", "--charts", dir}, &stdout, &stderr)
	if code != exitProblems {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitProblems, stderr.String())
	}
	want := []string{
		"metrics/memory/namespace=shop/pod=web/container=web",
		"metrics/pvc/namespace=shop/persistentvolumeclaim=data-db-0",
		"metrics/http5xx/namespace=shop/job=checkout",
		"metrics/queue-depth/namespace=shop/queue=orders",
		"metrics/networkReceive/namespace=shop/pod=checkout",
	}
	// The pods findings of OOM kills and restarts have a chart source too,
	// but the scenario's Prometheus has no kube-state-metrics or cAdvisor
	// series: nothing to draw, and no error.
	if !strings.Contains(stdout.String(), "Charts: 5 written to "+dir+" (4 with nothing to draw)\n") {
		t.Errorf("the report does not say where the charts went:\n%s", stdout.String())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Errorf("%d files in %s, want %d: %v", len(entries), dir, len(want), entries)
	}
	for _, fp := range want {
		name := checklist.ChartFileName(fp)
		if !strings.Contains(stdout.String(), "  "+name+"\n") {
			t.Errorf("the report does not list %s", name)
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("chart of %s: %v", fp, err)
			continue
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Errorf("chart of %s is not a PNG: %v", fp, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != chart.DefaultWidth || b.Dy() != chart.DefaultHeight {
			t.Errorf("chart of %s is %v", fp, b)
		}
		if len(charttest.Rows(img, chart.FailColor)) == 0 {
			t.Errorf("chart of %s has no fail threshold line", fp)
		}
	}
}
