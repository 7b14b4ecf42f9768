package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/schedule/clocktest"
	"github.com/opsbot/opsbot/store"
)

// claimTests are the cases of LastClaim, which reads back the claims that
// record the scheduled checklist's runs.
var claimTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"LastClaim", testLastClaim},
	{"ClaimLease", testClaimLease},
	{"ClaimLeaseConcurrent", testClaimLeaseConcurrent},
	{"SchedulerTakesOverADeadReplicasOccurrence", testSchedulerTakeover},
}

// testClaimLease: an occurrence taken with a lease is held against others
// until the lease runs out, renewed by its holder, taken over after, and
// never again once finished; a plain claim is done from the start.
func testClaimLease(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	other := open(t, o) // another replica
	key := "checklist/2026-11-24T09:30Z"
	take := func(s Store, holder string, now time.Time, want schedule.Claim) {
		t.Helper()
		if got, err := s.Take(ctx, key, holder, now, now.Add(time.Minute)); err != nil || got != want {
			t.Fatalf("Take(%s at %s) = %v, %v; want %v", holder, now.Format("15:04:05"), got, err, want)
		}
	}
	take(s, "a", at(0), schedule.Taken)
	take(other, "b", at(0).Add(30*time.Second), schedule.Held)
	take(s, "a", at(0).Add(50*time.Second), schedule.Taken) // renewed to 1m50s
	take(other, "b", at(1).Add(10*time.Second), schedule.Held)
	// a died: its lease runs out; b takes over, and a is now the other.
	take(other, "b", at(2), schedule.Taken)
	take(s, "a", at(2).Add(time.Second), schedule.Held)
	// a finishing what it lost finishes nothing; b finishes it.
	if err := s.Finish(ctx, key, "a"); err != nil {
		t.Fatal(err)
	}
	take(s, "a", at(10), schedule.Taken) // b's lease ran out, not done
	if err := s.Finish(ctx, key, "a"); err != nil {
		t.Fatal(err)
	}
	take(other, "b", at(20), schedule.Done)
	take(s, "a", at(20), schedule.Done)
	// A restart knows.
	take(open(t, o), "c", at(30), schedule.Done)
	// A record made with Claim is done from the start.
	if ok, err := s.Claim(ctx, "checklist-done/prod/2026-11-24T09:30Z"); err != nil || !ok {
		t.Fatalf("Claim = %v, %v", ok, err)
	}
	if got, err := s.Take(ctx, "checklist-done/prod/2026-11-24T09:30Z", "a", at(0), at(1)); err != nil || got != schedule.Done {
		t.Errorf("Take of a plain claim = %v, %v; want Done", got, err)
	}
	for _, bad := range [][2]string{{"", "a"}, {key, ""}} {
		if _, err := s.Take(ctx, bad[0], bad[1], at(0), at(1)); err == nil {
			t.Errorf("Take(%q, %q) succeeded", bad[0], bad[1])
		}
	}
}

// testClaimLeaseConcurrent: of replicas taking one occurrence at once,
// exactly one holds it.
func testClaimLeaseConcurrent(t *testing.T, o Opener) {
	ctx := context.Background()
	const n = 6
	stores := make([]Store, n)
	for i := range stores {
		stores[i] = open(t, o)
	}
	for round := range 4 {
		key := fmt.Sprintf("checklist/2026-12-%02dT09:30Z", round+1)
		var taken atomic.Int32
		errs := make([]error, n)
		run(n, func(k int) {
			c, err := stores[k].Take(ctx, key, fmt.Sprintf("r%d", k), at(0), at(1))
			errs[k] = err
			if c == schedule.Taken {
				taken.Add(1)
			}
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if taken.Load() != 1 {
			t.Errorf("round %d: %d replicas took it, want 1", round, taken.Load())
		}
	}
}

// testSchedulerTakeover runs two schedulers on two handles of the store
// with one clock: A takes the 09:30 occurrence and dies in the middle of
// the job; B, which found it held, runs it when A's lease runs out, once.
func testSchedulerTakeover(t *testing.T, o Opener) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	occurrence := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	clock := clocktest.New(occurrence.Add(-time.Minute))
	cfg := schedule.Config{Schedule: "30 9 * * *", Timezone: "UTC"}
	ran := make(chan string, 4)
	job := func(name string, block bool) schedule.Job {
		return func(ctx context.Context, at time.Time) error {
			ran <- name
			if block {
				<-ctx.Done()
			}
			return nil
		}
	}
	a, err := schedule.New(cfg, job("a", true), schedule.Options{Claimer: open(t, o), Clock: clock, Holder: "a"})
	if err != nil {
		t.Fatal(err)
	}
	ctxA, killA := context.WithCancel(ctx)
	doneA := make(chan error, 1)
	go func() { doneA <- a.Start(ctxA) }()
	if err := clock.WaitForWaiter(ctx, occurrence, 1); err != nil {
		t.Fatal(err)
	}
	clock.Set(occurrence)
	if got := <-ran; got != "a" {
		t.Fatalf("%s ran first, want a", got)
	}
	b, err := schedule.New(cfg, job("b", false), schedule.Options{Claimer: open(t, o), Clock: clock, Holder: "b"})
	if err != nil {
		t.Fatal(err)
	}
	ctxB, stopB := context.WithCancel(ctx)
	defer stopB()
	go func() { _ = b.Start(ctxB) }()
	if err := clock.WaitForWaiter(ctx, occurrence.Add(2*time.Second), 1); err != nil {
		t.Fatalf("b is not watching the held occurrence: %v (waiting: %v)", err, clock.Waiting())
	}
	killA()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	clock.Advance(schedule.DefaultLease + 2*time.Second)
	select {
	case got := <-ran:
		if got != "b" {
			t.Fatalf("%s ran the occurrence after a died, want b", got)
		}
	case <-ctx.Done():
		t.Fatal("b did not run the occurrence after a's lease ran out")
	}
	if err := clock.WaitForWaiter(ctx, occurrence.Add(24*time.Hour), 1); err != nil {
		t.Fatal(err)
	}
	if got, err := open(t, o).Take(ctx, schedule.ClaimKey(schedule.DefaultName, occurrence), "c", clock.Now(), clock.Now().Add(time.Minute)); err != nil || got != schedule.Done {
		t.Errorf("the occurrence after b ran it: %v, %v; want Done", got, err)
	}
	select {
	case got := <-ran:
		t.Errorf("%s ran the occurrence again", got)
	default:
	}
}

// testLastClaim: the latest claim by claim time among a prefix's keys,
// prefixes taken literally (no LIKE wildcards), across a restart.
func testLastClaim(t *testing.T, o Opener) {
	ctx := context.Background()
	var mu sync.Mutex
	now := t0
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	claimAt := func(s Store, key string, at time.Time) {
		t.Helper()
		mu.Lock()
		now = at
		mu.Unlock()
		if ok, err := s.Claim(ctx, key); err != nil || !ok {
			t.Fatalf("Claim(%s) = %v, %v", key, ok, err)
		}
	}
	s := open(t, o, store.WithClock(clock))
	if key, at, err := s.LastClaim(ctx, "checklist-done/prod/"); err != nil || key != "" || !at.IsZero() {
		t.Errorf("LastClaim on no claims = %q, %v, %v; want none", key, at, err)
	}
	if _, _, err := s.LastClaim(ctx, ""); err == nil {
		t.Error("LastClaim with an empty prefix succeeded")
	}
	claimAt(s, "checklist-done/prod/2026-11-23T09:30Z", t0)
	claimAt(s, "checklist-done/prod/2026-11-24T09:30Z", t0.Add(24*time.Hour))
	claimAt(s, "checklist-done/prod-eu/2026-11-25T09:30Z", t0.Add(48*time.Hour))
	claimAt(s, "checklist-done/dev/2026-11-26T09:30Z", t0.Add(72*time.Hour))
	claimAt(s, "checklist_done/prod/2026-11-27T09:30Z", t0.Add(96*time.Hour))
	claimAt(s, "checklist/2026-11-28T09:30Z", t0.Add(120*time.Hour))

	for _, c := range []struct {
		prefix, key string
		at          time.Time
	}{
		{"checklist-done/prod/", "checklist-done/prod/2026-11-24T09:30Z", t0.Add(24 * time.Hour)},
		{"checklist-done/dev/", "checklist-done/dev/2026-11-26T09:30Z", t0.Add(72 * time.Hour)},
		{"checklist-done/", "checklist-done/dev/2026-11-26T09:30Z", t0.Add(72 * time.Hour)},
		// "_" and "%" are not wildcards.
		{"checklist_done/", "checklist_done/prod/2026-11-27T09:30Z", t0.Add(96 * time.Hour)},
		{"checklist%", "", time.Time{}},
		{"checklist", "checklist/2026-11-28T09:30Z", t0.Add(120 * time.Hour)},
		{"checklist-done/staging/", "", time.Time{}},
	} {
		key, at, err := s.LastClaim(ctx, c.prefix)
		if err != nil || key != c.key || !at.Equal(c.at) {
			t.Errorf("LastClaim(%q) = %q, %v, %v; want %q, %v", c.prefix, key, at, err, c.key, c.at)
		}
	}

	// Restarted, it reads the same.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, o)
	if key, at, err := s.LastClaim(ctx, "checklist-done/prod/"); err != nil || key != "checklist-done/prod/2026-11-24T09:30Z" || !at.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("LastClaim after a restart = %q, %v, %v", key, at, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.LastClaim(cancelled, "checklist-done/prod/"); err == nil {
		t.Error("LastClaim with a cancelled context succeeded")
	}
}
