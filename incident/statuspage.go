package incident

import (
	"context"
	"errors"
)

// StatusPageClient is the status page as the incident procedure uses it:
// the port the Service calls, in this package's own types. The statuspage
// package implements it for Atlassian Statuspage
// ((*statuspage.Client).ForIncidents); adapters depend on this package,
// never the reverse.
//
// A failed call returns an error that says whether trying again later may
// succeed: a *RetryableError (rate limits, server errors, timeouts, lost
// connections), or any other error for a failure that will not go away by
// itself (a bad key, an unknown page, refused input). The error's text is
// recorded on the incident (StatusPage.LastError) and shown to the team:
// it must name no secret.
type StatusPageClient interface {
	// Create opens inc on the status page and returns its id there. It is
	// idempotent on inc.Key: when an open incident carrying that key
	// exists (a create whose answer was lost made it), that one's id is
	// returned instead of a second one being made.
	Create(ctx context.Context, inc PublicIncident) (id string, err error)
	// Update posts body as a new update of the incident id. It is not
	// idempotent: a retry after an ambiguous failure may post it twice.
	Update(ctx context.Context, id, body string) error
	// Resolve resolves the incident id with the closing text body. An
	// incident resolved already is left as it is (no error).
	Resolve(ctx context.Context, id, body string) error
	// Find returns the id of the open incident carrying key, and whether
	// there is one.
	Find(ctx context.Context, key string) (id string, found bool, err error)
}

// PublicIncident is an incident as the status page shows it to customers
// (the thread is for the team; the status page is for customers).
type PublicIncident struct {
	// Key is the incident's stable key (StatusPageKey): what makes Create
	// idempotent.
	Key string
	// Name is the title (StatusPageName); Body the first update
	// (StatusPageBody). A new incident is "investigating".
	Name, Body string
}

// RetryableError is a status page failure that may succeed when tried
// again later with the same arguments. Its text is the failure's.
type RetryableError struct{ Err error }

func (e *RetryableError) Error() string { return e.Err.Error() }

// Unwrap returns the failure.
func (e *RetryableError) Unwrap() error { return e.Err }

// IsRetryable reports whether err (from a StatusPageClient) is worth
// trying again later: whether it is, or wraps, a *RetryableError.
func IsRetryable(err error) bool {
	var re *RetryableError
	return errors.As(err, &re)
}
