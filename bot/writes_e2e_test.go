package bot_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/statuspage/statuspagetest"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/postgres"
	"github.com/opsbot/opsbot/store/sqlite"
	"github.com/opsbot/opsbot/triage"
)

// The tests of the writes that matter (opening an anomaly's thread, a
// decision, an incident's announcement) when the store fails under them
// or the bot is stopped (SIGTERM) in their middle: nothing is posted in
// Slack without its record, nothing is half-written, the user is told, and
// doing it again (a retry, the same envelope redelivered after a restart)
// does the work once.

// errStoreDown is the store's failure in these tests.
var errStoreDown = errors.New("the database is down")

// faults fails or holds a real store's write transactions through its
// WithBeforeCommit hook, after the transaction's writes and before its
// COMMIT: a failing write is rolled back, as when the database goes away;
// a held one waits, mid-transaction, until it is released or its context
// is cancelled (then it is rolled back).
type faults struct {
	mu   sync.Mutex
	down map[string]bool
	held *heldWrite
}

// heldWrite is a write transaction held before its COMMIT.
type heldWrite struct {
	op      string
	reached chan struct{} // closed when the write is held
	release chan struct{} // close to let it commit
}

// fail makes the writes of op fail until recover.
func (f *faults) fail(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down == nil {
		f.down = map[string]bool{}
	}
	f.down[op] = true
}

// recover makes every write work again.
func (f *faults) recover() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = nil
}

// holdNext holds the next write of op.
func (f *faults) holdNext(op string) *heldWrite {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held = &heldWrite{op: op, reached: make(chan struct{}), release: make(chan struct{})}
	return f.held
}

func (f *faults) hook(ctx context.Context, op string) error {
	f.mu.Lock()
	down := f.down[op]
	h := f.held
	if h != nil && h.op == op {
		f.held = nil
	} else {
		h = nil
	}
	f.mu.Unlock()
	switch {
	case down:
		return errStoreDown
	case h == nil:
		return nil
	}
	close(h.reached)
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// wait waits until the write is held.
func (w *heldWrite) wait(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-w.reached:
	case <-ctx.Done():
		t.Fatalf("no %s write was made", w.op)
	}
}

// openFaultyStore opens a store of kind (at path, for SQLite: a temporary
// file when empty) whose writes f fails or holds.
func openFaultyStore(t testing.TB, kind storeKind, path string, f *faults) triage.Store {
	t.Helper()
	ctx := context.Background()
	hook := store.WithBeforeCommit(f.hook)
	if kind == onPostgres {
		if pg == nil {
			t.Skip("no PostgreSQL (-short)")
		}
		dsn, err := pg.CreateDatabase(ctx)
		if err != nil {
			t.Fatal(err)
		}
		db, err := postgres.Open(ctx, dsn, zap.NewNop(), hook)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	if path == "" {
		path = filepath.Join(t.TempDir(), "opsbot.db")
	}
	db, err := sqlite.Open(ctx, path, zap.NewNop(), hook)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func closeStore(t *testing.T, s triage.Store) {
	t.Helper()
	if err := s.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}
}

// noiseValues are a valid Noise decision's modal values.
func noiseValues() slacktest.ViewValues {
	return values("conclusion", "a retry storm", "dashboard", "https://grafana.example.com/d/x",
		"ticket", "https://jira.example.com/browse/OPS-7")
}

// announceFields are the announcement modal's values of the incident the
// tests announce.
var announceFields = []string{"from", "2026-11-23", "fromTime", "13:20",
	"userImpact", "Checkout fails for\nabout 20% of users <!channel>", "what", "payments API returns 502 & times out"}

// wantRootsLinked fails unless the dev channel's messages are exactly the
// root messages of the anomalies that have a thread: no root message
// without its anomaly, no anomaly linked to a message that is not there.
func wantRootsLinked(t *testing.T, fs *slacktest.Server, s triage.Store) {
	t.Helper()
	open, err := s.ListOpen(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]int64{}
	for _, a := range open {
		if a.HasThread() {
			linked[a.ThreadTS] = a.ID
			if _, ok := fs.Message(a.Channel, a.ThreadTS); !ok {
				t.Errorf("anomaly %d is linked to %s, which is not in Slack", a.ID, a.ThreadTS)
			}
		}
	}
	for _, m := range fs.Messages(devChannel) {
		if _, ok := linked[m.TS]; !ok {
			t.Errorf("a root message no anomaly records (orphan):\n%s", m.AllText())
		}
	}
}

// wantAnnouncementsRecorded fails unless the ops channel's messages are
// exactly the announcements the incidents record.
func wantAnnouncementsRecorded(t *testing.T, fs *slacktest.Server, s incident.Store) {
	t.Helper()
	open, err := s.ListOpen(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]int64{}
	for _, inc := range open {
		if inc.MessageTS != "" {
			recorded[inc.MessageTS] = inc.ID
			if _, ok := fs.Message(inc.Channel, inc.MessageTS); !ok {
				t.Errorf("incident %d records announcement %s, which is not in Slack", inc.ID, inc.MessageTS)
			}
		}
	}
	for _, m := range fs.Messages(opsChannel) {
		if _, ok := recorded[m.TS]; !ok {
			t.Errorf("an announcement no incident records (orphan):\n%s", m.AllText())
		}
	}
}

func TestStoreDownDuringOpenSQLite(t *testing.T)   { testStoreDownDuringOpen(t, onSQLite) }
func TestStoreDownDuringOpenPostgres(t *testing.T) { testStoreDownDuringOpen(t, onPostgres) }

// The store fails to record the anomaly, then to record its thread's link
// (the root message was posted): the user is told nothing was opened,
// and the dev channel has no root message; once the store is back, the
// same click opens the one thread.
func testStoreDownDuringOpen(t *testing.T, kind storeKind) {
	fs := newFake(t)
	f := &faults{}
	st := openFaultyStore(t, kind, "", f)
	h := newHarness(t, fs, st)
	h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "StatefulSet shop/db", "PVC 95% full"))})
	h.start()
	rep := h.report(alice)

	for i, op := range []string{store.OpOpenAnomaly, store.OpLinkThread} {
		f.fail(op)
		told := h.nextEphemeral(alice, func() { h.click(alice, opsChannel, rep.TS, bot.ActionInvestigate, "finding/0") })
		f.recover()
		if !strings.Contains(told.Text, "The anomaly's thread was not opened") {
			t.Errorf("%s failed: alice was told %q", op, told.Text)
		}
		if i == 0 && kind == onSQLite {
			goldenPosted(t, "store-down-open", told.Text, told.Blocks)
		}
		if ms := fs.Messages(devChannel); len(ms) != 0 {
			t.Fatalf("%s failed, yet the dev channel has:\n%s", op, dump(ms))
		}
	}
	if n := len(fs.Calls("chat.delete")); n != 1 {
		t.Errorf("%d chat.delete calls, want 1: the root message posted before its link failed", n)
	}

	root := h.investigate(alice, rep, 0)
	open, err := st.ListOpen(h.ctx, "")
	if err != nil || len(open) != 1 || open[0].ThreadTS != root.TS {
		t.Errorf("after the store came back: open anomalies %+v, %v; want one, with thread %s", open, err, root.TS)
	}
	wantRootsLinked(t, fs, st)
}

func TestStoreDownDuringDecisionSQLite(t *testing.T)   { testStoreDownDuringDecision(t, onSQLite) }
func TestStoreDownDuringDecisionPostgres(t *testing.T) { testStoreDownDuringDecision(t, onPostgres) }

// The store fails to record a decision: nothing is posted in the thread,
// the root message is not touched, the user is told; the decision made
// again once the store is back is recorded and posted once.
func testStoreDownDuringDecision(t *testing.T, kind storeKind) {
	fs := newFake(t)
	f := &faults{}
	st := openFaultyStore(t, kind, "", f)
	h := newHarness(t, fs, st)
	h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "CrashLoopBackOff"))})
	h.start()
	root := h.investigate(alice, h.report(alice), 0)
	before, _ := fs.Message(devChannel, root.TS)

	f.fail(store.OpDecide)
	told := h.nextEphemeral(alice, func() { h.decide(alice, root, triage.Noise, noiseValues()) })
	f.recover()
	if !strings.Contains(told.Text, "Your decision on anomaly #1 was not recorded") {
		t.Errorf("alice was told %q", told.Text)
	}
	if kind == onSQLite {
		goldenPosted(t, "store-down-decision", told.Text, told.Blocks)
	}
	if rs := fs.ThreadReplies(devChannel, root.TS); len(rs) != 0 {
		t.Errorf("a decision not recorded was posted:\n%s", dump(rs))
	}
	if now, _ := fs.Message(devChannel, root.TS); now.Updates != before.Updates {
		t.Errorf("the root message was updated (%d updates, %d before) for a decision not recorded", now.Updates, before.Updates)
	}
	if ks := kinds(t, st, 1); count(ks, triage.KindDecided) != 0 {
		t.Fatalf("timeline %v: a decision recorded despite the failure", ks)
	}

	h.decide(alice, root, triage.Noise, noiseValues())
	h.waitMessage(devChannel, "*Decision: Noise*")
	if rs := fs.ThreadReplies(devChannel, root.TS); len(rs) != 1 {
		t.Errorf("%d replies after the decision made again, want 1:\n%s", len(rs), dump(rs))
	}
	if ks := kinds(t, st, 1); count(ks, triage.KindDecided) != 1 {
		t.Errorf("timeline %v, want one decision", ks)
	}
}

// The store fails to record the incident: nothing is posted, the user is
// told. Then it fails to record the announcement, once posted: the
// announcement is deleted again, the user gets the Retry button, and the
// Retry (the store back) posts the one announcement.
func TestStoreDownDuringAnnounce(t *testing.T) {
	fs := newFake(t, withScratch)
	f := &faults{}
	st := openFaultyStore(t, onSQLite, "", f)
	e := newIncidentEnv(t, fs, statuspagetest.New(t, statuspagetest.Options{}), st)
	e.start()

	f.fail(store.OpAnnounce)
	v := e.openIncidentModal(alice, func() { e.slash(alice, "incident") })
	told := e.nextEphemeral(alice, func() { e.submit(v, announceFields...) })
	f.recover()
	if !strings.Contains(told.Text, "The incident was not announced") {
		t.Errorf("alice was told %q", told.Text)
	}
	goldenPosted(t, "store-down-announce", told.Text, told.Blocks)
	if ms := fs.Messages(opsChannel); len(ms) != 0 {
		t.Fatalf("an incident not recorded was announced:\n%s", dump(ms))
	}
	if p := e.page.Incidents(); len(p) != 0 {
		t.Errorf("an incident not recorded is on the status page: %+v", p)
	}

	f.fail(store.OpSetMessage)
	v = e.openIncidentModal(alice, func() { e.slash(alice, "incident") })
	failed := e.nextEphemeral(alice, func() { e.submit(v, announceFields...) })
	f.recover()
	if !strings.Contains(failed.Text, "Incident #1 is recorded, but its announcement could not be posted") {
		t.Errorf("alice was told %q", failed.Text)
	}
	wantButton(t, failed, bot.ActionRetryIncident, "Retry announcement")
	if ms := fs.Messages(opsChannel); len(ms) != 0 {
		t.Fatalf("an announcement whose record failed is left in #ops:\n%s", dump(ms))
	}

	done := e.nextEphemeral(alice, func() { e.clickEphemeral(alice, failed, bot.ActionRetryIncident, "") })
	if !strings.Contains(done.Text, "Announced incident #1") {
		t.Errorf("after Retry alice was told %q", done.Text)
	}
	ms := fs.Messages(opsChannel)
	inc, err := e.incidents.Get(e.ctx, 1)
	if err != nil || len(ms) != 1 || inc.MessageTS != ms[0].TS {
		t.Errorf("after Retry: incident %+v, %v; #ops:\n%s", inc, err, dump(ms))
	}
	wantAnnouncementsRecorded(t, fs, e.incidents)
}

// midWrite is one of the writes the shutdown tests stop in the middle.
type midWrite struct {
	// start sets the bot up on st (its faults f, the shutdown's grace
	// period) and starts the write; it returns the harness, the envelope
	// that started the write and the write, held.
	start func(t *testing.T, fs *slacktest.Server, st triage.Store, f *faults, grace time.Duration) (*harness, *slacktest.Envelope, *heldWrite)
	// handled is called before the envelope is redelivered; the condition
	// it returns is true once the redelivery was handled.
	handled func(h *harness) func() bool
	// restart is the bot on st again, after a restart.
	restart func(t *testing.T, fs *slacktest.Server, st triage.Store) *harness
	// done checks the write was made, once (its post, its record, the
	// user told); after says whether this is after the redelivery.
	done func(t *testing.T, h *harness, after bool)
	// undone checks, once the bot stopped, that the write was rolled
	// back, nothing left posted, and the user told.
	undone func(t *testing.T, h *harness)
}

func grace(d time.Duration) func(*setup) { return func(o *setup) { o.ShutdownTimeout = d } }

var midWrites = map[string]midWrite{
	// Investigate: held between the root message's post and the record of
	// its link.
	"open": {
		start: func(t *testing.T, fs *slacktest.Server, st triage.Store, f *faults, d time.Duration) (*harness, *slacktest.Envelope, *heldWrite) {
			h := newHarness(t, fs, st, grace(d))
			h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "StatefulSet shop/db", "PVC 95% full"))})
			h.start()
			rep := h.report(alice)
			w := f.holdNext(store.OpLinkThread)
			env := h.click(alice, opsChannel, rep.TS, bot.ActionInvestigate, "finding/0")
			w.wait(t, h.ctx)
			return h, env, w
		},
		restart: func(t *testing.T, fs *slacktest.Server, st triage.Store) *harness { return newHarness(t, fs, st) },
		handled: toldAgain,
		done: func(t *testing.T, h *harness, after bool) {
			root := h.waitMessage(devChannel, "is looking at")
			if !after {
				h.waitEphemeral(alice, "Opened anomaly #1")
			}
			if ms := h.fs.Messages(devChannel); len(ms) != 1 || ms[0].TS != root.TS {
				t.Errorf("dev channel:\n%s", dump(ms))
			}
			if a, err := h.store.Get(h.ctx, 1); err != nil || a.ThreadTS != root.TS {
				t.Errorf("anomaly 1 = %+v, %v; want its thread %s", a, err, root.TS)
			}
			wantRootsLinked(t, h.fs, h.store)
		},
		undone: func(t *testing.T, h *harness) {
			wantTold(t, h, "The anomaly's thread was not opened")
			if ms := h.fs.Messages(devChannel); len(ms) != 0 {
				t.Errorf("a root message whose link was rolled back is left:\n%s", dump(ms))
			}
			if a, err := h.store.Get(h.ctx, 1); err != nil || a.HasThread() {
				t.Errorf("anomaly 1 = %+v, %v; want it recorded, without a thread", a, err)
			}
		},
	},
	// A decision: held in its transaction.
	"decision": {
		start: func(t *testing.T, fs *slacktest.Server, st triage.Store, f *faults, d time.Duration) (*harness, *slacktest.Envelope, *heldWrite) {
			h := newHarness(t, fs, st, grace(d))
			h.setChecks(&fakeCheck{name: "pods", result: result(finding("pods", "Deployment shop/api", "CrashLoopBackOff"))})
			h.start()
			root := h.investigate(alice, h.report(alice), 0)
			w := f.holdNext(store.OpDecide)
			env := h.decide(alice, root, triage.Noise, noiseValues())
			w.wait(t, h.ctx)
			return h, env, w
		},
		restart: func(t *testing.T, fs *slacktest.Server, st triage.Store) *harness { return newHarness(t, fs, st) },
		// The anomaly's root message is updated whether the redelivered
		// decision is recorded now or was before.
		handled: func(h *harness) func() bool {
			a, err := h.store.Get(h.ctx, 1)
			if err != nil {
				h.t.Fatal(err)
			}
			before, _ := h.fs.Message(devChannel, a.ThreadTS)
			return func() bool {
				m, _ := h.fs.Message(devChannel, a.ThreadTS)
				return m.Updates > before.Updates
			}
		},
		done: func(t *testing.T, h *harness, _ bool) {
			reply := h.waitMessage(devChannel, "*Decision: Noise*")
			if rs := h.fs.ThreadReplies(devChannel, reply.ThreadTS); len(rs) != 1 {
				t.Errorf("%d replies, want 1:\n%s", len(rs), dump(rs))
			}
			if ks := kinds(t, h.store, 1); count(ks, triage.KindDecided) != 1 {
				t.Errorf("timeline %v, want one decision", ks)
			}
		},
		undone: func(t *testing.T, h *harness) {
			wantTold(t, h, "Your decision on anomaly #1 was not recorded")
			a, err := h.store.Get(h.ctx, 1)
			if err != nil || a.Decision != nil {
				t.Errorf("anomaly 1 = %+v, %v; want no decision", a, err)
			}
			if rs := h.fs.ThreadReplies(devChannel, a.ThreadTS); len(rs) != 0 {
				t.Errorf("a decision rolled back was posted:\n%s", dump(rs))
			}
			if ks := kinds(t, h.store, 1); count(ks, triage.KindDecided) != 0 {
				t.Errorf("timeline %v: a decision rolled back is recorded", ks)
			}
		},
	},
	// An announcement: held between its post and its record.
	"announce": {
		start: func(t *testing.T, fs *slacktest.Server, st triage.Store, f *faults, d time.Duration) (*harness, *slacktest.Envelope, *heldWrite) {
			e := newIncidentEnv(t, fs, statuspagetest.New(t, statuspagetest.Options{}), st, grace(d))
			e.start()
			w := f.holdNext(store.OpSetMessage)
			v := e.openIncidentModal(alice, func() { e.slash(alice, "incident") })
			_, env := e.submitEnvelope(v, announceFields...)
			w.wait(t, e.ctx)
			return e.harness, env, w
		},
		restart: func(t *testing.T, fs *slacktest.Server, st triage.Store) *harness {
			return newIncidentEnv(t, fs, statuspagetest.New(t, statuspagetest.Options{}), st).harness
		},
		handled: toldAgain,
		done: func(t *testing.T, h *harness, after bool) {
			ann := h.waitMessage(opsChannel, "📟 Degraded service")
			if !after {
				h.waitEphemeral(alice, "Announced incident #1")
			}
			incs := incidentStore(t, h.store)
			inc, err := incs.Get(h.ctx, 1)
			if ms := h.fs.Messages(opsChannel); err != nil || len(ms) != 1 || inc.MessageTS != ann.TS {
				t.Errorf("incident 1 = %+v, %v; #ops:\n%s", inc, err, dump(ms))
			}
			wantAnnouncementsRecorded(t, h.fs, incs)
		},
		undone: func(t *testing.T, h *harness) {
			wantTold(t, h, "Incident #1 is recorded, but its announcement could not be posted")
			if ms := h.fs.Messages(opsChannel); len(ms) != 0 {
				t.Errorf("an announcement whose record was rolled back is left:\n%s", dump(ms))
			}
			inc, err := incidentStore(t, h.store).Get(h.ctx, 1)
			if err != nil || !inc.AnnouncementLags() {
				t.Errorf("incident 1 = %+v, %v; want it recorded, its announcement to post", inc, err)
			}
		},
	},
}

// wantTold fails unless alice was told want: the bot stopped, so it has
// told her everything it will.
func wantTold(t *testing.T, h *harness, want string) {
	t.Helper()
	var told []string
	for _, e := range h.fs.Ephemerals(alice) {
		if strings.Contains(e.Text, want) {
			return
		}
		told = append(told, e.Text)
	}
	t.Errorf("alice was not told %q by the time the bot stopped; she was told %q", want, told)
}

// toldAgain is true once alice is told something more than now.
func toldAgain(h *harness) func() bool {
	n := len(h.fs.Ephemerals(alice))
	return func() bool { return len(h.fs.Ephemerals(alice)) > n }
}

// redeliver sends env again to h, restarted, and waits until it is handled.
func (w midWrite) redeliver(t *testing.T, h *harness, env *slacktest.Envelope) {
	t.Helper()
	handled := w.handled(h)
	if _, err := h.fs.Redeliver(h.ctx, env.ID, "timeout"); err != nil {
		t.Fatal(err)
	}
	if err := h.fs.WaitFor(h.ctx, handled); err != nil {
		t.Fatalf("the redelivery was not handled: %v", err)
	}
}

// TestShutdownMidWriteFinishesIt: SIGTERM while a write is held; released
// within the shutdown's grace period, it completes (its post, its record,
// the user told), and the same envelope redelivered after a restart does
// nothing more.
func TestShutdownMidWriteFinishesIt(t *testing.T) {
	for name, w := range midWrites {
		t.Run(name, func(t *testing.T) {
			fs := newFake(t, withScratch)
			path := filepath.Join(t.TempDir(), "opsbot.db")
			f := &faults{}
			st := openFaultyStore(t, onSQLite, path, f)
			h, env, held := w.start(t, fs, st, f, time.Minute)
			stopped := make(chan error, 1)
			go func() { stopped <- h.stop() }()
			// The socket is closed: the process is stopping. Then the write
			// goes on.
			if err := fs.WaitFor(h.ctx, func() bool { return fs.Connections() == 0 }); err != nil {
				t.Fatal(err)
			}
			close(held.release)
			if err := <-stopped; err != nil {
				t.Fatalf("Run = %v", err)
			}
			w.done(t, h, false)
			closeStore(t, st)

			h2 := w.restart(t, fs, openStore(t, onSQLite, path))
			h2.start()
			w.redeliver(t, h2, env)
			w.done(t, h2, true)
		})
	}
}

// TestShutdownMidWriteRollsItBack: SIGTERM while a write is held past the
// shutdown's grace period: its context is cancelled, the write is rolled
// back, what it posted is deleted, the user is told; after a restart on
// the same store, the same envelope redelivered does the work once.
func TestShutdownMidWriteRollsItBack(t *testing.T) {
	for name, w := range midWrites {
		t.Run(name, func(t *testing.T) {
			fs := newFake(t, withScratch)
			path := filepath.Join(t.TempDir(), "opsbot.db")
			f := &faults{}
			st := openFaultyStore(t, onSQLite, path, f)
			h, env, _ := w.start(t, fs, st, f, time.Millisecond)
			if err := h.stop(); err != nil {
				t.Fatalf("Run = %v", err)
			}
			w.undone(t, h)
			closeStore(t, st)

			h2 := w.restart(t, fs, openStore(t, onSQLite, path))
			h2.start()
			w.redeliver(t, h2, env)
			w.done(t, h2, true)
		})
	}
}
