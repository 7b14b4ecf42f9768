package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/history"
)

// TestGoldenHistory pins `/ops history`: hits decided and undecided, with
// and without a ticket and a thread, untrusted text in every field a hit
// shows, more matches than shown, nothing found, and the refusal of a
// query that cannot be run.
func TestGoldenHistory(t *testing.T) {
	tx := testTexts(t)
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	res := history.Result{Total: 14, Hits: []history.Hit{
		{AnomalyID: 42, Environment: "prod", Fingerprint: "pods/api/crashloop", Title: "api is crash-looping",
			Decision: "noise", DecidedBy: "U0ALICE", At: at, Conclusion: "the liveness probe times out under load;\nraised the timeout",
			FiveWhys: "1. why? GC pauses", Ticket: "https://jira.example.com/browse/OPS-4711", Channel: "C0DEV", ThreadTS: "1764000000.000100"},
		{AnomalyID: 7, Environment: evil, Fingerprint: "logs/" + evil, Title: evil, Decision: "not_enough_information",
			DecidedBy: evil, At: at.Add(-48 * time.Hour), Conclusion: evil + " " + strings.Repeat("long ", 60),
			Ticket: "javascript:alert(1)"},
		{AnomalyID: 3, Environment: "dev", Fingerprint: "pods/worker/oom", Title: "worker OOM-killed", At: at.Add(-72 * time.Hour),
			Channel: "C0DEV", ThreadTS: "1764000000.000200"},
	}}
	permalink := func(h history.Hit) string {
		if h.ThreadTS == "1764000000.000100" {
			return "https://example.slack.com/archives/C0DEV/p1764000000000100"
		}
		return "" // Slack gave none
	}
	msg, blocks := historyMessage(tx, `"probe times" `+evil, res, permalink)
	goldenMsg(t, "ops-history", msg, blocks)

	msg, blocks = historyMessage(tx, "zebra since:7d", history.Result{}, permalink)
	goldenMsg(t, "ops-history-none", msg, blocks)

	b := routedBot(t)
	route, msg := b.routeCommand("history disk decision:nois", &request{})
	if route != nil {
		t.Fatal("/ops history decision:nois: routed")
	}
	golden(t, "ops-history-bad-query", ephemeralPayload(msg))
}

// TestHistoryRoute: `/ops history` takes what history.Parse accepts and
// refuses the rest before any work, saying why.
func TestHistoryRoute(t *testing.T) {
	b := routedBot(t)
	for txt, want := range map[string]string{
		"history":                     "say what to look for",
		"history since:3w":            "since:3w is not a period",
		`history "disk`:               "a quoted phrase is not closed",
		"history decision:x":          "use one of not_enough_information, intermittent, serious, noise, undetermined",
		"HISTORY since:1d since:2d":   "since: is given twice",
		"history <script>":            "", // a word: script
		"history fingerprint:pods/ x": "",
	} {
		route, msg := b.routeCommand(txt, &request{})
		switch {
		case want == "" && (route == nil || route.name != "history"):
			t.Errorf("/ops %s: not routed: %q", txt, msg)
		case want != "" && (route != nil || !strings.Contains(msg, want)):
			t.Errorf("/ops %s: routed %v, %q; want refused with %q", txt, route != nil, msg, want)
		}
	}
}
