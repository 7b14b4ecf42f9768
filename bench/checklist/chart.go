package main

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// rssLimitMB is issue 14's bound on opsbot's peak RSS at 10,000 pods.
const rssLimitMB = 150

// drawScale draws the growth series as four panels side by side: wall
// time, CPU time (opsbot's and every server's: the work a run costs,
// whatever the machine's cores), peak RSS and API requests against the
// number of pods, a line per namespace count, with the medians as points.
// The time panels have a dashed line through the origin and the smallest
// size's median per pod: linear growth, to read the measured line against;
// the RSS panel has the 150 MB bound.
func drawScale(path string, ps []point) error {
	byNS := map[int][]point{}
	var nss []int
	for _, p := range ps {
		if _, ok := byNS[p.Size.Namespaces]; !ok {
			nss = append(nss, p.Size.Namespaces)
		}
		byNS[p.Size.Namespaces] = append(byNS[p.Size.Namespaces], p)
	}
	sort.Ints(nss)
	colors := []color.Color{color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
		color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}}
	panels := []struct {
		title, unit string
		f           func(sample) float64
		linear      bool
		limit       float64 // the bound, drawn when > 0
	}{
		{"wall time", "s", wallS, true, 0},
		{"CPU time: opsbot and the servers", "s", totalCPU, true, 0},
		{"peak RSS of opsbot", "MB", rssMB, false, rssLimitMB},
		{"API requests (apiserver + kubelet)", "requests", func(s sample) float64 { return float64(s.APIServer + s.Kubelet) }, false, 0},
	}
	plots := make([][]*plot.Plot, 1)
	for _, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		p.X.Label.Text = "pods"
		p.Y.Label.Text = pn.unit
		p.X.Min, p.Y.Min = 0, 0
		p.Add(plotter.NewGrid())
		p.Legend.Top, p.Legend.Left = true, true
		var slope float64
		xMax := 0.0
		for i, ns := range nss {
			sort.Slice(byNS[ns], func(a, b int) bool { return byNS[ns][a].Size.Pods < byNS[ns][b].Size.Pods })
			var xys plotter.XYs
			for _, pt := range byNS[ns] {
				y := figure(pt.Runs, pn.f).Median
				xys = append(xys, plotter.XY{X: float64(pt.Size.Pods), Y: y})
				xMax = max(xMax, float64(pt.Size.Pods))
			}
			if i == 0 && len(xys) > 0 {
				slope = xys[0].Y / xys[0].X
			}
			l, s, err := plotter.NewLinePoints(xys)
			if err != nil {
				return fmt.Errorf("chart: %w", err)
			}
			l.LineStyle.Color, l.LineStyle.Width = colors[i%len(colors)], vg.Points(1.5)
			s.Color, s.Shape = colors[i%len(colors)], draw.CircleGlyph{}
			p.Add(l, s)
			name := fmt.Sprintf("%d namespaces", ns)
			if ns == 1 {
				name = "1 namespace"
			}
			p.Legend.Add(name, l, s)
		}
		if pn.linear && slope > 0 {
			l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: xMax, Y: slope * xMax}})
			if err != nil {
				return fmt.Errorf("chart: %w", err)
			}
			l.LineStyle.Color, l.LineStyle.Dashes = color.Gray{Y: 0x80}, []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(l)
			p.Legend.Add("linear", l)
		}
		if pn.limit > 0 {
			l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: pn.limit}, {X: xMax, Y: pn.limit}})
			if err != nil {
				return fmt.Errorf("chart: %w", err)
			}
			l.LineStyle.Color, l.LineStyle.Dashes = color.RGBA{R: 0xd0, A: 0xff}, []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(l)
			p.Legend.Add(fmt.Sprintf("%.0f %s", pn.limit, pn.unit), l)
		}
		plots[0] = append(plots[0], p)
	}
	const w, h, dpi = 1800, 450, 96
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w)*vg.Inch/dpi, vg.Length(h)*vg.Inch/dpi), vgimg.UseDPI(dpi),
		vgimg.UseBackgroundColor(color.White))
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 1, Cols: len(plots[0]), PadX: vg.Points(12), PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12)}
	canvases := plot.Align(plots, tiles, dc)
	for i, p := range plots[0] {
		p.Draw(canvases[0][i])
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, c.Image()); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
