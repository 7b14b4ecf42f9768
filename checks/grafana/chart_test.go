package grafana_test

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/grafana"
	"github.com/opsbot/opsbot/internal/config"
)

// TestPanelCharts checks that a panel's finding says how to draw it: the
// query as the check ran it, the series, and the panel's first warn and
// fail steps as lines (a percentage step made absolute, a red base not
// drawn), and that the chart draws from the real Prometheus.
func TestPanelCharts(t *testing.T) {
	g := fakeGrafana(t)
	c := newCheck(t, grafana.Config{Dashboards: []string{"opsbot-forms"}, TokenEnv: "GRAFANA_TOKEN"}, g)
	res := c.Run(t.Context())
	byFP := map[string]checks.Finding{}
	for _, f := range res.Findings {
		byFP[f.Fingerprint] = f
	}
	f64 := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}

	checkout := byFP["grafana/opsbot-forms/panel-1/checkout"]
	src := checkout.Chart
	if src == nil {
		t.Fatalf("the Checkout p99 finding has no chart source: %+v", checkout)
	}
	if f64(src.Warn) != 1.0 || f64(src.Fail) != 2.0 || src.Unit != "seconds" || src.Series["service"] != "checkout" ||
		!src.At.Equal(end) || src.Window != end.Sub(start) {
		t.Errorf("Checkout p99 chart: %+v (warn %v, fail %v)", src, f64(src.Warn), f64(src.Fail))
	}

	// A base step that is red: lower is worse, which the chart's above
	// thresholds cannot draw, so none is drawn.
	if b := byFP["grafana/opsbot-forms/panel-4/A"].Chart; b == nil || b.Warn != nil || b.Fail != nil {
		t.Errorf("Error budget left chart %+v: want a chart without threshold lines", b)
	}

	// Percentage steps (50% yellow, 90% red) of the panel's range (its
	// min 0 and max 1000) are drawn where the check coloured: 500 and 900.
	emails := byFP["grafana/opsbot-forms/panel-2/emails"].Chart
	if emails == nil || f64(emails.Warn) != 500.0 || f64(emails.Fail) != 900.0 {
		t.Errorf("Queue depth (emails) chart %+v: want warn 500, fail 900", emails)
	}

	charts, err := checklist.NewCharts(checklist.ChartsOptions{}, &config.Environment{Name: "prod", Prometheus: &config.Endpoint{URL: prom.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	ch, ok, err := charts.Chart(t.Context(), "prod", checkout)
	if err != nil || !ok {
		t.Fatalf("Chart: ok %v, err %v", ok, err)
	}
	img, err := png.Decode(bytes.NewReader(ch.PNG))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 200 {
		t.Errorf("chart is %v", b)
	}
}
