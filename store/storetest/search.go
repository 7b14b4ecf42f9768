package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/opsbot/opsbot/history"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/triage"
)

// searchTests are the cases of the history search (history.Store).
var searchTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"SearchFields", testSearchFields},
	{"SearchEditedDecision", testSearchEditedDecision},
	{"SearchIncidentTexts", testSearchIncidentTexts},
	{"SearchRanking", testSearchRanking},
	{"SearchRankLimit", testSearchRankLimit},
	{"SearchFilters", testSearchFilters},
	{"SearchQuerySyntax", testSearchQuerySyntax},
}

// historyNow is the clock of the history cases: a day after t0.
func historyNow() time.Time { return at(24 * 60) }

// find runs query on s and returns the ids found and the total.
func find(t testing.TB, s history.Store, query string) ([]int64, int) {
	t.Helper()
	r, err := history.Find(context.Background(), s, query, historyNow())
	if err != nil {
		t.Fatalf("history %q: %v", query, err)
	}
	out := []int64{}
	for _, h := range r.Hits {
		out = append(out, h.AnomalyID)
	}
	return out, r.Total
}

// wantFound checks that query finds exactly the anomalies want, in order.
func wantFound(t testing.TB, s history.Store, query string, want ...int64) {
	t.Helper()
	got, total := find(t, s, query)
	if want == nil {
		want = []int64{}
	}
	if !slices.Equal(got, want) || total != len(want) {
		t.Errorf("history %q found %v (total %d), want %v", query, got, total, want)
	}
}

// wantFoundAny checks that query finds the anomalies want, in any order
// (their ranks differ between the stores' ranking functions).
func wantFoundAny(t testing.TB, s history.Store, query string, want ...int64) {
	t.Helper()
	got, total := find(t, s, query)
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) || total != len(want) {
		t.Errorf("history %q found %v (total %d), want %v in any order", query, got, total, want)
	}
}

// decided opens an anomaly with title on fingerprint and decides it with
// the record r (DecidedAt at minutes after t0).
func decided(t testing.TB, s Store, fingerprint, title string, r triage.DecisionRecord) triage.Anomaly {
	t.Helper()
	a := newAnomaly("prod", fingerprint)
	a.Title = title
	opened, _, err := s.OpenAnomaly(context.Background(), a, "")
	if err != nil {
		t.Fatalf("OpenAnomaly(%s): %v", fingerprint, err)
	}
	got, err := s.Decide(context.Background(), opened.ID, r, "")
	if err != nil {
		t.Fatalf("Decide(#%d): %v", opened.ID, err)
	}
	return got
}

func noiseRecord(minutes int, conclusion, whys, ticket string) triage.DecisionRecord {
	r := record(triage.Noise, "U0ALICE", at(minutes))
	r.Conclusion, r.FiveWhys, r.Ticket = conclusion, whys, ticket
	return r
}

// testSearchFields: an anomaly is found by a word of its title, its
// conclusion, its five whys and its ticket, in any case; a word it does
// not have finds nothing.
func testSearchFields(t *testing.T, o Opener) {
	s := open(t, o)
	a := decided(t, s, "pods/api/crashloop", "Disk pressure on node-7.example.com",
		noiseRecord(10, "the kubelet evicted pods", "1. why? the log volume filled up the disk.",
			"https://jira.example.com/browse/OPS-4711"))
	b := decided(t, s, "pods/web/oom", "web OOM-killed", noiseRecord(20, "a leak", "the cache grows", "https://jira.example.com/browse/OPS-1"))
	for _, q := range []string{"pressure", "NODE", "node-7", "kubelet", "volume", "Filled", "4711", "ops-4711", "jira.example.com/browse/OPS-4711"} {
		wantFound(t, s, q, a.ID)
	}
	wantFound(t, s, "unheard")
	wantFound(t, s, "pressure leak")
	wantFound(t, s, "leak", b.ID)
}

// testSearchEditedDecision: a decision changed later is found by the
// words of the new decision, and no longer by those of the old one only.
func testSearchEditedDecision(t *testing.T, o Opener) {
	s := open(t, o)
	a := decided(t, s, "pods/api/crashloop", "api restarts", noiseRecord(10, "noisy probe", "the probe times out under zebra load", "https://jira.example.com/browse/OPS-1"))
	wantFound(t, s, "zebra", a.ID)
	r := record(triage.Intermittent, "U0BOB", at(30))
	r.Conclusion, r.FiveWhys = "flaky upstream", "1. why? the upstream yak drops connections"
	mustDecide(t, s, a.ID, r, "")
	wantFound(t, s, "yak", a.ID)
	wantFound(t, s, "flaky upstream", a.ID)
	wantFound(t, s, "zebra")
	wantFound(t, s, "probe")
	wantFound(t, s, "restarts", a.ID) // the title stays
}

// testSearchIncidentTexts: an anomaly is found by the texts of the
// incidents announced from it: what, the user impact, every update.
func testSearchIncidentTexts(t *testing.T, o Opener) {
	ctx := context.Background()
	s, inc := openIncidents(t, o)
	a := decided(t, s, "logs/payments/timeout", "payments time out", noiseRecord(10, "a", "b", "https://jira.example.com/browse/OPS-9"))
	in := newIncident("prod")
	in.AnomalyID = a.ID
	in.What, in.UserImpact = "payments gateway unreachable", "checkout fails for walrus customers"
	i := mustAnnounce(t, inc, in, "")
	// An incident not from an anomaly is not a hit (and does not fail).
	mustAnnounce(t, inc, newIncident("prod"), "")
	wantFound(t, s, "gateway", a.ID)
	wantFound(t, s, "walrus", a.ID)
	wantFound(t, s, "capybara")
	if _, _, err := inc.AddUpdate(ctx, i.ID, incident.Update{Text: "rolled back; capybara cache flushed", By: "U0BOB", At: at(40)}, ""); err != nil {
		t.Fatal(err)
	}
	wantFound(t, s, "capybara", a.ID)
	wantFound(t, s, "gateway capybara", a.ID)
}

// testSearchRanking: a word in the title ranks first; equal matches
// come newest first (the anomaly opened last: highest id); Total counts
// every match while the hits stop at the limit. A search by filters only
// lists the newest decisions first.
func testSearchRanking(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	rec := func(minutes int) triage.DecisionRecord {
		return noiseRecord(minutes, "the same text", "ditto", "https://jira.example.com/browse/OPS-1")
	}
	first := decided(t, s, "a/1", "same words here", rec(10))
	second := decided(t, s, "a/2", "same words here", rec(50))
	third := decided(t, s, "a/3", "same words here", rec(30))
	inTitle := decided(t, s, "a/4", "ditto", rec(5))
	wantFound(t, s, "ditto", inTitle.ID, third.ID, second.ID, first.ID)
	wantFound(t, s, "words", third.ID, second.ID, first.ID)
	wantFound(t, s, "fingerprint:a/ decision:noise", second.ID, third.ID, first.ID, inTitle.ID)

	many := make([]triage.Anomaly, 0, history.MaxHits+2)
	for k := range history.MaxHits + 2 {
		many = append(many, decided(t, s, fmt.Sprintf("b/%d", k), "ocelot alarm", rec(100+k)))
	}
	ids, total := find(t, s, "ocelot")
	if total != history.MaxHits+2 || len(ids) != history.MaxHits || ids[0] != many[len(many)-1].ID {
		t.Errorf("ocelot: %v, total %d: want the %d newest of %d", ids, total, history.MaxHits, len(many))
	}
	hits, n, err := s.SearchHistory(ctx, history.Search{Query: history.Query{Words: []string{"ocelot"}}, Limit: 1})
	if err != nil || len(hits) != 1 || n != len(many) || hits[0].ID != many[len(many)-1].ID {
		t.Errorf("limit 1: %d hits, total %d, %v", len(hits), n, err)
	}
	if _, _, err := s.SearchHistory(ctx, history.Search{Query: history.Query{Words: []string{"x"}}}); err == nil {
		t.Error("a search with no limit did not fail")
	}
}

// testSearchRankLimit: when more anomalies match than the store ranks
// (history.MaxRanked, lowered here to 3), the newest of them are ranked:
// an older anomaly with the words in its title, which would rank first,
// is not returned, and the total still counts every match. The same for
// a phrase and with filters; below the limit, ranking is unchanged.
func testSearchRankLimit(t *testing.T, o Opener) {
	s := open(t, o, store.WithRankLimit(3))
	rec := func(minutes int) triage.DecisionRecord {
		return noiseRecord(minutes, "the ocelot alarm rang again", "ditto", "https://jira.example.com/browse/OPS-1")
	}
	best := decided(t, s, "c/0", "ocelot alarm", rec(10))
	var newer []int64
	for k := range 4 {
		if k == 2 {
			// As many matches as the limit: all ranked, the title first.
			wantFound(t, s, "ocelot", best.ID, newer[1], newer[0])
		}
		newer = append(newer, decided(t, s, fmt.Sprintf("c/%d", k+1), "rang", rec(20+k)).ID)
	}
	want := []int64{newer[3], newer[2], newer[1]} // equal ranks: newest first
	for _, q := range []string{"ocelot", `"ocelot alarm"`, "ocelot decision:noise", "alarm fingerprint:c/ since:1d"} {
		got, total := find(t, s, q)
		if !slices.Equal(got, want) || total != 5 {
			t.Errorf("history %q found %v (total %d), want %v (total 5): the 3 newest matches ranked", q, got, total, want)
		}
	}
}

// testSearchFilters: fingerprint:, decision: and since: narrow a search,
// alone or with words; quoted phrases match consecutive words only.
func testSearchFilters(t *testing.T, o Opener) {
	s := open(t, o)
	apiOld := decided(t, s, "pods/api/crashloop", "api disk pressure", noiseRecord(10, "x", "y", "https://jira.example.com/browse/OPS-1"))
	r := record(triage.Intermittent, "U0BOB", at(23*60))
	r.Conclusion = "pressure disk again"
	apiNew := decided(t, s, "pods/api-gw/crashloop", "api gateway", r)
	logs := decided(t, s, "logs/api/errors", "api errors", noiseRecord(22*60, "x", "y", "https://jira.example.com/browse/OPS-1"))
	undecided := mustOpenAnomaly(t, s, newAnomaly("dev", "pods/api/pending"), "")

	wantFoundAny(t, s, "api fingerprint:pods/api", undecided.ID, apiNew.ID, apiOld.ID)
	wantFoundAny(t, s, "api fingerprint:pods/api/", undecided.ID, apiOld.ID)
	wantFoundAny(t, s, "fingerprint:logs/", logs.ID)
	wantFoundAny(t, s, "fingerprint:Pods/") // case matters: fingerprints are ids
	wantFoundAny(t, s, "api decision:noise", logs.ID, apiOld.ID)
	wantFoundAny(t, s, "decision:intermittent", apiNew.ID)
	wantFoundAny(t, s, "decision:serious")
	// A day after t0: since:3h keeps what was decided (or, undecided,
	// opened) from 21:00 on the first day.
	wantFoundAny(t, s, "api since:3h", apiNew.ID, logs.ID)
	wantFoundAny(t, s, "since:30d decision:noise fingerprint:pods", apiOld.ID)
	wantFoundAny(t, s, `"disk pressure"`, apiOld.ID)
	wantFoundAny(t, s, `“pressure disk”`, apiNew.ID)
	wantFoundAny(t, s, `disk pressure`, apiNew.ID, apiOld.ID)
}

// testSearchQuerySyntax: what the full-text syntaxes read as operators
// (FTS5's AND, NEAR, column filters, prefixes; tsquery's &, |, !, :*) is
// searched as words or ignored, never an error.
func testSearchQuerySyntax(t *testing.T, o Opener) {
	s := open(t, o)
	a := decided(t, s, "pods/api/crashloop", "NOT AND OR near the title", noiseRecord(10, "x", "y", "https://jira.example.com/browse/OPS-1"))
	for _, q := range []string{`NOT`, `AND OR`, `NEAR(title near)`, `title:near`, `not*`, `^near`, `'near'`,
		`!not & (and | or):*`, `near\`, `"NOT AND"`, `near -not`, `{title}: not`, `near + and`} {
		wantFound(t, s, q, a.ID)
	}
	for _, q := range []string{`NEAR(q z)`, `zz*`, `"or near" nothing`} {
		wantFound(t, s, q)
	}
	// Words given to the store as they are, not through Parse: its
	// quoting holds.
	for _, w := range []string{`'`, `''`, `\`, `\'`, `"`, `a:*`, `!`, `&`, `|`, `(`, `)`, `<->`, `<2>`, `:A`, `NEAR(`, `*`, `^`, `-`, `+`, ``, " "} {
		q := history.Query{Words: []string{w}, Phrases: [][]string{{w, "near"}}}
		if _, _, err := s.SearchHistory(context.Background(), history.Search{Query: q, Limit: 1}); err != nil {
			t.Errorf("search for the word %q: %v", w, err)
		}
	}
}

// CheckHistoryBackfill checks, on db (migrated by the backend's Open, of
// store s), that the history migration indexes the anomalies already
// there: it is rolled back, an anomaly is written, and it is applied again.
func CheckHistoryBackfill(t *testing.T, db *sql.DB, dialect goose.Dialect, s Store) {
	t.Helper()
	ctx := context.Background()
	p, err := store.NewMigrationProvider(db, dialect)
	if err != nil {
		t.Fatal(err)
	}
	before := decided(t, s, "pods/api/crashloop", "written before", noiseRecord(10, "x", "the quokka", "https://jira.example.com/browse/OPS-1"))
	if _, err := p.DownTo(ctx, 11); err != nil {
		t.Fatalf("roll the history migration back: %v", err)
	}
	var nosearch *history.QueryError
	if _, err := history.Find(ctx, s, "quokka", historyNow()); err == nil || errors.As(err, &nosearch) {
		t.Fatalf("search without the index: %v", err)
	}
	a := newAnomaly("prod", "logs/x/y")
	a.Title = "written without the index: wombat"
	without := mustOpenAnomaly(t, s, a, "")
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("apply the history migration again: %v", err)
	}
	wantFound(t, s, "quokka", before.ID)
	wantFound(t, s, "wombat", without.ID)
}
