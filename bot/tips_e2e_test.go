package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/triage"
)

func TestTipsSQLite(t *testing.T)   { testTips(t, onSQLite) }
func TestTipsPostgres(t *testing.T) { testTips(t, onPostgres) }

// testTips: a decider attaches a tip to a kind of finding; it shows under
// the findings it matches in the report and in a new thread's root,
// escaped; it is listed, removed, and on the tips' timeline. Someone who
// is not a decider is refused, and the refusal recorded; a bad pattern
// changes nothing.
func testTips(t *testing.T, kind storeKind) {
	fs := newFake(t)
	store := openStore(t, kind, "")
	rl := watchRefusals(t, store)
	h := newHarness(t, fs, store, func(o *setup) { o.Refusals = rl })
	crash := finding("pods", "Deployment shop/api", "CrashLoopBackOff")
	oom := finding("pods", "Deployment shop/web", "OOMKilled")
	h.setChecks(&fakeCheck{name: "pods", result: result(crash, oom)})
	h.start()
	tips := store.(triage.TipStore)

	h.slash(bob, "tip pods/*/api/CrashLoopBackOff restart it")
	h.waitEphemeral(bob, "add runbook tips")
	if rf := rl.next(t); rf.UserID != bob || rf.Reason != opsbot.ReasonNotDecider || rf.Action != "/ops tip" {
		t.Errorf("refusal = %+v; want bob's tip, not a decider", rf)
	}
	h.slash(alice, "tip pods//api/CrashLoopBackOff restart it")
	h.waitEphemeral(alice, "That tip was not recorded")
	if got, err := tips.Tips(h.ctx); err != nil || len(got) != 0 {
		t.Fatalf("refused tips were recorded: %+v, %v", got, err)
	}

	h.slash(alice, "tip pods/*/api/CrashLoopBackOff restart the <b>api</b> *after* the backup, see OPS-88")
	h.waitEphemeral(alice, "Tip #1 added for `pods/∗/api/CrashLoopBackOff`")
	h.slash(alice, "tip list")
	h.waitEphemeral(alice, "#1 `pods/∗/api/CrashLoopBackOff` — restart the &lt;b&gt;api&lt;/b&gt; ∗after∗ the backup, see OPS-88 (@alice,")

	const line = ":bulb: *Tip* #1 from @alice: restart the &lt;b&gt;api&lt;/b&gt; ∗after∗ the backup, see OPS-88"
	rep := h.report(alice)
	if text := rep.AllText(); strings.Count(text, line) != 1 {
		t.Fatalf("report: want the tip once, under the crash:\n%s", text)
	}
	blocks := findingTexts(t, rep)
	if !strings.Contains(blocks[0], line) || strings.Contains(blocks[1], "Tip") {
		t.Errorf("the tip is not under the crash only: %q", blocks)
	}
	root := h.investigate(alice, rep, 0)
	if !strings.Contains(root.AllText(), line) {
		t.Errorf("root: want the tip:\n%s", root.AllText())
	}

	h.slash(bob, "tip remove 1")
	h.waitEphemeral(bob, "remove runbook tips")
	h.slash(alice, "tip remove 1")
	h.waitEphemeral(alice, "Tip #1 removed")
	h.slash(alice, "tip remove 1")
	h.waitEphemeral(alice, "There is no tip #1 in force")
	if text := h.report(alice).AllText(); strings.Contains(text, "Tip") {
		t.Errorf("a removed tip is still shown:\n%s", text)
	}
	tl, err := store.(interface {
		TipTimeline(ctx context.Context, id int64) ([]triage.TipEntry, error)
	}).TipTimeline(h.ctx, 1)
	if err != nil || len(tl) != 2 || tl[0].Kind != triage.KindTipAdded || tl[0].Actor != alice ||
		tl[1].Kind != triage.KindTipRemoved || tl[1].Actor != alice {
		t.Errorf("tip timeline = %+v, %v; want added and removed by alice", tl, err)
	}
}

// findingTexts are the texts of a report's finding blocks, in order.
func findingTexts(t *testing.T, m slacktest.Message) []string {
	t.Helper()
	bs, err := m.SlackBlocks()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range bs.BlockSet {
		if s, ok := b.(*slack.SectionBlock); ok && strings.HasPrefix(s.BlockID, "finding/") {
			out = append(out, s.Text.Text)
		}
	}
	return out
}
