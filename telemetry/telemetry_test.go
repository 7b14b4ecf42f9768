package telemetry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/opsbot/opsbot/checks"
)

func TestSlackTransportCountsByMethodAndOutcome(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/chat.postMessage":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = io.WriteString(w, `{"ok":true,"ts":"1.2"}`)
		case "/api/chat.update":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = io.WriteString(w, `{"ok":false,"error":"message_not_found"}`)
		case "/api/conversations.history":
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	m := New("test")
	c := &http.Client{Transport: m.SlackTransport(nil)}
	for _, method := range []string{"chat.postMessage", "chat.update", "conversations.history", "users.info"} {
		resp, err := c.Post(srv.URL+"/api/"+method, "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if method == "chat.postMessage" && string(body) != `{"ok":true,"ts":"1.2"}` {
			t.Errorf("the body the client reads changed: %q", body)
		}
	}
	srv.Close()
	if _, err := c.Post(srv.URL+"/api/auth.test", "text/plain", nil); err == nil {
		t.Fatal("a closed server answered")
	}
	for _, tt := range []struct{ method, outcome string }{
		{"chat.postMessage", "ok"}, {"chat.update", "error"}, {"conversations.history", "rate_limited"},
		{"users.info", "http_error"}, {"auth.test", "transport_error"},
	} {
		if n := testutil.ToFloat64(m.slackCalls.WithLabelValues(tt.method, tt.outcome)); n != 1 {
			t.Errorf("%s %s: %v calls, want 1", tt.method, tt.outcome, n)
		}
	}
}

func TestChecklistRun(t *testing.T) {
	m := New("test")
	start := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	rep := checks.NewReport("prod", start, start.Add(12*time.Second), []checks.Result{
		{Check: "pods", Status: checks.Fail, Duration: 2 * time.Second, Findings: []checks.Finding{
			{Severity: checks.Fail}, {Severity: checks.Warn}}},
		{Check: "alerts", Status: checks.Unknown, Duration: 10 * time.Second},
	})
	m.ChecklistRun("prod", "schedule", rep, true)
	m.ChecklistRun("prod", "command", rep, false)
	for _, tt := range []struct {
		name string
		got  float64
		want float64
	}{
		{"reported scheduled runs", testutil.ToFloat64(m.checklistRuns.WithLabelValues("prod", "schedule", "reported")), 1},
		{"failed command runs", testutil.ToFloat64(m.checklistRuns.WithLabelValues("prod", "command", "failed")), 1},
		{"last reported", testutil.ToFloat64(m.checklistLast.WithLabelValues("prod", "schedule")), float64(start.Add(12 * time.Second).Unix())},
		{"pods failed", testutil.ToFloat64(m.checkResults.WithLabelValues("prod", "pods", "fail")), 2},
		{"alerts unknown", testutil.ToFloat64(m.checkResults.WithLabelValues("prod", "alerts", "unknown")), 2},
		{"fail findings", testutil.ToFloat64(m.findings.WithLabelValues("prod", "fail")), 2},
		{"warn findings", testutil.ToFloat64(m.findings.WithLabelValues("prod", "warn")), 2},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	// A failed run does not move "last reported" for its trigger.
	if n := testutil.CollectAndCount(m.checklistLast); n != 1 {
		t.Errorf("%d last-reported series, want 1 (the failed command run sets none)", n)
	}
}

func TestNilMetricsAreSafe(t *testing.T) {
	var m *Metrics
	m.ChecklistRun("prod", "command", checks.Report{}, true)
	m.EnvelopeReceived("slash_command")
	m.Acked("slash_command", time.Millisecond)
	m.SlackConnecting()
	m.SlackConnected(true)
	m.Decision("noise")
	m.Incident("announced")
	m.StoreError("decide")
	m.Refused("channel")
	m.SlackRetry("chat.postMessage", "rate_limited")
	m.SlackPostQueued(1)
	next := http.DefaultTransport
	if m.SlackTransport(next) != next || m.StatusPageTransport(next) != next {
		t.Error("a nil Metrics wraps transports")
	}
}

func TestSlackRetriesAndPostQueue(t *testing.T) {
	m := New("test")
	m.SlackRetry("chat.postMessage", "rate_limited")
	m.SlackRetry("chat.postMessage", "rate_limited")
	m.SlackRetry("chat.update", "server_error")
	m.SlackPostQueued(1)
	m.SlackPostQueued(1)
	m.SlackPostQueued(-1)
	if got := testutil.ToFloat64(m.slackRetries.WithLabelValues("chat.postMessage", "rate_limited")); got != 2 {
		t.Errorf("rate-limited retries = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.slackRetries.WithLabelValues("chat.update", "server_error")); got != 1 {
		t.Errorf("server-error retries = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.slackPostQueue); got != 1 {
		t.Errorf("post queue depth = %v, want 1", got)
	}
}

func TestHandlerExposesBuildInfo(t *testing.T) {
	m := New("v1.2.3")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `opsbot_build_info{version="v1.2.3"} 1`) {
		t.Errorf("no build info:\n%s", rec.Body.String())
	}
	// Disconnected until Slack says hello: an alert on it fires at start-up
	// failures too.
	if !strings.Contains(rec.Body.String(), "opsbot_slack_connected 0") {
		t.Errorf("slack_connected is not 0 before a connection:\n%s", rec.Body.String())
	}
	// Every refusal reason is there from the start, so that a rate() or
	// increase() alert on it works from the first refusal.
	if !strings.Contains(rec.Body.String(), `opsbot_refusals_total{reason="direct_message"} 0`) {
		t.Errorf("refusals_total is not exposed before a refusal:\n%s", rec.Body.String())
	}
}

func TestRefused(t *testing.T) {
	m := New("test")
	m.Refused("channel")
	m.Refused("channel")
	m.Refused("enterprise")
	for reason, want := range map[string]float64{"channel": 2, "enterprise": 1, "app": 0} {
		if n := testutil.ToFloat64(m.refusals.WithLabelValues(reason)); n != want {
			t.Errorf("refusals{reason=%q} = %v, want %v", reason, n, want)
		}
	}
}
