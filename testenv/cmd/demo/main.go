// Command demo is opsbot for people without a cluster. It starts the local
// environment the integration tests use (real etcd, kube-apiserver,
// Prometheus and Alertmanager on 127.0.0.1, and a stub kubelet serving pod
// logs), plants testenv/scenario's unhealthy namespace shop in it, runs
// `opsbot checklist` against it once, and leaves it all up, with a
// kubeconfig and an opsbot.yaml, until Ctrl-C. scripts/demo installs what it
// needs and runs it.
//
//	go run ./testenv/cmd/demo [-dir DIR] [-opsbot BINARY] [-once]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/opsbot/opsbot/testenv"
	"github.com/opsbot/opsbot/testenv/scenario"
)

const (
	// contextName names the kubeconfig's cluster and context.
	contextName = "opsbot-demo"
	// environment is the opsbot.yaml's one environment.
	environment = "demo"

	// kubeBuildTimeout bounds getting kube-apiserver and kubectl: a first
	// build takes several minutes (scripts/demo does it before).
	kubeBuildTimeout = 30 * time.Minute
	// startTimeout bounds starting the components and planting the scenario.
	startTimeout = 3 * time.Minute
)

func main() { os.Exit(run()) }

func run() int {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `usage: go run ./testenv/cmd/demo [flags]   (or scripts/demo [flags])

Starts a local Kubernetes API, Prometheus and Alertmanager with an unhealthy
namespace %q, runs opsbot checklist against it and keeps it all up until
Ctrl-C.

`, scenario.Watched)
		flag.PrintDefaults()
	}
	dir := flag.String("dir", "", "write kubeconfig, opsbot.yaml and the opsbot binary here, and keep them on exit (default: a new temporary directory, removed on exit)")
	opsbot := flag.String("opsbot", "", "run this opsbot binary instead of building one from the repository")
	once := flag.Bool("once", false, "run the checklist, print the next steps, then stop instead of waiting for Ctrl-C")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo: unexpected argument %q\n", flag.Arg(0))
		flag.Usage()
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &demo{dir: *dir, opsbot: *opsbot, once: *once, began: time.Now(), stdout: os.Stdout, stderr: os.Stderr}
	if err := d.run(ctx, stop); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "demo: interrupted before it was ready")
		} else {
			fmt.Fprintln(os.Stderr, "demo:", err)
		}
		return 1
	}
	return 0
}

// demo is one run of the command.
type demo struct {
	dir    string // -dir; empty: a temporary directory
	opsbot string // -opsbot; empty: build one
	once   bool
	began  time.Time
	stdout io.Writer // the checklist's report and the next steps
	stderr io.Writer // progress, the build's and the checklist's logs
}

// files are what the demo writes for the user.
type files struct {
	dir, kubeconfig, config, opsbot string
}

// run starts everything, runs the checklist, prints the next steps and waits
// for ctx (the signals) unless d.once. Whatever it started is stopped and
// the temporary directory removed before it returns. stopSignals restores
// the signals' default, so a second Ctrl-C while stopping quits at once.
func (d *demo) run(ctx context.Context, stopSignals func()) error {
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	f, cleanup, err := d.makeDir()
	if err != nil {
		return err
	}
	defer cleanup()

	if os.Getenv("OPSBOT_KUBE_BIN_DIR") == "" { // scripts/demo has them ready
		d.step("kube-apiserver and kubectl (built once from the Go module proxy, then cached)")
	}
	kubeCtx, cancel := context.WithTimeout(ctx, kubeBuildTimeout)
	apiserver, kubectl, err := testenv.KubeBinaries(kubeCtx)
	cancel()
	if err != nil {
		return err
	}

	// opsbot builds while the components start.
	buildCtx, cancelBuild := context.WithCancel(ctx)
	built := make(chan struct{})
	var buildErr error
	go func() {
		defer close(built)
		f.opsbot, buildErr = d.opsbotBinary(buildCtx, root, f.dir)
	}()
	defer func() { // before the directory is removed
		cancelBuild()
		<-built
	}()

	d.step("starting etcd, kube-apiserver, a stub kubelet, Prometheus and Alertmanager on 127.0.0.1")
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	env, err := testenv.Start(startCtx, testenv.Options{
		Kube:         &testenv.KubeOptions{APIServerPath: apiserver, KubectlPath: kubectl},
		Prometheus:   &testenv.PrometheusOptions{},
		Alertmanager: &testenv.AlertmanagerOptions{},
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(d.stderr, "demo: stopping:", err)
		}
	}()

	d.step(fmt.Sprintf("planting namespace %s: crash loops, image pull errors, an OOM kill, pending pods, failed jobs, error logs, firing alerts, metrics over their thresholds", scenario.Watched))
	planted, err := scenario.PlantChecklist(startCtx, env, root)
	if err != nil {
		return fmt.Errorf("planting the scenario: %w", err)
	}
	defer planted.Health.Close()
	if err := planted.WaitSettled(startCtx); err != nil {
		return err
	}

	if err := env.Kube.WriteKubeconfigContext(f.kubeconfig, testenv.AdminUser, contextName); err != nil {
		return err
	}
	cfg := planted.Config(scenario.ConfigOptions{
		Environment: environment, Kubeconfig: f.kubeconfig, Context: contextName,
		PrometheusURL: env.Prometheus.URL(), AlertmanagerURL: env.Alertmanager.URL(),
	})
	if err := os.WriteFile(f.config, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("write opsbot.yaml: %w", err)
	}

	<-built
	if buildErr != nil {
		return buildErr
	}
	d.step(fmt.Sprintf("%s checklist --config %s", f.opsbot, f.config))
	code, err := d.checklist(ctx, f)
	if err != nil {
		return err
	}
	if code != 1 {
		return fmt.Errorf("opsbot checklist exited %d, not 1 (problems found) as it should with the planted problems: see its output above", code)
	}
	d.nextSteps(f, env, kubectl, code)
	if d.once {
		d.step("stopping")
		return nil
	}
	<-ctx.Done()
	stopSignals()
	d.step("stopping (Ctrl-C again to quit at once)")
	return nil
}

// makeDir creates the directory of the demo's files; cleanup removes it if
// it was a temporary one.
func (d *demo) makeDir() (files, func(), error) {
	cleanup := func() {}
	dir := d.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "opsbot-demo-")
		if err != nil {
			return files{}, nil, fmt.Errorf("create a temporary directory: %w", err)
		}
		dir = tmp
		cleanup = func() {
			if err := os.RemoveAll(tmp); err != nil {
				fmt.Fprintln(d.stderr, "demo:", err)
			}
		}
	} else {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return files{}, nil, err
		}
		dir = abs
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return files{}, nil, fmt.Errorf("-dir: %w", err)
		}
	}
	return files{
		dir:        dir,
		kubeconfig: filepath.Join(dir, "kubeconfig"),
		config:     filepath.Join(dir, "opsbot.yaml"),
	}, cleanup, nil
}

// opsbotBinary returns d.opsbot, or builds cmd/opsbot into dir with the go
// command in $PATH, held to the local toolchain.
func (d *demo) opsbotBinary(ctx context.Context, root, dir string) (string, error) {
	if d.opsbot != "" {
		bin, err := filepath.Abs(d.opsbot)
		if err != nil {
			return "", err
		}
		if st, err := os.Stat(bin); err != nil || st.Mode()&0o111 == 0 || st.IsDir() {
			return "", fmt.Errorf("-opsbot %s is not an executable file", d.opsbot)
		}
		return bin, nil
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("go not found in $PATH: the demo builds opsbot with it (or pass -opsbot BINARY)")
	}
	bin := filepath.Join(dir, "opsbot")
	d.step("go build -o " + bin + " ./cmd/opsbot (meanwhile the rest starts)")
	build := exec.CommandContext(ctx, goCmd, "build", "-o", bin, "./cmd/opsbot")
	build.Dir, build.Stdout, build.Stderr = root, d.stderr, d.stderr
	build.Env = os.Environ()
	if os.Getenv("GOTOOLCHAIN") == "" {
		build.Env = append(build.Env, "GOTOOLCHAIN=local")
	}
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/opsbot in %s: %w", root, err)
	}
	return bin, nil
}

// checklist runs `opsbot checklist` with its output going to d.stdout (the
// terminal: colours and all) and returns its exit code.
func (d *demo) checklist(ctx context.Context, f files) (int, error) {
	cmd := exec.CommandContext(ctx, f.opsbot, "checklist", "--config", f.config)
	cmd.Stdout, cmd.Stderr = d.stdout, d.stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return 0, context.Cause(ctx)
	case err == nil:
		return 0, nil
	case errors.As(err, &exit) && exit.Exited():
		return exit.ExitCode(), nil
	default:
		return 0, fmt.Errorf("%s checklist: %w", f.opsbot, err)
	}
}

// nextSteps tells the user what is running and what to try.
func (d *demo) nextSteps(f files, env *testenv.Env, kubectl string, code int) {
	if _, err := exec.LookPath("kubectl"); err == nil {
		kubectl = "kubectl"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nThat was opsbot checklist against a local Kubernetes API, Prometheus and Alertmanager\n")
	fmt.Fprintf(&b, "with problems planted in namespace %s: it exited %d (problems found). Try:\n\n", scenario.Watched, code)
	fmt.Fprintf(&b, "  export KUBECONFIG=%s\n", f.kubeconfig)
	fmt.Fprintf(&b, "  %s get pods -n %s\n", kubectl, scenario.Watched)
	fmt.Fprintf(&b, "  %s logs -n %s deploy/checkout          # the stack trace the logs check found\n", kubectl, scenario.Watched)
	fmt.Fprintf(&b, "  %s checklist --config %s --output json\n\n", f.opsbot, f.config)
	fmt.Fprintf(&b, "  Prometheus:   %s\n", env.Prometheus.URL())
	fmt.Fprintf(&b, "  Alertmanager: %s\n", env.Alertmanager.URL())
	fmt.Fprintf(&b, "  Config:       %s (edit it and run the checklist again)\n\n", f.config)
	switch {
	case d.once:
		b.WriteString("-once: stopping now instead of waiting for Ctrl-C.\n")
	case d.dir == "":
		fmt.Fprintf(&b, "Ctrl-C stops everything and removes %s.\n", f.dir)
	default:
		fmt.Fprintf(&b, "Ctrl-C stops everything; %s stays.\n", f.dir)
	}
	_, _ = io.WriteString(d.stdout, b.String())
}

// step announces what the demo does next, with the seconds since it began
// (as scripts/demo's own steps).
func (d *demo) step(s string) {
	fmt.Fprintf(d.stderr, "==> %s (%.1fs)\n", s, time.Since(d.began).Seconds())
}
