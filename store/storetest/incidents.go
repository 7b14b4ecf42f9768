package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/store"
)

// incidentTests are the incident.Store and Claim cases of the suite.
var incidentTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"IncidentAnnounce", testIncidentAnnounce},
	{"IncidentAnnounceIdempotent", testIncidentAnnounceIdempotent},
	{"IncidentAnnounceFromAnomaly", testIncidentAnnounceFromAnomaly},
	{"IncidentAnnounceInvalid", testIncidentAnnounceInvalid},
	{"IncidentMessageAndFindByThread", testIncidentMessage},
	{"IncidentMessageResolved", testIncidentMessageResolved},
	{"IncidentUpdatesOrdered", testIncidentUpdates},
	{"IncidentStatusPage", testIncidentStatusPage},
	{"IncidentResolve", testIncidentResolve},
	{"IncidentConcurrentResolve", testIncidentConcurrentResolve},
	{"IncidentConcurrentAnnounceSameKey", testIncidentConcurrentAnnounceSameKey},
	{"IncidentListOpen", testIncidentListOpen},
	{"IncidentRestart", testIncidentRestart},
	{"IncidentCrashBeforeCommit", testIncidentCrashBeforeCommit},
	{"Claim", testClaim},
	{"ConcurrentClaim", testConcurrentClaim},
}

// incidentNow is the stores' clock in the incident cases: two hours after
// t0, so that times around t0 are not in the future.
func incidentNow() time.Time { return at(120) }

func openIncidents(t *testing.T, o Opener, opts ...store.Option) (Store, *store.Incidents) {
	t.Helper()
	s := open(t, o, append([]store.Option{store.WithClock(incidentNow)}, opts...)...)
	return s, s.Incidents()
}

func newIncident(env string) incident.Incident {
	return incident.Incident{
		Environment: env,
		Channel:     "C0MAIN",
		From:        t0,
		UserImpact:  "Checkout fails for about 20% of users <!channel> & more",
		What:        "payments API returns 502\nsince the 09:00 deploy",
		AnnouncedBy: "U0ALICE",
		AnnouncedAt: at(3),
		StatusPage:  incident.StatusPage{Enabled: true},
	}
}

func mustAnnounce(t *testing.T, s incident.Store, in incident.Incident, key string) incident.Incident {
	t.Helper()
	i, created, err := s.Announce(context.Background(), in, key)
	if err != nil || !created {
		t.Fatalf("Announce(%s): created %v, %v", key, created, err)
	}
	return i
}

func mustGetIncident(t *testing.T, s incident.Store, id int64) incident.Incident {
	t.Helper()
	i, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get incident %d: %v", id, err)
	}
	return i
}

func mustIncidentTimeline(t *testing.T, s incident.Store, id int64) []incident.TimelineEntry {
	t.Helper()
	tl, err := s.Timeline(context.Background(), id)
	if err != nil {
		t.Fatalf("Timeline of incident %d: %v", id, err)
	}
	return tl
}

func mustListOpenIncidents(t *testing.T, s incident.Store, env string) []incident.Incident {
	t.Helper()
	l, err := s.ListOpen(context.Background(), env)
	if err != nil {
		t.Fatalf("ListOpen(%q): %v", env, err)
	}
	return l
}

func ids(l []incident.Incident) []int64 {
	out := []int64{}
	for _, i := range l {
		out = append(out, i.ID)
	}
	return out
}

// checkIncidentConsistent checks that the incident is what its timeline
// says: entries numbered 1..Version, the announced entry first and only
// there, the message of the message_posted entry, the status page that
// the statuspage_* entries give when applied in order (each one a change),
// and the resolution of the one resolved entry.
func checkIncidentConsistent(t *testing.T, s incident.Store, id int64) (incident.Incident, []incident.TimelineEntry) {
	t.Helper()
	i := mustGetIncident(t, s, id)
	tl := mustIncidentTimeline(t, s, id)
	if int64(len(tl)) != i.Version {
		t.Errorf("incident %d: version %d but %d timeline entries", id, i.Version, len(tl))
	}
	var (
		channel, ts string
		text        string
		edited      bool
		state       = incident.Open
		until       time.Time
		by          string
		sp          = incident.StatusPage{Enabled: i.StatusPage.Enabled}
		keys        = map[string]bool{}
	)
	if sp.Enabled {
		sp.State = incident.StatusPagePending
	}
	for n, e := range tl {
		if e.IncidentID != id || e.Seq != int64(n+1) {
			t.Errorf("incident %d: entry %d is (incident %d, seq %d)", id, n, e.IncidentID, e.Seq)
		}
		if e.IdempotencyKey != "" {
			if keys[e.IdempotencyKey] {
				t.Errorf("incident %d: key %q twice", id, e.IdempotencyKey)
			}
			keys[e.IdempotencyKey] = true
		}
		if (n == 0) != (e.Kind == incident.KindAnnounced) {
			t.Errorf("incident %d: entry %d is %s", id, e.Seq, e.Kind)
		}
		switch e.Kind {
		case incident.KindAnnounced:
			if e.Actor != i.AnnouncedBy || !e.At.Equal(i.AnnouncedAt) {
				t.Errorf("incident %d: announced entry %+v", id, e)
			}
		case incident.KindMessagePosted:
			if ts != "" {
				t.Errorf("incident %d: a second message_posted entry %+v", id, e)
			}
			channel, ts, text = e.Data.Channel, e.Data.MessageTS, e.Data.Message
		case incident.KindMessageEdited:
			if edited || state != incident.Resolved || ts == "" {
				t.Errorf("incident %d: message_edited entry %d (edited before %v, %s, message %q)", id, e.Seq, edited, state, ts)
			}
			edited = true
		case incident.KindUpdated:
			if state != incident.Open {
				t.Errorf("incident %d: update %d after the resolution", id, e.Seq)
			}
		case incident.KindResolved:
			if state != incident.Open {
				t.Errorf("incident %d: resolved twice", id)
			}
			state, until, by = incident.Resolved, e.Data.Until, e.Actor
		case incident.KindStatusPageCreated, incident.KindStatusPageUpdated, incident.KindStatusPageFailed,
			incident.KindStatusPageResolved, incident.KindStatusPageSkipped:
			ev := incident.StatusPageEvent{Kind: e.Kind, At: e.At, StatusPageID: e.Data.StatusPageID, Key: e.Data.Key,
				UpdateSeq: e.Data.UpdateSeq, Op: e.Data.Op, Error: e.Data.Error, Retryable: e.Data.Retryable}
			next, changed, err := sp.Apply(state, ev)
			if err != nil || !changed {
				t.Errorf("incident %d: entry %d (%s) does not follow: changed %v, %v", id, e.Seq, e.Kind, changed, err)
			}
			sp = next
		default:
			t.Errorf("incident %d: entry %d of unknown kind %q", id, e.Seq, e.Kind)
		}
	}
	if i.MessageTS != ts || (ts != "" && i.Channel != channel) || i.MessageText != text || i.MessageResolved != edited {
		t.Errorf("incident %d: message %s/%s %q (resolved %v); timeline says %s/%s %q (resolved %v)", id,
			i.Channel, i.MessageTS, i.MessageText, i.MessageResolved, channel, ts, text, edited)
	}
	if i.State != state || !i.Until.Equal(until) || i.ResolvedBy != by {
		t.Errorf("incident %d: %s until %v by %q; timeline says %s until %v by %q", id,
			i.State, i.Until, i.ResolvedBy, state, until, by)
	}
	equal(t, fmt.Sprintf("incident %d: status page vs timeline", id), i.StatusPage, sp)
	return i, tl
}

func testIncidentAnnounce(t *testing.T, o Opener) {
	ctx := context.Background()
	_, s := openIncidents(t, o)
	in := newIncident("prod")
	i := mustAnnounce(t, s, in, "announce:V1")
	want := in
	want.ID, want.State, want.Version = 1, incident.Open, 1
	want.StatusPage.State = incident.StatusPagePending
	equal(t, "announced", i, want)
	equal(t, "Get after Announce", mustGetIncident(t, s, i.ID), i)
	_, tl := checkIncidentConsistent(t, s, i.ID)
	equal(t, "timeline", tl, []incident.TimelineEntry{{IncidentID: 1, Seq: 1, At: at(3), Actor: "U0ALICE",
		Kind: incident.KindAnnounced, IdempotencyKey: "announce:V1"}})

	// Without the status page; another incident, with a larger id. Two
	// incidents may be open at once (they are not deduplicated by text).
	in.StatusPage.Enabled = false
	j := mustAnnounce(t, s, in, "")
	if j.ID <= i.ID || j.StatusPage != (incident.StatusPage{}) {
		t.Errorf("second incident: %+v", j)
	}
	equal(t, "open incidents", ids(mustListOpenIncidents(t, s, "")), []int64{i.ID, j.ID})

	for _, id := range []int64{0, 99} {
		if _, err := s.Get(ctx, id); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("Get(%d): %v", id, err)
		}
		if _, err := s.Timeline(ctx, id); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("Timeline(%d): %v", id, err)
		}
		if _, _, err := s.Resolve(ctx, id, at(10), "U1", ""); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("Resolve(%d): %v", id, err)
		}
	}
}

func testIncidentAnnounceIdempotent(t *testing.T, o Opener) {
	ctx := context.Background()
	_, s := openIncidents(t, o)
	i := mustAnnounce(t, s, newIncident("prod"), "announce:V1")
	// The modal's submission retried, even with other text: the same
	// incident, reported as created by this key, nothing written.
	other := newIncident("prod")
	other.What = "something else"
	j, created, err := s.Announce(ctx, other, "announce:V1")
	if err != nil || !created {
		t.Fatalf("replayed Announce: created %v, %v", created, err)
	}
	equal(t, "replayed Announce", j, i)
	if tl := mustIncidentTimeline(t, s, i.ID); len(tl) != 1 {
		t.Errorf("%d entries after a replay", len(tl))
	}
	// The key of an announcement used for another write is a conflict.
	if _, err := s.SetMessage(ctx, i.ID, "C0MAIN", "1.1", "", "announce:V1"); !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("SetMessage with the announcement's key: %v", err)
	}
	// The next incident has the next id: the replay took none.
	if k := mustAnnounce(t, s, newIncident("prod"), "announce:V2"); k.ID != i.ID+1 {
		t.Errorf("next incident #%d, want #%d", k.ID, i.ID+1)
	}
	checkIncidentConsistent(t, s, i.ID)
}

func testIncidentAnnounceFromAnomaly(t *testing.T, o Opener) {
	ctx := context.Background()
	ts, s := openIncidents(t, o)
	a := mustOpenAnomaly(t, ts, newAnomaly("prod", "pods/x"), "")
	in := newIncident("prod")
	in.AnomalyID = a.ID
	i := mustAnnounce(t, s, in, "announce:V1")
	if i.AnomalyID != a.ID {
		t.Errorf("AnomalyID = %d", i.AnomalyID)
	}
	// Announcing again from the same anomaly (another person, another
	// modal) leads to the same incident, nothing written.
	j, created, err := s.Announce(ctx, in, "announce:V2")
	if err != nil || created {
		t.Fatalf("second announcement from the anomaly: created %v, %v", created, err)
	}
	equal(t, "second announcement from the anomaly", j, i)
	// Once it is resolved, a new incident may be announced from it.
	if _, changed, err := s.Resolve(ctx, i.ID, at(30), "U0BOB", ""); err != nil || !changed {
		t.Fatalf("Resolve: %v, %v", changed, err)
	}
	k := mustAnnounce(t, s, in, "announce:V3")
	if k.ID == i.ID {
		t.Errorf("announcement after the resolution returned the resolved incident")
	}
	// An anomaly that does not exist.
	in.AnomalyID = 999
	_, _, err = s.Announce(ctx, in, "announce:V4")
	wantInvalid(t, "Announce of a missing anomaly", err, "anomalyId")
	checkIncidentConsistent(t, s, i.ID)
	checkIncidentConsistent(t, s, k.ID)
}

func testIncidentAnnounceInvalid(t *testing.T, o Opener) {
	ctx := context.Background()
	_, s := openIncidents(t, o)
	bad := newIncident("prod")
	bad.UserImpact, bad.What = "  ", strings.Repeat("x", incident.MaxWhatLen+1)
	bad.From = incidentNow().Add(incident.MaxClockSkew + time.Minute)
	_, _, err := s.Announce(ctx, bad, "k1")
	wantInvalid(t, "Announce without user impact", err, "userImpact")
	wantInvalid(t, "Announce with a long what", err, "what")
	wantInvalid(t, "Announce from the future", err, "from")
	_, _, err = s.Announce(ctx, newIncident("prod"), strings.Repeat("k", opsbot.MaxIDLen+1))
	wantInvalid(t, "Announce with a long key", err, "key")
	if l := mustListOpenIncidents(t, s, ""); len(l) != 0 {
		t.Errorf("invalid incidents were written: %+v", l)
	}
	// Nothing was written, not even an id or the key.
	if i := mustAnnounce(t, s, newIncident("prod"), "k1"); i.ID != 1 {
		t.Errorf("first incident has id %d, want 1", i.ID)
	}
	// A few minutes ahead is clock skew, not the future.
	ok := newIncident("prod")
	ok.From, ok.AnnouncedAt = incidentNow().Add(time.Minute), incidentNow()
	mustAnnounce(t, s, ok, "k2")
}

// announcementText is an announcement as posted: several lines, escaped,
// with a trailing new line that must be kept.
const announcementText = "📟 Degraded service\nFrom: 2026-11-24 09:30 GMT\n" +
	"User impact: Checkout fails &lt;!channel&gt; &amp; more\nWhat: 502s\nInvestigation in progress.\n"

// testIncidentMessageResolved: the edit of the announcement of a resolved
// incident is recorded once; not before it is resolved, nor without an
// announcement.
func testIncidentMessageResolved(t *testing.T, o Opener) {
	ctx := context.Background()
	_, s := openIncidents(t, o)
	i := mustAnnounce(t, s, newIncident("prod"), "")
	noMessage := mustAnnounce(t, s, newIncident("prod"), "")
	const edited = announcementText + "\n✅ Resolved\nUntil: 2026-11-24 10:30 GMT"
	if _, err := s.SetMessage(ctx, i.ID, "C0MAIN", "1.1", announcementText, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetMessageResolved(ctx, i.ID, edited, ""); !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("the edit of an open incident's announcement: %v", err)
	}
	if _, changed, err := s.Resolve(ctx, i.ID, at(60), "U0BOB", ""); err != nil || !changed {
		t.Fatalf("Resolve: %v, %v", changed, err)
	}
	got := mustGetIncident(t, s, i.ID)
	if got.MessageResolved || !got.AnnouncementLags() {
		t.Errorf("resolved, not edited: %+v", got)
	}
	if _, err := s.SetMessageResolved(ctx, i.ID, "", ""); !errors.Is(err, opsbot.ErrInvalid) {
		t.Errorf("an empty text: %v", err)
	}
	res, err := s.SetMessageResolved(ctx, i.ID, edited, "edit:1")
	if err != nil {
		t.Fatal(err)
	}
	want := got
	want.MessageResolved, want.Version = true, got.Version+1
	equal(t, "after SetMessageResolved", res, want)
	equal(t, "Get after SetMessageResolved", mustGetIncident(t, s, i.ID), want)
	if res.AnnouncementLags() || res.MessageText != announcementText {
		t.Errorf("edited: %+v", res)
	}
	// Again, replayed or with another key: no change.
	for _, key := range []string{"edit:1", "edit:2", ""} {
		if again, err := s.SetMessageResolved(ctx, i.ID, edited, key); err != nil || again.Version != want.Version {
			t.Errorf("SetMessageResolved again (%q): version %d, %v", key, again.Version, err)
		}
	}
	_, tl := checkIncidentConsistent(t, s, i.ID)
	if last := tl[len(tl)-1]; last.Kind != incident.KindMessageEdited || last.Data.Message != edited ||
		last.Actor != opsbot.ActorBot || last.IdempotencyKey != "edit:1" {
		t.Errorf("message_edited entry: %+v", last)
	}

	// Resolved without an announcement: nothing to edit.
	if _, _, err := s.Resolve(ctx, noMessage.ID, at(60), "U0BOB", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetMessageResolved(ctx, noMessage.ID, edited, ""); !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("the edit of an incident without an announcement: %v", err)
	}
	if got := mustGetIncident(t, s, noMessage.ID); got.AnnouncementLags() {
		t.Errorf("a resolved incident without an announcement lags: %+v", got)
	}
	checkIncidentConsistent(t, s, noMessage.ID)
}

func testIncidentMessage(t *testing.T, o Opener) {
	ctx := context.Background()
	_, s := openIncidents(t, o)
	i := mustAnnounce(t, s, newIncident("prod"), "")
	j := mustAnnounce(t, s, newIncident("prod"), "")
	if _, err := s.FindByThread(ctx, "C0MAIN", ""); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("FindByThread of an empty ts: %v", err)
	}

	got, err := s.SetMessage(ctx, i.ID, "C0MAIN", "1764000000.000100", announcementText, "m1")
	if err != nil {
		t.Fatal(err)
	}
	want := i
	want.MessageTS, want.MessageText, want.Version = "1764000000.000100", announcementText, 2
	equal(t, "after SetMessage", got, want)
	equal(t, "Get after SetMessage", mustGetIncident(t, s, i.ID), want)
	if _, tl := checkIncidentConsistent(t, s, i.ID); tl[1].Data.Message != announcementText {
		t.Errorf("message_posted entry %+v, want the text", tl[1])
	}
	// The same message again, replayed or with another key: no change.
	for _, key := range []string{"m1", "m2", ""} {
		again, err := s.SetMessage(ctx, i.ID, "C0MAIN", "1764000000.000100", announcementText, key)
		if err != nil || again.Version != 2 {
			t.Errorf("SetMessage again (%q): version %d, %v", key, again.Version, err)
		}
	}
	// Another message: the first one stays the incident's.
	if _, err := s.SetMessage(ctx, i.ID, "C0MAIN", "1764000000.000200", "", ""); !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("a second message: %v", err)
	}
	// The message of another incident.
	if _, err := s.SetMessage(ctx, j.ID, "C0MAIN", "1764000000.000100", "", ""); !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("the message of another incident: %v", err)
	}
	if _, err := s.SetMessage(ctx, j.ID, "C0MAIN", "", "", ""); !errors.Is(err, opsbot.ErrInvalid) {
		t.Errorf("an empty ts: %v", err)
	}

	found, err := s.FindByThread(ctx, "C0MAIN", "1764000000.000100")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "FindByThread", found, got)
	for _, c := range [][2]string{{"C0MAIN", "1764000000.000200"}, {"C0OTHER", "1764000000.000100"}} {
		if _, err := s.FindByThread(ctx, c[0], c[1]); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("FindByThread(%s, %s): %v", c[0], c[1], err)
		}
	}
	_, tl := checkIncidentConsistent(t, s, i.ID)
	if e := tl[1]; e.Kind != incident.KindMessagePosted || e.Actor != opsbot.ActorBot || !e.At.Equal(incidentNow()) {
		t.Errorf("message_posted entry: %+v", e)
	}
	checkIncidentConsistent(t, s, j.ID)
}

func testIncidentUpdates(t *testing.T, o Opener) {
	ctx := context.Background()
	_, s := openIncidents(t, o)
	i := mustAnnounce(t, s, newIncident("prod"), "")
	u1 := incident.Update{Text: "rolled back the deploy", By: "U0BOB", At: at(10), Public: true}
	_, got, err := s.AddUpdate(ctx, i.ID, u1, "update:V1")
	if err != nil {
		t.Fatal(err)
	}
	want := u1
	want.IncidentID, want.Seq = i.ID, 2
	equal(t, "added update", got, want)
	// Replayed: the same update, nothing written.
	inc, again, err := s.AddUpdate(ctx, i.ID, incident.Update{Text: "other", By: "U0X", At: at(11)}, "update:V1")
	if err != nil || inc.Version != 2 {
		t.Fatalf("replayed AddUpdate: version %d, %v", inc.Version, err)
	}
	equal(t, "replayed update", again, want)

	// Several people at once, then one from a thread message.
	const n = 6
	errs := make([]error, n)
	run(n, func(k int) {
		_, _, errs[k] = s.AddUpdate(ctx, i.ID, incident.Update{Text: fmt.Sprintf("update %d", k),
			By: fmt.Sprintf("U%d", k), At: at(12 + k)}, fmt.Sprintf("update:c%d", k))
	})
	for k, err := range errs {
		if err != nil {
			t.Errorf("concurrent AddUpdate %d: %v", k, err)
		}
	}
	_, last, err := s.AddUpdate(ctx, i.ID, incident.Update{Text: "  multi\nline  ", By: "U0BOB", At: at(20),
		ThreadTS: "1764000000.000900"}, "")
	if err != nil || last.Text != "multi\nline" || last.ThreadTS != "1764000000.000900" {
		t.Errorf("update from a thread message: %+v, %v", last, err)
	}

	_, tl := checkIncidentConsistent(t, s, i.ID)
	ups := incident.Updates(tl)
	if len(ups) != n+2 {
		t.Fatalf("%d updates, want %d", len(ups), n+2)
	}
	equal(t, "first update", ups[0], want)
	equal(t, "last update", ups[len(ups)-1], last)
	texts := map[string]bool{}
	for k, u := range ups {
		if k > 0 && u.Seq <= ups[k-1].Seq {
			t.Errorf("updates out of order: %d after %d", u.Seq, ups[k-1].Seq)
		}
		texts[u.Text] = true
	}
	for k := range n {
		if !texts[fmt.Sprintf("update %d", k)] {
			t.Errorf("update %d is missing", k)
		}
	}

	_, _, err = s.AddUpdate(ctx, i.ID, incident.Update{Text: "", By: "U1", At: at(21)}, "")
	wantInvalid(t, "empty update", err, "text")
	_, _, err = s.AddUpdate(ctx, i.ID, incident.Update{Text: "x", By: "U1", At: incidentNow().Add(time.Hour)}, "")
	wantInvalid(t, "update from the future", err, "at")
	// No updates once resolved.
	if _, _, err := s.Resolve(ctx, i.ID, at(30), "U0BOB", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddUpdate(ctx, i.ID, incident.Update{Text: "late", By: "U1", At: at(31)}, ""); !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("update of a resolved incident: %v", err)
	}
	// The replay still answers after the resolution.
	if _, again, err := s.AddUpdate(ctx, i.ID, u1, "update:V1"); err != nil || again.Seq != 2 {
		t.Errorf("replay after the resolution: %+v, %v", again, err)
	}
	checkIncidentConsistent(t, s, i.ID)
}

func spEvent(kind incident.Kind, minutes int) incident.StatusPageEvent {
	return incident.StatusPageEvent{Kind: kind, At: at(minutes)}
}

func testIncidentStatusPage(t *testing.T, o Opener) {
	ctx := context.Background()
	_, s := openIncidents(t, o)
	i := mustAnnounce(t, s, newIncident("prod"), "")
	set := func(ev incident.StatusPageEvent, key string) (incident.Incident, error) {
		return s.SetStatusPage(ctx, i.ID, ev, key)
	}

	// A failed create: recorded, still pending.
	fail := spEvent(incident.KindStatusPageFailed, 4)
	fail.Op, fail.Error, fail.Retryable, fail.Key = incident.OpCreate, "statuspage: HTTP 503", true, "opsbot-incident-1"
	got, err := set(fail, "")
	if err != nil {
		t.Fatal(err)
	}
	if sp := got.StatusPage; sp.State != incident.StatusPagePending || sp.LastError != "statuspage: HTTP 503" ||
		sp.Key != "opsbot-incident-1" {
		t.Errorf("after a failure: %+v", sp)
	}
	// Retried: created.
	created := spEvent(incident.KindStatusPageCreated, 5)
	created.StatusPageID, created.Key = "p1abc", "opsbot-incident-1"
	if got, err = set(created, "sp:created"); err != nil {
		t.Fatal(err)
	}
	equal(t, "after the create", got.StatusPage, incident.StatusPage{Enabled: true, IncidentID: "p1abc",
		Key: "opsbot-incident-1", State: incident.StatusPageOpen})
	// Recorded again (another caller, another key): nothing written.
	if again, err := set(created, "sp:created:2"); err != nil || again.Version != got.Version {
		t.Errorf("created again: version %d, %v", again.Version, err)
	}
	// A second status page incident is a conflict.
	other := created
	other.StatusPageID = "p2xyz"
	if _, err := set(other, ""); !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("a second status page incident: %v", err)
	}
	// Resolving on the page while the incident is open is a conflict.
	if _, err := set(spEvent(incident.KindStatusPageResolved, 6), ""); !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("status page resolved while open: %v", err)
	}
	upd := spEvent(incident.KindStatusPageUpdated, 7)
	upd.UpdateSeq = 3
	if _, err := set(upd, "sp:update:3"); err != nil {
		t.Fatal(err)
	}
	if _, err := set(incident.StatusPageEvent{Kind: "statuspage_exploded", At: at(7)}, ""); !errors.Is(err, opsbot.ErrInvalid) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, _, err := s.Resolve(ctx, i.ID, at(40), "U0BOB", ""); err != nil {
		t.Fatal(err)
	}
	if got, err = set(spEvent(incident.KindStatusPageResolved, 41), "sp:resolved"); err != nil {
		t.Fatal(err)
	}
	if got.StatusPage.State != incident.StatusPageResolved || got.StatusPage.NeedsSync(got.State) {
		t.Errorf("after resolving: %+v", got.StatusPage)
	}
	checkIncidentConsistent(t, s, i.ID)

	// Resolved before it was created on the page: skipped.
	j := mustAnnounce(t, s, newIncident("prod"), "")
	if !j.StatusPage.NeedsSync(j.State) {
		t.Error("a pending status page needs no sync")
	}
	if _, _, err := s.Resolve(ctx, j.ID, at(40), "U0BOB", ""); err != nil {
		t.Fatal(err)
	}
	got, err = s.SetStatusPage(ctx, j.ID, spEvent(incident.KindStatusPageSkipped, 41), "")
	if err != nil || got.StatusPage.State != incident.StatusPageSkipped || got.StatusPage.NeedsSync(got.State) {
		t.Errorf("skipped: %+v, %v", got.StatusPage, err)
	}
	checkIncidentConsistent(t, s, j.ID)

	// Not on the status page at all.
	in := newIncident("prod")
	in.StatusPage.Enabled = false
	k := mustAnnounce(t, s, in, "")
	if _, err := s.SetStatusPage(ctx, k.ID, created, ""); !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("status page event of an incident without one: %v", err)
	}
}

func testIncidentResolve(t *testing.T, o Opener) {
	ctx := context.Background()
	_, s := openIncidents(t, o)
	i := mustAnnounce(t, s, newIncident("prod"), "")

	_, _, err := s.Resolve(ctx, i.ID, t0.Add(-time.Minute), "U0BOB", "")
	wantInvalid(t, "until before from", err, "until")
	_, _, err = s.Resolve(ctx, i.ID, incidentNow().Add(time.Hour), "", "")
	wantInvalid(t, "until in the future", err, "until")
	wantInvalid(t, "resolve without a name", err, "by")

	got, changed, err := s.Resolve(ctx, i.ID, at(85), "U0BOB", "resolve:V1")
	if err != nil || !changed {
		t.Fatalf("Resolve: changed %v, %v", changed, err)
	}
	want := i
	want.State, want.Until, want.ResolvedBy, want.Version = incident.Resolved, at(85), "U0BOB", 2
	equal(t, "resolved", got, want)
	if d := got.Duration(); d != 85*time.Minute {
		t.Errorf("Duration = %v", d)
	}
	// Replayed: changed again (the caller finishes its steps), nothing written.
	again, changed, err := s.Resolve(ctx, i.ID, at(90), "U0BOB", "resolve:V1")
	if err != nil || !changed {
		t.Errorf("replayed Resolve: changed %v, %v", changed, err)
	}
	equal(t, "replayed Resolve", again, got)
	// Resolved twice (another person): nothing changes.
	for _, key := range []string{"resolve:V2", ""} {
		again, changed, err = s.Resolve(ctx, i.ID, at(95), "U0CAROL", key)
		if err != nil || changed {
			t.Errorf("second Resolve (%q): changed %v, %v", key, changed, err)
		}
		equal(t, "second Resolve", again, got)
	}
	_, tl := checkIncidentConsistent(t, s, i.ID)
	if len(tl) != 2 || tl[1].Kind != incident.KindResolved || !tl[1].At.Equal(incidentNow()) ||
		!tl[1].Data.Until.Equal(at(85)) {
		t.Errorf("timeline: %+v", tl)
	}
	if l := mustListOpenIncidents(t, s, ""); len(l) != 0 {
		t.Errorf("a resolved incident is listed as open: %+v", l)
	}
}

// testIncidentConcurrentResolve: several people resolve at once: exactly
// one changes the incident, one resolved entry, and every caller gets the
// incident as it ends.
func testIncidentConcurrentResolve(t *testing.T, o Opener) {
	ctx := context.Background()
	_, s := openIncidents(t, o)
	for round := range 3 {
		i := mustAnnounce(t, s, newIncident("prod"), "")
		const n = 6
		var won atomic.Int32
		got := make([]incident.Incident, n)
		errs := make([]error, n)
		run(n, func(k int) {
			var changed bool
			got[k], changed, errs[k] = s.Resolve(ctx, i.ID, at(60+k), fmt.Sprintf("U%d", k), fmt.Sprintf("resolve:%d:%d", round, k))
			if changed {
				won.Add(1)
			}
		})
		for k, err := range errs {
			if err != nil {
				t.Fatalf("Resolve %d: %v", k, err)
			}
		}
		if won.Load() != 1 {
			t.Errorf("round %d: %d resolves changed the incident, want 1", round, won.Load())
		}
		final, tl := checkIncidentConsistent(t, s, i.ID)
		for k := range n {
			equal(t, fmt.Sprintf("round %d: incident seen by resolver %d", round, k), got[k], final)
		}
		if len(tl) != 2 {
			t.Errorf("round %d: %d timeline entries, want 2", round, len(tl))
		}
	}
}

func testIncidentConcurrentAnnounceSameKey(t *testing.T, o Opener) {
	ctx := context.Background()
	_, s := openIncidents(t, o)
	const n = 6
	got := make([]incident.Incident, n)
	errs := make([]error, n)
	run(n, func(k int) { got[k], _, errs[k] = s.Announce(ctx, newIncident("prod"), "announce:V1") })
	for k := range n {
		if errs[k] != nil {
			t.Fatalf("Announce %d: %v", k, errs[k])
		}
		equal(t, fmt.Sprintf("incident of announcer %d", k), got[k], got[0])
	}
	if l := mustListOpenIncidents(t, s, ""); len(l) != 1 {
		t.Errorf("%d incidents, want 1", len(l))
	}
}

func testIncidentListOpen(t *testing.T, o Opener) {
	ctx := context.Background()
	_, s := openIncidents(t, o)
	mk := func(env string, fromMinutes int) incident.Incident {
		in := newIncident(env)
		in.From, in.AnnouncedAt = at(fromMinutes), at(fromMinutes+1)
		return mustAnnounce(t, s, in, "")
	}
	a := mk("prod", 30)
	b := mk("preprod", 10)
	c := mk("prod", 20)
	d := mk("prod", 20)
	equal(t, "open, oldest first", ids(mustListOpenIncidents(t, s, "")), []int64{b.ID, c.ID, d.ID, a.ID})
	equal(t, "open in prod", ids(mustListOpenIncidents(t, s, "prod")), []int64{c.ID, d.ID, a.ID})
	equal(t, "open in dev", ids(mustListOpenIncidents(t, s, "dev")), []int64{})
	if _, _, err := s.Resolve(ctx, c.ID, at(40), "U1", ""); err != nil {
		t.Fatal(err)
	}
	l := mustListOpenIncidents(t, s, "prod")
	equal(t, "open in prod after a resolution", ids(l), []int64{d.ID, a.ID})
	equal(t, "listed incident", l[1], mustGetIncident(t, s, a.ID))
}

type incidentSnapshot struct {
	Incidents []incident.Incident
	Timelines [][]incident.TimelineEntry
	Open      []incident.Incident
}

func takeIncidentSnapshot(t *testing.T, s incident.Store, ids ...int64) incidentSnapshot {
	t.Helper()
	var sn incidentSnapshot
	for _, id := range ids {
		sn.Incidents = append(sn.Incidents, mustGetIncident(t, s, id))
		sn.Timelines = append(sn.Timelines, mustIncidentTimeline(t, s, id))
	}
	sn.Open = mustListOpenIncidents(t, s, "")
	return sn
}

// testIncidentRestart: everything survives a restart (the database opened
// again), keys included, and an incident announced before it is resolved
// after it.
func testIncidentRestart(t *testing.T, o Opener) {
	ctx := context.Background()
	st, err := o(ctx, store.WithClock(incidentNow))
	if err != nil {
		t.Fatal(err)
	}
	s := st.Incidents()
	i := mustAnnounce(t, s, newIncident("prod"), "announce:V1")
	j := mustAnnounce(t, s, newIncident("preprod"), "announce:V2")
	if _, err := s.SetMessage(ctx, i.ID, "C0MAIN", "1.1", announcementText, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddUpdate(ctx, i.ID, incident.Update{Text: "looking", By: "U1", At: at(5)}, "update:V3"); err != nil {
		t.Fatal(err)
	}
	created := spEvent(incident.KindStatusPageCreated, 6)
	created.StatusPageID = "p1"
	if _, err := s.SetStatusPage(ctx, i.ID, created, ""); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.Claim(ctx, "checklist/2026-11-23T09:30Z"); err != nil || !ok {
		t.Fatalf("Claim: %v, %v", ok, err)
	}
	before := takeIncidentSnapshot(t, s, i.ID, j.ID)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	st, s = openIncidents(t, o)
	equal(t, "after a restart", takeIncidentSnapshot(t, s, i.ID, j.ID), before)
	if got, err := s.FindByThread(ctx, "C0MAIN", "1.1"); err != nil || got.ID != i.ID {
		t.Errorf("FindByThread after a restart: #%d, %v", got.ID, err)
	}
	// Keys are remembered.
	if again, created, err := s.Announce(ctx, newIncident("prod"), "announce:V1"); err != nil || !created || again.ID != i.ID {
		t.Errorf("replayed Announce after a restart: #%d %v, %v", again.ID, created, err)
	}
	if _, u, err := s.AddUpdate(ctx, i.ID, incident.Update{Text: "x", By: "U1", At: at(7)}, "update:V3"); err != nil || u.Text != "looking" {
		t.Errorf("replayed AddUpdate after a restart: %+v, %v", u, err)
	}
	if ok, err := st.Claim(ctx, "checklist/2026-11-23T09:30Z"); err != nil || ok {
		t.Errorf("Claim after a restart: %v, %v; want false", ok, err)
	}
	// Resolving works, once.
	got, changed, err := s.Resolve(ctx, i.ID, at(60), "U0BOB", "resolve:V4")
	if err != nil || !changed || got.State != incident.Resolved {
		t.Fatalf("Resolve after a restart: %+v %v, %v", got, changed, err)
	}
	if _, changed, err := s.Resolve(ctx, i.ID, at(61), "U0CAROL", "resolve:V5"); err != nil || changed {
		t.Errorf("second Resolve after a restart: %v, %v", changed, err)
	}
	if k := mustAnnounce(t, s, newIncident("prod"), ""); k.ID != j.ID+1 {
		t.Errorf("new incident #%d after a restart, want #%d", k.ID, j.ID+1)
	}
	checkIncidentConsistent(t, s, i.ID)
	checkIncidentConsistent(t, s, j.ID)
}

// testIncidentCrashBeforeCommit interrupts every incident write just before
// COMMIT: nothing of it remains, and the retried call succeeds once.
func testIncidentCrashBeforeCommit(t *testing.T, o Opener) {
	f := &faults{}
	st, s := openIncidents(t, o, store.WithBeforeCommit(f.hook))
	i := mustAnnounce(t, s, newIncident("prod"), "")
	created := spEvent(incident.KindStatusPageCreated, 6)
	created.StatusPageID = "p1"
	writes := []struct {
		op string
		do func(ctx context.Context, key string) error
	}{
		{store.OpAnnounce, func(ctx context.Context, key string) error {
			_, _, err := s.Announce(ctx, newIncident("prod"), key)
			return err
		}},
		{store.OpSetMessage, func(ctx context.Context, key string) error {
			_, err := s.SetMessage(ctx, i.ID, "C0MAIN", "1.1", announcementText, key)
			return err
		}},
		{store.OpAddUpdate, func(ctx context.Context, key string) error {
			_, _, err := s.AddUpdate(ctx, i.ID, incident.Update{Text: key, By: "U1", At: at(5)}, key)
			return err
		}},
		{store.OpSetStatusPage, func(ctx context.Context, key string) error {
			_, err := s.SetStatusPage(ctx, i.ID, created, key)
			return err
		}},
		{store.OpResolve, func(ctx context.Context, key string) error {
			_, _, err := s.Resolve(ctx, i.ID, at(60), "U1", key)
			return err
		}},
		{store.OpSetMessageResolved, func(ctx context.Context, key string) error {
			_, err := s.SetMessageResolved(ctx, i.ID, announcementText+"\n✅ Resolved", key)
			return err
		}},
		{store.OpClaim, func(ctx context.Context, key string) error {
			_, err := st.Claim(ctx, key)
			return err
		}},
	}
	for _, w := range writes {
		key := w.op + "-crash"
		before := takeIncidentSnapshot(t, s, i.ID)
		f.arm(w.op, nil)
		err := w.do(context.Background(), key)
		if !f.fired || !errors.Is(err, errCrash) {
			t.Fatalf("%s: fired %v, error %v", w.op, f.fired, err)
		}
		equal(t, w.op+" left", takeIncidentSnapshot(t, s, i.ID), before)
		if err := w.do(context.Background(), key); err != nil {
			t.Fatalf("%s retried: %v", w.op, err)
		}
		if err := w.do(context.Background(), key); err != nil {
			t.Fatalf("%s replayed: %v", w.op, err)
		}
		checkIncidentConsistent(t, s, i.ID)
	}
	if ok, err := st.Claim(context.Background(), store.OpClaim+"-crash"); err != nil || ok {
		t.Errorf("the claim made after the crash is not there: %v, %v", ok, err)
	}
	// The interrupted announcement left no gap in the ids.
	equal(t, "open incidents", ids(mustListOpenIncidents(t, s, "")), []int64{2})
}

func testClaim(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	for _, c := range []struct {
		key  string
		want bool
	}{
		{"checklist/2026-11-24T09:30Z", true},
		{"checklist/2026-11-24T09:30Z", false},
		{"checklist/2026-11-25T09:30Z", true},
		{"checklist-preprod/2026-11-24T09:30Z", true},
		{"checklist/2026-11-24T09:30Z", false},
	} {
		if got, err := s.Claim(ctx, c.key); err != nil || got != c.want {
			t.Errorf("Claim(%s) = %v, %v; want %v", c.key, got, err, c.want)
		}
	}
	for _, bad := range []string{"", strings.Repeat("k", opsbot.MaxIDLen+1)} {
		if _, err := s.Claim(ctx, bad); err == nil {
			t.Errorf("Claim(%.10q…) succeeded", bad)
		}
	}
}

func testConcurrentClaim(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	for round := range 5 {
		key := fmt.Sprintf("checklist/2026-11-%02dT09:30Z", round+1)
		const n = 8
		var won atomic.Int32
		errs := make([]error, n)
		run(n, func(k int) {
			ok, err := s.Claim(ctx, key)
			errs[k] = err
			if ok {
				won.Add(1)
			}
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if won.Load() != 1 {
			t.Errorf("round %d: %d claims won, want 1", round, won.Load())
		}
	}
}
