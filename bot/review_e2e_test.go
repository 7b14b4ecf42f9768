package bot_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/triage"
)

// Slow checklists hold their own workers: a modal submission made while
// more checklists run than there are workers is acked on time and
// recorded.
func TestSubmissionIsNotQueuedBehindChecklists(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store, func(o *setup) {
		o.Workers = 2
		o.ChecklistWorkers = 2
	})
	gate := make(chan struct{})
	defer close(gate)
	h.setChecks(&fakeCheck{name: "pods", result: result(), gate: gate})
	h.start()

	h.slash(alice, "anomaly checkout latency doubled")
	root := h.waitMessage(devChannel, "is looking at")
	viewID := h.openModal(alice, root, triage.Noise)

	// Three slow checklists: two run, one waits for a checklist worker.
	for range 3 {
		h.slash(alice, "checklist")
	}
	if err := fs.WaitFor(h.ctx, func() bool {
		n := 0
		for _, m := range fs.Messages(opsChannel) {
			if strings.Contains(m.AllText(), "Running the *prod* checklist") {
				n++
			}
		}
		return n == 2
	}); err != nil {
		t.Fatalf("the checklists did not start: %v", err)
	}

	env, err := fs.SubmitView(h.ctx, viewID, values("conclusion", "a load test", "ticket", "https://t.example.com/1", "dashboard", "https://grafana.example.com/d/lt"))
	if err != nil {
		t.Fatalf("submission while checklists run: %v", err)
	}
	if ack, _ := env.ViewAck(); ack.ResponseAction != "" {
		t.Fatalf("ack = %+v", ack)
	}
	h.waitMessage(devChannel, "*Decision: Noise* by @alice")
	// A click is not queued behind them either.
	h.openModal(alice, root, triage.Serious)
}

// gatedStore holds Get while its gate is set, to show what a click does
// before any store read.
type gatedStore struct {
	triage.Store
	mu   sync.Mutex
	gate chan struct{}
}

func (s *gatedStore) hold() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = make(chan struct{})
	return s.gate
}

func (s *gatedStore) Get(ctx context.Context, id int64) (triage.Anomaly, error) {
	s.mu.Lock()
	g := s.gate
	s.mu.Unlock()
	if g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return triage.Anomaly{}, ctx.Err()
		}
	}
	return s.Store.Get(ctx, id)
}

// A decision click opens the modal before reading the store (the
// trigger_id expires in 3 s), then fills in the anomaly's title.
func TestDecideClickOpensTheModalBeforeReadingTheStore(t *testing.T) {
	fs := newFake(t)
	inner := openStore(t, onSQLite, "")
	gs := &gatedStore{Store: inner}
	h := newHarness(t, fs, gs, func(o *setup) { o.Runs = inner.(checklist.RunStore) })
	h.start()
	h.slash(alice, "anomaly checkout latency doubled")
	root := h.waitMessage(devChannel, "is looking at")

	gate := gs.hold()
	h.click(alice, devChannel, root.TS, bot.DecideActionID(triage.Noise), "")
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	if _, err := fs.WaitForCall(ctx, "views.open", func(slacktest.Call) bool { return true }); err != nil {
		t.Fatalf("views.open was not called while the store read was held: %v", err)
	}
	close(gate)
	var view slacktest.View
	if err := fs.WaitFor(h.ctx, func() bool {
		vs := fs.OpenViews(alice)
		if len(vs) == 1 && vs[0].Updates > 0 {
			view = vs[0]
			return true
		}
		return false
	}); err != nil {
		t.Fatalf("the modal was not updated with the title: %v", err)
	}
	if !strings.Contains(string(view.Blocks), "checkout latency doubled") {
		t.Errorf("modal blocks lack the title: %s", view.Blocks)
	}
	env, err := fs.SubmitView(h.ctx, view.ID, values("conclusion", "a load test", "ticket", "https://t.example.com/1", "dashboard", "https://grafana.example.com/d/lt"))
	if err != nil {
		t.Fatal(err)
	}
	if ack, _ := env.ViewAck(); ack.ResponseAction != "" {
		t.Fatalf("ack = %+v", ack)
	}
	h.waitMessage(devChannel, "*Decision: Noise* by @alice")
}

// racingStore plays another replica that posts and links its root message
// just before this one links its own.
type racingStore struct {
	triage.Store
	fs     *slacktest.Server
	once   sync.Once
	winner string
}

func (s *racingStore) LinkThread(ctx context.Context, id int64, channel, threadTS, key string) (triage.Anomaly, error) {
	var err error
	s.once.Do(func() {
		var ts string
		_, ts, err = s.fs.NewClient().PostMessageContext(ctx, channel, slack.MsgOptionText("the other replica's root", false))
		if err == nil {
			s.winner = ts
			_, err = s.Store.LinkThread(ctx, id, channel, ts, "link:other-replica")
		}
	})
	if err != nil {
		return triage.Anomaly{}, err
	}
	return s.Store.LinkThread(ctx, id, channel, threadTS, key)
}

// Two replicas that post a root message for one anomaly at once: the one
// that links second deletes its post and points at the winner's thread.
func TestLosingReplicaDeletesItsRootMessage(t *testing.T) {
	fs := newFake(t)
	inner := openStore(t, onSQLite, "")
	rs := &racingStore{Store: inner, fs: fs}
	h := newHarness(t, fs, rs, func(o *setup) { o.Runs = inner.(checklist.RunStore) })
	h.start()
	h.slash(alice, "anomaly checkout latency doubled")
	h.waitEphemeral(alice, "nomaly #1")
	ms := fs.Messages(devChannel)
	if len(ms) != 1 || ms[0].TS != rs.winner {
		t.Fatalf("#dev has %d root messages, want only the winner's (%s):\n%s", len(ms), rs.winner, dump(ms))
	}
	if _, err := fs.WaitForCall(h.ctx, "chat.delete", func(c slacktest.Call) bool { return c.Error == "" }); err != nil {
		t.Fatal(err)
	}
	a, err := inner.Get(h.ctx, 1)
	if err != nil || a.ThreadTS != rs.winner {
		t.Fatalf("anomaly = %+v, %v", a, err)
	}
}

// A Serious decision with every field at its longest fits in one reply
// (fields cut, the full text in the timeline) and updates the root.
func TestLongDecisionReplyFitsAndRootIsUpdated(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store)
	h.start()
	h.slash(alice, "anomaly checkout latency doubled")
	root := h.waitMessage(devChannel, "is looking at")
	long := func(s string) string { return strings.Repeat(s, 3000/len(s)) }
	env := h.decide(alice, root, triage.Serious, values(
		"conclusion", long("<&\"x"), "fiveWhys", long("why &\n"), "usersAffected", long("&<>\""),
		"ticket", "https://tickets.example.com/OPS-1"))
	if ack, _ := env.ViewAck(); ack.ResponseAction != "" {
		t.Fatalf("ack = %+v", ack)
	}
	reply := h.waitMessage(devChannel, "*Serious* — decided by @alice")
	if !strings.Contains(reply.AllText(), "full text in the timeline") {
		t.Errorf("the reply does not say where the full text is:\n%.500s", reply.AllText())
	}
	if len(reply.Blocks) > 12000 {
		t.Errorf("reply blocks weigh %d bytes", len(reply.Blocks))
	}
	h.waitMessage(devChannel, "*Decision: Serious* by @alice")
	a, err := store.Get(h.ctx, 1)
	if err != nil || len(a.Decision.Conclusion) != len(long("<&\"x")) {
		t.Errorf("the store does not keep the full conclusion: %v", err)
	}
}

// When Slack refuses the reply's blocks, a plain-text reply is posted;
// when it refuses every reply, the root is still updated.
func TestDecisionReplyFailureStillUpdatesTheRoot(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	h.start()
	h.slash(alice, "anomaly checkout latency doubled")
	root := h.waitMessage(devChannel, "is looking at")

	fs.FailNext("chat.postMessage", "invalid_blocks", 1)
	h.decide(alice, root, triage.Noise, values("conclusion", "a load test", "ticket", "https://t.example.com/1", "dashboard", "https://grafana.example.com/d/lt"))
	h.waitMessage(devChannel, "*Noise* — decided by @alice")
	var plainReply bool
	for _, c := range fs.Calls("chat.postMessage") {
		if c.Error == "" && c.Args.Get("thread_ts") == root.TS && c.Args.Get("blocks") == "" {
			plainReply = true
		}
	}
	if !plainReply {
		t.Error("no plain-text reply after the blocks were refused")
	}
	h.waitMessage(devChannel, "*Decision: Noise* by @alice")

	fs.FailNext("chat.postMessage", "invalid_blocks", 2)
	h.decide(alice, root, triage.NotEnoughInformation, values("conclusion", "unsure", "fiveWhys", "1. why", "toCollect", "heap dumps"))
	h.waitMessage(devChannel, "*Decision: Not enough information* by @alice")
	h.waitEphemeral(alice, "Something went wrong")
}

// missing_scope is retried forever by slack-go: the bot stops with it, and
// Run says so (not "context canceled").
func TestMissingScopeStopsWithItsCode(t *testing.T) {
	fs := newFake(t)
	fs.FailNext("apps.connections.open", "missing_scope", 1000)
	h := newHarness(t, fs, openStore(t, onSQLite, ""))
	b := h.assemble()
	err := b.Run(h.ctx)
	var pe *bot.PermanentError
	if !errors.As(err, &pe) || pe.Code != "missing_scope" {
		t.Fatalf("Run = %v, want a PermanentError missing_scope", err)
	}
}

// A checklist cut short by ChecklistTimeout still posts its report, saying
// so, instead of "running…" forever.
func TestTimedOutChecklistPostsItsReport(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""), func(o *setup) { o.ChecklistTimeout = 2 * time.Second })
	gate := make(chan struct{})
	defer close(gate)
	h.setChecks(
		&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "CrashLoopBackOff"))},
		&fakeCheck{name: "alerts", result: result(), gate: gate},
	)
	h.start()
	h.slash(alice, "checklist")
	rep := h.waitMessage(opsChannel, "*Checklist prod*")
	for _, want := range []string{"timed out", "CrashLoopBackOff", "*alerts*"} {
		if !strings.Contains(rep.AllText(), want) {
			t.Errorf("report lacks %q:\n%s", want, rep.AllText())
		}
	}
	if n := len(fs.Messages(opsChannel)); n != 1 {
		t.Errorf("%d messages in #ops, want the running one updated", n)
	}
}

// Stopping the bot (SIGTERM) past the shutdown grace period cancels a
// checklist: its report is still posted, saying it was cancelled.
func TestCancelledChecklistPostsItsReport(t *testing.T) {
	fs := newFake(t)
	h := newHarness(t, fs, openStore(t, onSQLite, ""), func(o *setup) { o.ShutdownTimeout = time.Millisecond })
	gate := make(chan struct{})
	defer close(gate)
	h.setChecks(&fakeCheck{name: "alerts", result: result(), gate: gate})
	h.start()
	h.slash(alice, "checklist")
	h.waitMessage(opsChannel, "Running the *prod* checklist")
	if err := h.stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	rep := h.waitMessage(opsChannel, "*Checklist prod*")
	if !strings.Contains(rep.AllText(), "cancelled") {
		t.Errorf("report:\n%s", rep.AllText())
	}
}

// heldPosts holds the answer of the first chat.postMessage until released
// or until its request is cancelled, as a slow network would: Slack has
// posted the message, the bot has not heard back yet.
type heldPosts struct {
	next    http.RoundTripper
	once    sync.Once
	held    chan struct{} // closed when the answer is being held
	release chan struct{}
}

func (h *heldPosts) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := h.next.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/chat.postMessage") {
		return resp, err
	}
	first := false
	h.once.Do(func() { first = true })
	if !first {
		return resp, nil
	}
	close(h.held)
	select {
	case <-h.release:
		return resp, nil
	case <-req.Context().Done():
		resp.Body.Close()
		return nil, req.Context().Err()
	}
}

// A shutdown past its grace period while the "running…" post is on its
// way: the post is seen through, and the run's report replaces it, saying
// it was cancelled, rather than a "running…" message left forever.
func TestShutdownDuringTheRunningPostStillReports(t *testing.T) {
	fs := newFake(t)
	// The workers' context is cancelled once the grace period is over:
	// the pool says so in its log.
	cancelled := make(chan struct{})
	var once sync.Once
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.WarnLevel), zap.Hooks(func(e zapcore.Entry) error {
		if strings.Contains(e.Message, "cancelling them") {
			once.Do(func() { close(cancelled) })
		}
		return nil
	}))
	hold := &heldPosts{next: http.DefaultTransport, held: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, fs, openStore(t, onSQLite, ""), func(o *setup) {
		o.ShutdownTimeout = time.Millisecond
		o.Logger = log
		o.Slack.HTTPClient = &http.Client{Transport: hold}
	})
	gate := make(chan struct{})
	defer close(gate)
	h.setChecks(&fakeCheck{name: "alerts", result: result(), gate: gate})
	h.start()
	h.slash(alice, "checklist")
	select {
	case <-hold.held:
	case <-h.ctx.Done():
		t.Fatal("the running message was never posted")
	}
	h.cancel() // SIGTERM; stop below waits for Run to return
	select {
	case <-cancelled:
	case <-h.ctx.Done():
		t.Fatal("the shutdown never cancelled the handlers")
	}
	close(hold.release)
	if err := h.stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	rep := h.waitMessage(opsChannel, "*Checklist prod*")
	if !strings.Contains(rep.AllText(), "cancelled") {
		t.Errorf("report:\n%s", rep.AllText())
	}
}
