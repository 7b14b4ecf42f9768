package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/store"
)

// runTests are the cases of SaveRun and RunFinding, which keep the findings
// behind a checklist report's Investigate buttons.
var runTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"SaveRunRunFinding", testSaveRun},
	{"RunRetention", testRunRetention},
	{"SaveRunAtomic", testSaveRunAtomic},
	{"ConcurrentSaveRun", testConcurrentSaveRun},
	{"LastRunFindings", testLastRunFindings},
}

// testLastRunFindings: the findings of an environment's latest run, those
// whose fingerprint has the prefix, in report order; none before the
// first run; not another environment's; after a restart too.
func testLastRunFindings(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	if f, ok, err := s.LastRunFindings(ctx, "prod", "security/"); err != nil || ok || f != nil {
		t.Fatalf("before any run: %v, ok %v, %v; want none, not ok", f, ok, err)
	}
	vuln := func(object string, items ...string) checks.Finding {
		f := runFinding("security", object, "vulnerabilities")
		f.Items = items
		return f
	}
	old := vuln("Deployment shop/api", "CVE-2024-1")
	api := vuln("Deployment shop/api", "CVE-2024-1", "CVE-2024-2")
	db := vuln("StatefulSet shop/db", "CVE-2024-3")
	crash := runFinding("pods", "Deployment shop/api", "CrashLoopBackOff")
	mustSaveRun(t, s, runReport("prod", []checks.Finding{old}))
	mustSaveRun(t, s, runReport("prod", []checks.Finding{crash}, []checks.Finding{api, db}))
	mustSaveRun(t, s, runReport("dev", []checks.Finding{vuln("Deployment dev/x", "CVE-2024-9")}))
	check := func(s Store) {
		t.Helper()
		got, ok, err := s.LastRunFindings(ctx, "prod", "security/")
		if err != nil || !ok {
			t.Fatalf("LastRunFindings = ok %v, %v", ok, err)
		}
		equal(t, "the last prod run's security findings", got, []checks.Finding{api, db})
		got, ok, err = s.LastRunFindings(ctx, "prod", "logs/")
		if err != nil || !ok || len(got) != 0 {
			t.Errorf("no finding with the prefix: %v, ok %v, %v; want none, ok", got, ok, err)
		}
	}
	check(s)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.LastRunFindings(cancelled, "prod", ""); err == nil {
		t.Error("LastRunFindings with a cancelled context succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(open(t, o))
}

func runFinding(check, object, title string) checks.Finding {
	return checks.Finding{
		Fingerprint: checks.Fingerprint(check, object, title), Severity: checks.Fail, Object: object,
		Title: title, Detail: "sample <line> & more\nsecond line", Count: 3,
		Link: "https://grafana.example.com/d/x?a=1&b=2",
	}
}

func runReport(env string, findings ...[]checks.Finding) checks.Report {
	var results []checks.Result
	for i, fs := range findings {
		results = append(results, checks.Result{Check: fmt.Sprintf("check%d", i), Status: checks.Summarize(fs),
			Summary: fmt.Sprintf("%d findings", len(fs)), Findings: fs})
	}
	return checks.NewReport(env, t0, t0.Add(42*time.Second), results)
}

func mustSaveRun(t *testing.T, s Store, rep checks.Report) int64 {
	t.Helper()
	id, err := s.SaveRun(context.Background(), rep, "C0OPS", "1700000000.000100")
	if err != nil || id <= 0 {
		t.Fatalf("SaveRun(%s) = %d, %v", rep.Environment, id, err)
	}
	return id
}

// wantFinding checks that finding idx of run id is want, in env.
func wantFinding(t *testing.T, s Store, id int64, idx int, env string, want checks.Finding) {
	t.Helper()
	f, e, ok, err := s.RunFinding(context.Background(), id, idx)
	if err != nil || !ok || e != env {
		t.Fatalf("RunFinding(%d, %d) = ok %v, env %q, %v; want %q", id, idx, ok, e, err, env)
	}
	equal(t, fmt.Sprintf("finding %d of run %d", idx, id), f, want)
}

// wantNoFinding checks that RunFinding knows no finding idx of run id.
func wantNoFinding(t *testing.T, s Store, id int64, idx int) {
	t.Helper()
	f, env, ok, err := s.RunFinding(context.Background(), id, idx)
	if err != nil || ok {
		t.Errorf("RunFinding(%d, %d) = %+v, %q, ok %v, %v; want not found", id, idx, f, env, ok, err)
	}
}

// testSaveRun: findings numbered across checks in report order, read back
// exactly (untrusted text included), per run, after a restart; ids never
// reused; no run, no finding.
func testSaveRun(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	crash := runFinding("pods", "Deployment shop/api", "CrashLoopBackOff")
	odd := runFinding("logs", "pod shop/api-7d9f-xyz", "<!channel> panic: nil map")
	odd.Detail = "NUL \x00 here, an invalid byte \xff, emoji 🔥 and <@U0ALICE>"
	odd.Fingerprint += "/\x00"
	odd.Severity = checks.Warn
	bare := checks.Finding{Fingerprint: "http/storefront/timeout", Severity: checks.Fail, Title: "timed out"}
	id1 := mustSaveRun(t, s, runReport("prod", []checks.Finding{crash, odd}, nil, []checks.Finding{bare}))
	id2 := mustSaveRun(t, s, runReport("dev", nil))
	if id2 <= id1 {
		t.Errorf("second run id %d, first %d: want increasing", id2, id1)
	}

	// An invalid byte comes back as U+FFFD; everything else as it was.
	oddBack := odd
	oddBack.Detail = "NUL \x00 here, an invalid byte \uFFFD, emoji 🔥 and <@U0ALICE>"
	check := func(s Store) {
		t.Helper()
		wantFinding(t, s, id1, 0, "prod", crash)
		wantFinding(t, s, id1, 1, "prod", oddBack)
		wantFinding(t, s, id1, 2, "prod", bare)
		for _, c := range []struct {
			id  int64
			idx int
		}{{id1, 3}, {id1, -1}, {id2, 0}, {id2 + 100, 0}, {0, 0}, {-1, 0}} {
			wantNoFinding(t, s, c.id, c.idx)
		}
	}
	check(s)

	if _, err := s.SaveRun(ctx, runReport(" "), "C0OPS", "1.2"); err == nil {
		t.Error("SaveRun without an environment succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.SaveRun(cancelled, runReport("prod", []checks.Finding{crash}), "C0OPS", "1.3"); err == nil {
		t.Error("SaveRun with a cancelled context succeeded")
	}
	if _, _, _, err := s.RunFinding(cancelled, id1, 0); err == nil {
		t.Error("RunFinding with a cancelled context succeeded")
	}

	// Restarted (or another replica): the same answers, and ids go on.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, o)
	check(s)
	if id3 := mustSaveRun(t, s, runReport("prod", []checks.Finding{bare})); id3 <= id2 {
		t.Errorf("run id %d after a restart, the last was %d: ids must not be reused", id3, id2)
	}
}

// testRunRetention: a run is kept RunRetention (by the store's clock):
// not returned after it, and deleted by the next SaveRun.
func testRunRetention(t *testing.T, o Opener) {
	var mu sync.Mutex
	now := t0
	setNow := func(at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		now = at
	}
	s := open(t, o, store.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}))
	f := runFinding("pods", "Deployment shop/api", "OOMKilled")
	g := runFinding("pods", "Deployment shop/web", "OOMKilled")
	old := mustSaveRun(t, s, runReport("prod", []checks.Finding{f}))
	setNow(t0.Add(29 * 24 * time.Hour))
	recent := mustSaveRun(t, s, runReport("prod", []checks.Finding{g}))

	setNow(t0.Add(store.RunRetention))
	wantFinding(t, s, old, 0, "prod", f) // exactly RunRetention old: still kept
	setNow(t0.Add(store.RunRetention + time.Nanosecond))
	wantNoFinding(t, s, old, 0)
	wantFinding(t, s, recent, 0, "prod", g)

	// The next write deletes it: with the clock set back, it is gone.
	setNow(t0.Add(31 * 24 * time.Hour))
	mustSaveRun(t, s, runReport("prod", []checks.Finding{g}))
	setNow(t0.Add(24 * time.Hour))
	wantNoFinding(t, s, old, 0)
	wantFinding(t, s, recent, 0, "prod", g)
}

// testSaveRunAtomic: a SaveRun interrupted before COMMIT leaves neither
// the run, nor its findings, nor an advanced id counter.
func testSaveRunAtomic(t *testing.T, o Opener) {
	var fail sync.Mutex
	failing := false
	errCrash := errors.New("crash before commit")
	s := open(t, o, store.WithBeforeCommit(func(_ context.Context, op string) error {
		fail.Lock()
		defer fail.Unlock()
		if failing && op == store.OpSaveRun {
			return errCrash
		}
		return nil
	}))
	setFailing := func(v bool) {
		fail.Lock()
		defer fail.Unlock()
		failing = v
	}
	first := runFinding("pods", "a", "first")
	lost := runFinding("pods", "b", "lost")
	third := runFinding("pods", "c", "third")
	id1 := mustSaveRun(t, s, runReport("prod", []checks.Finding{first}))
	setFailing(true)
	if _, err := s.SaveRun(context.Background(), runReport("prod", []checks.Finding{lost, lost}), "C0OPS", "1.2"); !errors.Is(err, errCrash) {
		t.Fatalf("SaveRun with a crash before commit = %v", err)
	}
	wantNoFinding(t, s, id1+1, 0)
	setFailing(false)
	// The next run takes the id the lost one would have had.
	id3 := mustSaveRun(t, s, runReport("prod", []checks.Finding{third}))
	if id3 != id1+1 {
		t.Errorf("run id %d after a rolled-back save, want %d", id3, id1+1)
	}
	wantFinding(t, s, id3, 0, "prod", third)
	wantNoFinding(t, s, id3, 1)
	wantFinding(t, s, id1, 0, "prod", first)
}

// testConcurrentSaveRun: runs saved at once (replicas, or the schedule and
// a user) get distinct ids and keep their own findings.
func testConcurrentSaveRun(t *testing.T, o Opener) {
	s := open(t, o)
	const n = 8
	ids := make([]int64, n)
	errs := make([]error, n)
	many := func(i int) []checks.Finding {
		var fs []checks.Finding
		for j := range 150 { // more than one INSERT's worth
			fs = append(fs, runFinding("logs", fmt.Sprintf("run %d", i), fmt.Sprintf("error %d", j)))
		}
		return fs
	}
	run(n, func(i int) {
		ids[i], errs[i] = s.SaveRun(context.Background(), runReport(fmt.Sprintf("env%d", i), many(i)), "C0OPS", fmt.Sprintf("1.%d", i))
	})
	seen := map[int64]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("SaveRun %d: %v", i, errs[i])
		}
		if seen[ids[i]] {
			t.Errorf("run id %d given twice", ids[i])
		}
		seen[ids[i]] = true
	}
	for i := range n {
		fs := many(i)
		for _, j := range []int{0, 99, 100, 149} {
			wantFinding(t, s, ids[i], j, fmt.Sprintf("env%d", i), fs[j])
		}
		wantNoFinding(t, s, ids[i], 150)
	}
}
