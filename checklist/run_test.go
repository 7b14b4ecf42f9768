package checklist_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/redact"
	"github.com/opsbot/opsbot/triage"
)

// fakeCheck reports its result at once, or, when wait is set, when its
// context is done or wait is closed.
type fakeCheck struct {
	name string
	res  checks.Result
	wait chan struct{}
}

func (c fakeCheck) Name() string { return c.name }

func (c fakeCheck) Run(ctx context.Context) checks.Result {
	if c.wait != nil {
		select {
		case <-ctx.Done():
			return checks.UnknownResult("stopped")
		case <-c.wait:
		}
	}
	return c.res
}

func finding(fp string) checks.Finding {
	return checks.Finding{Fingerprint: fp, Severity: checks.Fail, Title: fp}
}

// journal records what the run told whom, in order.
type journal struct {
	mu     sync.Mutex
	events []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	j.events = append(j.events, fmt.Sprintf(format, args...))
	j.mu.Unlock()
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.events)
}

type progress struct{ j *journal }

func (p progress) Checked(i int, r checks.Result) { p.j.add("checked %d %s %s", i, r.Check, r.Status) }
func (p progress) Done()                          { p.j.add("done") }

type saver struct {
	j   *journal
	err error
	rep checks.Report
	// ctxErr is the context's error when SaveRun was called.
	ctxErr error
}

func (s *saver) SaveRun(ctx context.Context, rep checks.Report, channel, ts string) (int64, error) {
	s.j.add("save %s %s %s", rep.Environment, channel, ts)
	s.rep, s.ctxErr = rep, ctx.Err()
	if s.err != nil {
		return 42, s.err // the id must not be used
	}
	return 7, nil
}

type observer struct {
	j        *journal
	runKey   string
	findings []checks.Finding
	obs      triage.Sightings
	err      error
}

func (o *observer) ObserveFindings(_ context.Context, env, runKey string, findings []checks.Finding) (triage.Sightings, error) {
	o.j.add("observe %s %d", env, len(findings))
	o.runKey, o.findings = runKey, findings
	return o.obs, o.err
}

var t0 = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

// clock returns t0, then a second later at each call.
func clock() func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return t0.Add(time.Duration(n-1) * time.Second)
	}
}

func TestRun(t *testing.T) {
	j := &journal{}
	release := make(chan struct{})
	list := []checks.Check{
		// The first check reports last: progress names it by its index.
		fakeCheck{name: "pods", wait: release, res: checks.Result{Status: checks.Fail,
			Findings: []checks.Finding{finding("pods/a"), finding("pods/b")}}},
		fakeCheck{name: "alerts", res: checks.Result{Status: checks.Warn, Findings: []checks.Finding{finding("alerts/x")}}},
	}
	s := &saver{j: j}
	want := triage.Sightings{Announce: []triage.Observation{{Found: true, Anomaly: triage.Anomaly{ID: 3}}}}
	o := &observer{j: j, obs: want, err: errors.New("one sighting failed")}
	out := checklist.Run(context.Background(), checklist.RunOptions{
		Environment: "prod", Checks: list, Channel: "C0OPS", MessageTS: "1.2",
		Progress: releaseAfterFirst{progress{j}, release}, Runs: s, Triage: o, Now: clock(),
	})

	wantEvents := []string{"checked 1 alerts warn", "checked 0 pods fail", "done", "observe prod 3", "save prod C0OPS 1.2"}
	if got := j.list(); !slices.Equal(got, wantEvents) {
		t.Errorf("events:\n got %q\nwant %q", got, wantEvents)
	}
	rep := out.Report
	if rep.Environment != "prod" || rep.Status != checks.Fail || len(rep.Results) != 2 || rep.Results[0].Check != "pods" ||
		!rep.StartedAt.Equal(t0) || !rep.FinishedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("report = %+v", rep)
	}
	if s.rep.Environment != "prod" || len(s.rep.Results) != 2 {
		t.Errorf("saved report = %+v", s.rep)
	}
	if out.RunID != 7 || out.SaveErr != nil || out.CutShort != nil || out.TimedOut {
		t.Errorf("outcome = %+v", out)
	}
	if len(out.Announce) != 1 || out.Announce[0].Anomaly.ID != 3 || out.ObserveErr == nil {
		t.Errorf("announce %+v, observe error %v", out.Announce, out.ObserveErr)
	}
	var fps []string
	for _, f := range o.findings {
		fps = append(fps, f.Fingerprint)
	}
	if !slices.Equal(fps, []string{"pods/a", "pods/b", "alerts/x"}) || o.runKey == "" {
		t.Errorf("observed %q with run key %q", fps, o.runKey)
	}

	// Each run has its own key.
	o2 := &observer{j: j}
	checklist.Run(context.Background(), checklist.RunOptions{Environment: "prod", Checks: list[1:], Triage: o2})
	if o2.runKey == "" || o2.runKey == o.runKey {
		t.Errorf("run keys %q then %q", o.runKey, o2.runKey)
	}
}

// releaseAfterFirst releases the waiting check once another one reported.
type releaseAfterFirst struct {
	progress
	release chan struct{}
}

func (p releaseAfterFirst) Checked(i int, r checks.Result) {
	p.progress.Checked(i, r)
	if i == 1 {
		close(p.release)
	}
}

func TestRunSaveError(t *testing.T) {
	j := &journal{}
	s := &saver{j: j, err: errors.New("database is locked")}
	o := &observer{j: j}
	out := checklist.Run(context.Background(), checklist.RunOptions{
		Environment: "prod", Checks: []checks.Check{fakeCheck{name: "pods", res: checks.Result{Status: checks.Fail,
			Findings: []checks.Finding{finding("pods/a")}}}},
		Runs: s, Triage: o,
	})
	if out.RunID != 0 || out.SaveErr == nil || out.SaveErr.Error() != "database is locked" {
		t.Errorf("outcome = %+v", out)
	}
	if got := j.list(); !slices.Equal(got, []string{"observe prod 1", "save prod  "}) {
		t.Errorf("events = %q: the findings are observed even when the run is not saved", got)
	}
}

// TestRunSuppressesKnownNoise: the findings a standing decision covers
// leave the results (and the saved run, whose findings the buttons count)
// for the report's Suppressed list; one that grew past its decision stays,
// marked; a check whose status came from its findings takes the status of
// those left, and the report's follows.
func TestRunSuppressesKnownNoise(t *testing.T) {
	decided := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	noise := func(id int64, magnitude float64, c triage.Cover) triage.Observation {
		return triage.Observation{Found: true, Cover: c, Magnitude: magnitude, Anomaly: triage.Anomaly{ID: id, State: triage.Closed,
			Decision: &triage.DecisionRecord{Decision: triage.Noise, DecidedBy: "U0BOB", DecidedAt: decided, Magnitude: 12}}}
	}
	quiet, loud := finding("logs/shop/api/timeout"), finding("logs/shop/api/refused")
	quiet.Count, loud.Count = 30, 150
	quiet.Severity = checks.Warn
	other := finding("logs/shop/web/panic")
	list := []checks.Check{
		fakeCheck{name: "logs", res: checks.Result{Status: checks.Fail, Findings: []checks.Finding{quiet, loud}}},
		fakeCheck{name: "pods", res: checks.Result{Status: checks.Fail, Findings: []checks.Finding{finding("pods/a")}}},
		// Unknown (it could not look everywhere): kept, whatever its findings.
		fakeCheck{name: "alerts", res: checks.Result{Status: checks.Unknown, Findings: []checks.Finding{other}}},
	}
	j := &journal{}
	s := &saver{j: j}
	o := &observer{j: j, obs: triage.Sightings{Known: map[string]triage.Observation{
		quiet.Fingerprint: noise(4, 30, triage.Cover{Suppressed: true}),
		loud.Fingerprint:  noise(5, 150, triage.Cover{Grew: true}),
		"pods/a":          noise(6, 1, triage.Cover{Suppressed: true}),
		other.Fingerprint: noise(7, 1, triage.Cover{Suppressed: true}),
	}}}
	out := checklist.Run(context.Background(), checklist.RunOptions{Environment: "prod", Checks: list, Runs: s, Triage: o, Now: clock()})
	rep := out.Report

	logs, pods, alerts := rep.Results[0], rep.Results[1], rep.Results[2]
	if len(logs.Findings) != 1 || logs.Findings[0].Fingerprint != loud.Fingerprint || logs.Status != checks.Fail {
		t.Errorf("logs = %+v; want the grown finding only, fail", logs)
	}
	k := logs.Findings[0].Known
	if k == nil || !k.Grew || k.AnomalyID != 5 || k.DecidedCount != 12 || k.Count != 150 || k.Decision != "Noise" {
		t.Errorf("the grown finding's Known = %+v", k)
	}
	if len(pods.Findings) != 0 || pods.Status != checks.OK {
		t.Errorf("pods = %+v; want no findings, ok", pods)
	}
	if len(alerts.Findings) != 0 || alerts.Status != checks.Unknown {
		t.Errorf("alerts = %+v; want no findings, still unknown", alerts)
	}
	if rep.Status != checks.Fail {
		t.Errorf("report status %s", rep.Status)
	}
	var got []string
	for _, sp := range rep.Suppressed {
		got = append(got, fmt.Sprintf("%s %s #%d %s %s %v→%v", sp.Check, sp.Finding.Fingerprint, sp.Known.AnomalyID,
			sp.Known.Decision, sp.Known.DecidedBy, sp.Known.DecidedCount, sp.Known.Count))
	}
	want := []string{
		"logs logs/shop/api/timeout #4 Noise U0BOB 12→30",
		"pods pods/a #6 Noise U0BOB 12→0",
		"alerts logs/shop/web/panic #7 Noise U0BOB 12→0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("suppressed:\n got %q\nwant %q", got, want)
	}
	if n := len(s.rep.Results[0].Findings) + len(s.rep.Results[1].Findings) + len(s.rep.Results[2].Findings); n != 1 ||
		len(s.rep.Suppressed) != 3 {
		t.Errorf("saved %d findings and %d suppressed; want the report's 1 and 3", n, len(s.rep.Suppressed))
	}

	// All suppressed: the report is OK.
	o.obs.Known[loud.Fingerprint] = noise(5, 30, triage.Cover{Suppressed: true})
	out = checklist.Run(context.Background(), checklist.RunOptions{Environment: "prod", Checks: list[:2], Triage: o})
	if out.Report.Status != checks.OK || len(out.Report.Suppressed) != 3 {
		t.Errorf("all suppressed: status %s, %d suppressed", out.Report.Status, len(out.Report.Suppressed))
	}
}

// A run cut short is reported and saved (under a context of its own), not
// observed.
func TestRunCutShort(t *testing.T) {
	cause := errors.New("handler deadline exceeded")
	for _, c := range []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		timedOut bool
		cause    error
	}{
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, false, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), t0)
		}, true, context.DeadlineExceeded},
		{"deadline with a cause", func() (context.Context, context.CancelFunc) {
			return context.WithDeadlineCause(context.Background(), t0, cause)
		}, true, cause},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := c.ctx()
			defer cancel()
			j := &journal{}
			s, o := &saver{j: j}, &observer{j: j}
			out := checklist.Run(ctx, checklist.RunOptions{
				Environment: "prod", Checks: []checks.Check{fakeCheck{name: "pods", wait: make(chan struct{})}},
				Progress: progress{j}, Runs: s, Triage: o,
			})
			if !errors.Is(out.CutShort, c.cause) || out.TimedOut != c.timedOut {
				t.Errorf("cut short by %v (timed out %v), want %v (%v)", out.CutShort, out.TimedOut, c.cause, c.timedOut)
			}
			if out.Report.Status != checks.Unknown || len(out.Report.Results) != 1 {
				t.Errorf("report = %+v", out.Report)
			}
			if got := j.list(); !slices.Equal(got, []string{"checked 0 pods unknown", "done", "save prod  "}) {
				t.Errorf("events = %q", got)
			}
			if s.ctxErr != nil || out.RunID != 7 {
				t.Errorf("saved under a done context (%v), run %d", s.ctxErr, out.RunID)
			}
		})
	}
}

// In a terminal: no progress, no store, no triage; the report only.
func TestRunAlone(t *testing.T) {
	out := checklist.Run(context.Background(), checklist.RunOptions{Environment: "dev",
		Checks: []checks.Check{fakeCheck{name: "http", res: checks.Result{Status: checks.OK, Summary: "fine"}}}})
	if out.Report.Status != checks.OK || out.Report.Results[0].Summary != "fine" || out.RunID != 0 ||
		out.SaveErr != nil || out.Announce != nil || out.ObserveErr != nil || out.CutShort != nil {
		t.Errorf("outcome = %+v", out)
	}
	empty := checklist.Run(context.Background(), checklist.RunOptions{Environment: "dev", Progress: progress{&journal{}}})
	if empty.Report.Status != checks.OK || len(empty.Report.Results) != 0 {
		t.Errorf("empty run = %+v", empty)
	}
}

// TestRunRedactsWithItsRedactor: the run's Redactor (config's redaction
// block) decides what the report, the saved run and the sightings show:
// secrets always go, emails only when not kept.
func TestRunRedactsWithItsRedactor(t *testing.T) {
	f := finding("logs/shop/api/token=s3cret")
	f.Title = "mail to bob@example.com failed with token=s3cret"
	c := fakeCheck{name: "logs", res: checks.Result{Status: checks.Fail, Summary: "1 signature", Findings: []checks.Finding{f}}}
	for _, tt := range []struct {
		opts redact.Options
		want string
	}{
		{redact.Options{}, "mail to [redacted:email] failed with token=[redacted:secret]"},
		{redact.Options{KeepEmails: true}, "mail to bob@example.com failed with token=[redacted:secret]"},
	} {
		j := &journal{}
		sv, ob := &saver{j: j}, &observer{j: j}
		out := checklist.Run(context.Background(), checklist.RunOptions{Environment: "prod", Checks: []checks.Check{c}, Runs: sv, Triage: ob,
			Now: clock(), Redactor: redact.New(tt.opts)})
		for what, got := range map[string][]checks.Finding{
			"report": out.Report.Results[0].Findings, "saved": sv.rep.Results[0].Findings, "observed": ob.findings,
		} {
			if len(got) != 1 || got[0].Title != tt.want || got[0].Fingerprint != "logs/shop/api/token=[redacted:secret]" {
				t.Errorf("%+v: %s findings %+v, want title %q and the fingerprint redacted", tt.opts, what, got, tt.want)
			}
		}
	}
}

// history is a checklist.Memory in memory that records its calls.
type history struct {
	j     *journal
	calls [][]string
	hs    map[string]triage.History
	tips  []triage.Tip
	err   error
}

func (h *history) Tips(context.Context) ([]triage.Tip, error) {
	h.j.add("tips")
	if h.err != nil {
		return nil, h.err
	}
	return h.tips, nil
}

func (h *history) History(_ context.Context, env string, fps []string, beforeID int64) (map[string]triage.History, error) {
	h.j.add("history %s %d before %d", env, len(fps), beforeID)
	h.calls = append(h.calls, fps)
	if h.err != nil {
		return nil, h.err
	}
	return h.hs, nil
}

// The findings left in the report get what was decided last time, asked
// once for all their fingerprints, after the sightings and before the
// run is saved (its findings as reported).
func TestRunLastTime(t *testing.T) {
	decided := time.Date(2026, 11, 12, 10, 0, 0, 0, time.UTC)
	api, web := finding("pods/shop/api/OOMKilled"), finding("logs/shop/web/panic")
	list := []checks.Check{
		fakeCheck{name: "pods", res: checks.Result{Status: checks.Fail, Findings: []checks.Finding{api, finding("pods/shop/db/crash")}}},
		fakeCheck{name: "logs", res: checks.Result{Status: checks.Fail, Findings: []checks.Finding{web, api}}},
	}
	j := &journal{}
	s := &saver{j: j}
	h := &history{j: j, tips: []triage.Tip{
		{ID: 1, Pattern: "pods/shop", Text: "shop pods restart at 03:00", Author: "U0BOB"},
		{ID: 2, Pattern: "pods/shop/*/OOMKilled", Text: "raise the heap", Author: "U0BOB"},
		{ID: 3, Pattern: "logs", Text: "removed", Author: "U0BOB", RemovedAt: t0},
	}, hs: map[string]triage.History{api.Fingerprint: {
		Environment: "prod", Fingerprint: api.Fingerprint, AnomalyID: 3, Channel: "C0DEV", ThreadTS: "1700000000.000100", Seen: 4,
		Decision: triage.DecisionRecord{Decision: triage.Noise, Conclusion: "retry storm", Ticket: "https://jira.example.com/browse/OPS-123",
			DecidedBy: "U0BOB", DecidedAt: decided},
	}}}
	out := checklist.Run(context.Background(), checklist.RunOptions{Environment: "prod", Checks: list, Runs: s,
		Triage: &observer{j: j}, Memory: h, Now: clock()})
	if want := []string{"observe prod 4", "history prod 3 before 0", "tips", "save prod  "}; !slices.Equal(j.list()[len(j.list())-4:], want) {
		t.Errorf("events %q, want them to end with %q", j.list(), want)
	}
	if len(h.calls) != 1 || !slices.Equal(h.calls[0], []string{api.Fingerprint, "pods/shop/db/crash", web.Fingerprint}) {
		t.Errorf("History asked %q; want once, each fingerprint once, in report order", h.calls)
	}
	want := checks.LastTime{AnomalyID: 3, Decision: "Noise", DecidedBy: "U0BOB", DecidedAt: decided, Conclusion: "retry storm",
		Ticket: "https://jira.example.com/browse/OPS-123", Channel: "C0DEV", ThreadTS: "1700000000.000100", Seen: 4}
	for _, f := range []checks.Finding{out.Report.Results[0].Findings[0], out.Report.Results[1].Findings[1], s.rep.Results[0].Findings[0]} {
		if f.LastTime == nil || *f.LastTime != want {
			t.Errorf("%s's LastTime = %+v, want %+v", f.Fingerprint, f.LastTime, want)
		}
	}
	for _, f := range []checks.Finding{out.Report.Results[0].Findings[1], out.Report.Results[1].Findings[0]} {
		if f.LastTime != nil {
			t.Errorf("%s has LastTime %+v; never decided, it has none", f.Fingerprint, f.LastTime)
		}
	}
	// Tips: the matching ones, the most specific first, none removed.
	tipIDs := func(f checks.Finding) (ids []int64) {
		for _, tip := range f.Tips {
			ids = append(ids, tip.ID)
		}
		return ids
	}
	for f, want := range map[*checks.Finding][]int64{
		&out.Report.Results[0].Findings[0]: {2, 1}, // pods/shop/api/OOMKilled
		&out.Report.Results[0].Findings[1]: {1},    // pods/shop/db/crash
		&out.Report.Results[1].Findings[0]: nil,    // logs/shop/web/panic: its tip was removed
	} {
		if got := tipIDs(*f); !slices.Equal(got, want) {
			t.Errorf("%s's tips = %v, want %v", f.Fingerprint, got, want)
		}
	}
	if tip := out.Report.Results[0].Findings[0].Tips[0]; tip != (checks.Tip{ID: 2, Pattern: "pods/shop/*/OOMKilled", Text: "raise the heap", Author: "U0BOB"}) {
		t.Errorf("tip = %+v", tip)
	}

	// A history that cannot be read leaves the report as it is, saying why.
	h.err = errors.New("database is down")
	out = checklist.Run(context.Background(), checklist.RunOptions{Environment: "prod", Checks: list, Memory: h})
	if out.MemoryErr == nil || out.Report.Results[0].Findings[0].LastTime != nil {
		t.Errorf("history failed: MemoryErr %v, LastTime %+v", out.MemoryErr, out.Report.Results[0].Findings[0].LastTime)
	}
}
