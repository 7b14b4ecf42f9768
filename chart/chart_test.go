package chart_test

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/chart"
	"github.com/opsbot/opsbot/chart/charttest"
)

var t0 = time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)

// memorySeries is 6h of 15s samples: 0.5 with a breach to 0.97 between
// 2h and 2h30.
func memorySeries(n int) chart.Series {
	pts := make([]chart.Point, n)
	step := 6 * time.Hour / time.Duration(n)
	for i := range pts {
		at := t0.Add(time.Duration(i) * step)
		v := 0.5 + 0.05*math.Sin(float64(i)/50)
		if d := at.Sub(t0); d >= 2*time.Hour && d < 150*time.Minute {
			v = 0.97
		}
		pts[i] = chart.Point{T: at, V: v}
	}
	return chart.Series{Name: "shop/api-7d4f/api", Points: pts}
}

func spec(n int) chart.Spec {
	return chart.Spec{
		Title: "memory vs limit: shop/api-7d4f/api", Unit: chart.UnitRatio,
		Start: t0, End: t0.Add(6 * time.Hour),
		Series: []chart.Series{memorySeries(n)},
		Thresholds: []chart.Threshold{
			{Label: "warn", Value: 0.8}, {Label: "fail", Value: 0.95, Fail: true},
		},
	}
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

func TestRenderDrawsThresholdsWhereTheyBelong(t *testing.T) {
	b, err := chart.Render(spec(1440))
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, b)
	if got := img.Bounds().Size(); got != (image.Point{X: chart.DefaultWidth, Y: chart.DefaultHeight}) {
		t.Fatalf("size %v, want %dx%d", got, chart.DefaultWidth, chart.DefaultHeight)
	}
	warn, fail := charttest.Rows(img, chart.WarnColor), charttest.Rows(img, chart.FailColor)
	if len(warn) == 0 || len(fail) == 0 {
		t.Fatalf("threshold lines not found: warn rows %v, fail rows %v", warn, fail)
	}
	// The axis starts at 0 (a ratio), so the fail line (0.95) is above
	// the warn line (0.8), and their distance is 0.15/0.8 of the warn
	// line's height over the axis: the lines are where their values are.
	if fail[0] >= warn[0] {
		t.Fatalf("fail line at row %d is not above the warn line at row %d", fail[0], warn[0])
	}
}

func TestRenderShadesTheBreach(t *testing.T) {
	img := decode(t, must(chart.Render(spec(1440))))
	// Look at a row between the warn line and the bottom: inside the
	// breach (2h to 2h30 of 6h) it is shaded, outside it is white or grid.
	warn := charttest.Rows(img, chart.WarnColor)[0]
	y := warn + 60
	shaded := func(x int) bool {
		r, g, b, _ := img.At(x, y).RGBA()
		return r>>8 > 240 && g>>8 < 235 && b>>8 < 235
	}
	w := img.Bounds().Dx()
	var in, out int
	for x := 0; x < w; x++ {
		if shaded(x) {
			if x > w*2/6 && x < w*3/6 {
				in++
			} else {
				out++
			}
		}
	}
	if in < 20 || out > 5 {
		t.Fatalf("shading: %d shaded pixels in the breach's columns, %d outside", in, out)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestRenderIsDeterministic(t *testing.T) {
	a, b := must(chart.Render(spec(2000))), must(chart.Render(spec(2000)))
	if !bytes.Equal(a, b) {
		t.Fatal("the same spec rendered two different PNGs")
	}
}

func TestRenderRejectsBadSpecs(t *testing.T) {
	for name, tc := range map[string]struct {
		mod  func(*chart.Spec)
		want string
	}{
		"no series":    {func(s *chart.Spec) { s.Series = nil }, "no series"},
		"too large":    {func(s *chart.Spec) { s.Width, s.Height = 5000, 5000 }, "too large"},
		"too small":    {func(s *chart.Spec) { s.Width, s.Height = 10, 10 }, "too small"},
		"unit":         {func(s *chart.Spec) { s.Unit = "furlongs" }, `unknown unit "furlongs"`},
		"window":       {func(s *chart.Spec) { s.End = s.Start.Add(-time.Hour) }, "before it starts"},
		"nan":          {func(s *chart.Spec) { s.Thresholds[0].Value = math.NaN() }, `threshold "warn" is not a number`},
		"empty window": {func(s *chart.Spec) { s.Start, s.End = t0.Add(-48*time.Hour), t0.Add(-47*time.Hour) }, "no samples in the window"},
	} {
		t.Run(name, func(t *testing.T) {
			s := spec(100)
			tc.mod(&s)
			_, err := chart.Render(s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDownsampleKeepsPeaks(t *testing.T) {
	s := memorySeries(100_000)
	got := chart.Downsample(s.Points, 500)
	if len(got) > 1000 {
		t.Fatalf("%d points, want at most 1000", len(got))
	}
	peak := 0.0
	for i, p := range got {
		peak = max(peak, p.V)
		if i > 0 && p.T.Before(got[i-1].T) {
			t.Fatalf("point %d (%s) before point %d (%s)", i, p.T, i-1, got[i-1].T)
		}
	}
	if peak != 0.97 {
		t.Fatalf("peak %v after downsampling, want 0.97", peak)
	}
	if short := s.Points[:800]; len(chart.Downsample(short, 500)) != 800 {
		t.Fatal("a series small enough was changed")
	}
}

func TestBreaches(t *testing.T) {
	pt := func(min int, v float64) chart.Point {
		return chart.Point{T: t0.Add(time.Duration(min) * time.Minute), V: v}
	}
	a := chart.Series{Points: []chart.Point{pt(0, 1), pt(1, 5), pt(2, 6), pt(3, 1), pt(4, 7)}}
	b := chart.Series{Points: []chart.Point{pt(0, 1), pt(2, 9), pt(3, 9), pt(4, 0)}}
	got := chart.Breaches([]chart.Series{a, b}, []chart.Threshold{{Value: 8, Fail: true}, {Value: 5}}, false)
	want := []chart.Span{{pt(1, 0).T, pt(3, 0).T}, {pt(4, 0).T, pt(4, 0).T}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("breaches %v, want %v", got, want)
	}
	below := chart.Breaches([]chart.Series{a}, []chart.Threshold{{Value: 1}}, true)
	if len(below) != 2 {
		t.Fatalf("breaches below %v, want two spans", below)
	}
}
