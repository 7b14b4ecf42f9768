// Package chart draws the series behind an anomaly as a PNG: the values
// over a time window, the thresholds they were held against as horizontal
// lines, and the spans where a threshold was breached shaded. It is pure:
// series in, PNG bytes out, no I/O, the same bytes for the same Spec.
//
// The drawing is done by gonum.org/v1/plot (BSD-3-Clause) with its
// embedded Liberation fonts: no browser, no Grafana renderer. Series are
// downsampled (Downsample) to about one point per horizontal pixel before
// they are drawn, so a chart costs the same whatever the scrape interval.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Default size of a chart, in pixels.
const (
	DefaultWidth  = 1000
	DefaultHeight = 400
	// MaxPixels bounds Width×Height (a 4000×2000 image): a chart is a
	// few MB of memory at most.
	MaxPixels = 8_000_000
	// MaxSeries bounds how many series one chart draws.
	MaxSeries = 20
)

// dpi is the resolution charts are drawn at: 1pt is 4/3 px.
const dpi = 96

// The colours of a chart. Thresholds are opaque and drawn over the series
// and the shading, so that a reader (and a test) finds them exactly.
var (
	// WarnColor draws a Warn threshold, FailColor a Fail one.
	WarnColor = color.NRGBA{R: 230, G: 140, B: 0, A: 255}
	FailColor = color.NRGBA{R: 200, G: 0, B: 0, A: 255}
	// BreachColor shades the spans past a threshold.
	BreachColor = color.NRGBA{R: 255, G: 60, B: 60, A: 48}
	// seriesColors draw the series, in turn.
	seriesColors = []color.NRGBA{
		{R: 31, G: 119, B: 180, A: 255},
		{R: 44, G: 160, B: 44, A: 255},
		{R: 148, G: 103, B: 189, A: 255},
		{R: 140, G: 86, B: 75, A: 255},
		{R: 23, G: 190, B: 207, A: 255},
	}
)

// Point is one sample.
type Point struct {
	T time.Time
	V float64
}

// Series is one line of a chart: a name for the legend and its samples in
// time order. NaN and infinite values are left out.
type Series struct {
	Name   string
	Points []Point
}

// Threshold is a horizontal line: the value a series was held against.
type Threshold struct {
	// Label names it in the legend ("warn", "fail").
	Label string
	Value float64
	// Fail draws it in FailColor, else in WarnColor.
	Fail bool
}

// The units a Spec knows, as the metrics check names them.
const (
	UnitNone    = "none"
	UnitPercent = "percent" // the value is a percentage
	UnitRatio   = "ratio"   // a fraction, shown as a percentage
	UnitSeconds = "seconds"
	UnitBytes   = "bytes"
)

// Spec is what to draw.
type Spec struct {
	// Title is the chart's one-line title.
	Title string
	// Unit formats the values of the vertical axis (one of the Unit
	// constants; "" is UnitNone).
	Unit string
	// Start and End are the window shown. Zero: the series' extent.
	Start, End time.Time
	// Location is the time zone of the time axis (nil: UTC).
	Location *time.Location
	// TimeFormat lays out the time axis's labels (a time.Format layout;
	// "": by the window's length, "15:04" up to 36 hours).
	TimeFormat string
	Series     []Series
	// Thresholds are drawn as lines; Below says a value at or under a
	// threshold breaches it (else at or over). The spans where any series
	// breaches the lowest-severity threshold are shaded.
	Thresholds []Threshold
	Below      bool
	// Width and Height in pixels (0: DefaultWidth, DefaultHeight).
	Width, Height int
	// Raw draws every point, without downsampling (for comparison in
	// benchmarks; charts of real data should leave it false).
	Raw bool
}

// Validate says what is wrong with s, if anything.
func (s Spec) Validate() error {
	w, h := s.size()
	var errs []error
	if w < 200 || h < 100 {
		errs = append(errs, fmt.Errorf("chart: size %dx%d is too small (at least 200x100)", w, h))
	}
	if w*h > MaxPixels {
		errs = append(errs, fmt.Errorf("chart: size %dx%d is too large (at most %d pixels)", w, h, MaxPixels))
	}
	if len(s.Series) == 0 {
		errs = append(errs, errors.New("chart: no series to draw"))
	}
	if len(s.Series) > MaxSeries {
		errs = append(errs, fmt.Errorf("chart: %d series, at most %d", len(s.Series), MaxSeries))
	}
	if !s.Start.IsZero() && !s.End.IsZero() && !s.End.After(s.Start) {
		errs = append(errs, fmt.Errorf("chart: the window ends (%s) before it starts (%s)", s.End, s.Start))
	}
	switch s.Unit {
	case "", UnitNone, UnitPercent, UnitRatio, UnitSeconds, UnitBytes:
	default:
		errs = append(errs, fmt.Errorf("chart: unknown unit %q", s.Unit))
	}
	for _, t := range s.Thresholds {
		if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
			errs = append(errs, fmt.Errorf("chart: threshold %q is not a number", t.Label))
		}
	}
	return errors.Join(errs...)
}

func (s Spec) size() (int, int) {
	w, h := s.Width, s.Height
	if w == 0 {
		w = DefaultWidth
	}
	if h == 0 {
		h = DefaultHeight
	}
	return w, h
}

// Render draws s as a PNG image of s.Width×s.Height pixels.
func Render(s Spec) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	w, h := s.size()
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	start, end, ok := s.window()
	if !ok {
		return nil, errors.New("chart: the series have no samples")
	}

	p := plot.New()
	p.Title.Text = s.Title
	p.Title.TextStyle.Font.Size = vg.Points(12)
	format := s.TimeFormat
	if format == "" {
		format = timeFormat(end.Sub(start))
	}
	p.X.Tick.Marker = plot.TimeTicks{Format: format, Time: func(v float64) time.Time {
		return time.Unix(0, int64(v*1e9)).In(loc)
	}}
	p.X.Label.Text = "time (" + zoneName(loc, end) + ")"
	p.Y.Tick.Marker = unitTicks{unit: s.Unit}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true

	buckets := max(w/2, 1) // two points (min and max) per bucket: one per pixel
	lo, hi := math.Inf(1), math.Inf(-1)
	var lines []*plotter.Line
	for i, sr := range s.Series {
		pts := sr.Points
		if !s.Raw {
			pts = Downsample(pts, buckets)
		}
		xys := make(plotter.XYs, 0, len(pts))
		for _, pt := range pts {
			if pt.T.Before(start) || pt.T.After(end) || math.IsNaN(pt.V) || math.IsInf(pt.V, 0) {
				continue
			}
			xys = append(xys, plotter.XY{X: seconds(pt.T), Y: pt.V})
			lo, hi = min(lo, pt.V), max(hi, pt.V)
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("chart: series %q: %w", sr.Name, err)
		}
		l.LineStyle.Color = seriesColors[i%len(seriesColors)]
		l.LineStyle.Width = vg.Points(1.2)
		lines = append(lines, l)
		if sr.Name != "" {
			p.Legend.Add(sr.Name, l)
		}
	}
	if len(lines) == 0 {
		return nil, errors.New("chart: the series have no samples in the window")
	}
	for _, t := range s.Thresholds {
		lo, hi = min(lo, t.Value), max(hi, t.Value)
	}
	lo, hi = yRange(lo, hi, s.Unit)
	p.X.Min, p.X.Max = seconds(start), seconds(end)
	p.Y.Min, p.Y.Max = lo, hi

	// Shading first, then the series, then the thresholds on top.
	for _, span := range Breaches(s.Series, s.Thresholds, s.Below) {
		a, b := max(seconds(span.Start), p.X.Min), min(seconds(span.End), p.X.Max)
		if b <= a {
			// A breach of one sample: a sliver one pixel wide.
			b = a + (p.X.Max-p.X.Min)/float64(w)
		}
		poly, err := plotter.NewPolygon(plotter.XYs{{X: a, Y: lo}, {X: b, Y: lo}, {X: b, Y: hi}, {X: a, Y: hi}})
		if err != nil {
			return nil, fmt.Errorf("chart: shading: %w", err)
		}
		poly.Color = BreachColor
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
	for _, l := range lines {
		p.Add(l)
	}
	for _, t := range s.Thresholds {
		l, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: t.Value}, {X: p.X.Max, Y: t.Value}})
		if err != nil {
			return nil, fmt.Errorf("chart: threshold %q: %w", t.Label, err)
		}
		l.LineStyle.Color = WarnColor
		if t.Fail {
			l.LineStyle.Color = FailColor
		}
		// 1.5pt is 2px at 96 dpi: at least one row of the exact colour.
		l.LineStyle.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(t.Label+" "+formatValue(t.Value, s.Unit), l)
	}

	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w)*vg.Inch/dpi, vg.Length(h)*vg.Inch/dpi), vgimg.UseDPI(dpi),
		vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, c.Image()); err != nil {
		return nil, fmt.Errorf("chart: encoding the PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// window is the time range drawn: s.Start and s.End, or the extent of the
// samples where they are zero.
func (s Spec) window() (start, end time.Time, ok bool) {
	for _, sr := range s.Series {
		for _, pt := range sr.Points {
			if start.IsZero() || pt.T.Before(start) {
				start = pt.T
			}
			if end.IsZero() || pt.T.After(end) {
				end = pt.T
			}
		}
	}
	if !s.Start.IsZero() {
		start = s.Start
	}
	if !s.End.IsZero() {
		end = s.End
	}
	if start.IsZero() || end.IsZero() {
		return start, end, false
	}
	if !end.After(start) {
		end = start.Add(time.Minute)
	}
	return start, end, true
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// yRange pads [lo, hi] so that lines at the extremes stay visible, and
// starts ratios and percentages at zero.
func yRange(lo, hi float64, unit string) (float64, float64) {
	if lo >= 0 && (unit == UnitRatio || unit == UnitPercent || unit == UnitBytes) {
		lo = 0
	}
	if hi == lo {
		d := math.Max(math.Abs(hi)*0.1, 1)
		return lo - d, hi + d
	}
	pad := (hi - lo) * 0.08
	if lo != 0 {
		lo -= pad
	}
	return lo, hi + pad
}

// timeFormat picks the time axis's labels for a window of d.
func timeFormat(d time.Duration) string {
	switch {
	case d <= 36*time.Hour:
		return "15:04"
	case d <= 10*24*time.Hour:
		return "Mon 15:04"
	}
	return "Jan 2"
}

// zoneName is loc's abbreviation at t ("UTC", "CET").
func zoneName(loc *time.Location, t time.Time) string {
	name, _ := t.In(loc).Zone()
	return name
}

// unitTicks are the default ticks, labelled in the chart's unit.
type unitTicks struct{ unit string }

func (u unitTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = formatValue(ticks[i].Value, u.unit)
		}
	}
	return ticks
}

// formatValue formats v in unit, as the axis and the legend show it.
func formatValue(v float64, unit string) string {
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }
	switch unit {
	case UnitRatio:
		return num(v*100) + "%"
	case UnitPercent:
		return num(v) + "%"
	case UnitSeconds:
		if math.Abs(v) < 1 && v != 0 {
			return num(v*1000) + "ms"
		}
		return num(v) + "s"
	case UnitBytes:
		for _, u := range []struct {
			div  float64
			name string
		}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
			if math.Abs(v) >= u.div {
				return num(v/u.div) + " " + u.name
			}
		}
		return num(v) + " B"
	}
	return num(v)
}

// Span is a time range.
type Span struct{ Start, End time.Time }

// Breaches are the spans where any series is past the least severe
// threshold (the lowest for above, the highest for below): from the first
// sample past it to the last one of the run. Overlapping spans of several
// series are merged.
func Breaches(series []Series, thresholds []Threshold, below bool) []Span {
	if len(thresholds) == 0 {
		return nil
	}
	limit := thresholds[0].Value
	for _, t := range thresholds[1:] {
		if below {
			limit = max(limit, t.Value)
		} else {
			limit = min(limit, t.Value)
		}
	}
	past := func(v float64) bool {
		if math.IsNaN(v) {
			return false
		}
		if below {
			return v <= limit
		}
		return v >= limit
	}
	var spans []Span
	for _, sr := range series {
		in := false
		for _, pt := range sr.Points {
			switch {
			case past(pt.V) && !in:
				spans = append(spans, Span{pt.T, pt.T})
				in = true
			case past(pt.V):
				spans[len(spans)-1].End = pt.T
			default:
				in = false
			}
		}
	}
	slices.SortFunc(spans, func(a, b Span) int { return a.Start.Compare(b.Start) })
	var merged []Span
	for _, sp := range spans {
		if n := len(merged); n > 0 && !sp.Start.After(merged[n-1].End) {
			if sp.End.After(merged[n-1].End) {
				merged[n-1].End = sp.End
			}
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

// Downsample reduces pts to at most 2×buckets points: the window is cut
// into buckets of equal time, and each keeps its lowest and highest
// sample, in time order. Peaks (what breached a threshold) survive, which
// averaging would smooth away. NaN values are left out. pts must be in
// time order; it is returned as it is when it is small enough.
func Downsample(pts []Point, buckets int) []Point {
	if buckets < 1 || len(pts) <= 2*buckets {
		return pts
	}
	first, last := pts[0].T, pts[len(pts)-1].T
	span := last.Sub(first)
	if span <= 0 {
		return pts[:1]
	}
	out := make([]Point, 0, 2*buckets+1)
	i := 0
	for b := 0; b < buckets && i < len(pts); b++ {
		edge := first.Add(time.Duration(float64(span) * float64(b+1) / float64(buckets)))
		lo, hi := -1, -1
		for ; i < len(pts) && (b == buckets-1 || pts[i].T.Before(edge)); i++ {
			v := pts[i].V
			if math.IsNaN(v) {
				continue
			}
			if lo < 0 || v < pts[lo].V {
				lo = i
			}
			if hi < 0 || v > pts[hi].V {
				hi = i
			}
		}
		switch {
		case lo < 0:
		case lo == hi:
			out = append(out, pts[lo])
		case lo < hi:
			out = append(out, pts[lo], pts[hi])
		default:
			out = append(out, pts[hi], pts[lo])
		}
	}
	return out
}
