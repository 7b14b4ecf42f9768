package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/health"
	"github.com/opsbot/opsbot/store/postgres/pgtest"
)

// TestTwoReplicasOnPostgres runs two `opsbot serve` processes (in this
// one) on one PostgreSQL database, both connected to Slack. The fake Slack
// hands each envelope to one of the open connections in turn, as Slack
// does, so consecutive commands and clicks go to different replicas: the
// checklist, Investigate clicked twice, a decision opened on one replica and
// submitted to the other (and redelivered to the first), /ops status on
// each, an incident announced and resolved across them. Whichever replica
// gets them, there is one thread, one decision, one reply, one
// announcement.
func TestTwoReplicasOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Fatalf("these tests need a real PostgreSQL: %v", err)
	}
	defer pg.Stop()
	dsn, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fs := newServeFake(t)
	cfgPath := writeServeConfigStore(t, fs, "postgres: {dsnEnv: OPSBOT_TEST_DSN}", "")
	fo := fs.Options()
	env := map[string]string{envAppToken: fo.AppToken, envBotToken: fo.BotToken, "OPSBOT_TEST_DSN": dsn}
	type replica struct {
		code chan int
		bot  chan *bot.Bot
		err  *syncBuffer
	}
	var replicas []replica
	for range 2 {
		r := replica{code: make(chan int, 1), bot: make(chan *bot.Bot, 1), err: &syncBuffer{}}
		rctx, stop := context.WithCancel(ctx)
		t.Cleanup(stop)
		go func() {
			r.code <- serve(rctx, []string{"--config", cfgPath}, r.err, serveDeps{
				getenv: func(k string) string { return env[k] },
				checklist: func(context.Context, string) (bot.Checklist, error) {
					return bot.Checklist{Checks: []checks.Check{serveCheck{}}, Timeout: 10 * time.Second}, nil
				},
				started: func(b *bot.Bot, _ *health.Server) { r.bot <- b },
			})
		}()
		replicas = append(replicas, r)
	}
	for i, r := range replicas {
		select {
		case b := <-r.bot:
			if err := b.WaitConnected(ctx); err != nil {
				t.Fatalf("replica %d: %v\n%s", i, err, r.err)
			}
		case c := <-r.code:
			t.Fatalf("replica %d exited with %d:\n%s", i, c, r.err)
		case <-ctx.Done():
			t.Fatalf("replica %d did not start:\n%s", i, r.err)
		}
	}
	if err := fs.WaitFor(ctx, func() bool { return fs.Connections() == 2 }); err != nil {
		t.Fatal(err)
	}
	perConn := func() map[int]int {
		n := map[int]int{}
		for _, e := range fs.Envelopes() {
			n[e.ConnectionID]++
		}
		return n
	}

	// The checklist, on one replica.
	if _, err := fs.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/ops", Text: "checklist", ChannelID: slacktest.DefaultOpsChannelID}); err != nil {
		t.Fatal(err)
	}
	rep, err := fs.WaitForMessage(ctx, slacktest.DefaultOpsChannelID, func(m slacktest.Message) bool {
		return strings.Contains(m.AllText(), "*Checklist prod*")
	})
	if err != nil {
		t.Fatal(err)
	}
	// Investigate, twice: each click on another replica; one thread. (The
	// second click waits for the first's answer: two at the same instant
	// are the race triage.Service.Open settles, tested in triage.)
	investigate := func() {
		t.Helper()
		if _, err := fs.ClickButton(ctx, slacktest.ButtonClick{Channel: slacktest.DefaultOpsChannelID, MessageTS: rep.TS,
			ActionID: bot.ActionInvestigate, BlockID: "finding/0"}); err != nil {
			t.Fatal(err)
		}
	}
	answered := func(want string) {
		t.Helper()
		if err := fs.WaitFor(ctx, func() bool {
			for _, e := range fs.Ephemerals(slacktest.DefaultAliceID) {
				if strings.Contains(e.Text, want) {
					return true
				}
			}
			return false
		}); err != nil {
			t.Fatalf("no answer saying %q: %v\n%+v", want, err, fs.Ephemerals(slacktest.DefaultAliceID))
		}
	}
	investigate()
	answered("Opened anomaly #1")
	investigate()
	answered("already being investigated")
	root, err := fs.WaitForMessage(ctx, serveDevChannel, func(m slacktest.Message) bool { return strings.Contains(m.AllText(), "is looking at") })
	if err != nil {
		t.Fatal(err)
	}

	// A decision: the button on one replica opens the modal, its
	// submission goes to the other.
	if _, err := fs.ClickButton(ctx, slacktest.ButtonClick{Channel: serveDevChannel, MessageTS: root.TS,
		ActionID: "triage.decide.noise"}); err != nil {
		t.Fatal(err)
	}
	var viewID string
	if err := fs.WaitFor(ctx, func() bool {
		for _, v := range fs.OpenViews(slacktest.DefaultAliceID) {
			if v.Updates > 0 {
				viewID = v.ID
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no decision modal: %v", err)
	}
	vals := slacktest.ViewValues{}
	for k, v := range map[string]string{"conclusion": "a retry storm", "dashboard": "https://grafana.example.com/d/x",
		"ticket": "https://jira.example.com/browse/OPS-7"} {
		vals[k] = map[string]slacktest.InputValue{k: {Value: v}}
	}
	submitted, err := fs.SubmitView(ctx, viewID, vals)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.WaitForMessage(ctx, serveDevChannel, func(m slacktest.Message) bool {
		return m.ThreadTS == root.TS && strings.Contains(m.AllText(), "*Noise*")
	}); err != nil {
		t.Fatalf("no decision reply: %v\n%s\n%s", err, replicas[0].err, replicas[1].err)
	}
	// Slack delivers the submission again (its ack was lost), this time
	// to the other replica: the store knows it; nothing is posted twice.
	rootBefore, _ := fs.Message(serveDevChannel, root.TS)
	again, err := fs.Redeliver(ctx, submitted.ID, "timeout")
	if err != nil {
		t.Fatal(err)
	}
	if again.ConnectionID == submitted.ConnectionID {
		// A connection was being replaced (the fake, like Slack, hands
		// an envelope to a ready connection only): the same replica
		// got it, and its in-memory dedupe answered. The count of
		// replies below still holds.
		t.Logf("the redelivery went to the same connection (%d)", again.ConnectionID)
	} else if err := fs.WaitFor(ctx, func() bool {
		m, _ := fs.Message(serveDevChannel, root.TS)
		return m.Updates > rootBefore.Updates
	}); err != nil {
		// The other replica re-renders the root from the store.
		t.Fatalf("the redelivered decision was not handled: %v", err)
	}
	// /ops status on each replica: both read the same store.
	for range 2 {
		if _, err := fs.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/ops", Text: "status", ChannelID: slacktest.DefaultOpsChannelID}); err != nil {
			t.Fatal(err)
		}
	}
	if err := fs.WaitFor(ctx, func() bool {
		n := 0
		for _, e := range fs.Ephemerals(slacktest.DefaultAliceID) {
			if strings.Contains(e.Text, "No open anomalies") {
				n++
			}
		}
		return n == 2
	}); err != nil {
		t.Fatalf("/ops status did not say, on both replicas, that nothing is open: %v\n%+v", err, fs.Ephemerals(slacktest.DefaultAliceID))
	}

	// An incident: /ops incident on one replica opens the form, its
	// submission goes to the other, /ops resolve to the next.
	before := map[string]bool{}
	for _, v := range fs.Views() {
		before[v.ID] = true
	}
	if _, err := fs.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/ops", Text: "incident", ChannelID: slacktest.DefaultOpsChannelID}); err != nil {
		t.Fatal(err)
	}
	var form string
	if err := fs.WaitFor(ctx, func() bool {
		for _, v := range fs.OpenViews(slacktest.DefaultAliceID) {
			if !before[v.ID] {
				form = v.ID
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no incident form: %v", err)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Now().In(london).Add(-10 * time.Minute)
	incVals := slacktest.ViewValues{
		"from":       {"from": {SelectedDate: from.Format("2006-01-02")}},
		"fromTime":   {"fromTime": {SelectedTime: from.Format("15:04")}},
		"userImpact": {"userImpact": {Value: "checkout fails for some users"}},
		"what":       {"what": {Value: "payments API returns 502"}},
	}
	if _, err := fs.SubmitView(ctx, form, incVals); err != nil {
		t.Fatal(err)
	}
	ann, err := fs.WaitForMessage(ctx, serveDevChannel, func(m slacktest.Message) bool {
		return strings.Contains(m.Text, "📟 Degraded service")
	})
	if err != nil {
		t.Fatalf("no announcement: %v\n%s\n%s", err, replicas[0].err, replicas[1].err)
	}
	if _, err := fs.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/ops", Text: "resolve", ChannelID: slacktest.DefaultOpsChannelID}); err != nil {
		t.Fatal(err)
	}
	if err := fs.WaitFor(ctx, func() bool {
		m, _ := fs.Message(serveDevChannel, ann.TS)
		return strings.Contains(m.Text, "✅ Resolved")
	}); err != nil {
		t.Fatalf("the announcement was not resolved: %v\n%s\n%s", err, replicas[0].err, replicas[1].err)
	}
	announcements := 0
	for _, m := range fs.Messages(serveDevChannel) {
		if strings.Contains(m.Text, "📟 Degraded service") {
			announcements++
		}
	}
	if announcements != 1 {
		t.Errorf("%d announcements, want 1", announcements)
	}

	// Both replicas took work, and nothing was posted twice.
	if n := perConn(); len(n) != 2 {
		t.Errorf("envelopes by connection %v: want both replicas to get some", n)
	}
	if n := len(fs.Messages(serveDevChannel)); n != 2 {
		t.Errorf("%d messages in the dev channel, want the anomaly's thread and the announcement:\n%s", n, dumpMessages(fs.Messages(serveDevChannel)))
	}
	replies := 0
	for _, m := range fs.ThreadReplies(serveDevChannel, root.TS) {
		if strings.Contains(m.AllText(), "*Noise*") {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("%d decision replies, want 1", replies)
	}
	for i, r := range replicas {
		if strings.Contains(r.err.String(), `"level":"error"`) {
			t.Errorf("replica %d logged an error:\n%s", i, r.err)
		}
	}
}

func dumpMessages(ms []slacktest.Message) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%s %s\n", m.TS, m.AllText())
	}
	return b.String()
}
