// Package statuspage is the status page part of the incident runbook: for a
// user-impacting incident opsbot opens an incident on the team's Atlassian
// Statuspage page, posts its updates and resolves it, through Statuspage's
// REST API v1 (https://api.statuspage.io/v1, "Authorization: OAuth <key>").
// Client.ForIncidents adapts a Client to the port the incident package
// owns (incident.StatusPageClient); statuspagetest is the API's fake.
// The calls:
//
//	POST  /pages/{page_id}/incidents                create
//	PATCH /pages/{page_id}/incidents/{incident_id}  update, resolve
//	GET   /pages/{page_id}/incidents/{incident_id}  read before resolving
//	GET   /pages/{page_id}/incidents/unresolved     find by opsbot's key
//
// # Idempotent create
//
// Statuspage has no idempotency-key header. The caller gives each incident
// a stable key (opsbot's incident id, "opsbot-incident-42"); CreateIncident
// stores it in the incident's metadata as {"opsbot": {"key": "..."}}
// (Statuspage requires top-level metadata values to be objects) and, before
// creating, lists the unresolved incidents and returns the one that carries
// the key. So a create retried after a lost answer returns the incident the
// first attempt made instead of making a second one.
//
// What this does not cover, honestly: (1) two processes (replicas, or a
// person with the same tooling) creating the same key at the same moment:
// between the list and the POST (at least one pacing interval, about a
// second) both can see nothing and both create; within one Client, creates
// are serialized, so this race needs two processes. (2) An incident
// resolved in the meantime is not found (only unresolved incidents are
// listed), so a create retried after its incident was resolved opens a new
// one. (3) Only the first 5 pages of 100 unresolved incidents are searched.
// (4) It relies on Statuspage returning metadata in the incident list, as
// its API reference documents; it was checked against that reference and
// the fake, not against the live API.
//
// ResolveIncident reads the incident first: resolving an incident that is
// already resolved returns it unchanged (no second "resolved" update and
// notification), and the components the incident affects are set back to
// operational. UpdateIncident is not idempotent: a retry after an ambiguous
// failure may post the update twice.
//
// # Errors and rate limit
//
// Errors are wrapped (%w) and classified by IsRetryable: *RateLimitError
// (429 or 420, with the server's Retry-After), *APIError with 5xx, timeouts
// and connection failures are retryable; *APIError with 401, 403, 404 or
// 422 (with the API's message) and invalid arguments are not. The API key
// appears in no error and no log line.
//
// Statuspage allows one request per second per API key (over a 60-second
// rolling window). The client paces its own requests to that rate (config
// requestsPerSecond), and when it is refused anyway (another user of the
// same key) it waits for Retry-After and retries once, if the call's
// deadline allows. Each method is bounded by the configured timeout
// (context.WithTimeoutCause), pacing waits included.
package statuspage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/internal/httpx"
)

const (
	// maxAnswer bounds the size of an answer read.
	maxAnswer = 8 << 20
	// listPageSize and maxListPages bound the search of FindIncident.
	listPageSize = 100
	maxListPages = 5
)

// Client talks to one Statuspage page. It is safe for concurrent use.
type Client struct {
	cfg    Config
	base   string
	http   *http.Client
	logger *zap.Logger
	pace   *pacer
	// createSem serializes CreateIncident within the process, so two
	// concurrent creates of one key cannot both miss each other.
	createSem chan struct{}
}

// New returns a client for cfg (defaulted and validated). httpClient may be
// nil (a client from internal/httpx, sending opsbot's User-Agent); the API
// key is added to each request by Client itself. logger may be nil.
func New(cfg Config, httpClient *http.Client, logger *zap.Logger) (*Client, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("statuspage config: %w", err)
	}
	if httpClient == nil {
		httpClient = httpx.NewClient(httpx.Options{})
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Client{
		cfg:       cfg,
		base:      strings.TrimRight(cfg.BaseURL, "/"),
		http:      httpClient,
		logger:    logger.With(zap.String("component", "statuspage"), zap.String("page_id", cfg.PageID)),
		pace:      newPacer(cfg.RequestsPerSecond),
		createSem: make(chan struct{}, 1),
	}, nil
}

// callContext bounds one call of the client with the configured timeout.
func (c *Client) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	t := time.Duration(c.cfg.Timeout)
	return context.WithTimeoutCause(ctx, t, fmt.Errorf("no answer from Statuspage within %s", t))
}

// CreateIncident opens inc on the page, or returns the unresolved incident
// that already carries inc.Key (see the package documentation). inc.Key and
// inc.Name are required; Status defaults to investigating; nil Components
// means the configured components with the configured status.
func (c *Client) CreateIncident(ctx context.Context, inc Incident) (Incident, error) {
	fail := func(err error) (Incident, error) {
		return Incident{}, fmt.Errorf("statuspage: create incident %q: %w", inc.Key, err)
	}
	if inc.Status == "" {
		inc.Status = Investigating
	}
	if inc.Components == nil && len(c.cfg.Components) > 0 {
		inc.Components = make(map[string]ComponentStatus, len(c.cfg.Components))
		for _, id := range c.cfg.Components {
			inc.Components[id] = c.cfg.ComponentStatus
		}
	}
	if err := checkKey(inc.Key); err != nil {
		return fail(err)
	}
	if err := checkFields(true, inc.Name, inc.Status, inc.Body, inc.Components); err != nil {
		return fail(err)
	}
	ctx, cancel := c.callContext(ctx)
	defer cancel()

	select {
	case c.createSem <- struct{}{}:
		defer func() { <-c.createSem }()
	case <-ctx.Done():
		return fail(newRequestError(ctx, "waiting for another create", ctx.Err(), c.redact))
	}

	if found, ok, err := c.find(ctx, inc.Key); err != nil {
		return fail(fmt.Errorf("looking for an existing incident: %w", err))
	} else if ok {
		c.logger.Info("statuspage incident already exists; not creating another",
			zap.String("key", inc.Key), zap.String("incident_id", found.ID))
		return found, nil
	}

	f := newIncidentFields(inc.Name, inc.Status, inc.Body, inc.Components, inc.Quiet)
	f.Metadata = map[string]map[string]string{metadataNamespace: {"key": inc.Key}}
	var out apiIncident
	if err := c.do(ctx, "create incident", http.MethodPost, c.pagePath("incidents"), nil, incidentBody{f}, &out); err != nil {
		return fail(err)
	}
	created := out.incident()
	c.logger.Info("statuspage incident created", zap.String("key", inc.Key),
		zap.String("incident_id", created.ID), zap.String("status", string(created.Status)),
		zap.String("shortlink", created.Shortlink))
	return created, nil
}

// UpdateIncident posts u on the incident id (a new incident update; with
// u.Status resolved it resolves, but prefer ResolveIncident). It is not
// idempotent: see IsRetryable.
func (c *Client) UpdateIncident(ctx context.Context, id string, u Update) (Incident, error) {
	fail := func(err error) (Incident, error) {
		return Incident{}, fmt.Errorf("statuspage: update incident %s: %w", id, err)
	}
	if !idRE.MatchString(id) {
		return fail(fmt.Errorf("%q is not a Statuspage incident id", id))
	}
	if u.Status == "" && u.Body == "" && u.Name == "" && len(u.Components) == 0 {
		return fail(errors.New("nothing to update: give a status, a body, components or a name"))
	}
	if err := checkFields(false, u.Name, u.Status, u.Body, u.Components); err != nil {
		return fail(err)
	}
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	f := newIncidentFields(u.Name, u.Status, u.Body, u.Components, u.Quiet)
	var out apiIncident
	if err := c.do(ctx, "update incident", http.MethodPatch, c.pagePath("incidents", id), nil, incidentBody{f}, &out); err != nil {
		return fail(err)
	}
	updated := out.incident()
	c.logger.Info("statuspage incident updated", zap.String("incident_id", id),
		zap.String("key", updated.Key), zap.String("status", string(updated.Status)))
	return updated, nil
}

// ResolveIncident resolves the incident id with the closing text body and
// sets the components it affects back to operational. An incident that is
// already resolved is returned as it is.
func (c *Client) ResolveIncident(ctx context.Context, id, body string) (Incident, error) {
	fail := func(err error) (Incident, error) {
		return Incident{}, fmt.Errorf("statuspage: resolve incident %s: %w", id, err)
	}
	if !idRE.MatchString(id) {
		return fail(fmt.Errorf("%q is not a Statuspage incident id", id))
	}
	if strings.TrimSpace(body) == "" {
		return fail(errors.New("the resolution text (body) is required"))
	}
	if err := checkFields(false, "", Resolved, body, nil); err != nil {
		return fail(err)
	}
	ctx, cancel := c.callContext(ctx)
	defer cancel()

	var cur apiIncident
	if err := c.do(ctx, "read incident", http.MethodGet, c.pagePath("incidents", id), nil, nil, &cur); err != nil {
		return fail(err)
	}
	if current := cur.incident(); current.Status == Resolved {
		c.logger.Info("statuspage incident already resolved", zap.String("incident_id", id),
			zap.String("key", current.Key))
		return current, nil
	}
	comps := make(map[string]ComponentStatus, len(cur.Components))
	for _, comp := range cur.Components {
		comps[comp.ID] = Operational
	}
	f := newIncidentFields("", Resolved, body, comps, false)
	var out apiIncident
	if err := c.do(ctx, "resolve incident", http.MethodPatch, c.pagePath("incidents", id), nil, incidentBody{f}, &out); err != nil {
		return fail(err)
	}
	resolved := out.incident()
	c.logger.Info("statuspage incident resolved", zap.String("incident_id", id), zap.String("key", resolved.Key))
	return resolved, nil
}

// FindIncident returns the unresolved incident whose metadata carries key
// (the newest, should there be several), and whether there is one.
func (c *Client) FindIncident(ctx context.Context, key string) (Incident, bool, error) {
	if err := checkKey(key); err != nil {
		return Incident{}, false, fmt.Errorf("statuspage: find incident %q: %w", key, err)
	}
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	inc, ok, err := c.find(ctx, key)
	if err != nil {
		return Incident{}, false, fmt.Errorf("statuspage: find incident %q: %w", key, err)
	}
	return inc, ok, nil
}

// find lists the unresolved incidents, page by page, for key.
func (c *Client) find(ctx context.Context, key string) (Incident, bool, error) {
	var best *apiIncident
	for page := 1; page <= maxListPages; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(listPageSize)}}
		var list []apiIncident
		if err := c.do(ctx, "list unresolved incidents", http.MethodGet, c.pagePath("incidents", "unresolved"), q, nil, &list); err != nil {
			return Incident{}, false, err
		}
		for i := range list {
			if list[i].key() == key && (best == nil || list[i].CreatedAt.After(best.CreatedAt)) {
				best = &list[i]
			}
		}
		if len(list) < listPageSize {
			break
		}
	}
	if best == nil {
		return Incident{}, false, nil
	}
	return best.incident(), true, nil
}

func (c *Client) pagePath(parts ...string) string {
	p := "/pages/" + url.PathEscape(c.cfg.PageID)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// redact removes the API key from text that came from outside (error
// messages, answers), in case a server or proxy echoes it.
func (c *Client) redact(s string) string {
	if k := c.cfg.APIKey.Reveal(); k != "" {
		s = strings.ReplaceAll(s, k, "<redacted>")
	}
	return s
}

// do sends one API request, paced, and decodes a 2xx answer's JSON into
// out. On a rate-limit refusal it waits for Retry-After and tries once
// more, if the deadline of ctx leaves time for it.
func (c *Client) do(ctx context.Context, op, method, path string, query url.Values, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%s: encoding the request: %w", op, err)
		}
	}
	for attempt := 1; ; attempt++ {
		if err := c.pace.wait(ctx); err != nil {
			return newRequestError(ctx, op+": waiting for the rate limit", err, c.redact)
		}
		err := c.send(ctx, op, method, path, query, payload, out)
		var rl *RateLimitError
		if attempt > 1 || !errors.As(err, &rl) {
			return err
		}
		now := time.Now()
		c.pace.backoff(now, rl.RetryAfter)
		if deadline, ok := ctx.Deadline(); ok && !now.Add(rl.RetryAfter).Before(deadline) {
			c.logger.Warn("statuspage rate limited; Retry-After is beyond the deadline, not retrying",
				zap.String("op", op), zap.Duration("retry_after", rl.RetryAfter))
			return err
		}
		c.logger.Warn("statuspage rate limited; retrying after Retry-After",
			zap.String("op", op), zap.Duration("retry_after", rl.RetryAfter))
	}
}

// send makes one HTTP request.
func (c *Client) send(ctx context.Context, op, method, path string, query url.Values, payload []byte, out any) error {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Authorization", "OAuth "+c.cfg.APIKey.Reveal())
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.logger.Debug("statuspage request failed", zap.String("method", method), zap.String("path", path),
			zap.Duration("duration", time.Since(start)))
		return newRequestError(ctx, op, err, c.redact)
	}
	defer resp.Body.Close()
	raw, truncated, err := httpx.ReadBody(resp.Body, maxAnswer)
	c.logger.Debug("statuspage request", zap.String("method", method), zap.String("path", path),
		zap.Int("status", resp.StatusCode), zap.Duration("duration", time.Since(start)))
	if err != nil {
		return newRequestError(ctx, op+": reading the answer", err, c.redact)
	}

	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if truncated {
			return &requestError{op: op, reason: fmt.Sprintf("answer larger than %d bytes", maxAnswer), err: errors.New("answer too large")}
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			// The request may have taken effect (a create): retrying is
			// what finds out.
			return &requestError{op: op, retryable: true, err: err,
				reason: fmt.Sprintf("unreadable answer (HTTP %d): %v: %s", resp.StatusCode, err, c.redact(httpx.Snippet(raw, 120)))}
		}
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == statusEnhanceYourCalm:
		return &RateLimitError{
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Err:        &APIError{Op: op, StatusCode: resp.StatusCode, Message: c.redact(apiMessage(raw))},
		}
	default:
		return &APIError{Op: op, StatusCode: resp.StatusCode, Message: c.redact(apiMessage(raw))}
	}
}

// checkKey checks an idempotency key.
func checkKey(key string) error {
	switch {
	case strings.TrimSpace(key) == "":
		return errors.New("a key is required (opsbot's stable id of the incident, e.g. opsbot-incident-42): it is what keeps a retried create from opening a second incident")
	case len(key) > maxKeyLen:
		return fmt.Errorf("the key is longer than %d bytes", maxKeyLen)
	case !utf8.ValidString(key):
		return errors.New("the key is not valid UTF-8")
	}
	return nil
}

// checkFields checks the fields of a create (name required) or an update
// against Statuspage's documented limits, so that the caller gets a clear
// error rather than a 422.
func checkFields(create bool, name string, status IncidentStatus, body string, comps map[string]ComponentStatus) error {
	var errs []error
	if create && strings.TrimSpace(name) == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if n := utf8.RuneCountInString(name); n > maxNameRunes {
		errs = append(errs, fmt.Errorf("name is %d characters long; Statuspage allows %d", n, maxNameRunes))
	}
	if status != "" && !status.valid() {
		errs = append(errs, fmt.Errorf("status must be one of %s, got %q", incidentStatusList, status))
	}
	if n := utf8.RuneCountInString(body); n > maxBodyRunes {
		errs = append(errs, fmt.Errorf("body is %d characters long; Statuspage allows %d", n, maxBodyRunes))
	}
	for _, id := range slices.Sorted(maps.Keys(comps)) {
		st := comps[id]
		if !idRE.MatchString(id) {
			errs = append(errs, fmt.Errorf("%q is not a Statuspage component id", id))
		}
		if !st.valid() {
			errs = append(errs, fmt.Errorf("component %s: status must be one of %s, got %q", id, componentStatusList, st))
		}
	}
	return errors.Join(errs...)
}
