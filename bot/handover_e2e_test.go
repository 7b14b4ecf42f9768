package bot_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/handover"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/schedule/clocktest"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/postgres"
	"github.com/opsbot/opsbot/store/sqlite"
	"github.com/opsbot/opsbot/triage"
)

// handoverStore is what the handover tests plant their state in: the
// store's triage, handover and incident sides.
type handoverStore interface {
	triage.Store
	handover.Store
	Incidents() *store.Incidents
	SaveRun(ctx context.Context, rep checks.Report, channel, messageTS string) (int64, error)
}

// testClock is the bot's and the store's clock in the handover tests.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// openStoreAt opens a store of kind whose clock is now (the checklist
// runs are saved at its time).
func openStoreAt(t *testing.T, kind storeKind, now func() time.Time) handoverStore {
	t.Helper()
	ctx := context.Background()
	if kind == onPostgres {
		if pg == nil {
			t.Skip("no PostgreSQL (-short)")
		}
		dsn, err := pg.CreateDatabase(ctx)
		if err != nil {
			t.Fatal(err)
		}
		db, err := postgres.Open(ctx, dsn, zap.NewNop(), store.WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "opsbot.db"), zap.NewNop(), store.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// withHandover sets the handover up on s, the bot's clock now.
func withHandover(s handoverStore, now func() time.Time, mod ...func(*bot.Handover)) func(*setup) {
	return func(o *setup) {
		o.Now = now
		o.Handover = &bot.Handover{Store: s, Incidents: s.Incidents(), Mention: opsGroup}
		for _, m := range mod {
			m(o.Handover)
		}
	}
}

// handoverNow is the tests' "now": Tuesday 24 November 2026, 09:00 in
// London (UTC in winter).
var handoverNow = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// planted is the state planted for the handover: which anomaly is which.
type planted struct {
	open                      []int64 // undecided, Undetermined, Not enough information
	silenced, silencedLater   int64   // silences ending in the shift, after it
	near, quiet               int64   // Intermittent seen 2 of 3 times, and never
	resolved                  int64   // decided Serious since the last handover
	incident, resolvedInc     int64
	newFingerprint, oldFinger string
}

// plant records, at handoverNow, a rotation with something in every list
// of the handover and something that must stay out of each.
func plant(t *testing.T, s handoverStore, clock *testClock) planted {
	t.Helper()
	ctx := context.Background()
	now := handoverNow
	var p planted
	n := 0
	open := func(env, fp, title, by string, at time.Time) triage.Anomaly {
		t.Helper()
		n++
		a, _, err := s.OpenAnomaly(ctx, triage.Anomaly{Environment: env, Fingerprint: fp, Title: title,
			Source: triage.SourceChecklist, OpenedBy: by, OpenedAt: at}, "plant:open:"+fp)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	decide := func(a triage.Anomaly, d triage.Decision, at time.Time) triage.Anomaly {
		t.Helper()
		r := triage.DecisionRecord{Decision: d, Conclusion: "the " + d.Label() + " conclusion", DecidedBy: alice, DecidedAt: at}
		switch d {
		case triage.Serious:
			r.UsersAffected, r.Ticket = "2% of checkouts", "https://jira.example.com/browse/OPS-2"
		case triage.NotEnoughInformation:
			r.ToCollect = "a heap profile"
		case triage.Noise:
			r.Dashboard, r.Ticket = "https://grafana.example.com/d/noise", "https://jira.example.com/browse/OPS-3"
		}
		out, err := s.Decide(ctx, a.ID, r, "plant:decide:"+a.Fingerprint)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	silence := func(a triage.Anomaly, ends time.Time) {
		t.Helper()
		if _, err := s.RecordSilence(ctx, a.ID, triage.SilenceMark{ID: "sil-" + a.Fingerprint, EndsAt: ends}, alice,
			a.Decision.DecidedAt, "plant:silence:"+a.Fingerprint); err != nil {
			t.Fatal(err)
		}
	}

	// The last handover, yesterday at 09:00.
	prev, _, err := s.RecordHandover(ctx, handover.Record{At: now.Add(-24 * time.Hour), By: handover.ActorSchedule}, "plant:handover")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AcknowledgeHandover(ctx, prev.ID, carol, now.Add(-24*time.Hour+3*time.Minute)); err != nil {
		t.Fatal(err)
	}

	// Open: undecided, Undetermined, Not enough information.
	a := open("prod", "pods/api/CrashLoopBackOff", "api is crash-looping", alice, now.Add(-3*time.Hour))
	b := decide(open("prod", "disk/db-0", "disk filling on db-0", triage.ActorChecklist, now.Add(-50*time.Hour)),
		triage.Undetermined, now.Add(-26*time.Hour))
	c := decide(open("dev", "logs/payments/timeout", "payment <b>timeouts</b> & <!channel> retries", bob, now.Add(-30*time.Minute)),
		triage.NotEnoughInformation, now.Add(-10*time.Minute))
	p.open = []int64{a.ID, b.ID, c.ID}

	// Noise, silenced until 11:00 today (in the shift) and for 3 days.
	d := decide(open("prod", "alerts/CanaryFlaps", "CanaryFlaps", alice, now.Add(-50*time.Hour)), triage.Noise, now.Add(-48*time.Hour))
	silence(d, now.Add(2*time.Hour))
	e := decide(open("prod", "alerts/LateNoise", "LateNoise", alice, now.Add(-50*time.Hour)), triage.Noise, now.Add(-48*time.Hour))
	silence(e, now.Add(72*time.Hour))
	p.silenced, p.silencedLater = d.ID, e.ID

	// Intermittent: seen again twice since (the threshold is 3), and never.
	f := decide(open("prod", "alerts/QueueLag", "queue lag on orders", alice, now.Add(-50*time.Hour)), triage.Intermittent, now.Add(-48*time.Hour))
	for i, at := range []time.Time{now.Add(-30 * time.Hour), now.Add(-5 * time.Hour)} {
		if _, _, err := s.RecordSighting(ctx, "prod", f.Fingerprint, 0, at, "plant:seen:"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	g := decide(open("prod", "alerts/Blip", "one-off blip", alice, now.Add(-50*time.Hour)), triage.Intermittent, now.Add(-48*time.Hour))
	p.near, p.quiet = f.ID, g.ID

	// Decided Serious an hour ago: resolved since the last handover.
	h := decide(open("prod", "db/failover", "database failover", alice, now.Add(-2*time.Hour)), triage.Serious, now.Add(-time.Hour))
	p.resolved = h.ID

	// Incidents: one open on the status page, one resolved.
	inc := s.Incidents()
	i1, _, err := inc.Announce(ctx, incident.Incident{Environment: "prod", Channel: opsChannel, From: now.Add(-40 * time.Minute),
		UserImpact: "checkout fails for some users", What: "payments API returns 502 <script>", AnnouncedBy: alice,
		AnnouncedAt: now.Add(-35 * time.Minute), StatusPage: incident.StatusPage{Enabled: true}}, "plant:incident:1")
	if err != nil {
		t.Fatal(err)
	}
	i2, _, err := inc.Announce(ctx, incident.Incident{Environment: "dev", Channel: opsChannel, From: now.Add(-5 * time.Hour),
		UserImpact: "none", What: "staging down", AnnouncedBy: alice, AnnouncedAt: now.Add(-5 * time.Hour)}, "plant:incident:2")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := inc.Resolve(ctx, i2.ID, now.Add(-4*time.Hour), alice, "plant:resolve:2"); err != nil {
		t.Fatal(err)
	}
	p.incident, p.resolvedInc = i1.ID, i2.ID

	// Checklist runs: the day before yesterday's (by the schedule), and
	// this morning's (by alice), which found a new fingerprint.
	old := finding("pods", "Deployment shop/api", "CrashLoopBackOff")
	fresh := finding("pods", "Deployment shop/web", "OOMKilled")
	for _, r := range []struct {
		at time.Time
		by string
		fs []checks.Finding
	}{
		{now.Add(-48 * time.Hour), handover.ActorSchedule, []checks.Finding{old}},
		{now.Add(-30 * time.Minute), alice, []checks.Finding{old, fresh}},
	} {
		clock.Set(r.at)
		rep := checks.NewReport("prod", r.at.Add(-time.Minute), r.at, []checks.Result{result(r.fs...)})
		rep.AskedBy = r.by
		if _, err := s.SaveRun(ctx, rep, opsChannel, "1700000000.000100"); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(now)
	p.newFingerprint, p.oldFinger = fresh.Title, old.Title
	return p
}

func TestHandoverSQLite(t *testing.T)   { testHandover(t, onSQLite) }
func TestHandoverPostgres(t *testing.T) { testHandover(t, onPostgres) }

// testHandover: `/ops handover` posts, in the ops channel and mentioning
// the ops group, exactly the open items of a planted state; Acknowledge
// handover records who took over, once.
func testHandover(t *testing.T, kind storeKind) {
	fs := newFake(t)
	clock := &testClock{now: handoverNow}
	s := openStoreAt(t, kind, clock.Now)
	p := plant(t, s, clock)
	h := newHarness(t, fs, s, withHandover(s, clock.Now))
	h.start()

	h.slash(alice, "handover")
	msg := h.waitMessage(opsChannel, "*Handover*")
	goldenPosted(t, "handover", msg.Text, msg.Blocks)
	text := msg.AllText()
	var err error
	if !strings.HasPrefix(msg.Text, "<!subteam^"+opsGroup+"> ") {
		t.Errorf("the handover does not mention the ops group: %q", msg.Text)
	}
	for _, want := range []string{
		"*Open anomalies* (3)", "*Open incidents* (1)", "*Silences ending this shift* (1)",
		"*Intermittent, close to escalation* (1)", "seen again 2 of 3 times in 7d",
		"*Last checklist*: *prod*", "asked by @alice: fail, 2 findings",
		"1 new fingerprint, 1 resolved", "new: *" + p.newFingerprint + "*",
		"payment &lt;b&gt;timeouts&lt;/b&gt; &amp; &lt;!channel&gt; retries", "status page: pending",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the handover does not say %q:\n%s", want, text)
		}
	}
	// Exactly the planted ids in each list.
	listed := anomalyIDsIn(text)
	wantListed := map[int64]bool{p.open[0]: true, p.open[1]: true, p.open[2]: true, p.silenced: true, p.near: true, p.resolved: true}
	for id := range listed {
		if !wantListed[id] {
			t.Errorf("anomaly #%d is listed, it should not be:\n%s", id, text)
		}
	}
	for id := range wantListed {
		if !listed[id] {
			t.Errorf("anomaly #%d is not listed:\n%s", id, text)
		}
	}
	if strings.Contains(text, "<!channel>") || strings.Contains(text, "<script>") || strings.Contains(text, "staging down") {
		t.Errorf("unescaped text or a resolved incident in the handover:\n%s", text)
	}
	// The message is recorded right after it is posted.
	var (
		last handover.Record
		ok   bool
	)
	poll(t, "the handover's message is recorded", func() bool {
		last, ok, err = s.LastHandover(h.ctx)
		return err != nil || last.MessageTS != ""
	})
	if err != nil || !ok || last.By != alice || last.MessageTS != msg.TS || last.Channel != opsChannel || last.Acknowledged() {
		t.Fatalf("recorded handover %+v, %v, %v", last, ok, err)
	}
	if got := buttons(t, msg); len(got) != 1 || got[0] != bot.ActionAcknowledgeHandover {
		t.Fatalf("buttons %v, want Acknowledge handover", got)
	}

	// bob is no decider: refused, nothing recorded.
	h.click(bob, opsChannel, msg.TS, bot.ActionAcknowledgeHandover, "")
	h.waitEphemeral(bob, "take the handover over")
	// carol (a decider by her group) takes over at 09:03, but Slack
	// fails to update the message: the button stays, and she is told.
	clock.Set(handoverNow.Add(3 * time.Minute))
	fs.FailNext("chat.update", "fatal_error", 1)
	h.click(carol, opsChannel, msg.TS, bot.ActionAcknowledgeHandover, "")
	h.waitEphemeral(carol, "Something went wrong")
	// alice, after her: told who took over; the message is not changed.
	clock.Set(handoverNow.Add(5 * time.Minute))
	h.click(alice, opsChannel, msg.TS, bot.ActionAcknowledgeHandover, "")
	told := h.waitEphemeral(alice, "already took over")
	if !strings.Contains(told.Text, "@carol already took over this handover, at") {
		t.Errorf("alice was told %q", told.Text)
	}
	// carol again: the message says she took over (at 09:03).
	env := h.click(carol, opsChannel, msg.TS, bot.ActionAcknowledgeHandover, "")
	acked, err := fs.WaitForMessage(h.ctx, opsChannel, func(m slacktest.Message) bool {
		return m.TS == msg.TS && strings.Contains(m.AllText(), "Taken over by @carol")
	})
	if err != nil {
		t.Fatalf("the handover does not say who took over: %v\n%s", err, dump(fs.Messages(opsChannel)))
	}
	goldenPosted(t, "handover-acknowledged", acked.Text, acked.Blocks)
	if got := buttons(t, acked); len(got) != 0 {
		t.Errorf("buttons after the handover was taken over: %v", got)
	}
	// Her click delivered again: nothing more.
	if _, err := fs.Redeliver(h.ctx, env.ID, ""); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Handover(h.ctx, last.ID)
	if err != nil || rec.AcknowledgedBy != carol || !rec.AcknowledgedAt.Equal(handoverNow.Add(3*time.Minute)) {
		t.Errorf("after the clicks: %+v, %v; want carol at 09:03", rec, err)
	}
	// The next handover, asked from #dev: posted in #ops, the user told
	// so; its changes start from the first one.
	clock.Set(handoverNow.Add(10 * time.Minute))
	if _, err := fs.SendSlashCommand(h.ctx, slacktest.SlashCommand{Command: "/ops", Text: "handover", UserID: alice, ChannelID: devChannel}); err != nil {
		t.Fatal(err)
	}
	h.waitEphemeral(alice, "Posted the handover in <#"+opsChannel+">")
	second := h.waitMessage(opsChannel, "*Since the last handover* (2026-11-24 09:00 GMT): 0 new fingerprints, 0 resolved")
	if second.TS == msg.TS {
		t.Error("the second handover replaced the first")
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(fs.Ephemerals(carol)); n != 1 {
		t.Errorf("carol was told %d things, want the one failure: %+v", n, fs.Ephemerals(carol))
	}
	if m, _ := fs.WaitForMessage(h.ctx, opsChannel, func(m slacktest.Message) bool { return m.TS == msg.TS }); m.Updates != 1 {
		t.Errorf("the handover was updated %d times, want once", m.Updates)
	}
}

// anomalyIDsIn are the anomaly numbers a handover lists ("#12").
func anomalyIDsIn(text string) map[int64]bool {
	out := map[int64]bool{}
	for _, m := range regexp.MustCompile(`• (?:resolved: )?#([0-9]+) `).FindAllStringSubmatch(text, -1) {
		var id int64
		for _, c := range m[1] {
			id = id*10 + int64(c-'0')
		}
		out[id] = true
	}
	return out
}

// TestHandoverAppHome: opening the App Home tab publishes the rotation's
// state (views.publish); opening it again soon after publishes nothing
// more; later, it is published again.
func TestHandoverAppHome(t *testing.T) {
	fs := newFake(t)
	clock := &testClock{now: handoverNow}
	s := openStoreAt(t, onSQLite, clock.Now)
	plant(t, s, clock)
	h := newHarness(t, fs, s, withHandover(s, clock.Now))
	h.start()

	if _, err := fs.SendAppHomeOpened(h.ctx, alice); err != nil {
		t.Fatal(err)
	}
	var home slacktest.HomeView
	if err := fs.WaitFor(h.ctx, func() bool {
		var ok bool
		home, ok = fs.HomeView(alice)
		return ok
	}); err != nil {
		t.Fatalf("no Home tab published: %v (calls: %+v)", err, fs.Calls("views.publish"))
	}
	goldenPosted(t, "handover-home", "", home.Blocks)
	if !strings.Contains(string(home.Blocks), "Open anomalies* (3)") {
		t.Errorf("home view:\n%s", home.Blocks)
	}

	// Opened again at once: throttled; 31 s later: published again.
	if _, err := fs.SendAppHomeOpened(h.ctx, alice); err != nil {
		t.Fatal(err)
	}
	clock.Set(handoverNow.Add(bot.DefaultHomeEvery + time.Second))
	if _, err := fs.SendAppHomeOpened(h.ctx, alice); err != nil {
		t.Fatal(err)
	}
	if err := fs.WaitFor(h.ctx, func() bool { home, _ = fs.HomeView(alice); return home.Publishes == 2 }); err != nil {
		t.Fatalf("not published again: %v", err)
	}
	// Each event's work is queued before its ack, and stopping runs what
	// is queued: after it, all three openings were handled.
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if home, _ = fs.HomeView(alice); home.Publishes != 2 {
		t.Errorf("%d publishes for 3 openings within the throttle, want 2", home.Publishes)
	}
	if n := len(fs.Calls("views.publish")); n != 2 {
		t.Errorf("%d views.publish calls, want 2", n)
	}
	if _, ok := fs.HomeView(bob); ok {
		t.Error("bob's Home tab was published without his opening it")
	}
}

func TestScheduledHandoverOnceAcrossReplicasSQLite(t *testing.T) {
	testScheduledHandoverOnce(t, onSQLite)
}

func TestScheduledHandoverOnceAcrossReplicasPostgres(t *testing.T) {
	testScheduledHandoverOnce(t, onPostgres)
}

// testScheduledHandoverOnce: two replicas on one store, both leaders of
// their handover schedule (09:00 on weekdays): one handover is posted,
// and recorded as the schedule's.
func testScheduledHandoverOnce(t *testing.T, kind storeKind) {
	fs := newFake(t)
	s1, s2 := sharedStores(t, kind)
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, schedLondon)
	next := time.Date(2026, 11, 25, 9, 0, 0, 0, schedLondon)
	clock := clocktest.New(at.Add(-time.Minute))
	for _, s := range []triage.Store{s1, s2} {
		hs := s.(handoverStore)
		h := newHarness(t, fs, s, withHandover(hs, clock.Now), func(o *setup) {
			o.HandoverSchedule = &testSchedule{Config: schedule.Config{Schedule: "0 9 * * MON-FRI", Timezone: "Europe/London"},
				Store: s.(scheduleStore), Clock: clock}
		})
		h.start()
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := fs.WaitForConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	fireAt(t, ctx, clock, at, 2)
	msg, err := fs.WaitForMessage(ctx, opsChannel, func(m slacktest.Message) bool { return strings.Contains(m.AllText(), "*Handover*") })
	if err != nil {
		t.Fatal(err)
	}
	// The runner waits for Wednesday; the other replica found the
	// occurrence held or done and waits too, after its next look.
	waitNextOccurrence(t, ctx, clock, next, 1)
	clock.Advance(2 * time.Second)
	waitNextOccurrence(t, ctx, clock, next, 2)
	if n := countContaining(fs.Messages(opsChannel), "*Handover*"); n != 1 {
		t.Errorf("%d handovers posted, want 1:\n%s", n, dump(fs.Messages(opsChannel)))
	}
	if strings.Contains(msg.AllText(), "asked by") {
		t.Errorf("the scheduled handover says who asked:\n%s", msg.AllText())
	}
	last, ok, err := s1.(handoverStore).LastHandover(ctx)
	if err != nil || !ok || last.By != handover.ActorSchedule || !last.At.Equal(at) || last.MessageTS != msg.TS {
		t.Errorf("recorded %+v, %v, %v; want the schedule's at %s", last, ok, err, at)
	}
}

// TestHandoverAppHomeFailures: a views.publish Slack refuses does not use
// up the user's turn: the next opening publishes; an event from another
// workspace publishes nothing.
func TestHandoverAppHomeFailures(t *testing.T) {
	fs := newFake(t)
	clock := &testClock{now: handoverNow}
	s := openStoreAt(t, onSQLite, clock.Now)
	h := newHarness(t, fs, s, withHandover(s, clock.Now))
	h.start()

	fs.FailNext("views.publish", "not_enabled", 1)
	if _, err := fs.SendAppHomeOpened(h.ctx, alice); err != nil {
		t.Fatal(err)
	}
	if err := fs.WaitFor(h.ctx, func() bool { return len(fs.Calls("views.publish")) == 1 }); err != nil {
		t.Fatal(err)
	}
	// The refusal reaches the bot after the fake recorded the call.
	poll(t, "the refused publish frees alice's turn", func() bool { return !bot.HomeTurnHeld(h.bot, alice) })
	if _, ok := fs.HomeView(alice); ok {
		t.Fatal("published although Slack refused")
	}
	// At the same time: not throttled, since nothing was published.
	if _, err := fs.SendAppHomeOpened(h.ctx, alice); err != nil {
		t.Fatal(err)
	}
	if err := fs.WaitFor(h.ctx, func() bool { _, ok := fs.HomeView(alice); return ok }); err != nil {
		t.Fatalf("not published after a refusal: %v (calls %+v)", err, fs.Calls("views.publish"))
	}

	if _, err := fs.SendAppHomeOpened(h.ctx, bob, slacktest.WithTeam("T0OTHER01")); err != nil {
		t.Fatal(err)
	}
	if err := h.stop(); err != nil { // what was queued has run
		t.Fatal(err)
	}
	if _, ok := fs.HomeView(bob); ok {
		t.Error("an event from another workspace published a Home tab")
	}
	if n := len(fs.Calls("views.publish")); n != 2 {
		t.Errorf("%d views.publish calls, want 2", n)
	}
}
