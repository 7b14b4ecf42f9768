package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
)

type stubCharts map[string]error // fingerprint → its error; absent: nothing to draw

func (s stubCharts) Chart(_ context.Context, _ string, f checks.Finding) (checklist.Chart, bool, error) {
	err, ok := s[f.Fingerprint]
	if !ok {
		return checklist.Chart{}, false, nil
	}
	if err != nil {
		return checklist.Chart{}, false, err
	}
	return checklist.Chart{Name: checklist.ChartFileName(f.Fingerprint), PNG: []byte("png of " + f.Fingerprint)}, true, nil
}

func TestWriteChartsWritesWhatItCanAndSaysTheRest(t *testing.T) {
	dir := t.TempDir()
	src := &checks.ChartSource{Query: "q"}
	rep := checks.Report{Environment: "prod", Results: []checks.Result{{Findings: []checks.Finding{
		{Fingerprint: "metrics/a", Chart: src}, {Fingerprint: "metrics/b", Chart: src},
		{Fingerprint: "metrics/gone", Chart: src}, {Fingerprint: "pods/no-source"},
	}}}}
	got := writeCharts(context.Background(), stubCharts{"metrics/a": nil, "metrics/b": errors.New("prometheus down")}, rep, dir)
	if len(got.Written) != 1 || got.Written[0] != checklist.ChartFileName("metrics/a") || got.None != 1 ||
		len(got.Failed) != 1 || got.Failed[0].Fingerprint != "metrics/b" || got.Failed[0].Err != "prometheus down" {
		t.Fatalf("writeCharts = %+v", got)
	}
	data, err := os.ReadFile(filepath.Join(dir, got.Written[0]))
	if err != nil || string(data) != "png of metrics/a" {
		t.Fatalf("file: %q, %v", data, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d entries in the directory, want the one chart (no temporary files left)", len(entries))
	}
}
