package httpcheck

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"
	"go.yaml.in/yaml/v3"

	"github.com/opsbot/opsbot/checks"
)

// server answers each path with a status code and a body.
func server(t *testing.T, routes map[string]struct {
	code int
	body string
}) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(rt.code)
		_, _ = w.Write([]byte(rt.body))
	}))
	t.Cleanup(s.Close)
	return s
}

type route = struct {
	code int
	body string
}

func newCheck(t *testing.T, cfg Config) *Check {
	t.Helper()
	c, err := New(cfg, nil, zap.NewNop())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

const springDown = `{"status":"DOWN","components":{"db":{"status":"DOWN","details":{"error":"org.springframework.jdbc.CannotGetJdbcConnectionException"}},` +
	`"diskSpace":{"status":"UP"},"redis":{"status":"OUT_OF_SERVICE"},"ping":{"status":"UP"}}}`

func TestTargets(t *testing.T) {
	s := server(t, map[string]route{
		"/plain":     {200, "fine"},
		"/nocontent": {204, ""},
		"/spring":    {200, `{"status":"UP","components":{"db":{"status":"UP"}}}`},
		"/ok":        {200, `{"status":"ok"}`},
		"/pass":      {200, `{"status":"pass"}`},
		"/other":     {200, `{"state":"DOWN"}`},
		"/401":       {401, "who are you"},
		"/503":       {503, "upstream connect error\n"},
		"/down":      {503, springDown},
		"/down20":    {503, `{"status":"DOWN","details":{"db":{"status":"DOWN"},"diskSpace":{"status":"UP"}}}`},
		"/down200":   {200, `{"status":"DOWN"}`},
		"/warn":      {200, `{"status":"warn","checks":{}}`},
		"/500":       {500, "<html>" + strings.Repeat("x", 1000) + "</html>"},
	})
	tests := []struct {
		target Target
		want   *checks.Finding // nil: healthy
	}{
		{Target{Name: "plain", URL: s.URL + "/plain"}, nil},
		{Target{Name: "nocontent", URL: s.URL + "/nocontent"}, nil},
		{Target{Name: "spring", URL: s.URL + "/spring"}, nil},
		{Target{Name: "ok", URL: s.URL + "/ok"}, nil},
		{Target{Name: "pass", URL: s.URL + "/pass"}, nil},
		{Target{Name: "other", URL: s.URL + "/other"}, nil},
		{Target{Name: "auth", URL: s.URL + "/401", ExpectStatus: StatusCodes{401}}, nil},
		{Target{Name: "payments", URL: s.URL + "/503"}, &checks.Finding{
			Fingerprint: "http/payments/5xx", Severity: checks.Fail, Object: "payments",
			Title:  "payments health: 503 Service Unavailable",
			Detail: "GET " + s.URL + "/503 → 503 Service Unavailable\nupstream connect error", Link: s.URL + "/503"}},
		{Target{Name: "orders", URL: s.URL + "/down"}, &checks.Finding{
			Fingerprint: "http/orders/status-down", Severity: checks.Fail, Object: "orders",
			Title:  "orders health: status DOWN (db: DOWN, redis: OUT_OF_SERVICE)",
			Detail: "GET " + s.URL + "/down → 503 Service Unavailable", Link: s.URL + "/down"}},
		{Target{Name: "legacy-health", URL: s.URL + "/down20"}, &checks.Finding{
			Fingerprint: "http/legacy-health/status-down", Severity: checks.Fail, Object: "legacy-health",
			Title:  "legacy-health: status DOWN (db: DOWN)",
			Detail: "GET " + s.URL + "/down20 → 503 Service Unavailable", Link: s.URL + "/down20"}},
		{Target{Name: "down200", URL: s.URL + "/down200"}, &checks.Finding{
			Fingerprint: "http/down200/status-down", Severity: checks.Fail, Object: "down200",
			Title:  "down200 health: status DOWN",
			Detail: "GET " + s.URL + "/down200 → 200 OK", Link: s.URL + "/down200"}},
		{Target{Name: "warn", URL: s.URL + "/warn"}, &checks.Finding{
			Fingerprint: "http/warn/status-warn", Severity: checks.Warn, Object: "warn",
			Title:  "warn health: status warn",
			Detail: "GET " + s.URL + "/warn → 200 OK", Link: s.URL + "/warn"}},
		{Target{Name: "strict", URL: s.URL + "/plain", ExpectStatus: StatusCodes{204}}, &checks.Finding{
			Fingerprint: "http/strict/2xx", Severity: checks.Fail, Object: "strict",
			Title:  "strict health: 200 OK",
			Detail: "GET " + s.URL + "/plain → 200 OK\nfine", Link: s.URL + "/plain"}},
	}
	for _, tt := range tests {
		t.Run(tt.target.Name, func(t *testing.T) {
			res := newCheck(t, Config{Targets: []Target{tt.target}}).Run(context.Background())
			if tt.want == nil {
				if res.Status != checks.OK || len(res.Findings) != 0 || res.Summary != "1 target healthy" {
					t.Errorf("got %v %q %+v, want healthy", res.Status, res.Summary, res.Findings)
				}
				return
			}
			if len(res.Findings) != 1 || !reflect.DeepEqual(res.Findings[0], *tt.want) {
				t.Errorf("findings\n%+v\nwant\n%+v", res.Findings, *tt.want)
			}
			if res.Status != tt.want.Severity {
				t.Errorf("status %v, want %v", res.Status, tt.want.Severity)
			}
		})
	}
}

func TestLongBodyTruncated(t *testing.T) {
	s := server(t, map[string]route{"/500": {500, strings.Repeat("x", 200<<10)}})
	res := newCheck(t, Config{Targets: []Target{{Name: "big", URL: s.URL + "/500"}}}).Run(context.Background())
	lines := strings.Split(res.Findings[0].Detail, "\n")
	if len(lines) != 2 || len([]rune(lines[1])) != 301 {
		t.Errorf("detail not truncated to 300 runes: %d lines, %d runes", len(lines), len([]rune(lines[len(lines)-1])))
	}
}

func TestSummaryAndConcurrency(t *testing.T) {
	s := server(t, map[string]route{"/ok": {200, "ok"}, "/503": {503, ""}})
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	c := newCheck(t, Config{Targets: []Target{
		{Name: "a", URL: s.URL + "/ok"},
		{Name: "payments", URL: s.URL + "/503"},
		{Name: "gone", URL: closedURL + "/health"},
	}})
	res := c.Run(context.Background())
	if want := "2 of 3 targets failing: payments (503 Service Unavailable), gone (connection refused)"; res.Summary != want {
		t.Errorf("summary %q, want %q", res.Summary, want)
	}
	if res.Status != checks.Fail || len(res.Findings) != 2 {
		t.Fatalf("got %v with %d findings", res.Status, len(res.Findings))
	}
	gone := res.Findings[1]
	if gone.Fingerprint != "http/gone/unreachable" || gone.Title != "gone health: connection refused" {
		t.Errorf("unreachable finding %+v", gone)
	}
}

func TestTimeout(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(slow.Close)
	// Headers, then a body that never ends.
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`{"status":`))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(stall.Close)
	c := newCheck(t, Config{Targets: []Target{
		{Name: "slow", URL: slow.URL, Timeout: model.Duration(50 * time.Millisecond)},
		{Name: "stall", URL: stall.URL, Timeout: model.Duration(50 * time.Millisecond)},
	}})
	if c.Timeout() != 50*time.Millisecond+grace {
		t.Errorf("check timeout %s", c.Timeout())
	}
	res := checks.NewRunner(time.Hour, zap.NewNop()).Run(context.Background(), []checks.Check{c}, nil)[0]
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Fingerprint+" "+f.Title)
	}
	want := []string{"http/slow/timeout slow health: timed out after 50ms", "http/stall/timeout stall health: timed out after 50ms reading the body"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
}

func TestCancelled(t *testing.T) {
	started := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	t.Cleanup(s.Close)
	c := newCheck(t, Config{Targets: []Target{{Name: "x", URL: s.URL}}})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	res := c.Run(ctx)
	if res.Status != checks.Unknown || !strings.HasPrefix(res.Summary, "stopped before every target answered: cancelled") {
		t.Errorf("got %v %q", res.Status, res.Summary)
	}
}

func TestRequest(t *testing.T) {
	got := make(chan *http.Request, 1)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r }))
	t.Cleanup(s.Close)
	c := newCheck(t, Config{Targets: []Target{{Name: "x", URL: s.URL + "/health?x=1", Method: "HEAD",
		Headers: map[string]string{"X-Probe": "opsbot", "Host": "payments.internal"}}}})
	if res := c.Run(context.Background()); res.Status != checks.OK {
		t.Fatalf("got %v %q", res.Status, res.Summary)
	}
	r := <-got
	if r.Method != "HEAD" || r.URL.RequestURI() != "/health?x=1" || r.Header.Get("X-Probe") != "opsbot" ||
		r.Host != "payments.internal" || r.Header.Get("User-Agent") != "opsbot/dev" {
		t.Errorf("request %s %s host %s headers %v", r.Method, r.URL, r.Host, r.Header)
	}
}

func TestTLS(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(s.Close)
	c := newCheck(t, Config{Targets: []Target{
		{Name: "verified", URL: s.URL},
		{Name: "insecure", URL: s.URL, InsecureSkipVerify: true},
	}})
	res := c.Run(context.Background())
	if len(res.Findings) != 1 || res.Findings[0].Fingerprint != "http/verified/tls" ||
		!strings.HasPrefix(res.Findings[0].Title, "verified health: TLS: ") {
		t.Errorf("findings %+v", res.Findings)
	}
}

func TestValidate(t *testing.T) {
	ok := Target{Name: "a", URL: "http://a:8080/health"}
	tests := []struct {
		targets []Target
		want    string
	}{
		{[]Target{ok, {Name: "b", URL: "https://b/health", ExpectStatus: StatusCodes{200, 204}, Method: "HEAD"}}, ""},
		{[]Target{ok, {URL: "http://b"}}, "targets[1].name: must not be empty"},
		{[]Target{ok, {Name: "a", URL: "http://b"}}, `targets[1].name: "a" is already the name of targets[0]`},
		{[]Target{{Name: "a/b", URL: "http://b"}}, `targets[0].name: must not contain '/'`},
		{[]Target{{Name: "b"}}, "targets[0].url: must not be empty"},
		{[]Target{{Name: "b", URL: "payments:8080/health"}}, `targets[0].url: "payments:8080/health" must be an absolute http:// or https:// URL`},
		{[]Target{{Name: "b", URL: "/health"}}, `targets[0].url: "/health" must be an absolute http:// or https:// URL`},
		{[]Target{{Name: "b", URL: "ftp://b/x"}}, `targets[0].url: "ftp://b/x" must be an absolute`},
		{[]Target{{Name: "b", URL: "http://u:secret@b/x", Method: "DELETE"}}, `targets[0].method: must be one of GET, HEAD, POST, OPTIONS, got "DELETE"`},
		{[]Target{{Name: "b", URL: "http://b", ExpectStatus: StatusCodes{200, 2000}}}, "targets[0].expectStatus[1]: must be an HTTP status code (100-599), got 2000"},
		{[]Target{{Name: "b", URL: "http://b", Headers: map[string]string{"Bad Header": "x"}}}, `targets[0].headers: "Bad Header" is not a valid header name`},
		{[]Target{{Name: "b", URL: "http://b", Timeout: model.Duration(-time.Second)}}, "targets[0].timeout: must be positive"},
	}
	for _, tt := range tests {
		err := Config{Targets: tt.targets}.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("unexpected error %v", err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("error %v, want prefix %q", err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q leaks a password", err)
		}
	}
}

func TestYAML(t *testing.T) {
	var cfg Config
	doc := `
targets:
  - name: payments
    url: http://payments:8080/actuator/health
    expectStatus: 200
  - name: orders
    url: http://orders:8080/health
    expectStatus: [200, 204]
    timeout: 2s
`
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.SetDefaults()
	if !slices.Equal(cfg.Targets[0].ExpectStatus, StatusCodes{200}) || !slices.Equal(cfg.Targets[1].ExpectStatus, StatusCodes{200, 204}) {
		t.Errorf("expectStatus %v %v", cfg.Targets[0].ExpectStatus, cfg.Targets[1].ExpectStatus)
	}
	if cfg.Targets[0].Timeout != model.Duration(DefaultTimeout) || cfg.Targets[1].Timeout != model.Duration(2*time.Second) || cfg.Targets[0].Method != "GET" {
		t.Errorf("defaults %+v", cfg.Targets)
	}
	if err := yaml.Unmarshal([]byte("targets: [{name: x, url: 'http://x', expectStatus: ok}]"), &cfg); err == nil {
		t.Errorf("expectStatus: ok accepted")
	}
}

func TestNoTargets(t *testing.T) {
	res := newCheck(t, Config{}).Run(context.Background())
	if res.Status != checks.OK || res.Summary != "no targets configured" {
		t.Errorf("got %v %q", res.Status, res.Summary)
	}
}
