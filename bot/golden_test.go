package bot

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/London wherever the tests run

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// The golden tests render every kind of message the bot sends with the
// functions its handlers use, from pinned inputs (times, time zone, ids),
// and compare the result with testdata/<kind>.golden: the message as Slack
// receives it (slacktest.JSON: its fallback text and blocks, a modal's
// views.open request, a slash command's ack payload). Untrusted text in the
// fixtures carries <!channel>, &, <script> and *bold*, so that the files
// pin the escaping.
//
// After an intended change of a message:
//
//	go test ./bot -run Golden -update
//
// rewrites these files (`go test ./bot -update` also rewrites the
// end-to-end tests' testdata/e2e-*.golden); review the diff before
// committing it.

// Pinned inputs.
var (
	goldenLondon = func() *time.Location {
		l, err := time.LoadLocation("Europe/London")
		if err != nil {
			panic(err)
		}
		return l
	}()
	// goldenNow is a Tuesday morning in winter (London is on GMT);
	// goldenSummer is in summer (BST, UTC+1).
	goldenNow    = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	goldenSummer = time.Date(2026, 6, 2, 14, 5, 0, 0, time.UTC)
)

const (
	goldenAlice   = "U00000A01"
	goldenCarol   = "U00000C01"
	goldenOps     = "C00000OPS"
	goldenDev     = "C0000DEV1"
	goldenGroup   = "S00000OPS"
	goldenRootTS  = "1764000000.000100"
	goldenAnnTS   = "1764000600.000200"
	goldenTeamURL = "https://opsbot-test.slack.com/archives/"
)

// evil is untrusted text as it may come from logs, alerts or people.
const evil = "<!channel> *bold* & <script>alert(1)</script>"

// goldenMessage is a message as chat.postMessage, chat.update or
// chat.postEphemeral receive it: the fallback text and the blocks.
type goldenMessage struct {
	Text   string        `json:"text,omitempty"`
	Blocks []slack.Block `json:"blocks,omitempty"`
}

// golden compares v, as JSON, with testdata/name.golden.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	slacktest.Golden(t, filepath.Join("testdata", name+".golden"), slacktest.JSON(t, v))
}

func goldenMsg(t *testing.T, name, text string, blocks []slack.Block) {
	t.Helper()
	golden(t, name, goldenMessage{Text: text, Blocks: blocks})
}

// testTexts are the default templates, as New sets them up.
func testTexts(t testing.TB) texts {
	t.Helper()
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	return texts{set: set, log: zap.NewNop()}
}

// goldenNames knows the display names of the workspace, as if they had
// been seen in payloads (names.display does not call Slack for them).
func goldenNames() *names {
	n := newNames(nil)
	n.remember(goldenAlice, "alice")
	n.remember(goldenCarol, "carol")
	return n
}

// --- the checklist -----------------------------------------------------------

func goldenResults() []checks.Result {
	return []checks.Result{
		{Check: "pods", Status: checks.Fail, Summary: "142 pods in shop: 2 problems", Duration: 412 * time.Millisecond,
			Findings: []checks.Finding{
				{Fingerprint: "pods/shop/Deployment/api/api/CrashLoopBackOff", Severity: checks.Fail,
					Object: "Deployment shop/api", Title: "3/3 pods in CrashLoopBackOff " + evil,
					Detail: "back-off 5m0s restarting failed container=api\npods: api-7d9f8c6b5-x2x9q, api-7d9f8c6b5-k8s7d",
					Count:  3, Link: "https://grafana.example.com/d/pods?var-ns=shop&var-pod=api"},
				{Fingerprint: "pods/shop/StatefulSet/db/-/NotReady", Severity: checks.Warn,
					Object: "StatefulSet shop/db", Title: "1/3 replicas ready"},
			}},
		{Check: "logs", Status: checks.Warn, Summary: "38 containers, 1.2 GB read: 1 error signature <b>&</b>",
			Findings: []checks.Finding{
				{Fingerprint: "logs/shop/Deployment/web/web/x", Severity: checks.Warn, Object: "pod <@U00000A01>",
					Title:  "web: 12× ERROR payment failed for order N",
					Detail: "line 1 <https://evil.example.com|click me>\n@here line 2 *bold* & <script>",
					Link:   "javascript:alert(1)"},
			}},
		{Check: "alerts", Status: checks.Unknown, Summary: "alertmanager http://127.0.0.1:9093: connection refused",
			Findings: []checks.Finding{
				{Fingerprint: "alerts/-/silences", Severity: checks.Unknown, Title: "silences unreadable: " + evil},
			}},
		{Check: "metrics", Status: checks.OK, Summary: "6 queries: all within thresholds", Duration: 220 * time.Millisecond},
	}
}

// goldenGrafanaResults is a result of the grafana check: a red panel with
// its breach window and link, and the panels not evaluated.
func goldenGrafanaResults() []checks.Result {
	return []checks.Result{{Check: "grafana", Status: checks.Fail,
		Summary: "13 panels of 3 dashboards evaluated: 1 red, 12 green; 2 not evaluable; 1 without thresholds",
		Findings: []checks.Finding{
			{Fingerprint: "grafana/checkout/panel-1/checkout", Severity: checks.Fail, Object: "Checkout / Checkout p99",
				Title:  `panel "Checkout p99" was red (≥ 2 s) from 03:12 for 14 min`,
				Detail: "worst 3.1 s at 03:20\nquery A: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service=\"checkout\"}[1m15s])))",
				Link:   "https://grafana.example.com/d/checkout?viewPanel=1&from=1795400000000&to=1795486400000"},
			{Fingerprint: "grafana/not-evaluated", Severity: checks.OK, Count: 3,
				Title: "3 panels not evaluated (2 could not be, 1 without thresholds)",
				Detail: "Checkout / Error logs (panel 10): its datasource is loki (uid \"loki-prod\"), not Prometheus\n" +
					"Checkout / p99 jitter (panel 12): calculation \"stdDev\" is not one the check computes\n" +
					"Checkout / Read me (panel 15): a text panel: no thresholds the check evaluates"},
		}}}
}

func goldenReport(results []checks.Result) checks.Report {
	return checks.NewReport("prod", goldenNow, goldenNow.Add(1834*time.Millisecond), results)
}

func TestGoldenChecklistProgress(t *testing.T) {
	res := goldenResults()
	names := []string{"pods", "alerts", "logs", "http <script>"}
	// pods and logs are done; alerts and http still run. The update
	// (chat.update) sends blocks only.
	done := map[int]checks.Result{0: res[0], 2: res[1]}
	goldenMsg(t, "checklist-progress", "", progressBlocks(testTexts(t), "prod", Escape("@alice"), names, done))
}

func TestGoldenChecklistReport(t *testing.T) {
	tx := testTexts(t)
	ok := []checks.Result{
		{Check: "pods", Status: checks.OK, Summary: "142 pods in shop: all running"},
		{Check: "metrics", Status: checks.OK, Summary: "6 queries: all within thresholds"},
	}
	var many []checks.Finding
	for i := range 200 {
		many = append(many, checks.Finding{
			Fingerprint: fmt.Sprintf("logs/shop/api/%03d", i), Severity: checks.Fail,
			Object: "pod shop/api-" + strings.Repeat("x", i%7),
			Title:  fmt.Sprintf("error %03d %s", i, strings.Repeat("&", 50)),
			Detail: strings.Repeat("<detail> ", 60),
			Link:   "https://grafana.example.com/d/x?a=1&b=2",
		})
	}
	overflow := []checks.Result{
		{Check: "logs", Status: checks.Fail, Summary: "200 error signatures", Findings: many},
		{Check: "pods", Status: checks.OK, Summary: "142 pods in shop: all running"},
	}
	for _, tc := range []struct {
		name    string
		results []checks.Result
		runID   int64
		askedBy string
		stopped string
		cost    *checks.Cost
	}{
		{"checklist-report-ok", ok, 7, Escape("@alice"), "", nil},
		{"checklist-report-findings", goldenResults(), 42, Escape("@alice"), "", nil},
		{"checklist-report-truncated", overflow, 43, Escape("@alice"), "", &checks.Cost{Calls: 1954, LogBytes: 195_312_640}},
		// The run could not be stored: no Investigate buttons.
		{"checklist-report-unsaved", goldenResults(), 0, Escape("@alice"), "", nil},
		{"checklist-report-timed-out", goldenResults(), 44, say(tx, templates.ChecklistScheduledBy, templates.NoData{}),
			say(tx, templates.ChecklistTimedOut, templates.NoData{}), nil},
		// The grafana check: a panel's breach window, and the panels
		// it could not evaluate as one informational finding.
		{"checklist-report-grafana", goldenGrafanaResults(), 46, Escape("@alice"), "", nil},
		// A measured run ends with what it cost.
		{"checklist-report-cost", goldenResults(), 45, Escape("@alice"), "", &checks.Cost{Calls: 212, LogBytes: 38_400_000, Throttled: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := goldenReport(tc.results)
			rep.Cost = tc.cost
			fallback, blocks := reportMessage(tx, rep, tc.runID, tc.askedBy, tc.stopped, nil)
			goldenMsg(t, tc.name, fallback, blocks)
		})
	}
}

// goldenKnownNoise is a report with findings suppressed as known noise
// and one that grew past its Noise decision.
func goldenKnownNoise() checks.Report {
	res := goldenResults()
	decided := goldenNow.Add(-72 * time.Hour)
	res[1].Findings[0].Count = 150
	res[1].Findings[0].Known = &checks.Known{AnomalyID: 8, Decision: "Noise", DecidedBy: goldenCarol, DecidedAt: decided,
		DecidedCount: 12, Count: 150, Grew: true}
	rep := goldenReport(res)
	rep.Suppressed = []checks.Suppressed{
		{Check: "logs", Finding: checks.Finding{Fingerprint: "logs/shop/Deployment/api/api/timeout", Severity: checks.Warn,
			Title: "api: 30× WARN upstream timeout " + evil, Count: 30},
			Known: checks.Known{AnomalyID: 4, Decision: "Noise", DecidedBy: goldenCarol, DecidedAt: decided, DecidedCount: 12, Count: 30}},
		{Check: "pods", Finding: checks.Finding{Fingerprint: "pods/shop/Deployment/cron/cron/Restarts", Severity: checks.Warn,
			Title: "Deployment shop/cron: 1/1 pods restarting often", Count: 1},
			Known: checks.Known{AnomalyID: 5, Decision: "Intermittent", DecidedBy: goldenAlice, DecidedAt: goldenNow.Add(-24 * time.Hour),
				DecidedCount: 1, Count: 1}},
		// Decided before sizes were recorded.
		{Check: "metrics", Finding: checks.Finding{Fingerprint: "metrics/disk", Severity: checks.Warn, Title: "disk at 81%"},
			Known: checks.Known{AnomalyID: 2, Decision: "Noise", DecidedBy: "U0GONE", DecidedAt: decided}},
	}
	return rep
}

func TestGoldenChecklistKnownNoise(t *testing.T) {
	tx := testTexts(t)
	rep := goldenKnownNoise()
	fallback, blocks := reportMessage(tx, rep, 46, Escape("@alice"), "", nil)
	goldenMsg(t, "checklist-report-known-noise", fallback, blocks)

	deciders := map[string]string{goldenCarol: Escape("@carol"), goldenAlice: Escape("@alice"), "U0GONE": Escape("@U0GONE")}
	text, list := knownNoiseMessage(tx, rep, deciders)
	goldenMsg(t, "checklist-known-noise-list", text, list)

	// Hundreds suppressed: the list stays within Slack's limits and counts
	// the rest.
	for i := range 400 {
		rep.Suppressed = append(rep.Suppressed, checks.Suppressed{Check: "logs",
			Finding: checks.Finding{Title: fmt.Sprintf("signature %03d %s", i, strings.Repeat("&", 40))},
			Known:   checks.Known{AnomalyID: int64(100 + i), Decision: "Noise", DecidedBy: goldenCarol, DecidedAt: goldenNow}})
	}
	_, list = knownNoiseMessage(tx, rep, deciders)
	if len(list) > maxMessageBlocks || len(slacktest.JSON(t, list)) > blocksBudget {
		t.Errorf("%d blocks, %d bytes of JSON: over Slack's limits", len(list), len(slacktest.JSON(t, list)))
	}
	last, ok := list[len(list)-1].(*slack.ContextBlock)
	if !ok || !strings.Contains(string(slacktest.JSON(t, last)), "more") {
		t.Errorf("the list does not end with the count of what did not fit: %s", slacktest.JSON(t, list[len(list)-1]))
	}
}

func TestGoldenScheduledIntro(t *testing.T) {
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		at      time.Time
		mention string
	}{
		{"checklist-scheduled-intro", time.Date(2026, 11, 24, 9, 30, 0, 0, goldenLondon), goldenGroup},
		{"checklist-scheduled-intro-summer", time.Date(2026, 6, 2, 9, 30, 0, 0, goldenLondon), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			intro, blocks, err := scheduledIntro(tmpl, "prod", tc.at, goldenLondon, mentionOf(tc.mention))
			if err != nil {
				t.Fatal(err)
			}
			goldenMsg(t, tc.name, intro, blocks)
		})
	}
}

// --- anomalies and decisions -----------------------------------------------------

func goldenAnomaly() triage.Anomaly {
	return triage.Anomaly{
		ID: 12, Environment: "prod", Fingerprint: "logs/shop/Deployment/api/api/<script>&",
		Title:  "checkout errors " + evil,
		Detail: "ERROR payment failed for order 1234 <@U00000B01>\n  at Checkout.pay (checkout.js:42) & *more*",
		Link:   "https://grafana.example.com/d/shop?var-pod=api&from=now-1h",
		Source: triage.SourceChecklist, OpenedBy: goldenAlice, OpenedAt: goldenNow,
		Channel: goldenDev, ThreadTS: goldenRootTS, State: triage.Open, SeenCount: 1,
	}
}

func TestGoldenAnomalyRoot(t *testing.T) {
	ctx := context.Background()
	tx := testTexts(t)
	n := goldenNames()
	undecided := goldenAnomaly()

	decided := goldenAnomaly()
	decided.Decision = &triage.DecisionRecord{Decision: triage.Intermittent, Conclusion: "a slow node, gone",
		DecidedBy: goldenCarol, DecidedAt: goldenNow.Add(time.Hour)}
	decided.State = triage.Closed

	escalated := decided
	escalated.EscalatedAt = goldenNow.Add(72 * time.Hour)
	escalated.State = triage.Open
	escalated.SeenCount = 4

	for _, tc := range []struct {
		name string
		a    triage.Anomaly
	}{
		{"anomaly-root-undecided", undecided},
		{"anomaly-root-decided", decided},
		{"anomaly-root-escalated", escalated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// As updateRoot builds it.
			v := rootView{Anomaly: tc.a, Opener: n.display(ctx, tc.a.OpenedBy)}
			if tc.a.Decision != nil {
				v.Decider = n.display(ctx, tc.a.Decision.DecidedBy)
			}
			goldenMsg(t, tc.name, rootFallback(tx, v), rootBlocks(tx, v))
		})
	}
}

func TestGoldenDecisionModal(t *testing.T) {
	tx := testTexts(t)
	for _, d := range triage.Decisions {
		t.Run(d.String(), func(t *testing.T) {
			// With the title, as handleDecideClick updates it.
			golden(t, "decision-modal-"+d.String(), decisionModal(tx, goldenAnomaly(), d, nil))
		})
	}
}

// goldenRecords are a decision of each kind, with everything its modal
// asks for.
func goldenRecords() map[triage.Decision]triage.DecisionRecord {
	return map[triage.Decision]triage.DecisionRecord{
		triage.NotEnoughInformation: {Decision: triage.NotEnoughInformation,
			Conclusion: "we cannot tell yet " + evil, FiveWhys: "Why did it fail? <script>\nBecause the pool & the queue filled.",
			Ticket: "https://tickets.example.com/OPS-7?a=1&b=2", ToCollect: "heap dumps & <pod> logs *bold*"},
		triage.Intermittent: {Decision: triage.Intermittent, Conclusion: "a slow node, gone"},
		triage.Serious: {Decision: triage.Serious, Conclusion: "the payment provider is slow <@U00000B01>",
			UsersAffected: "every buyer: checkout takes 8 s\n& some get <b>errors</b>", Outage: true,
			Ticket: "https://tickets.example.com/OPS-8"},
		triage.Noise: {Decision: triage.Noise, Conclusion: "it was a load test *bold*",
			Ticket: "https://tickets.example.com/OPS-9", Dashboard: "https://grafana.example.com/d/lt?x=<y>&z=1"},
		triage.Undetermined: {Decision: triage.Undetermined, Conclusion: "unclear & " + evil,
			FiveWhys: "1. Why? We do not know.\n2. Why not? *No logs*."},
	}
}

// goldenIncidentStore is an incident.Store whose methods the golden tests
// call; the others are not called (they would panic).
type goldenIncidentStore struct {
	incident.Store
	inc incident.Incident
}

func (s *goldenIncidentStore) Announce(_ context.Context, inc incident.Incident, _ string) (incident.Incident, bool, error) {
	inc.ID, inc.State, inc.Version = 3, incident.Open, 1
	if inc.StatusPage.Enabled {
		inc.StatusPage.State = incident.StatusPagePending
	}
	s.inc = inc
	return s.inc, true, nil
}

func (s *goldenIncidentStore) Get(context.Context, int64) (incident.Incident, error) {
	return s.inc, nil
}

func (s *goldenIncidentStore) SetMessage(_ context.Context, _ int64, channel, ts, text, _ string) (incident.Incident, error) {
	s.inc.Channel, s.inc.MessageTS, s.inc.MessageText = channel, ts, text
	s.inc.Version++
	return s.inc, nil
}

func (s *goldenIncidentStore) AddUpdate(_ context.Context, id int64, u incident.Update, _ string) (incident.Incident, incident.Update, error) {
	s.inc.Version++
	u.IncidentID, u.Seq = id, s.inc.Version
	return s.inc, u, nil
}

func (s *goldenIncidentStore) Resolve(_ context.Context, _ int64, until time.Time, by, _ string) (incident.Incident, bool, error) {
	s.inc.State, s.inc.Until, s.inc.ResolvedBy = incident.Resolved, until, by
	s.inc.Version++
	return s.inc, true, nil
}

func (s *goldenIncidentStore) SetMessageResolved(_ context.Context, _ int64, text, _ string) (incident.Incident, error) {
	s.inc.MessageText, s.inc.MessageResolved = text, true
	s.inc.Version++
	return s.inc, nil
}

func TestGoldenDecisionReply(t *testing.T) {
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	// Incidents are set up: a Serious decision gets the Announce incident
	// button.
	texts := decisionTexts{tmpl: tmpl, log: zap.NewNop(), announce: true}
	decider := goldenNames().display(context.Background(), goldenAlice)
	recs := goldenRecords()
	for _, d := range triage.Decisions {
		t.Run(d.String(), func(t *testing.T) {
			rec := recs[d]
			rec.DecidedBy, rec.DecidedAt = goldenAlice, goldenNow.Add(time.Hour)
			fallback, blocks := texts.decisionReply(goldenAnomaly().ID, rec, decider)
			goldenMsg(t, "decision-reply-"+d.String(), fallback, blocks)
		})
	}
}

func TestGoldenRecurrence(t *testing.T) {
	tx := testTexts(t)
	rec := triage.Recurrence{Decision: triage.Intermittent, Since: goldenNow.Add(time.Hour), SinceDecision: 2,
		InWindow: 2, SeenCount: 3, Threshold: 3, Window: 7 * 24 * time.Hour}
	msg, blocks := seenAgainMessage(tx, rec)
	goldenMsg(t, "recurrence-seen-again", msg, blocks)

	rec.SinceDecision, rec.InWindow, rec.SeenCount, rec.Escalate = 3, 3, 4, true
	msg, blocks = seenAgainMessage(tx, rec)
	goldenMsg(t, "recurrence-seen-again-escalating", msg, blocks)
	msg, blocks = escalationMessage(tx, Mention(goldenGroup), rec.String())
	goldenMsg(t, "recurrence-escalation", msg, blocks)
}

// --- /ops ----------------------------------------------------------------------

func TestGoldenStatus(t *testing.T) {
	a := goldenAnomaly()
	decided := goldenAnomaly()
	decided.ID, decided.Title, decided.ThreadTS = 13, "disk 95% full on db-0 & db-1", "1764000100.000300"
	decided.Decision = &triage.DecisionRecord{Decision: triage.Serious, DecidedBy: goldenAlice, DecidedAt: goldenNow}
	escalated := goldenAnomaly()
	escalated.ID, escalated.Title, escalated.ThreadTS = 14, "health check timed out", "1764000200.000400"
	escalated.Decision = &triage.DecisionRecord{Decision: triage.Intermittent, DecidedBy: goldenAlice, DecidedAt: goldenNow}
	escalated.EscalatedAt = goldenNow.Add(time.Hour)
	noThread := goldenAnomaly()
	noThread.ID, noThread.Title, noThread.Channel, noThread.ThreadTS = 15, "manual: *queue* backlog", "", ""
	noLink := goldenAnomaly()
	noLink.ID, noLink.Environment, noLink.Title, noLink.ThreadTS = 16, "dev", "an old thread Slack cannot link", "1764000300.000500"

	// threadPermalink with the fake's permalinks; Slack gives none for
	// the last one.
	permalink := func(a triage.Anomaly) string {
		if a.ID == noLink.ID || !a.HasThread() {
			return ""
		}
		return goldenTeamURL + a.Channel + "/p" + strings.ReplaceAll(a.ThreadTS, ".", "")
	}
	tx := testTexts(t)
	msg, blocks := statusMessage(tx, []triage.Anomaly{a, decided, escalated, noThread, noLink}, permalink)
	goldenMsg(t, "ops-status", msg, blocks)

	msg, blocks = statusMessage(tx, nil, permalink)
	goldenMsg(t, "ops-status-none", msg, blocks)
}

func TestGoldenUsage(t *testing.T) {
	b := &Bot{opts: Options{Environments: []string{"prod", "dev"}, Templates: testTexts(t).set}}
	for _, tc := range []struct{ name, text string }{
		{"ops-help", "help"},
		{"ops-unknown-command", "frobnicate " + evil},
		{"ops-direction-control", "anomaly invoice gnp\u202Eexe.png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			route, msg := b.routeCommand(tc.text, &request{})
			if route != nil {
				t.Fatalf("/ops %s: routed", tc.text)
			}
			// The slash command's ack payload.
			golden(t, tc.name, ephemeralPayload(msg))
		})
	}
}

// TestGoldenNotHere pins the refusal of a command from a disallowed channel
// or direct message: with an allow-list (the bot's own channels after the
// listed ones), and without one.
func TestGoldenNotHere(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allowed []string
		reason  string
	}{
		{"ops-not-here-channel", []string{"C0123SRE0", "C0123OPS0"}, opsbot.ReasonChannel},
		{"ops-not-here-dm", []string{"C0123SRE0"}, opsbot.ReasonDirectMessage},
		{"ops-not-here-dm-any-channel", nil, opsbot.ReasonDirectMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &Bot{opts: Options{Templates: testTexts(t).set}, log: zap.NewNop(),
				places: newPlaces(tc.allowed, false, "C0123DEV0", "C0123OPS0", "")}
			// The slash command's ack payload.
			golden(t, tc.name, ephemeralPayload(b.notHere(tc.reason)))
		})
	}
}

// --- incidents -------------------------------------------------------------------

func TestGoldenIncidentModal(t *testing.T) {
	tx := testTexts(t)
	empty := incidentModal(tx, incidentForm{Env: "prod", Channel: goldenDev}, incidentPrefill{},
		goldenNow, goldenLondon, goldenOps, true)
	golden(t, "incident-modal-empty", empty)

	// From the Announce incident button under a Serious decision, in
	// summer, for an environment without a status page.
	a := goldenAnomaly()
	rec := goldenRecords()[triage.Serious]
	a.Decision = &rec
	p := anomalyPrefill(a)
	p.AnomalyLink = goldenTeamURL + a.Channel + "/p" + strings.ReplaceAll(a.ThreadTS, ".", "")
	form := incidentForm{Env: "dev", AnomalyID: a.ID, Channel: goldenDev}
	golden(t, "incident-modal-from-anomaly", incidentModal(tx, form, p, goldenSummer, goldenLondon, goldenOps, false))
}

// goldenAnnouncer records what the incident Service posts.
type goldenAnnouncer struct {
	posts []goldenMessage
	names []string
}

func (a *goldenAnnouncer) record(name, text string) {
	a.names = append(a.names, name)
	a.posts = append(a.posts, goldenMessage{Text: text})
}

func (a *goldenAnnouncer) Post(_ context.Context, _, text string) (string, error) {
	a.record("incident-announce", text)
	return goldenAnnTS, nil
}

func (a *goldenAnnouncer) Edit(_ context.Context, _, _, text string) error {
	a.record("incident-announce-resolved", text)
	return nil
}

// Reply is the update first, then the closing line.
func (a *goldenAnnouncer) Reply(_ context.Context, _, _, text string) error {
	if slices.Contains(a.names, "incident-update") {
		a.record("incident-closing", text)
	} else {
		a.record("incident-update", text)
	}
	return nil
}

func (a *goldenAnnouncer) Delete(context.Context, string, string) error { return nil }

// TestGoldenIncidentTexts runs the incident Service as the bot sets it up
// (cmd/opsbot: the embedded templates, Escape, Slack.KnownName, London) and
// pins what it posts: the announcement, an update in its thread, the
// announcement edited with the resolved suffix, the closing line.
func TestGoldenIncidentTexts(t *testing.T) {
	ctx := context.Background()
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)
	ann := &goldenAnnouncer{}
	svc, err := incident.NewService(incident.Options{
		Store: &goldenIncidentStore{}, Slack: ann, Templates: tmpl, Escape: Escape, Mention: (&Slack{names: goldenNames()}).KnownName,
		Location: goldenLondon, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	inc, _, err := svc.Announce(ctx, incident.Incident{
		Environment: "prod", Channel: goldenOps, From: time.Date(2026, 11, 23, 13, 20, 0, 0, time.UTC),
		UserImpact: "Checkout fails for\nabout 20% of users <!channel>", What: "payments API returns 502 & times out " + evil,
		AnnouncedBy: goldenAlice,
	}, "announce:V1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.AddUpdate(ctx, inc.ID, incident.Update{Text: "Rolled back the deploy <b> & *bold*\nwatching the error rate",
		By: goldenAlice, Public: true}, "update:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, inc.ID, time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC), goldenCarol, "resolve:1"); err != nil {
		t.Fatal(err)
	}
	want := []string{"incident-announce", "incident-update", "incident-announce-resolved", "incident-closing"}
	if strings.Join(ann.names, " ") != strings.Join(want, " ") {
		t.Fatalf("the Service posted %v, want %v", ann.names, want)
	}
	for i, name := range ann.names {
		t.Run(name, func(t *testing.T) { golden(t, name, ann.posts[i]) })
	}
}

func goldenIncident() incident.Incident {
	return incident.Incident{
		ID: 3, Environment: "prod", Channel: goldenOps, MessageTS: goldenAnnTS,
		From:       time.Date(2026, 11, 23, 13, 20, 0, 0, time.UTC),
		UserImpact: "Checkout fails for\nabout 20% of users <!channel>", What: "payments API returns 502",
		AnnouncedBy: goldenAlice, AnnouncedAt: time.Date(2026, 11, 23, 13, 25, 0, 0, time.UTC),
		State:      incident.Open,
		StatusPage: incident.StatusPage{Enabled: true, State: incident.StatusPageOpen, IncidentID: "p0abc"},
	}
}

func goldenPermalink(inc incident.Incident) string {
	return goldenTeamURL + inc.Channel + "/p" + strings.ReplaceAll(inc.MessageTS, ".", "")
}

func TestGoldenIncidentRetry(t *testing.T) {
	tx := testTexts(t)
	// Announced, but the status page failed: its Retry button.
	spFailed := goldenIncident()
	spFailed.StatusPage = incident.StatusPage{Enabled: true, State: incident.StatusPagePending,
		LastError: "statuspage: POST /incidents: HTTP 503 <html>Service Unavailable & down</html>"}
	done := say(tx, templates.IncidentAnnounced, templates.Incident{ID: spFailed.ID, Channel: spFailed.Channel,
		Link: announcementLinkText(tx, spFailed, goldenPermalink(spFailed))})
	msg, blocks := outcomeMessage(tx, spFailed, done, nil)
	goldenMsg(t, "incident-retry-status-page", msg, blocks)

	// Recorded, but the announcement could not be posted: Retry
	// announcement.
	notPosted := goldenIncident()
	notPosted.MessageTS = ""
	msg, blocks = outcomeMessage(tx, notPosted, "", fmt.Errorf("post the announcement of incident 3: %w",
		slack.SlackErrorResponse{Err: "fatal_error"}))
	goldenMsg(t, "incident-retry-announcement", msg, blocks)

	// Resolved, but the announcement could not be edited, and the status
	// page failed too: one Retry for both.
	notEdited := goldenIncident()
	notEdited.State, notEdited.Until, notEdited.ResolvedBy = incident.Resolved, time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC), goldenAlice
	notEdited.StatusPage.LastError = "statuspage: HTTP 503"
	done = say(tx, templates.IncidentResolved, templates.Incident{ID: notEdited.ID,
		Duration: incident.FormatDuration(notEdited.Duration()), Link: announcementLinkText(tx, notEdited, goldenPermalink(notEdited))})
	msg, blocks = outcomeMessage(tx, notEdited, done, errors.Join(errors.New("statuspage: HTTP 503"),
		slack.SlackErrorResponse{Err: "cant_update_message"}))
	goldenMsg(t, "incident-retry-edit", msg, blocks)
}

func TestGoldenIncidentResolveList(t *testing.T) {
	tx := testTexts(t)
	first := goldenIncident()
	second := goldenIncident()
	second.ID, second.Environment, second.MessageTS = 4, "dev", "1764000900.000300"
	second.From, second.UserImpact = time.Date(2026, 6, 2, 13, 0, 0, 0, time.UTC), "search is slow & *stale* "+evil
	notPosted := goldenIncident()
	notPosted.ID, notPosted.MessageTS, notPosted.UserImpact = 5, "", "the announcement failed"
	noLink := goldenIncident()
	noLink.ID, noLink.MessageTS, noLink.UserImpact = 6, "1764001000.000400", "Slack gives no permalink"
	open := []incident.Incident{first, second, notPosted, noLink}

	// incidentLine with the fake's permalinks; none for the last one.
	line := func(inc incident.Incident) string {
		link := goldenPermalink(inc)
		if inc.ID == noLink.ID {
			link = ""
		}
		return incidentLineText(tx, inc, goldenLondon, announcementLinkText(tx, inc, link))
	}
	// `/ops resolve 14:25`: the buttons resolve at 14:25.
	head, blocks := resolveList(tx, open, time.Date(2026, 11, 23, 14, 25, 0, 0, time.UTC), line)
	goldenMsg(t, "incident-resolve-list", head, blocks)
}

// goldenAlertAnomaly is goldenAnomaly found by the alerts check: it has
// the labels a silence matches, one of them hostile.
func goldenAlertAnomaly() triage.Anomaly {
	a := goldenAnomaly()
	a.Fingerprint = "alerts/prod/KubePodCrashLooping/shop"
	a.Labels = map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop", "severity": "warning", "pod": evil}
	return a
}

func TestGoldenSilence(t *testing.T) {
	tx := testTexts(t)
	a := goldenAlertAnomaly()
	golden(t, "decision-modal-noise-alert", decisionModal(tx, a, triage.Noise, nil))
	a.Labels = map[string]string{"alertname": "Watchdog", "severity": "none"}
	golden(t, "decision-modal-noise-alert-no-namespace", decisionModal(tx, a, triage.Noise, nil))

	ms, err := triage.SilenceMatchers(goldenAlertAnomaly().Labels, false)
	if err != nil {
		t.Fatal(err)
	}
	sil := triage.Silence{ID: "5d3c7c6e-<b>", Matchers: ms, EndsAt: goldenNow.Add(24 * time.Hour), State: triage.SilenceActive}
	text, blocks := silencedReply(tx, goldenLondon, 12, sil, 0)
	goldenMsg(t, "silence-made", text, blocks)
	sil.EndsAt = goldenNow.Add(72 * time.Hour)
	text, blocks = silencedReply(tx, goldenLondon, 12, sil, 2)
	goldenMsg(t, "silence-extended", text, blocks)
	m := triage.SilenceMark{ID: sil.ID, EndsAt: sil.EndsAt, Extensions: 2, EndedAt: goldenNow.Add(time.Hour), EndedBy: "U0ALICE"}
	text, blocks = silenceEndedReply(tx, goldenLondon, 12, m, "@alice")
	goldenMsg(t, "silence-ended-expired", text, blocks)
	m.EndedBy, m.Extensions = opsbot.ActorBot, 0
	text, blocks = silenceEndedReply(tx, goldenLondon, 12, m, "")
	goldenMsg(t, "silence-ended-ran-out", text, blocks)
	msg := say(tx, templates.TriageNotExtended, templates.SilenceFailed{AnomalyID: 12,
		Reason: Escape("extended by 1 day it would end at 2027-03-06 09:30 UTC, later than the longest silence allowed <x>")})
	goldenMsg(t, "silence-not-extended", msg, nil)
	c := silenceChoice{length: 24 * time.Hour, value: "24h", widen: true}
	text, blocks = silenceFailedReply(tx, 12, c, fmt.Errorf("silencing anomaly 12: alertmanager http://am:9093: 503 Service Unavailable <x>"))
	goldenMsg(t, "silence-failed", text, blocks)
	text, blocks = silenceFailedReply(tx, 12, c, fmt.Errorf("silencing anomaly 12 in prod: %w", triage.ErrNoSilencer))
	goldenMsg(t, "silence-failed-not-configured", text, blocks)
	msg = say(tx, templates.TriageSilenceExpired, templates.Silenced{AnomalyID: 12, ID: Escape(sil.ID), By: "@alice"})
	goldenMsg(t, "silence-expired", msg, []slack.Block{section(msg)})
}

// goldenLastTime is what was decided last time about a finding: its
// conclusion untrusted (what someone typed), long enough to be cut.
func goldenLastTime() checks.LastTime {
	return checks.LastTime{AnomalyID: 3, Decision: "Noise", DecidedBy: goldenCarol, DecidedAt: goldenNow.Add(-12 * 24 * time.Hour),
		Conclusion: "retry storm from community-api " + evil + "; the client retries without backoff on every 503 it gets, all day long",
		Ticket:     "https://jira.example.com/browse/OPS-123", Channel: goldenDev, ThreadTS: "1700000000.000100", Seen: 4}
}

// goldenThreadLink is the permalink of goldenLastTime's thread.
const goldenThreadLink = "https://example.slack.com/archives/C0000DEV1/p1700000000000100"

// A finding decided before says what was decided last time, under it,
// and the tips that match a finding come under it.
func TestGoldenChecklistLastTime(t *testing.T) {
	tx := testTexts(t)
	res := goldenResults()
	lt := goldenLastTime()
	res[0].Findings[0].LastTime = &lt
	heap := say(tx, templates.TriageTip, tipTemplateData(goldenTips()[0], Escape("@carol"), ""))
	shop := say(tx, templates.TriageTip, tipTemplateData(goldenTips()[1], Escape("@alice"), ""))
	rep := goldenReport(res)
	notes := map[string]string{
		res[0].Findings[0].Fingerprint: say(tx, templates.TriageLastTime, lastTimeData(lt, Escape("@carol"), goldenThreadLink)) + "\n" + heap + "\n" + shop,
		res[1].Findings[0].Fingerprint: shop,
	}
	fallback, blocks := reportMessage(tx, rep, 47, Escape("@alice"), "", notes)
	goldenMsg(t, "checklist-report-last-time", fallback, blocks)
}

// A new thread for a fingerprint decided before: the root says what was
// decided last time, its button highlighted; the decision form is filled
// in from it.
func TestGoldenLastTimeThread(t *testing.T) {
	tx := testTexts(t)
	lt := goldenLastTime()
	lt.Seen = 1
	v := rootView{Anomaly: goldenAnomaly(), Opener: Escape("@alice"), LastDecision: triage.Noise,
		LastTime: say(tx, templates.TriageLastTime, lastTimeData(lt, Escape("@carol"), goldenThreadLink)),
		Tips:     say(tx, templates.TriageTip, tipTemplateData(goldenTips()[0], Escape("@carol"), ""))}
	goldenMsg(t, "anomaly-root-last-time", rootFallback(tx, v), rootBlocks(tx, v))

	rec := goldenRecords()[triage.Noise]
	rec.Conclusion = lt.Conclusion
	pre := &prefill{Record: rec, Note: say(tx, templates.TriageModalPrefilled, lastTimeData(lt, Escape("@carol"), ""))}
	golden(t, "decision-modal-prefilled-noise", decisionModal(tx, goldenAnomaly(), triage.Noise, pre))
	lt.Decision = "Serious"
	pre = &prefill{Record: goldenRecords()[triage.Serious], Note: say(tx, templates.TriageModalPrefilled, lastTimeData(lt, Escape("@carol"), ""))}
	golden(t, "decision-modal-prefilled-serious", decisionModal(tx, goldenAnomaly(), triage.Serious, pre))
}

// goldenTips are runbook tips, one with untrusted text.
func goldenTips() []checks.Tip {
	return []checks.Tip{
		{ID: 3, Pattern: "pods/shop/Deployment/api/*/OOMKilled", Text: "raise the heap, see OPS-88 " + evil, Author: goldenCarol},
		{ID: 5, Pattern: "pods/shop", Text: "shop's pods restart at 03:00 for the backup: ignore restarts then", Author: goldenAlice},
	}
}

// `/ops tip`: its answers.
func TestGoldenTips(t *testing.T) {
	tx := testTexts(t)
	created := fmtTime(goldenNow)
	tips := goldenTips()
	added := tipTemplateData(tips[0], Escape("@carol"), created)
	golden(t, "tip-added", ephemeralPayload(say(tx, templates.TipAdded, added)))
	golden(t, "tip-removed", ephemeralPayload(say(tx, templates.TipRemoved, added)))
	text, blocks := tipListMessage(tx, []templates.Tip{added, tipTemplateData(tips[1], Escape("@alice"), created)})
	goldenMsg(t, "tip-list", text, blocks)
	text, blocks = tipListMessage(tx, nil)
	goldenMsg(t, "tip-list-empty", text, blocks)

	b := &Bot{opts: Options{Environments: []string{"prod"}, Templates: tx.set}}
	var err error
	if _, _, b.commands, err = b.routes(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, text string }{
		{"tip-usage", "tip pods/shop"},
		{"tip-remove-which", "tip remove three"},
	} {
		route, msg := b.routeCommand(tc.text, &request{})
		if route != nil {
			t.Fatalf("/ops %s: routed", tc.text)
		}
		golden(t, tc.name, ephemeralPayload(msg))
	}
	golden(t, "tip-not-found", ephemeralPayload(say(tx, templates.TipNotFound, templates.Tip{ID: 9})))
	golden(t, "tip-invalid", ephemeralPayload(say(tx, templates.TipInvalid, templates.Problem{
		Problem: Escape(`tip: pattern: has an empty segment ("//", or a "/" at an end): "pods//api"`)})))
	golden(t, "tip-too-many", ephemeralPayload(say(tx, templates.TipTooMany, templates.Count{Count: triage.MaxTips})))
}
