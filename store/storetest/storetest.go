// Package storetest is the conformance suite every triage.Store backend
// passes: store/sqlite and store/postgres run it from their tests.
//
// It checks each Store method, idempotency (the same key twice writes once),
// concurrency (two people deciding at once, two "Investigate" clicks at
// once), durability across a restart, validation before any write, and
// atomicity: a transaction interrupted before COMMIT leaves nothing behind.
// After every scenario, each anomaly must equal the fold of its timeline
// (see checkConsistent).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/handover"
	"github.com/opsbot/opsbot/history"
	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/triage"
)

// Store is a triage.Store that can be closed, with the store's incident
// store, claims (see incidents.go), checklist runs (see runs.go) and
// refused requests (see refusals.go).
type Store interface {
	triage.Store
	Incidents() *store.Incidents
	Claim(ctx context.Context, key string) (bool, error)
	schedule.Claimer
	LastClaim(ctx context.Context, prefix string) (string, time.Time, error)
	SaveRun(ctx context.Context, rep checks.Report, channel, messageTS string) (int64, error)
	RunFinding(ctx context.Context, runID int64, idx int) (checks.Finding, string, bool, error)
	LastRunFindings(ctx context.Context, env, prefix string) ([]checks.Finding, bool, error)
	RecordRefusal(ctx context.Context, r opsbot.Refusal) (bool, error)
	Refusals(ctx context.Context, since time.Time, limit int) ([]opsbot.Refusal, error)
	noise.Store
	TipTimeline(ctx context.Context, id int64) ([]triage.TipEntry, error)
	history.Store
	handover.Store
	logs.StateStore
	io.Closer
}

// Opener opens a store on one database. Called again, it opens the same
// database again: that is how the suite restarts the store.
type Opener func(ctx context.Context, opts ...store.Option) (Store, error)

// Run runs the suite. fresh is called once per subtest and returns an Opener
// for a new, empty database.
func Run(t *testing.T, fresh func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, o Opener)
	}{
		{"OpenAnomaly", testOpenAnomaly},
		{"OpenAnomalyIdempotent", testOpenAnomalyIdempotent},
		{"OpenAnomalyInvalid", testOpenAnomalyInvalid},
		{"LinkThread", testLinkThread},
		{"Decide", testDecide},
		{"DecideIdempotent", testDecideIdempotent},
		{"DecideInvalid", testDecideInvalid},
		{"KeyUsed", testKeyUsed},
		{"KeyReusedElsewhere", testKeyReusedElsewhere},
		{"NotFound", testNotFound},
		{"ListOpenFindOpen", testListOpenFindOpen},
		{"RecordSighting", testRecordSighting},
		{"Magnitude", testMagnitude},
		{"Escalate", testEscalate},
		{"ReopenConflict", testReopenConflict},
		{"Observe", testObserve},
		{"Text", testText},
		{"ConcurrentDecide", testConcurrentDecide},
		{"ConcurrentDecideSameKey", testConcurrentDecideSameKey},
		{"ConcurrentOpen", testConcurrentOpen},
		{"ConcurrentOpenSameKey", testConcurrentOpenSameKey},
		{"ConcurrentSightings", testConcurrentSightings},
		{"Restart", testRestart},
		{"CrashBeforeCommit", testCrashBeforeCommit},
		{"CancelAnyTime", testCancelAnyTime},
	}
	tests = append(tests, incidentTests...)
	tests = append(tests, claimTests...)
	tests = append(tests, runTests...)
	tests = append(tests, threadTests...)
	tests = append(tests, refusalTests...)
	tests = append(tests, escalationTests...)
	tests = append(tests, noiseTests...)
	tests = append(tests, silenceTests...)
	tests = append(tests, historyTests...)
	tests = append(tests, tipTests...)
	tests = append(tests, searchTests...)
	tests = append(tests, handoverTests...)
	tests = append(tests, logStateTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, fresh(t)) })
	}
}

// ---- fixtures and helpers

// t0 has nanoseconds, to check that times round-trip exactly.
var t0 = time.Date(2026, 11, 23, 9, 0, 0, 123456789, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func newAnomaly(env, fingerprint string) triage.Anomaly {
	return triage.Anomaly{
		Environment: env,
		Fingerprint: fingerprint,
		Title:       "api is crash-looping",
		Detail:      "Back-off restarting failed container api in pod api-7d9f-xyz\nexit code 137",
		Link:        "https://grafana.example.com/d/pods?var-pod=api",
		Source:      triage.SourceChecklist,
		OpenedBy:    "U0ALICE",
		OpenedAt:    t0,
	}
}

func record(d triage.Decision, by string, when time.Time) triage.DecisionRecord {
	r := triage.DecisionRecord{
		Decision:   d,
		Conclusion: "the " + d.Label() + " conclusion",
		FiveWhys:   "1. why? because.\n2. why? because.",
		DecidedBy:  by,
		DecidedAt:  when,
	}
	switch d {
	case triage.Serious:
		r.UsersAffected = "about 2% of checkouts fail"
		r.Outage = true
		r.Ticket = "https://jira.example.com/browse/OPS-2"
	case triage.NotEnoughInformation:
		r.ToCollect = "heap profile at the next OOM kill"
	case triage.Noise:
		r.Dashboard = "https://grafana.example.com/d/noise"
		r.Ticket = "https://jira.example.com/browse/OPS-3"
	}
	return r
}

func open(t *testing.T, o Opener, opts ...store.Option) Store {
	t.Helper()
	s, err := o(context.Background(), opts...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustOpenAnomaly(t *testing.T, s triage.Store, a triage.Anomaly, key string) triage.Anomaly {
	t.Helper()
	got, created, err := s.OpenAnomaly(context.Background(), a, key)
	if err != nil || !created {
		t.Fatalf("OpenAnomaly(%s, %s) = created %v, %v", a.Environment, a.Fingerprint, created, err)
	}
	return got
}

func mustDecide(t *testing.T, s triage.Store, id int64, r triage.DecisionRecord, key string) triage.Anomaly {
	t.Helper()
	a, err := s.Decide(context.Background(), id, r, key)
	if err != nil {
		t.Fatalf("Decide(%d, %s): %v", id, r.Decision, err)
	}
	return a
}

func mustGet(t *testing.T, s triage.Store, id int64) triage.Anomaly {
	t.Helper()
	a, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%d): %v", id, err)
	}
	return a
}

func mustTimeline(t *testing.T, s triage.Store, id int64) []triage.TimelineEntry {
	t.Helper()
	tl, err := s.Timeline(context.Background(), id)
	if err != nil {
		t.Fatalf("Timeline(%d): %v", id, err)
	}
	return tl
}

func mustListOpen(t *testing.T, s triage.Store, env string) []triage.Anomaly {
	t.Helper()
	l, err := s.ListOpen(context.Background(), env)
	if err != nil {
		t.Fatalf("ListOpen(%q): %v", env, err)
	}
	return l
}

// equal fails the test when got and want differ (reflect.DeepEqual: times
// returned by a store must be UTC without a monotonic reading).
func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// snapshot is everything the store says about a set of anomalies.
type snapshot struct {
	Anomalies []triage.Anomaly
	Timelines [][]triage.TimelineEntry
	Open      []triage.Anomaly
}

func takeSnapshot(t *testing.T, s triage.Store, ids ...int64) snapshot {
	t.Helper()
	var sn snapshot
	for _, id := range ids {
		sn.Anomalies = append(sn.Anomalies, mustGet(t, s, id))
		sn.Timelines = append(sn.Timelines, mustTimeline(t, s, id))
	}
	sn.Open = mustListOpen(t, s, "")
	return sn
}

// checkConsistent checks that the anomaly is what its timeline says: entries
// numbered 1..Version without gaps, the opened entry first, the current
// decision equal to the last decision entry, each decision_changed naming
// the decision before it, SeenCount one more than the sightings, the thread
// of the last thread_linked entry, EscalatedAt from an escalation after the
// last decision, the state that follows from those, and the Magnitude of
// the latest sighting (by time; the opening is the first), which each
// decision records as it was when the decision was made.
func checkConsistent(t *testing.T, s triage.Store, id int64) (triage.Anomaly, []triage.TimelineEntry) {
	t.Helper()
	a := mustGet(t, s, id)
	tl := mustTimeline(t, s, id)
	if int64(len(tl)) != a.Version {
		t.Errorf("anomaly %d: version %d but %d timeline entries", id, a.Version, len(tl))
	}
	var (
		decision    *triage.DecisionRecord
		seen        int64 = 1
		lastSeen    time.Time
		channel, ts string
		escalatedAt time.Time
		keys        = map[string]bool{}
		magnitude   float64
		magnitudeAt time.Time
	)
	for i, e := range tl {
		if e.AnomalyID != id || e.Seq != int64(i+1) {
			t.Errorf("anomaly %d: entry %d is (anomaly %d, seq %d)", id, i, e.AnomalyID, e.Seq)
		}
		if e.IdempotencyKey != "" {
			if keys[e.IdempotencyKey] {
				t.Errorf("anomaly %d: key %q twice on the timeline", id, e.IdempotencyKey)
			}
			keys[e.IdempotencyKey] = true
		}
		if (i == 0) != (e.Kind == triage.KindOpened) {
			t.Errorf("anomaly %d: entry %d is %s", id, e.Seq, e.Kind)
		}
		switch e.Kind {
		case triage.KindOpened:
			lastSeen = e.At
			magnitude, magnitudeAt = e.Data.Magnitude, e.At
			if e.Actor != a.OpenedBy || !e.At.Equal(a.OpenedAt) {
				t.Errorf("anomaly %d: opened entry %+v", id, e)
			}
		case triage.KindDecided, triage.KindDecisionChanged:
			if e.Data.Decision == nil {
				t.Fatalf("anomaly %d: entry %d without a decision", id, e.Seq)
			}
			if (decision == nil) != (e.Kind == triage.KindDecided) {
				t.Errorf("anomaly %d: entry %d is %s after decision %v", id, e.Seq, e.Kind, decision)
			}
			if decision != nil && e.Data.Previous != decision.Decision {
				t.Errorf("anomaly %d: entry %d says previous %s, the decision before was %s",
					id, e.Seq, e.Data.Previous, decision.Decision)
			}
			if e.Actor != e.Data.Decision.DecidedBy || !e.At.Equal(e.Data.Decision.DecidedAt) {
				t.Errorf("anomaly %d: entry %d actor/time %s %v differ from the record's", id, e.Seq, e.Actor, e.At)
			}
			if e.Data.Decision.Magnitude != magnitude {
				t.Errorf("anomaly %d: entry %d records magnitude %v, the anomaly's was %v",
					id, e.Seq, e.Data.Decision.Magnitude, magnitude)
			}
			decision, escalatedAt = e.Data.Decision, time.Time{}
		case triage.KindSeenAgain:
			seen++
			if e.Data.SeenCount != seen {
				t.Errorf("anomaly %d: entry %d says seen %d times, counted %d", id, e.Seq, e.Data.SeenCount, seen)
			}
			if e.At.After(lastSeen) {
				lastSeen = e.At
			}
			if !e.At.Before(magnitudeAt) {
				magnitude, magnitudeAt = e.Data.Magnitude, e.At
			}
		case triage.KindThreadLinked:
			if e.Data.PreviousChannel != channel || e.Data.PreviousThreadTS != ts {
				t.Errorf("anomaly %d: entry %d previous thread %s/%s, was %s/%s", id, e.Seq,
					e.Data.PreviousChannel, e.Data.PreviousThreadTS, channel, ts)
			}
			channel, ts = e.Data.Channel, e.Data.ThreadTS
		case triage.KindEscalated:
			escalatedAt = e.At
		case triage.KindSilenced, triage.KindSilenceExtended, triage.KindSilenceExpired, triage.KindSilenceRanOut:
			if decision == nil || decision.Decision != triage.Noise || e.Data.Silence == nil {
				t.Errorf("anomaly %d: entry %d silences %+v on decision %+v", id, e.Seq, e.Data.Silence, decision)
				continue
			}
			d := *decision
			d.Silence = e.Data.Silence
			decision = &d
		default:
			t.Errorf("anomaly %d: entry %d of unknown kind %q", id, e.Seq, e.Kind)
		}
	}
	equal(t, fmt.Sprintf("anomaly %d: current decision vs last decision entry", id), a.Decision, decision)
	if a.SeenCount != seen || !a.LastSeenAt.Equal(lastSeen) {
		t.Errorf("anomaly %d: seen %d times, last %v; timeline says %d, %v", id, a.SeenCount, a.LastSeenAt, seen, lastSeen)
	}
	if a.Magnitude != magnitude {
		t.Errorf("anomaly %d: magnitude %v; timeline says %v", id, a.Magnitude, magnitude)
	}
	if a.Channel != channel || a.ThreadTS != ts {
		t.Errorf("anomaly %d: thread %s/%s; timeline says %s/%s", id, a.Channel, a.ThreadTS, channel, ts)
	}
	if !a.EscalatedAt.Equal(escalatedAt) {
		t.Errorf("anomaly %d: escalated at %v; timeline says %v", id, a.EscalatedAt, escalatedAt)
	}
	var d triage.Decision
	if decision != nil {
		d = decision.Decision
	}
	if want := triage.StateFor(d, !escalatedAt.IsZero()); a.State != want {
		t.Errorf("anomaly %d: state %s, want %s", id, a.State, want)
	}
	return a, tl
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func wantInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ve *opsbot.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, opsbot.ErrInvalid) {
		t.Errorf("%s: error %v, want a *opsbot.ValidationError", what, err)
		return
	}
	if ve.Problem(field) == "" {
		t.Errorf("%s: no problem reported for %s: %v", what, field, err)
	}
}

// run starts n goroutines running fn(i) at once and waits for them.
func run(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}
