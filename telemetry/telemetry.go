// Package telemetry is opsbot's own metrics, served on /metrics beside the
// health probes, so that the bot itself can be alerted on: is it connected
// to Slack, did the morning checklist run, is Slack refusing its calls.
//
// Every metric lives on one registry made by New (never Prometheus's global
// one), and every method is safe on a nil *Metrics, so parts built without
// metrics (tests, the terminal checklist) need no special case.
package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
)

const namespace = "opsbot"

// Metrics are opsbot's metrics. Create them with New.
type Metrics struct {
	registry *prometheus.Registry

	checklistRuns     *prometheus.CounterVec
	checklistDuration *prometheus.HistogramVec
	checklistLast     *prometheus.GaugeVec
	checkResults      *prometheus.CounterVec
	checkDuration     *prometheus.HistogramVec
	findings          *prometheus.CounterVec
	envelopes         *prometheus.CounterVec
	ackLatency        *prometheus.HistogramVec
	slackCalls        *prometheus.CounterVec
	slackConnected    prometheus.Gauge
	slackConnects     prometheus.Counter
	slackRetries      *prometheus.CounterVec
	slackPostQueue    prometheus.Gauge
	statusPageCalls   *prometheus.CounterVec
	storeErrors       *prometheus.CounterVec
	decisions         *prometheus.CounterVec
	incidents         *prometheus.CounterVec
	refusals          *prometheus.CounterVec
	charts            *prometheus.CounterVec
}

// The outcomes of an anomaly thread's chart (Metrics.Chart).
const (
	ChartPosted = "posted" // drawn and shared in the thread
	ChartNone   = "none"   // nothing to draw (no source, no Prometheus, no data)
	ChartFailed = "failed" // the query, the drawing or the upload failed
)

// New registers every metric, with the build's version, on a registry of
// its own (with the Go runtime's and the process's collectors).
func New(version string) *Metrics {
	r := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m := &Metrics{registry: r}
	m.checklistRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "checklist_runs_total", Help: "Checklist runs, by environment, what started them (command, schedule) and outcome (reported, failed)."},
		[]string{"environment", "trigger", "outcome"})
	m.checklistDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
		Name: "checklist_duration_seconds", Help: "How long a checklist run took, by environment.",
		Buckets: []float64{1, 2.5, 5, 10, 20, 30, 60, 120, 300}}, []string{"environment"})
	m.checklistLast = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace,
		Name: "checklist_last_reported_timestamp_seconds", Help: "When the last checklist of an environment was reported (Unix time)."},
		[]string{"environment", "trigger"})
	m.checkResults = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "check_results_total", Help: "Results of the checks, by environment, check and status (ok, warn, fail, unknown)."},
		[]string{"environment", "check", "status"})
	m.checkDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
		Name: "check_duration_seconds", Help: "How long a check took, by environment and check.",
		Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"environment", "check"})
	m.findings = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "findings_total", Help: "Findings reported by the checklist, by environment and severity (warn, fail; ok for informational ones)."},
		[]string{"environment", "severity"})
	m.envelopes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "slack_envelopes_total", Help: "Socket Mode envelopes received, by type (slash_command, block_actions, view_submission, events_api)."},
		[]string{"type"})
	m.ackLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
		Name: "slack_ack_latency_seconds", Help: "From reading an envelope to writing its ack, by type; Slack wants it within 3 s.",
		Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2, 3}}, []string{"type"})
	m.slackCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "slack_api_calls_total", Help: "Slack Web API calls, by method and outcome (ok, error, rate_limited, http_error, transport_error)."},
		[]string{"method", "outcome"})
	m.slackConnected = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace,
		Name: "slack_connected", Help: "1 while a Socket Mode connection is open."})
	m.slackConnects = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace,
		Name: "slack_connection_attempts_total", Help: "Socket Mode connection attempts (a steady rise means reconnects)."})
	m.slackRetries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "slack_retries_total", Help: "Slack Web API calls made again, by method and reason (rate_limited, server_error, transport_error)."},
		[]string{"method", "reason"})
	m.slackPostQueue = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace,
		Name: "slack_post_queue_depth", Help: "Posts waiting for their turn in their channel (chat.postMessage is paced per channel)."})
	m.statusPageCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "statuspage_calls_total", Help: "Status page API calls, by HTTP method and outcome (ok, rate_limited, http_error, transport_error)."},
		[]string{"method", "outcome"})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "store_errors_total", Help: "Store writes that failed for a reason other than the input (invalid, not found, conflict), by operation."},
		[]string{"operation"})
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "decisions_total", Help: "Decisions recorded on anomalies, by decision."}, []string{"decision"})
	m.incidents = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "incidents_total", Help: "Incident steps done from Slack, by event (announced, updated, resolved)."}, []string{"event"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "refusals_total", Help: "Slack commands, clicks and modal submissions refused, by reason (workspace, enterprise, app, channel, direct_message, not_decider)."},
		[]string{"reason"})
	for _, r := range opsbot.Reasons {
		m.refusals.WithLabelValues(r) // every reason from 0, for rate() and alerts
	}
	m.charts = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
		Name: "charts_total", Help: "Charts of anomaly threads, by outcome (posted, none: nothing to draw, failed)."},
		[]string{"outcome"})
	for _, o := range []string{ChartPosted, ChartNone, ChartFailed} {
		m.charts.WithLabelValues(o)
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace,
		Name: "build_info", Help: "1, labelled with the running version."}, []string{"version"})
	build.WithLabelValues(version).Set(1)
	for _, c := range []prometheus.Collector{m.checklistRuns, m.checklistDuration, m.checklistLast, m.checkResults,
		m.checkDuration, m.findings, m.envelopes, m.ackLatency, m.slackCalls, m.slackConnected, m.slackConnects,
		m.slackRetries, m.slackPostQueue, m.statusPageCalls, m.storeErrors, m.decisions, m.incidents, m.refusals, m.charts, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}

// Handler serves the metrics in Prometheus's exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Gatherer is the registry, for tests.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.registry }

// ChecklistRun records a checklist run of env: trigger is "command" or
// "schedule"; reported says whether the report was posted.
func (m *Metrics) ChecklistRun(env, trigger string, rep checks.Report, reported bool) {
	if m == nil {
		return
	}
	outcome := "failed"
	if reported {
		outcome = "reported"
		m.checklistLast.WithLabelValues(env, trigger).Set(float64(rep.FinishedAt.Unix()))
	}
	m.checklistRuns.WithLabelValues(env, trigger, outcome).Inc()
	m.checklistDuration.WithLabelValues(env).Observe(rep.FinishedAt.Sub(rep.StartedAt).Seconds())
	for _, r := range rep.Results {
		m.checkResults.WithLabelValues(env, r.Check, r.Status.String()).Inc()
		m.checkDuration.WithLabelValues(env, r.Check).Observe(r.Duration.Seconds())
		for _, f := range r.Findings {
			m.findings.WithLabelValues(env, f.Severity.String()).Inc()
		}
	}
}

// EnvelopeReceived counts an envelope of type typ.
func (m *Metrics) EnvelopeReceived(typ string) {
	if m != nil {
		m.envelopes.WithLabelValues(typ).Inc()
	}
}

// Acked records how long an envelope of type typ waited for its ack.
func (m *Metrics) Acked(typ string, d time.Duration) {
	if m != nil {
		m.ackLatency.WithLabelValues(typ).Observe(d.Seconds())
	}
}

// SlackConnecting counts a Socket Mode connection attempt; the
// connection is down until SlackConnected.
func (m *Metrics) SlackConnecting() {
	if m != nil {
		m.slackConnects.Inc()
		m.slackConnected.Set(0)
	}
}

// SlackConnected records that a Socket Mode connection is open (up) or
// lost.
func (m *Metrics) SlackConnected(up bool) {
	if m == nil {
		return
	}
	if up {
		m.slackConnected.Set(1)
	} else {
		m.slackConnected.Set(0)
	}
}

// Decision counts a decision recorded (its key: "noise", "serious"...).
func (m *Metrics) Decision(decision string) {
	if m != nil {
		m.decisions.WithLabelValues(decision).Inc()
	}
}

// Incident counts an incident step: "announced", "updated", "resolved".
func (m *Metrics) Incident(event string) {
	if m != nil {
		m.incidents.WithLabelValues(event).Inc()
	}
}

// Refused counts a refused request; reason is an opsbot.Reason* value.
func (m *Metrics) Refused(reason string) {
	if m != nil {
		m.refusals.WithLabelValues(reason).Inc()
	}
}

// Chart counts an anomaly thread's chart by outcome (ChartPosted,
// ChartNone, ChartFailed).
func (m *Metrics) Chart(outcome string) {
	if m != nil {
		m.charts.WithLabelValues(outcome).Inc()
	}
}

// StoreError counts a failed store write of operation op.
func (m *Metrics) StoreError(op string) {
	if m != nil {
		m.storeErrors.WithLabelValues(op).Inc()
	}
}

// SlackRetry counts a Slack Web API call made again, by method and reason
// ("rate_limited", "server_error", "transport_error").
func (m *Metrics) SlackRetry(method, reason string) {
	if m != nil {
		m.slackRetries.WithLabelValues(method, reason).Inc()
	}
}

// SlackPostQueued adds delta to the posts waiting for their turn in their
// channel.
func (m *Metrics) SlackPostQueued(delta int) {
	if m != nil {
		m.slackPostQueue.Add(float64(delta))
	}
}

// slackMethodKey carries a Slack call's name (WithSlackMethod).
type slackMethodKey struct{}

// WithSlackMethod names the Slack calls made with ctx, for requests whose
// URL does not name a Web API method (the upload URL of a file, unique per
// file: its path would be a label value per upload).
func WithSlackMethod(ctx context.Context, method string) context.Context {
	return context.WithValue(ctx, slackMethodKey{}, method)
}

// SlackMethod is the name WithSlackMethod gave ctx's calls, if any.
func SlackMethod(ctx context.Context) (string, bool) {
	m, ok := ctx.Value(slackMethodKey{}).(string)
	return m, ok
}

// SlackTransport counts every Slack Web API call made through next, by
// method (the name WithSlackMethod gave the request's context, else the
// last element of the URL's path: chat.postMessage) and
// outcome: "ok", "error" (Slack answered ok:false), "rate_limited" (429),
// "http_error" (another non-2xx status) or "transport_error". The body is
// read to see Slack's ok flag and given back unchanged.
func (m *Metrics) SlackTransport(next http.RoundTripper) http.RoundTripper {
	if m == nil {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		method, named := SlackMethod(req.Context())
		if !named {
			method = req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
		}
		resp, err := next.RoundTrip(req)
		outcome := httpOutcome(resp, err)
		if outcome == "ok" && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			var answer struct {
				OK *bool `json:"ok"`
			}
			if rerr != nil {
				outcome = "transport_error"
			} else if json.Unmarshal(body, &answer) == nil && answer.OK != nil && !*answer.OK {
				outcome = "error"
			}
		}
		m.slackCalls.WithLabelValues(method, outcome).Inc()
		return resp, err
	})
}

// StatusPageTransport counts every status page call made through next, by
// HTTP method and outcome ("ok", "rate_limited", "http_error",
// "transport_error").
func (m *Metrics) StatusPageTransport(next http.RoundTripper) http.RoundTripper {
	if m == nil {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		m.statusPageCalls.WithLabelValues(req.Method, httpOutcome(resp, err)).Inc()
		return resp, err
	})
}

func httpOutcome(resp *http.Response, err error) string {
	switch {
	case err != nil:
		return "transport_error"
	case resp.StatusCode == http.StatusTooManyRequests:
		return "rate_limited"
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return "http_error"
	}
	return "ok"
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
