package checklist

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/chart"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/metrics"
	"github.com/opsbot/opsbot/internal/config"
)

// Chart is a finding's chart, drawn.
type Chart struct {
	// Name is a file name for it, from the finding's fingerprint: letters,
	// digits, '-', '_' and '.', ending in ".png".
	Name string
	// Title says what it shows; AltText describes it for screen readers.
	Title   string
	AltText string
	PNG     []byte
}

// Charts draws findings' charts (checks.Finding.Chart) from their
// environment's Prometheus: a range query over the chart's window, the
// finding's series, its thresholds. Build one with NewCharts.
type Charts struct {
	envs     map[string]chartEnv
	location *time.Location
}

type chartEnv struct {
	api    string
	client *http.Client
}

// ChartsOptions are NewCharts' settings.
type ChartsOptions struct {
	// Location is the time zone of the time axis (nil: UTC).
	Location *time.Location
}

// NewCharts returns the charts of envs: those with a Prometheus can draw;
// the others, and environments not given, draw none (Chart says so with
// ok false, without an error). Errors are configuration problems (a
// missing secret).
func NewCharts(o ChartsOptions, envs ...*config.Environment) (*Charts, error) {
	c := &Charts{envs: map[string]chartEnv{}, location: o.Location}
	if c.location == nil {
		c.location = time.UTC
	}
	for _, env := range envs {
		if env.Prometheus == nil {
			continue
		}
		name := env.Name
		b := &build{env: env, field: "environments." + name}
		client, err := b.endpointClient(env.Prometheus, b.field+".prometheus")
		if err != nil {
			return nil, err
		}
		c.envs[name] = chartEnv{api: env.Prometheus.URL, client: client}
	}
	return c, nil
}

// Chart draws f's chart, as seen in env. ok is false, without an error,
// when there is nothing to draw: f has no chart source, env no
// Prometheus, or the query no longer returns the finding's series.
func (c *Charts) Chart(ctx context.Context, env string, f checks.Finding) (ch Chart, ok bool, err error) {
	src := f.Chart
	e, has := c.envs[env]
	if src == nil || !has {
		return Chart{}, false, nil
	}
	start := src.At.Add(-src.Window)
	m, err := metrics.QueryRange(ctx, e.client, e.api, src.Query, start, src.At, src.Series)
	if err != nil {
		return Chart{}, false, fmt.Errorf("chart of %s: %w", f.Fingerprint, err)
	}
	if len(m) == 0 {
		return Chart{}, false, nil
	}
	if len(m) > chart.MaxSeries {
		m = m[:chart.MaxSeries]
	}
	spec := chart.Spec{Title: src.Title, Unit: src.Unit, Start: start, End: src.At, Location: c.location, Below: src.Below}
	for _, s := range m {
		pts := make([]chart.Point, len(s.Values))
		for i, v := range s.Values {
			pts[i] = chart.Point{T: v.Timestamp.Time(), V: float64(v.Value)}
		}
		name := ""
		if len(m) > 1 {
			name = seriesName(s.Metric, src.Series)
		}
		spec.Series = append(spec.Series, chart.Series{Name: name, Points: pts})
	}
	if src.Warn != nil {
		spec.Thresholds = append(spec.Thresholds, chart.Threshold{Label: "warn", Value: *src.Warn})
	}
	if src.Fail != nil {
		spec.Thresholds = append(spec.Thresholds, chart.Threshold{Label: "fail", Value: *src.Fail, Fail: true})
	}
	png, err := chart.Render(spec)
	if err != nil {
		return Chart{}, false, fmt.Errorf("chart of %s: %w", f.Fingerprint, err)
	}
	return Chart{
		Name:    ChartFileName(f.Fingerprint),
		Title:   src.Title,
		AltText: opsbot.Truncate(altText(src, start, c.location), MaxAltText),
		PNG:     png,
	}, true, nil
}

// MaxAltText is the longest alt text Slack takes for a file
// (files.getUploadURLExternal's alt_txt), in characters.
const MaxAltText = 1000

// altText describes a chart in words, for screen readers.
func altText(src *checks.ChartSource, start time.Time, loc *time.Location) string {
	s := fmt.Sprintf("Chart of %s from %s to %s", src.Title,
		start.In(loc).Format("2006-01-02 15:04"), src.At.In(loc).Format("15:04 MST"))
	var th []string
	if src.Warn != nil {
		th = append(th, fmt.Sprintf("warn %g", *src.Warn))
	}
	if src.Fail != nil {
		th = append(th, fmt.Sprintf("fail %g", *src.Fail))
	}
	if len(th) > 0 {
		s += ", with thresholds " + strings.Join(th, " and ")
	}
	return s
}

// seriesName names a series in a chart's legend by the labels that tell
// it from the others (those not in match).
func seriesName(m model.Metric, match map[string]string) string {
	var parts []string
	for k, v := range m {
		if _, same := match[string(k)]; !same && k != model.MetricNameLabel {
			parts = append(parts, string(k)+"="+string(v))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// maxFileName bounds a chart's file name (file systems allow 255 bytes).
const maxFileName = 120

// ChartFileName is a file name for the chart of the finding with this
// fingerprint: its characters other than letters, digits, '-', '_' and
// '.' become '_' (at most 120 of them), then a hash of the whole
// fingerprint (two fingerprints that read the same after the replacement
// still get two files) and ".png".
func ChartFileName(fingerprint string) string {
	var b strings.Builder
	for _, r := range fingerprint {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > maxFileName {
		name = name[:maxFileName]
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(fingerprint))
	return fmt.Sprintf("%s-%08x.png", name, h.Sum32())
}
