package alerts

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
)

// fixture is an Alertmanager API v2 answer, as Alertmanager 0.25 writes it.
const fixture = `[
 {"annotations":{"description":"Pod shop/api-7d9f8c6b5-x2x9q (api) is in waiting state (reason: \"CrashLoopBackOff\").","summary":"Pod is crash looping."},
  "endsAt":"2026-11-24T09:05:00.000Z","fingerprint":"a1","receivers":[{"name":"slack"}],"startsAt":"2026-11-24T08:00:00.000Z",
  "status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-24T09:00:00.000Z",
  "generatorURL":"http://prometheus:9090/graph?g0.expr=x","labels":{"alertname":"KubePodCrashLooping","namespace":"shop","pod":"api-7d9f8c6b5-x2x9q","severity":"warning","job":"kube-state-metrics"}},
 {"annotations":{"summary":"Pod is crash looping."},
  "endsAt":"2026-11-24T09:05:00.000Z","fingerprint":"a2","receivers":[{"name":"slack"}],"startsAt":"2026-11-24T07:00:00.000Z",
  "status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-24T09:00:00.000Z",
  "generatorURL":"http://prometheus:9090/graph?g0.expr=x","labels":{"alertname":"KubePodCrashLooping","namespace":"shop","pod":"web-5c7d8-abcde","severity":"critical","job":"kube-state-metrics"}},
 {"annotations":{"message":"something else"},
  "endsAt":"2026-11-24T09:05:00.000Z","fingerprint":"a3","receivers":[{"name":"slack"}],"startsAt":"2026-11-24T08:30:00.000Z",
  "status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-24T09:00:00.000Z",
  "generatorURL":"http://prometheus:9090/graph?g0.expr=x","labels":{"alertname":"KubePodCrashLooping","namespace":"shop","pod":"worker-0","severity":"warning","job":"kube-state-metrics"}},
 {"annotations":{"description":"p99 latency is 2.1s"},
  "endsAt":"2026-11-24T09:05:00.000Z","fingerprint":"b1","receivers":[{"name":"slack"}],"startsAt":"2026-11-24T08:50:00.000Z",
  "status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-24T09:00:00.000Z",
  "generatorURL":"http://prometheus:9090/graph?g0.expr=y","labels":{"alertname":"HighLatency","namespace":"shop","service":"api","severity":"warning"}},
 {"annotations":{},"endsAt":"2026-11-24T09:05:00.000Z","fingerprint":"w1","receivers":[{"name":"null"}],"startsAt":"2026-11-20T00:00:00.000Z",
  "status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-24T09:00:00.000Z",
  "generatorURL":"","labels":{"alertname":"Watchdog","severity":"none"}},
 {"annotations":{"summary":"a new version is available"},"endsAt":"2026-11-24T09:05:00.000Z","fingerprint":"i1","receivers":[{"name":"null"}],"startsAt":"2026-11-24T08:00:00.000Z",
  "status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-11-24T09:00:00.000Z",
  "generatorURL":"","labels":{"alertname":"NewVersion","severity":"info","namespace":"shop"}},
 {"annotations":{},"endsAt":"2026-11-24T09:05:00.000Z","fingerprint":"s1","receivers":[{"name":"slack"}],"startsAt":"2026-11-24T08:00:00.000Z",
  "status":{"inhibitedBy":[],"silencedBy":["abc"],"state":"suppressed"},"updatedAt":"2026-11-24T09:00:00.000Z",
  "generatorURL":"","labels":{"alertname":"Silenced","severity":"critical"}}
]`

// fakeAM serves body with status code and records the requests it gets.
type fakeAM struct {
	*httptest.Server
	reqs chan *http.Request
}

func newFakeAM(t *testing.T, code int, body string) *fakeAM {
	t.Helper()
	f := &fakeAM{reqs: make(chan *http.Request, 10)}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.reqs <- r
		if r.URL.Path != "/api/v2/alerts" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(f.Close)
	return f
}

func newCheck(t *testing.T, cfg Config, baseURL string) *Check {
	t.Helper()
	c, err := New(cfg, baseURL, nil, zap.NewNop())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestRequestParameters(t *testing.T) {
	am := newFakeAM(t, 200, `[]`)
	c := newCheck(t, Config{Matchers: []string{`namespace="shop"`, ` severity=~"critical|warning" `}}, am.URL+"/")
	res := c.Run(context.Background())
	if res.Status != checks.OK || res.Summary != "no firing alerts" {
		t.Fatalf("got %v %q, want ok, no firing alerts", res.Status, res.Summary)
	}
	r := <-am.reqs
	if r.Method != http.MethodGet || r.URL.Path != "/api/v2/alerts" {
		t.Errorf("request %s %s, want GET /api/v2/alerts", r.Method, r.URL.Path)
	}
	q := r.URL.Query()
	for k, want := range map[string]string{"active": "true", "silenced": "false", "inhibited": "false", "unprocessed": "false"} {
		if got := q.Get(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if got, want := q["filter"], []string{`namespace="shop"`, `severity=~"critical|warning"`}; !slices.Equal(got, want) {
		t.Errorf("filter=%q, want %q", got, want)
	}
}

func TestGrouping(t *testing.T) {
	am := newFakeAM(t, 200, fixture)
	c := newCheck(t, Config{Matchers: []string{`namespace="shop"`}}, am.URL)
	res := c.Run(context.Background())

	if res.Status != checks.Fail {
		t.Errorf("status %v, want fail", res.Status)
	}
	if want := "4 firing alerts in 2 groups (1 critical); 1 info-level alert not shown"; res.Summary != want {
		t.Errorf("summary %q, want %q", res.Summary, want)
	}
	if len(res.Findings) != 2 {
		t.Fatalf("got %d findings, want 2: %+v", len(res.Findings), res.Findings)
	}
	crash, lat := res.Findings[0], res.Findings[1]
	if crash.Title != "KubePodCrashLooping ×3 (critical)" || crash.Severity != checks.Fail || crash.Count != 3 {
		t.Errorf("crash finding %q %v count %d", crash.Title, crash.Severity, crash.Count)
	}
	if want := "alerts/KubePodCrashLooping/namespace=shop/job=kube-state-metrics"; crash.Fingerprint != want {
		t.Errorf("fingerprint %q, want %q", crash.Fingerprint, want)
	}
	if crash.Object != "shop/KubePodCrashLooping" {
		t.Errorf("object %q", crash.Object)
	}
	// Oldest first, distinct texts; the description's detail after the
	// summary when an alert has both.
	if want := "Pod is crash looping.\n" +
		"Pod is crash looping. — Pod shop/api-7d9f8c6b5-x2x9q (api) is in waiting state (reason: \"CrashLoopBackOff\").\n" +
		"something else"; crash.Detail != want {
		t.Errorf("detail %q, want %q", crash.Detail, want)
	}
	link, err := url.Parse(crash.Link)
	if err != nil || !strings.HasPrefix(crash.Link, am.URL+"/#/alerts?") {
		t.Fatalf("link %q", crash.Link)
	}
	fq, _ := url.ParseQuery(link.Fragment[len("/alerts?"):])
	if got, want := fq.Get("filter"), `{alertname="KubePodCrashLooping",namespace="shop"}`; got != want {
		t.Errorf("link filter %q, want %q", got, want)
	}
	if lat.Title != "HighLatency (warning)" || lat.Severity != checks.Warn || lat.Count != 1 || lat.Detail != "p99 latency is 2.1s" {
		t.Errorf("latency finding %+v", lat)
	}
	if want := "alerts/HighLatency/namespace=shop/service=api"; lat.Fingerprint != want {
		t.Errorf("fingerprint %q, want %q", lat.Fingerprint, want)
	}
	// The labels the group's alerts share (not pod, not severity: they
	// differ), and all of a lone alert's.
	if want := map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop", "job": "kube-state-metrics"}; !maps.Equal(crash.Labels, want) {
		t.Errorf("crash labels %v, want %v", crash.Labels, want)
	}
	if want := map[string]string{"alertname": "HighLatency", "namespace": "shop", "service": "api", "severity": "warning"}; !maps.Equal(lat.Labels, want) {
		t.Errorf("latency labels %v, want %v", lat.Labels, want)
	}
}

func TestIncludeInfoAndIgnore(t *testing.T) {
	am := newFakeAM(t, 200, fixture)
	c := newCheck(t, Config{IncludeInfo: true, IgnoreAlertnames: []string{"KubePodCrashLooping"}}, am.URL)
	res := c.Run(context.Background())
	var names []string
	for _, f := range res.Findings {
		names = append(names, f.Title)
	}
	// An explicit ignore list replaces the default, so Watchdog (severity
	// none) is now reported, as info is included.
	want := []string{"HighLatency (warning)", "NewVersion (info)", "Watchdog (none)"}
	if !slices.Equal(names, want) {
		t.Errorf("findings %q, want %q", names, want)
	}
	if res.Status != checks.Warn {
		t.Errorf("status %v, want warn", res.Status)
	}
}

func TestFingerprintStable(t *testing.T) {
	mk := func(pod, ns, starts, amfp string) string {
		return `{"labels":{"alertname":"KubePodCrashLooping","namespace":"` + ns + `","pod":"` + pod + `","severity":"warning"},` +
			`"annotations":{},"startsAt":"` + starts + `","endsAt":"2026-11-24T10:00:00Z","fingerprint":"` + amfp + `","status":{"state":"active"}}`
	}
	run := func(body string) checks.Finding {
		t.Helper()
		am := newFakeAM(t, 200, body)
		res := newCheck(t, Config{}, am.URL).Run(context.Background())
		if len(res.Findings) != 1 {
			t.Fatalf("got %d findings: %s", len(res.Findings), res.Summary)
		}
		return res.Findings[0]
	}
	a := run("[" + mk("api-7d9f8c6b5-x2x9q", "shop", "2026-11-24T08:00:00Z", "f1") + "]")
	b := run("[" + mk("api-6b5d8c9f7-abcde", "shop", "2026-11-25T08:00:00Z", "f2") + "," + mk("api-6b5d8c9f7-zzzzz", "shop", "2026-11-25T08:01:00Z", "f3") + "]")
	if a.Fingerprint != b.Fingerprint {
		t.Errorf("fingerprint changed with pods, times and counts: %q vs %q", a.Fingerprint, b.Fingerprint)
	}
	if strings.ContainsAny(a.Fingerprint, "0123456789") {
		t.Errorf("fingerprint %q has a pod hash or time in it", a.Fingerprint)
	}
	// Alerts in different namespaces: the namespace is left out.
	c := run("[" + mk("api-1", "shop", "2026-11-24T08:00:00Z", "f1") + "," + mk("api-2", "payments", "2026-11-24T08:00:00Z", "f2") + "]")
	if want := "alerts/KubePodCrashLooping"; c.Fingerprint != want {
		t.Errorf("fingerprint %q, want %q", c.Fingerprint, want)
	}
}

func TestDetailTruncated(t *testing.T) {
	long := strings.Repeat("é", 500)
	var parts []string
	for i := range 5 {
		parts = append(parts, `{"labels":{"alertname":"X","severity":"warning"},"annotations":{"summary":"`+long+string(rune('a'+i))+`"},"status":{"state":"active"}}`)
	}
	am := newFakeAM(t, 200, "["+strings.Join(parts, ",")+"]")
	res := newCheck(t, Config{}, am.URL).Run(context.Background())
	d := res.Findings[0].Detail
	lines := strings.Split(d, "\n")
	if len(lines) != 4 || lines[3] != "(and 2 more)" {
		t.Fatalf("detail lines %d, last %q", len(lines), lines[len(lines)-1])
	}
	if n := len([]rune(lines[0])); n != maxSampleRunes+1 || !strings.HasSuffix(lines[0], "…") {
		t.Errorf("first sample has %d runes, want %d with an ellipsis", n, maxSampleRunes+1)
	}
}

func TestErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name    string
		url     func(t *testing.T) string
		timeout time.Duration
		want    string
	}{
		{"connection refused", func(*testing.T) string { return closedURL }, 0,
			"alertmanager " + closedURL + ": connection refused"},
		{"503", func(t *testing.T) string { return newFakeAM(t, 503, "no healthy upstream\n").URL }, 0,
			" returned 503: no healthy upstream"},
		{"bad JSON", func(t *testing.T) string { return newFakeAM(t, 200, `{"status":"nope"}`).URL }, 0,
			": decoding the alerts: json: cannot unmarshal object"},
		{"not found", func(t *testing.T) string { return newFakeAM(t, 200, `[]`).URL + "/prefix" }, 0,
			" returned 404: 404 page not found"},
		{"slow", func(t *testing.T) string {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done() // answer never: the client gives up
			}))
			t.Cleanup(s.Close)
			return s.URL
		}, 50 * time.Millisecond, ": timed out: no answer within 50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCheck(t, Config{Timeout: model.Duration(tt.timeout)}, tt.url(t))
			res := c.Run(context.Background())
			if res.Status != checks.Unknown {
				t.Errorf("status %v, want unknown", res.Status)
			}
			if !strings.Contains(res.Summary, tt.want) || !strings.HasPrefix(res.Summary, "alertmanager http://127.0.0.1:") {
				t.Errorf("summary %q, want it to contain %q", res.Summary, tt.want)
			}
		})
	}
}

func TestRunnerDeadline(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(s.Close)
	c := newCheck(t, Config{Timeout: model.Duration(50 * time.Millisecond)}, s.URL)
	res := checks.NewRunner(time.Hour, zap.NewNop()).Run(context.Background(), []checks.Check{c}, nil)[0]
	if res.Status != checks.Unknown || !strings.Contains(res.Summary, "timed out") {
		t.Errorf("got %v %q, want unknown, timed out", res.Status, res.Summary)
	}
}

func TestCredentialsRedacted(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(closed.URL)
	closed.Close()
	u.User = url.UserPassword("ops", "s3cret")
	c := newCheck(t, Config{}, u.String())
	res := c.Run(context.Background())
	if strings.Contains(res.Summary, "s3cret") || !strings.Contains(res.Summary, "connection refused") {
		t.Errorf("summary %q leaks the password or lacks the reason", res.Summary)
	}
	if strings.Contains(c.link, "s3cret") || strings.Contains(c.link, "ops@") {
		t.Errorf("UI link %q keeps credentials", c.link)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string // "" for valid
	}{
		{Config{Matchers: []string{`namespace="shop"`, `severity=~"critical|warning"`, `team!="infra"`, `pod!~"test-.*"`, `a="say \"hi\""`}}, ""},
		{Config{Matchers: []string{`namespace="shop"`, `severity==critical`}}, `matchers[1]: want name="value"`},
		{Config{Matchers: []string{`namespace=shop`}}, `matchers[0]: want name="value"`},
		{Config{Matchers: []string{`1ns="shop"`}}, `matchers[0]: want name="value"`},
		{Config{Matchers: []string{`a="x",b="y"`}}, `matchers[0]: unescaped double quote`},
		{Config{Matchers: []string{`a="x\"`}}, `matchers[0]: value of`},
		{Config{Matchers: []string{`ok="1"`, `x="1"`, `severity=~"crit("`}}, `matchers[2]: invalid regex "crit(": error parsing regexp`},
		{Config{IgnoreAlertnames: []string{"Watchdog", " "}}, `ignoreAlertnames[1]: must not be empty`},
		{Config{FingerprintLabels: []string{"namespace", "a-b"}}, `fingerprintLabels[1]: "a-b" is not a valid label name`},
		{Config{Timeout: model.Duration(-time.Second)}, `timeout: must be positive`},
		{Config{Link: "alertmanager:9093"}, `link: "alertmanager:9093" must be an absolute http:// or https:// URL`},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tt.cfg, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want prefix %q", tt.cfg, err, tt.want)
		}
	}
}

func TestNewChecksURLAndDefaults(t *testing.T) {
	if _, err := New(Config{}, "localhost:9093", nil, zap.NewNop()); err == nil || !strings.HasPrefix(err.Error(), "alertmanager url: ") {
		t.Errorf("New with a relative URL: %v", err)
	}
	c := newCheck(t, Config{}, "http://am:9093")
	if c.Timeout() != DefaultTimeout || c.Name() != "alerts" {
		t.Errorf("timeout %s name %q", c.Timeout(), c.Name())
	}
	if !c.ignore["Watchdog"] || !c.ignore["InfoInhibitor"] {
		t.Errorf("default ignore list %v", c.ignore)
	}
	c = newCheck(t, Config{Link: "https://am.example.com/"}, "http://am:9093")
	if got := c.groupLink(&group{name: "X"}); !strings.HasPrefix(got, "https://am.example.com/#/alerts?") {
		t.Errorf("link %q", got)
	}
}
