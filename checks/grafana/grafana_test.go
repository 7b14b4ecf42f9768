package grafana_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/grafana"
	"github.com/opsbot/opsbot/checks/grafana/grafanatest"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/testenv"
)

const token = "glsa_test_0123456789abcdef"

// The window the tests evaluate: the hour before end, a whole hour at
// least an hour ago (backfilled history must be older than Prometheus's
// head).
var (
	end   = time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	start = end.Add(-time.Hour)
)

// history is the planted series: the values every dashboard panel of
// testdata is asserted against. Times are minutes from start.
func history() string {
	type series struct {
		family, typ, name string
		labels            string
		value             func(min float64) float64
	}
	constant := func(v float64) func(float64) float64 { return func(float64) float64 { return v } }
	list := []series{
		// Checkout p99: red (3 s) from :12 for 14 min, orange (1.5 s)
		// from :40 for 5 min, else 0.5 s.
		{"checkout_p99_seconds", "gauge", "checkout_p99_seconds", `service="checkout"`, func(m float64) float64 {
			switch {
			case m >= 12 && m < 26:
				return 3
			case m >= 40 && m < 45:
				return 1.5
			}
			return 0.5
		}},
		{"checkout_p99_seconds", "gauge", "checkout_p99_seconds", `service="search"`, constant(5)},
		{"queue_depth", "gauge", "queue_depth", `queue="orders"`, constant(50)},
		{"queue_depth", "gauge", "queue_depth", `queue="emails"`, constant(950)},
		{"queue_depth", "gauge", "queue_depth", `queue="billing"`, constant(7)},
		// 6% of the 0..1000 range: green, though 60 is past the yellow
		// step's 50 taken as an absolute value.
		{"queue_depth", "gauge", "queue_depth", `queue="refunds"`, constant(60)},
		// Disk: 85% until :50, then 97%.
		{"disk_used_ratio", "gauge", "disk_used_ratio", ``, func(m float64) float64 {
			if m >= 50 {
				return 0.97
			}
			return 0.85
		}},
		{"error_budget_remaining", "gauge", "error_budget_remaining", ``, constant(0.2)},
		{"requests_per_second", "gauge", "requests_per_second", ``, constant(120)},
		{"up_ratio", "gauge", "up_ratio", ``, constant(1)},
		// One 500 a second.
		{"http_requests", "counter", "http_requests_total", `code="500"`, func(m float64) float64 { return 1000 + (m+10)*60 }},
		// Ceph's dashboards.
		{"ceph_health_status", "gauge", "ceph_health_status", `job="ceph"`, constant(1)},
		{"ceph_osd_stat_bytes_used", "gauge", "ceph_osd_stat_bytes_used", `ceph_daemon="osd.0",job="ceph"`, constant(850)},
		{"ceph_osd_stat_bytes", "gauge", "ceph_osd_stat_bytes", `ceph_daemon="osd.0",job="ceph"`, constant(1000)},
		{"ceph_osd_metadata", "gauge", "ceph_osd_metadata", `ceph_daemon="osd.0",device_class="ssd",job="ceph"`, constant(1)},
		{"ceph_pool_metadata", "gauge", "ceph_pool_metadata", `instance="ceph:9283",job="ceph",name="rbd",pool_id="1"`, constant(1)},
		{"ceph_pool_stored", "gauge", "ceph_pool_stored", `instance="ceph:9283",job="ceph",pool_id="1"`, constant(75)},
		{"ceph_pool_max_avail", "gauge", "ceph_pool_max_avail", `instance="ceph:9283",job="ceph",pool_id="1"`, constant(25)},
	}
	var b strings.Builder
	typed := map[string]bool{}
	for _, s := range list {
		if !typed[s.family] {
			fmt.Fprintf(&b, "# TYPE %s %s\n", s.family, s.typ)
			typed[s.family] = true
		}
		// From 10 minutes before the window (rates look back), every 15 s.
		for t := start.Add(-10 * time.Minute); !t.After(end); t = t.Add(15 * time.Second) {
			m := t.Sub(start).Minutes()
			fmt.Fprintf(&b, "%s{%s} %v %d\n", s.name, s.labels, s.value(m), t.Unix())
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

var prom *testenv.Prometheus

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	prom, err = testenv.StartPrometheus(ctx, testenv.PrometheusOptions{Backfill: history()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = prom.Stop() }()
	return m.Run()
}

// newCheck is the check of cfg against the test Prometheus at end, in UTC.
func newCheck(t testing.TB, cfg grafana.Config, g *grafanatest.Server) *grafana.Check {
	t.Helper()
	if cfg.Window == 0 {
		cfg.Window = model.Duration(time.Hour)
	}
	env := grafana.Env{PrometheusURL: prom.URL(), Location: time.UTC, Now: func() time.Time { return end }}
	if g != nil {
		cfg.URL = g.URL()
	}
	c, err := grafana.New(cfg, env, grafana.Clients{Grafana: httpx.NewClient(httpx.Options{BearerToken: token})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fakeGrafana(t testing.TB) *grafanatest.Server {
	g := grafanatest.New(token)
	t.Cleanup(g.Close)
	for uid, file := range map[string]string{"opsbot-forms": "every-threshold-form.json", "-xyV8KCiz": "pool-detail.json"} {
		if err := g.AddFile(uid, filepath.Join("testdata", file)); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// TestDashboards evaluates every panel of the test dashboards (one of our
// own with every threshold form, two of Debian's packaged Ceph dashboards)
// against the real Prometheus: each panel's colour, breach window and
// link, and the panels not evaluated with their reasons.
func TestDashboards(t *testing.T) {
	g := fakeGrafana(t)
	c := newCheck(t, grafana.Config{
		Dashboards: []string{"opsbot-forms", "-xyV8KCiz"},
		Files:      []string{filepath.Join("testdata", "ceph-cluster.json")},
		TokenEnv:   "GRAFANA_TOKEN",
	}, g)
	res := c.Run(t.Context())

	at := func(m int) string { return start.Add(time.Duration(m) * time.Minute).Format("15:04") }
	window := fmt.Sprintf("&from=%d&to=%d", start.UnixMilli(), end.UnixMilli())
	link := func(uid string, id int) string {
		return fmt.Sprintf("%s/d/%s?viewPanel=%d%s", g.URL(), uid, id, window)
	}
	type want struct {
		severity checks.Status
		title    string
		link     string
	}
	wants := map[string]want{
		"grafana/opsbot-forms/panel-1/checkout": {checks.Fail,
			`panel "Checkout p99" was red (≥ 2 s) from ` + at(12) + ` for 14 min`, link("opsbot-forms", 1)},
		"grafana/opsbot-forms/panel-2/orders": {checks.Warn,
			`panel "Queue depth" (orders) is orange (≥ 30): 50 (lastNotNull)`, link("opsbot-forms", 2)},
		"grafana/opsbot-forms/panel-2/emails": {checks.Fail,
			`panel "Queue depth" (emails) is red (≥ 90% of the range): 950 (lastNotNull)`, link("opsbot-forms", 2)},
		"grafana/opsbot-forms/panel-2/billing": {checks.Fail,
			`panel "Queue depth" (billing) is red (≥ 5): 7 (lastNotNull)`, link("opsbot-forms", 2)},
		"grafana/opsbot-forms/panel-3/A": {checks.Warn,
			`panel "Disk used" is yellow (≥ 80%): 87% (mean)`, link("opsbot-forms", 3)},
		"grafana/opsbot-forms/panel-4/A": {checks.Fail,
			`panel "Error budget left" is red (< 50%): 20% (last)`, link("opsbot-forms", 4)},
		"grafana/opsbot-forms/panel-5/A": {checks.Fail,
			`panel "Worst p99 of checkout" is red (≥ 2 s): 3 s (max)`, link("opsbot-forms", 5)},
		"grafana/opsbot-forms/panel-6/A": {checks.Fail,
			`panel "Requests per second" is purple (≥ 100 req/s): 120 req/s (lastNotNull)`, link("opsbot-forms", 6)},
		"grafana/opsbot-forms/panel-7/A": {checks.Fail,
			`panel "5xx rate" is red (≥ 0.5 req/s): 1 req/s (mean)`, link("opsbot-forms", 7)},
		"grafana/opsbot-forms/panel-8/{service=\"checkout\"}": {checks.Fail,
			`panel "Worst p99 over the range" is red (≥ 2 s): 3 s (lastNotNull)`, link("opsbot-forms", 8)},
		"grafana/opsbot-forms/panel-16/A": {checks.Fail,
			`panel "Disk used over time" is red (≥ 95%) since ` + at(50) + ` (10 min)`, link("opsbot-forms", 16)},
		`grafana/-xyV8KCiz/panel-2/{instance="ceph:9283", job="ceph", name="rbd", pool_id="1"}`: {checks.Warn,
			`panel "Capacity used" is orange (≥ 70%): 75% (lastNotNull)`, link("-xyV8KCiz", 2)},
		"grafana/ceph-cluster.json/panel-21/ceph_health_status{job=\"ceph\"}": {checks.Warn,
			`panel "Health Status" is orange (≥ 1): 1 (lastNotNull)`, ""},
		"grafana/ceph-cluster.json/panel-47/Used": {checks.Fail,
			`panel "Capacity used" is red (≥ 80%): 85% (lastNotNull)`, ""},
	}
	got := map[string]checks.Finding{}
	var skipped *checks.Finding
	for _, f := range res.Findings {
		if f.Fingerprint == "grafana/not-evaluated" {
			skipped = &f
			continue
		}
		got[f.Fingerprint] = f
	}
	for fp, w := range wants {
		f, ok := got[fp]
		if !ok {
			t.Errorf("no finding %s (%s)", fp, w.title)
			continue
		}
		if f.Severity != w.severity || f.Title != w.title || f.Link != w.link {
			t.Errorf("finding %s:\n got %v %q %s\nwant %v %q %s", fp, f.Severity, f.Title, f.Link, w.severity, w.title, w.link)
		}
	}
	for _, fp := range slices.Sorted(maps.Keys(got)) {
		if _, ok := wants[fp]; !ok {
			t.Errorf("unexpected finding %s: %s", fp, got[fp].Title)
		}
	}
	if res.Status != checks.Fail {
		t.Errorf("status %v, want fail; summary %q", res.Status, res.Summary)
	}

	// Every panel not evaluated is listed with its reason.
	if skipped == nil {
		t.Fatalf("no listing of the panels not evaluated; findings: %v", res.Findings)
	}
	if skipped.Severity != checks.OK {
		t.Errorf("the listing has severity %v, want ok (informational)", skipped.Severity)
	}
	for _, line := range []string{
		`Every threshold form / Error logs (panel 10): its datasource is loki (uid "loki-prod"), not Prometheus`,
		`Every threshold form / p99 jitter (panel 12): calculation "stdDev" is not one the check computes`,
		`Every threshold form / Typo (panel 13): query A uses $queu, which the dashboard does not define`,
		`Every threshold form / Expression only (panel 14): no Prometheus queries to run (every query hidden, empty or an expression)`,
		`Ceph Pool Details / Time till full (panel 3): singlestat threshold "current" is not a number`,
		`Every threshold form / Traffic (panel 11): no thresholds shown (thresholdsStyle off, colour not by thresholds)`,
		`Every threshold form / Read me (panel 15): a text panel: no thresholds the check evaluates`,
		`Every threshold form / Shared SLO (panel 17): a library panel ("SLO burn", uid slo-lib): its queries and thresholds are in Grafana's library, not in the dashboard`,
		`Every threshold form / Ratio (panel 18): it transforms its data (calculateField), which the check does not do`,
		`Ceph Pool Details / rbd Client IOPS (panel 5): no thresholds`,
		`Ceph - Cluster / OSDs (panel 43): no thresholds`,
		`Ceph - Cluster / PGs per OSD (panel 59): a heatmap panel: no thresholds the check evaluates`,
	} {
		if !strings.Contains(skipped.Detail, line) {
			t.Errorf("listing lacks %q; it is:\n%s", line, skipped.Detail)
		}
	}
	// Every panel of the dashboards is either evaluated or listed.
	const panels = 18 + 6 + 12 // ours (the row's panel, not the row), pool details, cluster
	const evaluated = 10 + 1 + 2
	if n := strings.Count(skipped.Detail, "\n") + 1; n != panels-evaluated {
		t.Errorf("%d panels listed, want %d:\n%s", n, panels-evaluated, skipped.Detail)
	}
	// Each panel counted by its worst series' colour: the green one too.
	if want := "13 panels of 3 dashboards evaluated: 1 purple, 8 red, 2 orange, 1 yellow, 1 green; 7 not evaluable; 16 without thresholds"; res.Summary != want {
		t.Errorf("summary\n got %q\nwant %q", res.Summary, want)
	}
}
