package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/report"
)

// chartsDir makes sure dir (the --charts flag) is a directory opsbot can
// write in, creating it if need be; the error says what is wrong.
func chartsDir(dir string) error {
	if isFile(dir) {
		return fmt.Errorf("--charts: %s is not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--charts: cannot create the directory %s: %w", dir, unwrapPath(err))
	}
	probe, err := os.CreateTemp(dir, ".opsbot-probe-*")
	if err != nil {
		return fmt.Errorf("--charts: cannot write in %s: %w", dir, unwrapPath(err))
	}
	_ = probe.Close()
	return os.Remove(probe.Name())
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// unwrapPath is err without the path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// chartDrawer draws a finding's chart (checklist.Charts).
type chartDrawer interface {
	Chart(ctx context.Context, env string, f checks.Finding) (checklist.Chart, bool, error)
}

// writeCharts writes the chart of every finding of rep that has one into
// dir, one PNG per finding named after its fingerprint
// (checklist.ChartFileName). Each file is written whole or not at all (a
// temporary file renamed); a chart that fails is reported, the others are
// still written.
func writeCharts(ctx context.Context, charts chartDrawer, rep checks.Report, dir string) report.Charts {
	out := report.Charts{Dir: dir}
	for _, r := range rep.Results {
		for _, f := range r.Findings {
			if f.Chart == nil {
				continue
			}
			c, ok, err := charts.Chart(ctx, rep.Environment, f)
			if err == nil && !ok {
				out.None++
				continue
			}
			if err == nil {
				err = writeFileAtomic(filepath.Join(dir, c.Name), c.PNG)
			}
			if err != nil {
				out.Failed = append(out.Failed, report.ChartFailure{Fingerprint: f.Fingerprint, Err: err.Error()})
				continue
			}
			out.Written = append(out.Written, c.Name)
		}
	}
	return out
}

// writeFileAtomic writes data to path through a temporary file in the
// same directory, renamed over path once it is complete.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; the leftover otherwise
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// chartsOf draws the anomaly threads' charts from the Prometheus of each
// environment of cfg, with times in loc. An environment whose Prometheus
// client cannot be made (a secret missing from the environment) draws no
// charts, and the log says why once: the checklist reports the same
// problem when it runs there, and a chart is not worth refusing to start.
func chartsOf(cfg *config.Config, loc *time.Location, logger *zap.Logger) (*checklist.Charts, error) {
	var envs []*config.Environment
	for _, name := range cfg.EnvironmentNames() {
		env := cfg.Environments[name]
		if _, err := checklist.NewCharts(checklist.ChartsOptions{}, env); err != nil {
			logger.Warn("no charts in this environment's anomaly threads", zap.String("environment", name), zap.Error(err))
			continue
		}
		envs = append(envs, env)
	}
	return checklist.NewCharts(checklist.ChartsOptions{Location: loc}, envs...)
}
