package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/statuspage/statuspagetest"
	"github.com/opsbot/opsbot/telemetry"
	"github.com/opsbot/opsbot/triage"
)

// The channels of the authorization tests: #random, which the bot is in
// but where /ops may not be used, and alice's direct message with the bot.
const (
	randomChannel = "C0RANDOM1"
	aliceDM       = "D0ALICEDM"
)

func withRandomAndDM(o *slacktest.Options) {
	o.Channels = append(o.Channels,
		slacktest.Channel{ID: randomChannel, Name: "random", Members: []string{alice, bob, carol, slacktest.DefaultBotUserID}},
		slacktest.Channel{ID: aliceDM, Name: "alice-dm", IsPrivate: true, Members: []string{alice, slacktest.DefaultBotUserID}})
}

// refusals is the store's audit record of refusals, watched: every
// RecordRefusal call is reported on calls once it returned, so that tests
// wait for it instead of polling the store.
type refusals struct {
	store interface {
		bot.RefusalLog
		Refusals(ctx context.Context, since time.Time, limit int) ([]opsbot.Refusal, error)
	}
	calls chan opsbot.Refusal
}

func watchRefusals(t testing.TB, s triage.Store) *refusals {
	t.Helper()
	r := &refusals{calls: make(chan opsbot.Refusal, 100)}
	var ok bool
	if r.store, ok = s.(interface {
		bot.RefusalLog
		Refusals(ctx context.Context, since time.Time, limit int) ([]opsbot.Refusal, error)
	}); !ok {
		t.Fatalf("%T keeps no refusals", s)
	}
	return r
}

func (r *refusals) RecordRefusal(ctx context.Context, rf opsbot.Refusal) (bool, error) {
	added, err := r.store.RecordRefusal(ctx, rf)
	r.calls <- rf
	return added, err
}

// next waits for the next RecordRefusal call to return.
func (r *refusals) next(t testing.TB) opsbot.Refusal {
	t.Helper()
	select {
	case rf := <-r.calls:
		return rf
	case <-time.After(waitTimeout):
		t.Fatal("no refusal was recorded")
		return opsbot.Refusal{}
	}
}

// all is every refusal recorded, newest first.
func (r *refusals) all(t testing.TB) []opsbot.Refusal {
	t.Helper()
	got, err := r.store.Refusals(context.Background(), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// wantRefusalsCounted checks opsbot_refusals_total: want by reason, every
// other reason 0. The bot counts a refusal after the store has answered,
// so a test that has just seen the refusal recorded may be a moment
// early: the comparison is retried until it holds or waitTimeout passes.
func wantRefusalsCounted(t *testing.T, m *telemetry.Metrics, want map[string]int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# HELP opsbot_refusals_total Slack commands, clicks and modal submissions refused, by reason (workspace, enterprise, app, channel, direct_message, not_decider).\n")
	b.WriteString("# TYPE opsbot_refusals_total counter\n")
	for _, r := range opsbot.Reasons {
		fmt.Fprintf(&b, "opsbot_refusals_total{reason=%q} %d\n", r, want[r])
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitTimeout)
	for {
		err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(b.String()), "opsbot_refusals_total")
		if err == nil {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Error(err)
			return
		}
	}
}

// /ops in a channel outside bot.allowedChannels is refused: the user is
// told where to use it, nothing runs, and the refusal is recorded once
// (delivered again, it is not recorded twice) and counted. The allowed
// channel and the bot's own channels work; a refused decider's refusal is
// recorded too.
func TestSlashCommandInADisallowedChannelIsRefusedAndAudited(t *testing.T) {
	for _, kind := range []storeKind{onSQLite, onPostgres} {
		t.Run(string(kind), func(t *testing.T) {
			fs := newFake(t, withRandomAndDM)
			store := openStore(t, kind, "")
			rl := watchRefusals(t, store)
			metrics := telemetry.New("test")
			h := newHarness(t, fs, store, func(o *setup) {
				o.AllowedChannels = []string{opsChannel}
				o.Refusals, o.Metrics = rl, metrics
			})
			h.setChecks(&fakeCheck{name: "pods", result: result()})
			h.start()

			env, err := fs.SendSlashCommand(h.ctx, slacktest.SlashCommand{Command: "/ops", Text: "checklist prod", UserID: alice, ChannelID: randomChannel})
			if err != nil {
				t.Fatal(err)
			}
			told := h.waitEphemeral(alice, "opsbot does not answer in this channel")
			if want := "use `/ops` in <#" + opsChannel + ">, <#" + devChannel + ">"; !strings.Contains(told.Text, want) || told.Source != "ack" {
				t.Errorf("alice was told %q (%s), want it to say %q, in the ack", told.Text, told.Source, want)
			}
			got := rl.next(t)
			want := opsbot.Refusal{Key: "cmd:" + env.TriggerID, At: got.At, UserID: alice, TeamID: slacktest.DefaultTeamID,
				Channel: randomChannel, Action: "/ops checklist", Reason: opsbot.ReasonChannel}
			if got != want {
				t.Errorf("recorded %+v\nwant     %+v", got, want)
			}

			// Delivered again: told again, recorded and counted once.
			if _, err := fs.Redeliver(h.ctx, env.ID, "timeout"); err != nil {
				t.Fatal(err)
			}
			rl.next(t)
			if all := rl.all(t); len(all) != 1 || all[0].Key != want.Key || !all[0].At.Equal(got.At) {
				t.Errorf("refusals after a redelivery = %+v, want the first one only", all)
			}

			// The allowed channel and the bot's own work; bob, not a
			// decider, is refused there, and that is recorded too.
			h.report(alice)
			h.slash(bob, "checklist")
			h.waitEphemeral(bob, "You are not allowed to do that")
			if rf := rl.next(t); rf.Reason != opsbot.ReasonNotDecider || rf.UserID != bob || rf.Action != "/ops checklist" || rf.Channel != opsChannel {
				t.Errorf("bob's refusal recorded as %+v", rf)
			}
			if _, err := fs.SendSlashCommand(h.ctx, slacktest.SlashCommand{Command: "/ops", Text: "status", UserID: alice, ChannelID: devChannel}); err != nil {
				t.Fatal(err)
			}
			h.waitEphemeral(alice, "No open anomalies")

			if n := len(fs.Messages(randomChannel)); n != 0 {
				t.Errorf("%d messages posted in the disallowed channel", n)
			}
			if n := len(rl.all(t)); n != 2 {
				t.Errorf("%d refusals recorded, want 2", n)
			}
			wantRefusalsCounted(t, metrics, map[string]int{opsbot.ReasonChannel: 1, opsbot.ReasonNotDecider: 1})
		})
	}
}

// Direct messages are refused unless bot.allowDirectMessages is set, with
// or without an allow-list of channels.
func TestDirectMessages(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allowed=%v", allow), func(t *testing.T) {
			fs := newFake(t, withRandomAndDM)
			store := openStore(t, onSQLite, "")
			rl := watchRefusals(t, store)
			metrics := telemetry.New("test")
			h := newHarness(t, fs, store, func(o *setup) {
				o.AllowDirectMessages = allow
				o.Refusals, o.Metrics = rl, metrics
			})
			h.start()
			if _, err := fs.SendSlashCommand(h.ctx, slacktest.SlashCommand{Command: "/ops", Text: "status", UserID: alice, ChannelID: aliceDM}); err != nil {
				t.Fatal(err)
			}
			if allow {
				h.waitEphemeral(alice, "No open anomalies")
				if all := rl.all(t); len(all) != 0 {
					t.Errorf("refusals recorded: %+v", all)
				}
				wantRefusalsCounted(t, metrics, nil)
				return
			}
			told := h.waitEphemeral(alice, "opsbot does not answer in direct messages")
			if !strings.Contains(told.Text, "use `/ops` in a channel opsbot is a member of") {
				t.Errorf("alice was told %q", told.Text)
			}
			if rf := rl.next(t); rf.Reason != opsbot.ReasonDirectMessage || rf.Channel != aliceDM || rf.Action != "/ops status" {
				t.Errorf("recorded %+v", rf)
			}
			wantRefusalsCounted(t, metrics, map[string]int{opsbot.ReasonDirectMessage: 1})
			// Any channel is still fine.
			if _, err := fs.SendSlashCommand(h.ctx, slacktest.SlashCommand{Command: "/ops", Text: "status", UserID: alice, ChannelID: randomChannel}); err != nil {
				t.Fatal(err)
			}
			h.waitEphemeral(alice, "No open anomalies")
		})
	}
}

// A button in a message of a channel that is no longer allowed (a report
// posted before bot.allowedChannels was set) is refused: told why, nothing
// opened, recorded.
func TestClickInADisallowedChannelIsRefused(t *testing.T) {
	fs := newFake(t, withRandomAndDM)
	path := t.TempDir() + "/opsbot.db"
	store1 := openStore(t, onSQLite, path)
	h1 := newHarness(t, fs, store1)
	h1.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "OOMKilled"))})
	h1.start()
	if _, err := fs.SendSlashCommand(h1.ctx, slacktest.SlashCommand{Command: "/ops", Text: "checklist", UserID: alice, ChannelID: randomChannel}); err != nil {
		t.Fatal(err)
	}
	rep := h1.waitMessage(randomChannel, "*Checklist prod*")
	if err := h1.stop(); err != nil {
		t.Fatal(err)
	}

	store2 := openStore(t, onSQLite, path)
	rl := watchRefusals(t, store2)
	metrics := telemetry.New("test")
	h2 := newHarness(t, fs, store2, func(o *setup) {
		o.AllowedChannels = []string{opsChannel}
		o.Refusals, o.Metrics = rl, metrics
	})
	h2.start()
	h2.click(alice, randomChannel, rep.TS, bot.ActionInvestigate, "finding/0")
	told := h2.waitEphemeral(alice, "opsbot does not answer in this channel")
	if told.Source != "response_url" {
		t.Errorf("told through %s, want the click's response_url", told.Source)
	}
	rf := rl.next(t)
	if rf.Reason != opsbot.ReasonChannel || rf.Action != bot.ActionInvestigate || rf.Channel != randomChannel || rf.UserID != alice ||
		!strings.HasPrefix(rf.Key, "click:") {
		t.Errorf("recorded %+v", rf)
	}
	if n := len(fs.Messages(devChannel)); n != 0 {
		t.Errorf("a refused click opened an anomaly: %s", dump(fs.Messages(devChannel)))
	}
	wantRefusalsCounted(t, metrics, map[string]int{opsbot.ReasonChannel: 1})
}

// An announcement form opened in a channel that is no longer allowed is
// refused when submitted: the form says why, nothing is announced, the
// refusal is recorded with the form's channel.
func TestModalFromADisallowedChannelIsRefused(t *testing.T) {
	fs := newFake(t, withRandomAndDM)
	page := statuspagetest.New(t, statuspagetest.Options{})
	path := t.TempDir() + "/opsbot.db"
	e1 := newIncidentEnv(t, fs, page, openStore(t, onSQLite, path))
	e1.start()
	v := e1.openIncidentModal(alice, func() {
		if _, err := fs.SendSlashCommand(e1.ctx, slacktest.SlashCommand{Command: "/ops", Text: "incident", UserID: alice, ChannelID: randomChannel}); err != nil {
			t.Fatal(err)
		}
	})
	if err := e1.stop(); err != nil {
		t.Fatal(err)
	}

	store2 := openStore(t, onSQLite, path)
	rl := watchRefusals(t, store2)
	e2 := newIncidentEnv(t, fs, page, store2, func(o *setup) {
		o.AllowedChannels = []string{opsChannel}
		o.Refusals = rl
	})
	e2.start()
	ack := e2.submit(v, "userImpact", "checkout fails", "what", "payments API returns 502")
	if ack.ResponseAction != "errors" || !strings.Contains(ack.Errors["userImpact"], "opsbot does not answer in this channel") {
		t.Fatalf("ack = %+v, want the refusal on the form", ack)
	}
	rf := rl.next(t)
	if rf.Reason != opsbot.ReasonChannel || rf.Action != bot.CallbackIncident || rf.Channel != randomChannel || !strings.HasPrefix(rf.Key, "view:"+v.ID+":") {
		t.Errorf("recorded %+v", rf)
	}
	if n := len(fs.Messages(opsChannel)); n != 0 {
		t.Errorf("a refused form announced: %s", dump(fs.Messages(opsChannel)))
	}
}

// In an Enterprise Grid workspace (auth.test names the organization),
// payloads naming another organization, or none, are dropped: no answer,
// nothing run, recorded and counted; so are those of another workspace or
// app. The organization's own payloads work.
func TestWrongEnterpriseIsDroppedAndAudited(t *testing.T) {
	const grid, other = "E0000GRID", "E0000EVIL"
	fs := newFake(t, func(o *slacktest.Options) { o.EnterpriseID = grid })
	store := openStore(t, onSQLite, "")
	rl := watchRefusals(t, store)
	metrics := telemetry.New("test")
	h := newHarness(t, fs, store, func(o *setup) { o.Refusals, o.Metrics = rl, metrics })
	h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "OOMKilled"))})
	h.start()

	for _, tt := range []struct {
		opt    slacktest.PayloadOption
		reason string
		want   opsbot.Refusal
	}{
		{slacktest.WithEnterprise(other), opsbot.ReasonEnterprise, opsbot.Refusal{TeamID: slacktest.DefaultTeamID, EnterpriseID: other}},
		{slacktest.WithEnterprise(""), opsbot.ReasonEnterprise, opsbot.Refusal{TeamID: slacktest.DefaultTeamID}},
		{slacktest.WithTeam("T99999999"), opsbot.ReasonWorkspace, opsbot.Refusal{TeamID: "T99999999", EnterpriseID: grid}},
		{slacktest.WithAppID("A99999999"), opsbot.ReasonApp, opsbot.Refusal{TeamID: slacktest.DefaultTeamID, EnterpriseID: grid}},
	} {
		env := h.slash(alice, "anomaly from elsewhere", tt.opt)
		if !env.Acked || len(env.AckPayload) != 0 {
			t.Errorf("%s: acked %v, payload %s; want a bare ack", tt.reason, env.Acked, env.AckPayload)
		}
		got := rl.next(t)
		want := tt.want
		want.Key, want.At, want.UserID, want.Channel, want.Action, want.Reason =
			"cmd:"+env.TriggerID, got.At, alice, opsChannel, "/ops anomaly", tt.reason
		if got != want {
			t.Errorf("recorded %+v\nwant     %+v", got, want)
		}
	}
	rep := h.report(alice) // the organization's own payloads work
	h.click(alice, opsChannel, rep.TS, bot.ActionInvestigate, "finding/0", slacktest.WithEnterprise(other))
	if rf := rl.next(t); rf.Reason != opsbot.ReasonEnterprise || rf.Action != bot.ActionInvestigate || rf.EnterpriseID != other {
		t.Errorf("the click was recorded as %+v", rf)
	}
	h.slash(alice, "status") // handled after everything above
	h.waitEphemeral(alice, "No open anomalies")
	if n := len(fs.Ephemerals(alice)); n != 1 {
		t.Errorf("%d ephemerals, want only the status: %+v", n, fs.Ephemerals(alice))
	}
	if len(fs.Messages(devChannel)) != 0 {
		t.Error("a foreign payload opened an anomaly")
	}
	wantRefusalsCounted(t, metrics, map[string]int{opsbot.ReasonEnterprise: 3, opsbot.ReasonWorkspace: 1, opsbot.ReasonApp: 1})
}

// A configured enterprise id that auth.test does not confirm stops the
// bot before it takes any payload.
func TestConfiguredEnterpriseMustMatchTheToken(t *testing.T) {
	for _, tt := range []struct{ fake, configured, want string }{
		{"E0000GRID", "E0000EVIL", "is in Enterprise Grid organization E0000GRID, the configuration expects E0000EVIL"},
		{"", "E0000GRID", "is in no Enterprise Grid organization, the configuration expects E0000GRID"},
	} {
		fs := newFake(t, func(o *slacktest.Options) { o.EnterpriseID = tt.fake })
		h := newHarness(t, fs, openStore(t, onSQLite, ""), func(o *setup) { o.EnterpriseID = tt.configured })
		b := h.assemble()
		if err := b.CheckToken(h.ctx); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("fake %q, configured %q: CheckToken = %v, want %q", tt.fake, tt.configured, err, tt.want)
		}
	}
}

// `/ops checklist` delivered again after a restart (a new process, the same
// store: its in-memory dedupe is empty) does not run again: one report.
func TestRedeliveredChecklistAfterRestartReportsOnce(t *testing.T) {
	fs := newFake(t)
	path := t.TempDir() + "/opsbot.db"
	h1 := newHarness(t, fs, openStore(t, onSQLite, path))
	h1.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "OOMKilled"))})
	h1.start()
	h1.report(alice)
	envs := fs.Envelopes()
	env := envs[len(envs)-1]
	if env.Type != slacktest.TypeSlashCommands {
		t.Fatalf("the last envelope is a %s", env.Type)
	}
	if err := h1.stop(); err != nil {
		t.Fatal(err)
	}

	// One checklist worker: the redelivery is handled before the later
	// command below.
	h2 := newHarness(t, fs, openStore(t, onSQLite, path), func(o *setup) { o.ChecklistWorkers = 1 })
	h2.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "OOMKilled"))})
	h2.start()
	again, err := fs.Redeliver(h2.ctx, env.ID, "timeout")
	if err != nil {
		t.Fatal(err)
	}
	if again.RetryAttempt != 1 || again.TriggerID != env.TriggerID {
		t.Fatalf("redelivered as attempt %d, trigger %s", again.RetryAttempt, again.TriggerID)
	}
	// A later command, carol's, handled after the redelivery (by the one
	// worker), is the second report; the redelivery posted none.
	h2.slash(carol, "checklist")
	if _, err := fs.WaitForMessage(h2.ctx, opsChannel, func(m slacktest.Message) bool {
		return strings.Contains(m.AllText(), "*Checklist prod*") && strings.Contains(m.AllText(), "@carol")
	}); err != nil {
		t.Fatalf("no report for carol: %v\n%s", err, dump(fs.Messages(opsChannel)))
	}
	reports := 0
	for _, m := range fs.Messages(opsChannel) {
		if strings.Contains(m.AllText(), "*Checklist prod*") {
			reports++
		}
	}
	if reports != 2 {
		t.Errorf("%d reports, want 2 (alice's first command and carol's):\n%s", reports, dump(fs.Messages(opsChannel)))
	}
}
