package benchenv

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/testenv"
)

func TestSpreadOf(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want Spread
	}{
		{nil, Spread{}},
		{[]float64{3}, Spread{3, 3, 3}},
		{[]float64{9, 1, 5}, Spread{5, 1, 9}},
		{[]float64{4, 1, 2, 10}, Spread{3, 1, 10}},
	} {
		if got := SpreadOf(tc.in); got != tc.want {
			t.Errorf("SpreadOf(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	in := []float64{3, 1, 2}
	SpreadOf(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("SpreadOf sorted its argument: %v", in)
	}
}

func TestHighMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 1, 2, 10}, 4},
	} {
		if got := HighMedian(tc.in); got != tc.want {
			t.Errorf("HighMedian(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	in := []float64{3, 1, 2}
	HighMedian(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("HighMedian sorted its argument: %v", in)
	}
}

// ProcessCPU reads a child's CPU time as the kernel accounts it: a child
// that spun a loop has used some, no more than the wall time it lived on
// this machine's cores, and no more than the kernel's total once reaped.
func TestProcessCPU(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo spun; read x; exit 0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "spun\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	got, err := ProcessCPU(cmd.Process.Pid)
	lived := time.Since(started)
	in.Close()
	if werr := cmd.Wait(); werr != nil {
		t.Fatal(werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got <= 0 || got > lived*time.Duration(runtime.NumCPU()) {
		t.Errorf("ProcessCPU = %v after %v of wall time", got, lived)
	}
	if kernel := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(); got > kernel+ClockTick {
		t.Errorf("ProcessCPU = %v while it was waiting, the kernel's total at exit is %v", got, kernel)
	}
	if _, err := ProcessCPU(1 << 30); err == nil {
		t.Error("ProcessCPU of a process that does not exist: no error")
	}
}

// SelfCPU counts this process's work: it is positive, and it grows
// while the process spins (if it did not, the test would time out).
func TestSelfCPU(t *testing.T) {
	before, err := SelfCPU()
	if err != nil {
		t.Fatal(err)
	}
	if before <= 0 {
		t.Fatalf("SelfCPU = %v", before)
	}
	// Spinning uses CPU time: SelfCPU must see it grow, well before a
	// minute of wall time has passed.
	deadline := time.Now().Add(time.Minute)
	for after := before; after < before+2*ClockTick; {
		if after, err = SelfCPU(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("SelfCPU stayed at %v while this test spun for a minute", after)
		}
	}
}

// MetricSum adds up every sample of the metric asked for, whatever its
// labels, and none of the metrics whose names it merely begins.
func TestMetricSum(t *testing.T) {
	const exposition = `# HELP apiserver_request_total Counter of apiserver requests.
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",verb="GET"} 40
apiserver_request_total{code="201",verb="POST"} 2.5
apiserver_request_total 7
apiserver_request_total_other{code="200"} 1000
apiserver_request_totally 1000
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(exposition))
	}))
	defer srv.Close()
	ctx := context.Background()
	got, err := MetricSum(ctx, srv.URL, "secret", "apiserver_request_total", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != 49 {
		t.Errorf("MetricSum = %d, want 49", got)
	}
	if _, err := MetricSum(ctx, srv.URL, "", "apiserver_request_total", nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("MetricSum without the token: %v, want the 401", err)
	}
}

func TestRequestsSub(t *testing.T) {
	a := Requests{APIServer: 10, Kubelet: 20, Alertmanager: 30, Prometheus: 40}
	b := Requests{APIServer: 1, Kubelet: 2, Alertmanager: 3, Prometheus: 4}
	if got, want := a.Sub(b), (Requests{9, 18, 27, 36}); got != want {
		t.Errorf("Sub = %+v, want %+v", got, want)
	}
}

// TestProfileServers takes profiles of a real kube-apiserver and of this
// process: what bench/checklist -profiles and bench/logspeed -profiles
// write beside opsbot's own.
func TestProfileServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	ctx := context.Background()
	env, err := testenv.Start(ctx, testenv.Options{Kube: &testenv.KubeOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	dir := t.TempDir()
	self, api := filepath.Join(dir, "stub-kubelet.pprof"), filepath.Join(dir, "kube-apiserver.pprof")
	stop, err := ProfileServers(ctx, env, self, api, 100*time.Millisecond, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{self, api} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// A pprof profile is gzipped protobuf.
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s is not a gzipped pprof profile: %d bytes starting %q", filepath.Base(path), len(b), b[:min(len(b), 16)])
		}
	}
}
