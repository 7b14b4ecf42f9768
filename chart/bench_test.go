package chart_test

import (
	"testing"

	"github.com/opsbot/opsbot/chart"
)

// BenchmarkRender renders 6h of one series at a 1s resolution (21,600
// samples, what a range query at the finest useful step returns), with
// the thresholds and the breach: downsampled (what opsbot does) against
// every point drawn (the baseline).
func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name string
		raw  bool
	}{{"downsampled", false}, {"raw", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := spec(21600)
			s.Raw = bc.raw
			b.ReportAllocs()
			var size int
			for b.Loop() {
				png, err := chart.Render(s)
				if err != nil {
					b.Fatal(err)
				}
				size = len(png)
			}
			b.ReportMetric(float64(size), "png-bytes")
		})
	}
}
