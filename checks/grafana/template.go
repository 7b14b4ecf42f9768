package grafana

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// variableRE is Grafana's: $var, [[var]], [[var:format]], ${var},
// ${var:format} (and ${var.field}, whose field is ignored).
var variableRE = regexp.MustCompile(`\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}`)

// value is a template variable's value as a panel's queries see it.
type value struct {
	values []string
	// multi: the variable is multi-value or has All, so Grafana formats
	// it as a regex by default.
	multi bool
	// allValue, when set, replaces the values verbatim (All selected and
	// a custom all value).
	allValue *string
	// err says why the variable has no value; a query using it cannot
	// be evaluated.
	err error
}

// scope is the variables of one dashboard and the built-in ones of one
// query.
type scope map[string]value

// resolver finds what template variables of type query select.
type resolver interface {
	labelValues(ctx context.Context, query string, start, end time.Time) ([]string, error)
}

var (
	customRE      = regexp.MustCompile(`(?:\\,|[^,])+`)
	labelValuesRE = regexp.MustCompile(`^\s*label_values\(\s*(?:(.+),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`)
)

// variables resolves a dashboard's template variables in order (a
// variable's query may use the ones before it), as the dashboard would
// show them with its saved selection. Built-in interval variables
// ($__interval, ...) are added per query by interpolate.
func variables(ctx context.Context, d *Dashboard, r resolver, start, end time.Time, autoInterval func(count int, min string) time.Duration) scope {
	sc := scope{}
	for _, v := range d.Templating.List {
		if v.Name == "" {
			continue
		}
		val := value{multi: v.Multi || v.IncludeAll}
		current := rawStrings(v.Current.Value)
		all := len(current) == 1 && current[0] == "$__all"
		query, _ := rawString(v.Query)
		if query == "" {
			// Newer query variables keep {query, refId}.
			var q struct {
				Query string `json:"query"`
			}
			if json.Unmarshal(v.Query, &q) == nil {
				query = q.Query
			}
		}
		switch v.Type {
		case "datasource":
			// Resolved by datasource(); its value in a query is its name.
			val.values = []string{cmpOr(current, "default")}
		case "constant":
			val.values = []string{query}
			val.multi = false
		case "textbox":
			val.values = []string{cmpOr(current, query)}
			val.multi = false
		case "interval":
			c := cmpOr(current, "")
			if c == "" || strings.HasPrefix(c, "$__auto_interval") || c == "auto" {
				min := v.AutoMin
				if min == "" {
					min = "10s"
				}
				count := v.AutoCount
				if count <= 0 {
					count = 30 // Grafana's default step count
				}
				c = formatDuration(autoInterval(count, min))
			}
			val.values = []string{c}
			val.multi = false
		case "custom", "query":
			var options []string
			for _, o := range v.Options {
				if s, ok := rawString(o.Value); ok && s != "$__all" {
					options = append(options, s)
				}
			}
			needOptions := all && v.AllValue == nil || len(current) == 0
			if needOptions && len(options) == 0 {
				if v.Type == "custom" {
					options = customOptions(query)
				} else {
					var err error
					options, err = queryOptions(ctx, r, interpolateVars(query, sc), v, start, end)
					if err != nil {
						val.err = fmt.Errorf("template variable $%s: %w", v.Name, err)
						sc[v.Name] = val
						continue
					}
				}
			}
			switch {
			case all && v.AllValue != nil && *v.AllValue != "":
				val.allValue = v.AllValue
			case all:
				val.values = options
			case len(current) > 0:
				val.values = current
			case v.IncludeAll && v.AllValue != nil && *v.AllValue != "":
				// Nothing saved: Grafana selects the first option, All.
				val.allValue = v.AllValue
			case v.IncludeAll:
				val.values = options
			case len(options) > 0:
				val.values = options[:1]
			default:
				val.err = fmt.Errorf("template variable $%s has no value: nothing saved and its query found none", v.Name)
			}
		case "adhoc":
			continue // no filters saved: nothing to add
		default:
			val.err = fmt.Errorf("template variable $%s is of type %q, which the check does not resolve", v.Name, v.Type)
		}
		sc[v.Name] = val
	}
	return sc
}

func cmpOr(list []string, def string) string {
	if len(list) > 0 && list[0] != "" {
		return list[0]
	}
	return def
}

// customOptions splits a custom variable's query as Grafana does: by
// commas (an escaped "\," is kept), "text : value" taking the value.
func customOptions(query string) []string {
	var out []string
	for _, part := range customRE.FindAllString(query, -1) {
		part = strings.ReplaceAll(strings.TrimSpace(part), `\,`, ",")
		if i := strings.Index(part, " : "); i >= 0 {
			part = strings.TrimSpace(part[i+3:])
		}
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

// queryOptions resolves a query variable: label_values(label) and
// label_values(selector, label), filtered by its regex and sorted as it
// says.
func queryOptions(ctx context.Context, r resolver, query string, v Variable, start, end time.Time) ([]string, error) {
	if !labelValuesRE.MatchString(query) {
		return nil, fmt.Errorf("query %q is not label_values(...), the only variable query the check runs", query)
	}
	vals, err := r.labelValues(ctx, query, start, end)
	if err != nil {
		return nil, err
	}
	if v.Regex != "" {
		re, err := regexp.Compile(strings.Trim(v.Regex, "/"))
		if err != nil {
			return nil, fmt.Errorf("regex %q: %w", v.Regex, err)
		}
		var kept []string
		for _, s := range vals {
			m := re.FindStringSubmatch(s)
			switch {
			case m == nil:
			case len(m) > 1:
				kept = append(kept, m[1])
			default:
				kept = append(kept, s)
			}
		}
		vals = kept
	}
	slices.Sort(vals)
	vals = slices.Compact(vals)
	if v.Sort == 2 || v.Sort == 4 {
		slices.Reverse(vals)
	}
	return vals, nil
}

// labelQuery splits label_values(selector, label) into its parts (selector
// "" for label_values(label)).
func labelQuery(query string) (selector, label string) {
	m := labelValuesRE.FindStringSubmatch(query)
	if m == nil {
		return "", ""
	}
	return strings.TrimSpace(m[1]), m[2]
}

// promLabelValues resolves label_values through Prometheus's series and
// label APIs.
func promLabelValues(ctx context.Context, c seriesClient, query string, start, end time.Time) ([]string, error) {
	sel, label := labelQuery(query)
	if sel == "" {
		return c.LabelValues(ctx, label, start, end)
	}
	sets, err := c.Series(ctx, sel, start, end)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range sets {
		if v, ok := s[model.LabelName(label)]; ok {
			out = append(out, string(v))
		}
	}
	return out, nil
}

// interpolate substitutes the variables of sc in text, as Grafana's
// Prometheus datasource does: multi-value and All values as an escaped
// regex alternation by default, or as ${var:format} says (raw, regex,
// pipe, csv, text, singlequote, doublequote). It fails on a variable
// without a value and on an unknown format; an unknown variable is left as
// it is, as in Grafana.
func interpolate(text string, sc scope) (string, error) {
	var first error
	out := variableRE.ReplaceAllStringFunc(text, func(m string) string {
		g := variableRE.FindStringSubmatch(m)
		name, format := g[1], ""
		if g[2] != "" {
			name, format = g[2], g[3]
		} else if g[4] != "" {
			name, format = g[4], g[6]
		}
		v, ok := sc[name]
		if !ok {
			return m
		}
		if v.err != nil {
			if first == nil {
				first = v.err
			}
			return m
		}
		s, err := v.format(format)
		if err != nil && first == nil {
			first = fmt.Errorf("$%s: %w", name, err)
		}
		return s
	})
	return out, first
}

// interpolateVars is interpolate for a variable's own query, where a
// failure leaves the text (the query then fails with Prometheus's reason).
func interpolateVars(text string, sc scope) string {
	s, _ := interpolate(text, sc)
	return s
}

// undefined returns the first $name left in a query that names no
// variable (a typo, or a variable the dashboard lacks), ignoring $1-style
// references of label_replace.
func undefined(query string) string {
	for _, g := range variableRE.FindAllStringSubmatch(query, -1) {
		name := g[1] + g[2] + g[4]
		if _, err := strconv.Atoi(name); err == nil {
			continue
		}
		return "$" + name
	}
	return ""
}

func (v value) format(format string) (string, error) {
	if v.allValue != nil && (format == "" || format == "regex" || format == "raw") {
		return *v.allValue, nil
	}
	vals := v.values
	switch format {
	case "":
		if !v.multi {
			return promEscape(strings.Join(vals, ",")), nil
		}
		return regexAlternation(vals), nil
	case "regex":
		return regexAlternation(vals), nil
	case "raw", "text":
		return strings.Join(vals, ","), nil
	case "pipe":
		return strings.Join(vals, "|"), nil
	case "csv":
		return strings.Join(vals, ","), nil
	case "singlequote", "doublequote":
		q := map[string]string{"singlequote": "'", "doublequote": `"`}[format]
		parts := make([]string, len(vals))
		for i, s := range vals {
			parts[i] = q + strings.ReplaceAll(s, q, `\`+q) + q
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("format %q is not one the check knows (raw, regex, pipe, csv, text, singlequote, doublequote)", format)
}

// regexAlternation is Grafana's regex form of values: one escaped value,
// or (a|b|c).
func regexAlternation(vals []string) string {
	esc := make([]string, len(vals))
	for i, s := range vals {
		esc[i] = promRegexEscape(s)
	}
	if len(esc) == 1 {
		return esc[0]
	}
	return "(" + strings.Join(esc, "|") + ")"
}

// promEscape is Grafana's prometheusRegularEscape: backslashes and single
// quotes.
func promEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\\'`).Replace(s)
}

// promRegexEscape is Grafana's prometheusSpecialRegexEscape: regex
// metacharacters escaped for a PromQL string (hence the double backslash).
func promRegexEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\^$*+?.()|{}[]'`, r) {
			b.WriteString(`\\`)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// roundInterval is Grafana's table rounding a computed interval to a
// readable one (pkg/tsdb/intervalv2's roundInterval).
func roundInterval(d time.Duration) time.Duration {
	ms := d.Milliseconds()
	table := []struct {
		upTo int64
		to   time.Duration
	}{
		{10, time.Millisecond}, {15, 10 * time.Millisecond}, {35, 20 * time.Millisecond},
		{75, 50 * time.Millisecond}, {150, 100 * time.Millisecond}, {350, 200 * time.Millisecond},
		{750, 500 * time.Millisecond}, {1500, time.Second}, {3500, 2 * time.Second},
		{7500, 5 * time.Second}, {12500, 10 * time.Second}, {17500, 15 * time.Second},
		{25000, 20 * time.Second}, {45000, 30 * time.Second}, {90000, time.Minute},
		{210000, 2 * time.Minute}, {450000, 5 * time.Minute}, {750000, 10 * time.Minute},
		{1050000, 15 * time.Minute}, {1500000, 20 * time.Minute}, {2700000, 30 * time.Minute},
		{5400000, time.Hour}, {9000000, 2 * time.Hour}, {16200000, 3 * time.Hour},
		{24300000, 6 * time.Hour}, {64800000, 12 * time.Hour}, {129600000, 24 * time.Hour},
		{604800000, 24 * time.Hour}, {1814400000, 7 * 24 * time.Hour}, {3628800000, 30 * 24 * time.Hour},
	}
	for _, t := range table {
		if ms <= t.upTo {
			return t.to
		}
	}
	return 365 * 24 * time.Hour
}

// parseInterval reads a Grafana interval: "1m", ">30s" (a minimum), "$__interval"
// already substituted.
func parseInterval(s string) (time.Duration, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), ">")
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("interval %q is not a duration", s)
	}
	return time.Duration(d), nil
}

// formatDuration writes d as PromQL reads it ("1m30s", "250ms").
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return model.Duration(d).String()
}

// rateInterval is Grafana's $__rate_interval: max($__interval + scrape
// interval, 4 × scrape interval).
func rateInterval(interval, scrape time.Duration) time.Duration {
	return max(interval+scrape, 4*scrape)
}

// builtins are Grafana's global variables of one query: the intervals,
// the range, and its start and end ($__from, $__to, in ms).
func builtins(sc scope, interval, scrape time.Duration, t timing) scope {
	window := t.window
	out := make(scope, len(sc)+7)
	for k, v := range sc {
		out[k] = v
	}
	one := func(s string) value { return value{values: []string{s}} }
	out["__interval"] = one(formatDuration(interval))
	out["__interval_ms"] = one(strconv.FormatInt(interval.Milliseconds(), 10))
	out["__rate_interval"] = one(formatDuration(rateInterval(interval, scrape)))
	out["__range"] = one(strconv.FormatInt(int64(math.Round(window.Seconds())), 10) + "s")
	out["__range_s"] = one(strconv.FormatInt(int64(math.Round(window.Seconds())), 10))
	out["__range_ms"] = one(strconv.FormatInt(window.Milliseconds(), 10))
	out["__from"] = one(strconv.FormatInt(t.start.UnixMilli(), 10))
	out["__to"] = one(strconv.FormatInt(t.end.UnixMilli(), 10))
	return out
}
