package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/opsbot/opsbot/bench/internal/benchenv"
	"github.com/opsbot/opsbot/testenv"
)

// sample is one run of one side.
type sample struct {
	Wall time.Duration `json:"wallNs"`
	// CPU is the user+system time of the process measured and of every
	// child it waited for (for the baseline: bash, each kubectl, grep,
	// awk and curl).
	CPU time.Duration `json:"cpuNs"`
	// MaxRSSKB is the peak RSS of the largest single process.
	MaxRSSKB int64 `json:"maxRssKB"`
	// Requests the servers answered during the run.
	APIServer int64 `json:"apiserverRequests"`
	Kubelet   int64 `json:"kubeletRequests"`
	// KubeletConns is how many connections the apiserver opened to the
	// stub kubelet: fewer than Kubelet when it reuses them.
	KubeletConns int64 `json:"kubeletConnections"`
	AM           int64 `json:"alertmanagerRequests"`
	Prom         int64 `json:"prometheusRequests"`
	// LogBytes the stub kubelet served.
	LogBytes int64 `json:"logBytes"`
	// ServerCPU is the CPU time each server process used during the run;
	// "stub kubelet" is this benchmark's own process, which serves the
	// logs (and the exporter's scrapes).
	ServerCPU map[string]time.Duration `json:"serverCpuNs"`

	out string
}

// meter takes samples against one environment.
type meter struct {
	env  *testenv.Env
	pids map[string]int
}

// snapshot is what is read before and after a run.
type snapshot struct {
	requests benchenv.Requests
	logBytes int64
	conns    int64
	cpu      map[string]time.Duration
}

func (m *meter) snapshot(ctx context.Context) (snapshot, error) {
	var s snapshot
	var err error
	if s.requests, err = benchenv.ReadRequests(ctx, m.env); err != nil {
		return s, err
	}
	s.logBytes = m.env.Kube.Kubelet().BytesServed()
	s.conns = m.env.Kube.Kubelet().Connections()
	s.cpu = make(map[string]time.Duration, len(m.pids)+1)
	for name, pid := range m.pids {
		d, err := benchenv.ProcessCPU(pid)
		if err != nil {
			return s, fmt.Errorf("%s: %w", name, err)
		}
		s.cpu[name] = d
	}
	if s.cpu[stubKubelet], err = benchenv.SelfCPU(); err != nil {
		return s, err
	}
	return s, nil
}

// stubKubelet names this process in sample.ServerCPU.
const stubKubelet = "stub kubelet"

// measure runs cmd and returns its sample. okExit is the exit code that
// counts as success besides 0 (opsbot exits 1 when it finds problems, which
// it should here). With profile set, the servers are profiled during the
// run: see profileServers.
func (m *meter) measure(ctx context.Context, cmd *exec.Cmd, okExit int, profile string) (sample, error) {
	before, err := m.snapshot(ctx)
	if err != nil {
		return sample{}, err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	var stopProfiles func() error
	if profile != "" {
		if stopProfiles, err = m.profileServers(ctx, profile); err != nil {
			return sample{}, err
		}
	}
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	// The servers are read before the apiserver's profile is waited for:
	// the sample is of the run only.
	after, serr := m.snapshot(ctx)
	if stopProfiles != nil {
		if perr := stopProfiles(); perr != nil {
			return sample{}, perr
		}
	}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || okExit == 0 || ee.ExitCode() != okExit {
			return sample{}, fmt.Errorf("%s: %w", cmd.Path, err)
		}
	}
	if serr != nil {
		return sample{}, serr
	}
	s := sample{Wall: wall, out: out.String(), LogBytes: after.logBytes - before.logBytes, KubeletConns: after.conns - before.conns,
		CPU:       cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		ServerCPU: make(map[string]time.Duration, len(after.cpu))}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSSKB = ru.Maxrss
	}
	r := after.requests.Sub(before.requests)
	s.APIServer, s.Kubelet, s.AM, s.Prom = r.APIServer, r.Kubelet, r.Alertmanager, r.Prometheus
	for name, d := range after.cpu {
		s.ServerCPU[name] = d - before.cpu[name]
	}
	return s, nil
}

// profileWindow is how long kube-apiserver is profiled from the start of a
// run: its pprof endpoint takes the duration up front. A run that takes
// longer is profiled for its first profileWindow only.
const profileWindow = 5 * time.Second

// profileServers profiles kube-apiserver and this process (the stub
// kubelet) from the start of a run, into path's .kube-apiserver.pprof and
// .stub-kubelet.pprof files.
func (m *meter) profileServers(ctx context.Context, path string) (stop func() error, err error) {
	base := strings.TrimSuffix(path, ".pprof")
	return benchenv.ProfileServers(ctx, m.env, base+".stub-kubelet.pprof", base+".kube-apiserver.pprof", 0, profileWindow)
}

// spread is the median and range of a figure over runs.
type spread = benchenv.Spread

// figure extracts one figure from each sample.
func figure(ss []sample, f func(sample) float64) spread {
	vs := make([]float64, len(ss))
	for i, s := range ss {
		vs[i] = f(s)
	}
	return benchenv.SpreadOf(vs)
}
