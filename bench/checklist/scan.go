package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/opsbot/opsbot/bench/internal/benchenv"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/checks/logs/logstest"
)

// scanResult is the scanner against grep -c on the same file.
type scanResult struct {
	Bytes   int64  `json:"bytes"`
	Scanner spread `json:"scannerMBs"`
	Grep    spread `json:"grepMBs"`
}

// scanVersusGrep generates size bytes of logs into a file and measures the
// throughput of opsbot's scanner and of grep -c -i -E over it, runs times
// each, interleaved (grep, scanner, grep, …) after one warm-up read of each
// so both read from the page cache.
func scanVersusGrep(ctx context.Context, dir string, size int64, runs int) (scanResult, error) {
	path := filepath.Join(dir, "logs.txt")
	defer os.Remove(path)
	f, err := os.Create(path)
	if err != nil {
		return scanResult{}, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := logstest.GenerateWith(w, logstest.Options{Size: size, Seed: 1, ErrorRatio: 0.01}); err != nil {
		return scanResult{}, err
	}
	if err := w.Flush(); err != nil {
		return scanResult{}, err
	}
	if err := f.Close(); err != nil {
		return scanResult{}, err
	}
	grep := func() (time.Duration, error) {
		cmd := exec.CommandContext(ctx, "grep", "-c", "-i", "-E", "error|fatal|exception", path)
		cmd.Stdout = io.Discard
		start := time.Now()
		err := cmd.Run()
		return time.Since(start), err
	}
	scan := func() (time.Duration, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		start := time.Now()
		err = logs.NewScanner(logs.ScannerConfig{}).Scan(f)
		return time.Since(start), err
	}
	var g, s []float64
	for i := range runs + 1 { // the first round warms the page cache
		gd, err := grep()
		if err != nil {
			return scanResult{}, fmt.Errorf("grep: %w", err)
		}
		sd, err := scan()
		if err != nil {
			return scanResult{}, fmt.Errorf("scan: %w", err)
		}
		if i > 0 {
			g = append(g, float64(size)/(1<<20)/gd.Seconds())
			s = append(s, float64(size)/(1<<20)/sd.Seconds())
		}
	}
	return scanResult{Bytes: size, Scanner: benchenv.SpreadOf(s), Grep: benchenv.SpreadOf(g)}, nil
}
