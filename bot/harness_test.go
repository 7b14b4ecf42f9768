package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/history"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/internal/run"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/store/postgres"
	"github.com/opsbot/opsbot/store/postgres/pgtest"
	"github.com/opsbot/opsbot/store/sqlite"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// waitTimeout bounds every wait; nothing waits for it unless a test fails.
const waitTimeout = 30 * time.Second

// The workspace of the tests.
const (
	opsChannel = slacktest.DefaultOpsChannelID
	devChannel = "C0000DEV1"
	alice      = slacktest.DefaultAliceID // a decider (by user id)
	bob        = slacktest.DefaultBobID   // not a decider
	carol      = "U00000C01"              // a decider through the deciders group
	decidersG  = "S0DECIDE1"
	opsGroup   = "S00000OPS"
)

var verbose = flag.Bool("bot.verbose", false, "log the bot and the fake Slack")

// pg is the throwaway PostgreSQL of the store-backed tests; nil with -short
// when PostgreSQL is not installed.
var pg *pgtest.Server

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// Fuzzing (go test -fuzz) runs the fuzz targets alone, in worker
	// processes of their own: no PostgreSQL for them.
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return m.Run()
		}
	}
	var err error
	pg, err = pgtest.Start(context.Background(), pgtest.Options{})
	switch {
	case errors.Is(err, pgtest.ErrNotInstalled) && testing.Short():
		fmt.Fprintf(os.Stderr, "bot: skipping the PostgreSQL tests (-short): %v\n", err)
	case err != nil:
		fmt.Fprintf(os.Stderr, "bot: these tests need a real PostgreSQL: %v\n", err)
		return 1
	default:
		defer pg.Stop()
	}
	return m.Run()
}

// fakeCheck reports a fixed result, after gate is closed when it is set.
type fakeCheck struct {
	name   string
	result checks.Result
	gate   chan struct{}
}

func (c *fakeCheck) Name() string { return c.name }

func (c *fakeCheck) Run(ctx context.Context) checks.Result {
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return checks.UnknownResult("cancelled")
		}
	}
	return c.result
}

func finding(check, object, title string) checks.Finding {
	return checks.Finding{
		Fingerprint: checks.Fingerprint(check, object, title), Severity: checks.Fail, Object: object,
		Title: title, Detail: "sample log line for " + object, Link: "https://grafana.example.com/d/x?a=1&b=2",
	}
}

func result(fs ...checks.Finding) checks.Result {
	return checks.Result{Status: checks.Summarize(fs), Summary: fmt.Sprintf("%d findings", len(fs)), Findings: fs}
}

// harness is a fake Slack, a store and the bot.
type harness struct {
	t     testing.TB
	ctx   context.Context
	fs    *slacktest.Server
	store triage.Store
	opts  setup
	log   *zap.Logger

	mu     sync.Mutex
	checks []checks.Check

	bot    *bot.Bot
	sched  *schedule.Scheduler // with opts.Schedule
	hsched *schedule.Scheduler // with opts.HandoverSchedule
	// noiseSched posts the noise report, with opts.NoiseWeekly.
	noiseSched *schedule.Scheduler
	cancel     context.CancelFunc
	done       chan error
}

// setup is what a test configures; the harness assembles the bot from it
// as cmd/opsbot does (assemble).
type setup struct {
	bot.Options
	// Slack is the Slack client's; the tokens and URL are the fake's.
	Slack bot.SlackOptions
	// Incident, if set, sets up the incident procedure.
	Incident *testIncidents
	// Schedule, if set, runs the checklist on a schedule.
	Schedule *testSchedule
	// BeforeRun, if set, is given the bot between New and Run (for the
	// hooks of export_test.go).
	BeforeRun func(*bot.Bot)
	// Silencers are the triage service's, by environment.
	Silencers map[string]triage.Silencer
	// HandoverSchedule, if set with Options.Handover, posts the handover
	// on a schedule (Store and Clock are the scheduler's).
	HandoverSchedule *testSchedule
	// NoiseWeekly, if set, posts the noise report on a schedule.
	NoiseWeekly *testNoiseWeekly
}

// testNoiseWeekly is the weekly noise post: bot.NoiseWeekly's settings,
// and its scheduler's (every replica a leader: the store's claims keep one
// post per occurrence).
type testNoiseWeekly struct {
	bot.NoiseWeekly
	Config schedule.Config
	Store  schedule.Claimer
	Clock  schedule.Clock
}

// testIncidents are the incident procedure's parts.
type testIncidents struct {
	Store       incident.Store
	StatusPages map[string]incident.StatusPageClient
}

// scheduleStore keeps the schedule's claims and runs (store.DB).
type scheduleStore interface {
	schedule.Claimer
	checklist.RunLog
}

// testSchedule is the scheduled checklist: bot.Scheduled's settings, and
// the scheduler's.
type testSchedule struct {
	Config                        schedule.Config
	Environment, Channel, Mention string
	Store                         scheduleStore
	Elector                       schedule.Elector // default AlwaysLeader
	Clock                         schedule.Clock
}

// assemble builds the bot from h.opts as cmd/opsbot does: the Slack
// client, the incident desk, the anomalies' threads and the triage
// service, the bot and, with a schedule, its scheduler (h.sched).
func (h *harness) assemble() *bot.Bot {
	h.t.Helper()
	o := h.opts
	sl, err := bot.NewSlack(o.Slack)
	if err != nil {
		h.t.Fatal(err)
	}
	if o.Location == nil {
		if o.Location, err = time.LoadLocation(bot.DefaultTimezone); err != nil {
			h.t.Fatal(err)
		}
	}
	if o.Templates == nil {
		if o.Templates, err = templates.New(""); err != nil {
			h.t.Fatal(err)
		}
	}
	if o.Incident != nil {
		if o.Incidents, err = incident.NewDesk(incident.Options{
			Store: o.Incident.Store, Slack: bot.NewAnnouncer(sl), Templates: o.Templates,
			Escape: bot.Escape, Mention: sl.KnownName, Location: o.Location, Now: o.Now, Logger: h.log,
		}, o.Incident.StatusPages); err != nil {
			h.t.Fatal(err)
		}
	}
	threads, err := bot.NewThreads(sl, bot.ThreadsOptions{DevChannel: o.DevChannel, OpsGroup: opsGroup,
		Templates: o.Templates, AnnounceButton: o.Incidents != nil, Logger: h.log})
	if err != nil {
		h.t.Fatal(err)
	}
	claims, _ := h.store.(schedule.Claimer)
	if o.Triage, err = triage.NewService(triage.ServiceOptions{Store: h.store, Threads: threads,
		Silencers: o.Silencers, SilenceClaims: claims, Now: o.Now, Logger: h.log}); err != nil {
		h.t.Fatal(err)
	}
	o.Options.Slack = sl
	if o.Runs == nil {
		o.Runs = h.store.(checklist.RunStore)
	}
	if hs, ok := h.store.(history.Store); ok && o.History == nil {
		o.History = hs
	}
	// The refusals and the commands' claims go to the store; a test that
	// wraps the store for triage gives the real one as Runs.
	for _, s := range []any{h.store, o.Runs} {
		if l, ok := s.(bot.RefusalLog); ok && o.Refusals == nil {
			o.Refusals = l
		}
		if l, ok := s.(bot.CommandLog); ok && o.Commands == nil {
			o.Commands = l
		}
	}
	var handCfg schedule.Config
	if hs := o.HandoverSchedule; hs != nil && o.Handover != nil {
		handCfg = hs.Config
		handCfg.SetDefaults()
		if o.Handover.Schedule, err = handCfg.Parsed(); err != nil {
			h.t.Fatal(err)
		}
	}
	b, err := bot.New(o.Options)
	if err != nil {
		h.t.Fatal(err)
	}
	if hs := o.HandoverSchedule; hs != nil && o.Handover != nil {
		job, err := b.ScheduledHandover()
		if err != nil {
			h.t.Fatal(err)
		}
		if h.hsched, err = schedule.New(handCfg, job, schedule.Options{Name: "handover",
			Elector: schedule.AlwaysLeader{}, Claimer: hs.Store, Clock: hs.Clock, Logger: h.log}); err != nil {
			h.t.Fatal(err)
		}
	}
	if s := o.Schedule; s != nil {
		c := s.Config
		c.SetDefaults()
		loc, err := c.Location()
		if err != nil {
			h.t.Fatal(err)
		}
		job, err := b.ScheduledChecklist(bot.Scheduled{Environment: s.Environment, Channel: s.Channel,
			Mention: s.Mention, Location: loc, Runs: s.Store})
		if err != nil {
			h.t.Fatal(err)
		}
		if s.Elector == nil {
			s.Elector = schedule.AlwaysLeader{}
		}
		if h.sched, err = schedule.New(s.Config, job, schedule.Options{Name: schedule.DefaultName,
			Elector: s.Elector, Claimer: s.Store, Clock: s.Clock, Logger: h.log}); err != nil {
			h.t.Fatal(err)
		}
	}
	if w := o.NoiseWeekly; w != nil {
		job, err := b.NoiseWeeklyJob(w.NoiseWeekly)
		if err != nil {
			h.t.Fatal(err)
		}
		if h.noiseSched, err = schedule.New(w.Config, job, schedule.Options{Name: "noise-weekly",
			Claimer: w.Store, Clock: w.Clock, Logger: h.log}); err != nil {
			h.t.Fatal(err)
		}
	}
	return b
}

type storeKind string

const (
	onSQLite   storeKind = "sqlite"
	onPostgres storeKind = "postgres"
)

// newFake is the workspace: alice and bob, carol in the deciders group,
// #ops and #dev.
func newFake(t testing.TB, mod ...func(*slacktest.Options)) *slacktest.Server {
	members := []string{alice, bob, carol, slacktest.DefaultBotUserID}
	o := slacktest.Options{
		Users: []slacktest.User{
			{ID: alice, Name: "alice", RealName: "Alice Ops"},
			{ID: bob, Name: "bob", RealName: "Bob Oncall"},
			{ID: carol, Name: "carol", RealName: "Carol Lead"},
		},
		UserGroups: []slacktest.UserGroup{
			{ID: decidersG, Handle: "deciders", Name: "Deciders", Users: []string{carol}},
			{ID: opsGroup, Handle: "ops", Name: "Ops", Users: []string{alice, carol}},
		},
		Channels: []slacktest.Channel{
			{ID: opsChannel, Name: "ops", Members: members},
			{ID: devChannel, Name: "dev", Members: append([]string(nil), members...)},
		},
		RateLimits: slacktest.SlackRateLimits(),
	}
	// chat.postMessage's per-channel limit is strict in the fake; the
	// tests post bursts in one thread.
	delete(o.RateLimits, "chat.postMessage")
	if *verbose {
		o.Logf = t.Logf
	}
	for _, m := range mod {
		m(&o)
	}
	fs := slacktest.New(o)
	t.Cleanup(fs.Close)
	return fs
}

func openStore(t testing.TB, kind storeKind, path string) triage.Store {
	t.Helper()
	ctx := context.Background()
	switch kind {
	case onPostgres:
		if pg == nil {
			t.Skip("no PostgreSQL (-short)")
		}
		dsn, err := pg.CreateDatabase(ctx)
		if err != nil {
			t.Fatal(err)
		}
		db, err := postgres.Open(ctx, dsn, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	default:
		if path == "" {
			path = filepath.Join(t.TempDir(), "opsbot.db")
		}
		db, err := sqlite.Open(ctx, path, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

func newHarness(t testing.TB, fs *slacktest.Server, store triage.Store, mod ...func(*setup)) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	log := zap.NewNop()
	if *verbose {
		log = zaptest.NewLogger(t)
	}
	h := &harness{t: t, ctx: ctx, fs: fs, store: store, log: log}
	fo := fs.Options()
	h.opts.Slack = bot.SlackOptions{AppToken: fo.AppToken, BotToken: fo.BotToken, APIURL: fs.APIURL(),
		UpdateInterval: time.Millisecond, PostInterval: time.Millisecond, RetryBackoff: time.Millisecond, Logger: log}
	h.opts.Options = bot.Options{
		DevChannel: devChannel, OpsChannel: opsChannel,
		Deciders:     bot.Deciders{Users: []string{alice}, Groups: []string{decidersG}},
		Environments: []string{"prod", "dev"}, DefaultEnvironment: "prod",
		Checklist: func(context.Context, string) (bot.Checklist, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			return bot.Checklist{Checks: append([]checks.Check(nil), h.checks...), Timeout: 20 * time.Second}, nil
		},
		Logger: log,
	}
	for _, m := range mod {
		m(&h.opts)
	}
	return h
}

func (h *harness) setChecks(cs ...checks.Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks = cs
}

// start runs the bot (and its scheduler) as cmd/opsbot does, and waits
// until it is connected.
func (h *harness) start() {
	h.t.Helper()
	b := h.assemble()
	if h.opts.BeforeRun != nil {
		h.opts.BeforeRun(b)
	}
	var g run.Group
	g.Add("slack", b.Run)
	if h.sched != nil {
		g.Add("scheduler", h.sched.Start)
		g.Add("leader-election", h.opts.Schedule.Elector.Run)
	}
	if h.hsched != nil {
		g.Add("handover-scheduler", h.hsched.Start)
	}
	if h.noiseSched != nil {
		g.Add("noise-weekly", h.noiseSched.Start)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.bot, h.cancel, h.done = b, cancel, make(chan error, 1)
	go func() { h.done <- g.Run(ctx, h.log) }()
	h.t.Cleanup(func() { h.stop() })
	h.waitConnected()
}

func (h *harness) waitConnected() {
	h.t.Helper()
	if err := h.fs.WaitFor(h.ctx, func() bool { return h.fs.Connections() > 0 }); err != nil {
		h.t.Fatal(err)
	}
	if err := h.bot.WaitConnected(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

// stop cancels the bot and returns what Run returned.
func (h *harness) stop() error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		return err
	case <-time.After(waitTimeout):
		h.t.Error("the bot did not stop")
		return nil
	}
}

// wait returns Run's result without cancelling it.
func (h *harness) wait() error {
	h.t.Helper()
	select {
	case err := <-h.done:
		h.cancel = nil
		return err
	case <-time.After(waitTimeout):
		h.t.Fatal("the bot did not stop by itself")
		return nil
	}
}

func (h *harness) slash(user, txt string, opts ...slacktest.PayloadOption) *slacktest.Envelope {
	h.t.Helper()
	env, err := h.fs.SendSlashCommand(h.ctx, slacktest.SlashCommand{Command: "/ops", Text: txt, UserID: user, ChannelID: opsChannel}, opts...)
	if err != nil {
		h.t.Fatalf("/ops %s: %v", txt, err)
	}
	return env
}

func (h *harness) click(user, channel, ts, actionID, blockID string, opts ...slacktest.PayloadOption) *slacktest.Envelope {
	h.t.Helper()
	env, err := h.fs.ClickButton(h.ctx, slacktest.ButtonClick{Channel: channel, MessageTS: ts, ActionID: actionID, BlockID: blockID, UserID: user}, opts...)
	if err != nil {
		h.t.Fatalf("click %s: %v", actionID, err)
	}
	return env
}

// waitMessage waits for a message (thread replies included) whose text
// contains want.
func (h *harness) waitMessage(channel, want string) slacktest.Message {
	h.t.Helper()
	m, err := h.fs.WaitForMessage(h.ctx, channel, func(m slacktest.Message) bool { return strings.Contains(m.AllText(), want) })
	if err != nil {
		h.t.Fatalf("no message in %s containing %q: %v\nmessages: %s", channel, want, err, dump(h.fs.Messages(channel)))
	}
	return m
}

// waitEphemeral waits for an ephemeral message to user containing want.
func (h *harness) waitEphemeral(user, want string) slacktest.Ephemeral {
	h.t.Helper()
	var found slacktest.Ephemeral
	err := h.fs.WaitFor(h.ctx, func() bool {
		for _, e := range h.fs.Ephemerals(user) {
			if strings.Contains(e.Text+string(e.Blocks), want) {
				found = e
				return true
			}
		}
		return false
	})
	if err != nil {
		h.t.Fatalf("no ephemeral to %s containing %q: %v\nephemerals: %+v", user, want, err, h.fs.Ephemerals(user))
	}
	return found
}

// report runs `/ops checklist` as user and returns the final report.
func (h *harness) report(user string) slacktest.Message {
	h.t.Helper()
	before := len(h.fs.Messages(opsChannel))
	h.slash(user, "checklist")
	var rep slacktest.Message
	err := h.fs.WaitFor(h.ctx, func() bool {
		ms := h.fs.Messages(opsChannel)
		if len(ms) <= before {
			return false
		}
		rep = ms[len(ms)-1]
		return strings.Contains(rep.AllText(), "*Checklist prod*")
	})
	if err != nil {
		h.t.Fatalf("no report: %v\n%s", err, dump(h.fs.Messages(opsChannel)))
	}
	return rep
}

// investigate clicks Investigate on finding i of a report and returns the
// anomaly's root message.
func (h *harness) investigate(user string, rep slacktest.Message, i int) slacktest.Message {
	h.t.Helper()
	told := len(h.fs.Ephemerals(user))
	h.click(user, opsChannel, rep.TS, bot.ActionInvestigate, fmt.Sprintf("finding/%d", i))
	// The ephemeral comes once the thread is posted and recorded.
	if err := h.fs.WaitFor(h.ctx, func() bool { return len(h.fs.Ephemerals(user)) > told }); err != nil {
		h.t.Fatalf("investigate: no answer: %v", err)
	}
	if e := h.fs.Ephemerals(user)[told]; !strings.Contains(e.Text, "anomaly #") && !strings.Contains(e.Text, "Anomaly #") {
		h.t.Fatalf("investigate: told %q", e.Text)
	}
	return h.waitMessage(devChannel, "is looking at")
}

// decide clicks decision d on the root message, then submits the modal
// with values, and returns the submission's envelope.
func (h *harness) decide(user string, root slacktest.Message, d triage.Decision, values slacktest.ViewValues) *slacktest.Envelope {
	h.t.Helper()
	viewID := h.openModal(user, root, d)
	env, err := h.fs.SubmitView(h.ctx, viewID, values)
	if err != nil {
		h.t.Fatalf("submit: %v", err)
	}
	return env
}

func (h *harness) openModal(user string, root slacktest.Message, d triage.Decision) string {
	h.t.Helper()
	before := map[string]bool{}
	for _, v := range h.fs.Views() {
		before[v.ID] = true
	}
	h.click(user, devChannel, root.TS, bot.DecideActionID(d), "")
	var id string
	if err := h.fs.WaitFor(h.ctx, func() bool {
		// The modal opens with the button's facts, then gets the anomaly's
		// title (views.update): a submission before that update would have
		// its error ack cleared by it, as in Slack, so wait for both.
		for _, v := range h.fs.OpenViews(user) {
			if !before[v.ID] && v.Updates > 0 {
				id = v.ID
				return true
			}
		}
		return false
	}); err != nil {
		h.t.Fatalf("no modal opened: %v", err)
	}
	return id
}

func values(kv ...string) slacktest.ViewValues {
	v := slacktest.ViewValues{}
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = map[string]slacktest.InputValue{kv[i]: {Value: kv[i+1]}}
	}
	return v
}

// goldenPosted compares a message as the fake Slack stored it (a
// Message's or an Ephemeral's text and blocks) with
// testdata/e2e-<name>.golden (slacktest.Golden; `go test ./bot -update`
// rewrites the files). Only what the fake makes up differently on every
// run is replaced (postedReplacer), nothing else; clocks that show in
// messages are pinned by the tests (Options.Now).
func goldenPosted(t *testing.T, name, text string, blocks json.RawMessage) {
	t.Helper()
	got := slacktest.ReplaceRandomBlockIDs(slacktest.MessageJSON(t, text, blocks))
	got = postedReplacer.replace(got)
	slacktest.Golden(t, filepath.Join("testdata", "e2e-"+name+".golden"), got)
}

// postedReplacer replaces the message timestamps the fake takes from the
// real clock where they show: in permalinks (".../archives/C0000DEV1/
// p1764000000000100" and a reply's "?thread_ts=1764000000.000100") they
// become "p(ts)" and "thread_ts=(ts)". (Block ids the fake generated are
// replaced by slacktest.ReplaceRandomBlockIDs.)
var postedReplacer = regexpReplacer{
	{regexp.MustCompile(`(https://` + regexp.QuoteMeta(slacktest.DefaultTeamDomain) + `\.slack\.com/archives/[A-Z0-9]+/p)[0-9]{16}`), "${1}(ts)"},
	{regexp.MustCompile(`thread_ts=[0-9]+\.[0-9]{6}`), "thread_ts=(ts)"},
}

type regexpReplacer []struct {
	re   *regexp.Regexp
	with string
}

func (r regexpReplacer) replace(b []byte) []byte {
	for _, x := range r {
		b = x.re.ReplaceAll(b, []byte(x.with))
	}
	return b
}

func dump(ms []slacktest.Message) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "--- %s (thread %s, %d updates)\n%s\n", m.TS, m.ThreadTS, m.Updates, m.AllText())
	}
	return b.String()
}

// buttons lists the action_ids of a message's buttons.
func buttons(t *testing.T, m slacktest.Message) []string {
	t.Helper()
	bs, err := m.SlackBlocks()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range bs.BlockSet {
		switch b := b.(type) {
		case *slack.ActionBlock:
			for _, e := range b.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					ids = append(ids, btn.ActionID)
				}
			}
		case *slack.SectionBlock:
			if b.Accessory != nil && b.Accessory.ButtonElement != nil {
				ids = append(ids, b.Accessory.ButtonElement.ActionID)
			}
		}
	}
	return ids
}

func kinds(t *testing.T, s triage.Store, id int64) []triage.Kind {
	t.Helper()
	tl, err := s.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var ks []triage.Kind
	for _, e := range tl {
		ks = append(ks, e.Kind)
	}
	return ks
}

// countContaining counts the messages whose text (blocks included)
// contains substr.
func countContaining(ms []slacktest.Message, substr string) int {
	n := 0
	for _, m := range ms {
		if strings.Contains(m.AllText(), substr) {
			n++
		}
	}
	return n
}

func count(ks []triage.Kind, k triage.Kind) int {
	n := 0
	for _, x := range ks {
		if x == k {
			n++
		}
	}
	return n
}

// newBenchHarness is a harness for benchmarks: no rate limits, a quiet
// logger.
func newBenchHarness(b *testing.B, fs *slacktest.Server, kind storeKind) *harness {
	return newHarness(b, fs, openStore(b, kind, ""), func(o *setup) {
		o.QueueSize = 4096
		o.Deciders.Users = append(o.Deciders.Users, benchUsers...)
	})
}
