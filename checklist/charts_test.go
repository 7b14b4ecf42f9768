package checklist

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/opsbot/opsbot/chart"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/config"
)

// rangeProm is a Prometheus answering range queries with two series, one
// of which breaches 0.8 in the middle of the window.
func rangeProm(t *testing.T, got *http.Request) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query_range" {
			http.NotFound(w, r)
			return
		}
		*got = *r.Clone(context.Background())
		var start, end float64
		fmt.Sscan(r.URL.Query().Get("start"), &start)
		fmt.Sscan(r.URL.Query().Get("end"), &end)
		series := func(pod string, peak float64) map[string]any {
			var vals [][]any
			for ts := start; ts <= end; ts += 60 {
				v := 0.5
				if ts > start+(end-start)*0.4 && ts < start+(end-start)*0.6 {
					v = peak
				}
				vals = append(vals, []any{ts, fmt.Sprint(v)})
			}
			return map[string]any{"metric": map[string]string{"namespace": "shop", "pod": pod}, "values": vals}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{
			"resultType": "matrix", "result": []any{series("api-1", 0.97), series("db-0", 0.6)},
		}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestChartDrawsTheFindingsSeriesFromPrometheus(t *testing.T) {
	var req http.Request
	prom := rangeProm(t, &req)
	charts, err := NewCharts(ChartsOptions{},
		&config.Environment{Name: "prod", Prometheus: &config.Endpoint{URL: prom.URL + "/"}},
		&config.Environment{Name: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	warn, fail := 0.8, 0.95
	f := checks.Finding{Fingerprint: "metrics/memory/namespace=shop/pod=api-1", Chart: &checks.ChartSource{
		Title: "memory vs limit: shop/api-1", Query: "mem", Series: map[string]string{"pod": "api-1"},
		Warn: &warn, Fail: &fail, Unit: "ratio", At: at, Window: 6 * time.Hour,
	}}
	ch, ok, err := charts.Chart(context.Background(), "prod", f)
	if err != nil || !ok {
		t.Fatalf("Chart: ok %v, err %v", ok, err)
	}
	q := req.URL.Query()
	if q.Get("query") != "mem" || q.Get("start") != "1796526000.000" || q.Get("end") != "1796547600.000" || q.Get("step") != "10" {
		t.Errorf("range query %v", q)
	}
	img, err := png.Decode(bytes.NewReader(ch.PNG))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != chart.DefaultWidth || b.Dy() != chart.DefaultHeight {
		t.Errorf("size %v", b)
	}
	if want := "metrics_memory_namespace_shop_pod_api-1-"; !strings.HasPrefix(ch.Name, want) || !strings.HasSuffix(ch.Name, ".png") {
		t.Errorf("name %q, want %q...png", ch.Name, want)
	}
	if want := "Chart of memory vs limit: shop/api-1 from 2026-12-06 03:00 to 09:00 UTC, with thresholds warn 0.8 and fail 0.95"; ch.AltText != want {
		t.Errorf("alt text %q, want %q", ch.AltText, want)
	}

	// A title as long as a finding's allows: the alt text stays within
	// Slack's limit.
	long := f
	src := *f.Chart
	src.Title = strings.Repeat("memory of pod x ", 100)
	long.Chart = &src
	if ch, _, err := charts.Chart(context.Background(), "prod", long); err != nil || utf8.RuneCountInString(ch.AltText) > MaxAltText {
		t.Errorf("alt text of %d characters (err %v), want at most %d", utf8.RuneCountInString(ch.AltText), err, MaxAltText)
	}

	// No chart, and no error, without a source or a Prometheus.
	for _, tc := range []struct {
		env string
		f   checks.Finding
	}{{"dev", f}, {"prod", checks.Finding{Fingerprint: "pods/x"}}, {"nowhere", f}} {
		if _, ok, err := charts.Chart(context.Background(), tc.env, tc.f); ok || err != nil {
			t.Errorf("%s %s: ok %v, err %v; want no chart", tc.env, tc.f.Fingerprint, ok, err)
		}
	}
	// A series that is gone: no chart either.
	gone := *f.Chart
	gone.Series = map[string]string{"pod": "api-2"}
	if _, ok, err := charts.Chart(context.Background(), "prod", checks.Finding{Chart: &gone}); ok || err != nil {
		t.Errorf("gone series: ok %v, err %v; want no chart", ok, err)
	}
}

func TestChartSaysWhyPrometheusFailed(t *testing.T) {
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"parse error"}`))
	}))
	defer prom.Close()
	charts, err := NewCharts(ChartsOptions{}, &config.Environment{Name: "prod", Prometheus: &config.Endpoint{URL: prom.URL}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	_, ok, err := charts.Chart(context.Background(), "prod", checks.Finding{Fingerprint: "metrics/x",
		Chart: &checks.ChartSource{Query: "(", At: at, Window: time.Hour}})
	if ok || err == nil || !strings.Contains(err.Error(), "bad_data: parse error") {
		t.Fatalf("ok %v, err %v; want the bad_data error", ok, err)
	}
}

func TestChartFileName(t *testing.T) {
	a, b := ChartFileName("metrics/a/b"), ChartFileName("metrics/a_b")
	if a == b {
		t.Fatalf("two fingerprints, one file name %q", a)
	}
	for _, fp := range []string{"../../etc/passwd", "logs/" + strings.Repeat("x", 400), ".hidden", "a b\x00c"} {
		n := ChartFileName(fp)
		if strings.ContainsAny(n, "/\\ \x00") || strings.HasPrefix(n, ".") || len(n) > 140 || !strings.HasSuffix(n, ".png") {
			t.Errorf("ChartFileName(%q) = %q", fp, n)
		}
	}
}
