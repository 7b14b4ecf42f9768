package silence

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/alerts"
	"github.com/opsbot/opsbot/testenv"
	"github.com/opsbot/opsbot/triage"
)

// am is the real Alertmanager the tests share (each test uses alert names
// of its own); nil with -short.
var am *testenv.Alertmanager

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if am, err = testenv.StartAlertmanager(ctx, testenv.AlertmanagerOptions{}); err != nil {
		fmt.Fprintf(os.Stderr, "starting Alertmanager: %v\n", err)
		return 1
	}
	defer am.Stop()
	return m.Run()
}

// seq makes names unique across repeated runs (-count) on the shared
// Alertmanager.
var seq atomic.Int64

func uniq(name string) string { return fmt.Sprintf("%s%d", name, seq.Add(1)) }

func realAM(t *testing.T) *testenv.Alertmanager {
	t.Helper()
	if am == nil {
		t.Skip("needs the real Alertmanager (not with -short)")
	}
	return am
}

func newClient(t *testing.T, url string) *Client {
	t.Helper()
	c, err := New(url, Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// firing posts an alert with labels and waits until Alertmanager lists it
// as active.
func firing(t *testing.T, ctx context.Context, labels testenv.Labels) {
	t.Helper()
	if err := am.PostAlerts(ctx, testenv.Alert{Labels: labels, Annotations: map[string]string{"summary": "test alert"}}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, labels["alertname"], testenv.AlertStateActive)
}

// waitState waits until the alerts named name are all in state.
func waitState(t *testing.T, ctx context.Context, name, state string) {
	t.Helper()
	_, err := am.WaitForAlertsFunc(ctx, testenv.AlertQuery{Filter: []string{`alertname="` + name + `"`}}, func(as []testenv.ListedAlert) bool {
		for _, a := range as {
			if a.Status.State != state {
				return false
			}
		}
		return len(as) > 0
	})
	if err != nil {
		t.Fatalf("alert %s never %s: %v", name, state, err)
	}
}

// findings runs the alerts check and returns its findings by alert name.
func findings(t *testing.T, ctx context.Context) map[string]checks.Finding {
	t.Helper()
	c, err := alerts.New(alerts.Config{}, am.URL(), nil, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	res := c.Run(ctx)
	if res.Status == checks.Unknown {
		t.Fatalf("alerts check: %s", res.Summary)
	}
	out := map[string]checks.Finding{}
	for _, f := range res.Findings {
		out[f.Labels["alertname"]] = f
	}
	return out
}

func request(ms []triage.Matcher, key string, d time.Duration) triage.SilenceRequest {
	return triage.SilenceRequest{
		Matchers: ms, EndsAt: time.Now().Add(d), CreatedBy: "Alice Example",
		Comment: "Noise: the canary alerts on every deploy\nhttps://example.slack.com/archives/C1/p1", Key: key,
	}
}

// The alert is gone from the alerts check while its silence lasts, and
// back once the silence is expired.
func TestSilenceHidesTheAlertUntilExpired(t *testing.T) {
	realAM(t)
	ctx := t.Context()
	c := newClient(t, am.URL())
	key := uniq("anomaly-")
	firing(t, ctx, testenv.Labels{"alertname": "CanaryFlaps", "namespace": "shop", "service": "canary", "severity": "warning"})
	// The same alert name in another namespace must stay firing.
	firing(t, ctx, testenv.Labels{"alertname": "CanaryFlaps", "namespace": "payments", "service": "canary", "severity": "warning"})
	waitState(t, ctx, "CanaryFlaps", testenv.AlertStateActive)

	// The finding of the shop alert alone, as the checklist would report
	// it when shop is the environment's namespace.
	check, err := alerts.New(alerts.Config{Matchers: []string{`namespace="shop"`}}, am.URL(), nil, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	res := check.Run(ctx)
	if len(res.Findings) != 1 {
		t.Fatalf("findings %+v, want the shop alert", res.Findings)
	}
	ms, err := triage.SilenceMatchers(res.Findings[0].Labels, false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Silence(ctx, request(ms, key, 24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == "" || s.State != triage.SilenceActive || s.CreatedBy != "Alice Example" ||
		!strings.Contains(s.Comment, "the canary alerts") || !strings.Contains(s.Comment, "[opsbot "+key+"]") {
		t.Errorf("silence %+v", s)
	}
	if len(s.Matchers) != len(ms) || !sameMatchers(s.Matchers, ms) {
		t.Errorf("silence matchers %v, want %v", s.Matchers, ms)
	}
	if d := s.EndsAt.Sub(s.StartsAt); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("silence lasts %s, want 24h", d)
	}

	// Silenced: gone from the check; the payments alert is not.
	_, err = am.WaitForAlertsFunc(ctx, testenv.AlertQuery{Filter: []string{`alertname="CanaryFlaps"`, `namespace="shop"`}}, func(as []testenv.ListedAlert) bool {
		return len(as) == 1 && as[0].Status.State == testenv.AlertStateSuppressed && len(as[0].Status.SilencedBy) == 1 && as[0].Status.SilencedBy[0] == s.ID
	})
	if err != nil {
		t.Fatal(err)
	}
	if res := check.Run(ctx); len(res.Findings) != 0 {
		t.Errorf("silenced alert still reported: %+v", res.Findings)
	}
	if f, ok := findings(t, ctx)["CanaryFlaps"]; !ok || f.Labels["namespace"] != "payments" {
		t.Errorf("the payments alert should still fire, got %+v", f)
	}

	if err := c.Expire(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, s.ID)
	if err != nil || got.State != triage.SilenceExpired {
		t.Fatalf("after Expire: %+v, %v", got, err)
	}
	waitState(t, ctx, "CanaryFlaps", testenv.AlertStateActive)
	if res := check.Run(ctx); len(res.Findings) != 1 {
		t.Errorf("the alert did not come back after the silence expired: %+v", res.Findings)
	}
	// Expiring again is not an error.
	if err := c.Expire(ctx, s.ID); err != nil {
		t.Errorf("second Expire: %v", err)
	}
}

// Two requests with the same key (two clicks, at once or one after the
// other) create one silence; another key creates another.
func TestSilenceIsIdempotentOnTheKey(t *testing.T) {
	realAM(t)
	ctx := t.Context()
	c := newClient(t, am.URL())
	name, key, otherKey := uniq("TwoClicks"), uniq("anomaly-"), uniq("anomaly-")
	ms := []triage.Matcher{{Name: "alertname", Value: name}, {Name: "namespace", Value: "shop"}}

	var wg sync.WaitGroup
	ids := make([]string, 4)
	errs := make([]error, 4)
	for i := range ids {
		wg.Go(func() {
			s, err := c.Silence(ctx, request(ms, key, 2*time.Hour))
			ids[i], errs[i] = s.ID, err
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("concurrent requests created silences %v, want one", ids)
		}
	}
	// The matchers in another order are the same matchers.
	again, err := c.Silence(ctx, request([]triage.Matcher{ms[1], ms[0]}, key, 7*24*time.Hour))
	if err != nil || again.ID != ids[0] {
		t.Errorf("the same key again: %v, %v; want silence %s", again.ID, err, ids[0])
	}
	if n := countActive(t, ctx, c, name); n != 1 {
		t.Errorf("%d silences for %s, want 1", n, name)
	}

	other, err := c.Silence(ctx, request(ms, otherKey, 2*time.Hour))
	if err != nil || other.ID == ids[0] {
		t.Errorf("another key: %v, %v; want a new silence", other.ID, err)
	}
	// Once expired, the key makes a new silence.
	if err := c.Expire(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	renewed, err := c.Silence(ctx, request(ms, key, 2*time.Hour))
	if err != nil || renewed.ID == ids[0] || renewed.State != triage.SilenceActive {
		t.Errorf("after expiry: %+v, %v; want a new active silence", renewed, err)
	}
}

func TestExtend(t *testing.T) {
	realAM(t)
	ctx := t.Context()
	c := newClient(t, am.URL())
	name := uniq("Extended")
	ms := []triage.Matcher{{Name: "alertname", Value: name}, {Name: "namespace", Value: "shop"}}
	s, err := c.Silence(ctx, request(ms, uniq("anomaly-"), 2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Second)
	ext, err := c.Extend(ctx, s.ID, until)
	if err != nil {
		t.Fatal(err)
	}
	if !ext.EndsAt.Equal(until) || ext.State != triage.SilenceActive || !sameMatchers(ext.Matchers, ms) || ext.Comment != s.Comment {
		t.Errorf("extended %+v, want %+v ending %s", ext, s, until)
	}
	if n := countActive(t, ctx, c, name); n != 1 {
		t.Errorf("%d active silences for %s, want 1", n, name)
	}

	if err := c.Expire(ctx, ext.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Extend(ctx, ext.ID, until); !errors.Is(err, opsbot.ErrInvalid) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("extending an expired silence: %v, want an invalid-input error", err)
	}
	if _, err := c.Extend(ctx, "0b5e7c1e-0000-4000-8000-000000000000", until); !errors.Is(err, opsbot.ErrNotFound) {
		t.Errorf("extending an unknown silence: %v, want not found", err)
	}
}

func countActive(t *testing.T, ctx context.Context, c *Client, alertname string) int {
	t.Helper()
	var all []gettableSilence
	if err := c.do(ctx, http.MethodGet, "/api/v2/silences", nil, &all); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range all {
		if g.Status.State != string(triage.SilenceActive) {
			continue
		}
		for _, m := range g.Matchers {
			if m.Name == "alertname" && m.Value == alertname {
				n++
			}
		}
	}
	return n
}

func TestUnknownSilence(t *testing.T) {
	realAM(t)
	ctx := t.Context()
	c := newClient(t, am.URL())
	const id = "0b5e7c1e-0000-4000-8000-000000000001"
	if _, err := c.Get(ctx, id); !errors.Is(err, opsbot.ErrNotFound) {
		t.Errorf("Get: %v, want not found", err)
	}
	if err := c.Expire(ctx, id); !errors.Is(err, opsbot.ErrNotFound) {
		t.Errorf("Expire: %v, want not found", err)
	}
}

// Bad input is refused before anything reaches Alertmanager.
func TestInvalidInputSendsNothing(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "unexpected", http.StatusInternalServerError)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	ctx := t.Context()
	ms := []triage.Matcher{{Name: "alertname", Value: "X"}}
	for name, r := range map[string]triage.SilenceRequest{
		"no matchers":  request(nil, "k", time.Hour),
		"in the past":  request(ms, "k", -time.Minute),
		"no key":       request(ms, "", time.Hour),
		"key brackets": request(ms, "k]", time.Hour),
	} {
		if _, err := c.Silence(ctx, r); !errors.Is(err, opsbot.ErrInvalid) {
			t.Errorf("%s: %v, want invalid input", name, err)
		}
	}
	for _, id := range []string{"", "../alerts", "a b"} {
		if _, err := c.Get(ctx, id); !errors.Is(err, opsbot.ErrInvalid) {
			t.Errorf("Get(%q): %v, want invalid input", id, err)
		}
		if err := c.Expire(ctx, id); !errors.Is(err, opsbot.ErrInvalid) {
			t.Errorf("Expire(%q): %v, want invalid input", id, err)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d requests reached Alertmanager", n)
	}
}

// Errors say what failed without the URL's credentials.
func TestErrorsHideCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://opsbot:s3cr3t@", 1)
	c := newClient(t, u)
	_, err := c.Silence(t.Context(), request([]triage.Matcher{{Name: "alertname", Value: "X"}}, "k", time.Hour))
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "503") {
		t.Errorf("error %v: want the status, without the password", err)
	}
}

// AlertsMatching counts the alerts a silence's matchers match, silenced
// ones included: a silence on a firing alert matches it; one whose alert
// no longer exists matches nothing.
func TestAlertsMatching(t *testing.T) {
	realAM(t)
	ctx := t.Context()
	c := newClient(t, am.URL())
	name := uniq("Matched")
	firing(t, ctx, testenv.Labels{"alertname": name, "namespace": "shop", "severity": "warning"})
	firing(t, ctx, testenv.Labels{"alertname": name, "namespace": "payments", "severity": "warning"})
	shop := []triage.Matcher{{Name: "alertname", Value: name}, {Name: "namespace", Value: "shop"}}
	if _, err := c.Silence(ctx, request(shop, uniq("anomaly-"), time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := am.WaitForAlertsFunc(ctx, testenv.AlertQuery{Filter: []string{`alertname="` + name + `"`, `namespace="shop"`}},
		func(as []testenv.ListedAlert) bool {
			return len(as) == 1 && as[0].Status.State == testenv.AlertStateSuppressed
		}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ms   []triage.Matcher
		want int
	}{
		{shop, 1}, // silenced, still there
		{[]triage.Matcher{{Name: "alertname", Value: name}}, 2},
		{[]triage.Matcher{{Name: "alertname", Value: name}, {Name: "namespace", Value: "gone"}}, 0},
		{[]triage.Matcher{{Name: "alertname", Value: name}, {Name: "namespace", Value: "shop|payments", IsRegex: true}}, 2},
	} {
		got, err := c.AlertsMatching(ctx, tc.ms)
		if err != nil || got != tc.want {
			t.Errorf("AlertsMatching(%v) = %d, %v; want %d", tc.ms, got, err, tc.want)
		}
	}
	if _, err := c.AlertsMatching(ctx, nil); !errors.Is(err, opsbot.ErrInvalid) {
		t.Errorf("no matchers: %v, want invalid", err)
	}
}
