package main

import (
	"context"
	"os/exec"
	"testing"
)

// BenchmarkScanVersusGrep runs the checklist benchmark's comparison of the
// scanner with grep -c alone, exactly as a full run makes it (see
// scanVersusGrep): 195 MB of generated logs, five interleaved runs of each
// after a warm-up, medians. A quick check without starting the whole
// environment:
//
//	go test -run '^$' -bench ScanVersusGrep -benchtime 1x ./bench/checklist/
//
// It reports both medians in MB/s and their ratio (scanner/grep: above 1
// the scanner is the faster).
func BenchmarkScanVersusGrep(b *testing.B) {
	if _, err := exec.LookPath("grep"); err != nil {
		b.Skip("grep is not installed")
	}
	const size = 2000 * 100 << 10 // the default run: 2,000 pods, 100 KB of logs each
	var sc, gr, ratio float64
	for b.Loop() {
		res, err := scanVersusGrep(context.Background(), b.TempDir(), size, 5)
		if err != nil {
			b.Fatal(err)
		}
		sc += res.Scanner.Median
		gr += res.Grep.Median
		ratio += res.Scanner.Median / res.Grep.Median
	}
	n := float64(b.N)
	b.ReportMetric(sc/n, "scanner-MB/s")
	b.ReportMetric(gr/n, "grep-MB/s")
	b.ReportMetric(ratio/n, "scanner/grep")
}
