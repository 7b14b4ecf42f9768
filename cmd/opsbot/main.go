// Command opsbot runs the ops rotation's daily checklist: in a terminal
// (`opsbot checklist`) or, as a Slack bot, from Slack.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/internal/version"
	"github.com/opsbot/opsbot/report"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	_ "time/tzdata" // time zones in distroless images
)

// Exit codes.
const (
	exitOK       = 0 // every check OK
	exitProblems = 1 // some check is Warn, Fail or Unknown
	exitUsage    = 2 // bad flags or config
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := opsbot(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `opsbot: the ops rotation's daily checklist, in a terminal or in Slack.

Usage:
  opsbot checklist [flags] [ENVIRONMENT]   run every check and report
  opsbot serve [flags]                     run the Slack bot (Socket Mode)
  opsbot noise [--days N] [--output json]  report the noise of the last days from the bot's store
  opsbot history [--output json] WORDS...  search past investigations in the bot's store
  opsbot version                           print the version

Run 'opsbot checklist -h' for its flags.
`

// opsbot is main without the process: tests call it directly.
func opsbot(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "checklist":
		return runChecklist(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stderr)
	case "noise":
		return runNoise(ctx, args[1:], stdout, stderr)
	case "history":
		return runHistory(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, version.String())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "opsbot: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

func runChecklist(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	p := newPrologue("opsbot checklist", "Usage: opsbot checklist [flags] [ENVIRONMENT]\n"+
		"       opsbot checklist -n NAMESPACE [flags]\n\n"+
		"Runs every check of ENVIRONMENT (default: the config's defaultEnvironment) and reports.\n"+
		"Without a config file, -n says which namespace to look at, in the current kube context\n"+
		"(or --context), as kubectl does.\n"+
		"Exit status: 0 all OK, 1 something is Warn, Fail or Unknown, 2 usage or config error.\n", "warn", false, stderr)
	output := p.fs.String("output", "text", "output format: text or json")
	colorMode := p.fs.String("color", "auto", "colour the text output: auto (only on a terminal), always or never")
	statePath := p.fs.String("state", "", "keep the logs check's state in this JSON file, so that the next run reads only the logs written since")
	chartsTo := p.fs.String("charts", "", "write the chart of every finding that has one (a PNG per finding) into this directory, created if need be")
	cpuProfile := p.fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	traceTo := p.fs.String("trace", "", "write an execution trace of the run to this file (go tool trace reads it)")
	var o config.Overrides
	p.fs.Func("n", "a namespace to look at (repeat it, or separate with commas); replaces the config's", func(v string) error {
		for _, ns := range strings.Split(v, ",") {
			if ns = strings.TrimSpace(ns); ns != "" {
				o.Namespaces = append(o.Namespaces, ns)
			}
		}
		return nil
	})
	p.fs.StringVar(&o.Context, "context", "", "the kubeconfig context (default: the current one)")
	p.fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	p.fs.StringVar(&o.PrometheusURL, "prometheus-url", "", "Prometheus base URL: turns the metrics check on")
	p.fs.StringVar(&o.AlertmanagerURL, "alertmanager-url", "", "Alertmanager base URL: turns the alerts check on")
	if code, done := p.parse(interleaved(p.fs, args)); done {
		return code
	}
	fs := p.fs
	if fs.NArg() > 1 {
		return p.usageError("at most one environment, got %q", fs.Args())
	}
	if *output != "text" && *output != "json" {
		return p.usageError("--output must be text or json, got %q", *output)
	}
	color, err := useColor(*colorMode, stdout)
	if err != nil {
		return p.usageError("%v", err)
	}
	if *chartsTo != "" {
		if err := chartsDir(*chartsTo); err != nil {
			return p.usageError("%v", err)
		}
	}
	var logState logs.StateStore
	if *statePath != "" {
		st, err := logs.OpenFileState(*statePath)
		if err != nil {
			return p.usageError("--state: %v", err)
		}
		logState = st
	}
	logger, ok := p.logger()
	if !ok {
		return exitUsage
	}
	defer func() { _ = logger.Sync() }()

	var cfg *config.Config
	var env *config.Environment
	if p.configGiven() {
		if cfg, ok = p.loadConfig(logger); !ok {
			return exitUsage
		}
		if env, err = cfg.Environment(fs.Arg(0)); err == nil {
			err = cfg.Override(env.Name, o)
		}
	} else {
		if fs.NArg() > 0 {
			return p.usageError("no config file (%s) to find environment %q in; without one, say the namespace with -n", *p.config, fs.Arg(0))
		}
		if cfg, err = config.FromOverrides(config.EnvironmentName(kubeContext(o)), o); err == nil {
			env, err = cfg.Environment("")
		}
		if err == nil && (env.Prometheus == nil || env.Alertmanager == nil) {
			discover(ctx, env, stderr)
		}
	}
	if err != nil {
		return p.usageError("%v", err)
	}
	meter := &checklist.Meter{}
	list, err := checklist.Build(env, checklist.Options{Logger: logger,
		Slack: alertsChannelSlack(cfg, env, os.Getenv), Location: scheduleLocation(cfg), Meter: meter, LogState: logState, Redactor: cfg.Redaction.Redactor()})
	if err != nil {
		fmt.Fprintf(stderr, "opsbot: invalid config: %v\n", err)
		return exitUsage
	}
	for _, note := range notChecked(env) {
		fmt.Fprintf(stderr, "opsbot: %s\n", note)
	}

	prof, err := startProfiles(*cpuProfile, *traceTo)
	if err != nil {
		return p.usageError("%v", err)
	}
	// In a terminal the run is neither saved nor observed: that is the
	// bot's, whose reports have Investigate buttons.
	ro := checklist.RunOptions{Environment: env.Name, Checks: list, Timeout: time.Duration(env.Timeout), Logger: logger,
		Meter: meter, Redactor: cfg.Redaction.Redactor()}
	if isTerminal(stderr) {
		ro.Progress = newTermProgress(stderr, list)
	}
	rep := checklist.Run(ctx, ro).Report
	if err := prof.Stop(); err != nil {
		fmt.Fprintf(stderr, "opsbot checklist: %v\n", err)
	}
	if *output == "json" {
		err = report.WriteJSON(stdout, rep)
	} else {
		err = report.WriteText(stdout, rep, report.TextOptions{Color: color, Location: time.Local})
	}
	if err != nil {
		fmt.Fprintf(stderr, "opsbot checklist: writing the report: %v\n", err)
		return exitProblems
	}
	if *chartsTo != "" {
		charts, err := checklist.NewCharts(checklist.ChartsOptions{Location: time.Local}, env)
		if err != nil {
			fmt.Fprintf(stderr, "opsbot: invalid config: %v\n", err)
			return exitUsage
		}
		// The JSON report stays JSON: the charts' summary goes to stderr.
		w := stdout
		if *output == "json" {
			w = stderr
		}
		if err := report.WriteCharts(w, writeCharts(ctx, charts, rep, *chartsTo)); err != nil {
			fmt.Fprintf(stderr, "opsbot checklist: writing the report: %v\n", err)
			return exitProblems
		}
	}
	if rep.Status != checks.OK {
		return exitProblems
	}
	return exitOK
}

// discover looks in env's cluster for the Prometheus and Alertmanager the
// flags did not give, and uses them through the API server's service
// proxy; what it found, or why it could not look, is said on stderr.
func discover(ctx context.Context, env *config.Environment, stderr io.Writer) {
	rc, err := checklist.RESTConfig(env.Kubernetes)
	if err != nil {
		return // Build says why, naming the field
	}
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	prom, am, err := checklist.Discover(ctx, kube, rc.Host)
	if err != nil {
		fmt.Fprintf(stderr, "opsbot: %v\n", err)
		return
	}
	if env.Prometheus == nil && prom != nil {
		env.Prometheus = &config.Endpoint{URL: prom.URL, ThroughKubernetes: true}
		fmt.Fprintf(stderr, "opsbot: metrics: Prometheus found at %s (through the Kubernetes API)\n", prom)
	}
	if env.Alertmanager == nil && am != nil {
		env.Alertmanager = &config.Endpoint{URL: am.URL, ThroughKubernetes: true}
		fmt.Fprintf(stderr, "opsbot: alerts: Alertmanager found at %s (through the Kubernetes API)\n", am)
	}
}

// kubeContext is the kube context a run without a config file looks at:
// --context, else the kubeconfig's current one ("" when there is none).
func kubeContext(o config.Overrides) string {
	if o.Context != "" {
		return o.Context
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	raw, err := rules.Load()
	if err != nil {
		return ""
	}
	return raw.CurrentContext
}

// notChecked says which of the runbook's looks env leaves out, and how to
// turn them on.
func notChecked(env *config.Environment) []string {
	var out []string
	c := env.Checks
	if !c.Alerts.On(env.Alertmanager != nil) && env.Alertmanager == nil && c.Alerts.Enabled == nil {
		out = append(out, "alerts: not checked: no Alertmanager found (give --alertmanager-url, or alertmanager.url in the config)")
	}
	if !c.Metrics.On(env.Prometheus != nil) && env.Prometheus == nil && c.Metrics.Enabled == nil {
		out = append(out, "metrics: not checked: no Prometheus found (give --prometheus-url, or prometheus.url in the config)")
	}
	return out
}

// interleaved lets flags follow the positional environment name
// (`opsbot checklist prod --output json`), as people type it.
func interleaved(fs *flag.FlagSet, args []string) []string {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && i+1 < len(args) {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !bf.IsBoolFlag() {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, append([]string{"--"}, positional...)...)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func useColor(mode string, w io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return os.Getenv("NO_COLOR") == "" && isTerminal(w), nil
	default:
		return false, fmt.Errorf("--color must be auto, always or never, got %q", mode)
	}
}
