package benchenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opsbot/opsbot/testenv"
)

// ClockTick is the unit of /proc/PID/stat's times: USER_HZ, 100 on every
// Linux architecture Go supports (sysconf(_SC_CLK_TCK) is not reachable
// from pure Go).
const ClockTick = 10 * time.Millisecond

// ProcessCPU reads a live process's user+system time from /proc/PID/stat,
// in whole clock ticks (ClockTick).
func ProcessCPU(pid int) (time.Duration, error) {
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
	return time.Duration(utime+stime) * ClockTick, nil
}

// SelfCPU is this process's user+system time from getrusage(2): to the
// microsecond, where ProcessCPU(os.Getpid()) counts whole clock ticks.
func SelfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// Requests is how many requests each server of the test environment has
// answered so far.
type Requests struct {
	// APIServer is kube-apiserver's apiserver_request_total.
	APIServer int64
	// Kubelet is the stub kubelet's own count.
	Kubelet int64
	// Alertmanager is alertmanager_http_request_duration_seconds_count.
	Alertmanager int64
	// Prometheus is prometheus_http_requests_total.
	Prometheus int64
}

// Sub is r minus before: the requests answered in between.
func (r Requests) Sub(before Requests) Requests {
	return Requests{
		APIServer:    r.APIServer - before.APIServer,
		Kubelet:      r.Kubelet - before.Kubelet,
		Alertmanager: r.Alertmanager - before.Alertmanager,
		Prometheus:   r.Prometheus - before.Prometheus,
	}
}

// ReadRequests reads the request counters of env's servers. The reads of
// /metrics are themselves counted: reading before and after a run and
// subtracting cancels them out.
func ReadRequests(ctx context.Context, env *testenv.Env) (Requests, error) {
	var r Requests
	var err error
	if r.APIServer, err = MetricSum(ctx, env.Kube.URL()+"/metrics", env.Kube.AdminToken(), "apiserver_request_total", env.Kube.CAData()); err != nil {
		return r, err
	}
	r.Kubelet = env.Kube.Kubelet().Requests()
	if r.Alertmanager, err = MetricSum(ctx, env.Alertmanager.URL()+"/metrics", "", "alertmanager_http_request_duration_seconds_count", nil); err != nil {
		return r, err
	}
	if r.Prometheus, err = MetricSum(ctx, env.Prometheus.URL()+"/metrics", "", "prometheus_http_requests_total", nil); err != nil {
		return r, err
	}
	return r, nil
}

// APIServerProfile writes a CPU profile of env's kube-apiserver, taken over
// d from now, to path.
func APIServerProfile(ctx context.Context, env *testenv.Env, d time.Duration, path string) error {
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", env.Kube.URL(), int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+env.Kube.AdminToken())
	resp, err := caClient(env.Kube.CAData()).Do(req)
	if err != nil {
		return fmt.Errorf("kube-apiserver profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("kube-apiserver profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("kube-apiserver profile: %w", err)
	}
	return f.Close()
}

// ProfileServers starts a CPU profile of this process (where the stub
// kubelet serves logs) into selfPath and, after delay, one of
// kube-apiserver over window into apiPath; stop ends the first and waits
// for the second.
func ProfileServers(ctx context.Context, env *testenv.Env, selfPath, apiPath string, delay, window time.Duration) (stop func() error, err error) {
	self, err := os.Create(selfPath)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(self); err != nil {
		self.Close()
		return nil, err
	}
	apiserver := make(chan error, 1)
	go func() {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		apiserver <- APIServerProfile(ctx, env, window, apiPath)
	}()
	return func() error {
		pprof.StopCPUProfile()
		return errors.Join(self.Close(), <-apiserver)
	}, nil
}

// caClient is a client for one request trusting only ca (its connection
// is not kept: nothing is left open between samples); the default client
// when ca is nil.
func caClient(ca []byte) *http.Client {
	if ca == nil {
		return http.DefaultClient
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
}

// MetricSum fetches url, a Prometheus text exposition, and sums every
// sample of the metric called name, whatever its labels. token, when set,
// is sent as a bearer token; ca, when set, is the only CA the server's
// certificate is checked against.
func MetricSum(ctx context.Context, url, token, name string, ca []byte) (int64, error) {
	client := caClient(ca)
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

// Spread is the median and range of a figure over runs.
type Spread struct{ Median, Min, Max float64 }

// SpreadOf is the spread of vs; the median of an even number of values is
// the mean of the two middle ones. The zero Spread when vs is empty.
func SpreadOf(vs []float64) Spread {
	if len(vs) == 0 {
		return Spread{}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// HighMedian is the middle value of vs, and of an even number of values
// the higher of the two middle ones (SpreadOf takes their mean): always a
// value that was measured. 0 when vs is empty.
func HighMedian(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[len(s)/2]
}
