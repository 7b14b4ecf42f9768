// Package metrics is the runbook's Grafana look: are the environment's
// workloads within their tolerances? It runs PromQL instant queries against
// Prometheus's HTTP API (GET /api/v1/query) and reports every series that
// reaches a query's warn or fail threshold.
//
// Built-in queries cover the usual tolerances, scoped to the environment's
// namespaces: CPU and memory against the containers' limits, PVC usage,
// container restarts in the last hour, the HTTP 5xx ratio, the p99 HTTP
// latency and, when a bandwidth is configured (networkLimit), each pod's
// network receive and transmit rates against it. Each can be disabled by name, its thresholds overridden, or
// replaced by a query of the same name. A query whose metrics do not exist
// returns no series: that is "no data" in the summary, not an error.
//
// Queries run concurrently (config concurrency). When a query fails, the
// others still report:
//
//   - some queries failed: each failure is a Warn finding ("query pvc
//     failed: ..."), so the check is at least Warn, and the summary says so;
//   - every query failed (Prometheus unreachable, say): the check is
//     Unknown, with the first failure as the reason.
//
// The check decodes the API's JSON with github.com/prometheus/common/model;
// it does not use client_golang.
package metrics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/internal/promapi"
)

// Env is what the metrics check needs to know about its environment.
type Env struct {
	// PrometheusURL is the Prometheus base URL, e.g.
	// http://prometheus.monitoring:9090 (a path prefix is kept).
	PrometheusURL string
	// Namespaces replace the {{namespace}} / $namespace placeholders. None
	// means every namespace.
	Namespaces []string
	// GrafanaURL is the findings' link for queries without a link of their
	// own. Optional.
	GrafanaURL string
}

// Check runs the configured queries against one Prometheus.
type Check struct {
	cfg      Config
	prom     *promapi.Client
	promLink string // Prometheus base URL without credentials, for links
	grafana  string
	queries  []Query // with placeholders expanded and defaults set
	logger   *zap.Logger
	now      func() time.Time
}

// New returns the metrics check. client carries any credentials (see
// internal/httpx); nil means a plain client. cfg is defaulted and
// validated.
func New(cfg Config, env Env, client *http.Client, logger *zap.Logger) (*Check, error) {
	cfg.Queries = slices.Clone(cfg.Queries) // SetDefaults writes to them
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := httpx.CheckURL(env.PrometheusURL); err != nil {
		return nil, fmt.Errorf("prometheus url: %w", err)
	}
	if env.GrafanaURL != "" {
		if err := httpx.CheckURL(env.GrafanaURL); err != nil {
			return nil, fmt.Errorf("grafana url: %w", err)
		}
	}
	if client == nil {
		client = httpx.NewClient(httpx.Options{})
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	u, _ := url.Parse(env.PrometheusURL) // checked above
	u.User = nil
	u.RawQuery, u.Fragment = "", ""
	c := &Check{
		cfg:      cfg,
		prom:     promapi.New(env.PrometheusURL, client),
		promLink: strings.TrimRight(u.String(), "/"),
		grafana:  env.GrafanaURL,
		logger:   logger.With(zap.String("check", "metrics")),
		now:      time.Now,
	}
	ns := namespaceRegex(env.Namespaces)
	for _, q := range cfg.queries() {
		q.setDefaults()
		q.Query = expand(q.Query, ns)
		c.queries = append(c.queries, q)
	}
	return c, nil
}

// Name returns "metrics".
func (c *Check) Name() string { return "metrics" }

// Timeout returns the check's deadline (config key timeout).
func (c *Check) Timeout() time.Duration { return time.Duration(c.cfg.Timeout) }

// Queries returns the names of the queries the check runs, in order.
func (c *Check) Queries() []string {
	names := make([]string, len(c.queries))
	for i, q := range c.queries {
		names[i] = q.Name
	}
	return names
}

// Expressions returns the PromQL of the queries the check runs, in order,
// with their placeholders expanded: what a person would paste into Grafana.
func (c *Check) Expressions() []string {
	exprs := make([]string, len(c.queries))
	for i, q := range c.queries {
		exprs[i] = q.Query
	}
	return exprs
}

// outcome is what one query gave.
type outcome struct {
	promapi.Answer
	err error
}

// Run runs every query at the same evaluation time, at most concurrency at
// once, and reports the series over their thresholds.
func (c *Check) Run(ctx context.Context) checks.Result {
	if len(c.queries) == 0 {
		return checks.Result{Status: checks.OK, Summary: "no queries configured"}
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout(),
		fmt.Errorf("no answer within %s", c.Timeout()))
	defer cancel()
	at := c.now()
	outcomes := make([]outcome, len(c.queries))
	sem := make(chan struct{}, c.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, q := range c.queries {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				_, msg := httpx.Classify(ctx, ctx.Err())
				outcomes[i].err = fmt.Errorf("not run: %s", msg)
				return
			}
			defer func() { <-sem }()
			a, err := c.prom.Instant(ctx, q.Query, at)
			if err != nil {
				c.logger.Warn("query failed", zap.String("query", q.Name), zap.Error(err))
			}
			for _, w := range a.Warnings {
				c.logger.Info("prometheus warning", zap.String("query", q.Name), zap.String("warning", w))
			}
			for _, info := range a.Infos {
				c.logger.Debug("prometheus info", zap.String("query", q.Name), zap.String("info", info))
			}
			outcomes[i] = outcome{Answer: a, err: err}
		})
	}
	wg.Wait()
	return c.evaluate(outcomes, at)
}

// hit is one series that reached a threshold, or several with the same
// fingerprint (the pods of one Deployment).
type hit struct {
	fingerprint string
	severity    checks.Status
	value       float64 // the worst value
	metric      model.Metric
	object      string
	series      []string // "object: value" of each series
}

// evaluate turns the outcomes of the queries into the check's result.
// at is when the queries were evaluated.
func (c *Check) evaluate(outcomes []outcome, at time.Time) checks.Result {
	var (
		findings []checks.Finding
		failed   []string // "query X failed: ..."
		noData   []string
		capped   []string
		warnings []string
		over     = 0 // series over a threshold
		queries  = 0 // queries with series over a threshold
		withData = 0 // queries that gave values
	)
	for i, q := range c.queries {
		o := outcomes[i]
		if o.err != nil {
			msg := fmt.Sprintf("query %s failed: %s", q.Name, o.err)
			failed = append(failed, msg)
			findings = append(findings, checks.Finding{
				Fingerprint: checks.Fingerprint("metrics", q.Name, "query-failed"),
				Severity:    checks.Warn,
				Object:      "query " + q.Name,
				Title:       httpx.Truncate(msg, 300),
				Detail:      httpx.Truncate(q.Query, 1000),
				Link:        c.link(q),
			})
			continue
		}
		for _, w := range o.Warnings {
			warnings = append(warnings, q.Name+": "+w)
		}
		hits, values := c.hits(q, o.Samples)
		if values == 0 {
			noData = append(noData, q.Name)
			continue
		}
		withData++
		if len(hits) == 0 {
			continue
		}
		queries++
		for _, h := range hits {
			over += len(h.series)
		}
		if len(hits) > c.cfg.MaxFindings {
			capped = append(capped, fmt.Sprintf("%s: and %d more", q.Name, len(hits)-c.cfg.MaxFindings))
			hits = hits[:c.cfg.MaxFindings]
		}
		for _, h := range hits {
			findings = append(findings, c.finding(q, h, at))
		}
	}

	if len(failed) == len(c.queries) {
		var reason string
		switch {
		case len(c.queries) == 1:
			reason = failed[0]
		case allSame(outcomes):
			reason = fmt.Sprintf("all %d queries failed: %s", len(c.queries), outcomes[0].err)
		default:
			reason = fmt.Sprintf("all %d queries failed, e.g. %s", len(c.queries), failed[0])
		}
		return checks.UnknownResult(httpx.Truncate(reason, 500))
	}

	var sum []string
	if over > 0 {
		fails := 0
		for _, f := range findings {
			if f.Severity == checks.Fail {
				fails++
			}
		}
		s := fmt.Sprintf("%d series over threshold in %d of %d queries", over, queries, len(c.queries))
		if fails > 0 {
			s += fmt.Sprintf(" (%d fail)", fails)
		}
		sum = append(sum, s)
	} else if withData > 0 {
		sum = append(sum, fmt.Sprintf("%d %s within thresholds", withData, plural(withData, "query", "queries")))
	}
	if len(capped) > 0 {
		sum = append(sum, strings.Join(capped, ", "))
	}
	if len(failed) > 0 {
		s := httpx.Truncate(failed[0], 200)
		if len(failed) > 1 {
			s += fmt.Sprintf(" (and %d more failed)", len(failed)-1)
		}
		sum = append(sum, s)
	}
	if len(noData) > 0 {
		sum = append(sum, "no data: "+strings.Join(noData, ", "))
	}
	if len(warnings) > 0 {
		s := "prometheus warning: " + httpx.Truncate(warnings[0], 200)
		if len(warnings) > 1 {
			s += fmt.Sprintf(" (and %d more)", len(warnings)-1)
		}
		sum = append(sum, s)
	}
	return checks.Result{Status: checks.Summarize(findings), Summary: strings.Join(sum, "; "), Findings: findings}
}

// allSame reports whether every outcome failed with the same message (as
// when Prometheus is down).
func allSame(outcomes []outcome) bool {
	for _, o := range outcomes[1:] {
		if o.err.Error() != outcomes[0].err.Error() {
			return false
		}
	}
	return true
}

// severity returns the severity of value v for q: Fail, Warn or OK.
func (q Query) severity(v float64) checks.Status {
	reaches := func(t *float64) bool {
		if t == nil {
			return false
		}
		if q.Direction == Below {
			return v <= *t
		}
		return v >= *t
	}
	switch {
	case reaches(q.Fail):
		return checks.Fail
	case reaches(q.Warn):
		return checks.Warn
	}
	return checks.OK
}

// worse reports whether a is further past the thresholds than b.
func (q Query) worse(a, b float64) bool {
	if q.Direction == Below {
		return a < b
	}
	return a > b
}

// hits returns the series of samples over q's thresholds, merged by
// fingerprint, worst first; values counts the samples that had a value
// (NaN, from a division by zero or a quantile without traffic, and native
// histograms have none).
func (c *Check) hits(q Query, samples model.Vector) (hits []*hit, values int) {
	byFP := map[string]*hit{}
	for _, s := range samples {
		v := float64(s.Value)
		if s.Histogram != nil || math.IsNaN(v) {
			continue
		}
		values++
		sev := q.severity(v)
		if sev == checks.OK {
			continue
		}
		fp := checks.Fingerprint("metrics", append([]string{q.Name}, fingerprintParts(s.Metric, q.Labels)...)...)
		obj := objectName(s.Metric, q.Labels)
		h := byFP[fp]
		if h == nil {
			h = &hit{fingerprint: fp, severity: sev, value: v, metric: s.Metric, object: obj}
			byFP[fp] = h
			hits = append(hits, h)
		} else if sev > h.severity || (sev == h.severity && q.worse(v, h.value)) {
			h.severity, h.value, h.metric, h.object = sev, v, s.Metric, obj
		}
		h.series = append(h.series, seriesLine(obj, v, q.Unit))
	}
	slices.SortFunc(hits, func(a, b *hit) int {
		if a.severity != b.severity {
			return cmp.Compare(b.severity, a.severity)
		}
		if a.value != b.value {
			if q.worse(a.value, b.value) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.fingerprint, b.fingerprint)
	})
	for _, h := range hits {
		slices.Sort(h.series)
	}
	return hits, values
}

func seriesLine(object string, v float64, unit string) string {
	if object == "" {
		return formatValue(v, unit)
	}
	return object + ": " + formatValue(v, unit)
}

// ChartWindow is how much history a metrics finding's chart shows, up to
// when it was seen.
const ChartWindow = 6 * time.Hour

// finding builds the finding of one hit, seen at.
func (c *Check) finding(q Query, h *hit, at time.Time) checks.Finding {
	prefix := cmp.Or(q.Description, q.Name)
	title := prefix + ": "
	if h.object != "" {
		title += h.object + " at "
	}
	title += formatValue(h.value, q.Unit) + " (" + formatThresholds(q) + ")"
	f := checks.Finding{
		Fingerprint: h.fingerprint,
		Severity:    h.severity,
		Object:      h.object,
		Link:        c.link(q),
	}
	if n := len(h.series); n > 1 {
		title += fmt.Sprintf(" (+%d similar)", n-1)
		f.Count = n
		const maxLines = 5
		lines := h.series
		if len(lines) > maxLines {
			lines = append(slices.Clip(lines[:maxLines]), fmt.Sprintf("(and %d more)", len(h.series)-maxLines))
		}
		f.Detail = strings.Join(lines, "\n")
	} else if len(h.metric) > 0 {
		f.Detail = h.metric.String()
	}
	f.Title = title
	f.Chart = chartSource(q, h, at)
	return f
}

// chartSource is how to chart hit h of q: q's expression over ChartWindow,
// narrowed to the worst series of the hit by the labels that name it.
func chartSource(q Query, h *hit, at time.Time) *checks.ChartSource {
	series := map[string]string{}
	for _, l := range shownLabels(h.metric, q.Labels) {
		series[l] = string(h.metric[model.LabelName(l)])
	}
	title := cmp.Or(q.Description, q.Name)
	if h.object != "" {
		title += ": " + h.object
	}
	return &checks.ChartSource{
		Title: title, Query: q.Query, Series: series,
		Warn: q.Warn, Fail: q.Fail, Below: q.Direction == Below, Unit: q.Unit,
		At: at.UTC(), Window: ChartWindow,
	}
}

// link returns where a finding of q points: q's link, else the
// environment's Grafana, else the query in Prometheus's graph page.
func (c *Check) link(q Query) string {
	if q.Link != "" {
		return q.Link
	}
	if c.grafana != "" {
		return c.grafana
	}
	v := url.Values{"g0.expr": {q.Query}, "g0.tab": {"1"}}
	return c.promLink + "/graph?" + v.Encode()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
