package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

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
	AM        int64 `json:"alertmanagerRequests"`
	Prom      int64 `json:"prometheusRequests"`
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
	requests [4]int64
	logBytes int64
	cpu      map[string]time.Duration
}

func (m *meter) snapshot(ctx context.Context) (snapshot, error) {
	var s snapshot
	var err error
	if s.requests, err = counters(ctx, m.env); err != nil {
		return s, err
	}
	s.logBytes = m.env.Kube.Kubelet().BytesServed()
	s.cpu = make(map[string]time.Duration, len(m.pids)+1)
	for name, pid := range m.pids {
		d, err := processCPU(pid)
		if err != nil {
			return s, fmt.Errorf("%s: %w", name, err)
		}
		s.cpu[name] = d
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, err
	}
	s.cpu[stubKubelet] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return s, nil
}

// stubKubelet names this process in sample.ServerCPU.
const stubKubelet = "stub kubelet"

// measure runs cmd and returns its sample. okExit is the exit code that
// counts as success besides 0 (opsbot exits 1 when it finds problems, which
// it should here).
func (m *meter) measure(ctx context.Context, cmd *exec.Cmd, okExit int) (sample, error) {
	before, err := m.snapshot(ctx)
	if err != nil {
		return sample{}, err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || okExit == 0 || ee.ExitCode() != okExit {
			return sample{}, fmt.Errorf("%s: %w", cmd.Path, err)
		}
	}
	after, err := m.snapshot(ctx)
	if err != nil {
		return sample{}, err
	}
	s := sample{Wall: wall, out: out.String(), LogBytes: after.logBytes - before.logBytes,
		CPU:       cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		ServerCPU: make(map[string]time.Duration, len(after.cpu))}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSSKB = ru.Maxrss
	}
	s.APIServer, s.Kubelet = after.requests[0]-before.requests[0], after.requests[1]-before.requests[1]
	s.AM, s.Prom = after.requests[2]-before.requests[2], after.requests[3]-before.requests[3]
	for name, d := range after.cpu {
		s.ServerCPU[name] = d - before.cpu[name]
	}
	return s, nil
}

// clockTick is the unit of /proc/PID/stat's times: USER_HZ, 100 on every
// Linux architecture Go supports (sysconf(_SC_CLK_TCK) is not reachable
// from pure Go).
const clockTick = 10 * time.Millisecond

// processCPU reads a live process's user+system time from /proc.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields are counted
	// after its closing parenthesis, from field 3 (state).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err := strconv.ParseInt(f[11], 10, 64) // field 14
	if err != nil {
		return 0, err
	}
	stime, err := strconv.ParseInt(f[12], 10, 64) // field 15
	if err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// counters reads how many requests each server has answered: the
// apiserver's apiserver_request_total, the stub kubelet's own count,
// Alertmanager's and Prometheus's HTTP request counters. The reads
// themselves are subtracted out by reading before and after.
func counters(ctx context.Context, env *testenv.Env) ([4]int64, error) {
	var c [4]int64
	var err error
	if c[0], err = metricSum(ctx, env.Kube.URL()+"/metrics", env.Kube.AdminToken(), "apiserver_request_total", env.Kube.CAData()); err != nil {
		return c, err
	}
	c[1] = env.Kube.Kubelet().Requests()
	if c[2], err = metricSum(ctx, env.Alertmanager.URL()+"/metrics", "", "alertmanager_http_request_duration_seconds_count", nil); err != nil {
		return c, err
	}
	if c[3], err = metricSum(ctx, env.Prometheus.URL()+"/metrics", "", "prometheus_http_requests_total", nil); err != nil {
		return c, err
	}
	return c, nil
}

func metricSum(ctx context.Context, url, token, name string, ca []byte) (int64, error) {
	client := http.DefaultClient
	if ca != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca)
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || (len(line) > len(name) && line[len(name)] != '{' && line[len(name)] != ' ') {
			continue
		}
		f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum += f
		}
	}
	return int64(sum), sc.Err()
}

// spread is the median and range of a figure over runs.
type spread struct{ Median, Min, Max float64 }

func spreadOf(vs []float64) spread {
	if len(vs) == 0 {
		return spread{}
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// figure extracts one figure from each sample.
func figure(ss []sample, f func(sample) float64) spread {
	vs := make([]float64, len(ss))
	for i, s := range ss {
		vs[i] = f(s)
	}
	return spreadOf(vs)
}
