package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/triage"
)

// escalationTests check that an escalation is pending until its mention
// is posted, and that one replica at a time posts it.
var escalationTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"EscalationPendingUntilPosted", testEscalationPendingUntilPosted},
	{"ConcurrentTakeEscalation", testConcurrentTakeEscalation},
}

// escalated opens an anomaly in env, decides it Intermittent and escalates
// it.
func escalated(t *testing.T, s triage.Store, env, fingerprint string) triage.Anomaly {
	t.Helper()
	a := mustOpenAnomaly(t, s, newAnomaly(env, fingerprint), "")
	mustDecide(t, s, a.ID, record(triage.Intermittent, "U1", at(1)), "")
	b, err := s.Escalate(context.Background(), a.ID,
		triage.Escalation{At: at(2), Actor: opsbot.ActorBot, Reason: "seen 3 times in 7d"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pendingIDs(t *testing.T, s triage.Store, env string) []int64 {
	t.Helper()
	list, err := s.PendingEscalations(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, a := range list {
		if !a.EscalationPending {
			t.Errorf("anomaly %d listed as pending without EscalationPending", a.ID)
		}
		ids = append(ids, a.ID)
	}
	return ids
}

func take(t *testing.T, s triage.Store, id int64, holder string, minutes int) bool {
	t.Helper()
	ok, err := s.TakeEscalation(context.Background(), id, holder, at(minutes), at(minutes+5))
	if err != nil {
		t.Fatalf("TakeEscalation(%d, %s): %v", id, holder, err)
	}
	return ok
}

func endPost(t *testing.T, s triage.Store, id int64, holder string, posted bool) {
	t.Helper()
	if err := s.EndEscalationPost(context.Background(), id, holder, posted); err != nil {
		t.Fatalf("EndEscalationPost(%d, %s, %v): %v", id, holder, posted, err)
	}
}

func testEscalationPendingUntilPosted(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	quiet := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/quiet"), "")
	a := escalated(t, s, "prod", "pods/x")
	other := escalated(t, s, "dev", "pods/y")
	if !a.EscalationPending || !mustGet(t, s, a.ID).EscalationPending {
		t.Fatalf("an escalation is not pending once recorded: %+v", a)
	}
	equal(t, "pending in prod", pendingIDs(t, s, "prod"), []int64{a.ID})
	equal(t, "pending everywhere", pendingIDs(t, s, ""), []int64{a.ID, other.ID})
	before := takeSnapshot(t, s, a.ID)

	if take(t, s, quiet.ID, "r1", 3) {
		t.Error("took the escalation of an anomaly that was never escalated")
	}
	if !take(t, s, a.ID, "r1", 3) {
		t.Fatal("r1 could not take a pending escalation")
	}
	if take(t, s, a.ID, "r2", 4) {
		t.Error("r2 took an escalation while r1's lease runs")
	}
	endPost(t, s, a.ID, "r2", true) // not r2's: nothing changes
	equal(t, "pending after a stranger's end", pendingIDs(t, s, "prod"), []int64{a.ID})
	endPost(t, s, a.ID, "r1", false) // r1's post failed: anyone may take it
	if !take(t, s, a.ID, "r2", 4) {
		t.Fatal("r2 could not take an escalation r1 gave back")
	}
	// r2 dies holding it: once its lease ends, r1 takes it.
	if take(t, s, a.ID, "r1", 8) {
		t.Error("r1 took it before r2's lease ended")
	}
	if !take(t, s, a.ID, "r1", 9) {
		t.Fatal("r1 could not take an escalation whose lease ended")
	}
	endPost(t, s, a.ID, "r1", true)
	if mustGet(t, s, a.ID).EscalationPending {
		t.Error("still pending once posted")
	}
	equal(t, "pending in prod once posted", pendingIDs(t, s, "prod"), []int64(nil))
	if take(t, s, a.ID, "r2", 20) {
		t.Error("took an escalation already posted")
	}
	// The bookkeeping of posting changes neither the version nor the timeline.
	after := takeSnapshot(t, s, a.ID)
	equal(t, "version", after.Anomalies[0].Version, before.Anomalies[0].Version)
	equal(t, "timeline", len(after.Timelines[0]), len(before.Timelines[0]))

	// A restart keeps what is pending.
	s2 := open(t, o)
	equal(t, "pending after a restart", pendingIDs(t, s2, ""), []int64{other.ID})

	// A new decision answers the escalation: nothing left to post.
	mustDecide(t, s, other.ID, record(triage.Serious, "U2", at(3)), "")
	equal(t, "pending after a decision", pendingIDs(t, s, ""), []int64(nil))

	_, err := s.TakeEscalation(ctx, a.ID, "", at(1), at(2))
	if err == nil {
		t.Error("TakeEscalation without a holder")
	}
	if _, err := s.TakeEscalation(ctx, 999, "r1", at(1), at(2)); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("TakeEscalation of no anomaly: %v", err)
	}
	checkConsistent(t, s, a.ID)
}

func testConcurrentTakeEscalation(t *testing.T, o Opener) {
	s := open(t, o)
	a := escalated(t, s, "prod", "pods/x")
	const n = 8
	var won, failed atomic.Int32
	run(n, func(i int) {
		ok, err := s.TakeEscalation(context.Background(), a.ID, fmt.Sprintf("replica-%d", i), at(3), at(8))
		switch {
		case err != nil:
			failed.Add(1)
			t.Errorf("replica %d: %v", i, err)
		case ok:
			won.Add(1)
		}
	})
	if won.Load() != 1 {
		t.Errorf("%d replicas took one escalation, want 1", won.Load())
	}
}
