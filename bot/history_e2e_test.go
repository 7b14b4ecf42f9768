package bot_test

import (
	"strings"
	"testing"

	"github.com/opsbot/opsbot/triage"
)

func TestHistorySQLite(t *testing.T)   { testHistory(t, onSQLite) }
func TestHistoryPostgres(t *testing.T) { testHistory(t, onPostgres) }

// testHistory: an anomaly investigated and decided through Slack is found
// by `/ops history` with a word of its five whys, shown to the asker only
// with its decision, who made it, its ticket, its conclusion and a link
// to its thread; once the decision is changed, its old words no longer
// find it and its new ones do.
func testHistory(t *testing.T, kind storeKind) {
	fs := newFake(t)
	store := openStore(t, kind, "")
	h := newHarness(t, fs, store)
	h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "CrashLoopBackOff"))})
	h.start()

	rep := h.report(alice)
	root := h.investigate(alice, rep, 0)
	h.decide(alice, root, triage.Noise, values("conclusion", "the probe is too strict", "fiveWhys",
		"1. why? the quokka sidecar starts slowly", "ticket", "https://t.example.com/OPS-9", "dashboard", "https://grafana.example.com/d/api"))
	h.waitMessage(devChannel, "*Decision: Noise*")
	posted := len(fs.Messages(opsChannel)) + len(fs.Messages(devChannel))

	h.slash(bob, "history quokka")
	e := h.waitEphemeral(bob, "History")
	text := e.Text + "\n" + string(e.Blocks)
	for _, want := range []string{"1 anomaly matches “quokka”", "#1 *CrashLoopBackOff*", "Noise by \u003c@" + alice + "\u003e",
		"OPS-9|ticket", "/archives/" + devChannel + "/p" + strings.ReplaceAll(root.TS, ".", "") + "|thread", "the probe is too strict"} {
		if !strings.Contains(text, want) {
			t.Errorf("/ops history quokka does not show %q:\n%s", want, text)
		}
	}
	if n := len(fs.Messages(opsChannel)) + len(fs.Messages(devChannel)); n != posted {
		t.Errorf("/ops history posted %d messages in channels; it answers the asker only", n-posted)
	}
	if len(fs.Ephemerals(alice)) > 0 {
		for _, a := range fs.Ephemerals(alice) {
			if strings.Contains(a.Text, "History") {
				t.Errorf("alice was shown bob's search: %q", a.Text)
			}
		}
	}

	// The decision changed: found by its new words only.
	h.decide(carol, root, triage.Intermittent, values("conclusion", "flaky upstream", "fiveWhys", "1. why? the wombat proxy drops connections"))
	h.waitMessage(devChannel, "*Decision: Intermittent*")
	h.slash(bob, "history wombat decision:intermittent")
	h.waitEphemeral(bob, "1 anomaly matches “wombat decision:intermittent”")
	h.slash(bob, "history quokka since:30d")
	h.waitEphemeral(bob, "Nothing in the history matches “quokka since:30d”")
}
