// Command checklist is the checklist benchmark: the whole `opsbot checklist`
// against the real test environment at production size, side by side in the
// same run with bench/baseline.sh, which does what a person does by hand
// (kubectl get pods, kubectl logs for each pod piped to grep, curl to
// Alertmanager and Prometheus).
//
// The comparison runs in rounds, each side interleaved with the other so
// that a busier machine slows both alike: opsbot's full run, the baseline,
// then opsbot with a state file twice, as the first run of the day (the
// stub kubelet's logs ending an hour ago) and a repeat run an hour later
// (logs up to now). Every figure is the median of the rounds with its range:
// wall time, CPU seconds (user+sys of opsbot's process; of all of the
// baseline's processes), peak RSS, the requests each server answered, the
// log bytes served and the CPU seconds of the servers themselves.
//
// With -scale it then measures opsbot alone at more sizes (pods ×
// namespaces, a fresh environment each) and draws how time, CPU, peak RSS
// and API requests grow. -json keeps every sample, -from prints a saved
// file's tables again (and redraws its -chart), -profiles keeps a CPU
// profile of each opsbot run.
//
//	go run ./bench/checklist                          # 2,000 pods, 3 rounds
//	go run ./bench/checklist -pods 200 -runs 1        # a quicker look
//	go run ./bench/checklist -scale 2000,5000,10000 -scale-namespaces 1,10 \
//	    -json bench/checklist.json -chart bench/checklist-scale.png
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/opsbot/opsbot/bench/internal/benchenv"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/metrics"
	"github.com/opsbot/opsbot/testenv"
	"github.com/opsbot/opsbot/testenv/scenario"
)

func main() { os.Exit(run()) }

// options are the command line's.
type options struct {
	size                size
	logBytes            int64
	alerts, queries     int
	runs                int
	baseline, repeat    bool
	scanRuns            int
	scale               []size
	scaleRuns           int
	jsonPath, chartPath string
	profiles            string
	logLag              time.Duration
}

// size is one configuration of the scenario.
type size struct {
	Pods       int `json:"pods"`
	Namespaces int `json:"namespaces"`
}

func (s size) String() string {
	ns := "1 namespace"
	if s.Namespaces != 1 {
		ns = fmt.Sprintf("%d namespaces", s.Namespaces)
	}
	return fmt.Sprintf("%s pods in %s", thousands(int64(s.Pods)), ns)
}

func run() int {
	var o options
	flag.IntVar(&o.size.Pods, "pods", 2000, "pods of the comparison (in deployments of 20)")
	flag.IntVar(&o.size.Namespaces, "namespaces", 1, "namespaces the comparison's pods are spread over")
	logKB := flag.Int64("log-kb", 100, "KiB of logs per pod over the 24h window")
	flag.IntVar(&o.alerts, "alerts", 100, "firing alerts")
	flag.IntVar(&o.queries, "custom-queries", 14, "custom PromQL queries on top of the 6 built-ins")
	flag.IntVar(&o.runs, "runs", 3, "rounds of the comparison (each: opsbot, by hand, opsbot first and repeat run)")
	flag.BoolVar(&o.baseline, "baseline", true, "run the by-hand baseline in each round")
	flag.BoolVar(&o.repeat, "repeat", true, "run opsbot with a state file in each round: a first run and a repeat run an hour later")
	flag.IntVar(&o.scanRuns, "scan-runs", 5, "interleaved runs of the scanner against grep -c (0: skip)")
	scale := flag.String("scale", "", "pod counts of the growth series, comma-separated (e.g. 2000,5000,10000); opsbot only")
	scaleNS := flag.String("scale-namespaces", "1", "namespace counts of the growth series, comma-separated")
	flag.IntVar(&o.scaleRuns, "scale-runs", 2, "runs of opsbot at each size of the growth series")
	flag.StringVar(&o.jsonPath, "json", "", "write every sample to this JSON file")
	flag.StringVar(&o.chartPath, "chart", "", "draw the growth series to this PNG file (with -scale or -from)")
	flag.StringVar(&o.profiles, "profiles", "", "write CPU profiles of each opsbot run into this directory: opsbot's (--cpuprofile), kube-apiserver's and the stub kubelet's")
	from := flag.String("from", "", "measure nothing: print the tables of this -json file (and draw its -chart)")
	flag.Parse()
	o.logBytes = *logKB << 10
	o.logLag = time.Hour
	var err error
	if o.scale, err = sizes(*scale, *scaleNS); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	if o.runs < 1 || o.size.Pods < 20 || o.size.Namespaces < 1 || o.size.Pods/20 < o.size.Namespaces {
		fmt.Fprintln(os.Stderr, "bench: -runs must be at least 1, -pods at least 20 and at least 20 per namespace")
		return 2
	}
	if o.profiles != "" {
		if err := os.MkdirAll(o.profiles, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 2
		}
	}
	if *from != "" {
		if err := replay(*from, o.chartPath); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		return 0
	}
	if o.chartPath != "" && len(o.scale) == 0 {
		fmt.Fprintln(os.Stderr, "bench: -chart draws the growth series: give -scale")
		return 2
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Hour)
	defer cancel()
	if err := bench(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

// sizes parses -scale and -scale-namespaces into their product.
func sizes(pods, namespaces string) ([]size, error) {
	if pods == "" {
		return nil, nil
	}
	ints := func(flag, s string) ([]int, error) {
		var out []int
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return nil, fmt.Errorf("-%s: %q is not a positive number", flag, f)
			}
			out = append(out, n)
		}
		return out, nil
	}
	ps, err := ints("scale", pods)
	if err != nil {
		return nil, err
	}
	nss, err := ints("scale-namespaces", namespaces)
	if err != nil {
		return nil, err
	}
	var out []size
	for _, ns := range nss {
		for _, p := range ps {
			if p/20 < ns {
				return nil, fmt.Errorf("-scale: %d pods cannot fill %d namespaces with deployments of 20", p, ns)
			}
			out = append(out, size{Pods: p, Namespaces: ns})
		}
	}
	return out, nil
}

// results is everything measured, as written by -json.
type results struct {
	Date       time.Time  `json:"date"`
	Comparison comparison `json:"comparison"`
	Scan       scanResult `json:"scan,omitzero"`
	Scale      []point    `json:"scale,omitempty"`
}

// comparison is the side-by-side measurement at one size.
type comparison struct {
	Size      size     `json:"size"`
	LogMB     int64    `json:"logMB"`
	Alerts    int      `json:"alerts"`
	Queries   int      `json:"queries"`
	PlantedIn float64  `json:"plantedSeconds"`
	Full      []sample `json:"opsbot"`
	ByHand    []sample `json:"byHand,omitempty"`
	First     []sample `json:"opsbotFirstWithState,omitempty"`
	Repeat    []sample `json:"opsbotRepeat,omitempty"`
	// Cores is how many CPUs the machine had: the servers' floor (see
	// floors) depends on it. 0 in files from before it was recorded.
	Cores int `json:"cores,omitempty"`
}

// point is one size of the growth series.
type point struct {
	Size      size     `json:"size"`
	LogMB     int64    `json:"logMB"`
	PlantedIn float64  `json:"plantedSeconds"`
	Runs      []sample `json:"opsbot"`
}

func bench(ctx context.Context, o options) error {
	root, err := benchenv.RepoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "opsbot-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	benchenv.Step("building opsbot")
	bin, err := benchenv.Build(ctx, root, work)
	if err != nil {
		return err
	}

	res := results{Date: time.Now().UTC()}
	res.Comparison, err = compare(ctx, root, bin, work, o)
	if err != nil {
		return err
	}
	printComparison(res.Comparison)

	if o.scanRuns > 0 {
		benchenv.Step("log scanning: opsbot's scanner vs grep -c on the same bytes")
		res.Scan, err = scanVersusGrep(ctx, work, int64(o.size.Pods)*o.logBytes, o.scanRuns)
		if err != nil {
			return err
		}
		printScan(res.Scan)
	}

	for _, sz := range o.scale {
		if sz == o.size && len(res.Comparison.Full) >= o.scaleRuns {
			res.Scale = append(res.Scale, point{Size: sz, LogMB: res.Comparison.LogMB, PlantedIn: res.Comparison.PlantedIn, Runs: res.Comparison.Full})
			continue
		}
		p, err := growth(ctx, root, bin, work, o, sz)
		if err != nil {
			return err
		}
		res.Scale = append(res.Scale, p)
	}
	if len(res.Scale) > 0 {
		printScale(res.Scale)
	}
	if o.jsonPath != "" {
		benchenv.Step("samples written to " + o.jsonPath)
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if o.chartPath != "" {
		if err := drawScale(o.chartPath, res.Scale); err != nil {
			return err
		}
		benchenv.Step("chart written to " + o.chartPath)
	}
	return nil
}

// world is a started environment with a planted scenario and opsbot's
// configuration for it.
type world struct {
	env     *testenv.Env
	meter   *meter
	planted *scenario.Planted
	dir     string
	cfgPath string
	// baseline runs bench/baseline.sh.
	baseline func(ctx context.Context) *exec.Cmd
	queries  int
	planting time.Duration
}

func (w *world) close() { _ = w.env.Stop() }

// start starts a fresh environment and plants sz into it.
func start(ctx context.Context, root, work string, o options, sz size) (*world, error) {
	benchenv.Step("starting etcd, kube-apiserver, stub kubelet, Prometheus, Alertmanager")
	env, err := benchenv.Start(ctx)
	if err != nil {
		return nil, err
	}
	w := &world{env: env, meter: &meter{env: env, pids: env.PIDs()}}
	ok := false
	defer func() {
		if !ok {
			w.close()
		}
	}()
	s := benchenv.Scale(sz.Pods, sz.Namespaces, o.logBytes)
	s.UnhealthyDeployments = max(s.Deployments/10, 1)
	s.Alerts, s.AlertNames, s.CustomQueries = o.alerts, 20, o.queries
	benchenv.Step(fmt.Sprintf("planting %s (%d unhealthy), %d MB of logs, %d alerts, %d custom queries",
		sz, s.UnhealthyDeployments*s.PodsPerDeployment, int64(s.Pods())*o.logBytes>>20, o.alerts, o.queries))
	planted := time.Now()
	if w.planted, err = scenario.PlantScale(ctx, env, root, s); err != nil {
		return nil, err
	}
	w.planting = time.Since(planted)
	benchenv.Step(fmt.Sprintf("planted in %s", w.planting.Round(time.Second)))

	w.dir, err = os.MkdirTemp(work, "world")
	if err != nil {
		return nil, err
	}
	// opsbot runs with deploy/watched/role/role.yaml's least privilege; the
	// person doing it by hand has their own, broader access (kubectl logs
	// gets the pod first, which the bot's Role does not allow).
	kubeconfig := filepath.Join(w.dir, "kubeconfig")
	if err := env.Kube.WriteKubeconfig(kubeconfig, testenv.BotUser); err != nil {
		return nil, err
	}
	personKubeconfig := filepath.Join(w.dir, "kubeconfig-person")
	if err := env.Kube.WriteKubeconfig(personKubeconfig, testenv.AdminUser); err != nil {
		return nil, err
	}
	w.cfgPath = filepath.Join(w.dir, "opsbot.yaml")
	cfg := benchenv.Config{
		Kubeconfig: kubeconfig, Namespaces: w.planted.Namespaces, Timeout: "10m",
		PrometheusURL: env.Prometheus.URL(), AlertmanagerURL: env.Alertmanager.URL(),
		Checks:  []benchenv.Check{{Name: "pods", Settings: "{timeout: 5m}"}, {Name: "logs", Settings: "{timeout: 10m}"}, {Name: "alerts", Settings: "{timeout: 1m}"}},
		Metrics: &benchenv.Metrics{Timeout: "1m", Custom: w.planted.Queries},
	}
	if err := cfg.Write(w.cfgPath); err != nil {
		return nil, err
	}
	// The baseline runs the very queries opsbot runs.
	mcheck, err := metrics.New(benchenv.MetricsConfig(w.planted.Queries), metrics.Env{PrometheusURL: env.Prometheus.URL(), Namespaces: w.planted.Namespaces}, nil, nil)
	if err != nil {
		return nil, err
	}
	all := mcheck.Expressions()
	oneLine := strings.NewReplacer("\n", " ")
	for i := range all {
		all[i] = oneLine.Replace(all[i])
	}
	w.queries = len(all)
	queriesFile := filepath.Join(w.dir, "queries.txt")
	if err := os.WriteFile(queriesFile, []byte(strings.Join(all, "\n")+"\n"), 0o600); err != nil {
		return nil, err
	}
	w.baseline = func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "bench", "baseline.sh"),
			personKubeconfig, strings.Join(w.planted.Namespaces, ","), "24h", env.Alertmanager.URL(), env.Prometheus.URL(), queriesFile)
		cmd.Env = append(os.Environ(), "KUBECTL="+env.Kube.KubectlPath())
		return cmd
	}
	ok = true
	return w, nil
}

// opsbot runs `opsbot checklist` once; with a state file when state != "".
func (w *world) opsbot(ctx context.Context, bin, state, profile string) (sample, error) {
	args := []string{"checklist", "--config", w.cfgPath, "--output", "json"}
	if state != "" {
		args = append(args, "--state", state)
	}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	s, err := w.meter.measure(ctx, exec.CommandContext(ctx, bin, args...), 1, profile)
	if err != nil {
		return s, err
	}
	var rep struct {
		Checks []struct {
			checks.Result
			DurationMS int64 `json:"durationMs"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(s.out), &rep); err != nil {
		return s, fmt.Errorf("opsbot output: %w", err)
	}
	for _, r := range rep.Checks {
		fmt.Fprintf(os.Stderr, "    %-8s %-7s %s (%d findings, %dms)\n", r.Check, r.Status, oneLineSummary(r.Summary), len(r.Findings), r.DurationMS)
		if r.Status == checks.Unknown {
			return s, fmt.Errorf("opsbot: the %s check could not tell: %s", r.Check, r.Summary)
		}
	}
	fmt.Fprintf(os.Stderr, "    %.1f s, %.1f CPU s, %d MB peak RSS, %d MB of logs served in %d requests on %d kubelet connections\n",
		s.Wall.Seconds(), s.CPU.Seconds(), s.MaxRSSKB>>10, s.LogBytes>>20, s.Kubelet, s.KubeletConns)
	return s, nil
}

func oneLineSummary(s string) string {
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return strings.ReplaceAll(s, "\n", " ")
}

// compare runs the rounds of the side-by-side comparison.
func compare(ctx context.Context, root, bin, work string, o options) (comparison, error) {
	w, err := start(ctx, root, work, o, o.size)
	if err != nil {
		return comparison{}, err
	}
	defer w.close()
	c := comparison{Size: o.size, LogMB: int64(o.size.Pods) * o.logBytes >> 20, Alerts: o.alerts, Queries: w.queries, PlantedIn: w.planting.Seconds(),
		Cores: runtime.NumCPU()}
	state := filepath.Join(w.dir, "state.json")
	for round := 1; round <= o.runs; round++ {
		w.planted.SetLag(0)
		benchenv.Step(fmt.Sprintf("round %d/%d: opsbot checklist", round, o.runs))
		s, err := w.opsbot(ctx, bin, "", o.profilePath("full", round))
		if err != nil {
			return c, err
		}
		c.Full = append(c.Full, s)

		if o.baseline {
			benchenv.Step(fmt.Sprintf("round %d/%d: by hand (kubectl get pods, kubectl logs | grep for each pod, curl)", round, o.runs))
			s, err := w.meter.measure(ctx, w.baseline(ctx), 0, "")
			if err != nil {
				return c, err
			}
			fmt.Fprintf(os.Stderr, "    %s    %.1f s, %.1f CPU s\n", strings.TrimSpace(s.out), s.Wall.Seconds(), s.CPU.Seconds())
			c.ByHand = append(c.ByHand, s)
		}

		if o.repeat {
			if err := os.Remove(state); err != nil && !errors.Is(err, os.ErrNotExist) {
				return c, err
			}
			w.planted.SetLag(o.logLag)
			benchenv.Step(fmt.Sprintf("round %d/%d: opsbot checklist --state, the first run of the day (logs until %s ago)", round, o.runs, o.logLag))
			s, err := w.opsbot(ctx, bin, state, o.profilePath("first", round))
			if err != nil {
				return c, err
			}
			c.First = append(c.First, s)
			w.planted.SetLag(0)
			benchenv.Step(fmt.Sprintf("round %d/%d: opsbot checklist --state, the repeat run %s later", round, o.runs, o.logLag))
			if s, err = w.opsbot(ctx, bin, state, o.profilePath("repeat", round)); err != nil {
				return c, err
			}
			c.Repeat = append(c.Repeat, s)
		}
	}
	return c, nil
}

// growth measures opsbot alone at one size of the growth series.
func growth(ctx context.Context, root, bin, work string, o options, sz size) (point, error) {
	w, err := start(ctx, root, work, o, sz)
	if err != nil {
		return point{}, err
	}
	defer w.close()
	p := point{Size: sz, LogMB: int64(sz.Pods) * o.logBytes >> 20, PlantedIn: w.planting.Seconds()}
	for i := 1; i <= o.scaleRuns; i++ {
		benchenv.Step(fmt.Sprintf("%s: opsbot checklist, run %d/%d", sz, i, o.scaleRuns))
		s, err := w.opsbot(ctx, bin, "", o.profilePath(fmt.Sprintf("scale-%d-%d", sz.Pods, sz.Namespaces), i))
		if err != nil {
			return p, err
		}
		p.Runs = append(p.Runs, s)
	}
	return p, nil
}

// replay prints the tables of a -json file and draws its chart, so that
// BENCHMARKS.md's figures can be checked against the samples they came
// from, and the chart redrawn, without measuring again.
func replay(path, chart string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(res.Comparison.Full) > 0 {
		printComparison(res.Comparison)
	}
	if res.Scan.Bytes > 0 {
		printScan(res.Scan)
	}
	if len(res.Scale) > 0 {
		printScale(res.Scale)
	}
	if chart != "" {
		if len(res.Scale) == 0 {
			return fmt.Errorf("%s has no growth series to draw", path)
		}
		return drawScale(chart, res.Scale)
	}
	return nil
}

// profilePath is where opsbot's CPU profile of a run goes with -profiles:
// DIR/KIND-RUN.pprof; "" without.
func (o options) profilePath(kind string, run int) string {
	if o.profiles == "" {
		return ""
	}
	return filepath.Join(o.profiles, fmt.Sprintf("%s-%d.pprof", kind, run))
}
