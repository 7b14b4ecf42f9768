package grafana

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// panelKind says how a panel turns its series into a colour.
type panelKind int

const (
	// kindStat panels (stat, gauge, bargauge, singlestat) colour one
	// value per series, reduced by their calculation.
	kindStat panelKind = iota
	// kindSeries panels (timeseries, graph) colour every point: the
	// check takes the worst over the window.
	kindSeries
)

// plan is one panel the check evaluates: its queries, ready to run, and
// how to colour their answers.
type plan struct {
	from    *loaded
	panel   Panel
	title   string
	kind    panelKind
	reducer string
	queries []pquery
	// field is the panel's defaults; overrides change them per series.
	field     field
	overrides []Override
}

// pquery is one query of a panel, interpolated.
type pquery struct {
	refID   string
	expr    string
	legend  string
	instant bool
	step    time.Duration
}

// key identifies a query's answer: panels asking the same share it.
func (q pquery) key() string {
	return fmt.Sprintf("%t/%s/%s", q.instant, q.step, q.expr)
}

// field is what colours a series: its thresholds, unit and range.
type field struct {
	unit       string
	min, max   *float64
	thresholds *Thresholds
}

// skip is a panel the check cannot evaluate, and why.
type skip struct {
	from   *loaded
	id     int
	title  string
	reason string
	// none: the panel has no thresholds, so there is nothing to
	// evaluate (listed after the panels that could not be).
	none bool
}

// reducers are the calculations of reduceOptions.calcs the check knows.
var reducers = []string{"lastNotNull", "last", "mean", "max", "min", "sum", "count", "first", "firstNotNull"}

// singlestatReducers maps singlestat's valueName to the reducer Grafana's
// migration to stat gives it.
var singlestatReducers = map[string]string{
	"current": "lastNotNull", "avg": "mean", "total": "sum", "min": "min", "max": "max",
	"first": "firstNotNull", "count": "count", "last": "last",
}

// timing is the window of one run and what Grafana derives from it.
type timing struct {
	start, end time.Time
	window     time.Duration
	scrape     time.Duration
	maxPoints  int
}

// step is the step Grafana's Prometheus datasource gives a query (and its
// $__interval): the window over the max data points, rounded by
// Grafana's table, at least the query's or panel's min interval (else the
// scrape interval), at least window/11000, times the legacy interval
// factor.
func (t timing) step(minInterval time.Duration, maxPoints int, factor float64) time.Duration {
	if minInterval <= 0 {
		minInterval = t.scrape
	}
	if maxPoints <= 0 {
		maxPoints = t.maxPoints
	}
	calc := t.window / time.Duration(maxPoints)
	if calc < minInterval {
		calc = minInterval
	} else {
		calc = roundInterval(calc)
	}
	if safe := roundInterval(t.window / 11000); safe > calc {
		calc = safe
	}
	if factor > 1 {
		calc = time.Duration(float64(calc) * factor)
	}
	return calc
}

// autoInterval is an interval variable's "auto" value: the window over
// count, rounded, at least min.
func (t timing) autoInterval(count int, min string) time.Duration {
	d := roundInterval(t.window / time.Duration(count))
	if m, err := parseInterval(min); err == nil && m > d {
		return m
	}
	return d
}

// plan decides, for each panel of a dashboard, what to query and how to
// colour it, or why it cannot be evaluated.
func (c *Check) plan(ctx context.Context, l *loaded, t timing) ([]*plan, []skip) {
	d := l.dash
	sc := variables(ctx, d, c, t.start, t.end, t.autoInterval)
	prom := promNames(d)
	var plans []*plan
	var skips []skip
	for _, p := range d.AllPanels() {
		title := interpolateVars(p.Title, sc)
		if title == "" {
			title = "panel " + strconv.Itoa(p.ID)
		}
		sk := func(none bool, format string, args ...any) {
			skips = append(skips, skip{from: l, id: p.ID, title: title, reason: fmt.Sprintf(format, args...), none: none})
		}
		pl := &plan{from: l, panel: p, title: title, field: field{
			unit: p.FieldConfig.Defaults.Unit, min: p.FieldConfig.Defaults.Min, max: p.FieldConfig.Defaults.Max,
			thresholds: p.FieldConfig.Defaults.Thresholds,
		}, overrides: p.FieldConfig.Overrides}
		overridden := slices.ContainsFunc(p.FieldConfig.Overrides, func(o Override) bool {
			return slices.ContainsFunc(o.Properties, func(pr Property) bool { return pr.ID == "thresholds" })
		})
		if p.LibraryPanel != nil && len(p.Targets) == 0 {
			sk(false, "a library panel (%q, uid %s): its queries and thresholds are in Grafana's library, not in the dashboard", p.LibraryPanel.Name, p.LibraryPanel.UID)
			continue
		}
		hasSteps := pl.field.thresholds != nil && len(pl.field.thresholds.Steps) >= 2 || overridden
		switch p.Type {
		case "stat", "gauge", "bargauge":
			pl.kind = kindStat
			if !hasSteps {
				sk(true, "no thresholds")
				continue
			}
			pl.reducer = "lastNotNull"
			if ro := p.Options.ReduceOptions; ro != nil {
				if ro.Values {
					sk(false, "it shows every value (reduceOptions.values), not one calculated per series")
					continue
				}
				if len(ro.Calcs) > 0 {
					pl.reducer = ro.Calcs[0]
				}
			}
			if !slices.Contains(reducers, pl.reducer) {
				sk(false, "calculation %q is not one the check computes (%s)", pl.reducer, strings.Join(reducers, ", "))
				continue
			}
		case "singlestat":
			pl.kind = kindStat
			th, err := singlestatThresholds(p)
			if err != nil {
				sk(false, "%v", err)
				continue
			}
			if th == nil {
				sk(true, "no thresholds")
				continue
			}
			pl.field = field{unit: p.Format, thresholds: th}
			name, _ := rawString(p.ValueName)
			if name == "" {
				name = "avg" // singlestat's default
			}
			if pl.reducer = singlestatReducers[name]; pl.reducer == "" {
				sk(false, "value %q is not one the check computes", name)
				continue
			}
		case "timeseries":
			pl.kind = kindSeries
			d := p.FieldConfig.Defaults
			shown := d.Custom.ThresholdsStyle != nil && d.Custom.ThresholdsStyle.Mode != "" && d.Custom.ThresholdsStyle.Mode != "off" ||
				d.Color.Mode == "thresholds"
			if !hasSteps || !shown {
				// Grafana saves default thresholds (red from 80) with
				// every time series panel; they mean something only
				// when the panel shows them or colours by them.
				sk(true, "no thresholds shown (thresholdsStyle off, colour not by thresholds)")
				continue
			}
		case "graph":
			pl.kind = kindSeries
			th, err := graphThresholds(p)
			if err != nil {
				sk(false, "%v", err)
				continue
			}
			if th == nil {
				sk(true, "no thresholds")
				continue
			}
			pl.field = field{unit: graphUnit(p), thresholds: th}
		default:
			sk(true, "a %s panel: no thresholds the check evaluates", p.Type)
			continue
		}
		if len(p.Transformations) > 0 {
			ids := make([]string, len(p.Transformations))
			for i, tr := range p.Transformations {
				ids[i] = tr.ID
			}
			sk(false, "it transforms its data (%s), which the check does not do", strings.Join(ids, ", "))
			continue
		}
		if th := pl.field.thresholds; th != nil && th.Mode != "" && th.Mode != "absolute" && th.Mode != "percentage" {
			sk(false, "threshold mode %q is neither absolute nor percentage", th.Mode)
			continue
		}
		if reason := c.planQueries(pl, sc, prom, t); reason != "" {
			sk(false, "%s", reason)
			continue
		}
		plans = append(plans, pl)
	}
	return plans, skips
}

// planQueries fills pl.queries from the panel's targets: hidden targets
// and expressions (__expr__) are left out; any other datasource than
// Prometheus makes the panel unevaluable. It returns why, or "".
func (c *Check) planQueries(pl *plan, sc scope, prom map[string]bool, t timing) string {
	p := pl.panel
	panelDS, panelWhy := c.datasource(p.Datasource, prom)
	for _, tg := range p.Targets {
		if tg.Hide {
			continue
		}
		ds, why := panelDS, panelWhy
		if len(tg.Datasource) > 0 && string(tg.Datasource) != "null" {
			ds, why = c.datasource(tg.Datasource, prom)
		}
		switch ds {
		case dsExpr:
			continue
		case dsOther:
			return why
		}
		if strings.TrimSpace(tg.Expr) == "" {
			continue
		}
		var minInterval time.Duration
		iv := cmpOr([]string{interpolateVars(tg.Interval, sc)}, interpolateVars(p.Interval, sc))
		if iv != "" {
			var err error
			if minInterval, err = parseInterval(iv); err != nil {
				return fmt.Sprintf("query %s: %v", tg.RefID, err)
			}
		}
		maxPoints := 0
		if p.MaxDataPoints != nil {
			maxPoints = int(*p.MaxDataPoints)
		}
		step := t.step(minInterval, maxPoints, tg.IntervalFactor)
		expr, err := interpolate(tg.Expr, builtins(sc, step, t.scrape, t))
		if err != nil {
			return fmt.Sprintf("query %s: %v", tg.RefID, err)
		}
		if u := undefined(expr); u != "" {
			return fmt.Sprintf("query %s uses %s, which the dashboard does not define", tg.RefID, u)
		}
		pl.queries = append(pl.queries, pquery{
			refID: tg.RefID, expr: expr, legend: interpolateVars(tg.LegendFormat, sc),
			instant: tg.Instant && (tg.Range == nil || !*tg.Range), step: step,
		})
	}
	if len(pl.queries) == 0 {
		return "no Prometheus queries to run (every query hidden, empty or an expression)"
	}
	return ""
}

// The kinds of datasource a query can have.
const (
	dsProm = iota
	dsExpr
	dsOther
)

// datasource classifies a datasource field: Prometheus (by type, by a
// datasource variable or export input of type prometheus, by a name in
// config datasources, or the default datasource), an expression, or
// something else, with the reason.
func (c *Check) datasource(raw json.RawMessage, prom map[string]bool) (int, string) {
	ref, name, isNull := parseDatasource(raw)
	if isNull {
		return dsProm, ""
	}
	if name == "" {
		switch {
		case ref.Type == "__expr__" || ref.UID == "__expr__":
			return dsExpr, ""
		case ref.Type == "prometheus":
			return dsProm, ""
		case ref.Type == "" && ref.UID == "":
			return dsProm, "" // {} is the default datasource
		case ref.Type == "" || strings.HasPrefix(ref.UID, "$"):
			name = ref.UID
		default:
			if slices.Contains(c.cfg.Datasources, ref.UID) {
				return dsProm, ""
			}
			return dsOther, fmt.Sprintf("its datasource is %s (uid %q), not Prometheus", ref.Type, ref.UID)
		}
	}
	switch name {
	case "__expr__", "__expr":
		return dsExpr, ""
	case "default", "-- Default --":
		return dsProm, ""
	case "-- Mixed --":
		return dsProm, "" // each target says its own
	}
	if slices.Contains(c.cfg.Datasources, name) {
		return dsProm, ""
	}
	if m := variableRE.FindStringSubmatch(name); m != nil && m[0] == name {
		if prom[m[1]+m[2]+m[4]] {
			return dsProm, ""
		}
		return dsOther, fmt.Sprintf("its datasource %s is not a Prometheus datasource variable or input", name)
	}
	return dsOther, fmt.Sprintf("its datasource %q is not known to be Prometheus (add it to datasources)", name)
}

// singlestatThresholds migrates singlestat's thresholds ("70,80") and
// colours as Grafana does: the first colour below the first threshold,
// the next from each threshold on. Nil: no thresholds.
func singlestatThresholds(p Panel) (*Thresholds, error) {
	s, _ := rawString(p.Thresholds)
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var colours []string
	_ = json.Unmarshal(p.Colors, &colours)
	if len(colours) == 0 {
		colours = []string{"#299c46", "rgba(237, 129, 40, 0.89)", "#d44a3a"} // singlestat's defaults
	}
	th := &Thresholds{Mode: "absolute", Steps: []Step{{Color: colours[0]}}}
	for i, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, fmt.Errorf("singlestat threshold %q is not a number", strings.TrimSpace(part))
		}
		col := colours[len(colours)-1]
		if i+1 < len(colours) {
			col = colours[i+1]
		}
		th.Steps = append(th.Steps, Step{Color: col, Value: &v})
	}
	return th, nil
}

// graphThresholds migrates the old graph panel's thresholds: one or more
// "gt" thresholds (the colour from each value up), or one "lt" threshold
// (the colour below it). Nil: no thresholds.
func graphThresholds(p Panel) (*Thresholds, error) {
	var list []struct {
		Op        string   `json:"op"`
		Value     *float64 `json:"value"`
		ColorMode string   `json:"colorMode"`
		FillColor string   `json:"fillColor"`
	}
	if err := json.Unmarshal(p.Thresholds, &list); err != nil || len(list) == 0 {
		return nil, nil // the old graph's thresholds are a list; anything else is none
	}
	colour := func(mode, custom string) string {
		switch mode {
		case "critical":
			return "red"
		case "warning":
			return "orange"
		case "ok":
			return "green"
		}
		return custom
	}
	th := &Thresholds{Mode: "absolute"}
	switch {
	case len(list) == 1 && list[0].Op == "lt" && list[0].Value != nil:
		th.Steps = []Step{{Color: colour(list[0].ColorMode, list[0].FillColor)}, {Color: "green", Value: list[0].Value}}
		return th, nil
	default:
		th.Steps = []Step{{Color: "green"}}
		for _, t := range list {
			if t.Op != "gt" || t.Value == nil {
				return nil, fmt.Errorf("graph thresholds mixing \"lt\" with others are not evaluated")
			}
			th.Steps = append(th.Steps, Step{Color: colour(t.ColorMode, t.FillColor), Value: t.Value})
		}
	}
	slices.SortStableFunc(th.Steps[1:], func(a, b Step) int {
		switch {
		case *a.Value < *b.Value:
			return -1
		case *a.Value > *b.Value:
			return 1
		}
		return 0
	})
	return th, nil
}

// graphUnit is the old graph panel's left y-axis format.
func graphUnit(p Panel) string {
	if len(p.YAxes) > 0 {
		return p.YAxes[0].Format
	}
	return p.Format
}

// promNames are the names a dashboard's queries use for Prometheus: its
// datasource variables of type prometheus and its export's inputs of
// plugin prometheus.
func promNames(d *Dashboard) map[string]bool {
	names := map[string]bool{}
	for _, v := range d.Templating.List {
		if q, _ := rawString(v.Query); v.Type == "datasource" && q == "prometheus" {
			names[v.Name] = true
		}
	}
	for _, in := range d.Inputs {
		if in.Type == "datasource" && in.PluginID == "prometheus" {
			names[in.Name] = true
		}
	}
	return names
}
