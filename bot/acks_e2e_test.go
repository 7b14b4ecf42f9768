package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/statuspage"
	"github.com/opsbot/opsbot/statuspage/statuspagetest"
	"github.com/opsbot/opsbot/triage"
)

// With every general worker held by an `/ops update` waiting on a status
// page that does not answer, a modal submission is still acked within
// Slack's 3 s (the fake's deadline) with its validation's result: errors
// on the fields, or the modal closed; and the decision is recorded once a
// worker is free again.
func TestSubmissionAckedWhileEveryWorkerWaitsOnTheStatusPage(t *testing.T) {
	fs := newFake(t, withScratch)
	page := statuspagetest.New(t, statuspagetest.Options{})
	e := newIncidentEnv(t, fs, page, openStore(t, onSQLite, ""), func(o *setup) {
		o.Workers = 1
		// The update gives up after 8 s: long past the submissions' ack
		// deadline, short for the test.
		client, err := statuspage.New(statuspage.Config{
			BaseURL: page.URL(), PageID: page.PageID, APIKey: httpx.Secret(page.APIKey),
			Components: []string{"cmpapi"}, Timeout: model.Duration(8 * time.Second), RequestsPerSecond: 1000,
		}, nil, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		o.Incident.StatusPages["prod"] = client.ForIncidents()
	})
	e.start()
	e.announce()
	e.slash(alice, "anomaly checkout latency doubled")
	root := e.waitMessage(devChannel, "is looking at")
	viewID := e.openModal(alice, root, triage.Serious)

	page.Hang()
	before := len(page.Requests())
	e.slash(alice, "update still looking")
	poll(t, "the update reaches the status page", func() bool { return len(page.Requests()) > before })

	// The worker waits on the status page. An invalid submission: its
	// errors, in time.
	env, err := fs.SubmitView(e.ctx, viewID, values("conclusion", "   ", "ticket", "not a url", "usersAffected", "all of them"))
	if err != nil {
		t.Fatalf("invalid submission while the workers are held: %v", err)
	}
	if ack, _ := env.ViewAck(); ack.ResponseAction != "errors" || ack.Errors["conclusion"] != "required" {
		t.Fatalf("ack = %+v, want the validation's errors", ack)
	}
	// A valid one: the modal closes, in time.
	env, err = fs.SubmitView(e.ctx, viewID, slacktest.ViewValues{
		"conclusion":    {"conclusion": {Value: "the payment provider is slow"}},
		"usersAffected": {"usersAffected": {Value: "every buyer"}},
		"ticket":        {"ticket": {Value: "https://tickets.example.com/OPS-1"}},
	})
	if err != nil {
		t.Fatalf("valid submission while the workers are held: %v", err)
	}
	if ack, _ := env.ViewAck(); ack.ResponseAction != "" {
		t.Fatalf("ack = %+v, want the modal closed", ack)
	}
	if n := len(fs.ThreadReplies(devChannel, root.TS)); n != 0 {
		t.Fatalf("%d replies while the workers are held", n)
	}

	// The update gives up: the worker is free and the decision is
	// recorded.
	e.waitMessage(devChannel, "*Decision: Serious* by @alice")
	if st := fs.AckStats(); st.Missing != 0 || st.Late != 0 || st.Duplicate != 0 {
		t.Errorf("ack stats = %+v", st)
	}
}

// A validation that hangs, ignoring its deadline, is answered "busy, try
// again" on time (the modal stays open); the result it comes up with
// later is not sent (one ack per envelope), and the next submission is
// validated and recorded.
func TestHungValidationIsAnsweredBusyOnTime(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	release := make(chan struct{})
	h := newHarness(t, fs, store, func(o *setup) {
		o.ViewWorkers = 1 // the released validation ends before the next starts
		o.BeforeRun = func(b *bot.Bot) { bot.HoldViewValidation(b, bot.CallbackDecision, release) }
	})
	h.start()
	h.slash(alice, "anomaly checkout latency doubled")
	root := h.waitMessage(devChannel, "is looking at")
	viewID := h.openModal(alice, root, triage.Noise)
	valid := values("conclusion", "a load test", "ticket", "https://t.example.com/1", "dashboard", "https://grafana.example.com/d/lt")

	env, err := fs.SubmitView(h.ctx, viewID, valid)
	if err != nil {
		t.Fatalf("submission with a hung validation: %v", err)
	}
	ack, _ := env.ViewAck()
	if ack.ResponseAction != "errors" || !strings.Contains(ack.Errors["conclusion"], "busy") {
		t.Fatalf("ack = %+v, want busy on the conclusion", ack)
	}
	if v, _ := fs.View(viewID); !v.Open {
		t.Fatal("the modal closed on a busy answer")
	}

	close(release)
	env, err = fs.SubmitView(h.ctx, viewID, valid)
	if err != nil {
		t.Fatalf("submission after the release: %v", err)
	}
	if ack, _ := env.ViewAck(); ack.ResponseAction != "" {
		t.Fatalf("ack = %+v, want the modal closed", ack)
	}
	h.waitMessage(devChannel, "*Decision: Noise* by @alice")
	// One worker: the first validation ended (and did not ack) before the
	// second's ack was sent.
	if st := fs.AckStats(); st.Duplicate != 0 || st.Unknown != 0 || st.Missing != 0 {
		t.Errorf("ack stats = %+v", st)
	}
	if ks := kinds(t, store, 1); count(ks, triage.KindDecided) != 1 {
		t.Errorf("timeline = %v, want one decision", ks)
	}
}

// poll waits, checking every few milliseconds, until cond holds: for
// conditions outside the fake Slack (whose WaitFor wakes on its own
// changes only).
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		<-tick.C
	}
}
