package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/testenv/scenario"
)

// The demo end to end, as a user runs it: the real command in a process of
// its own, starting the real components (so missing binaries fail the test,
// they do not skip it). Its temporary files go to a TMPDIR of the test's, so
// "everything removed" means that directory is empty afterwards.

// demoBin is the command, built once by TestMain.
var demoBin string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	flag.Parse() // testing.Short needs the flags
	if testing.Short() {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "opsbot-demo-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	demoBin = filepath.Join(dir, "demo")
	if out, err := exec.Command("go", "build", "-o", demoBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// The planted problems the report must name: a crash loop, a failed job, a
// firing alert.
var wantInReport = []string{"shop/api", "CrashLoopBackOff", "Job shop/migrate-orders", "HighErrorRate"}

// The same in the JSON report, by fingerprint.
var wantFingerprints = []string{
	"pods/shop/Deployment/api/api/CrashLoopBackOff",
	"pods/shop/Job/migrate-orders/-/JobFailed",
	"alerts/HighErrorRate/namespace=shop/service=checkout",
}

// nextStepsEnd is the last line of the next steps without -once.
const nextStepsEnd = "Ctrl-C stops everything and removes "

// Without -once the demo stays up until Ctrl-C: its kubeconfig and its
// printed checklist command work against what it left running, and SIGINT
// stops it all and removes its files.
func TestDemoStaysUpUntilInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd, kube-apiserver, Prometheus and Alertmanager; skipped with -short")
	}
	d := startDemo(t)
	lines, err := d.readUntil(nextStepsEnd)
	if err != nil {
		t.Fatal(d.failure(err))
	}
	out := strings.Join(lines, "\n")
	assertReport(t, out)

	kubeconfig := valueAfter(t, lines, "export KUBECONFIG=")
	if !strings.HasPrefix(kubeconfig, d.tmp) {
		t.Errorf("kubeconfig %s is not in the demo's temporary directory", kubeconfig)
	}
	// The kubeconfig is an admin's, with context opsbot-demo.
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if raw.CurrentContext != contextName {
		t.Errorf("current context %q, want %q", raw.CurrentContext, contextName)
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, contextName, nil, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pods, err := client.CoreV1().Pods(scenario.Watched).List(d.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods in %s with the demo's kubeconfig: %v", scenario.Watched, err)
	}
	if len(pods.Items) == 0 {
		t.Errorf("no pods in %s", scenario.Watched)
	}

	// The printed JSON command runs as printed.
	var command []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 2 && f[1] == "checklist" && slices.Contains(f, "json") {
			command = f
		}
	}
	if command == nil {
		t.Fatalf("no opsbot checklist --output json command in the next steps:\n%s", out)
	}
	var stdout, stderr bytes.Buffer
	run := exec.CommandContext(d.ctx, command[0], command[1:]...)
	run.Stdout, run.Stderr = &stdout, &stderr
	err = run.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("%s: %v, want exit status 1 (problems found)\n%s", strings.Join(command, " "), err, stderr.String())
	}
	var rep checks.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%s: not a JSON report: %v\n%s", strings.Join(command, " "), err, stdout.String())
	}
	var got []string
	for _, r := range rep.Results {
		for _, f := range r.Findings {
			got = append(got, f.Fingerprint)
		}
	}
	for _, fp := range wantFingerprints {
		if !slices.Contains(got, fp) {
			t.Errorf("the JSON report has no %s; it has:\n%s", fp, strings.Join(got, "\n"))
		}
	}

	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	d.waitAndCheckCleanup(t)
}

// With -once the demo runs the checklist, prints the next steps and stops.
func TestDemoOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd, kube-apiserver, Prometheus and Alertmanager; skipped with -short")
	}
	d := startDemo(t, "-once")
	lines, err := d.readUntil("")
	if err != nil {
		t.Fatal(d.failure(err))
	}
	d.waitAndCheckCleanup(t)
	out := strings.Join(lines, "\n")
	assertReport(t, out)
	if !strings.Contains(out, "-once: stopping now") {
		t.Errorf("no -once line in the output:\n%s", out)
	}
}

// demoProcess is a running demo command.
type demoProcess struct {
	ctx     context.Context
	cmd     *exec.Cmd
	started time.Time
	tmp     string // its TMPDIR
	lines   chan string
	stderr  *bytes.Buffer
}

// startDemo builds the command and starts it with args and a TMPDIR of its
// own.
func startDemo(t *testing.T, args ...string) *demoProcess {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	tmp := t.TempDir()
	d := &demoProcess{ctx: ctx, tmp: tmp, lines: make(chan string, 1024), stderr: &bytes.Buffer{}}
	d.cmd = exec.CommandContext(ctx, demoBin, args...)
	d.cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	d.cmd.Stderr = d.stderr
	d.cmd.WaitDelay = 10 * time.Second
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.started = time.Now()
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			_ = d.cmd.Process.Kill()
			_ = d.cmd.Wait()
		}
	})
	go func() {
		defer close(d.lines)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			d.lines <- s.Text()
		}
	}()
	return d
}

// readUntil returns stdout's lines up to the first starting with prefix, or
// all of them until the command closes its stdout when prefix is empty.
func (d *demoProcess) readUntil(prefix string) ([]string, error) {
	var lines []string
	for {
		select {
		case l, ok := <-d.lines:
			if !ok {
				if prefix == "" {
					return lines, nil
				}
				return lines, errors.New("the demo closed its output before the line " + prefix + "...:\n" + strings.Join(lines, "\n"))
			}
			lines = append(lines, l)
			if prefix != "" && strings.HasPrefix(l, prefix) {
				return lines, nil
			}
		case <-d.ctx.Done():
			return lines, errors.New("timed out:\n" + strings.Join(lines, "\n"))
		}
	}
}

// failure stops the demo and describes err with its stderr.
func (d *demoProcess) failure(err error) string {
	_ = d.cmd.Process.Kill()
	_ = d.cmd.Wait()
	return err.Error() + "\nstderr:\n" + d.stderr.String()
}

// waitAndCheckCleanup waits for the demo to exit, which must be with status
// 0, having removed every file and stopped every process it started.
func (d *demoProcess) waitAndCheckCleanup(t *testing.T) {
	t.Helper()
	for range d.lines { // drain, so the command never blocks on its stdout
	}
	if err := d.cmd.Wait(); err != nil {
		t.Fatalf("demo: %v\nstderr:\n%s", err, d.stderr.String())
	}
	left, err := os.ReadDir(d.tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind in TMPDIR: %s", e.Name())
	}
	out, err := exec.Command("pgrep", "-a", "-f", d.tmp).Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 { // 1: no process matched
		t.Errorf("processes left running (pgrep: %v):\n%s", err, out)
	}
	t.Logf("the demo ran for %s", time.Since(d.started).Round(100*time.Millisecond))
}

// assertReport checks that the demo's output has the checklist's report
// naming the planted problems, and that the checklist exited 1.
func assertReport(t *testing.T, out string) {
	t.Helper()
	for _, want := range append(wantInReport, "Overall: FAIL", "it exited 1 (problems found)") {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
}

// valueAfter returns the rest of the line that starts with prefix once
// trimmed.
func valueAfter(t *testing.T, lines []string, prefix string) string {
	t.Helper()
	for _, l := range lines {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok {
			return v
		}
	}
	t.Fatalf("no line %s...", prefix)
	return ""
}
