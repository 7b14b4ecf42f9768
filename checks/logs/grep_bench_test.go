package logs

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/opsbot/opsbot/checks/logs/logstest"
)

// BenchmarkScannerVsGrep measures the scanner and
// `grep -c -i -E 'error|fatal|exception'` side by side on the same file of
// generated logs (128 MB, read from the page cache), the comparison that
// bench/checklist makes at scale:
//
//	go test -run '^$' -bench ScannerVsGrep -benchtime 3x -count 5 ./checks/logs/
//
// Each iteration runs the scanner and then grep over the file, so that the
// load of the machine weighs on both alike; the benchmark reports the
// throughput of each (scanner-MB/s, grep-MB/s) and their ratio
// (scanner/grep: above 1 the scanner is the faster). It is skipped if grep
// is not installed.
func BenchmarkScannerVsGrep(b *testing.B) {
	grep, err := exec.LookPath("grep")
	if err != nil {
		b.Skip("grep is not installed")
	}
	for _, format := range []logstest.Format{logstest.Plain, logstest.JSON, logstest.Klog} {
		b.Run(format.String(), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "logs.txt")
			size := writeLogFile(b, path, logstest.Options{Format: format, Size: 128 << 20, Seed: 1, ErrorRatio: 0.01})
			sc := NewScanner(ScannerConfig{})
			scan := func() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				sc.Reset()
				if err := sc.Scan(f); err != nil {
					b.Fatal(err)
				}
			}
			scan() // the warm-up read: both start from the page cache
			var scanTime, grepTime time.Duration
			b.SetBytes(2 * size)
			for b.Loop() {
				start := time.Now()
				scan()
				mid := time.Now()
				// Exit status 1 would mean no line matched: the
				// generated logs always have some.
				if out, err := exec.Command(grep, "-c", "-i", "-E", "error|fatal|exception", path).CombinedOutput(); err != nil {
					b.Fatalf("grep: %v: %s", err, out)
				}
				scanTime += mid.Sub(start)
				grepTime += time.Since(mid)
			}
			mbs := func(d time.Duration) float64 { return float64(b.N) * float64(size) / 1e6 / d.Seconds() }
			b.ReportMetric(mbs(scanTime), "scanner-MB/s")
			b.ReportMetric(mbs(grepTime), "grep-MB/s")
			b.ReportMetric(grepTime.Seconds()/scanTime.Seconds(), "scanner/grep")
		})
	}
}

// writeLogFile writes generated logs to path and returns their size.
func writeLogFile(b *testing.B, path string, o logstest.Options) int64 {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := logstest.GenerateWith(w, o); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}
