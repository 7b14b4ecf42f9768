package triage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/redact"
	"github.com/opsbot/opsbot/store/sqlite"
	"github.com/opsbot/opsbot/triage"
)

// The Service's tests run against the SQLite store (a real one: the race
// and the idempotency are the store's as much as the Service's) and a fake
// thread port.

// call is one call of the fake port.
type call struct {
	Method  string
	Anomaly int64
	Channel string
	TS      string
	Detail  string // the decision, the recurrence
	// Last is the anomaly whose decision the root message shows as "last
	// time" (PostRoot, UpdateRoot); 0 for none.
	Last int64
}

// lastID is the anomaly id of a Memory's last decision, 0 for none.
func lastID(m triage.Memory) int64 {
	if m.Last == nil {
		return 0
	}
	return m.Last.AnomalyID
}

// fakeThreads is triage.Threads in memory.
type fakeThreads struct {
	mu    sync.Mutex
	calls []call
	n     int
	// posting, if set, runs inside PostRoot before it returns.
	posting func(ctx context.Context, a triage.Anomaly)
	// fail makes the named method fail.
	fail map[string]error
}

func (f *fakeThreads) record(c call) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	return f.fail[c.Method]
}

func (f *fakeThreads) PostRoot(ctx context.Context, a triage.Anomaly, last triage.Memory) (string, string, error) {
	f.mu.Lock()
	f.n++
	ts := fmt.Sprintf("1700000000.%06d", f.n)
	posting := f.posting
	f.mu.Unlock()
	if posting != nil {
		posting(ctx, a)
	}
	if err := f.record(call{Method: "PostRoot", Anomaly: a.ID, Channel: "C0DEV", TS: ts, Last: lastID(last)}); err != nil {
		return "", "", err
	}
	return "C0DEV", ts, nil
}

func (f *fakeThreads) DeleteRoot(_ context.Context, channel, ts string) error {
	return f.record(call{Method: "DeleteRoot", Channel: channel, TS: ts})
}

func (f *fakeThreads) UpdateRoot(_ context.Context, a triage.Anomaly, last triage.Memory) error {
	return f.record(call{Method: "UpdateRoot", Anomaly: a.ID, Channel: a.Channel, TS: a.ThreadTS, Detail: string(a.State), Last: lastID(last)})
}

func (f *fakeThreads) ReplyDecision(_ context.Context, a triage.Anomaly, rec triage.DecisionRecord) error {
	return f.record(call{Method: "ReplyDecision", Anomaly: a.ID, Channel: a.Channel, TS: a.ThreadTS, Detail: rec.Decision.String()})
}

func (f *fakeThreads) ReplySeenAgain(_ context.Context, a triage.Anomaly, r triage.Recurrence) error {
	return f.record(call{Method: "ReplySeenAgain", Anomaly: a.ID, Channel: a.Channel, TS: a.ThreadTS, Detail: r.String()})
}

func (f *fakeThreads) ReplyEscalated(_ context.Context, a triage.Anomaly, reason string) error {
	return f.record(call{Method: "ReplyEscalated", Anomaly: a.ID, Channel: a.Channel, TS: a.ThreadTS, Detail: reason})
}

// methods lists the methods called, in order, and forgets them.
func (f *fakeThreads) methods() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Method)
	}
	f.calls = nil
	return out
}

func (f *fakeThreads) callsOf(method string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type rig struct {
	ctx     context.Context
	store   *sqlite.DB
	threads *fakeThreads
	clock   *clock
	svc     *triage.Service
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "opsbot.db"), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &rig{ctx: ctx, store: db, threads: &fakeThreads{},
		clock: &clock{t: time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)}}
	r.svc = r.newService(t, r.threads)
	return r
}

// newService is another Service on the rig's store: another replica.
func (r *rig) newService(t *testing.T, th triage.Threads) *triage.Service {
	t.Helper()
	svc, err := triage.NewService(triage.ServiceOptions{Store: r.store, Threads: th, Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func (r *rig) open(t *testing.T, title, key string) triage.Opened {
	t.Helper()
	o, err := r.svc.Open(r.ctx, triage.ManualAnomaly("prod", title, "U0ALICE", r.clock.Now()), key, nil)
	if err != nil {
		t.Fatalf("Open(%q): %v", title, err)
	}
	return o
}

func (r *rig) decide(t *testing.T, id int64, d triage.Decision, key string) triage.Anomaly {
	t.Helper()
	a, _, err := r.svc.Decide(r.ctx, id, record(d, r.clock.Now()), key)
	if err != nil {
		t.Fatalf("Decide(%d, %s): %v", id, d, err)
	}
	return a
}

func record(d triage.Decision, at time.Time) triage.DecisionRecord {
	rec := triage.DecisionRecord{Decision: d, Conclusion: "a load test", DecidedBy: "U0ALICE", DecidedAt: at}
	switch d {
	case triage.Noise:
		rec.Ticket, rec.Dashboard = "https://t.example.com/1", "https://grafana.example.com/d/x"
	case triage.NotEnoughInformation:
		rec.ToCollect = "heap dumps"
	case triage.Serious:
		rec.UsersAffected = "all of them"
	}
	return rec
}

func TestNewServiceNeedsItsDependencies(t *testing.T) {
	_, err := triage.NewService(triage.ServiceOptions{Recurrence: triage.RecurrencePolicy{Threshold: -1}})
	for _, want := range []string{"Store is required", "Threads is required", "recurrence.threshold"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewService error %v does not say %q", err, want)
		}
	}
}

func TestOpenPostsOneThread(t *testing.T) {
	r := newRig(t)
	o := r.open(t, "Checkout  latency\ndoubled", "cmd:1")
	if !o.Created || !o.Posted || !o.Anomaly.HasThread() || o.Anomaly.ID != 1 {
		t.Fatalf("first Open = %+v", o)
	}
	if got := r.threads.callsOf("PostRoot"); len(got) != 1 || got[0].TS != o.Anomaly.ThreadTS {
		t.Fatalf("PostRoot calls = %+v, anomaly thread %s", got, o.Anomaly.ThreadTS)
	}
	stored, err := r.store.Get(r.ctx, o.Anomaly.ID)
	if err != nil || stored.ThreadTS != o.Anomaly.ThreadTS || stored.Channel != "C0DEV" {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	r.threads.methods()

	// The same request delivered again: the same anomaly, nothing posted.
	again := r.open(t, "Checkout  latency\ndoubled", "cmd:1")
	if again.Anomaly.ID != 1 || !again.Created || again.Posted {
		t.Errorf("repeated Open = %+v", again)
	}
	// Someone else reports it (case and spacing aside): the open anomaly.
	other := r.open(t, "checkout latency DOUBLED", "cmd:2")
	if other.Anomaly.ID != 1 || other.Created || other.Posted || other.Anomaly.ThreadTS != o.Anomaly.ThreadTS {
		t.Errorf("second report = %+v", other)
	}
	if m := r.threads.methods(); len(m) != 0 {
		t.Errorf("port calls for an anomaly with a thread: %v", m)
	}
}

func TestOpenInvalidIsAValidationError(t *testing.T) {
	r := newRig(t)
	_, err := r.svc.Open(r.ctx, triage.ManualAnomaly("prod", "  ", "U0ALICE", r.clock.Now()), "cmd:1", nil)
	var ve *opsbot.ValidationError
	if !errors.As(err, &ve) || ve.Problem("title") == "" {
		t.Fatalf("err = %v, want a ValidationError about the title", err)
	}
	if m := r.threads.methods(); len(m) != 0 {
		t.Errorf("port calls: %v", m)
	}
}

// A failed post leaves the anomaly without a thread; the retry posts it.
func TestOpenRetriesAFailedPost(t *testing.T) {
	r := newRig(t)
	r.threads.fail = map[string]error{"PostRoot": errors.New("not_in_channel")}
	if _, err := r.svc.Open(r.ctx, triage.ManualAnomaly("prod", "disk full", "U0ALICE", r.clock.Now()), "cmd:1", nil); err == nil ||
		!strings.Contains(err.Error(), "posting anomaly 1's thread") {
		t.Fatalf("err = %v", err)
	}
	r.threads.fail = nil
	o := r.open(t, "disk full", "cmd:1")
	if !o.Posted || !o.Anomaly.HasThread() {
		t.Fatalf("retry = %+v", o)
	}
}

// What the caller says about an opening (then) comes before a decision
// made meanwhile; then's error is Open's.
func TestOpenThenComesBeforeTheNextStep(t *testing.T) {
	r := newRig(t)
	decided := make(chan error, 1)
	var told []string
	o, err := r.svc.Open(r.ctx, triage.ManualAnomaly("prod", "disk full", "U0ALICE", r.clock.Now()), "cmd:1",
		func(ctx context.Context, o triage.Opened) error {
			go func() {
				_, _, err := r.svc.Decide(r.ctx, o.Anomaly.ID, record(triage.Noise, r.clock.Now()), "V1")
				decided <- err
			}()
			// The decision waits for the lock this call holds.
			waitFor(t, func() bool { return triage.LockHolders(r.svc, o.Anomaly.ID) == 2 })
			told = append(told, fmt.Sprintf("opened #%d posted=%v", o.Anomaly.ID, o.Posted))
			if m := r.threads.callsOf("ReplyDecision"); len(m) != 0 {
				t.Errorf("a decision was replied before the opening was told: %+v", m)
			}
			return nil
		})
	if err != nil || !o.Posted {
		t.Fatalf("Open = %+v, %v", o, err)
	}
	if err := <-decided; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(told, []string{"opened #1 posted=true"}) || len(r.threads.callsOf("ReplyDecision")) != 1 {
		t.Errorf("told %q; decision replies %+v", told, r.threads.callsOf("ReplyDecision"))
	}

	refused := errors.New("response_url expired")
	_, err = r.svc.Open(r.ctx, triage.ManualAnomaly("prod", "disk full", "U0ALICE", r.clock.Now()), "cmd:2",
		func(context.Context, triage.Opened) error { return refused })
	if !errors.Is(err, refused) {
		t.Errorf("Open returned %v, want then's error", err)
	}
}

// Two Opens of one anomaly in one process: one root message.
func TestConcurrentOpensPostOnce(t *testing.T) {
	r := newRig(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	r.threads.posting = func(context.Context, triage.Anomaly) {
		once.Do(func() { close(entered); <-release })
	}
	results := make(chan triage.Opened, 2)
	errs := make(chan error, 2)
	run := func(key string) {
		o, err := r.svc.Open(r.ctx, triage.ManualAnomaly("prod", "disk full", "U0ALICE", r.clock.Now()), key, nil)
		results <- o
		errs <- err
	}
	go run("cmd:1")
	<-entered
	go run("cmd:2")
	// The second waits for the first, which holds the anomaly's lock.
	waitFor(t, func() bool { return triage.LockHolders(r.svc, 1) == 2 })
	close(release)
	var posted int
	var threads []string
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		o := <-results
		if o.Posted {
			posted++
		}
		threads = append(threads, o.Anomaly.ThreadTS)
	}
	if got := r.threads.callsOf("PostRoot"); len(got) != 1 || posted != 1 || threads[0] != threads[1] {
		t.Fatalf("PostRoot calls %+v, posted %d, threads %v", got, posted, threads)
	}
}

// waitFor waits until cond holds, for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("condition not met within 10 s")
		}
	}
}

// Two replicas open one anomaly at once: both post a root message, the
// second to link it sees the first's thread and deletes its own.
func TestOpenRaceLoserDeletesItsRoot(t *testing.T) {
	for _, deleteErr := range []error{nil, fmt.Errorf("%w: message_not_found", opsbot.ErrNotFound), errors.New("ratelimited")} {
		t.Run(fmt.Sprint(deleteErr), func(t *testing.T) {
			r := newRig(t)
			other := &fakeThreads{n: 100}
			replica := r.newService(t, other)
			var winner triage.Opened
			// While this replica posts its root, the other one opens
			// the same anomaly, posts and links its own.
			r.threads.posting = func(ctx context.Context, a triage.Anomaly) {
				var err error
				winner, err = replica.Open(ctx, triage.ManualAnomaly("prod", "disk full", "U0BOB", r.clock.Now()), "cmd:bob", nil)
				if err != nil {
					t.Error(err)
				}
			}
			r.threads.fail = map[string]error{"DeleteRoot": deleteErr}
			loser, err := r.svc.Open(r.ctx, triage.ManualAnomaly("prod", "disk full", "U0ALICE", r.clock.Now()), "cmd:alice", nil)
			if err != nil {
				t.Fatalf("the losing Open failed: %v", err)
			}
			if !winner.Posted || winner.Created {
				t.Errorf("winner = %+v", winner)
			}
			if loser.Posted || !loser.Created || loser.Anomaly.ThreadTS != winner.Anomaly.ThreadTS {
				t.Errorf("loser = %+v, winner's thread %s", loser, winner.Anomaly.ThreadTS)
			}
			posted := r.threads.callsOf("PostRoot")
			deleted := r.threads.callsOf("DeleteRoot")
			if len(posted) != 1 || len(deleted) != 1 || deleted[0].TS != posted[0].TS || deleted[0].Channel != posted[0].Channel {
				t.Fatalf("the loser posted %+v and deleted %+v", posted, deleted)
			}
			if d := other.callsOf("DeleteRoot"); len(d) != 0 {
				t.Errorf("the winner deleted %+v", d)
			}
			a, err := r.store.Get(r.ctx, loser.Anomaly.ID)
			if err != nil || a.ThreadTS != winner.Anomaly.ThreadTS {
				t.Errorf("stored = %+v, %v", a, err)
			}
		})
	}
}

func TestFindingAnomaly(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	f := checks.Finding{Fingerprint: "pods/shop/api/CrashLoopBackOff", Title: "api\n  is  crash\tlooping",
		Detail: strings.Repeat("é", triage.MaxTextLen+10), Link: "https://grafana.example.com/d/x"}
	a := triage.FindingAnomaly("prod", f, "U0ALICE", at)
	if a.Title != "api is crash looping" || a.Fingerprint != f.Fingerprint || a.Environment != "prod" ||
		a.Source != triage.SourceChecklist || a.OpenedBy != "U0ALICE" || !a.OpenedAt.Equal(at) || a.Link != f.Link {
		t.Errorf("anomaly = %+v", a)
	}
	if n := len([]rune(a.Detail)); n != triage.MaxTextLen || !strings.HasSuffix(a.Detail, "…") {
		t.Errorf("detail has %d runes, ends %q", n, a.Detail[len(a.Detail)-6:])
	}
	if err := a.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	long := triage.FindingAnomaly("prod", checks.Finding{Fingerprint: "x", Title: strings.Repeat("word ", 200)}, "U0ALICE", at)
	if n := len([]rune(long.Title)); n != triage.MaxTitleLen || strings.Contains(long.Title, "  ") {
		t.Errorf("long title: %d runes", n)
	}
	for _, link := range []string{"ftp://x/y", "/relative", "https://x.example.com/a b", "https://x.example.com/" + strings.Repeat("a", opsbot.MaxURLLen), "javascript:alert(1)"} {
		if got := triage.FindingAnomaly("prod", checks.Finding{Fingerprint: "x", Title: "t", Link: link}, "U0ALICE", at).Link; got != "" {
			t.Errorf("link %.40q kept", got)
		}
	}
}

func TestManualAnomaly(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	a := triage.ManualAnomaly("prod", "Checkout  latency\nDOUBLED", "U0ALICE", at)
	if a.Fingerprint != "manual/checkout latency doubled" || a.Title != "Checkout  latency\nDOUBLED" ||
		a.Source != triage.SourceManual || a.Environment != "prod" {
		t.Errorf("anomaly = %+v", a)
	}
}

func TestDecide(t *testing.T) {
	r := newRig(t)
	o := r.open(t, "disk full", "cmd:1")
	r.threads.methods()
	a, first, err := r.svc.Decide(r.ctx, o.Anomaly.ID, record(triage.Noise, r.clock.Now()), "V1")
	if err != nil || !first || a.CurrentDecision() != triage.Noise || a.State != triage.Closed {
		t.Fatalf("Decide = %+v, first %v, %v; want it decided Noise, first", a, first, err)
	}
	if m := r.threads.methods(); !slices.Equal(m, []string{"ReplyDecision", "UpdateRoot"}) {
		t.Errorf("port calls = %v", m)
	}
	// The same submission again (Slack redelivers it, maybe to another
	// replica, maybe after a restart) changes nothing more, and posts
	// nothing again but the root.
	a2, first, err := r.svc.Decide(r.ctx, o.Anomaly.ID, record(triage.Noise, r.clock.Now()), "V1")
	if err != nil || first {
		t.Errorf("a repeated Decide said first %v, %v; want false, nil (it is counted once)", first, err)
	}
	if a2.Version != a.Version {
		t.Errorf("version %d after a repeated decision, want %d", a2.Version, a.Version)
	}
	if m := r.threads.methods(); !slices.Equal(m, []string{"UpdateRoot"}) {
		t.Errorf("port calls for a redelivered decision = %v, want only the root updated", m)
	}

	// A failed reply still updates the root, and says so.
	r.threads.fail = map[string]error{"ReplyDecision": errors.New("invalid_blocks")}
	a3, _, err := r.svc.Decide(r.ctx, o.Anomaly.ID, record(triage.Intermittent, r.clock.Now()), "V2")
	if err == nil || !strings.Contains(err.Error(), "replying in anomaly 1's thread: invalid_blocks") ||
		a3.CurrentDecision() != triage.Intermittent {
		t.Errorf("Decide with a failing reply = %+v, %v", a3, err)
	}
	if m := r.threads.methods(); !slices.Equal(m, []string{"ReplyDecision", "UpdateRoot"}) {
		t.Errorf("port calls = %v", m)
	}
}

func TestDecideNotFoundAndConflict(t *testing.T) {
	r := newRig(t)
	if _, _, err := r.svc.Decide(r.ctx, 42, record(triage.Noise, r.clock.Now()), "V1"); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("deciding an unknown anomaly: %v, want ErrNotFound", err)
	}
	first := r.open(t, "disk full", "cmd:1")
	r.decide(t, first.Anomaly.ID, triage.Noise, "V2") // closes it
	second := r.open(t, "disk full", "cmd:2")         // the same fingerprint, open again
	if second.Anomaly.ID == first.Anomaly.ID || !second.Created {
		t.Fatalf("second = %+v", second)
	}
	r.threads.methods()
	// Reopening the first while the second is open is a conflict.
	_, _, err := r.svc.Decide(r.ctx, first.Anomaly.ID, record(triage.Undetermined, r.clock.Now()), "V3")
	if !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("reopening decision: %v, want ErrConflict", err)
	}
	if m := r.threads.methods(); len(m) != 0 {
		t.Errorf("port calls after a refused decision: %v", m)
	}
}

func TestObserveFindingsAndAnnounce(t *testing.T) {
	r := newRig(t)
	flaky := r.open(t, "flaky", "cmd:1").Anomaly
	noise := r.open(t, "noise", "cmd:2").Anomaly
	r.clock.Advance(time.Hour)
	r.decide(t, flaky.ID, triage.Intermittent, "V1")
	r.decide(t, noise.ID, triage.Noise, "V2")
	r.threads.methods()

	findings := []checks.Finding{
		{Fingerprint: flaky.Fingerprint}, {Fingerprint: flaky.Fingerprint}, // the same, twice
		{Fingerprint: ""},                // no fingerprint
		{Fingerprint: noise.Fingerprint}, // decided Noise: recorded, not announced
		{Fingerprint: "pods/unknown"},    // no anomaly
	}
	sightings := func(id int64) int {
		tl, err := r.store.Timeline(r.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range tl {
			if e.Kind == triage.KindSeenAgain {
				n++
			}
		}
		return n
	}
	for run := 1; run <= 3; run++ {
		r.clock.Advance(time.Hour)
		key := fmt.Sprintf("run%d", run)
		obs, err := r.svc.ObserveFindings(r.ctx, "prod", key, findings)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if len(obs.Announce) != 1 || obs.Announce[0].Anomaly.ID != flaky.ID || obs.Announce[0].Escalated != (run == 3) {
			t.Fatalf("run %d: observations %+v", run, obs)
		}
		if got := sightings(flaky.ID); got != run {
			t.Fatalf("run %d: %d sightings of the flaky anomaly", run, got)
		}
		if got := sightings(noise.ID); got != run {
			t.Fatalf("run %d: %d sightings of the noise anomaly", run, got)
		}
		// The same run observed again (a retry) records nothing more.
		if _, err := r.svc.ObserveFindings(r.ctx, "prod", key, findings); err != nil || sightings(flaky.ID) != run {
			t.Fatalf("run %d replayed: %v, %d sightings", run, err, sightings(flaky.ID))
		}
		// Escalation is recorded before anything is posted.
		if m := r.threads.methods(); len(m) != 0 {
			t.Fatalf("run %d: port calls while observing: %v", run, m)
		}
		if err := r.svc.Announce(r.ctx, obs.Announce[0]); err != nil {
			t.Fatal(err)
		}
		want := []string{"ReplySeenAgain"}
		if run == 3 {
			want = append(want, "ReplyEscalated", "UpdateRoot")
			if obs.Announce[0].Anomaly.State != triage.Open {
				t.Errorf("escalated anomaly state = %s", obs.Announce[0].Anomaly.State)
			}
		}
		if m := r.threads.methods(); !slices.Equal(m, want) {
			t.Errorf("run %d: announcing called %v, want %v", run, m, want)
		}
	}
	a, err := r.store.Get(r.ctx, flaky.ID)
	if err != nil || a.EscalatedAt.IsZero() || a.State != triage.Open {
		t.Errorf("flaky after three sightings = %+v, %v", a, err)
	}
}

// TestObserveFindingsKnownNoise: a finding decided Noise is suppressed
// while the decision stands, its sightings still recorded with their size;
// it comes back when it grows 10x the size recorded with the decision, and
// when the decision is changed. Intermittent is suppressed within its
// window and still announced in its thread.
func TestObserveFindingsKnownNoise(t *testing.T) {
	r := newRig(t)
	f := checks.Finding{Fingerprint: "logs/shop/api/timeout", Severity: checks.Warn, Title: "timeout", Count: 12}
	o, err := r.svc.Open(r.ctx, triage.FindingAnomaly("prod", f, "U0ALICE", r.clock.Now()), "cmd:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	flaky := checks.Finding{Fingerprint: "pods/shop/Deployment/api/api/restarts", Title: "restarts", Count: 2}
	fo, err := r.svc.Open(r.ctx, triage.FindingAnomaly("prod", flaky, "U0ALICE", r.clock.Now()), "cmd:2", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Hour)
	if a := r.decide(t, o.Anomaly.ID, triage.Noise, "V1"); a.Decision.Magnitude != 12 {
		t.Fatalf("the decision recorded magnitude %v, want 12 (the finding's count)", a.Decision.Magnitude)
	}
	r.decide(t, fo.Anomaly.ID, triage.Intermittent, "V2")
	r.threads.methods()

	observe := func(run string, count int) triage.Sightings {
		t.Helper()
		r.clock.Advance(time.Hour)
		g, fl := f, flaky
		g.Count = count
		out, err := r.svc.ObserveFindings(r.ctx, "prod", run, []checks.Finding{g, fl, {Fingerprint: "pods/new"}})
		if err != nil {
			t.Fatalf("%s: %v", run, err)
		}
		return out
	}
	for i, count := range []int{30, 119} {
		s := observe(fmt.Sprint("run", i), count)
		k, ok := s.Known[f.Fingerprint]
		if !ok || !k.Cover.Suppressed || k.Cover.Grew || k.Anomaly.ID != o.Anomaly.ID || k.Magnitude != float64(count) {
			t.Fatalf("count %d: known %+v, %v; want it suppressed", count, k, ok)
		}
		if kf := s.Known[flaky.Fingerprint]; !kf.Cover.Suppressed {
			t.Errorf("count %d: the intermittent finding is not suppressed: %+v", count, kf)
		}
		if _, ok := s.Known["pods/new"]; ok || len(s.Known) != 2 {
			t.Errorf("count %d: known %v; want only the two decided findings", count, s.Known)
		}
		if len(s.Announce) != 1 || s.Announce[0].Anomaly.ID != fo.Anomaly.ID {
			t.Errorf("count %d: announce %+v; want the intermittent one", count, s.Announce)
		}
	}
	a, err := r.store.Get(r.ctx, o.Anomaly.ID)
	if err != nil || a.SeenCount != 3 || a.Magnitude != 119 || a.Decision.Magnitude != 12 {
		t.Fatalf("after two suppressed sightings: seen %d, magnitude %v, decided %v, %v", a.SeenCount, a.Magnitude, a.Decision.Magnitude, err)
	}

	// 10x what it was when decided: new again.
	if k := observe("run2", 120).Known[f.Fingerprint]; !k.Cover.Grew || k.Cover.Suppressed {
		t.Errorf("grown 10x: %+v; want it reported as grown", k.Cover)
	}
	// Back to its size: suppressed again, the decision unchanged.
	if k := observe("run3", 20).Known[f.Fingerprint]; !k.Cover.Suppressed {
		t.Errorf("shrunk back: %+v; want it suppressed", k.Cover)
	}
	// The decision changed to Serious: reported as any finding.
	r.decide(t, o.Anomaly.ID, triage.Serious, "V3")
	if k, ok := observe("run4", 20).Known[f.Fingerprint]; ok {
		t.Errorf("decided Serious: known %+v; want it reported", k)
	}
}

// An anomaly without a thread is observed but not announced; an error
// with one fingerprint does not stop the others.
func TestObserveFindingsWithoutThreadAndErrors(t *testing.T) {
	r := newRig(t)
	r.threads.fail = map[string]error{"PostRoot": errors.New("not_in_channel")}
	_, err := r.svc.Open(r.ctx, triage.ManualAnomaly("prod", "no thread", "U0ALICE", r.clock.Now()), "cmd:1", nil)
	if err == nil {
		t.Fatal("Open did not fail")
	}
	r.threads.fail = nil
	withThread := r.open(t, "with thread", "cmd:2").Anomaly
	r.decide(t, withThread.ID, triage.Intermittent, "V1")
	r.clock.Advance(time.Hour)
	obs, err := r.svc.ObserveFindings(r.ctx, "prod", "run1", []checks.Finding{
		{Fingerprint: "manual/no thread"},
		{Fingerprint: strings.Repeat("x", triage.MaxFingerprintLen+1)}, // invalid
		{Fingerprint: withThread.Fingerprint},
	})
	if err == nil || !strings.Contains(err.Error(), "recurrence of") {
		t.Errorf("err = %v, want the invalid fingerprint's", err)
	}
	if len(obs.Announce) != 1 || obs.Announce[0].Anomaly.ID != withThread.ID {
		t.Errorf("observations = %+v", obs)
	}
}

// TestOpenAndDecideRedact: what people type reaches neither the store nor
// the thread with its secrets: a manual anomaly's title (and so its
// fingerprint), a finding's detail and link, a decision's texts. Two
// reports differing only by a token are the same anomaly. Emails are kept
// only when the Redactor says so.
func TestOpenAndDecideRedact(t *testing.T) {
	r := newRig(t)
	o := r.open(t, "login fails with xoxb-1234567890-abcdef for bob@example.com", "k1")
	want := "login fails with [redacted:slack-token] for [redacted:email]"
	got, err := r.store.Get(r.ctx, o.Anomaly.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != want || strings.Contains(got.Fingerprint, "xoxb") || strings.Contains(got.Fingerprint, "bob@") {
		t.Errorf("stored title %q, fingerprint %q; want the title %q and no secret", got.Title, got.Fingerprint, want)
	}
	if again := r.open(t, "login fails with xoxb-9999999999-zzzzzz for carol@example.com", "k2"); again.Anomaly.ID != o.Anomaly.ID {
		t.Errorf("the same report with another token opened anomaly #%d, not #%d", again.Anomaly.ID, o.Anomaly.ID)
	}

	f := checks.Finding{Fingerprint: "logs/shop/api/password=hunter2", Title: "errors", Detail: "Authorization: Bearer abcdefgh12345",
		Link: "https://admin:hunter2@kibana.example.com/app"}
	fo, err := r.svc.Open(r.ctx, triage.FindingAnomaly("prod", f, "U0ALICE", r.clock.Now()), "k3", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := fo.Anomaly; a.Detail != "Authorization: Bearer [redacted:bearer]" || a.Link != "" ||
		a.Fingerprint != "logs/shop/api/password=[redacted:secret]" {
		t.Errorf("finding anomaly: detail %q, link %q, fingerprint %q", a.Detail, a.Link, a.Fingerprint)
	}

	rec := record(triage.Serious, r.clock.Now())
	rec.Conclusion = "the api_key: AKIAIOSFODNN7EXAMPLE leaked"
	rec.UsersAffected = "everyone mailing help@example.com"
	if _, _, err := r.svc.Decide(r.ctx, o.Anomaly.ID, rec, "d1"); err != nil {
		t.Fatal(err)
	}
	got, err = r.store.Get(r.ctx, o.Anomaly.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Decision; d == nil || d.Conclusion != "the api_key: [redacted:secret] leaked" || d.UsersAffected != "everyone mailing [redacted:email]" {
		t.Errorf("stored decision %+v", got.Decision)
	}

	keep, err := triage.NewService(triage.ServiceOptions{Store: r.store, Threads: r.threads, Now: r.clock.Now,
		Redactor: redact.New(redact.Options{KeepEmails: true})})
	if err != nil {
		t.Fatal(err)
	}
	ko, err := keep.Open(r.ctx, triage.ManualAnomaly("prod", "mail to ops@example.com bounces", "U0ALICE", r.clock.Now()), "k4", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ko.Anomaly.Title != "mail to ops@example.com bounces" {
		t.Errorf("KeepEmails: title %q", ko.Anomaly.Title)
	}
}
