package logs_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/redact"
	"github.com/opsbot/opsbot/testenv"
)

// memState is a logs.StateStore in memory.
type memState struct {
	mu   sync.Mutex
	docs map[string][]byte
}

func (m *memState) LoadLogState(_ context.Context, env string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.docs[env], nil
}

func (m *memState) SaveLogState(_ context.Context, env string, state []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.docs == nil {
		m.docs = make(map[string][]byte)
	}
	m.docs[env] = state
	return nil
}

// incrementalEnv is a real kube-apiserver whose stub kubelet serves the
// logs of pod shop/api-1 (container app) on a clock the test moves.
type incrementalEnv struct {
	t     *testing.T
	ctx   context.Context
	k     *testenv.Kube
	mu    sync.Mutex
	now   time.Time
	lines []testenv.LogLine
}

func (e *incrementalEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *incrementalEnv) setNow(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = t
}

// log appends an error line at each step from from (included) to to
// (excluded), and an info line after each.
func (e *incrementalEnv) log(from, to time.Time, step time.Duration) {
	for t := from; t.Before(to); t = t.Add(step) {
		e.lines = append(e.lines,
			testenv.LogLine{Time: t, Text: fmt.Sprintf("ERROR payment %d failed: card declined", t.Unix())},
			testenv.LogLine{Time: t.Add(time.Second), Text: "INFO request served in 12ms"})
		if t.Minute() == 0 {
			e.lines = append(e.lines, testenv.LogLine{Time: t.Add(2 * time.Second),
				Text: fmt.Sprintf("ERROR db connection %d reset", t.Unix())})
		}
	}
	e.k.Logs().SetLines("shop", "api-1", "app", e.lines...)
}

// setContainer sets the status of api-1's container.
func (e *incrementalEnv) setContainer(id string, restarts int32) {
	c := testenv.RunningContainer("app", restarts)
	c.ContainerID = id
	if _, err := e.k.SetPodStatus(e.ctx, "shop", "api-1", testenv.PodStatus(corev1.PodRunning, c)); err != nil {
		e.t.Fatal(err)
	}
}

// run runs the logs check (with st, incremental) and returns its result
// and the bytes the kubelet served.
func (e *incrementalEnv) run(cfg logs.Config, st logs.StateStore) (checks.Result, int64) {
	e.t.Helper()
	var opts []logs.Option
	if st != nil {
		opts = append(opts, logs.WithState(st, "prod", redact.Redactor{}))
	}
	before := e.k.Kubelet().BytesServed()
	res := logs.New(e.k.Client(), []string{"shop"}, cfg, e.clock, nil, opts...).Run(e.ctx)
	if res.Status == checks.Unknown {
		e.t.Fatalf("logs check: %s", res.Summary)
	}
	return res, e.k.Kubelet().BytesServed() - before
}

// sameReport fails unless an incremental result reports what a full
// read's does: the same findings and the same summary up to the bytes
// read and the incremental part.
func sameReport(t *testing.T, inc, full checks.Result) {
	t.Helper()
	if !reflect.DeepEqual(inc.Findings, full.Findings) {
		t.Errorf("incremental findings differ from a full read's:\n%+v\nwant\n%+v", inc.Findings, full.Findings)
	}
	strip := func(s string) string {
		_, rest, _ := strings.Cut(s, " read: ")
		rest, _, _ = strings.Cut(rest, "; 1 log read since the last run")
		rest, _, _ = strings.Cut(rest, "; 0 logs read since the last run")
		return rest
	}
	if strip(inc.Summary) != strip(full.Summary) || inc.Status != full.Status {
		t.Errorf("incremental result %s %q, full read's %s %q", inc.Status, inc.Summary, full.Status, full.Summary)
	}
}

// TestIncrementalAgainstTheAPIServer: a repeat run reads only what was
// logged since the last (sinceTime through the real apiserver to the
// kubelet) and reports what a full read reports; each fallback reads in
// full and says why.
func TestIncrementalAgainstTheAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real kube-apiserver; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k, err := testenv.StartKube(ctx, testenv.KubeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Stop() })
	if err := k.CreateNamespace(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.CreatePod(ctx, testenv.NewPod("shop", "api-1", "app")); err != nil {
		t.Fatal(err)
	}
	// On the hour: the window starts on the hour too (see the precision in
	// incremental.go).
	t0 := time.Now().UTC().Truncate(time.Hour)
	e := &incrementalEnv{t: t, ctx: ctx, k: k, now: t0}
	k.Logs().SetClock(e.clock)
	e.setContainer("containerd://aaa", 0)
	e.log(t0.Add(-30*time.Hour), t0, 10*time.Minute)

	cfg := logs.Config{Window: model.Duration(24 * time.Hour)}
	st := &memState{}

	// Run 1: no state, a full read.
	first, firstBytes := e.run(cfg, st)
	if !strings.Contains(first.Summary, "0 logs read since the last run, 1 log in full (1 new)") {
		t.Errorf("first run: %q", first.Summary)
	}
	full, fullBytes := e.run(cfg, nil)
	sameReport(t, first, full)
	if firstBytes <= fullBytes {
		t.Errorf("the first run read %d bytes, a read without timestamps %d: timestamps cost bytes", firstBytes, fullBytes)
	}

	// An hour later: run 2 reads the new hour only, and an hour of the
	// window has left it.
	e.log(t0, t0.Add(time.Hour), 10*time.Minute)
	e.setNow(t0.Add(time.Hour))
	second, secondBytes := e.run(cfg, st)
	if !strings.Contains(second.Summary, "1 log read since the last run") || strings.Contains(second.Summary, "in full") {
		t.Errorf("second run: %q", second.Summary)
	}
	full, _ = e.run(cfg, nil)
	sameReport(t, second, full)
	// What the kubelet serves from sinceTime (the last line read's second,
	// inclusive), with timestamps.
	var want int64
	for _, ln := range e.lines {
		if !ln.Time.Before(t0.Add(-10*time.Minute + time.Second)) {
			want += int64(len(ln.Time.UTC().Format(time.RFC3339Nano)) + 1 + len(ln.Text) + 1)
		}
	}
	if secondBytes != want {
		t.Errorf("second run read %d bytes, want %d (the new hour and the last line read)", secondBytes, want)
	}
	if secondBytes*20 > firstBytes {
		t.Errorf("second run read %d bytes, first %d: not incremental", secondBytes, firstBytes)
	}

	// The container restarted: read in full.
	e.setContainer("containerd://bbb", 1)
	e.log(t0.Add(time.Hour), t0.Add(90*time.Minute), 10*time.Minute)
	e.setNow(t0.Add(90 * time.Minute))
	res, _ := e.run(cfg, st)
	if !strings.Contains(res.Summary, "1 log in full (1 restarted)") {
		t.Errorf("after a restart: %q", res.Summary)
	}
	full, _ = e.run(cfg, nil)
	sameReport(t, res, full)

	// Then incremental again: the state follows the new instance.
	e.log(t0.Add(90*time.Minute), t0.Add(2*time.Hour), 10*time.Minute)
	e.setNow(t0.Add(2 * time.Hour))
	res, _ = e.run(cfg, st)
	if !strings.Contains(res.Summary, "1 log read since the last run") || strings.Contains(res.Summary, "in full") {
		t.Errorf("after a restart, the next run: %q", res.Summary)
	}
	full, _ = e.run(cfg, nil)
	sameReport(t, res, full)

	// The log was rotated: the kubelet serves only the new file, which
	// does not hold the last line read.
	e.lines = nil
	e.log(t0.Add(2*time.Hour), t0.Add(3*time.Hour), 10*time.Minute)
	e.setNow(t0.Add(3 * time.Hour))
	res, _ = e.run(cfg, st)
	if !strings.Contains(res.Summary, "1 log in full (1 rotated)") {
		t.Errorf("after a rotation: %q", res.Summary)
	}
	full, _ = e.run(cfg, nil)
	sameReport(t, res, full)

	// Another configuration (limitBytes): read in full.
	other := cfg
	other.LimitBytes = 5 << 20
	res, _ = e.run(other, st)
	if !strings.Contains(res.Summary, "1 log in full (1 configuration changed)") {
		t.Errorf("after a configuration change: %q", res.Summary)
	}

	// A state an earlier opsbot wrote (version 1), and a damaged one: read
	// in full, and the next run is incremental again.
	for _, tc := range []struct{ doc, want string }{
		{`{"version":1,"config":"x","containers":{"shop/api-1/app":{"id":"containerd://bbb","restarts":1,"pos":"2026-12-06T12:35:16Z","readAt":"2026-12-06T12:37:31Z","signatures":[]}}}`,
			"1 log in full (1 state of another opsbot version)"},
		{`{"version":2,"signatures":[],"containers":{"shop/api-1/app":{"readAt":1,"events":[{"s":3,"b":[1,1]}]}}}`,
			"1 log in full (1 state unreadable)"},
	} {
		if err := st.SaveLogState(ctx, "prod", []byte(tc.doc)); err != nil {
			t.Fatal(err)
		}
		res, _ = e.run(other, st)
		if !strings.Contains(res.Summary, tc.want) {
			t.Errorf("from %.30s…: %q, want %q", tc.doc, res.Summary, tc.want)
		}
		full, _ = e.run(other, nil)
		sameReport(t, res, full)
		if res, _ = e.run(other, st); !strings.Contains(res.Summary, "1 log read since the last run") || strings.Contains(res.Summary, "in full") {
			t.Errorf("the run after one from %.30s…: %q", tc.doc, res.Summary)
		}
	}

	// A gap longer than the window: read in full.
	e.log(t0.Add(3*time.Hour), t0.Add(28*time.Hour), 10*time.Minute)
	e.setNow(t0.Add(28 * time.Hour))
	res, _ = e.run(other, st)
	if !strings.Contains(res.Summary, "1 log in full (1 after a gap longer than the window)") {
		t.Errorf("after a gap: %q", res.Summary)
	}
	full, _ = e.run(other, nil)
	sameReport(t, res, full)

	// A read cut at limitBytes has the window's start only: the next run
	// reads in full.
	small := cfg
	small.LimitBytes = 4 << 10
	cut, _ := e.run(small, st)
	if !strings.Contains(cut.Summary, "cut at limitBytes") {
		t.Fatalf("a 4KiB limit did not cut the log: %q", cut.Summary)
	}
	e.log(t0.Add(28*time.Hour), t0.Add(29*time.Hour), 10*time.Minute)
	e.setNow(t0.Add(29 * time.Hour))
	res, _ = e.run(small, st)
	if !strings.Contains(res.Summary, "1 log in full (1 cut at limitBytes last time)") {
		t.Errorf("after a cut read: %q", res.Summary)
	}
}
