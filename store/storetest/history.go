package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/opsbot/opsbot/triage"
)

// historyTests are the cases of triage.HistoryStore: what was decided
// last time about a fingerprint, for a report's findings at once.
var historyTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"History", testHistory},
	{"HistoryInvalid", testHistoryInvalid},
}

func testHistory(t *testing.T, o Opener) {
	s := open(t, o)
	ctx := context.Background()
	seen := func(fp string, minutes int) {
		t.Helper()
		if _, found, err := s.RecordSighting(ctx, "prod", fp, 0, at(minutes), fmt.Sprintf("seen:%s:%d", fp, minutes)); err != nil || !found {
			t.Fatalf("RecordSighting(%s) = found %v, %v", fp, found, err)
		}
	}
	openAt := func(env, fp string, minutes int) triage.Anomaly {
		t.Helper()
		a := newAnomaly(env, fp)
		a.OpenedAt = at(minutes)
		return mustOpenAnomaly(t, s, a, fmt.Sprintf("open:%s:%s:%d", env, fp, minutes))
	}
	const api, worker, undecided, tie = "pods/api/crashloop", "pods/worker/oom", "logs/undecided", "alerts/tie"

	a1 := openAt("prod", api, 0)
	noise := record(triage.Noise, "U0BOB", at(5))
	noise.Conclusion = "retry storm from community-api"
	mustDecide(t, s, a1.ID, noise, "decide:a1")
	if _, err := s.LinkThread(ctx, a1.ID, "C0DEV", "1700000000.000100", "link:a1"); err != nil {
		t.Fatal(err)
	}
	seen(api, 10)
	seen(api, 20)
	a2 := openAt("prod", api, 30) // a1 is closed: a new anomaly, undecided
	mustDecide(t, s, openAt("dev", worker, 0).ID, record(triage.Intermittent, "U0BOB", at(2)), "decide:dev")
	openAt("prod", undecided, 0)
	t1 := openAt("prod", tie, 0)
	mustDecide(t, s, t1.ID, record(triage.Noise, "U0BOB", at(50)), "decide:t1")
	t2 := openAt("prod", tie, 51)
	mustDecide(t, s, t2.ID, record(triage.Intermittent, "U0CAROL", at(50)), "decide:t2")

	q := triage.HistoryQuery{Environment: "prod", Fingerprints: []string{api, worker, undecided, tie, "no/such"}, SeenSince: t0}
	got, err := s.History(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want1, err := s.Get(ctx, a1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("History = %d fingerprints %v, want api's and the tie's only (dev's, undecided and unknown ones left out)", len(got), keys(got))
	}
	wantAPI := triage.History{Environment: "prod", Fingerprint: api, AnomalyID: a1.ID, Channel: "C0DEV",
		ThreadTS: "1700000000.000100", Decision: *want1.Decision, Seen: 4}
	if h := got[api]; !reflect.DeepEqual(h, wantAPI) {
		t.Errorf("History[api] =\n%+v\nwant\n%+v", h, wantAPI)
	}
	if h := got[tie]; h.AnomalyID != t2.ID || h.Decision.Decision != triage.Intermittent || h.Decision.DecidedBy != "U0CAROL" {
		t.Errorf("History[tie] = anomaly %d %s by %s, want the later anomaly %d's Intermittent by U0CAROL (decided at the same time)",
			h.AnomalyID, h.Decision.Decision, h.Decision.DecidedBy, t2.ID)
	}

	// Sightings are counted from SeenSince: at(20) and a2's opening at(30).
	q.SeenSince = at(15)
	if got, err = s.History(ctx, q); err != nil || got[api].Seen != 2 {
		t.Errorf("History since at(15): seen %d, %v; want 2", got[api].Seen, err)
	}

	// a2 decided: it is the last time now, but not in its own thread.
	mustDecide(t, s, a2.ID, record(triage.Intermittent, "U0ALICE", at(40)), "decide:a2")
	q.Fingerprints, q.SeenSince = []string{api}, t0
	if got, err = s.History(ctx, q); err != nil || got[api].AnomalyID != a2.ID || got[api].Decision.Decision != triage.Intermittent {
		t.Errorf("History after a2's decision = anomaly %d %s, %v; want %d Intermittent", got[api].AnomalyID, got[api].Decision.Decision, err, a2.ID)
	}
	q.BeforeID = a2.ID
	if got, err = s.History(ctx, q); err != nil || got[api].AnomalyID != a1.ID || got[api].Seen != 4 {
		t.Errorf("History before a2 = anomaly %d seen %d, %v; want %d seen 4", got[api].AnomalyID, got[api].Seen, err, a1.ID)
	}
	q.BeforeID = a1.ID
	if got, err = s.History(ctx, q); err != nil || len(got) != 0 {
		t.Errorf("History before a1 = %v, %v; want nothing", keys(got), err)
	}
	q.Fingerprints = nil
	if got, err = s.History(ctx, q); err != nil || got == nil || len(got) != 0 {
		t.Errorf("History of no fingerprints = %v, %v; want an empty map", got, err)
	}
}

func testHistoryInvalid(t *testing.T, o Opener) {
	s := open(t, o)
	ctx := context.Background()
	many := make([]string, triage.MaxHistoryFingerprints+1)
	for i := range many {
		many[i] = fmt.Sprintf("fp/%d", i)
	}
	for _, q := range []triage.HistoryQuery{
		{Fingerprints: []string{"x"}},
		{Environment: "prod", Fingerprints: many},
		{Environment: "prod", Fingerprints: []string{"x"}, BeforeID: -1},
	} {
		if _, err := s.History(ctx, q); err == nil {
			t.Errorf("History(%d fingerprints, env %q, before %d) = nil error, want one", len(q.Fingerprints), q.Environment, q.BeforeID)
		}
	}
	// The most a report can ask for is one query that both databases take.
	if got, err := s.History(ctx, triage.HistoryQuery{Environment: "prod", Fingerprints: many[:triage.MaxHistoryFingerprints]}); err != nil || len(got) != 0 {
		t.Errorf("History(%d fingerprints) = %d, %v", triage.MaxHistoryFingerprints, len(got), err)
	}
}

func keys(m map[string]triage.History) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
