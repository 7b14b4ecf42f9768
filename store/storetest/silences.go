package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/triage"
)

// silenceTests check an alert anomaly's labels and the silence recorded on
// a Noise decision.
var silenceTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"Labels", testLabels},
	{"RecordSilence", testRecordSilence},
	{"RecordSilenceInvalid", testRecordSilenceInvalid},
	{"ChangeSilence", testChangeSilence},
	{"ChangeSilenceInvalid", testChangeSilenceInvalid},
}

func testLabels(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	in := newAnomaly("prod", "alerts/CanaryFlaps/namespace=shop")
	in.Labels = map[string]string{"alertname": "CanaryFlaps", "namespace": "shop", "empty": "", "note": " a \x00b "}
	a := mustOpenAnomaly(t, s, in, "o1")
	want := map[string]string{"alertname": "CanaryFlaps", "namespace": "shop", "note": "a \ufffdb"}
	equal(t, "labels as opened", a.Labels, want)
	equal(t, "labels read back", mustGet(t, s, a.ID).Labels, want)
	// Reopened, as another replica would.
	equal(t, "labels after a restart", mustGet(t, open(t, o), a.ID).Labels, want)

	plain := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "o2")
	if got := mustGet(t, s, plain.ID).Labels; got != nil {
		t.Errorf("an anomaly without labels reads back %v, want nil", got)
	}

	many := newAnomaly("prod", "alerts/Many")
	many.Labels = map[string]string{}
	for i := range triage.MaxLabels + 1 {
		many.Labels[string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	_, _, err := s.OpenAnomaly(ctx, many, "o3")
	wantInvalid(t, "too many labels", err, "labels")
}

func testRecordSilence(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "alerts/CanaryFlaps/namespace=shop"), "o1")

	mark := triage.SilenceMark{ID: "2f6c1f0e-5b0a-4f0e-9d5e-1b2c3d4e5f60", EndsAt: at(24 * 60)}
	// Not decided, then not Noise: refused.
	_, err := s.RecordSilence(ctx, a.ID, mark, "U0ALICE", at(1), "silence:k0")
	wantErr(t, "silencing an undecided anomaly", err, opsbot.ErrConflict)
	mustDecide(t, s, a.ID, record(triage.Intermittent, "U0ALICE", at(2)), "d1")
	_, err = s.RecordSilence(ctx, a.ID, mark, "U0ALICE", at(3), "silence:k0")
	wantErr(t, "silencing an Intermittent decision", err, opsbot.ErrConflict)

	noise := mustDecide(t, s, a.ID, record(triage.Noise, "U0BOB", at(4)), "d2")
	got, err := s.RecordSilence(ctx, a.ID, mark, "U0BOB", at(5), "silence:k1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Decision.Silence == nil || got.Decision.Silence.ID != mark.ID || !got.Decision.Silence.EndsAt.Equal(mark.EndsAt) {
		t.Fatalf("decision after RecordSilence %+v", got.Decision)
	}
	if got.Version != noise.Version+1 {
		t.Errorf("version %d, want %d", got.Version, noise.Version+1)
	}
	equal(t, "Get after RecordSilence", mustGet(t, s, a.ID), got)

	// The same key again, or the same mark under another key: nothing more.
	again, err := s.RecordSilence(ctx, a.ID, mark, "U0BOB", at(6), "silence:k1")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "RecordSilence repeated", again, got)
	same, err := s.RecordSilence(ctx, a.ID, mark, "U0CAROL", at(7), "silence:k2")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "the same mark again", same, got)

	// Extended under a new id: the decision now has that one.
	ext := triage.SilenceMark{ID: "9a8b7c6d-0000-4000-8000-000000000001", EndsAt: at(7 * 24 * 60)}
	extended, err := s.RecordSilence(ctx, a.ID, ext, "U0CAROL", at(8), "silence:k3")
	if err != nil {
		t.Fatal(err)
	}
	if extended.Decision.Silence.ID != ext.ID {
		t.Errorf("silence %+v after the extension, want %s", extended.Decision.Silence, ext.ID)
	}
	_, tl := checkConsistent(t, s, a.ID)
	n := 0
	for _, e := range tl {
		if e.Kind == triage.KindSilenced {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d silenced entries, want 2: %+v", n, tl)
	}

	// A new decision has no silence, even another Noise.
	redecided := mustDecide(t, s, a.ID, record(triage.Noise, "U0ALICE", at(9)), "d3")
	if redecided.Decision.Silence != nil {
		t.Errorf("a new decision kept silence %+v", redecided.Decision.Silence)
	}
	equal(t, "Get after a new decision", mustGet(t, s, a.ID).Decision.Silence, (*triage.SilenceMark)(nil))
	// A silence given with a decision is ignored: only RecordSilence sets it.
	r := record(triage.Noise, "U0ALICE", at(10))
	r.Silence = &mark
	if d := mustDecide(t, s, a.ID, r, "d4"); d.Decision.Silence != nil {
		t.Errorf("Decide recorded the caller's silence %+v", d.Decision.Silence)
	}
	checkConsistent(t, s, a.ID)
}

func testRecordSilenceInvalid(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "alerts/X/namespace=shop"), "o1")
	mustDecide(t, s, a.ID, record(triage.Noise, "U0BOB", at(1)), "d1")
	before := takeSnapshot(t, s, a.ID)
	good := triage.SilenceMark{ID: "2f6c1f0e", EndsAt: at(60)}
	for field, call := range map[string]func() error{
		"id": func() error {
			_, err := s.RecordSilence(ctx, a.ID, triage.SilenceMark{EndsAt: at(60)}, "U0BOB", at(2), "k")
			return err
		},
		"endsAt": func() error {
			_, err := s.RecordSilence(ctx, a.ID, triage.SilenceMark{ID: "x"}, "U0BOB", at(2), "k")
			return err
		},
		"actor": func() error { _, err := s.RecordSilence(ctx, a.ID, good, " ", at(2), "k"); return err },
		"at":    func() error { _, err := s.RecordSilence(ctx, a.ID, good, "U0BOB", time.Time{}, "k"); return err },
	} {
		wantInvalid(t, "RecordSilence without "+field, call(), field)
	}
	if _, err := s.RecordSilence(ctx, 9999, good, "U0BOB", at(2), "k"); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("unknown anomaly: %v, want not found", err)
	}
	equal(t, "after refused writes", takeSnapshot(t, s, a.ID), before)
}

func testChangeSilence(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "alerts/CanaryFlaps/namespace=shop"), "o1")
	mustDecide(t, s, a.ID, record(triage.Noise, "U0BOB", at(1)), "d1")
	extend := triage.SilenceChange{Kind: triage.KindSilenceExtended, From: "s-1", ID: "s-1", EndsAt: at(48 * 60)}
	_, err := s.ChangeSilence(ctx, a.ID, extend, "U0BOB", at(2), "c0")
	wantErr(t, "changing a decision without a silence", err, opsbot.ErrConflict)

	mark := triage.SilenceMark{ID: "s-1", EndsAt: at(24 * 60), Length: 24 * time.Hour}
	if _, err := s.RecordSilence(ctx, a.ID, mark, "U0BOB", at(3), "silence:k1"); err != nil {
		t.Fatal(err)
	}
	got, err := s.ChangeSilence(ctx, a.ID, extend, "U0ALICE", at(4), "c1")
	if err != nil {
		t.Fatal(err)
	}
	want := triage.SilenceMark{ID: "s-1", EndsAt: at(48 * 60), Length: 24 * time.Hour, Extensions: 1}
	equal(t, "silence extended once", *got.Decision.Silence, want)
	// The same key again: nothing more.
	again, err := s.ChangeSilence(ctx, a.ID, extend, "U0ALICE", at(5), "c1")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "the same extension delivered again", again, got)
	// Extended again, under a new id: counted.
	twice, err := s.ChangeSilence(ctx, a.ID, triage.SilenceChange{Kind: triage.KindSilenceExtended, From: "s-1", ID: "s-2", EndsAt: at(72 * 60)},
		"U0ALICE", at(6), "c2")
	if err != nil {
		t.Fatal(err)
	}
	want = triage.SilenceMark{ID: "s-2", EndsAt: at(72 * 60), Length: 24 * time.Hour, Extensions: 2}
	equal(t, "silence extended twice", *twice.Decision.Silence, want)
	equal(t, "read back after a restart", *mustGet(t, open(t, o), a.ID).Decision.Silence, want)
	// From a silence that is no longer the decision's: refused.
	_, err = s.ChangeSilence(ctx, a.ID, triage.SilenceChange{Kind: triage.KindSilenceExpired, From: "s-1"}, "U0ALICE", at(7), "c3")
	wantErr(t, "expiring a replaced silence", err, opsbot.ErrConflict)

	expired, err := s.ChangeSilence(ctx, a.ID, triage.SilenceChange{Kind: triage.KindSilenceExpired, From: "s-2"}, "U0CAROL", at(8), "c4")
	if err != nil {
		t.Fatal(err)
	}
	want.EndedAt, want.EndedBy = at(8), "U0CAROL"
	equal(t, "silence expired", *expired.Decision.Silence, want)
	if !expired.Decision.Silence.Ended() || expired.Decision.Silence.RanOut() {
		t.Errorf("expired silence %+v: want ended, not ran out", expired.Decision.Silence)
	}
	// Seen ended again (ran out): already ended, nothing written.
	same, err := s.ChangeSilence(ctx, a.ID, triage.SilenceChange{Kind: triage.KindSilenceRanOut, From: "s-2"}, opsbot.ActorBot, at(9), "c5")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "ran out after an expiry", same, expired)
	_, err = s.ChangeSilence(ctx, a.ID, triage.SilenceChange{Kind: triage.KindSilenceExtended, From: "s-2", ID: "s-2", EndsAt: at(96 * 60)}, "U0ALICE", at(10), "c6")
	wantErr(t, "extending an ended silence", err, opsbot.ErrConflict)

	_, tl := checkConsistent(t, s, a.ID)
	var kinds []triage.Kind
	for _, e := range tl {
		kinds = append(kinds, e.Kind)
	}
	equal(t, "timeline", kinds, []triage.Kind{triage.KindOpened, triage.KindDecided, triage.KindSilenced,
		triage.KindSilenceExtended, triage.KindSilenceExtended, triage.KindSilenceExpired})

	// A new silence starts afresh; a ran-out one is marked by opsbot.
	fresh, err := s.RecordSilence(ctx, a.ID, triage.SilenceMark{ID: "s-3", EndsAt: at(11 + 120), Length: 2 * time.Hour}, "U0BOB", at(11), "silence:k2")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "a new silence", *fresh.Decision.Silence, triage.SilenceMark{ID: "s-3", EndsAt: at(11 + 120), Length: 2 * time.Hour})
	ran, err := s.ChangeSilence(ctx, a.ID, triage.SilenceChange{Kind: triage.KindSilenceRanOut, From: "s-3"}, opsbot.ActorBot, at(200), "c7")
	if err != nil {
		t.Fatal(err)
	}
	if !ran.Decision.Silence.RanOut() {
		t.Errorf("silence %+v: want ran out", ran.Decision.Silence)
	}
	// A new decision has no silence.
	if d := mustDecide(t, s, a.ID, record(triage.Noise, "U0ALICE", at(201)), "d2"); d.Decision.Silence != nil {
		t.Errorf("a new decision kept silence %+v", d.Decision.Silence)
	}
	checkConsistent(t, s, a.ID)
}

func testChangeSilenceInvalid(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "alerts/X/namespace=shop"), "o1")
	mustDecide(t, s, a.ID, record(triage.Noise, "U0BOB", at(1)), "d1")
	if _, err := s.RecordSilence(ctx, a.ID, triage.SilenceMark{ID: "s-1", EndsAt: at(60), Length: time.Hour}, "U0BOB", at(2), "k0"); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, s, a.ID)
	for field, c := range map[string]triage.SilenceChange{
		"kind":   {Kind: triage.KindSilenced, From: "s-1"},
		"from":   {Kind: triage.KindSilenceExpired},
		"id":     {Kind: triage.KindSilenceExtended, From: "s-1", EndsAt: at(120)},
		"endsAt": {Kind: triage.KindSilenceExtended, From: "s-1", ID: "s-1"},
	} {
		_, err := s.ChangeSilence(ctx, a.ID, c, "U0BOB", at(3), "k")
		wantInvalid(t, "ChangeSilence without "+field, err, field)
	}
	_, err := s.ChangeSilence(ctx, a.ID, triage.SilenceChange{Kind: triage.KindSilenceExpired, From: "s-1"}, " ", at(3), "k")
	wantInvalid(t, "ChangeSilence without an actor", err, "actor")
	if _, err := s.ChangeSilence(ctx, 9999, triage.SilenceChange{Kind: triage.KindSilenceExpired, From: "s-1"}, "U0BOB", at(3), "k"); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("unknown anomaly: %v, want not found", err)
	}
	equal(t, "after refused writes", takeSnapshot(t, s, a.ID), before)
}
