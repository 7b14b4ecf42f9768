package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opsbot/opsbot/checks"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func sampleReport() checks.Report {
	rep := sampleResults()
	rep.Cost = &checks.Cost{Calls: 1954, LogBytes: 195_312_640, Throttled: 2}
	return rep
}

func sampleResults() checks.Report {
	start := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	return checks.NewReport("prod", start, start.Add(1834*time.Millisecond), []checks.Result{
		{Check: "pods", Status: checks.Fail, Summary: "142 pods in shop: 2 problems", Duration: 412 * time.Millisecond,
			Findings: []checks.Finding{
				{Fingerprint: "pods/shop/Deployment/api/api/CrashLoopBackOff", Severity: checks.Fail,
					Title:  "Deployment shop/api: 3/3 pods in CrashLoopBackOff (container api)",
					Detail: "back-off 5m0s restarting failed container=api\npods: api-7d9f8c6b5-x2x9q, api-7d9f8c6b5-k8s7d, api-7d9f8c6b5-pq2mn",
					Count:  3},
				{Fingerprint: "pods/shop/StatefulSet/db/-/NotReady", Severity: checks.Warn,
					Title: "StatefulSet shop/db: 1/3 replicas ready"},
			}},
		{Check: "logs", Status: checks.Warn, Summary: "38 containers, 1.2 GB read: 1 error signature", Duration: 1834 * time.Millisecond,
			Findings: []checks.Finding{
				{Fingerprint: "logs/shop/Deployment/web/web/x", Severity: checks.Warn,
					Title:  "web: 12× ERROR payment failed for order N",
					Detail: "line 1\nline 2\nline 3\nline 4\x1b[2J\nline 5",
					Link:   "https://kibana.example.com/app/discover#/?q=web"},
			}},
		{Check: "alerts", Status: checks.Unknown, Summary: "alertmanager http://127.0.0.1:9093: connection refused", Duration: 3 * time.Millisecond},
		{Check: "metrics", Status: checks.OK, Summary: "6 queries: all within thresholds", Duration: 220 * time.Millisecond},
	})
}

func TestWriteTextGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		color bool
	}{{"report.golden", false}, {"report-color.golden", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteText(&buf, sampleReport(), TextOptions{Color: tc.color}); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
		})
	}
}

// TestWriteTextGrafanaGolden: the grafana check's findings, a breach
// window and the informational listing of the panels not evaluated.
func TestWriteTextGrafanaGolden(t *testing.T) {
	start := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	rep := checks.NewReport("prod", start, start.Add(912*time.Millisecond), []checks.Result{{
		Check: "grafana", Status: checks.Fail, Duration: 912 * time.Millisecond,
		Summary: "13 panels of 3 dashboards evaluated: 1 red, 12 green; 2 not evaluable; 1 without thresholds",
		Findings: []checks.Finding{
			{Fingerprint: "grafana/checkout/panel-1/checkout", Severity: checks.Fail, Object: "Checkout / Checkout p99",
				Title:  `panel "Checkout p99" was red (≥ 2 s) from 03:12 for 14 min`,
				Detail: "worst 3.1 s at 03:20\nquery A: histogram_quantile(0.99, sum by (le) (rate(x_bucket[1m15s])))",
				Link:   "https://grafana.example.com/d/checkout?viewPanel=1&from=1795400000000&to=1795486400000"},
			{Fingerprint: "grafana/not-evaluated", Severity: checks.OK, Count: 3,
				Title: "3 panels not evaluated (2 could not be, 1 without thresholds)",
				Detail: "Checkout / Error logs (panel 10): its datasource is loki (uid \"loki-prod\"), not Prometheus\n" +
					"Checkout / p99 jitter (panel 12): calculation \"stdDev\" is not one the check computes\n" +
					"Checkout / Read me (panel 15): a text panel: no thresholds the check evaluates"},
		},
	}})
	var buf bytes.Buffer
	if err := WriteText(&buf, rep, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "report-grafana.golden", buf.Bytes())
}

// knownNoiseReport is the sample with findings suppressed as known noise
// and one back because it grew.
func knownNoiseReport() checks.Report {
	rep := sampleResults()
	decided := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	web := &rep.Results[1].Findings[0]
	web.Count = 150
	web.Known = &checks.Known{AnomalyID: 8, Decision: "Noise", DecidedBy: "U0CAROL", DecidedAt: decided, DecidedCount: 12, Count: 150, Grew: true}
	rep.Suppressed = []checks.Suppressed{
		{Check: "logs", Finding: checks.Finding{Fingerprint: "logs/shop/Deployment/api/api/timeout", Severity: checks.Warn,
			Title: "api: 30× WARN upstream timeout \x1b[2J", Count: 30},
			Known: checks.Known{AnomalyID: 4, Decision: "Noise", DecidedBy: "U0CAROL", DecidedAt: decided, DecidedCount: 12, Count: 30}},
		{Check: "metrics", Finding: checks.Finding{Fingerprint: "metrics/disk", Severity: checks.Warn, Title: "disk at 81%"},
			Known: checks.Known{AnomalyID: 2, Decision: "Intermittent", DecidedBy: "U0ALICE", DecidedAt: decided}},
	}
	return rep
}

func TestWriteTextKnownNoiseGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, knownNoiseReport(), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "report-known-noise.golden", buf.Bytes())
	buf.Reset()
	if err := WriteJSON(&buf, knownNoiseReport()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report-known-noise.json.golden", buf.Bytes())
}

func TestWriteJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json.golden", buf.Bytes())
}

func TestCleanStripsTerminalEscapes(t *testing.T) {
	tests := map[string]string{
		"plain text\twith tab":   "plain text\twith tab",
		"evil \x1b[2J\x1b[H cls": "evil \uFFFD[2J\uFFFD[H cls",
		"bell\a and \r return":   "bell\uFFFD and \uFFFD return",
		"bad utf8 \xff here":     "bad utf8 \uFFFD here",
		"unicode ✓ fine":         "unicode ✓ fine",
	}
	for in, want := range tests {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update if the change is intended):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}
