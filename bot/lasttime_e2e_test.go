package bot_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/triage"
)

// movableClock is a clock a test sets.
type movableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *movableClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func TestLastTimeSQLite(t *testing.T)   { testLastTime(t, onSQLite) }
func TestLastTimePostgres(t *testing.T) { testLastTime(t, onPostgres) }

// testLastTime: a finding decided last week says so in the next report,
// with the decision, who made it, its conclusion, ticket and thread, and
// how often it was seen; the new thread opened for it says the same in
// its root, and its decision form is filled in from that decision.
func testLastTime(t *testing.T, kind storeKind) {
	fs := newFake(t)
	store := openStore(t, kind, "")
	clock := &movableClock{now: time.Date(2026, 11, 12, 9, 30, 0, 0, time.UTC)}
	h := newHarness(t, fs, store, func(s *setup) { s.Now = clock.Now })
	crash := finding("pods", "Deployment shop/api", "CrashLoopBackOff")
	other := finding("pods", "Deployment shop/web", "OOMKilled")
	h.setChecks(&fakeCheck{name: "pods", result: result(crash, other)})
	h.start()

	// Last week: investigated, decided Serious.
	rep := h.report(alice)
	if strings.Contains(rep.AllText(), "Last time") {
		t.Fatalf("the first report says %q:\n%s", "Last time", rep.AllText())
	}
	root := h.investigate(alice, rep, 0)
	h.decide(alice, root, triage.Serious, values("conclusion", "the payment provider is slow <!channel>",
		"usersAffected", "every buyer", "ticket", "https://tickets.example.com/browse/OPS-123", "fiveWhys", "1. slow\n2. why"))
	h.waitMessage(devChannel, "*Decision: Serious*")

	// This week: the report says what was decided, under the finding.
	clock.Set(time.Date(2026, 11, 19, 9, 30, 0, 0, time.UTC))
	rep = h.report(alice)
	text := rep.AllText()
	want := "*Last time*, 12 Nov 2026, @alice: Serious: the payment provider is slow &lt;!channel&gt;, ticket " +
		"<https://tickets.example.com/browse/OPS-123|OPS-123> · <https://"
	if !strings.Contains(text, want) || !strings.Contains(text, "|thread> · seen 2 times in the last 30 days") {
		t.Fatalf("report: want %q, its thread and 2 sightings:\n%s", want, text)
	}
	if strings.Count(text, "Last time") != 1 {
		t.Errorf("report: want one Last time line (the other finding was never decided):\n%s", text)
	}
	permalink := "https://" + fs.Options().TeamDomain + ".slack.com/archives/" + devChannel + "/p" + strings.ReplaceAll(root.TS, ".", "")
	if !strings.Contains(text, "<"+permalink+"|thread>") {
		t.Errorf("report: the thread link is not %s:\n%s", permalink, text)
	}

	// Investigate opens a new thread: its root says the same.
	root2 := h.investigateNew(alice, rep, 0, root.TS)
	if !strings.Contains(root2.AllText(), want) || !strings.Contains(root2.AllText(), "<"+permalink+"|thread>") {
		t.Fatalf("new root: want %q:\n%s", want, root2.AllText())
	}

	// The decision form is filled in from the last decision, editable.
	viewID := h.openModal(alice, root2, triage.Serious)
	v, _ := fs.View(viewID)
	got := initialValues(t, v)
	for block, value := range map[string]string{
		"conclusion": "the payment provider is slow <!channel>", "usersAffected": "every buyer",
		"ticket": "https://tickets.example.com/browse/OPS-123", "fiveWhys": "1. slow\n2. why",
	} {
		if got[block][block].Value != value {
			t.Errorf("modal %s = %q, want %q (filled in)", block, got[block][block].Value, value)
		}
	}
	if !strings.Contains(string(v.Blocks), "Filled in from the last decision on this finding (Serious by @alice, 12 Nov 2026, anomaly #1)") {
		t.Errorf("the modal does not say it is filled in:\n%s", v.Blocks)
	}
	if ack := h.submit(v, "conclusion", "the provider again"); ack.ResponseAction != "" {
		t.Fatalf("prefilled submission ack = %+v", ack)
	}
	h.waitMessage(devChannel, "the provider again")
	a, err := store.Get(h.ctx, 2)
	if err != nil || a.Decision == nil || a.Decision.Conclusion != "the provider again" || a.Decision.Ticket != "https://tickets.example.com/browse/OPS-123" {
		t.Fatalf("anomaly #2 = %+v, %v; want the edited conclusion and the prefilled ticket", a.Decision, err)
	}
	// Its root, updated with its own decision, still says what was
	// decided before it (not its own decision).
	root2, _ = fs.Message(devChannel, root2.TS)
	if !strings.Contains(root2.AllText(), "Last time*, 12 Nov 2026, @alice: Serious: the payment provider is slow") {
		t.Errorf("updated root lost its Last time line:\n%s", root2.AllText())
	}

	// A thread with nothing decided before has no Last time and an empty form.
	root3 := h.investigateNew(alice, rep, 1, root2.TS)
	if strings.Contains(root3.AllText(), "Last time") {
		t.Errorf("a root with no history says Last time:\n%s", root3.AllText())
	}
	v3, _ := fs.View(h.openModal(alice, root3, triage.Noise))
	if got := initialValues(t, v3); len(got) != 0 {
		t.Errorf("a form with no history is filled in: %v", got)
	}
}

// investigateNew clicks Investigate on finding i of a report and returns
// the root message of the new thread (after the message at ts).
func (h *harness) investigateNew(user string, rep slacktest.Message, i int, after string) slacktest.Message {
	h.t.Helper()
	h.investigate(user, rep, i)
	m, err := h.fs.WaitForMessage(h.ctx, devChannel, func(m slacktest.Message) bool {
		return m.ThreadTS == "" && m.TS > after && strings.Contains(m.Text, "is looking at")
	})
	if err != nil {
		h.t.Fatalf("no new root message: %v", err)
	}
	return m
}
