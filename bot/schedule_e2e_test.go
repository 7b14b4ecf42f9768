package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks/alertschannel"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/schedule/clocktest"
	"github.com/opsbot/opsbot/store/postgres"
	"github.com/opsbot/opsbot/triage"
)

var schedLondon = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return l
}()

// The scheduled checklist runs at 09:30 on weekdays, London time; the tests
// start on Tuesday 24 November 2026 at 09:29.
var (
	tue0930 = time.Date(2026, 11, 24, 9, 30, 0, 0, schedLondon)
	wed0930 = time.Date(2026, 11, 25, 9, 30, 0, 0, schedLondon)
)

const alertsChannelID = slacktest.DefaultAlertsChannelID

// scheduled gives the harness a schedule driven by clock; the bot's own
// clock (report times) is clock too.
func scheduled(clock *clocktest.Clock, s triage.Store, mod ...func(*testSchedule)) func(*setup) {
	return func(o *setup) {
		o.Now = clock.Now
		o.Schedule = &testSchedule{Mention: opsGroup, Store: s.(scheduleStore), Clock: clock}
		for _, m := range mod {
			m(o.Schedule)
		}
	}
}

// fire waits until n schedulers wait for the occurrence at, then moves the
// clock there.
func fireAt(t *testing.T, ctx context.Context, clock *clocktest.Clock, at time.Time, n int) {
	t.Helper()
	if err := clock.WaitForWaiter(ctx, at, n); err != nil {
		t.Fatalf("%d schedulers waiting for %s: %v (waiting: %v)", n, at, err, clock.Waiting())
	}
	clock.Set(at)
}

// settle waits until n schedulers wait for the occurrence after the one
// that ran: the run is over, its record written.
func waitNextOccurrence(t *testing.T, ctx context.Context, clock *clocktest.Clock, next time.Time, n int) {
	t.Helper()
	if err := clock.WaitForWaiter(ctx, next, n); err != nil {
		t.Fatalf("%d schedulers waiting for %s: %v (waiting: %v)", n, next, err, clock.Waiting())
	}
}

func TestScheduledChecklist(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	clock := clocktest.New(tue0930.Add(-time.Minute))
	h := newHarness(t, fs, store, scheduled(clock, store))
	gate := make(chan struct{})
	h.setChecks(
		&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "CrashLoopBackOff"))},
		&fakeCheck{name: "alerts", result: result(finding("alerts", "shop", "HighErrorRate")), gate: gate},
	)
	h.start()
	if got := h.sched.Schedule().Next(clock.Now()); !got.Equal(tue0930) {
		t.Errorf("NextScheduledChecklist = %v, want %v", got, tue0930)
	}

	fireAt(t, h.ctx, clock, tue0930, 1)
	intro := h.waitMessage(opsChannel, "Time for the daily checklist")
	goldenPosted(t, "scheduled-intro", intro.Text, intro.Blocks)
	// The running message, then progress in place while alerts runs.
	running := h.waitMessage(opsChannel, "Running the *prod* checklist")
	if running.TS == intro.TS {
		t.Fatal("the running message is the intro")
	}
	if !strings.Contains(running.AllText(), "asked by the schedule") {
		t.Errorf("running message:\n%s", running.AllText())
	}
	if _, err := fs.WaitForMessage(h.ctx, opsChannel, func(m slacktest.Message) bool {
		return m.TS == running.TS && m.Updates > 0 && strings.Contains(m.AllText(), "*alerts* running")
	}); err != nil {
		t.Fatalf("no progress update: %v\n%s", err, dump(fs.Messages(opsChannel)))
	}
	close(gate)
	rep := h.waitMessage(opsChannel, "*Checklist prod*")
	if rep.TS != running.TS {
		t.Errorf("the report is a new message (%s), not the running one updated (%s)", rep.TS, running.TS)
	}
	goldenPosted(t, "scheduled-report", rep.Text, rep.Blocks)
	if got := buttons(t, rep); len(got) != 2 || got[0] != bot.ActionInvestigate {
		t.Errorf("report buttons = %v, want two Investigate", got)
	}
	waitNextOccurrence(t, h.ctx, clock, wed0930, 1)
	if n := len(fs.Messages(opsChannel)); n != 2 {
		t.Errorf("%d messages in #ops, want the intro and the report:\n%s", n, dump(fs.Messages(opsChannel)))
	}

	// The occurrence is claimed, and the run recorded for "since the
	// last checklist".
	st := store.(scheduleStore)
	if ok, err := st.Claim(h.ctx, schedule.ClaimKey("checklist", tue0930)); err != nil || ok {
		t.Errorf("the occurrence was not claimed: %v, %v", ok, err)
	}
	if last, err := checklist.LastScheduledRun(st, "prod")(h.ctx); err != nil || !last.Equal(tue0930) {
		t.Errorf("LastScheduledRun(prod) = %v, %v; want %v", last, err, tue0930)
	}
	if last, err := checklist.LastScheduledRun(st, "dev")(h.ctx); err != nil || !last.IsZero() {
		t.Errorf("LastScheduledRun(dev) = %v, %v; want zero", last, err)
	}

	// Investigate works as from /ops checklist.
	root := h.investigate(alice, rep, 1)
	if !strings.Contains(root.AllText(), "is looking at *HighErrorRate*") {
		t.Errorf("root message:\n%s", root.AllText())
	}
}

// TestScheduledChecklistBuildFails: the intro is followed by an apology;
// the run is not recorded, so the next one reads from the last good one.
func TestScheduledChecklistBuildFails(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	clock := clocktest.New(tue0930.Add(-time.Minute))
	h := newHarness(t, fs, store, scheduled(clock, store, func(s *testSchedule) { s.Mention = alice }),
		func(o *setup) {
			o.Checklist = func(context.Context, string) (bot.Checklist, error) {
				return bot.Checklist{}, fmt.Errorf("no kubeconfig")
			}
		})
	h.start()
	fireAt(t, h.ctx, clock, tue0930, 1)
	intro := h.waitMessage(opsChannel, "Time for the daily checklist")
	if !strings.HasPrefix(intro.Text, "<@"+alice+"> ") {
		t.Errorf("intro = %q, want alice mentioned", intro.Text)
	}
	h.waitMessage(opsChannel, "Something went wrong")
	waitNextOccurrence(t, h.ctx, clock, wed0930, 1)
	if last, err := checklist.LastScheduledRun(store.(scheduleStore), "prod")(h.ctx); err != nil || !last.IsZero() {
		t.Errorf("LastScheduledRun = %v, %v; want zero (the run failed)", last, err)
	}
}

func TestScheduledChecklistOnceAcrossReplicasSQLite(t *testing.T) {
	testOnceAcrossReplicas(t, onSQLite)
}

func TestScheduledChecklistOnceAcrossReplicasPostgres(t *testing.T) {
	testOnceAcrossReplicas(t, onPostgres)
}

// testOnceAcrossReplicas: two bots (replicas) share one store, both
// believe they are the leader, both fire at 09:30: one run is posted.
func testOnceAcrossReplicas(t *testing.T, kind storeKind) {
	fs := newFake(t)
	s1, s2 := sharedStores(t, kind)
	clock := clocktest.New(tue0930.Add(-time.Minute))
	gate := make(chan struct{}) // the run's check reports when the test says
	var hs []*harness
	for _, s := range []triage.Store{s1, s2} {
		h := newHarness(t, fs, s, scheduled(clock, s, func(s *testSchedule) { s.Elector = schedule.AlwaysLeader{} }))
		h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "CrashLoopBackOff")), gate: gate})
		h.start()
		hs = append(hs, h)
	}
	ctx := hs[0].ctx
	if err := fs.WaitForConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	fireAt(t, ctx, clock, tue0930, 2)
	// One replica runs it; the other found it held and watches it.
	if err := clock.WaitForWaiter(ctx, tue0930.Add(2*time.Second), 1); err != nil {
		t.Fatalf("no replica watches the held occurrence: %v (waiting: %v)", err, clock.Waiting())
	}
	close(gate)
	hs[0].waitMessage(opsChannel, "*Checklist prod*")
	// The runner waits for Wednesday; the watcher sees the occurrence
	// done at its next look.
	waitNextOccurrence(t, ctx, clock, wed0930, 1)
	clock.Advance(2 * time.Second)
	waitNextOccurrence(t, ctx, clock, wed0930, 2)
	ms := fs.Messages(opsChannel)
	intros, reports := 0, 0
	for _, m := range ms {
		if strings.Contains(m.AllText(), "Time for the daily checklist") {
			intros++
		}
		if strings.Contains(m.AllText(), "*Checklist prod*") {
			reports++
		}
	}
	if intros != 1 || reports != 1 || len(ms) != 2 {
		t.Errorf("%d intros, %d reports, %d messages; want one run:\n%s", intros, reports, len(ms), dump(ms))
	}
	if n := len(fs.Calls("chat.postMessage")); n != 2 {
		t.Errorf("%d chat.postMessage calls, want 2", n)
	}
}

// sharedStores opens one database twice, as two replicas do.
func sharedStores(t *testing.T, kind storeKind) (triage.Store, triage.Store) {
	t.Helper()
	if kind == onSQLite {
		path := t.TempDir() + "/opsbot.db"
		return openStore(t, onSQLite, path), openStore(t, onSQLite, path)
	}
	if pg == nil {
		t.Skip("no PostgreSQL (-short)")
	}
	ctx := context.Background()
	dsn, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out [2]triage.Store
	for i := range out {
		db, err := postgres.Open(ctx, dsn, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		out[i] = db
	}
	return out[0], out[1]
}

// TestScheduledChecklistAlertsChannelSinceLastRun: the alertschannel check
// reads the channel's window on the first run, and from the first run on
// the second.
func TestScheduledChecklistAlertsChannelSinceLastRun(t *testing.T) {
	fs := newFake(t, func(o *slacktest.Options) {
		o.Channels = append(o.Channels, slacktest.Channel{ID: alertsChannelID, Name: "alerts",
			Members: []string{alice, slacktest.DefaultBotUserID}})
	})
	store := openStore(t, onSQLite, "")
	clock := clocktest.New(tue0930.Add(-time.Minute))
	last := checklist.LastScheduledRun(store.(scheduleStore), "prod")
	chk, err := alertschannel.New(fs.NewClient(), alertschannel.Config{Channel: alertsChannelID},
		alertschannel.Options{Since: last, Now: clock.Now, Location: schedLondon, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, fs, store, scheduled(clock, store))
	h.setChecks(chk)

	seed := func(at time.Time, title string) {
		t.Helper()
		b, _ := json.Marshal([]map[string]any{{"color": "danger", "title": title, "fallback": title,
			"title_link": "http://am.monitoring:9093/#/alerts?receiver=slack"}})
		m := slacktest.Message{Subtype: "bot_message", BotID: "B0AM00001", Username: "AlertManager", Attachments: b,
			TS: strconv.FormatInt(at.Unix(), 10) + ".000100"}
		if _, err := fs.Seed(alertsChannelID, m); err != nil {
			t.Fatal(err)
		}
	}
	// Monday 08:00, before the 24 hours the first run reads.
	seed(time.Date(2026, 11, 23, 8, 0, 0, 0, schedLondon), "[FIRING:1] OldAlert (warning)")
	// Overnight.
	seed(time.Date(2026, 11, 23, 22, 0, 0, 0, schedLondon), "[FIRING:1] NightAlert (warning)")
	h.start()

	fireAt(t, h.ctx, clock, tue0930, 1)
	rep := h.waitMessage(opsChannel, "*Checklist prod*")
	waitNextOccurrence(t, h.ctx, clock, wed0930, 1)
	if txt := rep.AllText(); !strings.Contains(txt, "NightAlert") || strings.Contains(txt, "OldAlert") {
		t.Errorf("first report: want NightAlert only:\n%s", txt)
	}

	// After the first run.
	seed(time.Date(2026, 11, 24, 10, 0, 0, 0, schedLondon), "[FIRING:1] LateAlert (warning)")
	fireAt(t, h.ctx, clock, wed0930, 1)
	if err := fs.WaitFor(h.ctx, func() bool {
		n := 0
		for _, m := range fs.Messages(opsChannel) {
			if strings.Contains(m.AllText(), "*Checklist prod*") {
				n++
				rep = m
			}
		}
		return n == 2
	}); err != nil {
		t.Fatalf("no second report: %v\n%s", err, dump(fs.Messages(opsChannel)))
	}
	waitNextOccurrence(t, h.ctx, clock, time.Date(2026, 11, 26, 9, 30, 0, 0, schedLondon), 1)
	if txt := rep.AllText(); !strings.Contains(txt, "LateAlert") || strings.Contains(txt, "NightAlert") {
		t.Errorf("second report: want LateAlert only:\n%s", txt)
	}

	calls := fs.Calls("conversations.history")
	if len(calls) != 2 {
		t.Fatalf("%d conversations.history calls, want 2", len(calls))
	}
	for i, want := range []struct{ oldest, latest time.Time }{
		{tue0930.Add(-24 * time.Hour), tue0930},
		{tue0930, wed0930},
	} {
		args := calls[i].Args
		if args.Get("channel") != alertsChannelID || args.Get("oldest") != historyTS(want.oldest) || args.Get("latest") != historyTS(want.latest) {
			t.Errorf("run %d read %v, want %s from %s to %s", i+1, args, alertsChannelID, want.oldest, want.latest)
		}
	}
}

// historyTS is a time as Slack's "1700000000.000000".
func historyTS(t time.Time) string { return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000) }

// follower is an Elector that never leads; it records that the bot ran it.
type follower struct{ ran, stopped chan struct{} }

func (f *follower) IsLeader() bool { return false }
func (f *follower) Run(ctx context.Context) error {
	close(f.ran)
	<-ctx.Done()
	close(f.stopped)
	return nil
}

// TestScheduledChecklistNotLeader: a replica that is not the leader runs
// its elector but posts nothing, and leaves the occurrence unclaimed.
func TestScheduledChecklistNotLeader(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	clock := clocktest.New(tue0930.Add(-time.Minute))
	f := &follower{ran: make(chan struct{}), stopped: make(chan struct{})}
	h := newHarness(t, fs, store, scheduled(clock, store, func(s *testSchedule) {
		s.Elector = f
		off := model.Duration(0)
		s.Config.CatchUp = &off
	}))
	h.setChecks(&fakeCheck{name: "pods", result: result()})
	h.start()
	<-f.ran
	fireAt(t, h.ctx, clock, tue0930, 1)
	waitNextOccurrence(t, h.ctx, clock, wed0930, 1)
	if n := len(fs.Messages(opsChannel)); n != 0 {
		t.Errorf("a follower posted %d messages:\n%s", n, dump(fs.Messages(opsChannel)))
	}
	if ok, err := store.(scheduleStore).Claim(h.ctx, schedule.ClaimKey("checklist", tue0930)); err != nil || !ok {
		t.Errorf("a follower claimed the occurrence: %v, %v", ok, err)
	}
	if err := h.stop(); err != nil {
		t.Errorf("Run = %v", err)
	}
	select {
	case <-f.stopped:
	default:
		t.Error("the elector was not stopped with the bot")
	}
}
