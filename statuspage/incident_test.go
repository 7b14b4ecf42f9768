package statuspage_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	opsincident "github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/statuspage"
	"github.com/opsbot/opsbot/statuspage/statuspagetest"
)

// The Client as the incident procedure's status page: the port's calls
// reach the page, in the procedure's types.
func TestIncidentPageRoundTrip(t *testing.T) {
	ctx := context.Background()
	srv := statuspagetest.New(t, statuspagetest.Options{})
	var page opsincident.StatusPageClient = newClient(t, config(srv)).ForIncidents()

	in := opsincident.PublicIncident{Key: "opsbot-incident-7", Name: "Checkout fails", Body: "Since 09:30: checkout fails."}
	id, err := page.Create(ctx, in)
	if err != nil || id == "" {
		t.Fatalf("Create: %q, %v", id, err)
	}
	again, err := page.Create(ctx, in)
	if err != nil || again != id {
		t.Errorf("Create again: %q, %v; want %q (idempotent on the key)", again, err, id)
	}
	got := srv.Incidents()
	if len(got) != 1 || got[0].Name != in.Name || got[0].Status != string(statuspage.Investigating) {
		t.Fatalf("page: %+v", got)
	}
	if found, ok, err := page.Find(ctx, in.Key); err != nil || !ok || found != id {
		t.Errorf("Find: %q %v, %v", found, ok, err)
	}
	if found, ok, err := page.Find(ctx, "opsbot-incident-8"); err != nil || ok || found != "" {
		t.Errorf("Find of another key: %q %v, %v", found, ok, err)
	}
	if err := page.Update(ctx, id, "A fix is being deployed."); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := page.Resolve(ctx, id, "Resolved."); err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if err := page.Resolve(ctx, id, "Resolved."); err != nil {
		t.Errorf("Resolve again: %v", err)
	}
	if got := srv.Incidents(); got[0].Status != string(statuspage.Resolved) || got[0].IncidentUpdates[1].Body != "A fix is being deployed." {
		t.Errorf("page after resolving: %+v", got[0])
	}
}

// Failures keep the Client's text and errors, and say whether trying
// again may help in the procedure's terms.
func TestIncidentPageClassifiesFailures(t *testing.T) {
	ctx := context.Background()
	srv := statuspagetest.New(t, statuspagetest.Options{})
	page := newClient(t, config(srv)).ForIncidents()
	for _, tc := range []struct {
		status    int
		retryable bool
	}{
		{http.StatusServiceUnavailable, true},
		{http.StatusUnauthorized, false},
		{http.StatusUnprocessableEntity, false},
	} {
		srv.FailNext(tc.status, 1)
		_, err := page.Create(ctx, opsincident.PublicIncident{Key: "opsbot-incident-1", Name: "n", Body: "b"})
		var api *statuspage.APIError
		if err == nil || opsincident.IsRetryable(err) != tc.retryable || !errors.As(err, &api) || api.StatusCode != tc.status {
			t.Errorf("HTTP %d: %v (retryable %v, want %v)", tc.status, err, opsincident.IsRetryable(err), tc.retryable)
		}
		if err != nil && strings.Contains(err.Error(), srv.APIKey) {
			t.Errorf("HTTP %d: the API key is in %v", tc.status, err)
		}
	}
	srv.Down()
	if err := page.Update(ctx, "inc1", "x"); !opsincident.IsRetryable(err) {
		t.Errorf("server down: %v is not retryable", err)
	}
	srv.Up()
	if err := page.Resolve(ctx, "nosuchincident", "x"); err == nil || opsincident.IsRetryable(err) {
		t.Errorf("unknown incident: %v", err)
	}
	if _, _, err := page.Find(ctx, ""); err == nil || opsincident.IsRetryable(err) {
		t.Errorf("empty key: %v", err)
	}
}
