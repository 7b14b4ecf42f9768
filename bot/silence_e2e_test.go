package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/alerts"
	"github.com/opsbot/opsbot/silence"
	"github.com/opsbot/opsbot/testenv"
	"github.com/opsbot/opsbot/triage"
)

// realSilencer starts a real Alertmanager for the test (skipped with
// -short) and returns it with a silence client on it.
func realSilencer(t *testing.T) (*testenv.Alertmanager, *silence.Client) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the real Alertmanager (not with -short)")
	}
	am, err := testenv.StartAlertmanager(t.Context(), testenv.AlertmanagerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { am.Stop() })
	sil, err := silence.New(am.URL(), silence.Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	return am, sil
}

// A Noise decision on a firing alert, with "24 hours", makes one silence
// in the real Alertmanager with the matchers the modal showed: the alert
// leaves the next checklist. The submission delivered again makes no
// other silence; Expire silence ends it and the alert fires again.
func TestNoiseSilencesTheAlertUntilExpired(t *testing.T) {
	am, sil := realSilencer(t)
	check, err := alerts.New(alerts.Config{Matchers: []string{`namespace="shop"`}}, am.URL(), nil, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}

	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store, func(s *setup) { s.Silencers = map[string]triage.Silencer{"prod": sil} })
	h.setChecks(check)
	h.start()

	labels := testenv.Labels{"alertname": "CheckoutFlaps", "namespace": "shop", "service": "checkout", "severity": "warning"}
	if err := am.PostAlerts(h.ctx, testenv.Alert{Labels: labels, Annotations: map[string]string{"summary": "checkout flaps"}}); err != nil {
		t.Fatal(err)
	}
	waitAlertState(t, h, am, testenv.AlertStateActive)

	rep := h.report(alice)
	root := h.investigate(alice, rep, 0)
	open, err := store.ListOpen(h.ctx, "prod")
	if err != nil || len(open) != 1 || open[0].Labels["alertname"] != "CheckoutFlaps" {
		t.Fatalf("open = %+v, %v", open, err)
	}
	id := open[0].ID

	// The modal shows the matchers: the alert's labels, with its namespace.
	viewID := h.openModal(alice, root, triage.Noise)
	shown := modalContext(t, fs, viewID)
	wantShown := `alertname="CheckoutFlaps", namespace="shop", service="checkout", severity="warning"`
	if !strings.Contains(shown, "The silence will match "+wantShown) {
		t.Fatalf("modal does not show the matchers %s:\n%s", wantShown, shown)
	}
	env, err := fs.SubmitView(h.ctx, viewID, slacktest.ViewValues{
		"conclusion":  {"conclusion": {Value: "the checkout canary flaps on deploys"}},
		"fiveWhys":    {"fiveWhys": {Value: "1. the canary restarts during deploys"}},
		"ticket":      {"ticket": {Value: "https://tickets.example.com/OPS-7"}},
		"dashboard":   {"dashboard": {Value: "https://grafana.example.com/d/checkout"}},
		"silence_for": {"silence_for": {SelectedOption: "24h"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ack, _ := env.ViewAck(); ack.ResponseAction != "" {
		t.Fatalf("noise ack = %+v", ack)
	}
	reply := h.waitMessage(devChannel, ":mute: Silenced until")
	if reply.ThreadTS != root.TS || !strings.Contains(reply.Text, "("+wantShown+")") {
		t.Errorf("silence reply %q (thread %s, root %s)", reply.Text, reply.ThreadTS, root.TS)
	}

	a, err := store.Get(h.ctx, id)
	if err != nil || a.Decision == nil || a.Decision.Silence == nil {
		t.Fatalf("anomaly %+v, %v: want its silence recorded", a, err)
	}
	s, err := sil.Get(h.ctx, a.Decision.Silence.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range s.Matchers {
		got = append(got, m.String())
	}
	if strings.Join(got, ", ") != wantShown || s.State != triage.SilenceActive {
		t.Errorf("silence %+v: matchers %v, want %s, active", s, got, wantShown)
	}
	if d := s.EndsAt.Sub(s.StartsAt); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("silence lasts %s, want 24h", d)
	}
	if !strings.Contains(reply.Text, "silence `"+s.ID+"`") {
		t.Errorf("reply %q does not name silence %s", reply.Text, s.ID)
	}

	// Delivered again: no second silence, no second reply.
	if _, err := fs.Redeliver(h.ctx, env.ID, ""); err != nil {
		t.Logf("redeliver: %v", err) // the view is closed: the fake may refuse to apply the ack
	}
	h.slash(alice, "status") // a later request: the redelivery was handled before it
	h.waitEphemeral(alice, "")
	if n := countContaining(fs.ThreadReplies(devChannel, root.TS), ":mute: Silenced until"); n != 1 {
		t.Errorf("%d silence replies after a redelivery, want 1", n)
	}
	if n := silencesOf(t, h, am, s.ID, wantShown); n != 1 {
		t.Errorf("%d silences with the matchers, want 1", n)
	}

	// Silenced: the next checklist does not report the alert.
	waitAlertState(t, h, am, testenv.AlertStateSuppressed)
	if res := check.Run(h.ctx); res.Status != checks.OK {
		t.Errorf("silenced alert still reported: %+v", res.Findings)
	}

	// Bob is no decider: his Expire is refused and changes nothing.
	h.click(bob, devChannel, reply.TS, bot.ActionExpireSilence, "silence/"+strconv.FormatInt(id, 10))
	h.waitEphemeral(bob, "")
	if s, err := sil.Get(h.ctx, s.ID); err != nil || s.State != triage.SilenceActive {
		t.Errorf("after bob's Expire: %+v, %v; want active", s, err)
	}
	h.click(alice, devChannel, reply.TS, bot.ActionExpireSilence, "silence/"+strconv.FormatInt(id, 10))
	h.waitMessage(devChannel, "expired silence `"+s.ID+"`")
	if s, err := sil.Get(h.ctx, s.ID); err != nil || s.State != triage.SilenceExpired {
		t.Errorf("after Expire: %+v, %v; want expired", s, err)
	}
	waitAlertState(t, h, am, testenv.AlertStateActive)
}

// waitAlertState waits until the CheckoutFlaps alert is in state.
func waitAlertState(t *testing.T, h *harness, am *testenv.Alertmanager, state string) {
	t.Helper()
	if _, err := am.WaitForAlertsFunc(h.ctx, testenv.AlertQuery{Filter: []string{`alertname="CheckoutFlaps"`}}, func(as []testenv.ListedAlert) bool {
		return len(as) == 1 && as[0].Status.State == state
	}); err != nil {
		t.Fatalf("CheckoutFlaps never %s: %v", state, err)
	}
}

// modalContext is the text of modal viewID's context blocks.
func modalContext(t *testing.T, fs *slacktest.Server, viewID string) string {
	t.Helper()
	for _, v := range fs.Views() {
		if v.ID != viewID {
			continue
		}
		var blocks []struct {
			Type     string `json:"type"`
			Elements []struct {
				Text string `json:"text"`
			} `json:"elements"`
		}
		if err := json.Unmarshal(v.Blocks, &blocks); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range blocks {
			for _, e := range b.Elements {
				if b.Type == "context" {
					out = append(out, e.Text)
				}
			}
		}
		return strings.Join(out, "\n")
	}
	t.Fatalf("no view %s", viewID)
	return ""
}

// silencesOf counts the pending or active silences in Alertmanager whose
// matchers are want, and checks id is one of them.
func silencesOf(t *testing.T, h *harness, am *testenv.Alertmanager, id, want string) int {
	t.Helper()
	ids := activeSilences(t, h.ctx, am, want)
	if !slices.Contains(ids, id) {
		t.Errorf("silence %s is not among the active ones", id)
	}
	return len(ids)
}

// countSilences counts the pending or active silences in Alertmanager
// whose matchers are want.
func countSilences(t *testing.T, ctx context.Context, am *testenv.Alertmanager, want string) int {
	t.Helper()
	return len(activeSilences(t, ctx, am, want))
}

// activeSilences are the ids of the pending or active silences in
// Alertmanager whose matchers are want.
func activeSilences(t *testing.T, ctx context.Context, am *testenv.Alertmanager, want string) []string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, am.URL()+"/api/v2/silences", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct {
		ID       string `json:"id"`
		Matchers []struct {
			Name    string `json:"name"`
			Value   string `json:"value"`
			IsRegex bool   `json:"isRegex"`
			IsEqual *bool  `json:"isEqual"`
		} `json:"matchers"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		if s.Status.State == "expired" {
			continue
		}
		ms := make([]string, len(s.Matchers))
		for i, m := range s.Matchers {
			ms[i] = triage.Matcher{Name: m.Name, Value: m.Value, IsRegex: m.IsRegex, NotEqual: m.IsEqual != nil && !*m.IsEqual}.String()
		}
		if strings.Join(ms, ", ") == want {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// flakySilencer fails to create silences until it is told to work.
type flakySilencer struct {
	triage.Silencer
	mu    sync.Mutex
	fail  bool
	calls int
}

func (f *flakySilencer) Silence(_ context.Context, r triage.SilenceRequest) (triage.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail {
		return triage.Silence{}, errors.New("alertmanager http://am.example:9093: 503 Service Unavailable")
	}
	return triage.Silence{ID: "s-1", Matchers: r.Matchers, StartsAt: time.Now(), EndsAt: r.EndsAt, State: triage.SilenceActive}, nil
}

func (f *flakySilencer) set(fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

// A silence that cannot be made is said in the thread with Retry; the
// Noise decision stands; Retry makes the silence.
func TestNoiseSilenceFailureKeepsTheDecisionAndRetries(t *testing.T) {
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	sil := &flakySilencer{fail: true}
	h := newHarness(t, fs, store, func(s *setup) { s.Silencers = map[string]triage.Silencer{"prod": sil} })
	f := finding("alerts", "shop/CheckoutFlaps", "CheckoutFlaps is firing")
	f.Labels = map[string]string{"alertname": "CheckoutFlaps", "namespace": "shop"}
	h.setChecks(&fakeCheck{name: "alerts", result: result(f)})
	h.start()

	root := h.investigate(alice, h.report(alice), 0)
	open, err := store.ListOpen(h.ctx, "")
	if err != nil || len(open) != 1 || open[0].Labels["alertname"] != "CheckoutFlaps" {
		t.Fatalf("open = %+v, %v", open, err)
	}
	h.decide(alice, root, triage.Noise, slacktest.ViewValues{
		"conclusion":  {"conclusion": {Value: "the canary flaps"}},
		"fiveWhys":    {"fiveWhys": {Value: "1. deploys"}},
		"ticket":      {"ticket": {Value: "https://tickets.example.com/OPS-8"}},
		"dashboard":   {"dashboard": {Value: "https://grafana.example.com/d/checkout"}},
		"silence_for": {"silence_for": {SelectedOption: "2h"}},
	})
	failed := h.waitMessage(devChannel, "its silence could not be made")
	if failed.ThreadTS != root.TS || !strings.Contains(failed.Text, "503 Service Unavailable") {
		t.Errorf("failure reply %q", failed.Text)
	}
	a, err := store.Get(h.ctx, open[0].ID)
	if err != nil || a.CurrentDecision() != triage.Noise || a.Decision.Silence != nil {
		t.Fatalf("after the failure: %+v, %v; want the Noise decision, no silence", a.Decision, err)
	}

	sil.set(false)
	h.click(alice, devChannel, failed.TS, bot.ActionRetrySilence, "silence-retry/"+strconv.FormatInt(a.ID, 10))
	h.waitMessage(devChannel, ":mute: Silenced until")
	if a, err = store.Get(h.ctx, a.ID); err != nil || a.Decision.Silence == nil || a.Decision.Silence.ID != "s-1" {
		t.Errorf("after Retry: %+v, %v; want silence s-1 recorded", a.Decision, err)
	}
}

// "until a date" silences the alert until the day picked ends, in the
// bot's time zone, in the real Alertmanager. No day, a day gone and a day
// too far ahead are refused on the date's field, and change nothing: the
// decision is not recorded and no silence is made.
func TestNoiseSilencesUntilADate(t *testing.T) {
	_, sil := realSilencer(t)
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, fs, store, func(s *setup) {
		s.Silencers = map[string]triage.Silencer{"prod": sil}
		s.Location = loc
		s.MaxSilence = 30 * 24 * time.Hour
	})
	f := finding("alerts", "shop/CheckoutFlaps", "CheckoutFlaps is firing")
	f.Labels = map[string]string{"alertname": "CheckoutFlaps", "namespace": "shop"}
	h.setChecks(&fakeCheck{name: "alerts", result: result(f)})
	h.start()

	root := h.investigate(alice, h.report(alice), 0)
	open, err := store.ListOpen(h.ctx, "")
	if err != nil || len(open) != 1 {
		t.Fatalf("open = %+v, %v", open, err)
	}
	id := open[0].ID
	viewID := h.openModal(alice, root, triage.Noise)
	values := func(date string) slacktest.ViewValues {
		return slacktest.ViewValues{
			"conclusion":    {"conclusion": {Value: "the canary flaps until the migration"}},
			"fiveWhys":      {"fiveWhys": {Value: "1. deploys"}},
			"ticket":        {"ticket": {Value: "https://tickets.example.com/OPS-9"}},
			"dashboard":     {"dashboard": {Value: "https://grafana.example.com/d/checkout"}},
			"silence_for":   {"silence_for": {SelectedOption: "until"}},
			"silence_until": {"silence_until": {SelectedDate: date}},
		}
	}
	today := time.Now().In(loc)
	for _, tt := range []struct{ date, want string }{
		{"", "Pick the day the silence ends."},
		{today.AddDate(0, 0, -1).Format(time.DateOnly), "has passed: pick today or a later day"},
		{today.AddDate(0, 0, 31).Format(time.DateOnly), "is too far ahead: a silence lasts at most 30 days"},
	} {
		env, err := fs.SubmitView(h.ctx, viewID, values(tt.date))
		if err != nil {
			t.Fatal(err)
		}
		ack, _ := env.ViewAck()
		if ack.ResponseAction != "errors" || !strings.Contains(ack.Errors["silence_until"], tt.want) || len(ack.Errors) != 1 {
			t.Errorf("date %q: ack %+v, want %q on silence_until", tt.date, ack, tt.want)
		}
	}
	if a, err := store.Get(h.ctx, id); err != nil || a.Decision != nil {
		t.Fatalf("after refused dates: decision %+v, %v; want none", a.Decision, err)
	}

	day := today.AddDate(0, 0, 3)
	env, err := fs.SubmitView(h.ctx, viewID, values(day.Format(time.DateOnly)))
	if err != nil {
		t.Fatal(err)
	}
	if ack, _ := env.ViewAck(); ack.ResponseAction != "" {
		t.Fatalf("ack = %+v", ack)
	}
	h.waitMessage(devChannel, ":mute: Silenced until")
	a, err := store.Get(h.ctx, id)
	if err != nil || a.Decision == nil || a.Decision.Silence == nil {
		t.Fatalf("anomaly %+v, %v: want its silence recorded", a, err)
	}
	s, err := sil.Get(h.ctx, a.Decision.Silence.ID)
	if err != nil {
		t.Fatal(err)
	}
	y, m, d := day.Date()
	if want := time.Date(y, m, d+1, 0, 0, 0, 0, loc); !s.EndsAt.Equal(want) || s.State != triage.SilenceActive {
		t.Errorf("silence ends %s (%s), want %s, active", s.EndsAt.In(loc), s.State, want)
	}
}

// Extend, deciders only, extends the silence in the real Alertmanager by
// the length it was made for and shows the new end and the count in the
// silence message; the same click delivered again extends it once. Expire
// then shows who ended it in that message, and the timeline has each step.
func TestExtendAndExpireASilence(t *testing.T) {
	am, sil := realSilencer(t)
	fs := newFake(t)
	store := openStore(t, onSQLite, "")
	h := newHarness(t, fs, store, func(s *setup) { s.Silencers = map[string]triage.Silencer{"prod": sil} })
	f := finding("alerts", "shop/CheckoutFlaps", "CheckoutFlaps is firing")
	f.Labels = map[string]string{"alertname": "CheckoutFlaps", "namespace": "shop"}
	h.setChecks(&fakeCheck{name: "alerts", result: result(f)})
	h.start()

	root := h.investigate(alice, h.report(alice), 0)
	open, err := store.ListOpen(h.ctx, "")
	if err != nil || len(open) != 1 {
		t.Fatalf("open = %+v, %v", open, err)
	}
	id := open[0].ID
	block := "silence/" + strconv.FormatInt(id, 10)
	h.decide(alice, root, triage.Noise, slacktest.ViewValues{
		"conclusion":  {"conclusion": {Value: "the canary flaps"}},
		"fiveWhys":    {"fiveWhys": {Value: "1. deploys"}},
		"ticket":      {"ticket": {Value: "https://tickets.example.com/OPS-10"}},
		"dashboard":   {"dashboard": {Value: "https://grafana.example.com/d/checkout"}},
		"silence_for": {"silence_for": {SelectedOption: "2h"}},
	})
	reply := h.waitMessage(devChannel, ":mute: Silenced until")
	a, err := store.Get(h.ctx, id)
	if err != nil || a.Decision.Silence == nil {
		t.Fatalf("anomaly %+v, %v: want its silence recorded", a, err)
	}
	made, err := sil.Get(h.ctx, a.Decision.Silence.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Bob is no decider: refused, nothing extended.
	h.click(bob, devChannel, reply.TS, bot.ActionExtendSilence, block)
	h.waitEphemeral(bob, "")
	if s, err := sil.Get(h.ctx, made.ID); err != nil || !s.EndsAt.Equal(made.EndsAt) {
		t.Fatalf("after bob's Extend: %+v, %v; want it unchanged", s, err)
	}

	env := h.click(alice, devChannel, reply.TS, bot.ActionExtendSilence, block)
	updated := h.waitMessage(devChannel, "extended 1×")
	if updated.TS != reply.TS {
		t.Errorf("the extension was posted as %s, want the silence message %s updated", updated.TS, reply.TS)
	}
	a, err = store.Get(h.ctx, id)
	if err != nil || a.Decision.Silence.Extensions != 1 {
		t.Fatalf("after Extend: %+v, %v; want 1 extension recorded", a.Decision.Silence, err)
	}
	ext, err := sil.Get(h.ctx, a.Decision.Silence.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := made.EndsAt.Add(2 * time.Hour); !ext.EndsAt.Equal(want) || ext.State != triage.SilenceActive {
		t.Errorf("extended silence ends %s (%s), want %s, active", ext.EndsAt, ext.State, want)
	}
	t.Logf("Alertmanager kept the id on extension: %v (%s → %s)", ext.ID == made.ID, made.ID, ext.ID)
	if n := silencesOf(t, h, am, ext.ID, `alertname="CheckoutFlaps", namespace="shop"`); n != 1 {
		t.Errorf("%d active silences after the extension, want 1", n)
	}

	// The click delivered again: not extended twice.
	if _, err := fs.Redeliver(h.ctx, env.ID, ""); err != nil {
		t.Fatal(err)
	}
	h.slash(alice, "status")
	h.waitEphemeral(alice, "")
	if s, err := sil.Get(h.ctx, ext.ID); err != nil || !s.EndsAt.Equal(ext.EndsAt) {
		t.Errorf("after a redelivery: %+v, %v; want it to end %s still", s, err, ext.EndsAt)
	}
	if a, err := store.Get(h.ctx, id); err != nil || a.Decision.Silence.Extensions != 1 {
		t.Errorf("after a redelivery: %+v, %v; want 1 extension", a.Decision.Silence, err)
	}

	h.click(alice, devChannel, reply.TS, bot.ActionExpireSilence, block)
	ended := h.waitMessage(devChannel, "was expired by")
	if ended.TS != reply.TS || strings.Contains(string(ended.Blocks), bot.ActionExtendSilence) {
		t.Errorf("silence message after Expire %s: %s; want %s updated without buttons", ended.TS, ended.Blocks, reply.TS)
	}
	if s, err := sil.Get(h.ctx, ext.ID); err != nil || s.State != triage.SilenceExpired {
		t.Errorf("after Expire: %+v, %v; want expired", s, err)
	}

	tl, err := store.Timeline(h.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range tl {
		if strings.HasPrefix(string(e.Kind), "silence") {
			kinds = append(kinds, string(e.Kind)+" by "+e.Actor)
		}
	}
	want := []string{"silenced by " + alice, "silence_extended by " + alice, "silence_expired by " + alice}
	if strings.Join(kinds, ", ") != strings.Join(want, ", ") {
		t.Errorf("timeline %v, want %v", kinds, want)
	}
}
