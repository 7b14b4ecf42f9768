package bot_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/postgres"
	"github.com/opsbot/opsbot/store/sqlite"
	"github.com/opsbot/opsbot/triage"
)

// runFindings are the findings of the run tests' checklist: two checks,
// so that a finding's index counts across checks.
func runFindings() (pods, alerts []checks.Finding) {
	oom := finding("pods", "Deployment shop/worker", "OOMKilled")
	oom.Severity, oom.Count = checks.Warn, 4
	return []checks.Finding{finding("pods", "Deployment shop/api", "CrashLoopBackOff"), oom},
		[]checks.Finding{finding("alerts", "shop", "HighErrorRate")}
}

// clickFinding clicks Investigate on finding i of rep and waits for the
// answer (it comes once the thread is posted and recorded) and the thread
// of title.
func clickFinding(h *harness, rep slacktest.Message, i int, title string) (*slacktest.Envelope, slacktest.Message) {
	h.t.Helper()
	told := len(h.fs.Ephemerals(alice))
	env := h.click(alice, opsChannel, rep.TS, bot.ActionInvestigate, fmt.Sprintf("finding/%d", i))
	if err := h.fs.WaitFor(h.ctx, func() bool { return len(h.fs.Ephemerals(alice)) > told }); err != nil {
		h.t.Fatalf("Investigate %d: no answer: %v", i, err)
	}
	if e := h.fs.Ephemerals(alice)[told]; !strings.Contains(e.Text, "Opened anomaly #") {
		h.t.Fatalf("Investigate %d: told %q", i, e.Text)
	}
	return env, h.waitMessage(devChannel, "is looking at *"+title+"*")
}

func setRunChecks(h *harness) {
	pods, alerts := runFindings()
	h.setChecks(&fakeCheck{name: "pods", result: result(pods...)}, &fakeCheck{name: "alerts", result: result(alerts...)})
}

// wantAnomalyOf checks that the open anomaly of f in prod came from it and
// has the thread root.
func wantAnomalyOf(t *testing.T, s triage.Store, f checks.Finding, root slacktest.Message) {
	t.Helper()
	a, err := s.FindOpen(context.Background(), "prod", f.Fingerprint)
	if err != nil {
		t.Fatalf("no open anomaly for %s: %v", f.Fingerprint, err)
	}
	if a.Title != f.Title || a.Detail != f.Detail || a.Link != f.Link || a.Source != triage.SourceChecklist ||
		a.Channel != devChannel || a.ThreadTS != root.TS {
		t.Errorf("anomaly of %s = %+v", f.Fingerprint, a)
	}
	if !strings.Contains(root.AllText(), "is looking at *"+f.Title+"*") {
		t.Errorf("root message of %s:\n%s", f.Title, root.AllText())
	}
}

// An Investigate button of a report posted before a restart opens the
// right finding's thread: the findings are in the store, not in memory.
func TestInvestigateAfterRestart(t *testing.T) {
	fs := newFake(t)
	path := filepath.Join(t.TempDir(), "opsbot.db")
	store1 := openStore(t, onSQLite, path)
	h1 := newHarness(t, fs, store1)
	setRunChecks(h1)
	h1.start()
	rep := h1.report(alice)
	if got := buttons(t, rep); len(got) != 3 {
		t.Fatalf("report buttons = %v, want three Investigate", got)
	}
	if err := h1.stop(); err != nil {
		t.Fatal(err)
	}
	if err := store1.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}

	// The new process has no checks of its own: what it opens comes from
	// the store.
	store2 := openStore(t, onSQLite, path)
	h2 := newHarness(t, fs, store2)
	h2.start()
	pods, alerts := runFindings()
	root := h2.investigate(alice, rep, 2) // the alerts check's first finding
	wantAnomalyOf(t, store2, alerts[0], root)
	h2.waitEphemeral(alice, "Opened anomaly #1")

	before := len(fs.Messages(devChannel))
	_, root = clickFinding(h2, rep, 1, "OOMKilled")
	wantAnomalyOf(t, store2, pods[1], root)
	if n := len(fs.Messages(devChannel)); n != before+1 {
		t.Errorf("%d threads in #dev, want %d", n, before+1)
	}
}

// A report whose run the store does not have (another database, or older
// than the retention) answers with a clear ephemeral, and opens nothing.
func TestInvestigateUnknownOrExpiredRun(t *testing.T) {
	fs := newFake(t)
	path := filepath.Join(t.TempDir(), "opsbot.db")
	store1 := openStore(t, onSQLite, path)
	h1 := newHarness(t, fs, store1)
	setRunChecks(h1)
	h1.start()
	rep := h1.report(alice)
	if err := h1.stop(); err != nil {
		t.Fatal(err)
	}
	if err := store1.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name  string
		store func(t *testing.T) triage.Store
	}{
		{"another database", func(t *testing.T) triage.Store { return openStore(t, onSQLite, "") }},
		{"31 days later", func(t *testing.T) triage.Store {
			later := time.Now().Add(31 * 24 * time.Hour)
			db, err := sqlite.Open(context.Background(), path, zap.NewNop(), store.WithClock(func() time.Time { return later }))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, fs, c.store(t))
			h.start()
			defer h.stop()
			told := len(fs.Ephemerals(alice))
			h.click(alice, opsChannel, rep.TS, bot.ActionInvestigate, "finding/0")
			if err := fs.WaitFor(h.ctx, func() bool { return len(fs.Ephemerals(alice)) > told }); err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if e := fs.Ephemerals(alice)[told]; !strings.Contains(e.Text, "older than 30 days") ||
				!strings.Contains(e.Text, "run `/ops checklist` again") {
				t.Errorf("told %q", e.Text)
			}
			if n := len(fs.Messages(devChannel)); n != 0 {
				t.Errorf("%d threads opened for an unknown run", n)
			}
		})
	}
}

// Two replicas share one PostgreSQL; Slack hands each envelope to either
// connection. Investigate clicks handled by the replica that did not run
// the checklist open the right threads.
func TestInvestigateOnAnotherReplicaPostgres(t *testing.T) {
	if pg == nil {
		t.Skip("no PostgreSQL (-short)")
	}
	ctx := context.Background()
	dsn, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	openPG := func() triage.Store {
		db, err := postgres.Open(ctx, dsn, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	fs := newFake(t)
	ha, hb := newHarness(t, fs, openPG()), newHarness(t, fs, openPG())
	setRunChecks(ha)
	setRunChecks(hb)
	ha.start()
	hb.start()
	if err := fs.WaitForConnections(ha.ctx, 2); err != nil {
		t.Fatal(err)
	}

	ranOn := ha.slash(alice, "checklist").ConnectionID
	rep := ha.waitMessage(opsChannel, "*Checklist prod*")

	// Click the findings in turn until one lands on the other replica
	// (every click must open its own finding's thread, wherever it lands).
	pods, alerts := runFindings()
	all := append(pods, alerts...)
	elsewhere := 0
	for i, f := range all {
		before := len(fs.Messages(devChannel))
		env, root := clickFinding(ha, rep, i, f.Title)
		wantAnomalyOf(t, ha.store, f, root)
		if n := len(fs.Messages(devChannel)); n != before+1 {
			t.Errorf("click %d: %d threads, want %d", i, n, before+1)
		}
		if env.ConnectionID != ranOn {
			elsewhere++
		}
	}
	if elsewhere == 0 {
		t.Fatalf("every click landed on connection %d, which ran the checklist", ranOn)
	}
	for _, e := range fs.Ephemerals(alice) {
		if strings.Contains(e.Text, "older than") || strings.Contains(e.Text, "went wrong") {
			t.Errorf("told %q", e.Text)
		}
	}
}

// runsDown is a RunStore that cannot save.
type runsDown struct{ checklist.RunStore }

func (runsDown) SaveRun(context.Context, checks.Report, string, string) (int64, error) {
	return 0, errors.New("database is locked")
}

// A run that cannot be stored still gets its report, without buttons that
// would lead nowhere, and says why.
func TestReportWithoutStoredRunHasNoButtons(t *testing.T) {
	fs := newFake(t)
	st := openStore(t, onSQLite, "")
	h := newHarness(t, fs, st, func(o *setup) { o.Runs = runsDown{st.(checklist.RunStore)} })
	setRunChecks(h)
	h.start()
	rep := h.report(alice)
	if got := buttons(t, rep); len(got) != 0 {
		t.Errorf("report buttons = %v, want none", got)
	}
	for _, want := range []string{"CrashLoopBackOff", "HighErrorRate", "could not store this report"} {
		if !strings.Contains(rep.AllText(), want) {
			t.Errorf("report lacks %q:\n%s", want, rep.AllText())
		}
	}
	h.waitEphemeral(alice, "Something went wrong")
}
