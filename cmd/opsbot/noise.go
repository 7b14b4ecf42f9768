package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/opsbot/opsbot/chart"
	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/report"
)

func runNoise(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return noiseCommand(ctx, args, stdout, stderr, storeDeps{getenv: os.Getenv, now: time.Now})
}

// noiseCommand is `opsbot noise`: the noise report of the bot's store (the
// config's bot.store), the same figures as `/ops noise`.
func noiseCommand(ctx context.Context, args []string, stdout, stderr io.Writer, deps storeDeps) int {
	p := newPrologue("opsbot noise", fmt.Sprintf("Usage: opsbot noise [flags]\n\n"+
		"Reports the noise of the last days from the bot's store (the config file's bot.store):\n"+
		"the fingerprints seen most often with their decisions, the alerts that fired most, the\n"+
		"anomalies still undecided, the decisions' silences that match no alert any more (asking\n"+
		"each environment's Alertmanager) or were extended again and again, the mis-triage rate\n"+
		"and the sightings per UTC day. `/ops noise` in Slack shows the same.\n"+
		"Exit status: 0 reported, 1 the store could not be read, 2 usage or config error.\n"), "warn", false, stderr)
	days := p.fs.Int("days", noise.DefaultDays, fmt.Sprintf("the period, in UTC days ending today: 1 to %d", noise.MaxDays))
	output := p.fs.String("output", "text", "output format: text or json")
	chartsTo := p.fs.String("charts", "", "also write the chart of the sightings per day (a PNG) into this directory, created if need be")
	if code, done := p.parse(args); done {
		return code
	}
	if p.fs.NArg() > 0 {
		return p.usageError("unexpected arguments %q", p.fs.Args())
	}
	if err := noise.CheckDays(*days); err != nil {
		return p.usageError("--days: %v", err)
	}
	if *output != "text" && *output != "json" {
		return p.usageError("--output must be text or json, got %q", *output)
	}
	if *chartsTo != "" {
		if err := chartsDir(*chartsTo); err != nil {
			return p.usageError("%v", err)
		}
	}
	logger, cfg, ok := p.start()
	if logger != nil {
		defer func() { _ = logger.Sync() }()
	}
	if !ok {
		return exitUsage
	}
	db, closeStore, code := p.readStore(ctx, cfg, "the noise report", deps, logger)
	if db == nil {
		return code
	}
	defer closeStore()
	sils, err := silencers(cfg, logger)
	if err != nil {
		return p.usageError("%v", err)
	}
	rep, err := noise.Build(ctx, db, noiseAlertmanagers(sils), *days, deps.now())
	if err != nil {
		fmt.Fprintf(stderr, "opsbot noise: %v\n", err)
		return exitProblems
	}
	if *output == "json" {
		err = report.WriteNoiseJSON(stdout, rep)
	} else {
		err = report.WriteNoiseText(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "opsbot noise: writing the report: %v\n", err)
		return exitProblems
	}
	if *chartsTo != "" {
		// The JSON report stays JSON: where the chart went goes to stderr.
		w := stdout
		if *output == "json" {
			w = stderr
		}
		if err := report.WriteCharts(w, writeNoiseChart(rep, *chartsTo)); err != nil {
			fmt.Fprintf(stderr, "opsbot noise: writing the report: %v\n", err)
			return exitProblems
		}
	}
	return exitOK
}

// writeNoiseChart draws the sightings per day of rep into dir
// (noise.ChartFileName), written whole or not at all.
func writeNoiseChart(rep noise.Report, dir string) report.Charts {
	out := report.Charts{Dir: dir}
	name := noise.ChartFileName(rep)
	png, err := chart.Render(noise.Chart(rep))
	if err == nil {
		err = writeFileAtomic(filepath.Join(dir, name), png)
	}
	if err != nil {
		out.Failed = append(out.Failed, report.ChartFailure{Fingerprint: "sightings per day", Err: err.Error()})
		return out
	}
	out.Written = append(out.Written, name)
	return out
}
