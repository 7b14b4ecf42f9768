package grafana_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/opsbot/opsbot/checks/grafana"
)

// benchPanels is the size of the benchmark's dashboard.
const benchPanels = 50

// benchExprs are the 50 distinct PromQL expressions of the benchmark's
// panels, over the planted series.
func benchExprs() []string {
	forms := []string{
		`max_over_time(checkout_p99_seconds{service="checkout"}[%ds])`,
		`sum(rate(http_requests_total{code="500"}[%ds]))`,
		`avg_over_time(disk_used_ratio[%ds])`,
		`max by (queue) (max_over_time(queue_depth[%ds]))`,
		`quantile_over_time(0.9, checkout_p99_seconds[%ds])`,
	}
	exprs := make([]string, benchPanels)
	for i := range exprs {
		exprs[i] = fmt.Sprintf(forms[i%len(forms)], 60+15*i)
	}
	return exprs
}

// benchDashboard is a 50-panel dashboard: stat and time series panels
// alternating, each with thresholds, one query each.
func benchDashboard() []byte {
	var panels []map[string]any
	th := map[string]any{"mode": "absolute", "steps": []map[string]any{{"color": "green", "value": nil}, {"color": "red", "value": 2}}}
	for i, e := range benchExprs() {
		p := map[string]any{"id": i + 1, "title": "panel " + strconv.Itoa(i+1),
			"datasource": map[string]any{"type": "prometheus", "uid": "prom"},
			"targets":    []map[string]any{{"refId": "A", "expr": e}}}
		if i%2 == 0 {
			p["type"] = "stat"
			p["fieldConfig"] = map[string]any{"defaults": map[string]any{"thresholds": th}}
			p["options"] = map[string]any{"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}}}
		} else {
			p["type"] = "timeseries"
			p["fieldConfig"] = map[string]any{"defaults": map[string]any{"thresholds": th,
				"custom": map[string]any{"thresholdsStyle": map[string]any{"mode": "line"}}}}
		}
		panels = append(panels, p)
	}
	data, _ := json.Marshal(map[string]any{"uid": "bench", "title": "Bench", "panels": panels})
	return data
}

// BenchmarkGrafanaCheck50Panels is the check over a 50-panel dashboard
// served by the fake Grafana, its queries answered by the real Prometheus
// (a 1h window: 241 points per series), with one query at a time and with
// the default concurrency.
func BenchmarkGrafanaCheck50Panels(b *testing.B) {
	for _, conc := range []int{1, grafana.DefaultConcurrency} {
		b.Run("concurrency="+strconv.Itoa(conc), func(b *testing.B) {
			g := fakeGrafana(b)
			if err := g.Add("bench", benchDashboard()); err != nil {
				b.Fatal(err)
			}
			c := newCheck(b, grafana.Config{Dashboards: []string{"bench"}, Concurrency: conc}, g)
			res := c.Run(b.Context())
			if want := "50 panels of 1 dashboard evaluated"; !strings.HasPrefix(res.Summary, want) {
				b.Fatalf("summary %q, want %q...", res.Summary, want)
			}
			for b.Loop() {
				c.Run(b.Context())
			}
		})
	}
}

// BenchmarkNaive50Panels is the baseline: what a script (or a person
// opening the panels one by one) does for the same dashboard: fetch it,
// then issue the same 50 range queries one after the other, decoding each
// answer.
func BenchmarkNaive50Panels(b *testing.B) {
	g := fakeGrafana(b)
	if err := g.Add("bench", benchDashboard()); err != nil {
		b.Fatal(err)
	}
	exprs := benchExprs()
	startS, endS := strconv.FormatInt(start.Unix(), 10), strconv.FormatInt(end.Unix(), 10)
	get := func(u string, auth bool) []byte {
		req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, u, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %v", u, resp.StatusCode, err)
		}
		return body
	}
	for b.Loop() {
		var d struct{ Dashboard json.RawMessage }
		if err := json.Unmarshal(get(g.URL()+"/api/dashboards/uid/bench", true), &d); err != nil {
			b.Fatal(err)
		}
		for _, e := range exprs {
			q := url.Values{"query": {e}, "start": {startS}, "end": {endS}, "step": {"15"}}
			var r struct {
				Data struct {
					Result []struct {
						Values [][2]any `json:"values"`
					} `json:"result"`
				} `json:"data"`
			}
			if err := json.Unmarshal(get(prom.URL()+"/api/v1/query_range?"+q.Encode(), false), &r); err != nil {
				b.Fatal(err)
			}
		}
	}
}
