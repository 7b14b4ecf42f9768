// Package grafana is the runbook's "look at Grafana": it reads the team's
// dashboards (by uid from Grafana's HTTP API, or exported JSON files) and
// evaluates each panel with Prometheus queries and thresholds the way
// Grafana shows it, against the environment's Prometheus:
//
//   - template variables ($var, ${var}, [[var]], ${var:format}) with their
//     saved selection (custom, constant, textbox, interval and
//     label_values query variables), and $__interval, $__rate_interval,
//     $__range substituted; ${DS_...} inputs and datasource variables of
//     type prometheus are the environment's Prometheus;
//   - hidden queries and expressions (__expr__) left out;
//   - stat, gauge, bargauge and singlestat panels: the panel's calculation
//     (reduceOptions.calcs: lastNotNull, last, mean, max, min, sum, count,
//     first, firstNotNull) per series; timeseries and graph panels: the
//     worst value over the window and when it was so;
//   - threshold steps in order, absolute or percentage (of the field's
//     min and max, else of the panel's data), overrides per series (by
//     name, by regex, by query).
//
// A colour is a status: red is Fail, orange and yellow are Warn, green is
// OK; another colour counts by its step's position (the base OK, the last
// Fail, between Warn). Each series that is not OK is a finding: "panel
// "Checkout p99" was red (≥ 2 s) from 03:12 for 14 min", linked to the
// panel over the window. Panels the check cannot evaluate are listed with
// their reasons in one informational finding, never skipped silently.
package grafana

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/internal/promapi"
)

// Env is what the check needs to know about its environment.
type Env struct {
	// PrometheusURL is the Prometheus the panels' queries go to.
	PrometheusURL string
	// Window is the time range when the config sets none.
	Window time.Duration
	// Location is the time zone of times in findings (time.Local if nil).
	Location *time.Location
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Clients are the HTTP clients of the check: each carries its own
// credentials (nil: a plain client).
type Clients struct {
	Prometheus *http.Client
	// Grafana carries the service-account token (config tokenEnv).
	Grafana *http.Client
}

// seriesClient is what resolving label_values needs of Prometheus.
type seriesClient interface {
	Series(ctx context.Context, match string, start, end time.Time) ([]model.LabelSet, error)
	LabelValues(ctx context.Context, label string, start, end time.Time) ([]string, error)
}

// Check evaluates the configured dashboards' panels.
type Check struct {
	cfg      Config
	url      string // Grafana base URL, "" when only files are read
	tokenEnv string
	window   time.Duration
	prom     *promapi.Client
	grafana  *http.Client
	loc      *time.Location
	now      func() time.Time
	logger   *zap.Logger
}

// New returns the check. cfg is defaulted and validated; the files it
// names must exist.
func New(cfg Config, env Env, clients Clients, logger *zap.Logger) (*Check, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := httpx.CheckURL(env.PrometheusURL); err != nil {
		return nil, fmt.Errorf("prometheus url: %w", err)
	}
	c := &Check{cfg: cfg, url: strings.TrimRight(cfg.URL, "/"), tokenEnv: cfg.TokenEnv,
		window: time.Duration(cfg.Window), prom: promapi.New(env.PrometheusURL, clients.Prometheus),
		grafana: clients.Grafana, loc: env.Location, now: env.Now, logger: logger}
	if c.window == 0 {
		c.window = env.Window
	}
	if c.window <= 0 {
		return nil, fmt.Errorf("window: must be set (here or the environment's)")
	}
	for i, f := range cfg.Files {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("files[%d]: %w", i, err)
		}
	}
	if c.grafana == nil {
		c.grafana = httpx.NewClient(httpx.Options{})
	}
	if c.loc == nil {
		c.loc = time.Local
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.logger == nil {
		c.logger = zap.NewNop()
	}
	c.logger = c.logger.With(zap.String("check", "grafana"))
	return c, nil
}

// Name returns "grafana".
func (c *Check) Name() string { return "grafana" }

// Timeout returns the check's deadline (config key timeout).
func (c *Check) Timeout() time.Duration { return time.Duration(c.cfg.Timeout) }

// labelValues resolves label_values for template variables.
func (c *Check) labelValues(ctx context.Context, query string, start, end time.Time) ([]string, error) {
	return promLabelValues(ctx, c.prom, query, start, end)
}

// answer is what one distinct query gave: its series, one point each for
// an instant query.
type answer struct {
	series model.Matrix
	err    error
}

// Run reads the dashboards, runs their panels' queries (each distinct
// query once, at most concurrency at once) and colours the panels.
func (c *Check) Run(ctx context.Context) checks.Result {
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout(), fmt.Errorf("no answer within %s", c.Timeout()))
	defer cancel()
	end := c.now()
	t := timing{start: end.Add(-c.window), end: end, window: c.window,
		scrape: time.Duration(c.cfg.ScrapeInterval), maxPoints: c.cfg.MaxDataPoints}

	dashboards := c.load(ctx)
	var (
		plans  []*plan
		skips  []skip
		failed []string
	)
	for _, l := range dashboards {
		if l.err != nil {
			failed = append(failed, l.err.Error())
			c.logger.Warn("dashboard not read", zap.String("dashboard", l.source), zap.Error(l.err))
			continue
		}
		p, s := c.plan(ctx, l, t)
		plans, skips = append(plans, p...), append(skips, s...)
	}
	if len(failed) == len(dashboards) {
		reason := failed[0]
		if len(failed) > 1 {
			reason = fmt.Sprintf("no dashboard could be read: %s (and %d more)", failed[0], len(failed)-1)
		}
		return checks.UnknownResult(httpx.Truncate(reason, 500))
	}
	answers := c.execute(ctx, plans, t)
	return c.result(plans, skips, failed, answers, t, len(dashboards))
}

// load reads every configured dashboard, concurrently.
func (c *Check) load(ctx context.Context) []*loaded {
	out := make([]*loaded, len(c.cfg.Dashboards)+len(c.cfg.Files))
	var wg sync.WaitGroup
	for i, uid := range c.cfg.Dashboards {
		wg.Go(func() { l := c.fetch(ctx, uid); out[i] = &l })
	}
	for i, f := range c.cfg.Files {
		l := readFile(f)
		out[len(c.cfg.Dashboards)+i] = &l
	}
	wg.Wait()
	return out
}

// execute runs each distinct query of the plans once.
func (c *Check) execute(ctx context.Context, plans []*plan, t timing) map[string]*answer {
	answers := map[string]*answer{}
	var todo []pquery
	for _, p := range plans {
		for _, q := range p.queries {
			if _, ok := answers[q.key()]; !ok {
				answers[q.key()] = &answer{}
				todo = append(todo, q)
			}
		}
	}
	sem := make(chan struct{}, c.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, q := range todo {
		a := answers[q.key()]
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				_, msg := httpx.Classify(ctx, ctx.Err())
				a.err = fmt.Errorf("not run: %s", msg)
				return
			}
			defer func() { <-sem }()
			a.series, a.err = c.query(ctx, q, t)
			if a.err != nil {
				c.logger.Warn("query failed", zap.String("query", q.expr), zap.Error(a.err))
			}
		})
	}
	wg.Wait()
	return answers
}

// query runs one query: instant at the window's end, or over the window
// aligned to the step, as Grafana's Prometheus datasource does.
func (c *Check) query(ctx context.Context, q pquery, t timing) (model.Matrix, error) {
	if q.instant {
		a, err := c.prom.Instant(ctx, q.expr, t.end)
		if err != nil {
			return nil, err
		}
		m := make(model.Matrix, 0, len(a.Samples))
		for _, s := range a.Samples {
			m = append(m, &model.SampleStream{Metric: s.Metric, Values: []model.SamplePair{{Timestamp: s.Timestamp, Value: s.Value}}})
		}
		return m, nil
	}
	start, end := t.start.Truncate(q.step), t.end.Truncate(q.step)
	a, err := c.prom.Range(ctx, q.expr, start, end, q.step)
	return a.Series, err
}

// series is one series of a panel, named as Grafana names it.
type series struct {
	name string
	// key identifies it in fingerprints: its name, or its query's refId
	// when the name is the query itself (a series without labels).
	key    string
	refID  string
	step   time.Duration
	points []model.SamplePair
	field  field
	expr   string
	labels model.Metric
}

// colour is a value's place among a field's thresholds.
type colour struct {
	status checks.Status
	name   string // "red", or the colour as the dashboard says it
	step   int
}

// noData is the colour of a panel whose queries gave no value.
var noData = colour{status: checks.OK, name: "no data"}

// result turns the answers into findings.
func (c *Check) result(plans []*plan, skips []skip, failed []string, answers map[string]*answer, t timing, nDash int) checks.Result {
	var findings []checks.Finding
	// counts are the panels by their worst series' colour.
	counts := map[colour]int{}
	var capped []string
	evaluated := 0
	for _, p := range plans {
		var all []series
		var qerr error
		for _, q := range p.queries {
			a := answers[q.key()]
			if a.err != nil {
				qerr = fmt.Errorf("query %s failed: %w", q.refID, a.err)
				break
			}
			for _, s := range a.series {
				name := seriesName(q, s.Metric)
				key := name
				if name == q.expr {
					key = q.refID
				}
				all = append(all, series{name: name, key: key, refID: q.refID, step: q.step, points: s.Values, expr: q.expr, labels: s.Metric})
			}
		}
		if qerr != nil {
			skips = append(skips, skip{from: p.from, id: p.panel.ID, title: p.title, reason: qerr.Error()})
			continue
		}
		fs, worst, err := c.evaluate(p, all, t)
		if err != nil {
			skips = append(skips, skip{from: p.from, id: p.panel.ID, title: p.title, reason: err.Error()})
			continue
		}
		evaluated++
		worst.step = 0 // counted by colour, whichever step has it
		counts[worst]++
		slices.SortStableFunc(fs, func(a, b found) int { return cmp.Compare(b.Severity, a.Severity) })
		if n := len(fs) - c.cfg.MaxFindings; n > 0 {
			capped = append(capped, fmt.Sprintf("panel %q: %d more %s not shown", p.title, n, plural(n, "series", "series")))
			fs = fs[:c.cfg.MaxFindings]
		}
		for _, f := range fs {
			findings = append(findings, f.Finding)
		}
	}
	slices.SortStableFunc(findings, func(a, b checks.Finding) int { return cmp.Compare(b.Severity, a.Severity) })

	var sum []string
	s := fmt.Sprintf("%d %s of %d %s evaluated", evaluated, plural(evaluated, "panel", "panels"), nDash, plural(nDash, "dashboard", "dashboards"))
	if len(counts) > 0 {
		// Worst first, then by name: "3 red, 1 orange, 2 green, 1 no data".
		cols := slices.SortedFunc(maps.Keys(counts), func(a, b colour) int {
			return cmp.Or(cmp.Compare(b.status, a.status), strings.Compare(a.name, b.name))
		})
		var cs []string
		for _, k := range cols {
			cs = append(cs, fmt.Sprintf("%d %s", counts[k], k.name))
		}
		s += ": " + strings.Join(cs, ", ")
	}
	sum = append(sum, s)
	sum = append(sum, capped...)
	var problems, none int
	for _, k := range skips {
		if k.none {
			none++
		} else {
			problems++
		}
	}
	if problems > 0 {
		sum = append(sum, fmt.Sprintf("%d not evaluable", problems))
	}
	if none > 0 {
		sum = append(sum, fmt.Sprintf("%d without thresholds", none))
	}
	if len(skips) > 0 {
		findings = append(findings, skipFinding(skips))
	}
	st := checks.Summarize(findings)
	if len(failed) > 0 {
		msg := httpx.Truncate(failed[0], 300)
		if len(failed) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(failed)-1)
		}
		sum = append([]string{msg}, sum...)
		st = checks.Worst(st, checks.Unknown)
	}
	return checks.Result{Status: st, Summary: strings.Join(sum, "; "), Findings: findings}
}

// skipFinding is the one informational finding listing the panels not
// evaluated, each with its reason: those that could not be first, then
// those without thresholds.
func skipFinding(skips []skip) checks.Finding {
	slices.SortStableFunc(skips, func(a, b skip) int {
		if a.none != b.none {
			if a.none {
				return 1
			}
			return -1
		}
		return 0
	})
	lines := make([]string, len(skips))
	problems := 0
	for i, k := range skips {
		lines[i] = fmt.Sprintf("%s / %s (panel %d): %s", dashTitle(k.from), k.title, k.id, k.reason)
		if !k.none {
			problems++
		}
	}
	title := fmt.Sprintf("%d %s not evaluated", len(skips), plural(len(skips), "panel", "panels"))
	if problems > 0 {
		title += fmt.Sprintf(" (%d could not be, %d without thresholds)", problems, len(skips)-problems)
	}
	return checks.Finding{
		Fingerprint: checks.Fingerprint("grafana", "not-evaluated"),
		Severity:    checks.OK,
		Title:       title,
		Detail:      strings.Join(lines, "\n"),
		Count:       len(skips),
	}
}

func dashTitle(l *loaded) string {
	if l.dash != nil && l.dash.Title != "" {
		return l.dash.Title
	}
	return l.source
}

// legendRE is a legend's {{label}}.
var legendRE = regexp.MustCompile(`\{\{\s*(.+?)\s*\}\}`)

// seriesName is Grafana's name of a series: its legend with labels
// substituted, else its labels, else the query.
func seriesName(q pquery, m model.Metric) string {
	if q.legend != "" && q.legend != "__auto" {
		return legendRE.ReplaceAllStringFunc(q.legend, func(s string) string {
			return string(m[model.LabelName(legendRE.FindStringSubmatch(s)[1])])
		})
	}
	if len(m) == 0 {
		return q.expr
	}
	return m.String()
}

// fieldOf applies the panel's overrides that match s to its defaults.
func fieldOf(p *plan, s series) (field, error) {
	f := p.field
	for i, o := range p.overrides {
		opt, _ := rawString(o.Matcher.Options)
		match := false
		switch o.Matcher.ID {
		case "byName":
			match = opt == s.name
		case "byRegexp":
			re, err := regexp.Compile(opt)
			if err != nil {
				return f, fmt.Errorf("override %d: regex %q: %v", i, opt, err)
			}
			match = re.MatchString(s.name)
		case "byFrameRefID":
			match = opt == s.refID
		default:
			continue // matchers by type or field: not per series
		}
		if !match {
			continue
		}
		for _, pr := range o.Properties {
			var err error
			switch pr.ID {
			case "thresholds":
				var th Thresholds
				err = json.Unmarshal(pr.Value, &th)
				f.thresholds = &th
			case "unit":
				f.unit, _ = rawString(pr.Value)
			case "min":
				err = json.Unmarshal(pr.Value, &f.min)
			case "max":
				err = json.Unmarshal(pr.Value, &f.max)
			}
			if err != nil {
				return f, fmt.Errorf("override %d: property %s: %v", i, pr.ID, err)
			}
		}
	}
	return f, nil
}

// sortedSteps returns the steps in Grafana's order: the base, then by value.
func sortedSteps(th *Thresholds) []Step {
	steps := slices.Clone(th.Steps)
	slices.SortStableFunc(steps, func(a, b Step) int {
		switch {
		case a.Value == nil && b.Value == nil:
			return 0
		case a.Value == nil:
			return -1
		case b.Value == nil:
			return 1
		}
		return cmp.Compare(*a.Value, *b.Value)
	})
	return steps
}

// colourOf places v among steps: the last step whose value v reaches.
// lo, hi are the range of percentage mode.
func colourOf(v float64, th *Thresholds, steps []Step, lo, hi float64) colour {
	x := v
	if th.Mode == "percentage" {
		x = 0
		if hi > lo {
			x = (v - lo) / (hi - lo) * 100
		}
	}
	i := 0
	for j, s := range steps {
		if s.Value == nil || x >= *s.Value {
			i = j
		}
	}
	st, name := stepStatus(steps[i].Color, i, len(steps))
	return colour{status: st, name: name, step: i}
}

// reduce computes a stat panel's calculation over values; ok is false
// when there is nothing to show (no points, or no non-null one).
func reduce(points []model.SamplePair, reducer string) (v float64, ok bool) {
	var vals []float64
	for _, p := range points {
		if f := float64(p.Value); !math.IsNaN(f) {
			vals = append(vals, f)
		}
	}
	switch reducer {
	case "last":
		if len(points) == 0 || math.IsNaN(float64(points[len(points)-1].Value)) {
			return 0, false
		}
		return float64(points[len(points)-1].Value), true
	case "first":
		if len(points) == 0 || math.IsNaN(float64(points[0].Value)) {
			return 0, false
		}
		return float64(points[0].Value), true
	case "count":
		return float64(len(points)), true
	}
	if len(vals) == 0 {
		return 0, false
	}
	switch reducer {
	case "lastNotNull":
		return vals[len(vals)-1], true
	case "firstNotNull":
		return vals[0], true
	case "max":
		return slices.Max(vals), true
	case "min":
		return slices.Min(vals), true
	}
	var s float64
	for _, x := range vals {
		s += x
	}
	if reducer == "sum" {
		return s, true
	}
	return s / float64(len(vals)), true // mean
}

// found is a finding of a panel.
type found struct {
	checks.Finding
}

// evaluate colours a panel's series: the findings of those that are not
// OK, and the panel's colour (its worst series', or noData).
func (c *Check) evaluate(p *plan, all []series, t timing) ([]found, colour, error) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range all {
		f, err := fieldOf(p, all[i])
		if err != nil {
			return nil, colour{}, err
		}
		if f.thresholds == nil || len(f.thresholds.Steps) == 0 {
			f.thresholds = &Thresholds{Steps: []Step{{Color: "green"}}}
		}
		all[i].field = f
		for _, pt := range all[i].points {
			if v := float64(pt.Value); !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	var out []found
	worst := noData
	seen := func(col colour) {
		if worst == noData || col.status > worst.status {
			worst = col
		}
	}
	for _, s := range all {
		f := s.field
		steps := sortedSteps(f.thresholds)
		flo, fhi := lo, hi
		if f.min != nil {
			flo = *f.min
		}
		if f.max != nil {
			fhi = *f.max
		}
		switch p.kind {
		case kindStat:
			v, ok := reduce(s.points, p.reducer)
			if !ok {
				continue
			}
			col := colourOf(v, f.thresholds, steps, flo, fhi)
			seen(col)
			if col.status == checks.OK {
				continue
			}
			title := fmt.Sprintf("panel %q%s is %s (%s): %s (%s)", p.title, c.seriesPart(s, all),
				col.name, thresholdText(f, steps, col.step), formatValue(v, f.unit), p.reducer)
			out = append(out, c.found(p, s, col, title, fmt.Sprintf("%s of the last %s", p.reducer, shortDuration(t.window)), t, flo, fhi))
		case kindSeries:
			f, col, ok := c.breach(p, s, steps, flo, fhi, all, t)
			if ok {
				seen(col)
			}
			if f != nil {
				out = append(out, *f)
			}
		}
	}
	return out, worst, nil
}

// breach is a time series' finding: its worst colour over the window, and
// when it had it (the first run of points of that colour, and how many
// there were).
// The colour is the series' worst; ok is false when it had no value.
func (c *Check) breach(p *plan, s series, steps []Step, lo, hi float64, all []series, t timing) (_ *found, worst colour, ok bool) {
	f := s.field
	cols := make([]colour, len(s.points))
	for i, pt := range s.points {
		v := float64(pt.Value)
		if math.IsNaN(v) {
			cols[i].status = -1
			continue
		}
		cols[i] = colourOf(v, f.thresholds, steps, lo, hi)
		if !ok || cols[i].status > worst.status {
			worst, ok = cols[i], true
		}
	}
	if !ok || worst.status == checks.OK {
		return nil, worst, ok
	}
	type run struct {
		from, to time.Time // to: the last point's time plus a step
	}
	var runs []run
	var peak float64
	var peakAt time.Time
	first := true
	for i, pt := range s.points {
		if cols[i].status != worst.status {
			continue
		}
		at := pt.Timestamp.Time()
		v := float64(pt.Value)
		if first || (worst.step > 0 && v > peak) || (worst.step == 0 && v < peak) {
			peak, peakAt, first = v, at, false
		}
		if n := len(runs); n > 0 && i > 0 && cols[i-1].status == worst.status && at.Sub(runs[n-1].to) <= 0 {
			runs[n-1].to = at.Add(s.step)
			continue
		}
		runs = append(runs, run{from: at, to: at.Add(s.step)})
	}
	r := runs[0]
	var total time.Duration
	for _, x := range runs {
		total += x.to.Sub(x.from)
	}
	head := fmt.Sprintf("panel %q%s", p.title, c.seriesPart(s, all))
	th := thresholdText(f, steps, worst.step)
	var title string
	lastAt := s.points[len(s.points)-1].Timestamp.Time()
	if len(runs) == 1 && !r.to.Before(lastAt.Add(s.step)) {
		title = fmt.Sprintf("%s is %s (%s) since %s (%s)", head, worst.name, th, c.clock(r.from, t.end), shortDuration(r.to.Sub(r.from)))
	} else {
		title = fmt.Sprintf("%s was %s (%s) from %s for %s", head, worst.name, th, c.clock(r.from, t.end), shortDuration(r.to.Sub(r.from)))
	}
	if len(runs) > 1 {
		title += fmt.Sprintf(", %d times in the last %s (%s in all)", len(runs), shortDuration(t.window), shortDuration(total))
	}
	detail := fmt.Sprintf("worst %s at %s", formatValue(peak, f.unit), c.clock(peakAt, t.end))
	fd := c.found(p, s, worst, title, detail, t, lo, hi)
	if len(runs) > 1 {
		fd.Count = len(runs)
	}
	return &fd, worst, true
}

// seriesPart names the series in a title when the panel has several.
func (c *Check) seriesPart(s series, all []series) string {
	if len(all) < 2 {
		return ""
	}
	return " (" + s.name + ")"
}

// found builds a finding of panel p's series s; lo and hi are the range
// percentage thresholds are taken of.
func (c *Check) found(p *plan, s series, col colour, title, detail string, t timing, lo, hi float64) found {
	d := p.from
	return found{Finding: checks.Finding{
		Fingerprint: checks.Fingerprint("grafana", d.key, "panel-"+strconv.Itoa(p.panel.ID), s.key),
		Severity:    col.status,
		Object:      dashTitle(d) + " / " + p.title,
		Title:       title,
		Detail:      detail + "\nquery " + s.refID + ": " + httpx.Truncate(s.expr, 500),
		Link:        c.link(d, p.panel.ID, t),
		Chart:       chartSource(p, s, t, lo, hi),
	}}
}

// chartSource is how an anomaly thread draws series s of panel p: its
// query as the check ran it (variables substituted), the series' labels,
// and as lines the first warn and the first fail step (a percentage step
// made absolute over lo..hi, as the check coloured it). Steps that get
// better upwards (a red base) are not drawn: the chart's thresholds are
// above-or-below bounds, which such steps are not.
func chartSource(p *plan, s series, t timing, lo, hi float64) *checks.ChartSource {
	src := &checks.ChartSource{
		Title:  p.title + " · " + s.name,
		Query:  s.expr,
		Unit:   chartUnit(s.field.unit),
		At:     t.end,
		Window: t.window,
	}
	if len(s.labels) > 0 {
		src.Series = make(map[string]string, len(s.labels))
		for k, v := range s.labels {
			src.Series[string(k)] = string(v)
		}
	}
	steps := sortedSteps(s.field.thresholds)
	for i, st := range steps {
		status, _ := stepStatus(st.Color, i, len(steps))
		if i == 0 {
			if status != checks.OK {
				return src
			}
			continue
		}
		if st.Value == nil {
			continue
		}
		v := *st.Value
		if s.field.thresholds.Mode == "percentage" {
			v = lo + (hi-lo)*v/100
		}
		switch {
		case status == checks.Warn && src.Warn == nil && src.Fail == nil:
			src.Warn = &v
		case status == checks.Fail && src.Fail == nil:
			src.Fail = &v
		}
	}
	return src
}

// chartUnit is the chart's unit for a Grafana unit: the chart formats
// seconds, bytes, percentages and ratios; anything else is drawn as a
// plain number.
func chartUnit(unit string) string {
	switch unit {
	case "s":
		return "seconds"
	case "percent":
		return "percent"
	case "percentunit":
		return "ratio"
	case "bytes", "decbytes":
		return "bytes"
	}
	return "none"
}

// link is the panel in Grafana over the window: /d/<uid>?viewPanel=<id>
// &from=<ms>&to=<ms>; none for a file without a uid or without Grafana.
func (c *Check) link(d *loaded, id int, t timing) string {
	if c.url == "" || d.dash == nil || d.dash.UID == "" {
		return ""
	}
	return fmt.Sprintf("%s/d/%s?viewPanel=%d&from=%d&to=%d", c.url, d.dash.UID, id, t.start.UnixMilli(), t.end.UnixMilli())
}

// thresholdText is the bound of step i: "≥ 2 s", or "< 80%" for the base.
func thresholdText(f field, steps []Step, i int) string {
	val := func(v float64) string {
		if f.thresholds.Mode == "percentage" {
			return number(v) + "% of the range"
		}
		return formatValue(v, f.unit)
	}
	if i > 0 && steps[i].Value != nil {
		return "≥ " + val(*steps[i].Value)
	}
	if len(steps) > 1 && steps[1].Value != nil {
		return "< " + val(*steps[1].Value)
	}
	return "always"
}

// clock is a time in the check's zone: "03:12", with the date when it is
// not the day of ref.
func (c *Check) clock(at, ref time.Time) string {
	at, ref = at.In(c.loc), ref.In(c.loc)
	if at.YearDay() == ref.YearDay() && at.Year() == ref.Year() {
		return at.Format("15:04")
	}
	return at.Format("Jan 2 15:04")
}

// shortDuration is "14 min", "45 s", "2 h 5 min", "3 d".
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Round(time.Second).Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Round(time.Minute).Minutes())) + " min"
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return strconv.Itoa(h) + " h"
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return strconv.Itoa(int(d.Round(24*time.Hour).Hours()/24)) + " d"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
