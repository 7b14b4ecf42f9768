// Package silence is opsbot's adapter to Alertmanager's silences: it
// implements triage.Silencer through Alertmanager's API v2
// (POST /api/v2/silences, GET /api/v2/silence/{id}, GET /api/v2/silences,
// DELETE /api/v2/silence/{id}), decoding the JSON into its own small
// structs rather than importing Alertmanager's generated client.
//
// Creating a silence is idempotent on the request's key: the key is written
// into the silence's comment as "[opsbot <key>]", and before creating a
// silence the client looks for a pending or active one with the same
// matchers whose comment carries it. Within one process, requests with the
// same key are serialized, so two clicks at once create one silence;
// across replicas, triage.Service serializes them with the store's claims
// (ServiceOptions.SilenceClaims).
package silence

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/internal/keylock"
	"github.com/opsbot/opsbot/triage"
)

const (
	// maxBody bounds the size of Alertmanager's answers.
	maxBody = 16 << 20
	// DefaultTimeout bounds each call when Options.Timeout is zero.
	DefaultTimeout = 10 * time.Second
)

// Options configures a Client. The zero value is usable.
type Options struct {
	// HTTPClient carries any credentials (see internal/httpx); nil means a
	// plain client.
	HTTPClient *http.Client
	// Timeout bounds each call (default DefaultTimeout).
	Timeout time.Duration
	// Logger defaults to a no-op logger.
	Logger *zap.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// Client talks to one Alertmanager.
type Client struct {
	api     string // the API base URL, without a trailing slash
	where   string // "alertmanager <url without credentials>", for errors
	client  *http.Client
	timeout time.Duration
	logger  *zap.Logger
	now     func() time.Time
	keys    keylock.Map[string]
}

var _ triage.Silencer = (*Client)(nil)

// New returns the client of the Alertmanager at baseURL (e.g.
// http://alertmanager.monitoring:9093, possibly with a path prefix).
func New(baseURL string, o Options) (*Client, error) {
	if err := httpx.CheckURL(baseURL); err != nil {
		return nil, fmt.Errorf("alertmanager url: %w", err)
	}
	c := &Client{
		api:     strings.TrimRight(baseURL, "/"),
		where:   "alertmanager " + httpx.RedactURL(baseURL),
		client:  o.HTTPClient,
		timeout: o.Timeout,
		logger:  o.Logger,
		now:     o.Now,
	}
	if c.client == nil {
		c.client = httpx.NewClient(httpx.Options{})
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.logger == nil {
		c.logger = zap.NewNop()
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// wireMatcher is the API's matcher.
type wireMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	// IsEqual is optional in the API and defaults to true.
	IsEqual *bool `json:"isEqual,omitempty"`
}

// postableSilence is the body of POST /api/v2/silences.
type postableSilence struct {
	ID        string        `json:"id,omitempty"`
	Matchers  []wireMatcher `json:"matchers"`
	StartsAt  time.Time     `json:"startsAt"`
	EndsAt    time.Time     `json:"endsAt"`
	CreatedBy string        `json:"createdBy"`
	Comment   string        `json:"comment"`
}

// gettableSilence is a silence as the API lists it.
type gettableSilence struct {
	postableSilence
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

func toWire(ms []triage.Matcher) []wireMatcher {
	out := make([]wireMatcher, len(ms))
	for i, m := range ms {
		eq := !m.NotEqual
		out[i] = wireMatcher{Name: m.Name, Value: m.Value, IsRegex: m.IsRegex, IsEqual: &eq}
	}
	return out
}

func (g gettableSilence) silence() triage.Silence {
	s := triage.Silence{
		ID:        g.ID,
		StartsAt:  g.StartsAt,
		EndsAt:    g.EndsAt,
		CreatedBy: g.CreatedBy,
		Comment:   g.Comment,
		State:     triage.SilenceState(g.Status.State),
	}
	for _, m := range g.Matchers {
		s.Matchers = append(s.Matchers, triage.Matcher{Name: m.Name, Value: m.Value, IsRegex: m.IsRegex, NotEqual: m.IsEqual != nil && !*m.IsEqual})
	}
	return s
}

// marker is what a silence's comment carries for key.
func marker(key string) string { return "[opsbot " + key + "]" }

// sameMatchers reports whether a and b hold the same matchers, in any
// order.
func sameMatchers(a, b []triage.Matcher) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(m triage.Matcher) string { return m.String() }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i], kb[i] = key(a[i]), key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// Silence creates the silence r asks for, starting now, with r.Key's
// marker appended to the comment; or returns the pending or active silence
// with the same matchers whose comment carries the marker.
func (c *Client) Silence(ctx context.Context, r triage.SilenceRequest) (triage.Silence, error) {
	now := c.now()
	if err := r.Validate(now); err != nil {
		return triage.Silence{}, err
	}
	defer c.keys.Lock(r.Key)()
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()

	var all []gettableSilence
	if err := c.do(ctx, http.MethodGet, "/api/v2/silences", nil, &all); err != nil {
		return triage.Silence{}, fmt.Errorf("looking for an existing silence: %w", err)
	}
	mark := marker(r.Key)
	for _, g := range all {
		s := g.silence()
		if (s.State == triage.SilenceActive || s.State == triage.SilencePending) &&
			strings.Contains(s.Comment, mark) && sameMatchers(s.Matchers, r.Matchers) {
			c.logger.Debug("silence exists", zap.String("silence", s.ID), zap.String("key", r.Key))
			return s, nil
		}
	}

	body := postableSilence{
		Matchers:  toWire(r.Matchers),
		StartsAt:  now.UTC(),
		EndsAt:    r.EndsAt.UTC(),
		CreatedBy: r.CreatedBy,
		Comment:   strings.TrimRight(r.Comment, "\n ") + "\n" + mark,
	}
	var resp struct {
		SilenceID string `json:"silenceID"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v2/silences", body, &resp); err != nil {
		return triage.Silence{}, fmt.Errorf("creating the silence: %w", err)
	}
	if resp.SilenceID == "" {
		return triage.Silence{}, fmt.Errorf("creating the silence: %s answered without a silence id", c.where)
	}
	c.logger.Info("silence created", zap.String("silence", resp.SilenceID), zap.String("key", r.Key))
	return c.get(ctx, resp.SilenceID)
}

// Get returns the silence with the given id. An unknown id is an error
// wrapping opsbot.ErrNotFound.
func (c *Client) Get(ctx context.Context, id string) (triage.Silence, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	return c.get(ctx, id)
}

func (c *Client) get(ctx context.Context, id string) (triage.Silence, error) {
	if err := checkID(id); err != nil {
		return triage.Silence{}, err
	}
	var g gettableSilence
	if err := c.do(ctx, http.MethodGet, "/api/v2/silence/"+url.PathEscape(id), nil, &g); err != nil {
		return triage.Silence{}, fmt.Errorf("reading silence %s: %w", id, err)
	}
	return g.silence(), nil
}

// Expire ends the silence now. A silence already expired is left as it is.
func (c *Client) Expire(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	err := c.do(ctx, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil)
	if err == nil {
		c.logger.Info("silence expired", zap.String("silence", id))
		return nil
	}
	// Alertmanager answers 500 both for an expired silence and for an
	// unknown one: its state says which.
	if !errors.Is(err, opsbot.ErrNotFound) {
		s, gerr := c.get(ctx, id)
		switch {
		case gerr == nil && s.State == triage.SilenceExpired:
			return nil
		case errors.Is(gerr, opsbot.ErrNotFound):
			err = gerr
		}
	}
	return fmt.Errorf("expiring silence %s: %w", id, err)
}

// Extend moves the end of a pending or active silence to endsAt, keeping
// everything else, and returns the silence Alertmanager keeps (its ID
// changes when Alertmanager cannot update it in place).
func (c *Client) Extend(ctx context.Context, id string, endsAt time.Time) (triage.Silence, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	s, err := c.get(ctx, id)
	if err != nil {
		return triage.Silence{}, err
	}
	if s.State == triage.SilenceExpired {
		return triage.Silence{}, &opsbot.ValidationError{What: "silence", Problems: []opsbot.FieldError{{
			Field: "id", Problem: fmt.Sprintf("silence %s has expired: create a new one", id),
		}}}
	}
	if now := c.now(); !endsAt.After(now) || !endsAt.After(s.StartsAt) {
		return triage.Silence{}, &opsbot.ValidationError{What: "silence", Problems: []opsbot.FieldError{{
			Field: "endsAt", Problem: fmt.Sprintf("%s is not in the future", endsAt.UTC().Format(time.RFC3339)),
		}}}
	}
	body := postableSilence{
		ID:        s.ID,
		Matchers:  toWire(s.Matchers),
		StartsAt:  s.StartsAt.UTC(),
		EndsAt:    endsAt.UTC(),
		CreatedBy: s.CreatedBy,
		Comment:   s.Comment,
	}
	var resp struct {
		SilenceID string `json:"silenceID"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v2/silences", body, &resp); err != nil {
		return triage.Silence{}, fmt.Errorf("extending silence %s: %w", id, err)
	}
	if resp.SilenceID == "" {
		return triage.Silence{}, fmt.Errorf("extending silence %s: %s answered without a silence id", id, c.where)
	}
	c.logger.Info("silence extended", zap.String("silence", id), zap.String("now", resp.SilenceID), zap.Time("endsAt", endsAt))
	return c.get(ctx, resp.SilenceID)
}

// AlertsMatching counts the alerts Alertmanager has, firing, silenced,
// inhibited or not yet processed, that every one of ms matches (GET
// /api/v2/alerts with ms as filters). It implements noise.Alertmanager,
// with Get: a silence that matches no alert any more is stale.
func (c *Client) AlertsMatching(ctx context.Context, ms []triage.Matcher) (int, error) {
	if len(ms) == 0 {
		return 0, &opsbot.ValidationError{What: "alerts", Problems: []opsbot.FieldError{{Field: "matchers", Problem: "at least one matcher is needed"}}}
	}
	q := url.Values{}
	for _, k := range []string{"active", "silenced", "inhibited", "unprocessed"} {
		q.Set(k, "true")
	}
	for _, m := range ms {
		q.Add("filter", m.String())
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var alerts []json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/api/v2/alerts?"+q.Encode(), nil, &alerts); err != nil {
		return 0, fmt.Errorf("listing the alerts a silence matches: %w", err)
	}
	return len(alerts), nil
}

// checkID refuses an id that cannot be Alertmanager's (a UUID).
func checkID(id string) error {
	if id == "" || len(id) > 64 || strings.ContainsAny(id, "/?# \t\n") {
		return &opsbot.ValidationError{What: "silence", Problems: []opsbot.FieldError{{Field: "id", Problem: fmt.Sprintf("%q is not a silence id", id)}}}
	}
	return nil
}

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, c.timeout, fmt.Errorf("%s: no answer within %s", c.where, c.timeout))
}

// do sends a JSON request and decodes a JSON answer into out (if not nil).
// A 404 wraps opsbot.ErrNotFound, a 400 opsbot.ErrInvalid; errors never
// carry the URL's credentials.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s: encoding the request: %w", c.where, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.api+path, body)
	if err != nil {
		// Not err itself: a *url.Error quotes the URL, credentials and all.
		return fmt.Errorf("%s: cannot build the request %s %s", c.where, method, path)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		return fmt.Errorf("%s: %s %s: %s", c.where, method, path, msg)
	}
	defer resp.Body.Close()
	b, truncated, err := httpx.ReadBody(resp.Body, maxBody)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		return fmt.Errorf("%s: %s %s: reading the answer: %s", c.where, method, path, msg)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %s %s: %w: %s", c.where, method, path, opsbot.ErrNotFound, httpx.Snippet(b, 200))
	case resp.StatusCode == http.StatusBadRequest:
		return fmt.Errorf("%s: %s %s: %w: %s", c.where, method, path, opsbot.ErrInvalid, httpx.Snippet(b, 200))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("%s: %s %s returned %d: %s", c.where, method, path, resp.StatusCode, httpx.Snippet(b, 200))
	case truncated:
		return fmt.Errorf("%s: %s %s: answer larger than %d MiB", c.where, method, path, maxBody>>20)
	case out == nil:
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: %s %s: decoding the answer: %w (answer starts %q)", c.where, method, path, err, httpx.Snippet(b, 80))
	}
	return nil
}
