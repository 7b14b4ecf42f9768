package bot_test

import (
	"strings"
	"testing"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/triage"
)

func TestKnownNoiseSQLite(t *testing.T)   { testKnownNoise(t, onSQLite) }
func TestKnownNoisePostgres(t *testing.T) { testKnownNoise(t, onPostgres) }

// testKnownNoise: a log signature decided Noise is left out of the next
// checklist, counted in its "known noise" line and listed in the report's
// thread, its sighting still recorded; the report's Investigate buttons
// still open the findings they show; once the signature is 10 times as
// big as when decided, it is reported as new again, saying so.
func testKnownNoise(t *testing.T, kind storeKind) {
	fs := newFake(t)
	store := openStore(t, kind, "")
	h := newHarness(t, fs, store)
	timeouts := finding("logs", "Deployment shop/api", "WARN upstream timeout")
	crash := finding("pods", "Deployment shop/web", "CrashLoopBackOff")
	checksWith := func(count int) {
		f := timeouts
		f.Count = count
		h.setChecks(&fakeCheck{name: "logs", result: result(f)}, &fakeCheck{name: "pods", result: result(crash)})
	}
	checksWith(12)
	h.start()

	// Monday: investigated and decided Noise.
	rep := h.report(alice)
	root := h.investigate(alice, rep, 0)
	h.decide(alice, root, triage.Noise, values("conclusion", "retries absorb it", "ticket", "https://t.example.com/OPS-9",
		"dashboard", "https://grafana.example.com/d/api"))
	h.waitMessage(devChannel, "*Decision: Noise*")
	a, err := store.FindOpen(h.ctx, "prod", crash.Fingerprint)
	if err == nil {
		t.Fatalf("the crash was investigated: %+v", a)
	}

	// Tuesday: a little more of it, still the noise it was decided to be.
	checksWith(40)
	rep = h.report(alice)
	text := rep.AllText()
	if strings.Contains(text, "upstream timeout") || !strings.Contains(text, "Known noise: 1 suppressed") ||
		!strings.Contains(text, "CrashLoopBackOff") {
		t.Fatalf("report: want the crash, not the timeouts, and the known noise line:\n%s", text)
	}
	var list slacktest.Message
	if err := fs.WaitFor(h.ctx, func() bool {
		rs := fs.ThreadReplies(opsChannel, rep.TS)
		if len(rs) == 0 {
			return false
		}
		list = rs[0]
		return true
	}); err != nil {
		t.Fatalf("no list of the known noise in the report's thread: %v\n%s", err, dump(fs.Messages(opsChannel)))
	}
	for _, want := range []string{"WARN upstream timeout", "anomaly #1, decided Noise by @alice", "12 then, 40 now"} {
		if !strings.Contains(list.AllText(), want) {
			t.Errorf("the list does not say %q:\n%s", want, list.AllText())
		}
	}
	noise, err := store.Get(h.ctx, 1)
	if err != nil || noise.SeenCount != 2 || noise.Magnitude != 40 || noise.Decision.Magnitude != 12 {
		t.Fatalf("the suppressed sighting was not recorded: %+v, %v", noise, err)
	}
	// The one button left opens the finding it shows.
	if got := buttons(t, rep); len(got) != 1 || got[0] != bot.ActionInvestigate {
		t.Fatalf("report buttons = %v, want one Investigate", got)
	}
	h.investigate(alice, rep, 0)
	if a, err := store.FindOpen(h.ctx, "prod", crash.Fingerprint); err != nil || a.ID != 2 {
		t.Fatalf("Investigate on the suppressed report opened %+v, %v; want the crash as #2", a, err)
	}

	// Wednesday: ten times what it was when decided: new again.
	checksWith(120)
	rep = h.report(alice)
	text = rep.AllText()
	if !strings.Contains(text, "WARN upstream timeout") || strings.Contains(text, "Known noise") ||
		!strings.Contains(text, "New again: grew from 12 to 120 since decided Noise (anomaly #1)") {
		t.Fatalf("report: want the timeouts back, grown, and no known noise:\n%s", text)
	}
	if n := len(fs.ThreadReplies(opsChannel, rep.TS)); n != 0 {
		t.Errorf("%d replies under a report without known noise", n)
	}
}
