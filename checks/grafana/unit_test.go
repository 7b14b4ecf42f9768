package grafana

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/promapi"
)

func TestInterpolate(t *testing.T) {
	all := ".+"
	sc := scope{
		"one":    {values: []string{"a.b"}},
		"quote":  {values: []string{`it's`}},
		"multi":  {values: []string{"a.b", "c"}, multi: true},
		"single": {values: []string{"x|y"}, multi: true},
		"all":    {values: []string{"p", "q"}, multi: true, allValue: &all},
		"broken": {err: errTest("template variable $broken has no value")},
	}
	cases := []struct{ in, want, err string }{
		{`x{a="$one"}`, `x{a="a.b"}`, ""},
		{`x{a='$quote'}`, `x{a='it\\'s'}`, ""},
		{`x{a=~"$multi"}`, `x{a=~"(a\\.b|c)"}`, ""},
		{`x{a=~"${multi}"}`, `x{a=~"(a\\.b|c)"}`, ""},
		{`x{a=~"[[multi]]"}`, `x{a=~"(a\\.b|c)"}`, ""},
		{`x{a=~"${single}"}`, `x{a=~"x\\|y"}`, ""},
		{`x{a=~"${one:regex}"}`, `x{a=~"a\\.b"}`, ""},
		{`x{a=~"${multi:pipe}"}`, `x{a=~"a.b|c"}`, ""},
		{`x{a=~"${multi:csv}"}`, `x{a=~"a.b,c"}`, ""},
		{`x{a=~"${multi:raw}"}`, `x{a=~"a.b,c"}`, ""},
		{`x{a=~"[[multi:pipe]]"}`, `x{a=~"a.b|c"}`, ""},
		{`x{a=~"$all"}`, `x{a=~".+"}`, ""},
		{`label_replace(x, "y", "$1", "z", "(.*)")`, `label_replace(x, "y", "$1", "z", "(.*)")`, ""},
		{`x{a="$unknown"}`, `x{a="$unknown"}`, ""},
		{`x{a="$broken"}`, ``, "template variable $broken has no value"},
		{`x{a="${one:percentencode}"}`, ``, `$one: format "percentencode" is not one the check knows`},
	}
	for _, tc := range cases {
		got, err := interpolate(tc.in, sc)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("interpolate(%s): error %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("interpolate(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if u := undefined(`x{a="$unknown"} + label_replace(y, "a", "$1", "b", "(.*)")`); u != "$unknown" {
		t.Errorf("undefined = %q, want $unknown", u)
	}
	if u := undefined(`label_replace(y, "a", "$1", "b", "(.*)")`); u != "" {
		t.Errorf("undefined = %q, want none", u)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

func TestVariables(t *testing.T) {
	var d Dashboard
	if err := json.Unmarshal([]byte(`{"templating":{"list":[
	  {"name":"c","type":"custom","query":"a : x, b\\,c, d","current":{}},
	  {"name":"cm","type":"custom","query":"a,b","multi":true,"current":{"value":["a","b"]}},
	  {"name":"call","type":"custom","query":"a,b","includeAll":true,"current":{"value":"$__all"}},
	  {"name":"k","type":"constant","query":"prod"},
	  {"name":"tb","type":"textbox","query":"def","current":{"value":"typed"}},
	  {"name":"iv","type":"interval","query":"1m,5m","auto":true,"auto_count":10,"auto_min":"30s","current":{"value":"$__auto_interval_iv"}},
	  {"name":"q","type":"query","query":{"query":"label_values(up{job=\"$k\"}, instance)"},"regex":"/(.*):9100/","current":{}},
	  {"name":"qs","type":"query","query":"query_result(up)","current":{}},
	  {"name":"ds","type":"datasource","query":"prometheus"},
	  {"name":"weird","type":"snapshot"}
	]}}`), &d); err != nil {
		t.Fatal(err)
	}
	r := fakeResolver{"label_values(up{job=\"prod\"}, instance)": {"h2:9100", "h1:9100", "other"}}
	tm := timing{window: time.Hour}
	sc := variables(t.Context(), &d, r, time.Time{}, time.Time{}, tm.autoInterval)
	want := map[string]string{
		"$c": "x", "${cm:csv}": "a,b", "$call": "(a|b)", "$k": "prod", "$tb": "typed",
		"$iv": "5m", // 1h/10 = 6m, rounded by Grafana's table to 5m, above the 30s minimum
		"$q":  "h1", // the first option of the regex's matches, sorted
	}
	for in, w := range want {
		if got, err := interpolate(in, sc); err != nil || got != w {
			t.Errorf("%s = %q, %v; want %q", in, got, err, w)
		}
	}
	for _, v := range []string{"qs", "weird"} {
		if _, err := interpolate("$"+v, sc); err == nil {
			t.Errorf("$%s: no error, want one saying the check cannot resolve it", v)
		}
	}
}

type fakeResolver map[string][]string

func (f fakeResolver) labelValues(_ context.Context, query string, _, _ time.Time) ([]string, error) {
	return f[query], nil
}

func TestStep(t *testing.T) {
	tm := timing{window: 24 * time.Hour, scrape: 15 * time.Second, maxPoints: 1000}
	cases := []struct {
		min    time.Duration
		points int
		factor float64
		want   time.Duration
	}{
		{0, 0, 0, time.Minute},                          // 86.4s → 1m
		{0, 100, 0, 15 * time.Minute},                   // 864s → 15m
		{5 * time.Minute, 0, 0, 5 * time.Minute},        // the panel's min interval wins
		{0, 100000, 0, 10 * time.Second},                // 0.864s < 15s scrape → 15s; safe 86.4/11000 → 10s... the scrape
		{0, 0, 2, 2 * time.Minute},                      // legacy intervalFactor
		{10 * time.Second, 100000, 0, 10 * time.Second}, // a min interval below the scrape interval
	}
	cases[3].want = 15 * time.Second
	for _, tc := range cases {
		if got := tm.step(tc.min, tc.points, tc.factor); got != tc.want {
			t.Errorf("step(%s, %d, %v) = %s, want %s", tc.min, tc.points, tc.factor, got, tc.want)
		}
	}
	if got := rateInterval(time.Minute, 15*time.Second); got != 75*time.Second {
		t.Errorf("$__rate_interval(1m, 15s) = %s, want 1m15s", got)
	}
	if got := rateInterval(15*time.Second, 15*time.Second); got != time.Minute {
		t.Errorf("$__rate_interval(15s, 15s) = %s, want 1m (4 scrapes)", got)
	}
	end := time.UnixMilli(1796551200000)
	b := builtins(scope{}, time.Minute, 15*time.Second, timing{start: end.Add(-time.Hour), end: end, window: time.Hour})
	for in, w := range map[string]string{"$__interval": "1m", "$__interval_ms": "60000", "$__rate_interval": "1m15s",
		"$__range": "3600s", "$__range_s": "3600", "$__range_ms": "3600000", "${__from}": "1796547600000", "$__to": "1796551200000"} {
		if got, _ := interpolate(in, b); got != w {
			t.Errorf("%s = %q, want %q", in, got, w)
		}
	}
}

func TestColours(t *testing.T) {
	cases := []struct {
		colour string
		i, n   int
		want   checks.Status
		name   string
	}{
		{"green", 0, 3, checks.OK, "green"},
		{"red", 2, 3, checks.Fail, "red"},
		{"dark-red", 1, 3, checks.Fail, "red"},
		{"semi-dark-orange", 1, 3, checks.Warn, "orange"},
		{"#EAB839", 1, 3, checks.Warn, "yellow"},
		{"#d44a3a", 2, 3, checks.Fail, "red"},
		{"rgba(237, 129, 40, 0.89)", 1, 3, checks.Warn, "orange"},
		{"rgba(50, 172, 45, 0.97)", 0, 3, checks.OK, "green"},
		{"#f00", 1, 3, checks.Fail, "red"},
		{"blue", 0, 3, checks.OK, "blue"},
		{"purple", 1, 3, checks.Warn, "purple"},
		{"#8F3BB8", 2, 3, checks.Fail, "#8F3BB8"},
		{"text", 2, 3, checks.Fail, "text"},
		{"rgba(128, 128, 128, 0.9)", 0, 2, checks.OK, "rgba(128, 128, 128, 0.9)"},
	}
	for _, tc := range cases {
		st, name := stepStatus(tc.colour, tc.i, tc.n)
		if st != tc.want || name != tc.name {
			t.Errorf("stepStatus(%s, %d, %d) = %v %s, want %v %s", tc.colour, tc.i, tc.n, st, name, tc.want, tc.name)
		}
	}
}

func TestFormatValue(t *testing.T) {
	cases := []struct {
		v    float64
		unit string
		want string
	}{
		{2, "s", "2 s"}, {0.25, "s", "250 ms"}, {90, "s", "1.5 min"}, {250, "ms", "250 ms"}, {2500, "ms", "2.5 s"},
		{93, "percent", "93%"}, {0.934, "percentunit", "93.4%"}, {1536, "bytes", "1.5 KiB"}, {3 << 30, "bytes", "3 GiB"},
		{12, "reqps", "12 req/s"}, {1234, "short", "1.23 K"}, {2.5e6, "short", "2.5 Mil"}, {7, "", "7"}, {0.12345, "none", "0.123"},
		{5, "celsius", "5 celsius"},
	}
	for _, tc := range cases {
		if got := formatValue(tc.v, tc.unit); got != tc.want {
			t.Errorf("formatValue(%v, %s) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}

func TestReduce(t *testing.T) {
	nan := model.SampleValue(nanValue())
	pts := []model.SamplePair{{Value: nan}, {Value: 2}, {Value: 6}, {Value: 4}, {Value: nan}}
	cases := map[string]struct {
		v  float64
		ok bool
	}{
		"lastNotNull": {4, true}, "last": {0, false}, "first": {0, false}, "firstNotNull": {2, true},
		"mean": {4, true}, "max": {6, true}, "min": {2, true}, "sum": {12, true}, "count": {5, true},
	}
	for r, w := range cases {
		if v, ok := reduce(pts, r); v != w.v || ok != w.ok {
			t.Errorf("%s = %v %v, want %v %v", r, v, ok, w.v, w.ok)
		}
	}
}

// TestThresholdSteps: steps in Grafana's order (whatever the JSON's), a
// value at a step's value takes that step, percentage of the range.
func TestThresholdSteps(t *testing.T) {
	v := func(f float64) *float64 { return &f }
	th := &Thresholds{Mode: "absolute", Steps: []Step{{Color: "red", Value: v(90)}, {Color: "green"}, {Color: "orange", Value: v(70)}}}
	steps := sortedSteps(th)
	for x, want := range map[float64]string{10: "green", 70: "orange", 89.9: "orange", 90: "red", 1e9: "red"} {
		if got := colourOf(x, th, steps, 0, 0).name; got != want {
			t.Errorf("absolute %v: %s, want %s", x, got, want)
		}
	}
	pct := &Thresholds{Mode: "percentage", Steps: []Step{{Color: "green"}, {Color: "red", Value: v(50)}}}
	if got := colourOf(150, pct, sortedSteps(pct), 100, 200).name; got != "red" {
		t.Errorf("150 in 100..200 at 50%%: %s, want red", got)
	}
	if got := colourOf(149, pct, sortedSteps(pct), 100, 200).name; got != "green" {
		t.Errorf("149 in 100..200 at 50%%: %s, want green", got)
	}
}

func TestLegacyThresholds(t *testing.T) {
	var p Panel
	_ = json.Unmarshal([]byte(`{"thresholds":"70, 80","colors":["#299c46","rgba(237, 129, 40, 0.89)","#d44a3a"]}`), &p)
	th, err := singlestatThresholds(p)
	if err != nil || len(th.Steps) != 3 || *th.Steps[1].Value != 70 || th.Steps[2].Color != "#d44a3a" {
		t.Errorf("singlestat: %+v, %v", th, err)
	}
	_ = json.Unmarshal([]byte(`{"thresholds":[{"op":"gt","value":10,"colorMode":"critical"},{"op":"gt","value":5,"colorMode":"warning"}]}`), &p)
	th, err = graphThresholds(p)
	if err != nil || len(th.Steps) != 3 || *th.Steps[1].Value != 5 || th.Steps[1].Color != "orange" || th.Steps[2].Color != "red" {
		t.Errorf("graph gt: %+v, %v", th, err)
	}
	_ = json.Unmarshal([]byte(`{"thresholds":[{"op":"lt","value":1,"colorMode":"critical"}]}`), &p)
	th, err = graphThresholds(p)
	if err != nil || th.Steps[0].Color != "red" || *th.Steps[1].Value != 1 {
		t.Errorf("graph lt: %+v, %v", th, err)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "dashboards, files: name at least one"},
		{Config{Dashboards: []string{"abc"}}, "url: required with dashboards"},
		{Config{URL: "https://g.example.com", Dashboards: []string{"a b"}}, `dashboards[0]: "a b" is not a dashboard uid`},
		{Config{URL: "https://g.example.com", Dashboards: []string{"abc", "abc"}}, `dashboards[1]: "abc" is already dashboards[0]`},
		{Config{Files: []string{" "}}, "files[0]: must not be empty"},
		{Config{Files: []string{"x"}, TokenEnv: "GRAFANA TOKEN"}, "tokenEnv: must be the name of an environment variable"},
		{Config{Files: []string{"x"}, URL: "grafana:3000"}, "url: "},
		{Config{Files: []string{"x"}, Window: -1}, "window: must be positive"},
		{Config{Files: []string{"x"}, MaxDataPoints: -1}, "maxDataPoints: must be at least 1"},
		{Config{Files: []string{"x"}, Datasources: []string{""}}, "datasources[0]: must not be empty"},
		{Config{Files: []string{"x"}, MaxFindings: -1}, "maxFindings: must be at least 1"},
		{Config{Files: []string{"x"}, Concurrency: -1}, "concurrency: must be at least 1"},
		{Config{Files: []string{"x"}, ScrapeInterval: -1}, "scrapeInterval: must be positive"},
		{Config{Files: []string{"x"}, Timeout: -1}, "timeout: must be positive"},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if err := (Config{URL: "https://g.example.com", Dashboards: []string{"-xyV8KCiz"}, Files: []string{"d.json"}}).Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45 s", 14 * time.Minute: "14 min", 10*time.Minute + 15*time.Second: "10 min",
		2*time.Hour + 5*time.Minute: "2 h 5 min", 3 * time.Hour: "3 h", 72 * time.Hour: "3 d",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func nanValue() float64 { return math.NaN() }

// TestRangeAligned: a range query's start and end are aligned to its step,
// as Grafana's Prometheus datasource does, so the points fall where
// Grafana's do.
func TestRangeAligned(t *testing.T) {
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query()
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
	}))
	defer srv.Close()
	c := &Check{prom: promapi.New(srv.URL, nil)}
	end := time.Date(2026, 12, 6, 10, 0, 7, 0, time.UTC)
	tm := timing{start: end.Add(-time.Hour), end: end, window: time.Hour}
	if _, err := c.query(t.Context(), pquery{expr: "up", step: 15 * time.Second}, tm); err != nil {
		t.Fatal(err)
	}
	if got.Get("start") != "1796547600.000" || got.Get("end") != "1796551200.000" || got.Get("step") != "15" {
		t.Errorf("start %s, end %s, step %s; want 09:00:00, 10:00:00 (1796547600, 1796551200), 15", got.Get("start"), got.Get("end"), got.Get("step"))
	}
}
