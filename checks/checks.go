// Package checks is the ops rotation's daily checklist as code.
//
// A Check is one of the runbook's looks (pods, alerts, metrics, logs, health
// URLs). It returns a Result: a Status, a one-line summary and the Findings
// behind it. A Runner runs a set of checks concurrently, each under its own
// deadline, and guarantees that every check reports, even one that errors,
// hangs or panics.
//
// This package knows nothing of Slack or SQL; the bot and the terminal both
// render the same Results.
package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Check is one look of the daily checklist.
//
// Run must honour ctx: when it is done, Run should return promptly. A Run
// that returns an error status should say why in Result.Summary. The Runner
// fills in Result.Check and Result.Duration; a Check need not.
type Check interface {
	Name() string
	Run(ctx context.Context) Result
}

// Status is the outcome of a check or the severity of a finding.
type Status int

// The statuses, from best to worst as far as Worst is concerned.
const (
	OK Status = iota
	Warn
	Unknown
	Fail
)

var statusNames = [...]string{OK: "ok", Warn: "warn", Unknown: "unknown", Fail: "fail"}

func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("Status(%d)", int(s))
	}
	return statusNames[s]
}

// ParseStatus is the inverse of Status.String.
func ParseStatus(s string) (Status, error) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), nil
		}
	}
	return Unknown, fmt.Errorf("unknown status %q (want one of %s)", s, strings.Join(statusNames[:], ", "))
}

// MarshalText encodes a Status as its lower-case name ("ok", "warn", ...).
func (s Status) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(statusNames) {
		return nil, fmt.Errorf("invalid status %d", int(s))
	}
	return []byte(statusNames[s]), nil
}

// UnmarshalText decodes a Status from its lower-case name.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Worst returns the most severe of the statuses: Fail, then Unknown, then
// Warn, then OK. Unknown ranks above Warn because a check that could not look
// may be hiding a failure.
func Worst(statuses ...Status) Status {
	w := OK
	for _, s := range statuses {
		if s > w {
			w = s
		}
	}
	return w
}

// Finding is one anomaly found by a check.
type Finding struct {
	// Fingerprint identifies the anomaly across runs: the check, the object
	// and the reason, never a timestamp or a pod's random suffix. Two runs
	// that see the same problem produce the same fingerprint; that is what
	// makes "this happened again" answerable.
	Fingerprint string `json:"fingerprint"`
	// Severity is Warn or Fail, or OK for an informational finding (the
	// grafana check's list of the panels it could not evaluate).
	Severity Status `json:"severity"`
	// Object is what the finding is about, e.g. "Deployment shop/api".
	Object string `json:"object,omitempty"`
	// Title is one line: what is wrong.
	Title string `json:"title"`
	// Detail is a few lines of evidence (a sample log line, a reason).
	Detail string `json:"detail,omitempty"`
	// Count is how many times the anomaly was seen (log lines, alerts,
	// pods), when that is meaningful; zero otherwise.
	Count int `json:"count,omitempty"`
	// Link points at where to look next (Grafana, Alertmanager, logs).
	Link string `json:"link,omitempty"`
	// Labels identify the alerts behind a finding of the alerts check:
	// the labels every alert of the finding has with the same value
	// (alertname, namespace, ...). A silence of the finding matches them.
	// Nil for other checks.
	Labels map[string]string `json:"labels,omitempty"`
	// Items are the identities of what a finding is made of, when the
	// check can tell the next run which are new: the security check's
	// vulnerability ids. Nil for other checks.
	Items []string `json:"items,omitempty"`
	// Known is set on a finding a standing triage decision would have
	// suppressed but that grew past it (Known.Grew), so it is reported as
	// new again; nil otherwise. Checks leave it nil: the morning run
	// (checklist.Run) sets it.
	Known *Known `json:"known,omitempty"`
	// LastTime is what the rotation decided the last time a finding with
	// this fingerprint was investigated; nil when it never was, or when
	// the run has no store to ask (the terminal). Checks leave it nil: the
	// morning run (checklist.Run) sets it.
	LastTime *LastTime `json:"lastTime,omitempty"`
	// Tips are the runbook tips whose patterns match the fingerprint (at
	// most 3, the most specific first); set like LastTime.
	Tips []Tip `json:"tips,omitempty"`
	// Chart, when set, says how to draw the series behind the finding
	// (its anomaly thread shows the chart); nil when the check has none.
	Chart *ChartSource `json:"chart,omitempty"`
}

// Tip is a runbook tip shown under a finding: "raise the heap, see
// OPS-88", added by a decider for every finding its pattern matches.
type Tip struct {
	ID      int64  `json:"id"`
	Pattern string `json:"pattern"`
	Text    string `json:"text"`
	// Author is who added it (a Slack user id).
	Author string `json:"author"`
}

// LastTime is the last decision on a fingerprint, and how often it was
// seen lately: "Last time, 12 Nov, @bob: Noise: retry storm from
// community-api, ticket OPS-123 · thread · seen 4 times in 30 days".
type LastTime struct {
	// AnomalyID is the anomaly that decision was made on.
	AnomalyID int64 `json:"anomalyId"`
	// Decision is the decision as people read it ("Noise"); DecidedBy
	// who made it (a Slack user id), DecidedAt when.
	Decision  string    `json:"decision"`
	DecidedBy string    `json:"decidedBy"`
	DecidedAt time.Time `json:"decidedAt"`
	// Conclusion and Ticket (a URL, "" when none) are the decision's, as
	// recorded (redacted then).
	Conclusion string `json:"conclusion"`
	Ticket     string `json:"ticket,omitempty"`
	// Channel and ThreadTS are the anomaly's Slack thread ("" when none).
	Channel  string `json:"channel,omitempty"`
	ThreadTS string `json:"threadTs,omitempty"`
	// Seen is how many times the fingerprint was seen in the last 30
	// days (the run's own sighting included).
	Seen int64 `json:"seenLast30Days"`
}

// ChartSource is how to chart a finding: a PromQL expression whose range
// over the window shows the anomaly, the series of its result that are the
// finding's, and the thresholds they were held against. It is data, not a
// picture: the finding stays small in the stored run, and the chart is
// drawn when it is wanted (an anomaly thread opened, `opsbot checklist
// --charts`) from the environment's Prometheus; an environment without one
// draws no chart.
//
// The metrics check fills it for each series over a threshold (its
// built-ins chart memory and restarts against their limits), the pods
// check for a container's OOM kills (memory against its limit) and
// restarts (its restart counter), the grafana check for a panel's series
// (the query as it ran, the panel's first warn and fail steps, over the
// check's window).
type ChartSource struct {
	// Title heads the chart ("memory vs limit: shop/api-7d4f/api").
	Title string `json:"title"`
	// Query is the PromQL expression, ready to run (no placeholders).
	Query string `json:"query"`
	// Series are labels that select the finding's series from the
	// query's result: a series is drawn when it has every one of them with
	// the same value. Empty: every series of the result.
	Series map[string]string `json:"series,omitempty"`
	// Warn and Fail are the thresholds (nil: none), Below says low values
	// are bad.
	Warn  *float64 `json:"warn,omitempty"`
	Fail  *float64 `json:"fail,omitempty"`
	Below bool     `json:"below,omitempty"`
	// Unit of the values: "none", "percent", "ratio", "seconds" or
	// "bytes" (as the metrics check's queries).
	Unit string `json:"unit,omitempty"`
	// At is when the finding was seen; the chart shows Window up to it.
	// In JSON Window is a Go duration ("6h0m0s").
	At     time.Time     `json:"at"`
	Window time.Duration `json:"window"`
}

// MarshalJSON writes Window as a duration people read ("6h0m0s"), not
// nanoseconds.
func (c ChartSource) MarshalJSON() ([]byte, error) {
	type plain ChartSource
	return json.Marshal(struct {
		plain
		Window string `json:"window"`
	}{plain(c), c.Window.String()})
}

// UnmarshalJSON is the inverse of MarshalJSON.
func (c *ChartSource) UnmarshalJSON(b []byte) error {
	type plain ChartSource
	var v struct {
		plain
		Window string `json:"window"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	w, err := time.ParseDuration(v.Window)
	if err != nil {
		return fmt.Errorf("chart window: %w", err)
	}
	*c = ChartSource(v.plain)
	c.Window = w
	return nil
}

// Known is what the triage had decided about a finding when the checklist
// saw it again: the anomaly, its decision, and how big the finding was then
// and is now (its Count).
type Known struct {
	// AnomalyID is the anomaly the finding was investigated as.
	AnomalyID int64 `json:"anomalyId"`
	// Decision is the anomaly's current decision, as people read it
	// ("Noise", "Intermittent").
	Decision string `json:"decision"`
	// DecidedBy is who made it (a Slack user id) and DecidedAt when.
	DecidedBy string    `json:"decidedBy"`
	DecidedAt time.Time `json:"decidedAt"`
	// DecidedCount is the finding's Count when the decision was made (0:
	// not known); Count is its Count now.
	DecidedCount float64 `json:"decidedCount"`
	Count        float64 `json:"count"`
	// Grew: Count reached the growth factor times DecidedCount, so the
	// decision no longer covers it and the finding is reported as new.
	Grew bool `json:"grew,omitempty"`
}

// Suppressed is a finding left out of a report because a standing
// decision covers it: decided Noise, or Intermittent within its recurrence
// window, and not grown since.
type Suppressed struct {
	// Check is the check that found it.
	Check   string  `json:"check"`
	Finding Finding `json:"finding"`
	Known   Known   `json:"known"`
}

// Result is what a check reports.
type Result struct {
	Check    string        `json:"check"`
	Status   Status        `json:"status"`
	Summary  string        `json:"summary"`
	Findings []Finding     `json:"findings"`
	Duration time.Duration `json:"-"`
}

// MarshalJSON adds durationMs and keeps findings an array (never null), so
// the JSON schema is stable for consumers.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	out := struct {
		plain
		DurationMS int64 `json:"durationMs"`
	}{plain(r), r.Duration.Milliseconds()}
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	return json.Marshal(out)
}

// Fingerprint builds a stable finding fingerprint from the check name and the
// parts that identify the object and the reason. Parts are joined with "/"
// after trimming; empty parts are kept as "-" so that positions stay stable.
func Fingerprint(check string, parts ...string) string {
	var b strings.Builder
	b.WriteString(check)
	for _, p := range parts {
		b.WriteByte('/')
		p = strings.TrimSpace(p)
		if p == "" {
			p = "-"
		}
		b.WriteString(p)
	}
	return b.String()
}

// Summarize computes a result's status from its findings: the worst finding
// severity, or OK when there are none. Checks use it so that status and
// findings never disagree.
func Summarize(findings []Finding) Status {
	s := OK
	for _, f := range findings {
		s = Worst(s, f.Severity)
	}
	return s
}

// UnknownResult is the result of a check that could not look.
func UnknownResult(reason string) Result {
	return Result{Status: Unknown, Summary: reason}
}

// ReportSchemaVersion is the version of the JSON form of Report. It changes
// only when a field is removed or changes meaning; adding fields does not.
const ReportSchemaVersion = 1

// Report is one run of the checklist against one environment: what the
// terminal prints, what `--output json` emits and what the bot posts.
type Report struct {
	SchemaVersion int       `json:"schemaVersion"`
	Environment   string    `json:"environment"`
	StartedAt     time.Time `json:"startedAt"`
	FinishedAt    time.Time `json:"finishedAt"`
	Status        Status    `json:"status"`
	Results       []Result  `json:"checks"`
	// Suppressed are the findings left out of Results as known noise
	// (checklist.Run, with a triage store): counted in the report's
	// "known noise: N suppressed" line and listed on demand. Always an
	// array in JSON.
	Suppressed []Suppressed `json:"suppressed"`
	// Cost is what the run cost the systems it looked at; nil when it was
	// not measured.
	Cost *Cost `json:"cost,omitempty"`
	// AskedBy is who asked for the run (a Slack user id, or "schedule");
	// "" in a terminal.
	AskedBy string `json:"askedBy,omitempty"`
}

// Cost is what a checklist run cost the systems it looked at: its own
// footprint, shown at the end of every report.
type Cost struct {
	// Calls are the HTTP requests the checks made: the Kubernetes API
	// (pod logs included), Prometheus, Alertmanager, health URLs.
	Calls int64 `json:"calls"`
	// LogBytes are the bytes of container logs read.
	LogBytes int64 `json:"logBytes"`
	// Throttled are the requests answered 429 Too Many Requests.
	Throttled int64 `json:"throttled"`
}

// NewReport assembles a report from results; its Status is the worst of
// theirs.
func NewReport(env string, started, finished time.Time, results []Result) Report {
	st := OK
	for _, r := range results {
		st = Worst(st, r.Status)
	}
	if results == nil {
		results = []Result{}
	}
	return Report{
		SchemaVersion: ReportSchemaVersion,
		Environment:   env,
		StartedAt:     started.UTC(),
		FinishedAt:    finished.UTC(),
		Status:        st,
		Results:       results,
		Suppressed:    []Suppressed{},
	}
}

// String is the cost as a report shows it: "1,954 API calls · 195.0 MB of
// logs read · 0 throttled".
func (c Cost) String() string {
	calls := "API calls"
	if c.Calls == 1 {
		calls = "API call"
	}
	return Thousands(c.Calls) + " " + calls + " · " + HumanBytes(c.LogBytes) + " of logs read · " +
		Thousands(c.Throttled) + " throttled"
}

// Thousands formats n with comma separators: 1,204.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + Thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// FormatCount formats a finding's count (Known.Count, DecidedCount) as
// people read it: whole numbers with comma separators (1,204), others with
// up to three significant decimals (0.25).
func FormatCount(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return Thousands(int64(v))
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// HumanBytes formats a byte count in SI units: 1.2 GB, 38.0 MB, 512 B.
func HumanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return strconv.FormatFloat(float64(n)/1e9, 'f', 1, 64) + " GB"
	case n >= 1e6:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	case n >= 1e3:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + " kB"
	}
	return strconv.FormatInt(n, 10) + " B"
}
