package incident_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/redact"
	"github.com/opsbot/opsbot/statuspage"
	"github.com/opsbot/opsbot/statuspage/statuspagetest"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/sqlite"
	"github.com/opsbot/opsbot/templates"
)

// t0 is when the impact starts: 09:30 in London, in winter (GMT).
var t0 = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

// clock is the test's clock, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// call is one call of the fake Slack.
type call struct {
	Method, Channel, TS, Text string
}

// fakeSlack records posts, edits and replies; failNext makes the next calls
// of a method fail.
type fakeSlack struct {
	mu    sync.Mutex
	calls []call
	fail  map[string]int
	next  int
	// afterPost, if set, runs after a post succeeded, before Post
	// returns: what another replica does meanwhile.
	afterPost func()
}

var errSlack = errors.New("slack: ratelimited")

func (f *fakeSlack) failNext(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.fail = map[string]int{}
	}
	f.fail[method] = n
}

func (f *fakeSlack) do(method, channel, ts, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[method] > 0 {
		f.fail[method]--
		return errSlack
	}
	f.calls = append(f.calls, call{method, channel, ts, text})
	return nil
}

func (f *fakeSlack) Post(_ context.Context, channel, text string) (string, error) {
	f.mu.Lock()
	f.next++
	ts := fmt.Sprintf("1764000000.%06d", f.next)
	hook := f.afterPost
	f.mu.Unlock()
	err := f.do("post", channel, ts, text)
	if err == nil && hook != nil {
		hook()
	}
	return ts, err
}

func (f *fakeSlack) Edit(_ context.Context, channel, ts, text string) error {
	return f.do("edit", channel, ts, text)
}

func (f *fakeSlack) Reply(_ context.Context, channel, threadTS, text string) error {
	return f.do("reply", channel, threadTS, text)
}

func (f *fakeSlack) Delete(_ context.Context, channel, ts string) error {
	return f.do("delete", channel, ts, "")
}

func (f *fakeSlack) Calls(method string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// escape is Slack's escaping, as the bot does it.
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

type env struct {
	opts  incident.Options
	svc   *incident.Service
	store *store.Incidents
	slack *fakeSlack
	page  *statuspagetest.Server
	clock *clock
}

type envOptions struct {
	noStatusPage bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	c := &clock{now: t0.Add(5 * time.Minute)}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "opsbot.db"), zap.NewNop(), store.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: db.Incidents(), slack: &fakeSlack{}, clock: c}
	opts := incident.Options{Store: e.store, Slack: e.slack, Templates: tmpl, Escape: escape,
		Location: london, Now: c.Now}
	if !o.noStatusPage {
		e.page = statuspagetest.New(t, statuspagetest.Options{})
		client, err := statuspage.New(statuspage.Config{
			BaseURL: e.page.URL(), PageID: e.page.PageID, APIKey: httpx.Secret(e.page.APIKey),
			Components: []string{"cmpapi"}, Timeout: model.Duration(20 * time.Second), RequestsPerSecond: 1000,
		}, nil, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		opts.StatusPage = client.ForIncidents()
	}
	e.opts = opts
	e.svc, err = incident.NewService(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func announcement() incident.Incident {
	return incident.Incident{
		Environment: "prod",
		Channel:     "C0MAIN",
		From:        t0,
		UserImpact:  "Checkout fails for\nabout 20% of users <!channel>",
		What:        "payments API returns 502 & times out",
		AnnouncedBy: "U0ALICE",
		StatusPage:  incident.StatusPage{Enabled: true},
	}
}

// wantAnnouncement is the runbook's announcement of announcement(), as
// posted: one line per field, escaped.
const wantAnnouncement = "📟 Degraded service\n" +
	"From: 2026-11-24 09:30 GMT\n" +
	"User impact: Checkout fails for about 20% of users &lt;!channel&gt;\n" +
	"What: payments API returns 502 &amp; times out\n" +
	"Investigation in progress."

func kinds(t *testing.T, s incident.Store, id int64) []incident.Kind {
	t.Helper()
	tl, err := s.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []incident.Kind
	for _, e := range tl {
		out = append(out, e.Kind)
	}
	return out
}

func wantKinds(t *testing.T, s incident.Store, id int64, want ...incident.Kind) {
	t.Helper()
	if got := kinds(t, s, id); !slices.Equal(got, want) {
		t.Errorf("timeline:\n got %v\nwant %v", got, want)
	}
}

func wantCalls(t *testing.T, f *fakeSlack, want ...call) {
	t.Helper()
	got := f.Calls("")
	if !slices.Equal(got, want) {
		t.Errorf("Slack calls:\n got %q\nwant %q", got, want)
	}
}

func TestAnnounceUpdateResolve(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})

	inc, created, err := e.svc.Announce(ctx, announcement(), "announce:V1")
	if err != nil || !created {
		t.Fatalf("Announce: %v, %v", created, err)
	}
	const ts = "1764000000.000001"
	if inc.MessageTS != ts || inc.StatusPage.State != incident.StatusPageOpen || inc.StatusPage.LastError != "" ||
		inc.StatusPage.Key != "opsbot-incident-1" || !inc.AnnouncedAt.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("announced: %+v", inc)
	}
	pages := e.page.Incidents()
	if len(pages) != 1 || pages[0].ID != inc.StatusPage.IncidentID || pages[0].Status != "investigating" ||
		pages[0].Name != "Checkout fails for about 20% of users <!channel>" {
		t.Errorf("status page: %+v", pages)
	}

	e.clock.Set(t0.Add(40 * time.Minute))
	_, upd, err := e.svc.AddUpdate(ctx, inc.ID, incident.Update{Text: "Rolled back <b>", By: "U0BOB", Public: true}, "update:V2")
	if err != nil || upd.Seq != 4 {
		t.Fatalf("AddUpdate: %+v, %v", upd, err)
	}
	// An update written in the thread is recorded, not posted again.
	if _, _, err := e.svc.AddUpdate(ctx, inc.ID, incident.Update{Text: "db looks fine", By: "U0CAROL",
		ThreadTS: "1764000000.000777"}, ""); err != nil {
		t.Fatal(err)
	}

	e.clock.Set(t0.Add(90 * time.Minute))
	res, changed, err := resolve(ctx, e.svc, inc.ID, t0.Add(85*time.Minute), "U0BOB", "resolve:V3")
	if err != nil || !changed {
		t.Fatalf("Resolve: %v, %v", changed, err)
	}
	if res.State != incident.Resolved || res.StatusPage.State != incident.StatusPageResolved {
		t.Errorf("resolved: %+v", res)
	}
	wantCalls(t, e.slack,
		call{"post", "C0MAIN", "", wantAnnouncement}.withTS(ts),
		call{"reply", "C0MAIN", ts, ":memo: *Update* (2026-11-24 10:10 GMT, <@U0BOB>): Rolled back &lt;b&gt;"},
		// The original text as it was, then the runbook's two lines.
		call{"edit", "C0MAIN", ts, wantAnnouncement + "\n✅ Resolved\nUntil: 2026-11-24 10:55 GMT"},
		call{"reply", "C0MAIN", ts, "✅ Resolved after 1h 25m (by <@U0BOB>)."},
	)
	pages = e.page.Incidents()
	if len(pages) != 1 || pages[0].Status != "resolved" {
		t.Errorf("status page after the resolution: %+v", pages)
	}
	wantKinds(t, e.store, inc.ID, incident.KindAnnounced, incident.KindMessagePosted, incident.KindStatusPageCreated,
		incident.KindUpdated, incident.KindStatusPageUpdated, incident.KindUpdated, incident.KindResolved,
		incident.KindMessageEdited, incident.KindStatusPageResolved)

	// Resolving twice changes nothing: no message, no status page call.
	before := len(e.page.Requests())
	again, changed, err := resolve(ctx, e.svc, inc.ID, t0.Add(95*time.Minute), "U0CAROL", "resolve:V4")
	if err != nil || changed || !again.Until.Equal(t0.Add(85*time.Minute)) {
		t.Errorf("second Resolve: %+v %v, %v", again, changed, err)
	}
	if n := len(e.slack.Calls("")); n != 4 {
		t.Errorf("%d Slack calls after resolving twice, want 4", n)
	}
	if n := len(e.page.Requests()); n != before {
		t.Errorf("%d status page requests after resolving twice, want %d", n, before)
	}
	// Updates of a resolved incident are refused.
	if _, _, err := e.svc.AddUpdate(ctx, inc.ID, incident.Update{Text: "late", By: "U1"}, ""); !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("update after the resolution: %v", err)
	}
}

func (c call) withTS(ts string) call { c.TS = ts; return c }

// resolve is Service.Resolve as these tests read it: the incident, whether
// this call resolved it, and the error of the resolution or of a step
// after it.
func resolve(ctx context.Context, s *incident.Service, id int64, until time.Time, by, key string) (incident.Incident, bool, error) {
	out, err := s.Resolve(ctx, id, until, by, key)
	if err != nil {
		return out.Incident, false, err
	}
	return out.Incident, out.Changed, out.StepErr
}

// finish is Service.Finish as these tests read it: the incident, and the
// error of the call or of a step.
func finish(ctx context.Context, s *incident.Service, id int64) (incident.Incident, error) {
	out, err := s.Finish(ctx, id)
	if err != nil {
		return out.Incident, err
	}
	return out.Incident, out.StepErr
}

func TestStatusPageFailureDoesNotBlockTheAnnouncement(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	e.page.FailNext(503, 10)

	inc, _, err := e.svc.Announce(ctx, announcement(), "announce:V1")
	if err != nil {
		t.Fatalf("Announce with the status page down: %v", err)
	}
	if len(e.slack.Calls("post")) != 1 || inc.MessageTS == "" {
		t.Errorf("the announcement was not posted: %+v", inc)
	}
	sp := inc.StatusPage
	if sp.State != incident.StatusPagePending || !strings.Contains(sp.LastError, "503") || !sp.NeedsSync(inc.State) {
		t.Errorf("status page after the failure: %+v", sp)
	}
	tl, err := e.store.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := tl[len(tl)-1]
	if last.Kind != incident.KindStatusPageFailed || last.Data.Op != incident.OpCreate || !last.Data.Retryable ||
		last.Data.Key != "opsbot-incident-1" {
		t.Errorf("failure entry: %+v", last)
	}

	// Replaying the announcement does not post again; it tries the status
	// page again (still failing: recorded again).
	if _, _, err := e.svc.Announce(ctx, announcement(), "announce:V1"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.slack.Calls("post")); n != 1 {
		t.Errorf("%d posts after a replay", n)
	}

	e.page.FailNext(503, 0)
	inc, err = e.svc.RetryStatusPage(ctx, inc.ID)
	if err != nil || inc.StatusPage.State != incident.StatusPageOpen || inc.StatusPage.LastError != "" {
		t.Fatalf("RetryStatusPage: %+v, %v", inc.StatusPage, err)
	}
	// Nothing left to do: a retry calls nothing.
	before := len(e.page.Requests())
	if _, err := e.svc.RetryStatusPage(ctx, inc.ID); err != nil || len(e.page.Requests()) != before {
		t.Errorf("RetryStatusPage with nothing to do: %v, %d requests", err, len(e.page.Requests())-before)
	}
	if n := len(e.page.Incidents()); n != 1 {
		t.Errorf("%d status page incidents, want 1", n)
	}
	wantKinds(t, e.store, inc.ID, incident.KindAnnounced, incident.KindMessagePosted, incident.KindStatusPageFailed,
		incident.KindStatusPageFailed, incident.KindStatusPageCreated)
}

// A create whose answer was lost made the incident on the page: the retry
// finds it by the incident's key instead of making a second one.
func TestRetriedCreateMakesOneStatusPageIncident(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	e.page.LoseResponseNext(1)
	inc, _, err := e.svc.Announce(ctx, announcement(), "announce:V1")
	if err != nil {
		t.Fatal(err)
	}
	if inc.StatusPage.LastError == "" {
		t.Fatalf("the lost answer was not recorded: %+v", inc.StatusPage)
	}
	inc, err = e.svc.RetryStatusPage(ctx, inc.ID)
	if err != nil || inc.StatusPage.State != incident.StatusPageOpen {
		t.Fatalf("RetryStatusPage: %+v, %v", inc.StatusPage, err)
	}
	pages := e.page.Incidents()
	if len(pages) != 1 || pages[0].ID != inc.StatusPage.IncidentID {
		t.Errorf("status page incidents: %+v; recorded %s", pages, inc.StatusPage.IncidentID)
	}
}

func TestNonRetryableFailureIsRecordedAsSuch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	e.page.FailNext(401, 1)
	inc, _, err := e.svc.Announce(ctx, announcement(), "")
	if err != nil {
		t.Fatal(err)
	}
	tl, _ := e.store.Timeline(ctx, inc.ID)
	if last := tl[len(tl)-1]; last.Kind != incident.KindStatusPageFailed || last.Data.Retryable {
		t.Errorf("failure entry: %+v", last)
	}
	if strings.Contains(inc.StatusPage.LastError, e.page.APIKey) {
		t.Errorf("the API key is in the error: %s", inc.StatusPage.LastError)
	}
}

// Resolved while the status page was down, before the incident was created
// there: the retry looks for it by key and, finding none, skips it.
func TestResolveBeforeTheStatusPageIncidentExists(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	e.page.Down()
	inc, _, err := e.svc.Announce(ctx, announcement(), "")
	if err != nil {
		t.Fatal(err)
	}
	inc, changed, err := resolve(ctx, e.svc, inc.ID, t0.Add(3*time.Minute), "U0BOB", "")
	if err != nil || !changed || inc.StatusPage.State != incident.StatusPagePending || inc.StatusPage.LastError == "" {
		t.Fatalf("Resolve with the status page down: %+v %v, %v", inc.StatusPage, changed, err)
	}
	if len(e.slack.Calls("edit")) != 1 || len(e.slack.Calls("reply")) != 1 {
		t.Errorf("Slack calls: %q", e.slack.Calls(""))
	}
	e.page.Up()
	inc, err = e.svc.RetryStatusPage(ctx, inc.ID)
	if err != nil || inc.StatusPage.State != incident.StatusPageSkipped || inc.StatusPage.NeedsSync(inc.State) {
		t.Errorf("RetryStatusPage: %+v, %v", inc.StatusPage, err)
	}
	if n := len(e.page.Incidents()); n != 0 {
		t.Errorf("%d status page incidents, want none", n)
	}
}

// A Slack failure while posting: the announcement is recorded, the status
// page step done all the same (it does not depend on Slack), the error
// returned with the incident, and the same call again finishes it, once.
func TestAnnounceRetriedAfterASlackFailure(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	e.slack.failNext("post", 1)
	inc, created, err := e.svc.Announce(ctx, announcement(), "announce:V1")
	if !errors.Is(err, errSlack) || !created {
		t.Fatalf("Announce with Slack failing: %v, %v", created, err)
	}
	if inc.ID != 1 || inc.MessageTS != "" || !inc.AnnouncementLags() || inc.StatusPage.State != incident.StatusPageOpen {
		t.Errorf("incident after the failed post: %+v", inc)
	}
	if n := len(e.page.Incidents()); n != 1 {
		t.Errorf("the status page waited for Slack: %d incidents", n)
	}
	inc, created, err = e.svc.Announce(ctx, announcement(), "announce:V1")
	if err != nil || !created || inc.ID != 1 || inc.MessageTS == "" || inc.StatusPage.State != incident.StatusPageOpen {
		t.Fatalf("retried Announce: %+v %v, %v", inc, created, err)
	}
	if inc.MessageText != wantAnnouncement || inc.AnnouncementLags() {
		t.Errorf("the posted text is not kept: %+v", inc)
	}
	if n := len(e.slack.Calls("post")); n != 1 {
		t.Errorf("%d posts", n)
	}
	if n := len(e.page.Incidents()); n != 1 {
		t.Errorf("%d status page incidents", n)
	}
	wantKinds(t, e.store, inc.ID, incident.KindAnnounced, incident.KindStatusPageCreated, incident.KindMessagePosted)
}

// Finish (the Retry button) posts an announcement that failed, by the
// incident's id alone, and retries the status page in the same go.
func TestFinishPostsTheAnnouncement(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	e.slack.failNext("post", 1)
	e.page.Down()
	inc, _, err := e.svc.Announce(ctx, announcement(), "announce:V1")
	if !errors.Is(err, errSlack) || inc.ID != 1 || inc.StatusPage.LastError == "" {
		t.Fatalf("Announce with Slack and the status page failing: %+v, %v", inc, err)
	}
	e.page.Up()
	inc, err = finish(ctx, e.svc, inc.ID)
	if err != nil || inc.MessageTS == "" || inc.StatusPage.State != incident.StatusPageOpen {
		t.Fatalf("Finish: %+v, %v", inc, err)
	}
	// Nothing left: Finish calls nothing.
	calls, requests := len(e.slack.Calls("")), len(e.page.Requests())
	if _, err := finish(ctx, e.svc, inc.ID); err != nil || len(e.slack.Calls("")) != calls || len(e.page.Requests()) != requests {
		t.Errorf("Finish with nothing to do: %v, %d Slack calls, %d status page requests", err,
			len(e.slack.Calls(""))-calls, len(e.page.Requests())-requests)
	}
	wantCalls(t, e.slack, call{"post", "C0MAIN", "1764000000.000002", wantAnnouncement})
	if _, err := finish(ctx, e.svc, 99); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("Finish of no incident: %v", err)
	}
}

// The edit of the announcement failed on resolve: it is not forgotten. The
// incident says so (AnnouncementLags), and the next resolve, even by
// someone else, does the edit (and records it) instead of saying "nothing
// changed"; after that, resolving again calls nothing.
func TestFailedEditIsDoneByTheNextResolve(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	inc, _, err := e.svc.Announce(ctx, announcement(), "")
	if err != nil {
		t.Fatal(err)
	}
	e.slack.failNext("edit", 1)
	res, changed, err := resolve(ctx, e.svc, inc.ID, t0.Add(4*time.Minute), "U0BOB", "resolve:V1")
	if !errors.Is(err, errSlack) || !changed {
		t.Fatalf("Resolve with the edit failing: %v, %v", changed, err)
	}
	if res.State != incident.Resolved || !res.AnnouncementLags() || res.StatusPage.State != incident.StatusPageResolved {
		t.Errorf("after the failed edit: %+v", res)
	}
	res, changed, err = resolve(ctx, e.svc, inc.ID, t0.Add(9*time.Minute), "U0CAROL", "resolve:V2")
	if err != nil || changed || res.AnnouncementLags() || !res.Until.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("second Resolve: %+v %v, %v", res, changed, err)
	}
	calls := len(e.slack.Calls(""))
	if _, _, err := resolve(ctx, e.svc, inc.ID, t0.Add(9*time.Minute), "U0CAROL", "resolve:V3"); err != nil ||
		len(e.slack.Calls("")) != calls {
		t.Errorf("third Resolve: %v, %d Slack calls", err, len(e.slack.Calls(""))-calls)
	}
	edits := e.slack.Calls("edit")
	if len(edits) != 1 || edits[0].Text != wantAnnouncement+"\n✅ Resolved\nUntil: 2026-11-24 09:34 GMT" {
		t.Errorf("edits: %q", edits)
	}
	if n := len(e.slack.Calls("reply")); n != 1 {
		t.Errorf("%d closing lines, want 1", n)
	}
	wantKinds(t, e.store, inc.ID, incident.KindAnnounced, incident.KindMessagePosted, incident.KindStatusPageCreated,
		incident.KindResolved, incident.KindStatusPageResolved, incident.KindMessageEdited)
}

// Finish (the Retry button) does the edit that failed, and the status page
// resolution that failed with it.
func TestFinishEditsTheAnnouncement(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	inc, _, err := e.svc.Announce(ctx, announcement(), "")
	if err != nil {
		t.Fatal(err)
	}
	e.slack.failNext("edit", 1)
	e.page.Down()
	res, _, err := resolve(ctx, e.svc, inc.ID, t0.Add(4*time.Minute), "U0BOB", "resolve:V1")
	if !errors.Is(err, errSlack) || !res.AnnouncementLags() || res.StatusPage.LastError == "" {
		t.Fatalf("Resolve with Slack and the status page failing: %+v, %v", res, err)
	}
	e.page.Up()
	res, err = finish(ctx, e.svc, inc.ID)
	if err != nil || res.AnnouncementLags() || res.StatusPage.State != incident.StatusPageResolved {
		t.Fatalf("Finish: %+v, %v", res, err)
	}
	if edits := e.slack.Calls("edit"); len(edits) != 1 || !strings.HasSuffix(edits[0].Text, "\n✅ Resolved\nUntil: 2026-11-24 09:34 GMT") {
		t.Errorf("edits: %q", edits)
	}
}

// The resolution is appended to the announcement as it was posted: a
// template or time zone changed since (here: another opsbot, in another
// zone) does not rewrite the original text.
func TestResolveKeepsThePostedText(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{noStatusPage: true})
	inc, _, err := e.svc.Announce(ctx, announcement(), "")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	other, err := incident.NewService(incident.Options{Store: e.store, Slack: e.slack, Templates: tmpl, Escape: escape,
		Location: newYork, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := resolve(ctx, other, inc.ID, t0.Add(4*time.Minute), "U0BOB", ""); err != nil {
		t.Fatal(err)
	}
	edits := e.slack.Calls("edit")
	if want := wantAnnouncement + "\n✅ Resolved\nUntil: 2026-11-24 04:34 EST"; len(edits) != 1 || edits[0].Text != want {
		t.Errorf("edits:\n got %q\nwant %q", edits, want)
	}
}

// A Slack failure while resolving does not stop the status page; the same
// call again edits the message (the same text).
func TestResolveRetriedAfterASlackFailure(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	inc, _, err := e.svc.Announce(ctx, announcement(), "")
	if err != nil {
		t.Fatal(err)
	}
	e.slack.failNext("edit", 1)
	res, changed, err := resolve(ctx, e.svc, inc.ID, t0.Add(4*time.Minute), "U0BOB", "resolve:V1")
	if !errors.Is(err, errSlack) || !changed {
		t.Fatalf("Resolve with the edit failing: %v, %v", changed, err)
	}
	if res.StatusPage.State != incident.StatusPageResolved {
		t.Errorf("the status page was not resolved: %+v", res.StatusPage)
	}
	res, changed, err = resolve(ctx, e.svc, inc.ID, t0.Add(4*time.Minute), "U0BOB", "resolve:V1")
	if err != nil || !changed {
		t.Fatalf("retried Resolve: %v, %v", changed, err)
	}
	edits := e.slack.Calls("edit")
	if len(edits) != 1 || edits[0].Text != wantAnnouncement+"\n✅ Resolved\nUntil: 2026-11-24 09:34 GMT" {
		t.Errorf("edits: %q", edits)
	}
	if n := len(e.page.Incidents()); n != 1 {
		t.Errorf("%d status page incidents", n)
	}
}

// Two people resolve at once: one edit, one closing line, one status page
// resolution.
func TestConcurrentResolve(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	inc, _, err := e.svc.Announce(ctx, announcement(), "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	changed := make([]bool, 4)
	errs := make([]error, 4)
	for k := range changed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, changed[k], errs[k] = resolve(ctx, e.svc, inc.ID, t0.Add(4*time.Minute), fmt.Sprintf("U%d", k), fmt.Sprintf("resolve:%d", k))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	won := 0
	for _, c := range changed {
		if c {
			won++
		}
	}
	if won != 1 || len(e.slack.Calls("edit")) != 1 || len(e.slack.Calls("reply")) != 1 {
		t.Errorf("%d resolves won; Slack calls %q", won, e.slack.Calls(""))
	}
	resolves := 0
	for _, r := range e.page.Requests() {
		if r.Method == "PATCH" {
			resolves++
		}
	}
	if resolves != 1 {
		t.Errorf("%d PATCH requests, want 1", resolves)
	}
}

func TestPublicUpdateIsPostedOnTheStatusPageOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	inc, _, err := e.svc.Announce(ctx, announcement(), "")
	if err != nil {
		t.Fatal(err)
	}
	u := incident.Update{Text: "A fix is being deployed.", By: "U0BOB", Public: true}
	for range 2 {
		if _, _, err := e.svc.AddUpdate(ctx, inc.ID, u, "update:V1"); err != nil {
			t.Fatal(err)
		}
	}
	// An internal update stays in the thread.
	if _, _, err := e.svc.AddUpdate(ctx, inc.ID, incident.Update{Text: "pod api-1 OOM", By: "U0BOB"}, ""); err != nil {
		t.Fatal(err)
	}
	patches := 0
	for _, r := range e.page.Requests() {
		if r.Method == "PATCH" {
			patches++
		}
	}
	if patches != 1 {
		t.Errorf("%d status page updates, want 1", patches)
	}
	if pages := e.page.Incidents(); len(pages) != 1 || !strings.Contains(fmt.Sprint(pages[0]), "A fix is being deployed.") {
		t.Errorf("status page: %+v", pages)
	}
	// The replay posted the reply again (its first post is not recorded).
	if n := len(e.slack.Calls("reply")); n != 3 {
		t.Errorf("%d replies, want 3", n)
	}
}

func TestWithoutStatusPage(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{noStatusPage: true})
	inc, _, err := e.svc.Announce(ctx, announcement(), "")
	if err != nil || inc.StatusPage != (incident.StatusPage{}) {
		t.Fatalf("Announce: %+v, %v", inc.StatusPage, err)
	}
	if _, _, err := resolve(ctx, e.svc, inc.ID, time.Time{}, "U0BOB", ""); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Get(ctx, inc.ID)
	if err != nil || !got.Until.Equal(e.clock.Now()) {
		t.Errorf("resolved until now: %+v, %v", got, err)
	}
	if _, err := e.svc.RetryStatusPage(ctx, inc.ID); err != nil {
		t.Errorf("RetryStatusPage without a status page: %v", err)
	}
}

func TestInvalidAnnouncementPostsNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	in := announcement()
	in.UserImpact = ""
	in.From = e.clock.Now().Add(time.Hour)
	_, _, err := e.svc.Announce(ctx, in, "")
	var ve *opsbot.ValidationError
	if !errors.As(err, &ve) || ve.Problem("userImpact") == "" || ve.Problem("from") == "" {
		t.Errorf("error %v", err)
	}
	if n := len(e.slack.Calls("")); n != 0 {
		t.Errorf("%d Slack calls", n)
	}
}

func TestNewServiceRequires(t *testing.T) {
	_, err := incident.NewService(incident.Options{})
	for _, w := range []string{"Store", "Slack", "Templates", "Escape"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not name %s", err, w)
		}
	}
}

// TestResolvedWhileTheAnnouncementIsPosted: another replica resolves the
// incident between the post of its announcement and the record of it
// (it found no message to edit); the announcing replica then edits the
// announcement it just recorded, so it shows the resolution.
func TestResolvedWhileTheAnnouncementIsPosted(t *testing.T) {
	e := newEnv(t, envOptions{noStatusPage: true})
	ctx := context.Background()
	until := t0.Add(2 * time.Minute)
	e.slack.afterPost = func() {
		e.slack.afterPost = nil
		open, err := e.store.ListOpen(ctx, "")
		if err != nil || len(open) != 1 {
			t.Fatalf("open incidents = %v, %v", open, err)
		}
		if _, _, err := e.store.Resolve(ctx, open[0].ID, until, "U0BOB", "resolve:other-replica"); err != nil {
			t.Fatal(err)
		}
	}
	inc, _, err := e.svc.Announce(ctx, announcement(), "announce:V1")
	if err != nil {
		t.Fatal(err)
	}
	if inc.State != incident.Resolved || inc.AnnouncementLags() {
		t.Fatalf("after the announcement: state %s, lags %v; want resolved and shown", inc.State, inc.AnnouncementLags())
	}
	edits := e.slack.Calls("edit")
	if len(edits) != 1 || !strings.Contains(edits[0].Text, "✅ Resolved") {
		t.Errorf("edits = %q, want the announcement edited to show it resolved", edits)
	}
}

// TestAnnounceAndUpdateRedact: what the announcer and updaters type is
// redacted before it is stored, posted in Slack or sent to the status
// page; emails are kept only when the Redactor says so.
func TestAnnounceAndUpdateRedact(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	in := announcement()
	in.UserImpact = "logins fail for bob@example.com"
	in.What = "the IdP rejects Bearer abcdefgh12345678"
	inc, _, err := e.svc.Announce(ctx, in, "announce:V1")
	if err != nil {
		t.Fatal(err)
	}
	if inc.UserImpact != "logins fail for [redacted:email]" || inc.What != "the IdP rejects Bearer [redacted:bearer]" {
		t.Errorf("recorded: user impact %q, what %q", inc.UserImpact, inc.What)
	}
	if _, _, err := e.svc.AddUpdate(ctx, inc.ID, incident.Update{Text: "rotated xoxb-1234567890-abcdef", By: "U0BOB", Public: true}, "update:V2"); err != nil {
		t.Fatal(err)
	}
	tl, err := e.store.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	for _, c := range e.slack.Calls("") {
		sent = append(sent, c.Text)
	}
	sent = append(sent, fmt.Sprintf("%+v", e.page.Incidents()), fmt.Sprintf("%+v", tl))
	for _, s := range sent {
		for _, secret := range []string{"bob@example.com", "abcdefgh12345678", "xoxb-"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q reached Slack, the status page or the store: %q", secret, s)
			}
		}
	}

	o := e.opts
	o.Redactor = redact.New(redact.Options{KeepEmails: true})
	keep, err := incident.NewService(o)
	if err != nil {
		t.Fatal(err)
	}
	in.What = "mail to ops@example.com bounces"
	in.AnomalyID = 0
	kept, _, err := keep.Announce(ctx, in, "announce:V3")
	if err != nil {
		t.Fatal(err)
	}
	if kept.What != "mail to ops@example.com bounces" {
		t.Errorf("KeepEmails: what %q", kept.What)
	}
}
