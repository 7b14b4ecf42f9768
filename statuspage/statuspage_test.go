package statuspage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/statuspage"
	"github.com/opsbot/opsbot/statuspage/statuspagetest"
)

// fastPace keeps tests quick; TestPacingStaysUnderTheLimit uses a real pace.
const fastPace = 1000

func config(srv *statuspagetest.Server) statuspage.Config {
	return statuspage.Config{
		BaseURL:           srv.URL(),
		PageID:            srv.PageID,
		APIKey:            httpx.Secret(srv.APIKey),
		Components:        []string{"cmpapi", "cmpweb"},
		Timeout:           model.Duration(20 * time.Second),
		RequestsPerSecond: fastPace,
	}
}

func newClient(t *testing.T, cfg statuspage.Config) *statuspage.Client {
	t.Helper()
	c, err := statuspage.New(cfg, nil, zap.NewNop())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func count(reqs []statuspagetest.Request, method string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method {
			n++
		}
	}
	return n
}

func incident(key string) statuspage.Incident {
	return statuspage.Incident{Key: key, Name: "Checkout errors", Body: "We are investigating errors at checkout."}
}

func TestCreateUpdateResolveRoundTrip(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	c := newClient(t, config(srv))
	ctx := context.Background()

	created, err := c.CreateIncident(ctx, incident("opsbot-incident-42"))
	if err != nil {
		t.Fatalf("CreateIncident: %v", err)
	}
	if created.ID == "" || created.Key != "opsbot-incident-42" || created.Status != statuspage.Investigating ||
		created.Name != "Checkout errors" || created.Body != "We are investigating errors at checkout." {
		t.Errorf("created = %+v", created)
	}
	if created.Components["cmpapi"] != statuspage.PartialOutage || created.Components["cmpweb"] != statuspage.PartialOutage {
		t.Errorf("created components = %v, want the configured ones in partial_outage", created.Components)
	}
	incs := srv.Incidents()
	if len(incs) != 1 {
		t.Fatalf("fake has %d incidents, want 1", len(incs))
	}
	var meta map[string]map[string]string
	if err := json.Unmarshal(incs[0].Metadata, &meta); err != nil || meta["opsbot"]["key"] != "opsbot-incident-42" {
		t.Errorf("metadata = %s (%v), want {\"opsbot\":{\"key\":\"opsbot-incident-42\"}}", incs[0].Metadata, err)
	}
	if !incs[0].IncidentUpdates[0].DeliverNotifications {
		t.Error("the first update was created without notifications")
	}

	updated, err := c.UpdateIncident(ctx, created.ID, statuspage.Update{
		Status:     statuspage.Identified,
		Body:       "A bad deploy; rolling back.",
		Components: map[string]statuspage.ComponentStatus{"cmpapi": statuspage.MajorOutage},
	})
	if err != nil {
		t.Fatalf("UpdateIncident: %v", err)
	}
	if updated.Status != statuspage.Identified || updated.Body != "A bad deploy; rolling back." || updated.Key != "opsbot-incident-42" {
		t.Errorf("updated = %+v", updated)
	}
	if got := srv.ComponentStatus("cmpapi"); got != "major_outage" {
		t.Errorf("cmpapi is %q after the update, want major_outage", got)
	}

	resolved, err := c.ResolveIncident(ctx, created.ID, "Rolled back; checkout works again.")
	if err != nil {
		t.Fatalf("ResolveIncident: %v", err)
	}
	if resolved.Status != statuspage.Resolved || resolved.ResolvedAt.IsZero() || resolved.Body != "Rolled back; checkout works again." {
		t.Errorf("resolved = %+v", resolved)
	}
	for _, id := range []string{"cmpapi", "cmpweb"} {
		if got := srv.ComponentStatus(id); got != "operational" {
			t.Errorf("%s is %q after resolving, want operational", id, got)
		}
	}
	if n := len(srv.Incidents()[0].IncidentUpdates); n != 3 {
		t.Errorf("the incident has %d updates, want 3 (created, identified, resolved)", n)
	}

	// Resolving again changes nothing and posts no second update.
	again, err := c.ResolveIncident(ctx, created.ID, "Rolled back; checkout works again.")
	if err != nil {
		t.Fatalf("second ResolveIncident: %v", err)
	}
	if again.ID != created.ID || again.Status != statuspage.Resolved {
		t.Errorf("second resolve = %+v", again)
	}
	reqs := srv.Requests()
	if n := count(reqs, http.MethodPatch); n != 2 {
		t.Errorf("%d PATCH requests, want 2 (update, resolve)", n)
	}
	if n := count(reqs, http.MethodPost); n != 1 {
		t.Errorf("%d POST requests, want 1", n)
	}
	for _, r := range reqs {
		if r.Authorization != "OAuth "+srv.APIKey {
			t.Errorf("%s %s: Authorization %q, want OAuth <key>", r.Method, r.Path, r.Authorization)
		}
	}

	// A resolved incident is no longer found by its key.
	if _, ok, err := c.FindIncident(ctx, "opsbot-incident-42"); err != nil || ok {
		t.Errorf("FindIncident after resolve = found %v, err %v; want not found", ok, err)
	}
}

func TestCreateWithExplicitComponentsAndQuiet(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	c := newClient(t, config(srv))
	inc := incident("opsbot-incident-7")
	inc.Status = statuspage.Identified
	inc.Components = map[string]statuspage.ComponentStatus{"cmpdb": statuspage.DegradedPerformance}
	inc.Quiet = true
	got, err := c.CreateIncident(context.Background(), inc)
	if err != nil {
		t.Fatalf("CreateIncident: %v", err)
	}
	if got.Status != statuspage.Identified || len(got.Components) != 1 || got.Components["cmpdb"] != statuspage.DegradedPerformance {
		t.Errorf("created = %+v", got)
	}
	if srv.ComponentStatus("cmpapi") != "" {
		t.Error("the configured components were used although the incident named its own")
	}
	if srv.Incidents()[0].IncidentUpdates[0].DeliverNotifications {
		t.Error("a quiet incident was created with notifications")
	}
}

func TestCreateIsIdempotent(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	c := newClient(t, config(srv))
	ctx := context.Background()
	first, err := c.CreateIncident(ctx, incident("opsbot-incident-42"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.CreateIncident(ctx, incident("opsbot-incident-42"))
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID {
		t.Errorf("second create returned %s, want the first incident %s", second.ID, first.ID)
	}
	if _, err := c.CreateIncident(ctx, incident("opsbot-incident-43")); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Incidents()); n != 2 {
		t.Errorf("fake has %d incidents, want 2 (one per key)", n)
	}
	if n := count(srv.Requests(), http.MethodPost); n != 2 {
		t.Errorf("%d POST requests, want 2", n)
	}
}

func TestCreateAfterLostResponseFindsTheIncident(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	c := newClient(t, config(srv))
	ctx := context.Background()

	srv.LoseResponseNext(1)
	_, err := c.CreateIncident(ctx, incident("opsbot-incident-42"))
	if err == nil {
		t.Fatal("CreateIncident succeeded although its answer was lost")
	}
	if !statuspage.IsRetryable(err) {
		t.Errorf("a lost answer is not retryable: %v", err)
	}
	if n := len(srv.Incidents()); n != 1 {
		t.Fatalf("fake has %d incidents after the lost answer, want 1", n)
	}

	got, err := c.CreateIncident(ctx, incident("opsbot-incident-42"))
	if err != nil {
		t.Fatalf("retried CreateIncident: %v", err)
	}
	if want := srv.Incidents()[0].ID; got.ID != want {
		t.Errorf("retry returned %q, want the incident the lost create made (%s)", got.ID, want)
	}
	if n := len(srv.Incidents()); n != 1 {
		t.Errorf("fake has %d incidents after the retry, want 1", n)
	}
	if n := count(srv.Requests(), http.MethodPost); n != 1 {
		t.Errorf("%d POST requests, want 1", n)
	}
}

func TestConcurrentCreatesOfOneKeyMakeOneIncident(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	c := newClient(t, config(srv))
	var wg sync.WaitGroup
	ids := make([]string, 5)
	errs := make([]error, 5)
	for i := range ids {
		wg.Go(func() {
			inc, err := c.CreateIncident(context.Background(), incident("opsbot-incident-42"))
			ids[i], errs[i] = inc.ID, err
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("create %d returned %s, create 0 %s", i, ids[i], ids[0])
		}
	}
	if n := len(srv.Incidents()); n != 1 {
		t.Errorf("fake has %d incidents, want 1", n)
	}
}

func TestFindIncident(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	// The incident with the key is the oldest, so it is on the second
	// page of 100 unresolved incidents (newest first).
	want := srv.AddIncident(statuspagetest.Incident{Name: "made by another replica",
		Metadata: json.RawMessage(`{"opsbot":{"key":"opsbot-incident-9"}}`)})
	for i := range 120 {
		srv.AddIncident(statuspagetest.Incident{Name: fmt.Sprintf("other %d", i)})
	}
	srv.AddIncident(statuspagetest.Incident{Name: "resolved one", Status: "resolved",
		Metadata: json.RawMessage(`{"opsbot":{"key":"opsbot-incident-10"}}`)})
	c := newClient(t, config(srv))
	ctx := context.Background()

	got, ok, err := c.FindIncident(ctx, "opsbot-incident-9")
	if err != nil || !ok {
		t.Fatalf("FindIncident = found %v, err %v", ok, err)
	}
	if got.ID != want.ID || got.Key != "opsbot-incident-9" || got.Name != "made by another replica" {
		t.Errorf("found %+v, want %s", got, want.ID)
	}
	if _, ok, err := c.FindIncident(ctx, "opsbot-incident-10"); err != nil || ok {
		t.Errorf("a resolved incident was found (ok %v, err %v)", ok, err)
	}
	if _, ok, err := c.FindIncident(ctx, "opsbot-incident-11"); err != nil || ok {
		t.Errorf("an unknown key was found (ok %v, err %v)", ok, err)
	}
}

func TestWrongKeyIsNotRetryableAndNeverShown(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	core, logs := observer.New(zapcore.DebugLevel)
	cfg := config(srv)
	const wrong = "wrong-key-s3cr3t-value"
	cfg.APIKey = wrong
	c, err := statuspage.New(cfg, nil, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateIncident(context.Background(), incident("opsbot-incident-42"))
	if err == nil {
		t.Fatal("CreateIncident with a wrong key succeeded")
	}
	var api *statuspage.APIError
	if !errors.As(err, &api) || api.StatusCode != http.StatusUnauthorized {
		t.Errorf("err = %v, want an *APIError with 401", err)
	}
	if statuspage.IsRetryable(err) {
		t.Errorf("401 is retryable: %v", err)
	}
	if !strings.Contains(err.Error(), "Could not authenticate") {
		t.Errorf("error %q does not carry the API's message", err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, cfg), wrong) {
		t.Errorf("the API key appears in the error or the config: %v", err)
	}
	for _, e := range logs.All() {
		if line := fmt.Sprintf("%s %v", e.Message, e.ContextMap()); strings.Contains(line, wrong) {
			t.Errorf("the API key appears in a log line: %s", line)
		}
	}
	if len(srv.Incidents()) != 0 {
		t.Error("an incident was created with a wrong key")
	}
	if got := srv.Requests()[0].Authorization; got != "OAuth "+wrong {
		t.Errorf("Authorization = %q, want OAuth <key>", got)
	}
}

func TestRateLimitIsRetriedAfterRetryAfter(t *testing.T) {
	for _, retryAfter := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(retryAfter.String(), func(t *testing.T) {
			srv := statuspagetest.New(t, statuspagetest.Options{})
			c := newClient(t, config(srv))
			srv.RateLimitNext(1, retryAfter)
			if _, err := c.CreateIncident(context.Background(), incident("opsbot-incident-42")); err != nil {
				t.Fatalf("CreateIncident: %v", err)
			}
			reqs := srv.Requests()
			if reqs[0].Status != http.StatusTooManyRequests || reqs[1].Method != reqs[0].Method || reqs[1].Status != http.StatusOK {
				t.Errorf("requests: %v, want a 429 then the same request again with 200", statuses(reqs))
			}
			if len(srv.Incidents()) != 1 {
				t.Errorf("fake has %d incidents, want 1", len(srv.Incidents()))
			}
		})
	}
}

func TestRateLimitTwiceIsARetryableError(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	c := newClient(t, config(srv))
	srv.RateLimitNext(2, 0)
	_, _, err := c.FindIncident(context.Background(), "opsbot-incident-42")
	var rl *statuspage.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 0 {
		t.Fatalf("err = %v, want a *RateLimitError with RetryAfter 0", err)
	}
	if !statuspage.IsRetryable(err) {
		t.Errorf("a rate limit is not retryable: %v", err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2 (one retry only)", n)
	}
}

func TestRateLimitBeyondTheDeadlineIsNotWaitedFor(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	c := newClient(t, config(srv))
	srv.RateLimitNext(1, time.Hour)
	_, _, err := c.FindIncident(context.Background(), "opsbot-incident-42")
	var rl *statuspage.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Hour {
		t.Fatalf("err = %v, want a *RateLimitError with RetryAfter 1h", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	// The client now holds back: the next call fails without a request.
	_, _, err = c.FindIncident(context.Background(), "opsbot-incident-42")
	if err == nil || !statuspage.IsRetryable(err) {
		t.Errorf("call during the Retry-After = %v, want a retryable error", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want still 1", n)
	}
}

func TestErrorStatuses(t *testing.T) {
	for _, tc := range []struct {
		status    int
		retryable bool
	}{
		{http.StatusServiceUnavailable, true},
		{http.StatusInternalServerError, true},
		{http.StatusBadGateway, true},
		{http.StatusUnauthorized, false},
		{http.StatusForbidden, false},
		{http.StatusNotFound, false},
		{http.StatusUnprocessableEntity, false},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv := statuspagetest.New(t, statuspagetest.Options{})
			c := newClient(t, config(srv))
			srv.FailNext(tc.status, 1)
			_, err := c.CreateIncident(context.Background(), incident("opsbot-incident-42"))
			var api *statuspage.APIError
			if !errors.As(err, &api) || api.StatusCode != tc.status {
				t.Fatalf("err = %v, want an *APIError with %d", err, tc.status)
			}
			if got := statuspage.IsRetryable(err); got != tc.retryable {
				t.Errorf("IsRetryable = %v, want %v (%v)", got, tc.retryable, err)
			}
			if !strings.Contains(err.Error(), http.StatusText(tc.status)) || !strings.Contains(err.Error(), "opsbot-incident-42") {
				t.Errorf("error %q lacks the status or the key", err)
			}
			if len(srv.Incidents()) != 0 {
				t.Error("an incident was created")
			}
		})
	}
}

func TestValidationErrorFromTheAPI(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{Components: []string{"cmpapi"}})
	c := newClient(t, config(srv)) // configures cmpapi and cmpweb; the page has no cmpweb
	_, err := c.CreateIncident(context.Background(), incident("opsbot-incident-42"))
	var api *statuspage.APIError
	if !errors.As(err, &api) || api.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("err = %v, want an *APIError with 422", err)
	}
	if statuspage.IsRetryable(err) {
		t.Error("422 is retryable")
	}
	if !strings.Contains(api.Message, "cmpweb") {
		t.Errorf("message %q does not say which component", api.Message)
	}
}

func TestUnknownPageAndIncident(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	cfg := config(srv)
	cfg.PageID = "otherpage123"
	_, err := newClient(t, cfg).CreateIncident(context.Background(), incident("opsbot-incident-42"))
	var api *statuspage.APIError
	if !errors.As(err, &api) || api.StatusCode != http.StatusNotFound || statuspage.IsRetryable(err) {
		t.Errorf("unknown page: err = %v, want a non-retryable 404", err)
	}

	c := newClient(t, config(srv))
	_, err = c.UpdateIncident(context.Background(), "nosuchincident", statuspage.Update{Body: "x"})
	if !errors.As(err, &api) || api.StatusCode != http.StatusNotFound || statuspage.IsRetryable(err) {
		t.Errorf("unknown incident update: err = %v, want a non-retryable 404", err)
	}
	_, err = c.ResolveIncident(context.Background(), "nosuchincident", "done")
	if !errors.As(err, &api) || api.StatusCode != http.StatusNotFound {
		t.Errorf("unknown incident resolve: err = %v, want a 404", err)
	}
}

func TestInvalidArgumentsSendNothing(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	c := newClient(t, config(srv))
	ctx := context.Background()
	long := strings.Repeat("x", 256)
	for name, call := range map[string]func() error{
		"no key":  func() error { _, err := c.CreateIncident(ctx, incident("")); return err },
		"no name": func() error { _, err := c.CreateIncident(ctx, statuspage.Incident{Key: "k"}); return err },
		"long name": func() error {
			_, err := c.CreateIncident(ctx, statuspage.Incident{Key: "k", Name: long})
			return err
		},
		"bad status": func() error {
			_, err := c.CreateIncident(ctx, statuspage.Incident{Key: "k", Name: "n", Status: "open"})
			return err
		},
		"bad component status": func() error {
			_, err := c.CreateIncident(ctx, statuspage.Incident{Key: "k", Name: "n",
				Components: map[string]statuspage.ComponentStatus{"cmpapi": "down"}})
			return err
		},
		"empty update": func() error {
			_, err := c.UpdateIncident(ctx, "inc1", statuspage.Update{})
			return err
		},
		"bad incident id": func() error {
			_, err := c.UpdateIncident(ctx, "../x", statuspage.Update{Body: "b"})
			return err
		},
		"resolve without text": func() error { _, err := c.ResolveIncident(ctx, "inc1", " "); return err },
		"find without key": func() error {
			_, _, err := c.FindIncident(ctx, "")
			return err
		},
	} {
		err := call()
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if statuspage.IsRetryable(err) {
			t.Errorf("%s: retryable: %v", name, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for invalid arguments", n)
	}
}

func TestHangingServerRespectsTheTimeout(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	cfg := config(srv)
	cfg.Timeout = model.Duration(100 * time.Millisecond)
	c := newClient(t, cfg)
	srv.Hang()
	_, err := c.CreateIncident(context.Background(), incident("opsbot-incident-42"))
	if err == nil {
		t.Fatal("CreateIncident succeeded against a hanging server")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !statuspage.IsRetryable(err) {
		t.Errorf("err = %v, want a retryable deadline error", err)
	}
	if !strings.Contains(err.Error(), "no answer from Statuspage within 100ms") {
		t.Errorf("error %q does not give the timeout's cause", err)
	}

	// The caller's own, shorter deadline is respected too.
	cfg.Timeout = model.Duration(time.Hour)
	c = newClient(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := c.FindIncident(ctx, "opsbot-incident-42"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
}

func TestCancelledCallIsNotRetryable(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	c := newClient(t, config(srv))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.CreateIncident(ctx, incident("opsbot-incident-42"))
	if !errors.Is(err, context.Canceled) || statuspage.IsRetryable(err) {
		t.Errorf("err = %v, want a non-retryable cancellation", err)
	}
}

func TestServerDownIsRetryable(t *testing.T) {
	srv := statuspagetest.New(t, statuspagetest.Options{})
	c := newClient(t, config(srv))
	srv.Down()
	_, err := c.CreateIncident(context.Background(), incident("opsbot-incident-42"))
	if err == nil || !statuspage.IsRetryable(err) {
		t.Fatalf("err = %v, want a retryable error", err)
	}
	srv.Up()
	if _, err := c.CreateIncident(context.Background(), incident("opsbot-incident-42")); err != nil {
		t.Errorf("after Up: %v", err)
	}
}

// TestPacingStaysUnderTheLimit runs the client at its real pace against a
// fake enforcing the same limit: without pacing, the burst would exceed the
// fake's bucket and get 429s. It takes about a second: the client's own
// waits.
func TestPacingStaysUnderTheLimit(t *testing.T) {
	const perSecond = 4
	srv := statuspagetest.New(t, statuspagetest.Options{RateLimit: perSecond})
	cfg := config(srv)
	cfg.RequestsPerSecond = perSecond
	c := newClient(t, cfg)
	for i := range perSecond + 2 {
		if _, _, err := c.FindIncident(context.Background(), "opsbot-incident-42"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			t.Fatalf("the client hit the rate limit: %v", statuses(srv.Requests()))
		}
	}
}

func TestNewValidates(t *testing.T) {
	_, err := statuspage.New(statuspage.Config{}, nil, nil)
	if err == nil {
		t.Fatal("New accepted an empty config")
	}
	for _, key := range []string{"pageID", "apiKeyEnv"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}
}

func statuses(reqs []statuspagetest.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, fmt.Sprintf("%s %s → %d", r.Method, r.Path, r.Status))
	}
	return out
}
