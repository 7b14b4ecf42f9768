package metrics

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
)

var pinned = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// reply is a canned answer of the fake Prometheus.
type reply struct {
	code int
	body string
}

// fakeProm answers /api/v1/query by the query parameter and records the
// requests.
type fakeProm struct {
	*httptest.Server
	mu      sync.Mutex
	replies map[string]reply
	reqs    []*http.Request
}

func newFakeProm(t *testing.T, replies map[string]reply) *fakeProm {
	t.Helper()
	f := &fakeProm{replies: replies}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r)
		rep, ok := f.replies[r.URL.Query().Get("query")]
		f.mu.Unlock()
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		if !ok {
			rep = reply{400, `{"status":"error","errorType":"bad_data","error":"unexpected query in test"}`}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(cmpOr(rep.code, 200))
		_, _ = w.Write([]byte(rep.body))
	}))
	t.Cleanup(f.Close)
	return f
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// vector returns a success answer with the given samples, each "labels
// value" like `{pod="a"} 0.5`.
func vector(samples ...string) reply {
	var parts []string
	for _, s := range samples {
		i := strings.LastIndex(s, " ")
		labels, value := s[:i], s[i+1:]
		m := map[string]string{}
		for _, kv := range strings.Split(strings.Trim(labels, "{}"), ",") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			m[strings.TrimSpace(k)] = strings.Trim(v, `"`)
		}
		var ls []string
		for k, v := range m {
			ls = append(ls, fmt.Sprintf("%q:%q", k, v))
		}
		parts = append(parts, fmt.Sprintf(`{"metric":{%s},"value":[1764000000,%q]}`, strings.Join(ls, ","), value))
	}
	return reply{200, `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(parts, ",") + `]}}`}
}

func f64(v float64) *float64 { return &v }

func off() *bool { b := false; return &b }

func newCheck(t *testing.T, cfg Config, env Env) *Check {
	t.Helper()
	c, err := New(cfg, env, nil, zap.NewNop())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.now = func() time.Time { return pinned }
	return c
}

func TestRequest(t *testing.T) {
	p := newFakeProm(t, map[string]reply{`up{namespace=~"shop|payments"}`: vector()})
	c := newCheck(t, Config{Defaults: off(), Queries: []Query{{Name: "up", Query: `up{namespace=~"{{namespace}}"}`, Fail: f64(0), Direction: Below}}},
		Env{PrometheusURL: p.URL + "/", Namespaces: []string{"shop", "payments"}})
	res := c.Run(context.Background())
	if res.Status != checks.OK || res.Summary != "no data: up" {
		t.Errorf("got %v %q", res.Status, res.Summary)
	}
	if len(p.reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(p.reqs))
	}
	r := p.reqs[0]
	q := r.URL.Query()
	if r.Method != http.MethodGet || r.URL.Path != "/api/v1/query" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	if got, want := q.Get("time"), "1795510800.000"; got != want {
		t.Errorf("time=%q, want %q", got, want)
	}
	if q.Get("timeout") == "" {
		t.Errorf("no timeout parameter: %v", q)
	}
}

func TestEvaluate(t *testing.T) {
	p := newFakeProm(t, map[string]reply{
		"mem": vector(
			`{namespace="shop",pod="api-7d9f8c6b5-x2x9q",container="api"} 0.93`,
			`{namespace="shop",pod="web-5c7d8f9b4-abcde",container="web"} 0.5`,
			`{namespace="shop",pod="db-0",container="postgres"} 0.97`,
			`{namespace="shop",pod="idle-6b5d8c9f7-zzzzz",container="idle"} NaN`,
		),
	})
	mem := Query{Name: "mem", Description: "memory vs limit", Query: "mem", Warn: f64(0.8), Fail: f64(0.95), Unit: UnitRatio,
		Labels: []string{"namespace", "pod", "container"}}
	c := newCheck(t, Config{Defaults: off(), Queries: []Query{mem}}, Env{PrometheusURL: p.URL, GrafanaURL: "https://grafana.example.com/d/k8s"})
	res := c.Run(context.Background())
	if res.Status != checks.Fail {
		t.Errorf("status %v, want fail", res.Status)
	}
	if want := "2 series over threshold in 1 of 1 queries (1 fail)"; res.Summary != want {
		t.Errorf("summary %q, want %q", res.Summary, want)
	}
	want := []checks.Finding{{
		Fingerprint: "metrics/mem/namespace=shop/pod=db-0/container=postgres",
		Severity:    checks.Fail,
		Object:      "shop/db-0 container=postgres",
		Title:       "memory vs limit: shop/db-0 container=postgres at 97% (warn 80%, fail 95%)",
		Detail:      `{container="postgres", namespace="shop", pod="db-0"}`,
		Link:        "https://grafana.example.com/d/k8s",
		Chart: &checks.ChartSource{
			Title: "memory vs limit: shop/db-0 container=postgres", Query: "mem",
			Series: map[string]string{"namespace": "shop", "pod": "db-0", "container": "postgres"},
			Warn:   f64(0.8), Fail: f64(0.95), Unit: UnitRatio, At: pinned, Window: ChartWindow,
		},
	}, {
		Fingerprint: "metrics/mem/namespace=shop/pod=api/container=api",
		Severity:    checks.Warn,
		Object:      "shop/api-7d9f8c6b5-x2x9q container=api",
		Title:       "memory vs limit: shop/api-7d9f8c6b5-x2x9q container=api at 93% (warn 80%, fail 95%)",
		Detail:      `{container="api", namespace="shop", pod="api-7d9f8c6b5-x2x9q"}`,
		Link:        "https://grafana.example.com/d/k8s",
		Chart: &checks.ChartSource{
			Title: "memory vs limit: shop/api-7d9f8c6b5-x2x9q container=api", Query: "mem",
			Series: map[string]string{"namespace": "shop", "pod": "api-7d9f8c6b5-x2x9q", "container": "api"},
			Warn:   f64(0.8), Fail: f64(0.95), Unit: UnitRatio, At: pinned, Window: ChartWindow,
		},
	}}
	if !reflect.DeepEqual(res.Findings, want) {
		t.Errorf("findings\n%+v\nwant\n%+v", res.Findings, want)
	}
}

func TestMergeAndCap(t *testing.T) {
	var samples []string
	// Two pods of one Deployment: one finding.
	samples = append(samples, `{namespace="shop",pod="api-7d9f8c6b5-x2x9q",instance="10.0.0.1:8080"} 7`,
		`{namespace="shop",pod="api-7d9f8c6b5-bcdfg",instance="10.0.0.2:8080"} 3`)
	for i := range 12 {
		samples = append(samples, fmt.Sprintf(`{namespace="shop",pod="sts-%d"} %d`, i, 2+i%2))
	}
	p := newFakeProm(t, map[string]reply{"restarts": vector(samples...)})
	q := Query{Name: "restarts", Query: "restarts", Warn: f64(1), Fail: f64(5)}
	c := newCheck(t, Config{Defaults: off(), Queries: []Query{q}}, Env{PrometheusURL: p.URL})
	res := c.Run(context.Background())
	if len(res.Findings) != DefaultMaxFindings {
		t.Fatalf("%d findings, want %d", len(res.Findings), DefaultMaxFindings)
	}
	api := res.Findings[0]
	if api.Fingerprint != "metrics/restarts/namespace=shop/pod=api" || api.Count != 2 || api.Severity != checks.Fail {
		t.Errorf("merged finding %+v", api)
	}
	if want := "restarts: shop/api-7d9f8c6b5-x2x9q instance=10.0.0.1:8080 at 7 (warn 1, fail 5) (+1 similar)"; api.Title != want {
		t.Errorf("title %q, want %q", api.Title, want)
	}
	if want := "shop/api-7d9f8c6b5-bcdfg instance=10.0.0.2:8080: 3\nshop/api-7d9f8c6b5-x2x9q instance=10.0.0.1:8080: 7"; api.Detail != want {
		t.Errorf("detail %q, want %q", api.Detail, want)
	}
	// Link defaults to the query in Prometheus's graph page.
	if !strings.HasPrefix(api.Link, p.URL+"/graph?") || !strings.Contains(api.Link, "g0.expr=restarts") {
		t.Errorf("link %q", api.Link)
	}
	if want := "14 series over threshold in 1 of 1 queries (1 fail); restarts: and 3 more"; res.Summary != want {
		t.Errorf("summary %q, want %q", res.Summary, want)
	}
	// Worst first: 3s before 2s.
	if !strings.Contains(res.Findings[1].Title, " at 3 ") || !strings.Contains(res.Findings[9].Title, " at 2 ") {
		t.Errorf("order: %q ... %q", res.Findings[1].Title, res.Findings[9].Title)
	}
}

func TestScalarBelowAndUnits(t *testing.T) {
	p := newFakeProm(t, map[string]reply{
		"scalar(up)": {200, `{"status":"success","data":{"resultType":"scalar","result":[1764000000,"1"]}}`},
		"latency":    vector(`{job="api"} 1.5`),
		"bytes":      vector(`{} 1610612736`),
	})
	c := newCheck(t, Config{Defaults: off(), Queries: []Query{
		{Name: "targets", Query: "scalar(up)", Warn: f64(2), Fail: f64(1), Direction: Below},
		{Name: "latency", Query: "latency", Warn: f64(1), Fail: f64(2.5), Unit: UnitSeconds},
		{Name: "bytes", Query: "bytes", Warn: f64(1 << 30), Unit: UnitBytes},
	}}, Env{PrometheusURL: p.URL})
	res := c.Run(context.Background())
	var titles []string
	for _, f := range res.Findings {
		titles = append(titles, f.Title)
	}
	want := []string{
		"targets: 1 (warn ≤ 2, fail ≤ 1)",
		"latency: job=api at 1.5s (warn 1s, fail 2.5s)",
		"bytes: 1.5 GiB (warn 1 GiB)",
	}
	if !slices.Equal(titles, want) {
		t.Errorf("titles\n%q\nwant\n%q", titles, want)
	}
	if res.Findings[0].Fingerprint != "metrics/targets" || res.Findings[0].Severity != checks.Fail || res.Findings[0].Detail != "" {
		t.Errorf("scalar finding %+v", res.Findings[0])
	}
}

func TestQueryErrors(t *testing.T) {
	ok := Query{Name: "ok", Query: "ok", Warn: f64(1)}
	tests := []struct {
		name  string
		reply reply
		want  string
	}{
		{"bad_data", reply{400, `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected <EOF>"}`},
			"returned 400: bad_data: 1:5: parse error: unexpected <EOF>"},
		{"execution", reply{422, `{"status":"error","errorType":"execution","error":"found duplicate series for the match group"}`},
			"returned 422: execution: found duplicate series"},
		{"503 html", reply{503, "<html>Service Unavailable</html>"}, "returned 503: <html>Service Unavailable</html>"},
		{"bad JSON", reply{200, `{"status":"success","data":`}, "decoding the answer: unexpected end of JSON input"},
		{"matrix", reply{200, `{"status":"success","data":{"resultType":"matrix","result":[]}}`}, "returns a range vector (matrix)"},
		{"string", reply{200, `{"status":"success","data":{"resultType":"string","result":[1,"x"]}}`}, "returns a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakeProm(t, map[string]reply{"ok": vector(`{a="b"} 0.5`), "bad": tt.reply})
			bad := Query{Name: "bad", Query: "bad", Warn: f64(1)}
			c := newCheck(t, Config{Defaults: off(), Queries: []Query{ok, bad}}, Env{PrometheusURL: p.URL})
			res := c.Run(context.Background())
			if res.Status != checks.Warn {
				t.Errorf("status %v, want warn", res.Status)
			}
			if !strings.HasPrefix(res.Summary, "1 query within thresholds; query bad failed: ") || !strings.Contains(res.Summary, tt.want) {
				t.Errorf("summary %q, want it to contain %q", res.Summary, tt.want)
			}
			if len(res.Findings) != 1 || res.Findings[0].Fingerprint != "metrics/bad/query-failed" || res.Findings[0].Severity != checks.Warn {
				t.Errorf("findings %+v", res.Findings)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	p := newFakeProm(t, map[string]reply{
		"q": {200, `{"status":"success","data":{"resultType":"vector","result":[]},"warnings":["PromQL info: metric might not be a counter"]}`},
	})
	c := newCheck(t, Config{Defaults: off(), Queries: []Query{{Name: "q", Query: "q", Fail: f64(1)}}}, Env{PrometheusURL: p.URL})
	res := c.Run(context.Background())
	if want := "no data: q; prometheus warning: q: PromQL info: metric might not be a counter"; res.Summary != want {
		t.Errorf("summary %q, want %q", res.Summary, want)
	}
}

func TestAllFailed(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(closed.URL)
	closed.Close()
	u.User = url.UserPassword("ops", "s3cret")
	c := newCheck(t, Config{}, Env{PrometheusURL: u.String()})
	res := c.Run(context.Background())
	want := fmt.Sprintf("all 6 queries failed: prometheus http://ops:xxxxx@%s: connection refused", u.Host)
	if res.Status != checks.Unknown || res.Summary != want {
		t.Errorf("got %v %q, want unknown %q", res.Status, res.Summary, want)
	}
}

func TestSlowServer(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(s.Close)
	c := newCheck(t, Config{Timeout: model.Duration(50 * time.Millisecond), Concurrency: 1}, Env{PrometheusURL: s.URL})
	res := checks.NewRunner(time.Hour, zap.NewNop()).Run(context.Background(), []checks.Check{c}, nil)[0]
	if res.Status != checks.Unknown || !strings.Contains(res.Summary, "timed out") {
		t.Errorf("got %v %q, want unknown, timed out", res.Status, res.Summary)
	}
}

func TestConcurrencyBounded(t *testing.T) {
	var (
		mu       sync.Mutex
		inFlight int
		maxSeen  int
		arrived  int
		both     = make(chan struct{})
	)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		maxSeen = max(maxSeen, inFlight)
		arrived++
		if arrived == 2 {
			close(both)
		}
		mu.Unlock()
		<-both // the first two wait for each other: they ran at once
		mu.Lock()
		inFlight--
		mu.Unlock()
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	}))
	t.Cleanup(s.Close)
	var qs []Query
	for i := range 6 {
		qs = append(qs, Query{Name: fmt.Sprint("q", i), Query: fmt.Sprint("q", i), Warn: f64(1)})
	}
	c := newCheck(t, Config{Defaults: off(), Queries: qs, Concurrency: 2}, Env{PrometheusURL: s.URL})
	res := c.Run(context.Background())
	if res.Status != checks.OK || arrived != 6 {
		t.Fatalf("got %v %q after %d requests", res.Status, res.Summary, arrived)
	}
	if maxSeen != 2 {
		t.Errorf("at most %d queries ran at once, want 2", maxSeen)
	}
}

func TestBuiltins(t *testing.T) {
	env := Env{PrometheusURL: "http://prom:9090", Namespaces: []string{"shop", "payments"}}
	c := newCheck(t, Config{}, env)
	if got, want := c.Queries(), []string{"cpu", "memory", "pvc", "restarts", "http5xx", "latencyP99"}; !slices.Equal(got, want) || !slices.Equal(DefaultQueryNames(), append(want, "networkReceive", "networkTransmit")) {
		t.Errorf("queries %q, want %q (the network built-ins need networkLimit)", got, want)
	}
	for _, q := range c.queries {
		if strings.Contains(q.Query, "{{namespace}}") || !strings.Contains(q.Query, `namespace=~"shop|payments"`) {
			t.Errorf("%s: placeholders not expanded: %s", q.Name, q.Query)
		}
	}

	cfg := Config{
		DisableDefaults: []string{"pvc"},
		HTTPMetrics:     "micrometer",
		Thresholds:      Thresholds{CPUWarn: f64(0.5), RestartsFail: f64(10)},
		Queries: []Query{
			{Name: "custom", Query: "x", Warn: f64(1)},
			{Name: "memory", Query: "my_memory", Fail: f64(0.99)},
		},
	}
	c = newCheck(t, cfg, env)
	if got, want := c.Queries(), []string{"cpu", "memory", "restarts", "http5xx", "latencyP99", "custom"}; !slices.Equal(got, want) {
		t.Errorf("queries %q, want %q", got, want)
	}
	byName := map[string]Query{}
	for _, q := range c.queries {
		byName[q.Name] = q
	}
	if *byName["cpu"].Warn != 0.5 || *byName["cpu"].Fail != 0.95 || *byName["restarts"].Fail != 10 {
		t.Errorf("threshold overrides not applied")
	}
	if byName["memory"].Query != "my_memory" || byName["memory"].Direction != Above {
		t.Errorf("memory not replaced: %+v", byName["memory"])
	}
	if !strings.Contains(byName["http5xx"].Query, `http_server_requests_seconds_count{namespace=~"shop|payments", status=~"5.."}`) ||
		!strings.Contains(byName["latencyP99"].Query, "http_server_requests_seconds_bucket") {
		t.Errorf("micrometer queries not used:\n%s\n%s", byName["http5xx"].Query, byName["latencyP99"].Query)
	}
	if byName["cpu"].Warn == builtins[0].Warn {
		t.Errorf("override changed the shared built-in")
	}

	c = newCheck(t, Config{Defaults: off(), Queries: []Query{{Name: "cpu", Query: "x", Warn: f64(1)}}}, env)
	if got := c.Queries(); !slices.Equal(got, []string{"cpu"}) {
		t.Errorf("defaults off: queries %q", got)
	}
}

func TestNetworkBuiltins(t *testing.T) {
	env := Env{PrometheusURL: "http://prom:9090", Namespaces: []string{"shop"}}
	cfg := Config{
		NetworkLimit:    125e6,
		DisableDefaults: []string{"networkTransmit"},
		Thresholds:      Thresholds{NetworkWarn: f64(0.6)},
	}
	c := newCheck(t, cfg, env)
	if got, want := c.Queries(), []string{"cpu", "memory", "pvc", "restarts", "http5xx", "latencyP99", "networkReceive"}; !slices.Equal(got, want) {
		t.Fatalf("queries %q, want %q", got, want)
	}
	rx := c.queries[len(c.queries)-1]
	if !strings.Contains(rx.Query, `/ 1.25e+08`) || strings.Contains(rx.Query, "{{") {
		t.Errorf("limit not expanded: %s", rx.Query)
	}
	if rx.Description != "network receive vs limit (1 Gbit/s)" || *rx.Warn != 0.6 || *rx.Fail != 0.95 {
		t.Errorf("networkReceive = %q warn %v fail %v", rx.Description, *rx.Warn, *rx.Fail)
	}
}

func TestNamespaceRegex(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ".+"},
		{[]string{"shop"}, "shop"},
		{[]string{"shop", " payments "}, "shop|payments"},
		{[]string{"a.b", `c"d`}, `a\\.b|c\"d`},
	}
	for _, tt := range tests {
		if got := namespaceRegex(tt.in); got != tt.want {
			t.Errorf("namespaceRegex(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := expand(`up{namespace=~"$namespace"} or up{namespace=~"{{namespace}}"}`, "shop"); got != `up{namespace=~"shop"} or up{namespace=~"shop"}` {
		t.Errorf("expand: %s", got)
	}
}

func TestSeverity(t *testing.T) {
	above := Query{Warn: f64(0.8), Fail: f64(0.95), Direction: Above}
	below := Query{Warn: f64(5), Fail: f64(1), Direction: Below}
	failOnly := Query{Fail: f64(10), Direction: Above}
	tests := []struct {
		q    Query
		v    float64
		want checks.Status
	}{
		{above, 0.5, checks.OK}, {above, 0.8, checks.Warn}, {above, 0.9, checks.Warn}, {above, 0.95, checks.Fail}, {above, 2, checks.Fail},
		{below, 10, checks.OK}, {below, 5, checks.Warn}, {below, 2, checks.Warn}, {below, 1, checks.Fail}, {below, 0, checks.Fail},
		{failOnly, 9, checks.OK}, {failOnly, 10, checks.Fail},
	}
	for _, tt := range tests {
		if got := tt.q.severity(tt.v); got != tt.want {
			t.Errorf("%s warn %v fail %v: severity(%v) = %v, want %v", tt.q.Direction, tt.q.Warn, tt.q.Fail, tt.v, got, tt.want)
		}
	}
}

func TestWorkloadName(t *testing.T) {
	tests := map[string]string{
		"api-7d9f8c6b5-x2x9q":            "api",
		"my-app-7d9f8c6b5-x2x9q":         "my-app",
		"api-5c7d8-bcdfg":                "api",
		"node-exporter-x2x9q":            "node-exporter",
		"backup-29146020-x2x9q":          "backup",
		"postgres-0":                     "postgres-0",
		"redis-master":                   "redis-master",
		"web":                            "web",
		"kube-state-metrics-6b5d8c9f7-z": "kube-state-metrics-6b5d8c9f7-z",
	}
	for in, want := range tests {
		if got := workloadName(in); got != want {
			t.Errorf("workloadName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFingerprintStable(t *testing.T) {
	a := fingerprintParts(model.Metric{"__name__": "x", "namespace": "shop", "pod": "api-7d9f8c6b5-x2x9q", "instance": "10.0.0.1:8080", "image": "api:1.2", "container": "api"}, nil)
	b := fingerprintParts(model.Metric{"namespace": "shop", "pod": "api-6c8b7d5f4-bcdfg", "instance": "10.0.0.9:8080", "image": "api:1.3", "container": "api"}, nil)
	if !slices.Equal(a, b) {
		t.Errorf("fingerprint parts differ: %q vs %q", a, b)
	}
	if want := []string{"container=api", "namespace=shop", "pod=api"}; !slices.Equal(a, want) {
		t.Errorf("parts %q, want %q", a, want)
	}
	// Without a pod, the instance identifies the target and stays.
	if got := fingerprintParts(model.Metric{"instance": "node-1:9100", "job": "node"}, nil); !slices.Equal(got, []string{"instance=node-1:9100", "job=node"}) {
		t.Errorf("parts %q", got)
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    float64
		unit string
		want string
	}{
		{0.93, UnitRatio, "93%"}, {0.0512, UnitRatio, "5.1%"}, {0.005, UnitRatio, "0.5%"}, {0, UnitRatio, "0%"},
		{93.4, UnitPercent, "93%"},
		{0.0004, UnitSeconds, "400µs"}, {0.25, UnitSeconds, "250ms"}, {1.25, UnitSeconds, "1.25s"}, {150, UnitSeconds, "2m30s"},
		{512, UnitBytes, "512 B"}, {1536, UnitBytes, "1.5 KiB"}, {3 << 30, UnitBytes, "3 GiB"},
		{3, UnitNone, "3"}, {2.3456, UnitNone, "2.35"}, {0.01234, UnitNone, "0.0123"}, {12345678, UnitNone, "1.235e+07"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.v, tt.unit); got != tt.want {
			t.Errorf("formatValue(%v, %s) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	q := func(mod func(*Query)) Config {
		qs := []Query{{Name: "a", Query: "up", Warn: f64(1)}, {Name: "b", Query: "up", Warn: f64(1)}, {Name: "c", Query: "up", Warn: f64(0.9), Fail: f64(1)}}
		mod(&qs[2])
		return Config{Queries: qs}
	}
	tests := []struct {
		cfg  Config
		want string
	}{
		{q(func(*Query) {}), ""},
		{q(func(q *Query) { q.Fail = f64(0.5) }), "queries[2].fail: must be >= warn (0.9) for direction above, got 0.5"},
		{q(func(q *Query) { q.Direction = Below }), "queries[2].fail: must be <= warn (0.9) for direction below, got 1"},
		{q(func(q *Query) { q.Direction = "up" }), `queries[2].direction: must be "above" or "below", got "up"`},
		{q(func(q *Query) { q.Unit = "percentage" }), `queries[2].unit: must be one of none, percent, ratio, seconds, bytes, got "percentage"`},
		{q(func(q *Query) { q.Name = "" }), "queries[2].name: must not be empty"},
		{q(func(q *Query) { q.Name = "a/b" }), "queries[2].name: must be letters, digits"},
		{q(func(q *Query) { q.Name = "a" }), `queries[2].name: "a" is already the name of queries[0]`},
		{q(func(q *Query) { q.Query = " " }), "queries[2].query: must not be empty"},
		{q(func(q *Query) { q.Warn, q.Fail = nil, nil }), "queries[2]: set warn, fail or both"},
		{q(func(q *Query) { q.Labels = []string{"pod", ""} }), "queries[2].labels[1]: must not be empty"},
		{q(func(q *Query) { q.Link = "grafana/d/x" }), `queries[2].link: "grafana/d/x" must be an absolute http:// or https:// URL`},
		{Config{Thresholds: Thresholds{CPUFail: f64(0.5)}}, "thresholds.cpuFail: must be >= cpuWarn (0.8) for direction above, got 0.5"},
		{Config{Thresholds: Thresholds{PVCWarn: f64(0.95)}}, "thresholds.pvcFail: must be >= pvcWarn (0.95) for direction above, got 0.9"},
		{Config{DisableDefaults: []string{"cpu", "disk"}}, `disableDefaults[1]: no built-in query "disk" (built-ins: cpu, memory, pvc, restarts, http5xx, latencyP99, networkReceive, networkTransmit)`},
		{Config{Thresholds: Thresholds{NetworkFail: f64(0.5)}}, "thresholds.networkFail: must be >= networkWarn (0.8) for direction above, got 0.5"},
		{Config{NetworkLimit: -1}, "networkLimit: must be a positive bandwidth, got -1"},
		{Config{HTTPMetrics: "spring"}, `httpMetrics: must be one of prometheus, micrometer, got "spring"`},
		{Config{Concurrency: -1}, "concurrency: must be at least 1, got -1"},
		{Config{MaxFindings: -1}, "maxFindings: must be at least 1, got -1"},
		{Config{Timeout: model.Duration(-time.Second)}, "timeout: must be positive"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("unexpected error %v", err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("error %v, want prefix %q", err, tt.want)
		}
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Config{}, Env{PrometheusURL: "prometheus:9090"}, nil, zap.NewNop()); err == nil || !strings.HasPrefix(err.Error(), "prometheus url: ") {
		t.Errorf("relative URL: %v", err)
	}
	if _, err := New(Config{Concurrency: -1}, Env{PrometheusURL: "http://p:9090"}, nil, zap.NewNop()); err == nil {
		t.Errorf("invalid config accepted")
	}
	qs := []Query{{Name: "a", Query: "up", Warn: f64(1)}}
	c := newCheck(t, Config{Queries: qs}, Env{PrometheusURL: "http://p:9090"})
	if qs[0].Direction != "" {
		t.Errorf("New wrote to the caller's queries")
	}
	if c.Timeout() != DefaultTimeout || c.Name() != "metrics" || c.cfg.Concurrency != DefaultConcurrency {
		t.Errorf("defaults: timeout %s concurrency %d", c.Timeout(), c.cfg.Concurrency)
	}
}
