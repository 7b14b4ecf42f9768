package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/triage"
)

func testOpenAnomaly(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	in := newAnomaly("prod", "pods/shop/api/CrashLoopBackOff")
	a := mustOpenAnomaly(t, s, in, "open:1")

	want := in
	want.ID, want.State, want.Version, want.SeenCount, want.LastSeenAt = a.ID, triage.Open, 1, 1, in.OpenedAt
	equal(t, "opened anomaly", a, want)
	if a.ID < 1 {
		t.Errorf("ID = %d", a.ID)
	}
	equal(t, "Get after OpenAnomaly", mustGet(t, s, a.ID), a)
	_, tl := checkConsistent(t, s, a.ID)
	equal(t, "timeline", tl, []triage.TimelineEntry{{AnomalyID: a.ID, Seq: 1, At: t0, Actor: "U0ALICE",
		Kind: triage.KindOpened, IdempotencyKey: "open:1"}})

	// "Investigate" again, by someone else: the same anomaly, nothing written.
	again := in
	again.OpenedBy, again.OpenedAt, again.Title = "U0BOB", at(5), "another title"
	b, created, err := s.OpenAnomaly(ctx, again, "open:2")
	if err != nil || created || b.ID != a.ID {
		t.Fatalf("second OpenAnomaly = #%d created %v, %v; want #%d not created", b.ID, created, err, a.ID)
	}
	equal(t, "second OpenAnomaly", b, a)
	checkConsistent(t, s, a.ID)

	// The same fingerprint in another environment, and another fingerprint:
	// separate anomalies with increasing ids.
	c := mustOpenAnomaly(t, s, newAnomaly("preprod", in.Fingerprint), "open:3")
	d := mustOpenAnomaly(t, s, newAnomaly("prod", "alerts/KubeJobFailed/backup"), "")
	if !(a.ID < c.ID && c.ID < d.ID) {
		t.Errorf("ids %d, %d, %d are not increasing", a.ID, c.ID, d.ID)
	}
	if n := len(mustListOpen(t, s, "")); n != 3 {
		t.Errorf("%d open anomalies, want 3", n)
	}

	// Once closed, the fingerprint can be investigated anew: a new anomaly.
	mustDecide(t, s, a.ID, record(triage.Noise, "U0BOB", at(10)), "decide:1")
	e, created, err := s.OpenAnomaly(ctx, again, "open:4")
	if err != nil || !created || e.ID == a.ID {
		t.Fatalf("OpenAnomaly after closing = #%d created %v, %v", e.ID, created, err)
	}
	for _, id := range []int64{a.ID, c.ID, d.ID, e.ID} {
		checkConsistent(t, s, id)
	}
}

func testOpenAnomalyIdempotent(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "envelope-1")
	// A retried Slack envelope: the same anomaly, as created, one entry.
	b, created, err := s.OpenAnomaly(ctx, newAnomaly("prod", "pods/x"), "envelope-1")
	if err != nil || !created {
		t.Fatalf("replayed OpenAnomaly: created %v, %v", created, err)
	}
	equal(t, "replayed OpenAnomaly", b, a)
	// Still the same after it was closed and the fingerprint reopened.
	mustDecide(t, s, a.ID, record(triage.Intermittent, "U1", at(1)), "d1")
	c := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "envelope-2")
	b, created, err = s.OpenAnomaly(ctx, newAnomaly("prod", "pods/x"), "envelope-1")
	if err != nil || !created || b.ID != a.ID {
		t.Fatalf("late replay: #%d created %v, %v; want #%d", b.ID, created, err, a.ID)
	}
	if tl := mustTimeline(t, s, a.ID); len(tl) != 2 {
		t.Errorf("%d entries, want 2: %+v", len(tl), tl)
	}
	checkConsistent(t, s, a.ID)
	checkConsistent(t, s, c.ID)
}

func testOpenAnomalyInvalid(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	bad := newAnomaly("prod", "")
	bad.Link = "grafana"
	_, _, err := s.OpenAnomaly(ctx, bad, "k1")
	wantInvalid(t, "OpenAnomaly without a fingerprint", err, "fingerprint")
	wantInvalid(t, "OpenAnomaly with a bad link", err, "link")
	_, _, err = s.OpenAnomaly(ctx, newAnomaly("prod", "x"), strings.Repeat("k", opsbot.MaxIDLen+1))
	wantInvalid(t, "OpenAnomaly with a long key", err, "key")
	if l := mustListOpen(t, s, ""); len(l) != 0 {
		t.Errorf("invalid anomalies were written: %+v", l)
	}
	// Nothing was written, not even an id or the key.
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "x"), "k1")
	if a.ID != 1 {
		t.Errorf("first anomaly has id %d, want 1", a.ID)
	}
}

func testLinkThread(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "o1")

	b, err := s.LinkThread(ctx, a.ID, "C0OPS", "1763888400.000100", "link:1")
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.Channel, want.ThreadTS, want.Version = "C0OPS", "1763888400.000100", 2
	equal(t, "linked", b, want)
	equal(t, "Get after LinkThread", mustGet(t, s, a.ID), b)

	// Replayed, and linked again to the same thread with another key: no change.
	for _, key := range []string{"link:1", "link:2", ""} {
		c, err := s.LinkThread(ctx, a.ID, "C0OPS", "1763888400.000100", key)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "linked again ("+key+")", c, b)
	}
	// Another thread: not recorded (compare-and-set, see threads.go); the
	// anomaly comes back with the thread already linked.
	c, err := s.LinkThread(ctx, a.ID, "C0OPS", "1763888999.000200", "link:3")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "linked to another thread", c, b)
	_, tl := checkConsistent(t, s, a.ID)
	if tl[1].Kind != triage.KindThreadLinked || tl[1].Actor != opsbot.ActorBot || tl[1].IdempotencyKey != "link:1" {
		t.Errorf("entry 2 = %+v", tl[1])
	}

	_, err = s.LinkThread(ctx, a.ID, "", "1.2", "link:4")
	wantInvalid(t, "LinkThread without a channel", err, "channel")
	equal(t, "after an invalid LinkThread", mustGet(t, s, a.ID), c)
}

func testDecide(t *testing.T, o Opener) {
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "o1")

	steps := []struct {
		d     triage.Decision
		state triage.State
	}{
		{triage.NotEnoughInformation, triage.Open},
		{triage.Undetermined, triage.Open},
		{triage.Serious, triage.Closed},
		{triage.Intermittent, triage.Closed},
		{triage.Noise, triage.Closed},
		{triage.Undetermined, triage.Open},
	}
	prev := a
	for i, st := range steps {
		r := record(st.d, "U0BOB", at(i+1))
		b := mustDecide(t, s, a.ID, r, "view:"+st.d.String()+string(rune('a'+i)))
		want := prev
		want.Version, want.State, want.Decision = prev.Version+1, st.state, &r
		equal(t, "after deciding "+st.d.String(), b, want)
		equal(t, "Get after deciding "+st.d.String(), mustGet(t, s, a.ID), b)
		prev = b
	}
	_, tl := checkConsistent(t, s, a.ID)
	if len(tl) != 1+len(steps) || tl[1].Kind != triage.KindDecided || tl[2].Kind != triage.KindDecisionChanged ||
		tl[2].Data.Previous != triage.NotEnoughInformation {
		t.Errorf("timeline = %+v", tl)
	}
	// Every follow-up field round-trips, on the anomaly and on the timeline.
	for _, e := range tl[1:] {
		r := record(e.Data.Decision.Decision, "U0BOB", e.At)
		equal(t, "record on the timeline", *e.Data.Decision, r)
	}
}

func testDecideIdempotent(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "o1")
	r := record(triage.Serious, "U0BOB", at(1))
	first := mustDecide(t, s, a.ID, r, "view:V1")
	second, err := s.Decide(ctx, a.ID, r, "view:V1")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "replayed Decide", second, first)
	// A replay with different content (a buggy retry) changes nothing either.
	third, err := s.Decide(ctx, a.ID, record(triage.Noise, "U0BOB", at(2)), "view:V1")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "replayed Decide with other content", third, first)
	if _, tl := checkConsistent(t, s, a.ID); len(tl) != 2 {
		t.Errorf("%d timeline entries, want 2", len(tl))
	}
}

func testDecideInvalid(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "o1")
	mustDecide(t, s, a.ID, record(triage.Intermittent, "U1", at(1)), "d1")
	before := takeSnapshot(t, s, a.ID)

	cases := []struct {
		field  string
		mutate func(*triage.DecisionRecord)
	}{
		{"conclusion", func(r *triage.DecisionRecord) { r.Conclusion = " " }},
		{"usersAffected", func(r *triage.DecisionRecord) { r.Decision = triage.Serious }},
		{"ticket", func(r *triage.DecisionRecord) { r.Ticket = "OPS-1" }},
		{"decision", func(r *triage.DecisionRecord) { r.Decision = 0 }},
		{"conclusion", func(r *triage.DecisionRecord) { r.Conclusion = strings.Repeat("x", triage.MaxTextLen+1) }},
	}
	for i, c := range cases {
		r := record(triage.Undetermined, "U2", at(2))
		c.mutate(&r)
		key := "bad-" + string(rune('a'+i))
		_, err := s.Decide(ctx, a.ID, r, key)
		wantInvalid(t, "Decide with a bad "+c.field, err, c.field)
		// The key was not consumed: a valid decision can use it.
		if i == len(cases)-1 {
			equal(t, "after invalid decisions", takeSnapshot(t, s, a.ID), before)
			mustDecide(t, s, a.ID, record(triage.Undetermined, "U2", at(3)), key)
		}
	}
	checkConsistent(t, s, a.ID)
}

func testKeyReusedElsewhere(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "k-open")
	b := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/y"), "")
	mustDecide(t, s, a.ID, record(triage.Noise, "U1", at(1)), "k-decide")
	before := takeSnapshot(t, s, a.ID, b.ID)

	_, err := s.Decide(ctx, b.ID, record(triage.Noise, "U1", at(1)), "k-decide")
	wantErr(t, "Decide on another anomaly with a used key", err, opsbot.ErrConflict)
	_, err = s.Decide(ctx, a.ID, record(triage.Noise, "U1", at(1)), "k-open")
	wantErr(t, "Decide with the key of an opening", err, opsbot.ErrConflict)
	_, err = s.LinkThread(ctx, a.ID, "C1", "1.1", "k-decide")
	wantErr(t, "LinkThread with the key of a decision", err, opsbot.ErrConflict)
	_, _, err = s.OpenAnomaly(ctx, newAnomaly("prod", "pods/z"), "k-decide")
	wantErr(t, "OpenAnomaly with the key of a decision", err, opsbot.ErrConflict)
	_, _, err = s.RecordSighting(ctx, "prod", "pods/x", 0, at(2), "k-decide")
	wantErr(t, "RecordSighting with the key of a decision", err, opsbot.ErrConflict)
	_, err = s.Escalate(ctx, a.ID, triage.Escalation{At: at(2), Actor: "U1", Reason: "r"}, "k-open")
	wantErr(t, "Escalate with the key of an opening", err, opsbot.ErrConflict)
	equal(t, "after conflicting keys", takeSnapshot(t, s, a.ID, b.ID), before)
}

func testNotFound(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	const id = 404
	_, err := s.Get(ctx, id)
	wantErr(t, "Get", err, triage.ErrNotFound)
	_, err = s.Timeline(ctx, id)
	wantErr(t, "Timeline", err, triage.ErrNotFound)
	_, err = s.Decide(ctx, id, record(triage.Noise, "U1", t0), "k1")
	wantErr(t, "Decide", err, triage.ErrNotFound)
	_, err = s.LinkThread(ctx, id, "C1", "1.1", "k2")
	wantErr(t, "LinkThread", err, triage.ErrNotFound)
	_, err = s.Escalate(ctx, id, triage.Escalation{At: t0, Actor: "U1", Reason: "r"}, "k3")
	wantErr(t, "Escalate", err, triage.ErrNotFound)
	_, err = s.FindOpen(ctx, "prod", "nothing")
	wantErr(t, "FindOpen", err, triage.ErrNotFound)
	a, found, err := s.RecordSighting(ctx, "prod", "nothing", 0, t0, "k4")
	if err != nil || found || a.ID != 0 {
		t.Errorf("RecordSighting of an unknown fingerprint = %+v, %v, %v", a, found, err)
	}
	if l := mustListOpen(t, s, ""); len(l) != 0 {
		t.Errorf("ListOpen = %+v", l)
	}
}

func testListOpenFindOpen(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	p1 := newAnomaly("prod", "a")
	p1.OpenedAt = at(10)
	p2 := newAnomaly("prod", "b")
	p2.OpenedAt = at(5) // opened later, but earlier: listed first
	pp := newAnomaly("preprod", "a")
	a1 := mustOpenAnomaly(t, s, p1, "")
	a2 := mustOpenAnomaly(t, s, p2, "")
	a3 := mustOpenAnomaly(t, s, pp, "")
	a4 := mustOpenAnomaly(t, s, newAnomaly("prod", "c"), "")
	mustDecide(t, s, a4.ID, record(triage.Intermittent, "U1", at(20)), "")

	ids := func(l []triage.Anomaly) []int64 {
		var out []int64
		for _, a := range l {
			out = append(out, a.ID)
		}
		return out
	}
	equal(t, "ListOpen(prod)", ids(mustListOpen(t, s, "prod")), []int64{a2.ID, a1.ID})
	equal(t, "ListOpen(preprod)", ids(mustListOpen(t, s, "preprod")), []int64{a3.ID})
	equal(t, "ListOpen()", ids(mustListOpen(t, s, "")), []int64{a3.ID, a2.ID, a1.ID})
	equal(t, "ListOpen(dev)", ids(mustListOpen(t, s, "dev")), []int64(nil))
	equal(t, "ListOpen element", mustListOpen(t, s, "preprod")[0], a3)

	got, err := s.FindOpen(ctx, "prod", "a")
	if err != nil || got.ID != a1.ID {
		t.Errorf("FindOpen(prod, a) = #%d, %v", got.ID, err)
	}
	_, err = s.FindOpen(ctx, "prod", "c")
	wantErr(t, "FindOpen of a closed anomaly", err, triage.ErrNotFound)
	// NotEnoughInformation keeps it open.
	mustDecide(t, s, a1.ID, record(triage.NotEnoughInformation, "U1", at(30)), "")
	if got, err := s.FindOpen(ctx, "prod", "a"); err != nil || got.ID != a1.ID {
		t.Errorf("FindOpen after Not enough information = #%d, %v", got.ID, err)
	}
}

func testRecordSighting(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "")

	b, found, err := s.RecordSighting(ctx, "prod", "pods/x", 0, at(60), "run1/pods/x")
	if err != nil || !found {
		t.Fatalf("RecordSighting = %v, %v", found, err)
	}
	want := a
	want.SeenCount, want.LastSeenAt, want.Version = 2, at(60), 2
	equal(t, "after a sighting", b, want)
	// The same run reported twice: counted once.
	c, found, err := s.RecordSighting(ctx, "prod", "pods/x", 0, at(61), "run1/pods/x")
	if err != nil || !found {
		t.Fatalf("replayed RecordSighting = %v, %v", found, err)
	}
	equal(t, "after a replayed sighting", c, b)
	// An older sighting arriving late counts, but LastSeenAt stays the latest.
	c, _, err = s.RecordSighting(ctx, "prod", "pods/x", 0, at(30), "run0/pods/x")
	if err != nil || c.SeenCount != 3 || !c.LastSeenAt.Equal(at(60)) {
		t.Fatalf("late sighting = %+v, %v", c, err)
	}
	_, tl := checkConsistent(t, s, a.ID)
	if e := tl[len(tl)-1]; e.Kind != triage.KindSeenAgain || e.Actor != triage.ActorChecklist || !e.At.Equal(at(30)) {
		t.Errorf("last entry = %+v", e)
	}

	// Closed, it still collects sightings (that is how Intermittent recurs)...
	mustDecide(t, s, a.ID, record(triage.Intermittent, "U1", at(90)), "")
	c, found, err = s.RecordSighting(ctx, "prod", "pods/x", 0, at(120), "run2/pods/x")
	if err != nil || !found || c.ID != a.ID || c.SeenCount != 4 {
		t.Fatalf("sighting of a closed anomaly = #%d %d, %v, %v", c.ID, c.SeenCount, found, err)
	}
	// ...until the fingerprint is investigated anew: the open one gets them.
	n := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "")
	d, _, err := s.RecordSighting(ctx, "prod", "pods/x", 0, at(150), "run3/pods/x")
	if err != nil || d.ID != n.ID || d.SeenCount != 2 {
		t.Fatalf("sighting with an open anomaly = #%d %d, %v; want #%d", d.ID, d.SeenCount, err, n.ID)
	}
	// And once that one is closed too, the latest gets them.
	mustDecide(t, s, n.ID, record(triage.Noise, "U1", at(160)), "")
	d, _, err = s.RecordSighting(ctx, "prod", "pods/x", 0, at(170), "run4/pods/x")
	if err != nil || d.ID != n.ID {
		t.Fatalf("sighting with two closed anomalies = #%d, %v; want #%d", d.ID, err, n.ID)
	}
	// A replay of run2's key still answers with the anomaly it counted on.
	e, found, err := s.RecordSighting(ctx, "prod", "pods/x", 0, at(120), "run2/pods/x")
	if err != nil || !found || e.ID != a.ID {
		t.Fatalf("late replay = #%d, %v, %v; want #%d", e.ID, found, err, a.ID)
	}
	_, _, err = s.RecordSighting(ctx, "prod", "", 0, at(170), "")
	wantInvalid(t, "RecordSighting without a fingerprint", err, "fingerprint")
	checkConsistent(t, s, a.ID)
	checkConsistent(t, s, n.ID)
}

// testMagnitude: how big a finding was is kept from its opening and each
// sighting (the latest by time wins), and a decision records it as it was
// when decided, whatever the caller gives; it survives a restart, and a
// magnitude that is not a finite number, 0 or more, is refused.
func testMagnitude(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	in := newAnomaly("prod", "logs/shop/api/timeout")
	in.Magnitude = 12
	a := mustOpenAnomaly(t, s, in, "o1")
	if a.Magnitude != 12 || mustGet(t, s, a.ID).Magnitude != 12 {
		t.Fatalf("opened with magnitude %v, stored %v; want 12", a.Magnitude, mustGet(t, s, a.ID).Magnitude)
	}
	b, _, err := s.RecordSighting(ctx, "prod", in.Fingerprint, 30.5, at(60), "run1")
	if err != nil || b.Magnitude != 30.5 {
		t.Fatalf("after a sighting of 30.5: %v, %v", b.Magnitude, err)
	}
	// A late sighting (an older run) is counted but is not the size now.
	if b, _, err = s.RecordSighting(ctx, "prod", in.Fingerprint, 5, at(30), "run0"); err != nil || b.Magnitude != 30.5 {
		t.Fatalf("after a late sighting of 5: %v, %v", b.Magnitude, err)
	}
	r := record(triage.Noise, "U0BOB", at(61))
	r.Magnitude = 999 // the store's to set
	d := mustDecide(t, s, a.ID, r, "d1")
	if d.Decision.Magnitude != 30.5 {
		t.Fatalf("decided with magnitude %v, want 30.5 (the anomaly's)", d.Decision.Magnitude)
	}
	if tl := mustTimeline(t, s, a.ID); tl[len(tl)-1].Data.Decision.Magnitude != 30.5 {
		t.Errorf("the timeline's decision records magnitude %v", tl[len(tl)-1].Data.Decision.Magnitude)
	}
	// It grows: the anomaly's magnitude follows, the decision's stays.
	if b, _, err = s.RecordSighting(ctx, "prod", in.Fingerprint, 305, at(120), "run2"); err != nil ||
		b.Magnitude != 305 || b.Decision.Magnitude != 30.5 {
		t.Fatalf("after growing: %v (decided %v), %v", b.Magnitude, b.Decision.Magnitude, err)
	}
	for _, m := range []float64{-1, math.NaN(), math.Inf(1)} {
		_, _, err = s.RecordSighting(ctx, "prod", in.Fingerprint, m, at(130), "bad")
		wantInvalid(t, fmt.Sprintf("RecordSighting of magnitude %v", m), err, "magnitude")
	}
	bad := newAnomaly("prod", "logs/other")
	bad.Magnitude = math.NaN()
	_, _, err = s.OpenAnomaly(ctx, bad, "o2")
	wantInvalid(t, "OpenAnomaly of magnitude NaN", err, "magnitude")
	checkConsistent(t, s, a.ID)

	s.Close()
	s = open(t, o)
	got := mustGet(t, s, a.ID)
	if got.Magnitude != 305 || got.Decision.Magnitude != 30.5 {
		t.Errorf("after a restart: magnitude %v, decided %v", got.Magnitude, got.Decision.Magnitude)
	}
	if _, err := s.FindOpen(ctx, "prod", "logs/other"); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("the refused anomaly was opened: %v", err)
	}
}

// testKeyUsed: a key is used once a write with it is recorded, whichever
// handle asks; the empty key never is.
func testKeyUsed(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	for _, key := range []string{"", "decide:V1"} {
		if used, err := s.KeyUsed(ctx, key); err != nil || used {
			t.Fatalf("KeyUsed(%q) before any write = %v, %v", key, used, err)
		}
	}
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/keyused"), "open:1")
	mustDecide(t, s, a.ID, record(triage.Noise, "U1", at(1)), "decide:V1")
	// Another handle on the same database (another replica) knows it too.
	if used, err := open(t, o).KeyUsed(ctx, "decide:V1"); err != nil || !used {
		t.Errorf("KeyUsed on another handle = %v, %v; want true", used, err)
	}
	if used, err := s.KeyUsed(ctx, "decide:V1"); err != nil || !used {
		t.Errorf("KeyUsed after the decision = %v, %v; want true", used, err)
	}
	if used, err := s.KeyUsed(ctx, ""); err != nil || used {
		t.Errorf(`KeyUsed("") = %v, %v; want false`, used, err)
	}
}
