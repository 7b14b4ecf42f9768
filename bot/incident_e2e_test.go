package bot_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/statuspage"
	"github.com/opsbot/opsbot/statuspage/statuspagetest"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/triage"
)

// scratchChannel holds copies of ephemeral messages, so that their buttons
// can be clicked (the fake clicks buttons of channel messages only).
const scratchChannel = "C0SCRATCH"

// incidentNow is the bot's clock in the incident tests: 14:30 in London
// (GMT), in the past so that the store's real clock accepts it.
var incidentNow = time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)

// incidentEnv is a fake Slack, a fake status page for prod and the bot.
type incidentEnv struct {
	*harness
	page      *statuspagetest.Server
	incidents incident.Store
}

func incidentStore(t testing.TB, s triage.Store) incident.Store {
	t.Helper()
	db, ok := s.(interface{ Incidents() *store.Incidents })
	if !ok {
		t.Fatalf("%T has no Incidents()", s)
	}
	return db.Incidents()
}

func withScratch(o *slacktest.Options) {
	o.Channels = append(o.Channels, slacktest.Channel{ID: scratchChannel, Name: "scratch",
		Members: []string{alice, bob, carol, slacktest.DefaultBotUserID}})
}

func newIncidentEnv(t *testing.T, fs *slacktest.Server, page *statuspagetest.Server, st triage.Store, mod ...func(*setup)) *incidentEnv {
	t.Helper()
	client, err := statuspage.New(statuspage.Config{
		BaseURL: page.URL(), PageID: page.PageID, APIKey: httpx.Secret(page.APIKey),
		Components: []string{"cmpapi"}, Timeout: model.Duration(20 * time.Second), RequestsPerSecond: 1000,
	}, nil, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	e := &incidentEnv{page: page, incidents: incidentStore(t, st)}
	e.harness = newHarness(t, fs, st, func(o *setup) {
		o.Now = func() time.Time { return incidentNow }
		o.Incident = &testIncidents{
			Store:       e.incidents,
			StatusPages: map[string]incident.StatusPageClient{"prod": client.ForIncidents()},
		}
		for _, m := range mod {
			m(o)
		}
	})
	return e
}

func startIncidentEnv(t *testing.T) *incidentEnv {
	t.Helper()
	fs := newFake(t, withScratch)
	e := newIncidentEnv(t, fs, statuspagetest.New(t, statuspagetest.Options{}), openStore(t, onSQLite, ""))
	e.start()
	return e
}

// openIncidentModal runs `/ops <cmd>` as user and returns the modal it
// opened.
func (h *harness) openIncidentModal(user string, do func()) slacktest.View {
	h.t.Helper()
	before := map[string]bool{}
	for _, v := range h.fs.Views() {
		before[v.ID] = true
	}
	do()
	var view slacktest.View
	if err := h.fs.WaitFor(h.ctx, func() bool {
		for _, v := range h.fs.OpenViews(user) {
			if !before[v.ID] {
				view = v
				return true
			}
		}
		return false
	}); err != nil {
		h.t.Fatalf("no modal opened: %v (ephemerals %+v)", err, h.fs.Ephemerals(user))
	}
	if view.CallbackID != bot.CallbackIncident {
		h.t.Fatalf("modal %s opened, want %s", view.CallbackID, bot.CallbackIncident)
	}
	return view
}

// initialValues is what Slack's client submits for a modal nobody
// touched: the initial value of each input.
func initialValues(t testing.TB, v slacktest.View) slacktest.ViewValues {
	t.Helper()
	var blocks []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Element struct {
			Type           string `json:"type"`
			ActionID       string `json:"action_id"`
			InitialValue   string `json:"initial_value"`
			InitialDate    string `json:"initial_date"`
			InitialTime    string `json:"initial_time"`
			InitialOptions []struct {
				Value string `json:"value"`
			} `json:"initial_options"`
		} `json:"element"`
	}
	if err := json.Unmarshal(v.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	vals := slacktest.ViewValues{}
	for _, b := range blocks {
		if b.Type != "input" {
			continue
		}
		el := b.Element
		in := slacktest.InputValue{Value: el.InitialValue, SelectedDate: el.InitialDate, SelectedTime: el.InitialTime}
		for _, o := range el.InitialOptions {
			in.SelectedOptions = append(in.SelectedOptions, o.Value)
		}
		if in.Value != "" || in.SelectedDate != "" || in.SelectedTime != "" || len(in.SelectedOptions) > 0 {
			vals[b.BlockID] = map[string]slacktest.InputValue{el.ActionID: in}
		}
	}
	return vals
}

// submit submits the modal with its initial values, changed by kv (block
// id, value; "from" and "fromTime" take a date and a time; "statusPage"
// "" unticks the box).
func (h *harness) submit(v slacktest.View, kv ...string) slacktest.ViewAck {
	h.t.Helper()
	ack, _ := h.submitEnvelope(v, kv...)
	return ack
}

func (h *harness) submitEnvelope(v slacktest.View, kv ...string) (slacktest.ViewAck, *slacktest.Envelope) {
	h.t.Helper()
	vals := initialValues(h.t, v)
	for i := 0; i+1 < len(kv); i += 2 {
		k, val := kv[i], kv[i+1]
		var in slacktest.InputValue
		switch k {
		case "from":
			in.SelectedDate = val
		case "fromTime":
			in.SelectedTime = val
		case "statusPage":
			if val == "" {
				delete(vals, k)
				continue
			}
			in.SelectedOptions = []string{val}
		default:
			in.Value = val
		}
		vals[k] = map[string]slacktest.InputValue{k: in}
	}
	env, err := h.fs.SubmitView(h.ctx, v.ID, vals)
	if err != nil {
		h.t.Fatalf("submit: %v", err)
	}
	ack, err := env.ViewAck()
	if err != nil {
		h.t.Fatal(err)
	}
	return ack, env
}

// clickEphemeral clicks a button of an ephemeral message: the fake only
// clicks buttons of channel messages, so the ephemeral's blocks are copied
// to the scratch channel first.
func (h *harness) clickEphemeral(user string, e slacktest.Ephemeral, actionID, blockID string) {
	h.t.Helper()
	ts, err := h.fs.Seed(scratchChannel, slacktest.Message{User: slacktest.DefaultBotUserID, Text: e.Text, Blocks: e.Blocks})
	if err != nil {
		h.t.Fatal(err)
	}
	h.click(user, scratchChannel, ts, actionID, blockID)
}

// ephemeralsTo waits until user got n ephemerals and returns them.
func (h *harness) ephemeralsTo(user string, n int) []slacktest.Ephemeral {
	h.t.Helper()
	if err := h.fs.WaitFor(h.ctx, func() bool { return len(h.fs.Ephemerals(user)) >= n }); err != nil {
		h.t.Fatalf("%s got %d ephemerals, want %d: %+v", user, len(h.fs.Ephemerals(user)), n, h.fs.Ephemerals(user))
	}
	return h.fs.Ephemerals(user)
}

// The runbook's announcement, character for character, of the incident
// the tests announce.
const wantAnnouncement = "📟 Degraded service\n" +
	"From: 2026-11-23 13:20 GMT\n" +
	"User impact: Checkout fails for about 20% of users &lt;!channel&gt;\n" +
	"What: payments API returns 502 &amp; times out\n" +
	"Investigation in progress."

// announce runs `/ops incident` as alice and submits the modal; it
// returns the announcement once alice was told (the status page is done).
func (e *incidentEnv) announce(kv ...string) slacktest.Message {
	e.t.Helper()
	v := e.openIncidentModal(alice, func() { e.slash(alice, "incident") })
	fields := append([]string{"from", "2026-11-23", "fromTime", "13:20",
		"userImpact", "Checkout fails for\nabout 20% of users <!channel>",
		"what", "payments API returns 502 & times out"}, kv...)
	return e.submitAnnouncement(v, fields...)
}

// submitAnnouncement submits an announcement modal and waits for the
// announcement and for the announcer's answer.
func (e *incidentEnv) submitAnnouncement(v slacktest.View, kv ...string) slacktest.Message {
	e.t.Helper()
	before := len(e.fs.Messages(opsChannel))
	told := len(e.fs.Ephemerals(v.User))
	if ack := e.submit(v, kv...); ack.ResponseAction != "" {
		e.t.Fatalf("submission refused: %+v", ack)
	}
	got := e.ephemeralsTo(v.User, told+1)[told]
	if !strings.Contains(got.Text, "Announced incident #") {
		e.t.Fatalf("the announcer was told %q", got.Text)
	}
	ms := e.fs.Messages(opsChannel)
	if len(ms) != before+1 {
		e.t.Fatalf("%d messages in #ops after an announcement, want %d", len(ms), before+1)
	}
	return ms[len(ms)-1]
}

func TestIncidentAnnounceUpdateResolve(t *testing.T) {
	e := startIncidentEnv(t)

	// The modal: From defaults to now in London, the status page box is
	// ticked (prod has one).
	v := e.openIncidentModal(alice, func() { e.slash(alice, "incident") })
	for _, want := range []string{`"initial_date":"2026-11-23"`, `"initial_time":"14:30"`, `"timezone":"Europe/London"`,
		`"block_id":"userImpact"`, `"block_id":"what"`, `"block_id":"statusPage"`} {
		if !strings.Contains(string(v.Blocks), want) {
			t.Errorf("modal lacks %s:\n%s", want, v.Blocks)
		}
	}
	// Missing user impact: an error on its block, nothing posted.
	ack := e.submit(v, "userImpact", "   ", "what", "502s")
	if ack.ResponseAction != "errors" || ack.Errors["userImpact"] != "required" || len(ack.Errors) != 1 {
		t.Fatalf("ack = %+v, want an error on userImpact", ack)
	}
	// A start in the future: an error on from.
	ack = e.submit(v, "from", "2026-11-24", "userImpact", "checkout fails", "what", "502s")
	if ack.ResponseAction != "errors" || !strings.Contains(ack.Errors["from"], "future") {
		t.Fatalf("ack = %+v, want an error on from", ack)
	}
	if n := len(e.fs.Messages(opsChannel)); n != 0 {
		t.Fatalf("%d messages after invalid submissions", n)
	}
	if open, _ := e.incidents.ListOpen(e.ctx, ""); len(open) != 0 {
		t.Fatalf("invalid submissions recorded %d incidents", len(open))
	}
	ack, submitted := e.submitEnvelope(v, "from", "2026-11-23", "fromTime", "13:20",
		"userImpact", "Checkout fails for\nabout 20% of users <!channel>", "what", "payments API returns 502 & times out")
	if ack.ResponseAction != "" {
		t.Fatalf("valid submission: %+v", ack)
	}
	ann := e.waitMessage(opsChannel, "📟 Degraded service")
	goldenPosted(t, "incident-announcement", ann.Text, ann.Blocks)
	e.waitEphemeral(alice, "Announced incident #1")
	// The submission delivered again (idempotent on the view id): told
	// again, nothing posted or created again.
	if _, err := e.fs.Redeliver(e.ctx, submitted.ID, "timeout"); err != nil {
		t.Logf("redeliver: %v", err)
	}
	e.ephemeralsTo(alice, 2)
	if n, p := len(e.fs.Messages(opsChannel)), len(e.page.Incidents()); n != 1 || p != 1 {
		t.Fatalf("after a redelivered submission: %d announcements, %d status page incidents", n, p)
	}
	inc, err := e.incidents.Get(e.ctx, 1)
	if err != nil || inc.MessageTS != ann.TS || inc.Channel != opsChannel || inc.StatusPage.State != incident.StatusPageOpen ||
		inc.AnnouncedBy != alice || inc.Environment != "prod" {
		t.Fatalf("incident = %+v, %v", inc, err)
	}
	pages := e.page.Incidents()
	if len(pages) != 1 || pages[0].Status != "investigating" || pages[0].ID != inc.StatusPage.IncidentID {
		t.Fatalf("status page: %+v", pages)
	}

	// /ops update: in the thread, and on the status page.
	e.slash(alice, "update Rolled back the deploy <b>")
	upd := e.waitMessage(opsChannel, "Rolled back the deploy")
	goldenPosted(t, "incident-update", upd.Text, upd.Blocks)
	if upd.ThreadTS != ann.TS {
		t.Errorf("update in thread %q, want %s", upd.ThreadTS, ann.TS)
	}
	e.waitEphemeral(alice, "on the status page too")
	if p := e.page.Incidents()[0]; len(p.IncidentUpdates) != 2 || p.IncidentUpdates[0].Body != "Rolled back the deploy <b>" {
		t.Errorf("status page updates: %+v", p.IncidentUpdates)
	}

	// /ops resolve 14:05: the announcement edited (the original text, then
	// the two lines), the closing line in the thread, the status page
	// resolved.
	e.slash(alice, "resolve 14:05")
	closing := e.waitMessage(opsChannel, "Resolved after")
	goldenPosted(t, "incident-closing", closing.Text, closing.Blocks)
	if closing.ThreadTS != ann.TS {
		t.Errorf("closing line in %q, want %s", closing.ThreadTS, ann.TS)
	}
	edited, _ := e.fs.Message(opsChannel, ann.TS)
	goldenPosted(t, "incident-announcement-resolved", edited.Text, edited.Blocks)
	if edited.Updates != 1 {
		t.Errorf("announcement after resolve: %d updates, want 1", edited.Updates)
	}
	e.waitEphemeral(alice, "Resolved incident #1 after 45m")
	if p := e.page.Incidents()[0]; p.Status != "resolved" {
		t.Errorf("status page incident: %s", p.Status)
	}

	// Resolving twice changes nothing.
	requests := len(e.page.Requests())
	replies := len(e.fs.ThreadReplies(opsChannel, ann.TS))
	e.slash(carol, "resolve 1 14:20")
	e.waitEphemeral(carol, "Incident #1 was already resolved at 2026-11-23 14:05 GMT (by @alice)")
	e.slash(carol, "resolve")
	e.waitEphemeral(carol, "No incident is open")
	e.slash(carol, "update too late")
	e.waitEphemeral(carol, "No incident is open")
	edited2, _ := e.fs.Message(opsChannel, ann.TS)
	if edited2.Updates != 1 || edited2.Text != edited.Text || len(e.fs.ThreadReplies(opsChannel, ann.TS)) != replies ||
		len(e.page.Requests()) != requests {
		t.Errorf("resolving twice changed something: %d updates, %d replies (was %d), %d status page requests (was %d)",
			edited2.Updates, len(e.fs.ThreadReplies(opsChannel, ann.TS)), replies, len(e.page.Requests()), requests)
	}
	got, _ := e.incidents.Get(e.ctx, 1)
	if got.State != incident.Resolved || got.ResolvedBy != alice || !got.Until.Equal(time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC)) {
		t.Errorf("resolved incident = %+v", got)
	}
}

func TestIncidentResolveRefusesAnEndBeforeTheStart(t *testing.T) {
	e := startIncidentEnv(t)
	e.announce()
	e.slash(alice, "resolve 13:00")
	e.waitEphemeral(alice, "2026-11-23 13:00 GMT is before incident #1 started (2026-11-23 13:20 GMT)")
	e.slash(alice, "resolve 25:00")
	e.waitEphemeral(alice, "is not a time")
	if inc, _ := e.incidents.Get(e.ctx, 1); inc.State != incident.Open {
		t.Errorf("incident = %+v", inc)
	}
}

func TestIncidentAnnouncedFromASeriousDecision(t *testing.T) {
	e := startIncidentEnv(t)
	e.slash(alice, "anomaly checkout latency doubled")
	root := e.waitMessage(devChannel, "is looking at")
	e.decide(alice, root, triage.Serious, values("conclusion", "the payment provider is slow",
		"usersAffected", "every buyer: checkout takes 8 s"))
	reply := e.waitMessage(devChannel, "*Serious* — decided by @alice")
	if got := buttons(t, reply); !slices.Equal(got, []string{bot.ActionAnnounceIncident}) {
		t.Fatalf("reply buttons = %v", got)
	}
	if !strings.Contains(reply.AllText(), "*Follow-up:* say how many users are affected and how (noted: every buyer: checkout takes 8 s).") {
		t.Errorf("the follow-up is not the template's:\n%s", reply.AllText())
	}

	v := e.openIncidentModal(alice, func() { e.click(alice, devChannel, reply.TS, bot.ActionAnnounceIncident, "") })
	vals := initialValues(t, v)
	if got := vals["userImpact"]["userImpact"].Value; got != "every buyer: checkout takes 8 s" {
		t.Errorf("user impact prefilled with %q", got)
	}
	if got := vals["what"]["what"].Value; got != "checkout latency doubled: the payment provider is slow" {
		t.Errorf("what prefilled with %q", got)
	}
	if !strings.Contains(string(v.Blocks), "anomaly #1") {
		t.Errorf("the modal does not name the anomaly:\n%s", v.Blocks)
	}
	ann := e.submitAnnouncement(v)
	want := "📟 Degraded service\nFrom: 2026-11-23 14:30 GMT\nUser impact: every buyer: checkout takes 8 s\n" +
		"What: checkout latency doubled: the payment provider is slow\nInvestigation in progress."
	if ann.Text != want {
		t.Errorf("announcement:\n got %q\nwant %q", ann.Text, want)
	}
	inc, err := e.incidents.Get(e.ctx, 1)
	if err != nil || inc.AnomalyID != 1 {
		t.Fatalf("incident = %+v, %v", inc, err)
	}
	link := e.waitMessage(devChannel, "Incident #1 announced by @alice")
	if link.ThreadTS != root.TS {
		t.Errorf("the link is not in the anomaly's thread")
	}
	// Announce again from the same anomaly: the incident is named, no
	// second one.
	e.click(alice, devChannel, reply.TS, bot.ActionAnnounceIncident, "")
	e.waitEphemeral(alice, "Incident #1 is already announced for anomaly #1")
	if n := len(e.fs.Messages(opsChannel)); n != 1 {
		t.Errorf("%d announcements", n)
	}
}

func TestIncidentsSeveralOpen(t *testing.T) {
	e := startIncidentEnv(t)
	first := e.announce()
	// The second in dev, which has no status page: no box in the modal.
	v := e.openIncidentModal(alice, func() { e.slash(alice, "incident dev") })
	if strings.Contains(string(v.Blocks), "statusPage") {
		t.Errorf("dev has no status page, the modal offers it:\n%s", v.Blocks)
	}
	second := e.submitAnnouncement(v, "from", "2026-11-23", "fromTime", "14:00", "userImpact", "search is slow", "what", "the index is rebuilding")

	// /ops update without an id: the list of open incidents.
	e.slash(alice, "update still looking")
	which := e.waitEphemeral(alice, "2 incidents are open; say which one")
	goldenPosted(t, "incident-update-which", which.Text, which.Blocks)
	e.slash(alice, "update #2 rebuilt 40%")
	upd := e.waitMessage(opsChannel, "rebuilt 40%")
	e.waitEphemeral(alice, "Posted the update of incident #2")
	if upd.ThreadTS != second.TS || !strings.HasSuffix(upd.Text, "): rebuilt 40%") {
		t.Errorf("update %q in thread %q", upd.Text, upd.ThreadTS)
	}
	if n := len(e.page.Incidents()); n != 1 {
		t.Errorf("%d status page incidents (dev has no status page)", n)
	}

	// /ops resolve without an id: a Resolve button per incident.
	told := len(e.fs.Ephemerals(alice))
	e.slash(alice, "resolve 14:25")
	list := e.ephemeralsTo(alice, told+1)[told]
	goldenPosted(t, "incident-resolve-list", list.Text, list.Blocks)
	e.clickEphemeral(alice, list, bot.ActionResolveIncident, "resolve/2")
	e.waitMessage(opsChannel, "Resolved after 25m")
	if m, _ := e.fs.Message(opsChannel, second.TS); !strings.HasSuffix(m.Text, "\n✅ Resolved\nUntil: 2026-11-23 14:25 GMT") {
		t.Errorf("second announcement: %q", m.Text)
	}
	if m, _ := e.fs.Message(opsChannel, first.TS); m.Updates != 0 {
		t.Errorf("the first announcement was edited: %q", m.Text)
	}
	// The same button again: already resolved.
	e.clickEphemeral(carol, list, bot.ActionResolveIncident, "resolve/2")
	e.waitEphemeral(carol, "Incident #2 was already resolved at 2026-11-23 14:25 GMT")
	// Now one is open: no list.
	e.slash(alice, "resolve")
	e.waitEphemeral(alice, "Resolved incident #1 after 1h 10m")
}

func TestIncidentResolvedTwiceAtOnce(t *testing.T) {
	e := startIncidentEnv(t)
	ann := e.announce()
	var wg sync.WaitGroup
	for _, u := range []string{alice, carol} {
		wg.Go(func() {
			if _, err := e.fs.SendSlashCommand(e.ctx, slacktest.SlashCommand{Command: "/ops", Text: "resolve 1 14:10",
				UserID: u, ChannelID: opsChannel}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	a, c := e.ephemeralsTo(alice, 2), e.ephemeralsTo(carol, 1)
	answers := a[len(a)-1].Text + "\n" + c[len(c)-1].Text
	if strings.Count(answers, "Resolved incident #1 after 50m") != 1 || strings.Count(answers, "already resolved at 2026-11-23 14:10 GMT") != 1 {
		t.Errorf("answers:\n%s", answers)
	}
	closings := 0
	for _, m := range e.fs.ThreadReplies(opsChannel, ann.TS) {
		if strings.Contains(m.Text, "Resolved after") {
			closings++
		}
	}
	if m, _ := e.fs.Message(opsChannel, ann.TS); closings != 1 || m.Updates != 1 {
		t.Errorf("%d closing lines, %d edits; want one each", closings, m.Updates)
	}
	resolves := 0
	for _, r := range e.page.Requests() {
		if r.Method == "PATCH" && strings.Contains(string(r.Body), "resolved") {
			resolves++
		}
	}
	if resolves != 1 {
		t.Errorf("%d status page resolutions", resolves)
	}
}

func TestIncidentResolvedAfterARestart(t *testing.T) {
	fs := newFake(t, withScratch)
	page := statuspagetest.New(t, statuspagetest.Options{})
	path := t.TempDir() + "/opsbot.db"
	st1 := openStore(t, onSQLite, path)
	e1 := newIncidentEnv(t, fs, page, st1)
	e1.start()
	ann := e1.announce()
	if err := e1.stop(); err != nil {
		t.Fatal(err)
	}
	if err := st1.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}

	e2 := newIncidentEnv(t, fs, page, openStore(t, onSQLite, path))
	e2.start()
	e2.slash(alice, "resolve 14:05")
	e2.waitMessage(opsChannel, "✅ Resolved after 45m (by @alice).")
	e2.waitEphemeral(alice, "Resolved incident #1 after 45m")
	m, _ := fs.Message(opsChannel, ann.TS)
	if want := wantAnnouncement + "\n✅ Resolved\nUntil: 2026-11-23 14:05 GMT"; m.Text != want {
		t.Errorf("announcement after a restart:\n got %q\nwant %q", m.Text, want)
	}
	if p := page.Incidents(); len(p) != 1 || p[0].Status != "resolved" {
		t.Errorf("status page: %+v", p)
	}
}

func TestIncidentStatusPageDown(t *testing.T) {
	e := startIncidentEnv(t)
	e.page.Down()
	v := e.openIncidentModal(alice, func() { e.slash(alice, "incident") })
	e.submit(v, "from", "2026-11-23", "fromTime", "13:20",
		"userImpact", "Checkout fails for\nabout 20% of users <!channel>", "what", "payments API returns 502 & times out")
	failed := e.waitEphemeral(alice, "status page failed")
	ann := e.waitMessage(opsChannel, "📟 Degraded service")
	if ann.Text != wantAnnouncement {
		t.Fatalf("announcement: %q", ann.Text)
	}
	if !strings.Contains(failed.Text, "Announced incident #1") || !strings.Contains(string(failed.Blocks), bot.ActionRetryStatusPage) {
		t.Errorf("failure message: %+v", failed)
	}
	inc, err := e.incidents.Get(e.ctx, 1)
	if err != nil || inc.MessageTS != ann.TS || inc.StatusPage.State != incident.StatusPagePending || inc.StatusPage.LastError == "" {
		t.Fatalf("incident = %+v, %v", inc, err)
	}
	// Retry while it is still down: told again, still nothing there.
	told := len(e.fs.Ephemerals(alice))
	e.clickEphemeral(alice, failed, bot.ActionRetryStatusPage, "")
	if again := e.ephemeralsTo(alice, told+1)[told]; !strings.Contains(again.Text, "status page failed") {
		t.Errorf("retry while down: %+v", again)
	}
	// Up again; the next create's answer is lost, then Retry: one status
	// page incident, twice retried.
	e.page.Up()
	e.page.LoseResponseNext(1)
	told = len(e.fs.Ephemerals(alice))
	e.clickEphemeral(alice, failed, bot.ActionRetryStatusPage, "")
	e.ephemeralsTo(alice, told+1)
	e.clickEphemeral(alice, failed, bot.ActionRetryStatusPage, "")
	e.waitEphemeral(alice, "the incident is on the status page")
	if p := e.page.Incidents(); len(p) != 1 {
		t.Fatalf("%d status page incidents, want 1: %+v", len(p), p)
	}
	inc, _ = e.incidents.Get(e.ctx, 1)
	if inc.StatusPage.State != incident.StatusPageOpen || inc.StatusPage.IncidentID != e.page.Incidents()[0].ID {
		t.Errorf("status page of the incident: %+v", inc.StatusPage)
	}
	if n := len(e.fs.Messages(opsChannel)); n != 1 {
		t.Errorf("%d announcements", n)
	}
}

func TestIncidentStatusPageFailsOnResolve(t *testing.T) {
	e := startIncidentEnv(t)
	ann := e.announce()
	e.page.FailNext(503, 100)
	e.slash(alice, "resolve 14:05")
	failed := e.waitEphemeral(alice, "status page failed")
	if !strings.Contains(failed.Text, "Resolved incident #1 after 45m") {
		t.Errorf("failure message: %q", failed.Text)
	}
	if m, _ := e.fs.Message(opsChannel, ann.TS); !strings.HasSuffix(m.Text, "Until: 2026-11-23 14:05 GMT") {
		t.Errorf("the announcement was not edited: %q", m.Text)
	}
	e.page.FailNext(503, 0)
	e.clickEphemeral(alice, failed, bot.ActionRetryStatusPage, "")
	e.waitEphemeral(alice, "resolved on the status page")
	if p := e.page.Incidents(); len(p) != 1 || p[0].Status != "resolved" {
		t.Errorf("status page: %+v", p)
	}
}

func TestIncidentUnauthorizedUsersChangeNothing(t *testing.T) {
	e := startIncidentEnv(t)
	ann := e.announce()
	for i, cmd := range []string{"incident", "update bob was here", "resolve", "resolve 1 14:05"} {
		e.slash(bob, cmd)
		if got := e.ephemeralsTo(bob, i+1)[i]; !strings.Contains(got.Text, "not allowed") {
			t.Errorf("/ops %s: bob was told %q", cmd, got.Text)
		}
	}
	// A Resolve button shown to alice, clicked by bob.
	e.announce("userImpact", "search is slow")
	told := len(e.fs.Ephemerals(alice))
	e.slash(alice, "resolve")
	list := e.ephemeralsTo(alice, told+1)[told]
	e.clickEphemeral(bob, list, bot.ActionResolveIncident, "resolve/1")
	if got := e.ephemeralsTo(bob, 5)[4]; !strings.Contains(got.Text, "not allowed") {
		t.Errorf("bob's click: %q", got.Text)
	}
	for _, v := range e.fs.Views() {
		if v.User == bob {
			t.Errorf("a modal was opened for bob")
		}
	}
	if m, _ := e.fs.Message(opsChannel, ann.TS); m.Updates != 0 || len(e.fs.ThreadReplies(opsChannel, ann.TS)) != 0 {
		t.Errorf("bob changed the incident: %q, %d replies", m.Text, len(e.fs.ThreadReplies(opsChannel, ann.TS)))
	}
	open, _ := e.incidents.ListOpen(e.ctx, "")
	if len(open) != 2 {
		t.Errorf("%d open incidents, want 2", len(open))
	}
	tl, _ := e.incidents.Timeline(e.ctx, 1)
	for _, en := range tl {
		if en.Kind == incident.KindUpdated || en.Kind == incident.KindResolved {
			t.Errorf("timeline has %s", en.Kind)
		}
	}
}

func TestIncidentsNotSetUp(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	h.start()
	h.slash(alice, "incident")
	h.waitEphemeral(alice, "Incidents are not set up")
	// A Serious decision gets no Announce button.
	h.slash(alice, "anomaly disk full")
	root := h.waitMessage(devChannel, "is looking at")
	h.decide(alice, root, triage.Serious, values("conclusion", "logs filled it", "usersAffected", "none yet"))
	reply := h.waitMessage(devChannel, "*Serious* — decided by @alice")
	if got := buttons(t, reply); len(got) != 0 {
		t.Errorf("buttons %v without incidents", got)
	}
}

func TestIncidentUsage(t *testing.T) {
	e := startIncidentEnv(t)
	for _, tt := range []struct{ text, want string }{
		{"incident staging", "There is no environment `staging`"},
		{"incident prod dev", "at most one environment"},
		{"update", "needs the text of the update"},
		{"resolve yesterday", "neither an incident id nor a time"},
		{"resolve 1 2 3 4", "optional incident id"},
		{"help", "/ops resolve [id] [14:05]"},
	} {
		env := e.slash(alice, tt.text)
		if !strings.Contains(string(env.AckPayload), tt.want) {
			t.Errorf("/ops %s: ack %s, want %q", tt.text, env.AckPayload, tt.want)
		}
	}
	e.slash(alice, "update #7 hello")
	e.waitEphemeral(alice, "There is no incident #7")
}

// nextEphemeral runs do and returns the next ephemeral user gets.
func (h *harness) nextEphemeral(user string, do func()) slacktest.Ephemeral {
	h.t.Helper()
	told := len(h.fs.Ephemerals(user))
	do()
	return h.ephemeralsTo(user, told+1)[told]
}

func wantButton(t *testing.T, e slacktest.Ephemeral, actionID, label string) {
	t.Helper()
	if !strings.Contains(string(e.Blocks), `"action_id":"`+actionID+`"`) || !strings.Contains(string(e.Blocks), label) {
		t.Errorf("no %q button %s in %q:\n%s", label, actionID, e.Text, e.Blocks)
	}
}

// chat.update fails when resolving (and the status page too): the user is
// told why, with a Retry; a second /ops resolve does the edit (it does not
// say "nothing changed") and still offers the status page's Retry; then
// resolving again changes nothing.
func TestIncidentEditFailsOnResolve(t *testing.T) {
	e := startIncidentEnv(t)
	ann := e.announce()
	e.fs.FailNext("chat.update", "cant_update_message", 1)
	e.page.FailNext(503, 100)
	failed := e.nextEphemeral(alice, func() { e.slash(alice, "resolve 14:05") })
	for _, want := range []string{"Resolved incident #1 after 45m",
		"The announcement of incident #1 could not be edited to show it resolved (Slack said `cant_update_message`)",
		"status page failed"} {
		if !strings.Contains(failed.Text, want) {
			t.Errorf("alice was told %q, want %q", failed.Text, want)
		}
	}
	wantButton(t, failed, bot.ActionRetryIncident, "Retry")
	if m, _ := e.fs.Message(opsChannel, ann.TS); m.Updates != 0 {
		t.Fatalf("the failed edit went through: %q", m.Text)
	}
	if inc, _ := e.incidents.Get(e.ctx, 1); inc.State != incident.Resolved || !inc.AnnouncementLags() {
		t.Fatalf("incident = %+v", inc)
	}

	// Someone resolves it again: the edit is done now.
	again := e.nextEphemeral(carol, func() { e.slash(carol, "resolve 1 14:20") })
	if want := "Incident #1 was already resolved at 2026-11-23 14:05 GMT (by @alice). " +
		":white_check_mark: The announcement of incident #1 now shows it resolved"; !strings.HasPrefix(again.Text, want) {
		t.Errorf("carol was told %q, want %q…", again.Text, want)
	}
	if strings.Contains(again.Text, "nothing changed") || !strings.Contains(again.Text, "status page failed") {
		t.Errorf("carol was told %q", again.Text)
	}
	wantButton(t, again, bot.ActionRetryStatusPage, "Retry")
	want := wantAnnouncement + "\n✅ Resolved\nUntil: 2026-11-23 14:05 GMT"
	if m, _ := e.fs.Message(opsChannel, ann.TS); m.Text != want || m.Updates != 1 {
		t.Errorf("announcement (%d edits):\n got %q\nwant %q", m.Updates, m.Text, want)
	}

	// The status page's Retry, then nothing is left.
	e.page.FailNext(503, 0)
	e.clickEphemeral(carol, again, bot.ActionRetryStatusPage, "")
	e.waitEphemeral(carol, "the incident is resolved on the status page")
	last := e.nextEphemeral(alice, func() { e.slash(alice, "resolve 1") })
	if !strings.Contains(last.Text, "already resolved") || !strings.Contains(last.Text, "nothing changed") {
		t.Errorf("alice was told %q", last.Text)
	}
	if m, _ := e.fs.Message(opsChannel, ann.TS); m.Updates != 1 {
		t.Errorf("%d edits, want 1", m.Updates)
	}
	closings := 0
	for _, m := range e.fs.ThreadReplies(opsChannel, ann.TS) {
		if strings.Contains(m.Text, "Resolved after") {
			closings++
		}
	}
	if closings != 1 {
		t.Errorf("%d closing lines, want 1", closings)
	}
	tl, _ := e.incidents.Timeline(e.ctx, 1)
	if last := tl[len(tl)-1]; last.Kind != incident.KindStatusPageResolved {
		t.Errorf("last timeline entry %s", last.Kind)
	}
}

// The Retry button of a failed edit does the edit.
func TestIncidentRetryAFailedEdit(t *testing.T) {
	e := startIncidentEnv(t)
	ann := e.announce()
	e.fs.FailNext("chat.update", "fatal_error", 1)
	failed := e.nextEphemeral(alice, func() { e.slash(alice, "resolve 14:05") })
	if !strings.Contains(failed.Text, "could not be edited") || strings.Contains(failed.Text, "status page failed") {
		t.Fatalf("alice was told %q", failed.Text)
	}
	if p := e.page.Incidents(); len(p) != 1 || p[0].Status != "resolved" {
		t.Errorf("the failed edit stopped the status page: %+v", p)
	}
	done := e.nextEphemeral(alice, func() { e.clickEphemeral(alice, failed, bot.ActionRetryIncident, "") })
	if !strings.Contains(done.Text, "The announcement of incident #1 now shows it resolved") || len(done.Blocks) > 0 &&
		strings.Contains(string(done.Blocks), "incident.retry") {
		t.Errorf("after Retry alice was told %+v", done)
	}
	if m, _ := e.fs.Message(opsChannel, ann.TS); m.Text != wantAnnouncement+"\n✅ Resolved\nUntil: 2026-11-23 14:05 GMT" || m.Updates != 1 {
		t.Errorf("announcement after Retry (%d edits): %q", m.Updates, m.Text)
	}
	// The same button again: nothing left.
	e.clickEphemeral(alice, failed, bot.ActionRetryIncident, "")
	e.waitEphemeral(alice, "Incident #1: nothing left to do.")
	if m, _ := e.fs.Message(opsChannel, ann.TS); m.Updates != 1 {
		t.Errorf("%d edits", m.Updates)
	}
}

// chat.postMessage fails when announcing: the incident is recorded and on
// the status page all the same, the user is told so with a Retry
// announcement button, which posts it: one incident, one announcement.
func TestIncidentAnnouncementPostFails(t *testing.T) {
	e := startIncidentEnv(t)
	e.fs.FailNext("chat.postMessage", "fatal_error", 1)
	v := e.openIncidentModal(alice, func() { e.slash(alice, "incident") })
	failed := e.nextEphemeral(alice, func() {
		e.submit(v, "from", "2026-11-23", "fromTime", "13:20",
			"userImpact", "Checkout fails for\nabout 20% of users <!channel>", "what", "payments API returns 502 & times out")
	})
	if want := "Incident #1 is recorded, but its announcement could not be posted in <#" + opsChannel +
		"> (Slack said `fatal_error`)"; !strings.Contains(failed.Text, want) {
		t.Errorf("alice was told %q, want %q", failed.Text, want)
	}
	wantButton(t, failed, bot.ActionRetryIncident, "Retry announcement")
	if n := len(e.fs.Messages(opsChannel)); n != 0 {
		t.Fatalf("%d messages in #ops", n)
	}
	if p := e.page.Incidents(); len(p) != 1 || p[0].Status != "investigating" {
		t.Errorf("the status page waited for Slack: %+v", p)
	}

	done := e.nextEphemeral(alice, func() { e.clickEphemeral(alice, failed, bot.ActionRetryIncident, "") })
	if !strings.Contains(done.Text, "Announced incident #1 in <#"+opsChannel+">") {
		t.Errorf("after Retry alice was told %q", done.Text)
	}
	ann := e.waitMessage(opsChannel, "📟 Degraded service")
	if ann.Text != wantAnnouncement {
		t.Errorf("announcement:\n got %q\nwant %q", ann.Text, wantAnnouncement)
	}
	// Again: nothing left; one incident, one announcement, one on the page.
	e.clickEphemeral(alice, failed, bot.ActionRetryIncident, "")
	e.waitEphemeral(alice, "Incident #1: nothing left to do.")
	inc, err := e.incidents.Get(e.ctx, 1)
	if err != nil || inc.MessageTS != ann.TS || inc.MessageText != wantAnnouncement {
		t.Errorf("incident = %+v, %v", inc, err)
	}
	if open, _ := e.incidents.ListOpen(e.ctx, ""); len(open) != 1 {
		t.Errorf("%d open incidents", len(open))
	}
	if n, p := len(e.fs.Messages(opsChannel)), len(e.page.Incidents()); n != 1 || p != 1 {
		t.Errorf("%d announcements, %d status page incidents", n, p)
	}
}

// /ops incident run in a channel the bot is not in: the answers of the
// submission (the confirmation, the status page's Retry) cannot go there
// (not_in_channel); they are shown to the user in the incident channel.
func TestIncidentAnswersWhenTheBotIsNotInTheChannel(t *testing.T) {
	const noBot = "C0NOBOT01"
	fs := newFake(t, withScratch, func(o *slacktest.Options) {
		o.Channels = append(o.Channels, slacktest.Channel{ID: noBot, Name: "random", Members: []string{alice, bob, carol}})
	})
	e := newIncidentEnv(t, fs, statuspagetest.New(t, statuspagetest.Options{}), openStore(t, onSQLite, ""))
	e.start()
	slashIn := func(channel, txt string) func() {
		return func() {
			if _, err := e.fs.SendSlashCommand(e.ctx, slacktest.SlashCommand{Command: "/ops", Text: txt, UserID: alice,
				ChannelID: channel}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, pageDown := range []bool{false, true} {
		if pageDown {
			e.page.Down()
		}
		v := e.openIncidentModal(alice, slashIn(noBot, "incident"))
		got := e.nextEphemeral(alice, func() {
			e.submit(v, "from", "2026-11-23", "fromTime", "13:20", "userImpact", "checkout fails", "what", "502s")
		})
		if want := fmt.Sprintf("Announced incident #%d", i+1); got.Channel != opsChannel || !strings.Contains(got.Text, want) {
			t.Errorf("alice was told %q in %s, want %q in %s", got.Text, got.Channel, want, opsChannel)
		}
		if pageDown {
			if !strings.Contains(got.Text, "status page failed") {
				t.Errorf("alice was told %q", got.Text)
			}
			wantButton(t, got, bot.ActionRetryStatusPage, "Retry")
		}
	}
	for _, eph := range e.fs.Ephemerals(alice) {
		if eph.Channel == noBot {
			t.Errorf("an ephemeral in the bot-less channel: %+v", eph)
		}
	}
}

// The resolution is appended to the announcement as it was posted, even
// when the time zone (or a template) changed since, here across a restart.
func TestIncidentResolveKeepsThePostedText(t *testing.T) {
	fs := newFake(t, withScratch)
	page := statuspagetest.New(t, statuspagetest.Options{})
	path := t.TempDir() + "/opsbot.db"
	st1 := openStore(t, onSQLite, path)
	e1 := newIncidentEnv(t, fs, page, st1)
	e1.start()
	ann := e1.announce()
	if err := e1.stop(); err != nil {
		t.Fatal(err)
	}
	if err := st1.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}

	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	e2 := newIncidentEnv(t, fs, page, openStore(t, onSQLite, path), func(o *setup) { o.Location = newYork })
	e2.start()
	e2.slash(alice, "resolve 1")
	e2.waitEphemeral(alice, "Resolved incident #1 after 1h 10m")
	m, _ := fs.Message(opsChannel, ann.TS)
	if want := wantAnnouncement + "\n✅ Resolved\nUntil: 2026-11-23 09:30 EST"; m.Text != want {
		t.Errorf("announcement:\n got %q\nwant %q", m.Text, want)
	}
}
