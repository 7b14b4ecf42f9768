package chart_test

import (
	"testing"

	"github.com/opsbot/opsbot/chart"
)

// BenchmarkRender renders one series with its two thresholds and its
// breach: 2,000 samples (what checklist.Charts asks Prometheus for) and
// 21,600 (6h at a 1s step, the finest a scrape gives), each downsampled
// (what opsbot does) against every point drawn (the baseline).
func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name string
		n    int
		raw  bool
	}{{"2000/downsampled", 2000, false}, {"2000/raw", 2000, true}, {"21600/downsampled", 21600, false}, {"21600/raw", 21600, true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := spec(bc.n)
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
