// Command logspeed measures where the time of the checklist's logs check
// goes, and compares opsbot builds side by side: it plants the checklist
// benchmark's scenario in the real test environment once, then runs each
// variant's `opsbot checklist` in turn (A, B, A, B, ...) and prints, per
// run and as medians, the logs check's wall time and the CPU seconds of
// opsbot, kube-apiserver, etcd and this process (where the stub kubelet
// serves the logs) during the run, and each per MB of logs served.
//
//	go run ./bench/logspeed -pods 1000 -runs 5 \
//	    -variant before=/tmp/opsbot-before -variant after=/tmp/opsbot-after
//
// A variant is NAME=BINARY, optionally followed by ";" and a YAML flow
// mapping that replaces the logs check's settings (NAME=BIN;{concurrency: 16}).
// Without -variant, the working tree's opsbot is built and run alone.
// The environment is shared and the machine may be busy: compare medians
// of interleaved runs, not single runs.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/opsbot/opsbot/bench/internal/benchenv"
	"github.com/opsbot/opsbot/testenv"
	"github.com/opsbot/opsbot/testenv/scenario"
)

func main() { os.Exit(run()) }

// variant is one opsbot build (and logs settings) to measure.
type variant struct {
	name, bin, logs string
}

type variants []variant

func (v *variants) String() string { return fmt.Sprint(*v) }

func (v *variants) Set(s string) error {
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=BINARY[;{logs settings}], got %q", s)
	}
	bin, logs, _ := strings.Cut(rest, ";")
	*v = append(*v, variant{name: name, bin: bin, logs: logs})
	return nil
}

func run() int {
	pods := flag.Int("pods", 500, "pods in the namespace (in deployments of 20)")
	logKB := flag.Int64("log-kb", 100, "KiB of logs per pod")
	runs := flag.Int("runs", 3, "runs of each variant, interleaved")
	profiles := flag.String("profiles", "", "write each run's CPU profile (--cpuprofile) into this directory")
	envProfiles := flag.String("env-profiles", "", "write CPU profiles of kube-apiserver (3 s from 1.5 s in) and of this process (the stub kubelet) during the first run into this directory")
	logLevel := flag.String("log-level", "warn", "opsbot's --log-level (debug shows the logs check's stream limit as it adapts)")
	var vs variants
	flag.Var(&vs, "variant", "NAME=BINARY[;{logs settings}] (repeat it); default: this tree's opsbot")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	if err := bench(ctx, *pods, *logKB<<10, *runs, vs, *profiles, *logLevel, *envProfiles); err != nil {
		fmt.Fprintln(os.Stderr, "logspeed:", err)
		return 1
	}
	return 0
}

// sample is one run of one variant.
type sample struct {
	wall, logsCheck                    time.Duration
	opsbot, apiserver, etcd, benchProc float64 // CPU seconds
	mb                                 float64 // MB of logs the stub served
	maxRSSMB                           float64 // opsbot's peak RSS
	requests                           int64   // log requests the stub received
}

func bench(ctx context.Context, pods int, logBytes int64, runs int, vs variants, profiles, logLevel, envProfiles string) error {
	work, err := os.MkdirTemp("", "opsbot-logspeed")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	root, err := benchenv.RepoRoot()
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		bin, err := benchenv.Build(ctx, root, work)
		if err != nil {
			return err
		}
		vs = variants{{name: "tree", bin: bin}}
	}
	if profiles != "" {
		if err := os.MkdirAll(profiles, 0o755); err != nil {
			return err
		}
	}

	env, err := benchenv.Start(ctx)
	if err != nil {
		return err
	}
	defer env.Stop()
	s := benchenv.Scale(pods, 1, logBytes)
	s.UnhealthyDeployments = s.Deployments / 10
	s.Alerts, s.AlertNames = 10, 5
	fmt.Fprintf(os.Stderr, "==> planting %d pods, %d MB of logs\n", s.Pods(), int64(s.Pods())*logBytes>>20)
	if _, err := scenario.PlantScale(ctx, env, root, s); err != nil {
		return err
	}
	kubeconfig := filepath.Join(work, "kubeconfig")
	if err := env.Kube.WriteKubeconfig(kubeconfig, testenv.BotUser); err != nil {
		return err
	}
	pids := env.PIDs()
	apiPID, etcdPID := pids["kube-apiserver"], pids["etcd"]
	// What the environment uses doing nothing (Prometheus scraping, the
	// apiserver's controllers), subtracted from each run's figures.
	idle := idleRates(apiPID, etcdPID, 3*time.Second)
	fmt.Fprintf(os.Stderr, "==> idle CPU per second: apiserver %.3f, etcd %.3f, this process %.3f (subtracted below)\n", idle[0], idle[1], idle[2])

	results := make(map[string][]sample)
	for i := range runs {
		for _, v := range vs {
			cfg := filepath.Join(work, v.name+".yaml")
			// Only the checks that read the cluster: the logs check and
			// the pods check that shares its client.
			logs := "{timeout: 5m}"
			if v.logs != "" {
				logs = v.logs
			}
			c := benchenv.Config{Kubeconfig: kubeconfig, Namespaces: []string{s.Namespace}, Timeout: "5m",
				Checks: []benchenv.Check{{Name: "pods", Settings: "{timeout: 5m}"}, {Name: "logs", Settings: logs}}}
			if err := c.Write(cfg); err != nil {
				return err
			}
			args := []string{"checklist", "--config", cfg, "--output", "json", "--log-level", logLevel}
			if profiles != "" {
				args = append(args, "--cpuprofile", filepath.Join(profiles, fmt.Sprintf("%s-%d.pprof", v.name, i)))
			}
			var stopEnv func() error
			if envProfiles != "" && i == 0 && v == vs[0] {
				if stopEnv, err = profileEnv(ctx, env, envProfiles); err != nil {
					return err
				}
			}
			sm, err := measure(ctx, env, exec.CommandContext(ctx, v.bin, args...), apiPID, etcdPID)
			if stopEnv != nil {
				if err := stopEnv(); err != nil {
					return err
				}
			}
			if err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			w := sm.wall.Seconds()
			sm.apiserver -= idle[0] * w
			sm.etcd -= idle[1] * w
			sm.benchProc -= idle[2] * w
			results[v.name] = append(results[v.name], sm)
			fmt.Fprintf(os.Stderr, "    %-10s run %d: %s\n", v.name, i+1, sm)
		}
	}

	fmt.Printf("\n%d pods, %d MB of logs; medians of %d interleaved runs\n\n", s.Pods(), int64(s.Pods())*logBytes>>20, runs)
	fmt.Println("| variant | wall s | logs check s | MB/s | CPU s opsbot | apiserver | etcd | stub kubelet (bench) | CPU s/MB opsbot | apiserver | stub | opsbot peak RSS MB |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, v := range vs {
		ss := results[v.name]
		// The middle run's figure; of an even number of runs, the
		// higher of the two middle ones.
		med := func(f func(sample) float64) float64 {
			x := make([]float64, len(ss))
			for i, s := range ss {
				x[i] = f(s)
			}
			return benchenv.HighMedian(x)
		}
		fmt.Printf("| %s | %.2f | %.2f | %.1f | %.2f | %.2f | %.2f | %.2f | %.4f | %.4f | %.4f | %.0f |\n", v.name,
			med(func(s sample) float64 { return s.wall.Seconds() }),
			med(func(s sample) float64 { return s.logsCheck.Seconds() }),
			med(func(s sample) float64 { return s.mb / s.logsCheck.Seconds() }),
			med(func(s sample) float64 { return s.opsbot }),
			med(func(s sample) float64 { return s.apiserver }),
			med(func(s sample) float64 { return s.etcd }),
			med(func(s sample) float64 { return s.benchProc }),
			med(func(s sample) float64 { return s.opsbot / s.mb }),
			med(func(s sample) float64 { return s.apiserver / s.mb }),
			med(func(s sample) float64 { return s.benchProc / s.mb }),
			med(func(s sample) float64 { return s.maxRSSMB }),
		)
	}
	return nil
}

func (s sample) String() string {
	return fmt.Sprintf("wall %.2fs logs %.2fs %.0f MB %d req; CPU opsbot %.2fs apiserver %.2fs etcd %.2fs stub %.2fs; opsbot peak RSS %.0f MB",
		s.wall.Seconds(), s.logsCheck.Seconds(), s.mb, s.requests, s.opsbot, s.apiserver, s.etcd, s.benchProc, s.maxRSSMB)
}

// measure runs cmd (opsbot checklist --output json) and reads the CPU
// time of the processes involved before and after.
func measure(ctx context.Context, env *testenv.Env, cmd *exec.Cmd, apiPID, etcdPID int) (sample, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	apiBefore, etcdBefore, selfBefore := cpuSeconds(apiPID), cpuSeconds(etcdPID), cpuSeconds(os.Getpid())
	bytesBefore, reqBefore := env.Kube.Kubelet().BytesServed(), env.Kube.Kubelet().Requests()
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		return sample{}, err
	}
	s := sample{
		wall:      wall,
		apiserver: cpuSeconds(apiPID) - apiBefore,
		etcd:      cpuSeconds(etcdPID) - etcdBefore,
		benchProc: cpuSeconds(os.Getpid()) - selfBefore,
		mb:        float64(env.Kube.Kubelet().BytesServed()-bytesBefore) / (1 << 20),
		requests:  env.Kube.Kubelet().Requests() - reqBefore,
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.opsbot = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		s.maxRSSMB = float64(ru.Maxrss) / 1024
	}
	var rep struct {
		Checks []struct {
			Check      string `json:"check"`
			DurationMS int64  `json:"durationMs"`
			Summary    string `json:"summary"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return s, fmt.Errorf("opsbot output: %w", err)
	}
	for _, c := range rep.Checks {
		if c.Check == "logs" {
			s.logsCheck = time.Duration(c.DurationMS) * time.Millisecond
		}
	}
	return s, nil
}

// profileEnv profiles this process (where the stub kubelet serves logs)
// and kube-apiserver (3 s from 1.5 s into the run: past the pod listing,
// into the reading of logs), into dir.
func profileEnv(ctx context.Context, env *testenv.Env, dir string) (stop func() error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return benchenv.ProfileServers(ctx, env, filepath.Join(dir, "stub-kubelet.pprof"), filepath.Join(dir, "kube-apiserver.pprof"),
		1500*time.Millisecond, 3*time.Second)
}

// idleRates is the CPU seconds per second of the apiserver, etcd and this
// process over d with nothing running.
func idleRates(apiPID, etcdPID int, d time.Duration) [3]float64 {
	pids := []int{apiPID, etcdPID, os.Getpid()}
	var before, r [3]float64
	for i, p := range pids {
		before[i] = cpuSeconds(p)
	}
	time.Sleep(d)
	for i, p := range pids {
		r[i] = (cpuSeconds(p) - before[i]) / d.Seconds()
	}
	return r
}

// cpuSeconds is the user+system CPU time of process pid so far, in
// seconds; 0 if it cannot be read.
func cpuSeconds(pid int) float64 {
	d, err := benchenv.ProcessCPU(pid)
	if err != nil {
		return 0
	}
	return d.Seconds()
}
