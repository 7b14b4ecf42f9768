package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// claimTests are the cases of LastClaim, which reads back the claims that
// record the scheduled checklist's runs.
var claimTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"LastClaim", testLastClaim},
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
