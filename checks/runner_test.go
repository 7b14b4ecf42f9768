package checks

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

// fakeCheck is a Check whose behaviour is a function.
type fakeCheck struct {
	name    string
	timeout time.Duration
	run     func(ctx context.Context) Result
}

func (f fakeCheck) Name() string                   { return f.name }
func (f fakeCheck) Run(ctx context.Context) Result { return f.run(ctx) }
func (f fakeCheck) Timeout() time.Duration         { return f.timeout }

func TestRunnerEveryCheckReports(t *testing.T) {
	release := make(chan struct{})
	defer close(release) // lets the abandoned check's goroutine finish

	list := []Check{
		fakeCheck{name: "ok", run: func(context.Context) Result {
			return Result{Status: OK, Summary: "all good"}
		}},
		fakeCheck{name: "fails", run: func(context.Context) Result {
			return Result{Status: Fail, Summary: "2 problems", Findings: []Finding{{Fingerprint: "x", Severity: Fail}}}
		}},
		fakeCheck{name: "panics", run: func(context.Context) Result {
			panic("nil map write")
		}},
		fakeCheck{name: "ignores-deadline", timeout: 20 * time.Millisecond, run: func(context.Context) Result {
			<-release // never honours ctx
			return Result{Status: OK}
		}},
		fakeCheck{name: "silent-unknown", run: func(context.Context) Result {
			return Result{Status: Unknown}
		}},
	}

	var mu sync.Mutex
	var seen []string
	r := NewRunner(time.Minute, zap.NewNop())
	r.Grace = 0 // abandon ignores-deadline as soon as its deadline passes
	results := r.Run(context.Background(), list, func(res Result) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, res.Check)
	})

	if len(results) != len(list) {
		t.Fatalf("got %d results, want %d", len(results), len(list))
	}
	want := []struct {
		status  Status
		summary string // substring
	}{
		{OK, "all good"},
		{Fail, "2 problems"},
		{Unknown, "check panicked: nil map write"},
		{Unknown, "timed out: check deadline exceeded after 20ms"},
		{Unknown, "check reported no reason"},
	}
	for i, w := range want {
		got := results[i]
		if got.Check != list[i].Name() {
			t.Errorf("results[%d].Check = %q, want %q (results must keep the order of checks)", i, got.Check, list[i].Name())
		}
		if got.Status != w.status || !strings.Contains(got.Summary, w.summary) {
			t.Errorf("%s: got %v %q, want %v containing %q", got.Check, got.Status, got.Summary, w.status, w.summary)
		}
	}
	if len(seen) != len(list) {
		t.Errorf("progress called %d times, want once per check (%d): %v", len(seen), len(list), seen)
	}
}

// A check that honours its deadline gets to report what it found so far; the
// summary says why it may be incomplete and it cannot claim OK.
func TestRunnerPartialResultAfterDeadline(t *testing.T) {
	list := []Check{fakeCheck{name: "partial", timeout: time.Millisecond, run: func(ctx context.Context) Result {
		<-ctx.Done()
		return Result{Status: OK, Summary: "read 3 of 7 pods"}
	}}}
	r := NewRunner(time.Minute, nil)
	r.Grace = time.Hour // the check returns at once; the grace is never used up
	res := r.Run(context.Background(), list, nil)[0]
	if res.Status != Unknown || res.Summary != "timed out: check deadline exceeded after 1ms; read 3 of 7 pods" {
		t.Fatalf("got %v %q", res.Status, res.Summary)
	}
}

func TestRunnerParentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	list := []Check{fakeCheck{name: "slow", run: func(ctx context.Context) Result {
		close(started)
		<-ctx.Done()
		return Result{Status: OK}
	}}}
	go func() {
		<-started
		cancel()
	}()
	res := NewRunner(time.Hour, nil).Run(ctx, list, nil)
	if res[0].Status != Unknown || !strings.Contains(res[0].Summary, "checklist cancelled") {
		t.Fatalf("got %v %q, want Unknown saying the checklist was cancelled", res[0].Status, res[0].Summary)
	}
}

func TestRunnerNoChecks(t *testing.T) {
	if res := NewRunner(time.Second, nil).Run(context.Background(), nil, nil); len(res) != 0 {
		t.Fatalf("got %d results for no checks", len(res))
	}
}

func TestWorst(t *testing.T) {
	tests := []struct {
		in   []Status
		want Status
	}{
		{nil, OK},
		{[]Status{OK, Warn}, Warn},
		{[]Status{Warn, Unknown}, Unknown},
		{[]Status{Unknown, Fail, Warn}, Fail},
	}
	for _, tt := range tests {
		if got := Worst(tt.in...); got != tt.want {
			t.Errorf("Worst(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestStatusText(t *testing.T) {
	for _, s := range []Status{OK, Warn, Unknown, Fail} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Status
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("round trip of %v: got %v, %v", s, back, err)
		}
	}
	if _, err := ParseStatus("bad"); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("ParseStatus(bad) error = %v, want one naming the value", err)
	}
}

func TestReportJSONIsStable(t *testing.T) {
	start := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	rep := NewReport("prod", start, start.Add(1500*time.Millisecond), []Result{
		{Check: "pods", Status: OK, Summary: "12 pods: all healthy", Duration: 120 * time.Millisecond},
		{Check: "alerts", Status: Warn, Summary: "1 firing alert", Duration: 40 * time.Millisecond,
			Findings: []Finding{{Fingerprint: Fingerprint("alerts", "HighLatency", "shop"), Severity: Warn, Title: "HighLatency ×1", Count: 1}}},
	})
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemaVersion":1,"environment":"prod","startedAt":"2026-11-24T09:30:00Z","finishedAt":"2026-11-24T09:30:01.5Z","status":"warn","checks":[` +
		`{"check":"pods","status":"ok","summary":"12 pods: all healthy","findings":[],"durationMs":120},` +
		`{"check":"alerts","status":"warn","summary":"1 firing alert","findings":[{"fingerprint":"alerts/HighLatency/shop","severity":"warn","title":"HighLatency ×1","count":1}],"durationMs":40}],"suppressed":[]}`
	if string(b) != want {
		t.Errorf("report JSON changed:\n got %s\nwant %s", b, want)
	}
}

func TestFingerprint(t *testing.T) {
	if got := Fingerprint("pods", "shop", " Deployment ", "", "CrashLoopBackOff"); got != "pods/shop/Deployment/-/CrashLoopBackOff" {
		t.Errorf("Fingerprint = %q", got)
	}
}

// TestRunnerRedactsWhatChecksReport: whatever a check puts in its summary
// and findings, secrets are gone before anyone stores or shows it.
func TestRunnerRedactsWhatChecksReport(t *testing.T) {
	leaky := fakeCheck{name: "logs", run: func(context.Context) Result {
		return Result{Status: Warn, Summary: "read with Bearer abcdef123456789",
			Findings: []Finding{{Severity: Warn, Object: "mail alice@example.com",
				Title:  "ERROR slack post failed token=xoxb-1234567890-abcdef",
				Detail: "dial postgres://app:pa55w0rd@db:5432/shop: refused",
				Labels: map[string]string{"alertname": "Leak", "url": "postgres://app:pa55w0rd@db:5432/shop"},
				Chart:  &ChartSource{Title: "errors of mail alice@example.com", Query: `up{job="alice@example.com"}`}}}}
	}}
	res := NewRunner(time.Second, nil).Run(context.Background(), []Check{leaky}, nil)[0]
	f := res.Findings[0]
	if f.Labels["alertname"] != "Leak" {
		t.Errorf("labels %v: the alertname was changed", f.Labels)
	}
	if f.Chart.Query != `up{job="alice@example.com"}` {
		t.Errorf("chart query %q: changed, it no longer selects its data", f.Chart.Query)
	}
	for _, got := range []string{res.Summary, f.Object, f.Title, f.Detail, f.Labels["url"], f.Chart.Title} {
		for _, secret := range []string{"abcdef123456789", "alice@example.com", "xoxb-", "pa55w0rd"} {
			if strings.Contains(got, secret) {
				t.Errorf("%q still shows %q", got, secret)
			}
		}
		if !strings.Contains(got, "[redacted:") {
			t.Errorf("%q does not say what was redacted", got)
		}
	}
}

func TestChartSourceJSONRoundTrip(t *testing.T) {
	warn := 0.8
	in := Finding{Fingerprint: "metrics/memory", Chart: &ChartSource{Title: "memory", Query: "mem",
		Series: map[string]string{"pod": "a"}, Warn: &warn, Unit: "ratio",
		At: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), Window: 6 * time.Hour}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"window":"6h0m0s"`) {
		t.Errorf("JSON %s: the window is not a duration people read", b)
	}
	var out Finding
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip\n%+v\ngave\n%+v", *in.Chart, *out.Chart)
	}
}
