package bot_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/triage"
)

// rateLimitedOnce makes the next chat.postMessage answer 429 (Retry-After
// 1s), runs do, and checks the post went through once after it, nobody
// being told that something went wrong.
func rateLimitedOnce(t *testing.T, h *harness, do func()) {
	t.Helper()
	before := len(h.fs.Calls("chat.postMessage"))
	h.fs.RateLimitNext("chat.postMessage", 1, time.Second)
	do()
	calls := h.fs.Calls("chat.postMessage")[before:]
	if len(calls) < 2 || calls[0].Status != http.StatusTooManyRequests || calls[1].Status != http.StatusOK ||
		calls[1].Args.Get("channel") != calls[0].Args.Get("channel") || calls[1].Args.Get("text") != calls[0].Args.Get("text") {
		t.Fatalf("chat.postMessage calls after a 429: %+v, want the same post again", calls)
	}
	for _, user := range []string{alice, bob, carol} {
		for _, e := range h.fs.Ephemerals(user) {
			if strings.Contains(e.Text, "went wrong") {
				t.Errorf("%s was told %q", user, e.Text)
			}
		}
	}
}

func TestRateLimitedAnomalyRootIsPostedOnce(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "StatefulSet shop/db", "PVC 95% full"))})
	h.start()
	rep := h.report(alice)
	rateLimitedOnce(t, h, func() { h.investigate(alice, rep, 0) })
	if ms := fs.Messages(devChannel); len(ms) != 1 {
		t.Errorf("%d threads, want 1:\n%s", len(ms), dump(ms))
	}
}

func TestRateLimitedRecurrenceReplyIsPostedOnce(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	flaky := finding("http", "storefront", "health check timed out")
	h.setChecks(&fakeCheck{name: "http", result: result(flaky)})
	h.start()
	root := h.investigate(alice, h.report(alice), 0)
	h.decide(alice, root, triage.Intermittent, values("conclusion", "a slow node, gone"))
	h.waitMessage(devChannel, "*Decision: Intermittent*")

	rateLimitedOnce(t, h, func() {
		// The report is an update; the recurrence is the next post.
		h.report(alice)
		h.waitMessage(devChannel, "seen again, 1st time since it was decided Intermittent")
	})
	if n := countContaining(fs.ThreadReplies(devChannel, root.TS), "seen again"); n != 1 {
		t.Errorf("%d recurrence replies, want 1", n)
	}
}

func TestRateLimitedIncidentAnnouncementIsPostedOnce(t *testing.T) {
	e := startIncidentEnv(t)
	rateLimitedOnce(t, e.harness, func() {
		if got := e.announce(); got.Text != wantAnnouncement {
			t.Errorf("announcement %q", got.Text)
		}
	})
	if p := e.page.Incidents(); len(p) != 1 {
		t.Errorf("%d status page incidents, want 1", len(p))
	}
}

// Slack answering 5xx is retried a bounded number of times: two 503s and
// the thread is posted; 503s every time and the user is told, after
// exactly SlackOptions.Attempts calls.
func TestServerErrorsAreRetriedBoundedly(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""), func(o *setup) { o.Slack.Attempts = 3 })
	h.setChecks(&fakeCheck{name: "pods", result: result(
		finding("pods", "StatefulSet shop/db", "PVC 95% full"),
		finding("pods", "Deployment shop/api", "CrashLoopBackOff"))})
	h.start()
	rep := h.report(alice)

	fs.ServerErrorNext("chat.postMessage", 2, http.StatusServiceUnavailable)
	h.investigate(alice, rep, 0)

	before := len(fs.Calls("chat.postMessage"))
	fs.ServerErrorNext("chat.postMessage", 3, http.StatusServiceUnavailable)
	h.click(alice, opsChannel, rep.TS, bot.ActionInvestigate, "finding/1")
	h.waitEphemeral(alice, "Something went wrong")
	if n := len(fs.Calls("chat.postMessage")) - before; n != 3 {
		t.Errorf("%d calls to a Slack answering 503, want 3 (Attempts)", n)
	}
	if ms := fs.Messages(devChannel); len(ms) != 1 {
		t.Errorf("%d threads, want 1:\n%s", len(ms), dump(ms))
	}
}

// A storm: 500 anomalies decided Intermittent come back in one checklist
// run, so 500 "seen again" replies go to the dev channel. Slack allows one
// post per second per channel (scaled down here: one per 10 ms, and the
// bot paced as much): nothing is refused, nothing is lost, the posts are
// spaced, and envelopes sent meanwhile are acked as usual.
func TestPostStormIsPacedAndComplete(t *testing.T) {
	const (
		storm = 500
		pace  = 10 * time.Millisecond
	)
	fs := newFake(t, func(o *slacktest.Options) {
		o.RateLimits["chat.postMessage"] = slacktest.RateLimit{Requests: 1, Window: pace, PerChannel: true}
	})
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store, func(o *setup) { o.Slack.PostInterval, o.Slack.PostQueue = pace, 8 })
	var findings []checks.Finding
	for i := range storm {
		f := finding("http", fmt.Sprintf("endpoint-%03d", i), "health check timed out")
		findings = append(findings, f)
		a, _, err := store.OpenAnomaly(h.ctx, triage.Anomaly{Environment: "prod", Fingerprint: f.Fingerprint,
			Title: f.Title, Source: triage.SourceChecklist, OpenedBy: alice, OpenedAt: time.Now()}, "")
		if err != nil {
			t.Fatal(err)
		}
		ts, err := fs.Seed(devChannel, slacktest.Message{User: slacktest.DefaultBotUserID, Text: f.Title})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.LinkThread(h.ctx, a.ID, devChannel, ts, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Decide(h.ctx, a.ID, triage.DecisionRecord{Decision: triage.Intermittent,
			Conclusion: "flaky", DecidedBy: alice, DecidedAt: time.Now()}, ""); err != nil {
			t.Fatal(err)
		}
	}
	h.setChecks(&fakeCheck{name: "http", result: result(findings...)})
	h.start()

	seenAgain := func() int {
		n := 0
		for _, c := range fs.Calls("chat.postMessage") {
			if c.Args.Get("channel") == devChannel && c.Status == http.StatusOK && c.Args.Get("thread_ts") != "" {
				n++
			}
		}
		return n
	}
	h.slash(alice, "checklist")
	// Envelopes sent during the storm are acked (slash returns once acked,
	// and fails the test past Slack's 3 s).
	if err := fs.WaitFor(h.ctx, func() bool { return seenAgain() > 0 }); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		h.slash(bob, "help")
	}
	if err := fs.WaitFor(h.ctx, func() bool { return seenAgain() == storm }); err != nil {
		t.Fatalf("%d of %d recurrences posted: %v", seenAgain(), storm, err)
	}

	var last time.Time
	for _, c := range fs.Calls("chat.postMessage") {
		if c.Args.Get("channel") != devChannel {
			continue
		}
		if c.Status != http.StatusOK {
			t.Fatalf("Slack refused a post (%d %s): the storm was not paced", c.Status, c.Error)
		}
		if !last.IsZero() && c.Time.Sub(last) < pace {
			t.Fatalf("two posts %s apart in %s, want at least %s", c.Time.Sub(last), devChannel, pace)
		}
		last = c.Time
	}
	for i, f := range findings {
		a, err := store.FindOpen(h.ctx, "prod", f.Fingerprint)
		if err == nil {
			t.Fatalf("finding %d reopened: %+v", i, a)
		}
	}
	if st := fs.AckStats(); st.Late > 0 || st.Missing > 0 {
		t.Errorf("acks during the storm: %+v", st)
	}
}

// The escalation's mention is lost to a failure (Slack refuses the run's
// posts): the escalation stays pending, and the next run posts it, once;
// the runs after post it no more.
func TestLostEscalationIsPostedByTheNextRunOnce(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store)
	flaky := finding("http", "storefront", "health check timed out")
	h.setChecks(&fakeCheck{name: "http", result: result(flaky)})
	h.start()
	root := h.investigate(alice, h.report(alice), 0)
	h.decide(alice, root, triage.Intermittent, values("conclusion", "a slow node, gone"))
	h.waitMessage(devChannel, "*Decision: Intermittent*")
	for _, want := range []string{"1st time", "2nd time"} {
		h.report(alice)
		h.waitMessage(devChannel, want)
	}
	mentions := func() int {
		return countContaining(fs.ThreadReplies(devChannel, root.TS), "<!subteam^"+opsGroup+">")
	}

	// The third sighting escalates; its reply and the mention are refused
	// (the run's first post, "running…", is let through: the check waits
	// for the failures to be set).
	gate := make(chan struct{})
	h.setChecks(&fakeCheck{name: "http", result: result(flaky), gate: gate})
	before := len(fs.Messages(opsChannel))
	h.slash(alice, "checklist")
	if err := fs.WaitFor(h.ctx, func() bool { return len(fs.Messages(opsChannel)) > before }); err != nil {
		t.Fatal(err)
	}
	fs.FailNext("chat.postMessage", "fatal_error", 2)
	close(gate)
	// The run ends telling alice it did not finish (and so after giving the
	// escalation back).
	h.waitEphemeral(alice, "went wrong")
	if n := countErrors(fs, "fatal_error"); n != 2 {
		t.Fatalf("%d posts refused, want 2", n)
	}
	h.setChecks(&fakeCheck{name: "http", result: result(flaky)})
	a, err := store.FindOpen(h.ctx, "prod", flaky.Fingerprint)
	if err != nil || a.EscalatedAt.IsZero() || !a.EscalationPending {
		t.Fatalf("after the refused mention: %+v, %v; want escalated and pending", a, err)
	}
	if n := mentions(); n != 0 {
		t.Fatalf("%d mentions", n)
	}

	h.report(alice)
	esc := h.waitMessage(devChannel, "<!subteam^"+opsGroup+">")
	if esc.ThreadTS != root.TS || !strings.Contains(esc.AllText(), "3 in the last 7d: escalating") {
		t.Errorf("the escalation posted by the next run:\n%s", esc.AllText())
	}
	h.waitMessage(devChannel, "Escalated on")
	if a, err := store.Get(h.ctx, a.ID); err != nil || a.EscalationPending {
		t.Errorf("after the next run: %+v, %v; want nothing pending", a, err)
	}
	h.report(alice)
	h.waitMessage(devChannel, "5th time")
	if n := mentions(); n != 1 {
		t.Errorf("%d escalation mentions, want 1", n)
	}
}

func countErrors(fs *slacktest.Server, code string) int {
	n := 0
	for _, c := range fs.Calls("chat.postMessage") {
		if c.Error == code {
			n++
		}
	}
	return n
}
