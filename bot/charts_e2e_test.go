package bot_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/chart"
	"github.com/opsbot/opsbot/chart/charttest"
	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/telemetry"
	"github.com/opsbot/opsbot/triage"
)

// fakeCharts draws a finding's chart from made-up samples (the Prometheus
// side is checklist.Charts' test), or fails with err.
type fakeCharts struct {
	mu    sync.Mutex
	calls []string // env/fingerprint
	err   error
}

func (c *fakeCharts) Chart(_ context.Context, env string, f checks.Finding) (checklist.Chart, bool, error) {
	c.mu.Lock()
	c.calls = append(c.calls, env+"/"+f.Fingerprint)
	c.mu.Unlock()
	if c.err != nil {
		return checklist.Chart{}, false, c.err
	}
	src := f.Chart
	var pts []chart.Point
	for i := range 360 {
		v := 0.5
		if i > 200 && i < 240 {
			v = 0.97
		}
		pts = append(pts, chart.Point{T: src.At.Add(-src.Window + time.Duration(i)*time.Minute), V: v})
	}
	png, err := chart.Render(chart.Spec{Title: src.Title, Unit: src.Unit, Start: src.At.Add(-src.Window), End: src.At,
		Series: []chart.Series{{Points: pts}}, Thresholds: []chart.Threshold{{Label: "warn", Value: *src.Warn}}})
	return checklist.Chart{Name: checklist.ChartFileName(f.Fingerprint), Title: src.Title, AltText: "a chart", PNG: png}, err == nil, err
}

func metricFinding() checks.Finding {
	f := finding("metrics", "shop/api-1", "memory vs limit: shop/api-1 at 97%")
	warn := 0.8
	f.Chart = &checks.ChartSource{Title: "memory vs limit: shop/api-1", Query: "mem", Warn: &warn, Unit: "ratio",
		At: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), Window: 6 * time.Hour}
	return f
}

// chartsCounted is opsbot_charts_total{outcome}.
func chartsCounted(t *testing.T, m *telemetry.Metrics, outcome string) float64 {
	t.Helper()
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "opsbot_charts_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			if s.GetLabel()[0].GetValue() == outcome {
				return s.GetCounter().GetValue()
			}
		}
	}
	return math.NaN()
}

// waitCounted waits until opsbot_charts_total{outcome} is want: the bot
// counts after the fact, and a metric wakes no fake Slack's waiters, so
// it is looked at on a ticker until waitTimeout.
func waitCounted(t *testing.T, m *telemetry.Metrics, outcome string, want float64) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitTimeout)
	for chartsCounted(t, m, outcome) != want {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("opsbot_charts_total{outcome=%q} is %v, want %v", outcome, chartsCounted(t, m, outcome), want)
		}
	}
}

func TestInvestigatePostsTheChartInTheThread(t *testing.T) {
	fs := newFake(t)
	charts := &fakeCharts{}
	metrics := telemetry.New("test")
	h := newHarness(t, fs, openStore(t, onSQLite, ""), pinClock, func(o *setup) { o.Charts, o.Metrics = charts, metrics })
	h.setChecks(&fakeCheck{name: "metrics", result: result(metricFinding())},
		&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "CrashLoopBackOff"))})
	h.start()
	// The upload URL fails once: the Web API layer retries it.
	fs.ServerErrorNext("upload", 1, http.StatusServiceUnavailable)

	rep := h.report(alice)
	root := h.investigate(alice, rep, 0)
	f, err := fs.WaitForFile(h.ctx, func(f slacktest.File) bool { return f.Shared() })
	if err != nil {
		t.Fatalf("no chart shared: %v", err)
	}
	if f.Channel != devChannel || f.ThreadTS != root.TS || f.Title != "memory vs limit: shop/api-1" || f.AltText != "a chart" {
		t.Errorf("file %+v, want the chart in the anomaly's thread", f)
	}
	img, err := png.Decode(bytes.NewReader(f.Data))
	if err != nil {
		t.Fatalf("the shared file is not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got != (image.Point{X: chart.DefaultWidth, Y: chart.DefaultHeight}) {
		t.Errorf("chart size %v", got)
	}
	if len(charttest.Rows(img, chart.WarnColor)) == 0 {
		t.Error("the chart has no threshold line")
	}
	if n := len(fs.Calls("upload")); n != 2 {
		t.Errorf("%d POSTs to the upload URL, want 2 (one 503, one retry)", n)
	}
	waitCounted(t, metrics, telemetry.ChartPosted, 1)

	// A finding without a chart source gets none, and a thread opened
	// again gets no second chart.
	h.investigate(alice, rep, 1)
	told := len(fs.Ephemerals(alice))
	h.click(alice, opsChannel, rep.TS, bot.ActionInvestigate, "finding/0")
	if err := fs.WaitFor(h.ctx, func() bool { return len(fs.Ephemerals(alice)) > told }); err != nil {
		t.Fatal(err)
	}
	charts.mu.Lock()
	calls := charts.calls
	charts.mu.Unlock()
	if len(calls) != 1 || calls[0] != "prod/"+metricFinding().Fingerprint || len(fs.Files()) != 1 {
		t.Errorf("charts drawn %v, files %d; want the metric finding's once", calls, len(fs.Files()))
	}
}

func TestAChartThatFailsLeavesTheThread(t *testing.T) {
	for name, tc := range map[string]struct {
		charts *fakeCharts
		inject func(*slacktest.Server)
	}{
		"drawing":  {&fakeCharts{err: errors.New("prometheus down")}, func(*slacktest.Server) {}},
		"upload":   {&fakeCharts{}, func(fs *slacktest.Server) { fs.ServerErrorNext("upload", 10, http.StatusInternalServerError) }},
		"complete": {&fakeCharts{}, func(fs *slacktest.Server) { fs.FailNext("files.completeUploadExternal", "not_in_channel", 1) }},
	} {
		t.Run(name, func(t *testing.T) {
			fs := newFake(t)
			metrics := telemetry.New("test")
			h := newHarness(t, fs, openStore(t, onSQLite, ""), pinClock, func(o *setup) { o.Charts, o.Metrics = tc.charts, metrics })
			h.setChecks(&fakeCheck{name: "metrics", result: result(metricFinding())})
			h.start()
			tc.inject(fs)
			rep := h.report(alice)
			root := h.investigate(alice, rep, 0)
			waitCounted(t, metrics, telemetry.ChartFailed, 1)
			if _, ok := fs.Message(devChannel, root.TS); !ok {
				t.Error("the anomaly's root message is gone")
			}
			for _, f := range fs.Files() {
				if f.Shared() {
					t.Errorf("file %s shared", f.ID)
				}
			}
			// The thread is usable: a decision goes through.
			h.openModal(alice, root, triage.Decisions[0])
		})
	}
}
