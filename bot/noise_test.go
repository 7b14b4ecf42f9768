package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/store/storetest"
)

// TestGoldenNoise pins `/ops noise`: the seeded store's report with
// untrusted text in a title, a fingerprint and a decider, an empty report,
// and the refusal of a period out of range.
func TestGoldenNoise(t *testing.T) {
	tx := testTexts(t)
	rep := storetest.NoiseWant()
	rep.Top[0].Title, rep.Top[1].Fingerprint = evil, "logs/"+evil
	rep.Top[2].DecidedBy = evil
	rep.Undecided[0].Title = evil
	rep.Alerts[1].Title = evil
	rep.StaleSilences = []noise.SilenceLine{{AnomalyID: 7, Environment: "prod", Title: "canary flaps " + evil, SilenceID: "5d3c-<b>",
		EndsAt: rep.Until.Add(48 * time.Hour), Matchers: `alertname="CanaryFlaps", namespace="` + evil + `"`}}
	rep.SilencesUnchecked = []string{"dev: alertmanager http://am.dev:9093: GET /api/v2/silence/x returned 503: " + evil}
	msg, blocks := noiseMessage(tx, rep)
	goldenMsg(t, "ops-noise", msg, blocks)

	empty := noise.Report{Since: rep.Since, Until: rep.Until, Days: 1, PerDay: rep.PerDay[:1]}
	empty.PerDay[0].Sightings = 0
	msg, blocks = noiseMessage(tx, empty)
	goldenMsg(t, "ops-noise-empty", msg, blocks)

	b := routedBot(t)
	route, msg := b.routeCommand("noise 91", &request{})
	if route != nil {
		t.Fatal("/ops noise 91: routed")
	}
	golden(t, "ops-noise-bad-days", ephemeralPayload(msg))
}

// TestNoiseDays: `/ops noise` takes nothing (7 days) or one number of days
// from 1 to 90; anything else is refused before any work.
func TestNoiseDays(t *testing.T) {
	for _, tc := range []struct {
		args string
		days int
		ok   bool
	}{
		{"", 7, true}, {"1", 1, true}, {"30", 30, true}, {"90", 90, true},
		{"0", 0, false}, {"91", 0, false}, {"-3", 0, false}, {"7d", 0, false}, {"7 8", 0, false}, {"seven", 0, false},
	} {
		days, ok := noiseDays(strings.Fields(tc.args))
		if ok != tc.ok || (ok && days != tc.days) {
			t.Errorf("noiseDays(%q) = %d, %v; want %d, %v", tc.args, days, ok, tc.days, tc.ok)
		}
	}
	b := routedBot(t)
	for _, txt := range []string{"noise 0", "noise 7 8", "NOISE x"} {
		if route, msg := b.routeCommand(txt, &request{}); route != nil || !strings.Contains(msg, "from 1 to 90") {
			t.Errorf("/ops %s: routed %v, %q; want the period refused", txt, route != nil, msg)
		}
	}
	if route, msg := b.routeCommand("noise 14", &request{}); route == nil || route.name != "noise" {
		t.Errorf("/ops noise 14: not routed: %q", msg)
	}
}

// routedBot is a bot with its command routes, to route commands without
// Slack.
func routedBot(t *testing.T) *Bot {
	t.Helper()
	b := &Bot{opts: Options{Environments: []string{"prod", "dev"}, Templates: testTexts(t).set}}
	var err error
	if _, _, b.commands, err = b.routes(); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNoiseMessageLongLists: however many anomalies are undecided or
// mis-triaged, the message lists maxNoiseLines of each with a count of the
// rest, and the mis-triage rate is still shown.
func TestNoiseMessageLongLists(t *testing.T) {
	rep := storetest.NoiseWant()
	for i := range 300 {
		rep.Undecided = append(rep.Undecided, noise.Undecided{AnomalyID: int64(100 + i), Environment: "prod",
			Title: strings.Repeat("a long title ", 9), OpenedAt: rep.Since})
		rep.Mistriage.Anomalies = append(rep.Mistriage.Anomalies, noise.Mistriaged{AnomalyID: int64(100 + i),
			From: "noise", Became: noise.BecameSerious, At: rep.Since})
	}
	rep.Mistriage.Decided = 400
	for i := range 300 {
		rep.StaleSilences = append(rep.StaleSilences, noise.SilenceLine{AnomalyID: int64(100 + i), Environment: "prod",
			Title: strings.Repeat("a long title ", 9), SilenceID: "s", Matchers: strings.Repeat(`a="b", `, 20)})
		rep.ExtendedSilences = append(rep.ExtendedSilences, noise.SilenceLine{AnomalyID: int64(100 + i), Environment: "prod",
			Title: strings.Repeat("a long title ", 9), SilenceID: "s", Extensions: 3})
	}
	_, blocks := noiseMessage(testTexts(t), rep)
	js := string(slacktest.JSON(t, blocks))
	for _, want := range []string{"Mis-triage:", "302 of 400", "and 282 more", "Silences that match no alert any more: 300",
		"Silences extended again and again: 301", "and 290 more", "and 291 more", "Not covered yet"} {
		if !strings.Contains(js, want) {
			t.Errorf("the message does not show %q:\n%s", want, js)
		}
	}
	if n := strings.Count(js, "and 282 more"); n != 2 {
		t.Errorf("%d \"and 282 more\" lines; want one per list", n)
	}
}
