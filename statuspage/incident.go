package statuspage

import (
	"context"

	"github.com/opsbot/opsbot/incident"
)

// IncidentPage is a Client as the incident procedure's status page: it
// implements incident.StatusPageClient, the port the incident package
// owns, translating its types to Statuspage's and classifying failures
// with IsRetryable (a retryable one is returned as an
// *incident.RetryableError wrapping the Client's error, whose text it
// keeps). Get one with Client.ForIncidents.
type IncidentPage struct{ c *Client }

var _ incident.StatusPageClient = (*IncidentPage)(nil)

// ForIncidents returns c as the incident procedure's status page.
func (c *Client) ForIncidents() *IncidentPage { return &IncidentPage{c: c} }

// Create implements incident.StatusPageClient: CreateIncident with the
// configured components, investigating.
func (p *IncidentPage) Create(ctx context.Context, inc incident.PublicIncident) (string, error) {
	created, err := p.c.CreateIncident(ctx, Incident{Key: inc.Key, Name: inc.Name, Body: inc.Body, Status: Investigating})
	if err != nil {
		return "", classify(err)
	}
	return created.ID, nil
}

// Update implements incident.StatusPageClient: UpdateIncident with body.
func (p *IncidentPage) Update(ctx context.Context, id, body string) error {
	_, err := p.c.UpdateIncident(ctx, id, Update{Body: body})
	return classify(err)
}

// Resolve implements incident.StatusPageClient: ResolveIncident.
func (p *IncidentPage) Resolve(ctx context.Context, id, body string) error {
	_, err := p.c.ResolveIncident(ctx, id, body)
	return classify(err)
}

// Find implements incident.StatusPageClient: FindIncident.
func (p *IncidentPage) Find(ctx context.Context, key string) (string, bool, error) {
	found, ok, err := p.c.FindIncident(ctx, key)
	if err != nil {
		return "", false, classify(err)
	}
	return found.ID, ok, nil
}

// classify marks a retryable error as such for the incident procedure.
func classify(err error) error {
	if err != nil && IsRetryable(err) {
		return &incident.RetryableError{Err: err}
	}
	return err
}
