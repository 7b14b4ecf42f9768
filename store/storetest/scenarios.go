package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/triage"
)

func testEscalate(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "")
	a = mustDecide(t, s, a.ID, record(triage.Intermittent, "U1", at(1)), "")
	if a.State != triage.Closed {
		t.Fatalf("state after Intermittent = %s", a.State)
	}
	esc := triage.Escalation{At: at(2), Actor: opsbot.ActorBot, Reason: "seen 3 times in 7d"}
	b, err := s.Escalate(ctx, a.ID, esc, "esc:1")
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.State, want.EscalatedAt, want.EscalationPending, want.Version = triage.Open, at(2), true, a.Version+1
	equal(t, "escalated", b, want)
	if l := mustListOpen(t, s, "prod"); len(l) != 1 || l[0].ID != a.ID {
		t.Errorf("escalated anomaly not listed as open: %+v", l)
	}
	c, err := s.Escalate(ctx, a.ID, esc, "esc:1")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "replayed Escalate", c, b)
	_, tl := checkConsistent(t, s, a.ID)
	if e := tl[len(tl)-1]; e.Kind != triage.KindEscalated || e.Data.Reason != esc.Reason || e.Actor != opsbot.ActorBot {
		t.Errorf("escalated entry = %+v", e)
	}
	// A new decision closes it again and clears EscalatedAt.
	d := mustDecide(t, s, a.ID, record(triage.Serious, "U2", at(3)), "")
	if d.State != triage.Closed || !d.EscalatedAt.IsZero() {
		t.Errorf("after deciding an escalated anomaly: %+v", d)
	}
	_, err = s.Escalate(ctx, a.ID, triage.Escalation{At: at(4)}, "")
	wantInvalid(t, "Escalate without a reason", err, "reason")
	checkConsistent(t, s, a.ID)
}

func testReopenConflict(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	old := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "")
	mustDecide(t, s, old.ID, record(triage.Intermittent, "U1", at(1)), "")
	cur := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "")
	before := takeSnapshot(t, s, old.ID, cur.ID)

	// Reopening the old one would make two open anomalies for the fingerprint.
	_, err := s.Decide(ctx, old.ID, record(triage.Undetermined, "U1", at(2)), "d-conflict")
	wantErr(t, "reopening Decide", err, opsbot.ErrConflict)
	_, err = s.Escalate(ctx, old.ID, triage.Escalation{At: at(2), Actor: "U1", Reason: "r"}, "e-conflict")
	wantErr(t, "reopening Escalate", err, opsbot.ErrConflict)
	equal(t, "after refused reopenings", takeSnapshot(t, s, old.ID, cur.ID), before)
	// Changing it to another closing decision is fine.
	mustDecide(t, s, old.ID, record(triage.Noise, "U1", at(3)), "")
	// Once the new one is closed, the old one can be reopened.
	mustDecide(t, s, cur.ID, record(triage.Serious, "U1", at(4)), "")
	mustDecide(t, s, old.ID, record(triage.Undetermined, "U1", at(5)), "d-conflict")
	checkConsistent(t, s, old.ID)
	checkConsistent(t, s, cur.ID)
}

// testObserve runs the domain's recurrence flow on the store.
func testObserve(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "")
	mustDecide(t, s, a.ID, record(triage.Intermittent, "U1", at(1)), "")
	var p triage.RecurrencePolicy // 3 in 7 days
	for i := 1; i <= 4; i++ {
		key := fmt.Sprintf("run%d/pods/x", i)
		obs, err := triage.Observe(ctx, s, p, "prod", "pods/x", 0, at(24*60*i), key)
		if err != nil || !obs.Found {
			t.Fatalf("Observe %d: %+v, %v", i, obs, err)
		}
		if obs.Escalated != (i == 3) || obs.Recurrence.SinceDecision != i {
			t.Errorf("Observe %d: escalated %v, %s", i, obs.Escalated, obs.Recurrence)
		}
		// Replayed: nothing more.
		again, err := triage.Observe(ctx, s, p, "prod", "pods/x", 0, at(24*60*i), key)
		if err != nil || again.Escalated || again.Anomaly.SeenCount != obs.Anomaly.SeenCount {
			t.Errorf("replayed Observe %d: %+v, %v", i, again, err)
		}
	}
	b, tl := checkConsistent(t, s, a.ID)
	if b.State != triage.Open || b.SeenCount != 5 || len(tl) != 2+4+1 {
		t.Errorf("after 4 sightings: %+v, %d entries", b, len(tl))
	}
}

// testText checks that text of every kind round-trips, and what becomes of
// text a database cannot store.
func testText(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	in := newAnomaly("prod", "logs/shop/api/панic: <nil> ✓ 'quoted' \"double\" ; DROP TABLE anomalies; --")
	in.Title = strings.Repeat("é", triage.MaxTitleLen)
	in.Detail = "line 1\nline 2\t<b>&amp;</b> 🔥 \xff\x00 end"
	a := mustOpenAnomaly(t, s, in, "ключ-🔑")
	if a.Fingerprint != in.Fingerprint || a.Title != in.Title {
		t.Errorf("text changed: %q %q", a.Fingerprint, a.Title)
	}
	if want := "line 1\nline 2\t<b>&amp;</b> 🔥 \uFFFD\uFFFD end"; a.Detail != want {
		t.Errorf("Detail = %q, want %q", a.Detail, want)
	}
	r := record(triage.NotEnoughInformation, "U1", at(1))
	r.Conclusion = strings.Repeat("ü", triage.MaxTextLen)
	mustDecide(t, s, a.ID, r, "")
	got := mustGet(t, s, a.ID)
	equal(t, "Get of unusual text", got.Detail, a.Detail)
	equal(t, "long conclusion", got.Decision.Conclusion, r.Conclusion)
	if f, err := s.FindOpen(ctx, "prod", in.Fingerprint); err != nil || f.ID != a.ID {
		t.Errorf("FindOpen by an unusual fingerprint: %v", err)
	}
	checkConsistent(t, s, a.ID)
}

// testConcurrentDecide: two people deciding at once, many times. Every
// decision is on the timeline, in an order where each decision_changed
// names the decision before it, and the anomaly equals the last entry.
func testConcurrentDecide(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "")
	const people, rounds = 2, 20
	errs := make(chan error, people*rounds)
	run(people, func(p int) {
		for i := range rounds {
			d := triage.Decisions[(p+i)%len(triage.Decisions)]
			_, err := s.Decide(ctx, a.ID, record(d, fmt.Sprintf("U%d", p), at(i)), fmt.Sprintf("view:%d:%d", p, i))
			if err != nil {
				errs <- err
			}
		}
	})
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Decide: %v", err)
	}
	_, tl := checkConsistent(t, s, a.ID)
	if len(tl) != 1+people*rounds {
		t.Errorf("%d timeline entries, want %d", len(tl), 1+people*rounds)
	}
}

func testConcurrentDecideSameKey(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "")
	const n = 6
	results := make([]triage.Anomaly, n)
	errs := make([]error, n)
	run(n, func(i int) {
		results[i], errs[i] = s.Decide(ctx, a.ID, record(triage.Noise, "U1", at(1)), "view:same")
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Decide %d: %v", i, errs[i])
		}
		equal(t, fmt.Sprintf("result %d", i), results[i], results[0])
	}
	if _, tl := checkConsistent(t, s, a.ID); len(tl) != 2 {
		t.Errorf("%d timeline entries, want 2", len(tl))
	}
}

// testConcurrentOpen: "Investigate" clicked by several people at once opens
// one anomaly.
func testConcurrentOpen(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	const n = 8
	var created atomic.Int32
	ids := make([]int64, n)
	errs := make([]error, n)
	run(n, func(i int) {
		in := newAnomaly("prod", "pods/x")
		in.OpenedBy = fmt.Sprintf("U%d", i)
		a, c, err := s.OpenAnomaly(ctx, in, fmt.Sprintf("envelope-%d", i))
		ids[i], errs[i] = a.ID, err
		if c {
			created.Add(1)
		}
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("OpenAnomaly %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("OpenAnomaly %d returned #%d, another #%d", i, ids[i], ids[0])
		}
	}
	if created.Load() != 1 {
		t.Errorf("%d anomalies created, want 1", created.Load())
	}
	if l := mustListOpen(t, s, ""); len(l) != 1 {
		t.Errorf("%d open anomalies, want 1", len(l))
	}
	if _, tl := checkConsistent(t, s, ids[0]); len(tl) != 1 {
		t.Errorf("%d timeline entries, want 1", len(tl))
	}
}

func testConcurrentOpenSameKey(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	const n = 6
	results := make([]triage.Anomaly, n)
	errs := make([]error, n)
	created := make([]bool, n)
	run(n, func(i int) {
		results[i], created[i], errs[i] = s.OpenAnomaly(ctx, newAnomaly("prod", "pods/x"), "envelope-same")
	})
	for i := range n {
		if errs[i] != nil || !created[i] {
			t.Fatalf("OpenAnomaly %d: created %v, %v", i, created[i], errs[i])
		}
		equal(t, fmt.Sprintf("result %d", i), results[i], results[0])
	}
	checkConsistent(t, s, results[0].ID)
}

// testConcurrentSightings: checklist runs in several environments at once,
// while someone decides.
func testConcurrentSightings(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "")
	b := mustOpenAnomaly(t, s, newAnomaly("preprod", "pods/x"), "")
	const n, runs = 4, 10
	var failed atomic.Int32
	run(n, func(w int) {
		for r := range runs {
			var err error
			switch w {
			case 0:
				_, err = s.Decide(ctx, a.ID, record(triage.Decisions[r%5], "U1", at(r)), fmt.Sprintf("d%d", r))
			default:
				env := []string{"prod", "preprod", "prod"}[w-1]
				// Workers 1 and 3 both report prod runs, with the same keys:
				// each run is counted once.
				_, _, err = s.RecordSighting(ctx, env, "pods/x", 0, at(r), fmt.Sprintf("run%d/%s", r, env))
			}
			if err != nil {
				failed.Add(1)
				t.Errorf("worker %d run %d: %v", w, r, err)
			}
		}
	})
	if failed.Load() > 0 {
		return
	}
	ga, _ := checkConsistent(t, s, a.ID)
	gb, _ := checkConsistent(t, s, b.ID)
	if ga.SeenCount != 1+runs || gb.SeenCount != 1+runs {
		t.Errorf("seen %d and %d times, want %d", ga.SeenCount, gb.SeenCount, 1+runs)
	}
}

// testRestart: closing the store and opening the database again keeps
// everything, and ids and counts go on from where they were.
func testRestart(t *testing.T, o Opener) {
	ctx := context.Background()
	s, err := o(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "o1")
	b := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/y"), "o2")
	if _, err := s.LinkThread(ctx, a.ID, "C1", "1.1", "l1"); err != nil {
		t.Fatal(err)
	}
	mustDecide(t, s, a.ID, record(triage.Intermittent, "U1", at(1)), "d1")
	for i := range 2 {
		if _, _, err := s.RecordSighting(ctx, "prod", "pods/x", 0, at(10+i), fmt.Sprintf("run%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	before := takeSnapshot(t, s, a.ID, b.ID)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, o)
	equal(t, "after a restart", takeSnapshot(t, s, a.ID, b.ID), before)
	// Keys are remembered across the restart.
	if _, _, err := s.RecordSighting(ctx, "prod", "pods/x", 0, at(11), "run1"); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, a.ID); got.SeenCount != 3 {
		t.Errorf("SeenCount after a replay across a restart = %d, want 3", got.SeenCount)
	}
	// Counting goes on.
	obs, err := triage.Observe(ctx, s, triage.RecurrencePolicy{}, "prod", "pods/x", 0, at(12), "run2")
	if err != nil || !obs.Escalated || obs.Anomaly.SeenCount != 4 {
		t.Errorf("third sighting after a restart: %+v, %v", obs, err)
	}
	c := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/z"), "o3")
	if c.ID <= b.ID {
		t.Errorf("new anomaly #%d after a restart; the last was #%d", c.ID, b.ID)
	}
	checkConsistent(t, s, a.ID)
}

// faults cancels a write's context, or fails it, just before COMMIT.
type faults struct {
	mu     sync.Mutex
	op     string
	cancel context.CancelFunc // cancel the context; nil: return errCrash
	fired  bool
}

var errCrash = errors.New("simulated crash before commit")

func (f *faults) arm(op string, cancel context.CancelFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.op, f.cancel, f.fired = op, cancel, false
}

func (f *faults) hook(ctx context.Context, op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if op != f.op {
		return nil
	}
	f.op, f.fired = "", true
	if f.cancel != nil {
		f.cancel()
		return nil // the commit itself meets the cancelled context
	}
	return errCrash
}

// testCrashBeforeCommit interrupts every kind of write after all its
// statements ran and before COMMIT: nothing of it must remain, and the same
// call, retried with the same key, must then succeed once.
func testCrashBeforeCommit(t *testing.T, o Opener) {
	f := &faults{}
	s := open(t, o, store.WithBeforeCommit(f.hook))
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "")
	b := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/y"), "")
	mustDecide(t, s, b.ID, record(triage.Intermittent, "U1", at(1)), "")

	writes := []struct {
		op string
		do func(ctx context.Context, key string) error
	}{
		{store.OpOpenAnomaly, func(ctx context.Context, key string) error {
			_, _, err := s.OpenAnomaly(ctx, newAnomaly("prod", "pods/"+key), key)
			return err
		}},
		{store.OpLinkThread, func(ctx context.Context, key string) error {
			_, err := s.LinkThread(ctx, a.ID, "C1", key, key)
			return err
		}},
		{store.OpDecide, func(ctx context.Context, key string) error {
			_, err := s.Decide(ctx, a.ID, record(triage.Serious, "U1", at(2)), key)
			return err
		}},
		{store.OpRecordSighting, func(ctx context.Context, key string) error {
			_, _, err := s.RecordSighting(ctx, "prod", "pods/y", 0, at(3), key)
			return err
		}},
		{store.OpEscalate, func(ctx context.Context, key string) error {
			_, err := s.Escalate(ctx, b.ID, triage.Escalation{At: at(4), Actor: "U1", Reason: "r"}, key)
			return err
		}},
	}
	for _, mode := range []string{"cancel", "error"} {
		for _, w := range writes {
			key := w.op + "-" + mode
			before := takeSnapshot(t, s, a.ID, b.ID)
			ctx, cancel := context.WithCancel(context.Background())
			if mode == "cancel" {
				f.arm(w.op, cancel)
			} else {
				f.arm(w.op, nil)
			}
			err := w.do(ctx, key)
			cancel()
			if !f.fired {
				t.Fatalf("%s (%s): the fault did not fire (err %v)", w.op, mode, err)
			}
			if err == nil || (mode == "cancel" && !errors.Is(err, context.Canceled)) ||
				(mode == "error" && !errors.Is(err, errCrash)) {
				t.Errorf("%s (%s): error %v", w.op, mode, err)
			}
			equal(t, w.op+" ("+mode+") left", takeSnapshot(t, s, a.ID, b.ID), before)
			if err := w.do(context.Background(), key); err != nil {
				t.Fatalf("%s (%s) retried: %v", w.op, mode, err)
			}
			if err := w.do(context.Background(), key); err != nil {
				t.Fatalf("%s (%s) replayed: %v", w.op, mode, err)
			}
			checkConsistent(t, s, a.ID)
			checkConsistent(t, s, b.ID)
			// Let the next round change something again.
			mustDecide(t, s, a.ID, record(triage.Noise, "U1", at(5)), "")
			mustDecide(t, s, b.ID, record(triage.Intermittent, "U1", at(6)), "")
		}
	}
	// The interrupted openings left no gap in the ids.
	l := mustListOpen(t, s, "")
	for i, x := range l {
		if x.ID != int64(3+i) {
			t.Errorf("open anomaly %d has id %d, want %d", i, x.ID, 3+i)
		}
	}
}

// testCancelAnyTime cancels writes at random points; whatever happens, each
// anomaly stays equal to its timeline, a write that returned nil is there,
// and none is there twice.
func testCancelAnyTime(t *testing.T, o Opener) {
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "")
	rng := rand.New(rand.NewPCG(1, 2))
	done := map[string]bool{}
	for i := range 60 {
		ctx, cancel := context.WithCancel(context.Background())
		yields := rng.IntN(1 << rng.IntN(19)) // log-uniform: from before BEGIN to after COMMIT
		go func() {
			for range yields {
				runtime.Gosched()
			}
			cancel()
		}()
		key := fmt.Sprintf("k%d", i)
		var err error
		if i%3 == 2 {
			_, _, err = s.RecordSighting(ctx, "prod", "pods/x", 0, at(i), key)
		} else {
			_, err = s.Decide(ctx, a.ID, record(triage.Decisions[i%5], "U1", at(i)), key)
		}
		cancel()
		if err == nil {
			done[key] = true
		} else if !errors.Is(err, context.Canceled) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	_, tl := checkConsistent(t, s, a.ID)
	for _, e := range tl {
		delete(done, e.IdempotencyKey)
	}
	if len(done) > 0 {
		t.Errorf("writes that succeeded are missing from the timeline: %v", done)
	}
	t.Logf("%d of 60 interrupted writes committed", len(tl)-1)
}
