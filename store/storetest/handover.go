package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/handover"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/triage"
)

// handoverTests check the handovers' record and the handover's reads.
var handoverTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"RecordHandover", testRecordHandover},
	{"AcknowledgeHandover", testAcknowledgeHandover},
	{"ConcurrentAcknowledge", testConcurrentAcknowledge},
	{"HandoverReads", testHandoverReads},
}

func mustRecordHandover(t *testing.T, s Store, at time.Time, by, key string) handover.Record {
	t.Helper()
	r, created, err := s.RecordHandover(context.Background(), handover.Record{At: at, By: by}, key)
	if err != nil || !created {
		t.Fatalf("RecordHandover(%s) = created %v, %v", key, created, err)
	}
	return r
}

func testRecordHandover(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	if _, ok, err := s.LastHandover(ctx); err != nil || ok {
		t.Fatalf("LastHandover on an empty store = %v, %v; want none", ok, err)
	}
	first := mustRecordHandover(t, s, at(0), handover.ActorSchedule, "handover/2026-11-23T09:00Z")
	second := mustRecordHandover(t, s, at(60), "U0ALICE", "cmd:T1")
	if first.ID <= 0 || second.ID <= first.ID {
		t.Errorf("ids %d then %d, want increasing", first.ID, second.ID)
	}
	equal(t, "recorded", second, handover.Record{ID: second.ID, At: at(60), By: "U0ALICE"})

	// The same key again: the first record, nothing new.
	again, created, err := s.RecordHandover(ctx, handover.Record{At: at(61), By: "U0BOB"}, "cmd:T1")
	if err != nil || created {
		t.Fatalf("RecordHandover with a used key = created %v, %v", created, err)
	}
	equal(t, "the same key again", again, second)

	last, ok, err := open(t, o).LastHandover(ctx)
	if err != nil || !ok {
		t.Fatalf("LastHandover after a restart = %v, %v", ok, err)
	}
	equal(t, "last handover", last, second)

	posted, err := s.SetHandoverMessage(ctx, second.ID, "C0OPS", "1700000000.000100")
	if err != nil {
		t.Fatal(err)
	}
	if posted.Channel != "C0OPS" || posted.MessageTS != "1700000000.000100" {
		t.Errorf("after SetHandoverMessage %+v", posted)
	}
	got, err := s.Handover(ctx, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Handover", got, posted)

	_, err = s.Handover(ctx, 999)
	wantErr(t, "Handover(999)", err, opsbot.ErrNotFound)
	_, err = s.SetHandoverMessage(ctx, 999, "C0OPS", "1.2")
	wantErr(t, "SetHandoverMessage(999)", err, opsbot.ErrNotFound)
	_, err = s.SetHandoverMessage(ctx, second.ID, "", "1.2")
	wantInvalid(t, "SetHandoverMessage without a channel", err, "channel")

	// Invalid input changes nothing.
	_, _, err = s.RecordHandover(ctx, handover.Record{At: at(90)}, "cmd:T2")
	wantInvalid(t, "RecordHandover without by", err, "by")
	_, _, err = s.RecordHandover(ctx, handover.Record{By: "U0ALICE"}, "cmd:T3")
	wantInvalid(t, "RecordHandover without a time", err, "at")
	if _, _, err := s.RecordHandover(ctx, handover.Record{At: at(90), By: "U0ALICE"}, ""); err == nil {
		t.Error("RecordHandover without a key succeeded")
	}
	if last, _, _ := s.LastHandover(ctx); last.ID != second.ID {
		t.Errorf("after refused records, the last handover is %d, want %d", last.ID, second.ID)
	}
}

func testAcknowledgeHandover(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	h := mustRecordHandover(t, s, at(0), handover.ActorSchedule, "handover/1")
	got, first, err := s.AcknowledgeHandover(ctx, h.ID, "U0ALICE", at(3))
	if err != nil || !first {
		t.Fatalf("AcknowledgeHandover = first %v, %v", first, err)
	}
	if got.AcknowledgedBy != "U0ALICE" || !got.AcknowledgedAt.Equal(at(3)) || !got.Acknowledged() {
		t.Errorf("acknowledged %+v", got)
	}
	// Someone else, or the same person again: who took over stays.
	for _, by := range []string{"U0BOB", "U0ALICE"} {
		again, first, err := s.AcknowledgeHandover(ctx, h.ID, by, at(5))
		if err != nil || first {
			t.Fatalf("AcknowledgeHandover again by %s = first %v, %v", by, first, err)
		}
		equal(t, "acknowledged again by "+by, again, got)
	}
	if _, _, err := s.AcknowledgeHandover(ctx, 999, "U0ALICE", at(3)); err == nil {
		t.Error("AcknowledgeHandover(999) succeeded")
	}
	_, _, err = s.AcknowledgeHandover(ctx, h.ID, "", at(3))
	wantInvalid(t, "AcknowledgeHandover without by", err, "by")
}

func testConcurrentAcknowledge(t *testing.T, o Opener) {
	ctx := context.Background()
	a, b := open(t, o), open(t, o)
	h := mustRecordHandover(t, a, at(0), handover.ActorSchedule, "handover/1")
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		firsts []string
	)
	for i, s := range []Store{a, b, a, b} {
		by := []string{"U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"}[i]
		wg.Go(func() {
			_, first, err := s.AcknowledgeHandover(ctx, h.ID, by, at(1))
			if err != nil {
				t.Errorf("AcknowledgeHandover by %s: %v", by, err)
			}
			if first {
				mu.Lock()
				firsts = append(firsts, by)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got, err := a.Handover(ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(firsts) != 1 || got.AcknowledgedBy != firsts[0] {
		t.Errorf("took over first: %v; recorded %q", firsts, got.AcknowledgedBy)
	}
}

func testHandoverReads(t *testing.T, o Opener) {
	ctx := context.Background()
	var (
		mu  sync.Mutex
		now = at(0)
	)
	s := open(t, o, store.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}))
	setNow := func(t time.Time) {
		mu.Lock()
		now = t
		mu.Unlock()
	}

	// Silences: one ends within the shift, one after it, one before now,
	// and one that would end within the shift but was expired early.
	var silenced []int64
	for i, end := range []time.Time{at(120), at(24*60 + 1), at(-1), at(180)} {
		a := mustOpenAnomaly(t, s, newAnomaly("prod", "alerts/A"+string(rune('0'+i))), "o"+string(rune('0'+i)))
		mustDecide(t, s, a.ID, record(triage.Noise, "U0BOB", at(i)), "d"+string(rune('0'+i)))
		if _, err := s.RecordSilence(ctx, a.ID, triage.SilenceMark{ID: "s" + string(rune('0'+i)), EndsAt: end}, "U0BOB", at(i), "silence:"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
		silenced = append(silenced, a.ID)
	}
	expired := silenced[3]
	if _, err := s.ChangeSilence(ctx, expired, triage.SilenceChange{Kind: triage.KindSilenceExpired, From: "s3"}, "U0BOB", at(10), "expire:s3"); err != nil {
		t.Fatal(err)
	}
	silenced = silenced[:3]
	ending, err := s.SilencesEnding(ctx, at(0), at(24*60))
	if err != nil {
		t.Fatal(err)
	}
	if len(ending) != 1 || ending[0].ID != silenced[0] {
		t.Errorf("SilencesEnding = %v, want anomaly %d only", anomalyIDs(ending), silenced[0])
	}

	// Closed since: the four Noise decisions at minutes 0 to 3; an
	// Undetermined one leaves its anomaly open.
	open1 := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/open"), "o9")
	mustDecide(t, s, open1.ID, record(triage.Undetermined, "U0BOB", at(5)), "d9")
	closed, err := s.ClosedSince(ctx, at(1))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "ClosedSince(1)", anomalyIDs(closed), []int64{silenced[1], silenced[2], expired})

	// The last run, who asked and its status; fingerprints first found.
	if _, ok, err := s.LastRun(ctx); err != nil || ok {
		t.Fatalf("LastRun without runs = %v, %v", ok, err)
	}
	old := runFinding("pods", "Deployment shop/api", "CrashLoopBackOff")
	setNow(at(10))
	mustSaveRun(t, s, runReport("prod", []checks.Finding{old}))
	setNow(at(20))
	fresh := runFinding("pods", "Deployment shop/web", "OOMKilled")
	rep := runReport("prod", []checks.Finding{old, fresh}, []checks.Finding{fresh})
	rep.AskedBy = "U0ALICE"
	mustSaveRun(t, s, rep)
	setNow(at(30))
	devRep := runReport("dev", []checks.Finding{old})
	devRep.AskedBy = handover.ActorSchedule
	mustSaveRun(t, s, devRep)

	last, ok, err := s.LastRun(ctx)
	if err != nil || !ok {
		t.Fatalf("LastRun = %v, %v", ok, err)
	}
	equal(t, "LastRun", last, handover.Run{Environment: "dev", At: devRep.FinishedAt, AskedBy: handover.ActorSchedule,
		Status: "fail", Findings: 1})

	news, err := s.NewFingerprints(ctx, at(15))
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "NewFingerprints since 15", news, []handover.Fingerprint{
		{Environment: "prod", Fingerprint: fresh.Fingerprint, Title: fresh.Title, FirstSeen: rep.FinishedAt},
		{Environment: "dev", Fingerprint: old.Fingerprint, Title: old.Title, FirstSeen: devRep.FinishedAt},
	})
	if news, err := s.NewFingerprints(ctx, at(31)); err != nil || len(news) != 0 {
		t.Errorf("NewFingerprints after the last run = %v, %v", news, err)
	}
}

func anomalyIDs(as []triage.Anomaly) []int64 {
	var out []int64
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}
