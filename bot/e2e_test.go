package bot_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/triage"
)

func TestUsageAndMalformedInput(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	h.start()
	for _, tt := range []struct{ text, want string }{
		{"", "/ops checklist [environment]"},
		{"help", "/ops anomaly &lt;title&gt;"},
		{"frobnicate <!channel>", "I don't know `frobnicate`"},
		{"checklist staging", "There is no environment `staging`"},
		{"checklist prod dev", "at most one environment"},
		{"anomaly", "needs a title"},
		{"status now", "takes no arguments"},
		{"anomaly invoice gnp\u202Eexe.png", "U+202E (RIGHT-TO-LEFT OVERRIDE)"},
		{"update 1 all \u2066fixed\u2069", "U+2066 (LEFT-TO-RIGHT ISOLATE)"},
		{"resolve \u200F1", "U+200F (RIGHT-TO-LEFT MARK)"},
		{"\u061Cstatus", "U+061C (ARABIC LETTER MARK)"},
	} {
		env := h.slash(alice, tt.text)
		var p struct {
			ResponseType string `json:"response_type"`
			Text         string `json:"text"`
		}
		if err := json.Unmarshal(env.AckPayload, &p); err != nil {
			t.Fatalf("/ops %s: ack payload %s: %v", tt.text, env.AckPayload, err)
		}
		if p.ResponseType != "ephemeral" || !strings.Contains(p.Text, tt.want) {
			t.Errorf("/ops %s: ack payload %+v, want an ephemeral containing %q", tt.text, p, tt.want)
		}
		if strings.Contains(p.Text, "<!channel>") || strings.Contains(p.Text, "<title>") {
			t.Errorf("/ops %s: the ack is not escaped: %s", tt.text, p.Text)
		}
	}
	if n := len(fs.Messages(opsChannel)) + len(fs.Messages(devChannel)); n != 0 {
		t.Errorf("usage errors posted %d messages", n)
	}
	if open, err := h.store.ListOpen(h.ctx, ""); err != nil || len(open) != 0 {
		t.Errorf("usage errors opened anomalies: %v, %v", open, err)
	}
}

// e2eNow is the bot's clock in tests that compare a message showing the
// time (a report's title: its time and duration) with a golden file.
var e2eNow = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

func pinClock(o *setup) { o.Now = func() time.Time { return e2eNow } }

func TestChecklistProgressReportAndInvestigate(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store, pinClock)
	gate := make(chan struct{})
	h.setChecks(
		&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "CrashLoopBackOff"))},
		&fakeCheck{name: "alerts", result: result(finding("alerts", "shop", "HighErrorRate")), gate: gate},
	)
	h.start()

	env := h.slash(alice, "checklist")
	if len(env.AckPayload) != 0 {
		t.Errorf("checklist ack payload = %s, want none", env.AckPayload)
	}
	// The running message, updated in place when pods is done while
	// alerts still runs.
	running := h.waitMessage(opsChannel, "Running the *prod* checklist")
	progress, err := fs.WaitForMessage(h.ctx, opsChannel, func(m slacktest.Message) bool {
		return m.TS == running.TS && strings.Contains(m.AllText(), "*pods* — 1 findings") && strings.Contains(m.AllText(), "*alerts* running")
	})
	if err != nil {
		t.Fatalf("no progress update: %v\n%s", err, dump(fs.Messages(opsChannel)))
	}
	if progress.Updates == 0 {
		t.Error("progress was not an update of the running message")
	}
	goldenPosted(t, "checklist-progress", progress.Text, progress.Blocks)
	close(gate)
	rep := h.waitMessage(opsChannel, "*Checklist prod*")
	if rep.TS != running.TS {
		t.Errorf("the report is a new message (%s), not the running one updated (%s)", rep.TS, running.TS)
	}
	if len(fs.Messages(opsChannel)) != 1 {
		t.Errorf("%d messages in #ops, want 1 (updated in place)", len(fs.Messages(opsChannel)))
	}
	goldenPosted(t, "checklist-report", rep.Text, rep.Blocks)
	if got := buttons(t, rep); len(got) != 2 || got[0] != bot.ActionInvestigate {
		t.Errorf("report buttons = %v, want two Investigate", got)
	}

	// Investigate: the thread in #dev with the five decision buttons.
	root := h.investigate(alice, rep, 1)
	goldenPosted(t, "anomaly-root", root.Text, root.Blocks)
	want := []string{}
	for _, d := range triage.Decisions {
		want = append(want, bot.DecideActionID(d))
	}
	if got := buttons(t, root); !slices.Equal(got, want) {
		t.Errorf("root buttons = %v, want %v", got, want)
	}
	h.waitEphemeral(alice, "Opened anomaly #1")
	a, err := store.FindOpen(h.ctx, "prod", checks.Fingerprint("alerts", "shop", "HighErrorRate"))
	if err != nil || a.Channel != devChannel || a.ThreadTS != root.TS || a.OpenedBy != alice {
		t.Fatalf("anomaly = %+v, %v", a, err)
	}

	// A second Investigate (carol, a decider through the group) links to
	// the thread; no second thread.
	h.click(carol, opsChannel, rep.TS, bot.ActionInvestigate, "finding/1")
	h.waitEphemeral(carol, "already being investigated")
	if n := len(fs.Messages(devChannel)); n != 1 {
		t.Errorf("%d threads in #dev, want 1", n)
	}
	// The same click delivered again changes nothing either.
	clicks := 0
	for _, e := range fs.Envelopes() {
		if e.Type == slacktest.TypeInteractive {
			clicks++
			last := e
			if _, err := fs.Redeliver(h.ctx, last.ID, ""); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if clicks == 0 {
		t.Fatal("no click envelope")
	}
	// /ops status lists it with its thread.
	h.slash(alice, "status")
	status := h.waitEphemeral(alice, "*Open anomalies* (1)")
	goldenPosted(t, "ops-status", status.Text, status.Blocks)
	if n := len(fs.Messages(devChannel)); n != 1 {
		t.Errorf("after a redelivered click: %d threads in #dev, want 1", n)
	}
	open, _ := store.ListOpen(h.ctx, "")
	if len(open) != 1 {
		t.Errorf("%d open anomalies, want 1", len(open))
	}
}

func TestDecisionFlowSQLite(t *testing.T)   { testDecisionFlow(t, onSQLite) }
func TestDecisionFlowPostgres(t *testing.T) { testDecisionFlow(t, onPostgres) }

func testDecisionFlow(t *testing.T, kind storeKind) {
	fs := newFake(t)
	store := openStore(t, kind, "")
	h := newHarness(t, fs, store)
	h.start()

	h.slash(alice, "anomaly checkout latency doubled <!here>")
	root := h.waitMessage(devChannel, "is looking at")
	goldenPosted(t, "decision-flow-root", root.Text, root.Blocks)
	open, err := store.ListOpen(h.ctx, "prod")
	if err != nil || len(open) != 1 {
		t.Fatalf("open = %v, %v", open, err)
	}
	id := open[0].ID

	// Serious: a whitespace conclusion and a bad ticket come back as
	// errors on their blocks; nothing is recorded.
	viewID := h.openModal(alice, root, triage.Serious)
	env, err := fs.SubmitView(h.ctx, viewID, values("conclusion", "   ", "ticket", "not a url", "usersAffected", "all of them"))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := env.ViewAck()
	if err != nil {
		t.Fatal(err)
	}
	if ack.ResponseAction != "errors" || ack.Errors["conclusion"] != "required" || !strings.Contains(ack.Errors["ticket"], "http(s) URL") {
		t.Fatalf("ack = %+v, want errors on conclusion and ticket", ack)
	}
	if v, _ := fs.View(viewID); !v.Open || len(v.Errors) != 2 {
		t.Errorf("view after errors: open %v, errors %v", v.Open, v.Errors)
	}
	if ks := kinds(t, store, id); count(ks, triage.KindDecided) != 0 {
		t.Errorf("an invalid submission was recorded: %v", ks)
	}

	// Then valid: a reply with the conclusion and the follow-up, the root
	// updated with the outcome.
	env, err = fs.SubmitView(h.ctx, viewID, slacktest.ViewValues{
		"conclusion":    {"conclusion": {Value: "the payment provider is slow <@U00000B01>"}},
		"usersAffected": {"usersAffected": {Value: "every buyer: checkout takes 8 s"}},
		"ticket":        {"ticket": {Value: "https://tickets.example.com/OPS-1"}},
		"outage":        {"outage": {SelectedOptions: []string{"outage"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ack, _ := env.ViewAck(); ack.ResponseAction != "" {
		t.Fatalf("valid submission ack = %+v", ack)
	}
	reply := h.waitMessage(devChannel, "*Serious* — decided by @alice")
	goldenPosted(t, "decision-flow-reply-serious", reply.Text, reply.Blocks)
	if reply.ThreadTS != root.TS {
		t.Errorf("the reply is not in the thread")
	}
	h.waitMessage(devChannel, "*Decision: Serious* by @alice")

	// Changed later to Noise: the timeline keeps both.
	env = h.decide(alice, root, triage.Noise, values("conclusion", "it was a load test", "ticket", "https://t.example.com/2", "dashboard", "https://grafana.example.com/d/lt"))
	if ack, _ := env.ViewAck(); ack.ResponseAction != "" {
		t.Fatalf("noise ack = %+v", ack)
	}
	h.waitMessage(devChannel, "*Decision: Noise* by @alice")
	a, err := store.Get(h.ctx, id)
	if err != nil || a.CurrentDecision() != triage.Noise || a.State != triage.Closed {
		t.Fatalf("anomaly = %+v, %v", a, err)
	}
	ks := kinds(t, store, id)
	if count(ks, triage.KindDecided) != 1 || count(ks, triage.KindDecisionChanged) != 1 {
		t.Errorf("timeline kinds = %v, want one decided and one decision_changed", ks)
	}
	// The buttons stay on the root message.
	if got := buttons(t, h.waitMessage(devChannel, "*Decision: Noise*")); len(got) != 5 {
		t.Errorf("root buttons after a decision = %v", got)
	}

	// The submission delivered again records nothing more.
	if _, err := fs.Redeliver(h.ctx, env.ID, ""); err != nil {
		t.Logf("redeliver: %v", err) // the view is closed: the fake may refuse to apply the ack
	}
	replies := len(fs.ThreadReplies(devChannel, root.TS))
	h.slash(alice, "status") // a later request: the redelivery was handled before it
	h.waitEphemeral(alice, "No open anomalies")
	if ks2 := kinds(t, store, id); len(ks2) != len(ks) {
		t.Errorf("a redelivered submission changed the timeline: %v -> %v", ks, ks2)
	}
	if n := len(fs.ThreadReplies(devChannel, root.TS)); n != replies {
		t.Errorf("a redelivered submission posted again: %d -> %d replies", replies, n)
	}
}

func TestUnauthorizedUsersChangeNothing(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store)
	h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "OOMKilled"))})
	h.start()

	h.slash(bob, "checklist")
	h.waitEphemeral(bob, "You are not allowed to do that")
	h.slash(bob, "anomaly something")
	if err := fs.WaitFor(h.ctx, func() bool { return len(fs.Ephemerals(bob)) == 2 }); err != nil {
		t.Fatal(err)
	}
	if n := len(fs.Messages(opsChannel)) + len(fs.Messages(devChannel)); n != 0 {
		t.Fatalf("a refused user got %d messages posted", n)
	}

	rep := h.report(alice)
	h.click(bob, opsChannel, rep.TS, bot.ActionInvestigate, "finding/0")
	if err := fs.WaitFor(h.ctx, func() bool { return len(fs.Ephemerals(bob)) == 3 }); err != nil {
		t.Fatal(err)
	}
	root := h.investigate(alice, rep, 0)
	h.click(bob, devChannel, root.TS, bot.DecideActionID(triage.Noise), "")
	if err := fs.WaitFor(h.ctx, func() bool { return len(fs.Ephemerals(bob)) == 4 }); err != nil {
		t.Fatal(err)
	}
	for _, e := range fs.Ephemerals(bob) {
		if !strings.Contains(e.Text, "not allowed") {
			t.Errorf("bob was told %q", e.Text)
		}
	}
	if len(fs.Views()) != 0 {
		t.Errorf("a modal was opened for a refused user")
	}
	open, _ := store.ListOpen(h.ctx, "")
	if len(open) != 1 || len(kinds(t, store, open[0].ID)) != 2 {
		t.Errorf("refused users changed the store: %+v", open)
	}
	// carol is allowed through the deciders group.
	h.openModal(carol, root, triage.Intermittent)
}

func TestForeignPayloadsAreDropped(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store)
	h.start()
	for _, opt := range []slacktest.PayloadOption{slacktest.WithTeam("T99999999"), slacktest.WithAppID("A99999999")} {
		env := h.slash(alice, "anomaly from elsewhere", opt)
		if !env.Acked || len(env.AckPayload) != 0 {
			t.Errorf("foreign payload: acked %v, payload %s", env.Acked, env.AckPayload)
		}
	}
	h.slash(alice, "status") // handled after the foreign ones
	h.waitEphemeral(alice, "No open anomalies")
	if n := len(fs.Ephemerals(alice)); n != 1 {
		t.Errorf("%d ephemerals, want only the status", n)
	}
	if len(fs.Messages(devChannel)) != 0 {
		t.Error("a foreign payload opened an anomaly")
	}
}

func TestUntrustedTextStaysText(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	evil := checks.Finding{
		Fingerprint: "logs/shop/api/evil", Severity: checks.Fail, Object: "pod <@U00000A01>",
		Title:  "<!channel> deploy failed <!subteam^S00000OPS> & more",
		Detail: "line 1 <https://evil.example.com|click me>\n@here line 2",
		Link:   "javascript:alert(1)",
	}
	h.setChecks(&fakeCheck{name: "logs", result: result(evil)})
	h.start()
	rep := h.report(alice)
	root := h.investigate(alice, rep, 0)
	for _, m := range []slacktest.Message{rep, root} {
		all := m.AllText()
		for _, bad := range []string{"<!channel>", "<@U00000A01>", "<!subteam^", "<https://evil", "<javascript", "@here"} {
			if strings.Contains(all, bad) {
				t.Errorf("message contains %q:\n%s", bad, all)
			}
		}
		for _, want := range []string{"&lt;!channel&gt; deploy failed", "&amp; more", "&lt;https://evil.example.com|click me&gt;"} {
			if !strings.Contains(all, want) {
				t.Errorf("message lacks %q:\n%s", want, all)
			}
		}
	}
}

func TestReportStaysWithinSlackLimits(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	var many []checks.Finding
	for i := range 200 {
		f := finding("logs", "pod shop/api-"+strings.Repeat("x", i%7), "error "+strings.Repeat("&", 100)+string(rune('a'+i%26)))
		f.Fingerprint += "/" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		f.Detail = strings.Repeat("<detail> ", 60)
		many = append(many, f)
	}
	h.setChecks(&fakeCheck{name: "logs", result: result(many...)}, &fakeCheck{name: "pods", result: result()})
	h.start()
	rep := h.report(alice)
	if !strings.Contains(rep.AllText(), "more") || !strings.Contains(rep.AllText(), ":white_check_mark: *pods*") {
		t.Errorf("report:\n%s", rep.AllText())
	}
	for _, c := range fs.Calls("chat.update") {
		if c.Error != "" {
			t.Errorf("chat.update failed: %s", c.Error)
		}
	}
	bs, _ := rep.SlackBlocks()
	if len(bs.BlockSet) > 50 || len(rep.Blocks) > 13000 {
		t.Errorf("%d blocks, %d bytes", len(bs.BlockSet), len(rep.Blocks))
	}
	// A button of the last finding shown still works.
	ids := buttons(t, rep)
	if len(ids) < 5 {
		t.Fatalf("only %d findings shown", len(ids))
	}
	h.investigate(alice, rep, len(ids)-1)
}

func TestReconnectsAndKeepsServing(t *testing.T) {
	fs := newFake(t, func(o *slacktest.Options) { o.PingInterval = 50 * time.Millisecond })
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store, func(o *setup) { o.PingInterval = 500 * time.Millisecond })
	h.start()

	h.slash(alice, "anomaly before the refresh")
	h.waitMessage(devChannel, "before the refresh")

	if n := fs.Disconnect(slacktest.ReasonRefreshRequested); n != 1 {
		t.Fatalf("told %d connections", n)
	}
	waitTotal(t, h, 2)
	h.slash(alice, "anomaly after the refresh")
	h.waitMessage(devChannel, "after the refresh")

	fs.DropConnections()
	waitTotal(t, h, 3)
	h.slash(alice, "anomaly after the drop")
	h.waitMessage(devChannel, "after the drop")

	fs.StopPinging()
	waitTotal(t, h, 4) // the client notices the missing pings and reconnects
	fs.ResumePinging()
	h.waitConnected()
	h.slash(alice, "anomaly after the silence")
	h.waitMessage(devChannel, "after the silence")

	open, _ := store.ListOpen(h.ctx, "")
	if len(open) != 4 {
		t.Errorf("%d anomalies, want 4", len(open))
	}
	if st := fs.AckStats(); st.Missing != 0 || st.Late != 0 {
		t.Errorf("ack stats = %+v", st)
	}
}

func waitTotal(t *testing.T, h *harness, n int) {
	t.Helper()
	if err := h.fs.WaitFor(h.ctx, func() bool { return h.fs.TotalConnections() >= n && h.fs.Connections() > 0 }); err != nil {
		t.Fatalf("no reconnection (%d connections so far): %v", h.fs.TotalConnections(), err)
	}
	h.waitConnected()
}

func TestLinkDisabledStopsCleanly(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	h.start()
	fs.Disconnect(slacktest.ReasonLinkDisabled)
	if err := h.wait(); !errors.Is(err, bot.ErrLinkDisabled) {
		t.Fatalf("Run = %v, want ErrLinkDisabled", err)
	}
	if n := fs.TotalConnections(); n != 1 {
		t.Errorf("%d connections: the bot reconnected after link_disabled", n)
	}
}

func TestInvalidAppTokenStops(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""), func(o *setup) { o.Slack.AppToken = "xapp-1-A00000001-1-revoked" })
	b := h.assemble()
	err := b.Run(h.ctx)
	var pe *bot.PermanentError
	if !errors.As(err, &pe) || pe.Code != "invalid_auth" {
		t.Fatalf("Run = %v, want a PermanentError invalid_auth", err)
	}
	if strings.Contains(err.Error(), "revoked") {
		t.Errorf("the error shows the token: %v", err)
	}
}

func TestRateLimitedConnectionsOpenIsHonoured(t *testing.T) {
	fs := newFake(t)
	fs.FailConnectionsOpen(1, http.StatusTooManyRequests, time.Second)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	h.start()
	calls := fs.Calls("apps.connections.open")
	if len(calls) < 2 || calls[0].Status != http.StatusTooManyRequests {
		t.Fatalf("apps.connections.open calls = %+v", calls)
	}
	if gap := calls[1].Time.Sub(calls[0].Time); gap < time.Second {
		t.Errorf("reconnected %s after a 429 with Retry-After: 1", gap)
	}
	h.slash(alice, "status")
	h.waitEphemeral(alice, "No open anomalies")
}

func TestShutdownFinishesWorkInFlight(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store)
	gate := make(chan struct{})
	h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "x", "y")), gate: gate})
	h.start()
	h.slash(alice, "checklist")
	h.waitMessage(opsChannel, "Running the *prod* checklist")
	stopped := make(chan error, 1)
	go func() { stopped <- h.stop() }()
	// The socket stops first: new work is not taken.
	if err := fs.WaitFor(h.ctx, func() bool { return fs.Connections() == 0 }); err != nil {
		t.Fatal(err)
	}
	close(gate)
	if err := <-stopped; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if ms := fs.Messages(opsChannel); len(ms) != 1 || !strings.Contains(ms[0].AllText(), "*Checklist prod*") {
		t.Errorf("the checklist in flight did not finish:\n%s", dump(ms))
	}
}

func TestRestartKeepsThreadsDecisionsAndRecurrence(t *testing.T) {
	fs := newFake(t)
	path := t.TempDir() + "/opsbot.db"
	flaky := finding("http", "storefront", "health check timed out")
	check := &fakeCheck{name: "http", result: result(flaky)}

	store1 := openStore(t, onSQLite, path)
	h1 := newHarness(t, fs, store1)
	h1.setChecks(check)
	h1.start()
	rep := h1.report(alice)
	root := h1.investigate(alice, rep, 0)
	h1.decide(alice, root, triage.Intermittent, values("conclusion", "a slow node, gone"))
	h1.waitMessage(devChannel, "*Decision: Intermittent*")
	if err := h1.stop(); err != nil {
		t.Fatal(err)
	}
	if err := store1.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}

	store2 := openStore(t, onSQLite, path)
	h2 := newHarness(t, fs, store2)
	h2.setChecks(check)
	h2.start()
	a, err := store2.FindOpen(h2.ctx, "prod", flaky.Fingerprint)
	if !errors.Is(err, triage.ErrNotFound) {
		t.Fatalf("the Intermittent anomaly is open after a restart: %+v, %v", a, err)
	}
	for _, want := range []string{"seen again, 1st time since it was decided Intermittent", "2nd time", "3rd time"} {
		h2.report(alice)
		h2.waitMessage(devChannel, want)
	}
	esc := h2.waitMessage(devChannel, "<!subteam^"+opsGroup+">")
	if esc.ThreadTS != root.TS || !strings.Contains(esc.AllText(), "reconsider it as *Serious*") {
		t.Errorf("escalation:\n%s", esc.AllText())
	}
	a, err = store2.FindOpen(h2.ctx, "prod", flaky.Fingerprint)
	if err != nil || a.EscalatedAt.IsZero() || a.SeenCount != 4 {
		t.Fatalf("after escalation: %+v, %v", a, err)
	}
	// Only one escalation mention, ever.
	if n := countContaining(fs.ThreadReplies(devChannel, root.TS), "<!subteam^"); n != 1 {
		t.Errorf("%d escalation mentions", n)
	}
	h2.waitMessage(devChannel, "Escalated on")
}

func TestRedeliveredSlashCommandOpensOneAnomaly(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store)
	h.start()
	env := h.slash(alice, "anomaly queue backlog")
	h.waitMessage(devChannel, "queue backlog")
	if _, err := fs.Redeliver(h.ctx, env.ID, "timeout"); err != nil {
		t.Fatal(err)
	}
	h.slash(alice, "status")
	h.waitEphemeral(alice, "*Open anomalies* (1)")
	if n := len(fs.Messages(devChannel)); n != 1 {
		t.Errorf("%d threads, want 1", n)
	}
}

func TestFailedThreadPostIsRetriedWithoutASecondAnomaly(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store)
	h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "StatefulSet shop/db", "PVC 95% full"))})
	h.start()
	rep := h.report(alice)

	fs.FailNext("chat.postMessage", "internal_error", 1)
	h.click(alice, opsChannel, rep.TS, bot.ActionInvestigate, "finding/0")
	h.waitEphemeral(alice, "Something went wrong")
	if len(fs.Messages(devChannel)) != 0 {
		t.Fatal("a thread was posted despite the failure")
	}
	root := h.investigate(alice, rep, 0) // clicked again: the same anomaly gets its thread
	open, _ := store.ListOpen(h.ctx, "")
	if len(open) != 1 || open[0].ThreadTS != root.TS || len(fs.Messages(devChannel)) != 1 {
		t.Errorf("after a retry: %d open anomalies (%+v), %d threads", len(open), open, len(fs.Messages(devChannel)))
	}
}

// TestRedeliveredDecisionAfterRestartPostsNothingTwice: Slack redelivers a
// decision's view_submission (its ack was lost) to a restarted process,
// whose in-memory dedupe is empty: the store knows the delivery, so the
// thread gets no second reply.
func TestRedeliveredDecisionAfterRestartPostsNothingTwice(t *testing.T) {
	fs := newFake(t)
	path := t.TempDir() + "/opsbot.db"
	store1 := openStore(t, onSQLite, path)
	h1 := newHarness(t, fs, store1)
	h1.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "CrashLoopBackOff"))})
	h1.start()
	root := h1.investigate(alice, h1.report(alice), 0)
	env := h1.decide(alice, root, triage.Noise, values("conclusion", "a retry storm", "dashboard", "https://grafana.example.com/d/x", "ticket", "https://jira.example.com/browse/OPS-7"))
	h1.waitMessage(devChannel, "*Decision: Noise*")
	replies := len(fs.ThreadReplies(devChannel, root.TS))
	if err := h1.stop(); err != nil {
		t.Fatal(err)
	}
	if err := store1.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}

	store2 := openStore(t, onSQLite, path)
	h2 := newHarness(t, fs, store2)
	h2.start()
	if _, err := fs.Redeliver(h2.ctx, env.ID, "timeout"); err != nil {
		t.Fatalf("the redelivery was not acked: %v", err)
	}
	// The root is re-rendered from the store (an update in place), and the
	// thread has no new reply.
	if err := fs.WaitFor(h2.ctx, func() bool {
		m, ok := fs.Message(devChannel, root.TS)
		return ok && m.Updates > 1
	}); err != nil {
		t.Fatalf("the root was not updated after the redelivery: %v", err)
	}
	if n := len(fs.ThreadReplies(devChannel, root.TS)); n != replies {
		t.Errorf("%d thread replies after the redelivery, want %d:\n%s", n, replies, dump(fs.ThreadReplies(devChannel, root.TS)))
	}
	if ks := kinds(t, store2, 1); count(ks, triage.KindDecided) != 1 || count(ks, triage.KindDecisionChanged) != 0 {
		t.Errorf("timeline %v, want one decision", ks)
	}
}
