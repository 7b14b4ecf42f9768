// Package statuspagetest is an in-memory fake of the part of Atlassian
// Statuspage's REST API v1 that opsbot uses, for tests:
//
//	POST  /pages/{page_id}/incidents
//	PATCH /pages/{page_id}/incidents/{incident_id}
//	GET   /pages/{page_id}/incidents/{incident_id}
//	GET   /pages/{page_id}/incidents/unresolved?page=&per_page=
//
// It checks "Authorization: OAuth <key>" (401 otherwise), answers 404 for
// another page or an unknown incident, validates incidents like Statuspage
// does (name required and at most 255 characters, body at most 25,000,
// realtime status and component status enums, top-level metadata values
// must be objects: 422), and can enforce a rate limit (a token bucket of
// RateLimit requests per second; 429 with Retry-After beyond it).
//
// Faults are injected for the next requests: FailNext (an error status such
// as 503), RateLimitNext (429 with a chosen Retry-After), LoseResponseNext
// (a write takes effect and the connection is closed without an answer),
// Hang (requests get no answer until the client gives up) and Down
// (connections are closed at once). Every request is recorded (Requests)
// and the page's state can be read (Incidents, ComponentStatus). All
// methods are safe for concurrent use.
//
// Error bodies are {"error": "<message>"}. Statuspage's exact error texts
// were not available to check; the fake's are close approximations and
// tests should not depend on them word for word.
package statuspagetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Defaults for zero Options fields.
const (
	DefaultPageID = "testpage0001"
	DefaultAPIKey = "test-statuspage-api-key-0001"
)

// Options configures a Server. Zero fields take defaults.
type Options struct {
	// PageID is the one page the fake serves. Default DefaultPageID.
	PageID string
	// APIKey is the key the fake accepts. Default DefaultAPIKey.
	APIKey string
	// Components are the page's component ids, all operational at first.
	// When empty, any component id is accepted (and created on first use);
	// otherwise an unknown id is refused with 422.
	Components []string
	// RateLimit, when positive, allows that many requests per second (a
	// token bucket holding RateLimit tokens, refilled at RateLimit per
	// second, measured on the real clock); beyond it the fake answers 429
	// with Retry-After in whole seconds. Statuspage's limit is 1. Zero: no
	// limit.
	RateLimit int
	// Now gives the incidents' timestamps. Default time.Now.
	Now func() time.Time
}

// Incident is an incident as the fake stores it and answers it (the JSON
// field names are Statuspage's).
type Incident struct {
	ID              string           `json:"id"`
	PageID          string           `json:"page_id"`
	Name            string           `json:"name"`
	Status          string           `json:"status"`
	Impact          string           `json:"impact"`
	Shortlink       string           `json:"shortlink"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
	MonitoringAt    *time.Time       `json:"monitoring_at"`
	ResolvedAt      *time.Time       `json:"resolved_at"`
	Metadata        json.RawMessage  `json:"metadata"`
	Components      []Component      `json:"components"`
	IncidentUpdates []IncidentUpdate `json:"incident_updates"`
}

// Component is a component affected by an incident, with its current
// status on the page.
type Component struct {
	ID     string `json:"id"`
	PageID string `json:"page_id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// IncidentUpdate is one update of an incident (newest first in
// Incident.IncidentUpdates, as Statuspage lists them).
type IncidentUpdate struct {
	ID                   string    `json:"id"`
	IncidentID           string    `json:"incident_id"`
	Status               string    `json:"status"`
	Body                 string    `json:"body"`
	CreatedAt            time.Time `json:"created_at"`
	DisplayAt            time.Time `json:"display_at"`
	DeliverNotifications bool      `json:"deliver_notifications"`
	// AffectedComponents are the component statuses the update set.
	AffectedComponents map[string]string `json:"-"`
}

// Request is one request the fake received.
type Request struct {
	Method string
	// Path is the URL path, RawQuery its query string.
	Path, RawQuery string
	// Authorization is the request's Authorization header.
	Authorization string
	// Body is the request body.
	Body []byte
	// Status is the answer's HTTP status; 0 when no answer was sent
	// (LoseResponseNext, Hang, Down).
	Status int
}

// Server is the fake. Create it with New.
type Server struct {
	// PageID and APIKey are the page served and the key accepted.
	PageID, APIKey string

	srv  *httptest.Server
	opts Options
	stop chan struct{} // closed by Close: releases hung requests

	mu         sync.Mutex
	incidents  []*Incident // in creation order
	components map[string]string
	requests   []Request
	nextID     int
	failStatus int
	failN      int
	limitN     int
	limitAfter time.Duration
	loseN      int
	hang, down bool
	tokens     float64
	refilled   time.Time
	closeOnce  sync.Once
}

// New starts a fake on a loopback port; it is closed when t's test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a fake that the caller must Close.
func NewServer(opts Options) *Server {
	if opts.PageID == "" {
		opts.PageID = DefaultPageID
	}
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		PageID:     opts.PageID,
		APIKey:     opts.APIKey,
		opts:       opts,
		stop:       make(chan struct{}),
		components: map[string]string{},
		tokens:     float64(opts.RateLimit),
		refilled:   time.Now(),
	}
	for _, id := range opts.Components {
		s.addComponentLocked(id)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /pages/{page}/incidents", s.create)
	mux.HandleFunc("GET /pages/{page}/incidents/unresolved", s.unresolved)
	mux.HandleFunc("GET /pages/{page}/incidents/{id}", s.get)
	mux.HandleFunc("PATCH /pages/{page}/incidents/{id}", s.patch)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "The requested resource could not be found.")
	})
	s.srv = httptest.NewServer(s.middleware(mux))
	return s
}

// URL returns the API base URL (the equivalent of
// https://api.statuspage.io/v1).
func (s *Server) URL() string { return s.srv.URL }

// Close releases hung requests and shuts the server down.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.srv.Close()
	})
}

// FailNext makes the next n requests fail with status (e.g. 503) and a
// Statuspage-like error body, before they take any effect.
func (s *Server) FailNext(status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus, s.failN = status, n
}

// RateLimitNext makes the next n requests answer 429 with the given
// Retry-After (written in seconds, with a fraction when retryAfter is not
// whole; "0" for zero), whatever Options.RateLimit says.
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitN, s.limitAfter = n, retryAfter
}

// LoseResponseNext makes the next n writes (POST, PATCH, PUT, DELETE) take
// effect and then closes their connection without an answer: "the create
// succeeded but the response was lost".
func (s *Server) LoseResponseNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseN = n
}

// Hang makes every request wait without an answer until the client gives
// up (or the server is closed). Up ends it.
func (s *Server) Hang() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = true
}

// Down makes the fake close every connection as soon as a request arrives,
// without an answer, like a host that is down. Up ends it.
func (s *Server) Down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = true
}

// Up ends Hang and Down.
func (s *Server) Up() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang, s.down = false, false
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// Incidents returns copies of the page's incidents, in creation order.
func (s *Server) Incidents() []Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Incident, len(s.incidents))
	for i, inc := range s.incidents {
		out[i] = s.snapshotLocked(inc)
	}
	return out
}

// ComponentStatus returns the current status of a component of the page
// ("" when the page has no such component).
func (s *Server) ComponentStatus(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.components[id]
}

// AddIncident stores inc as if it had been created earlier (by a person or
// another process); empty ID, PageID and timestamps are filled in. It
// returns the stored incident.
func (s *Server) AddIncident(inc Incident) Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if inc.ID == "" {
		inc.ID = s.newIDLocked()
	}
	inc.PageID = s.PageID
	if inc.Status == "" {
		inc.Status = "investigating"
	}
	if inc.CreatedAt.IsZero() {
		inc.CreatedAt = now
	}
	if inc.UpdatedAt.IsZero() {
		inc.UpdatedAt = inc.CreatedAt
	}
	if inc.Shortlink == "" {
		inc.Shortlink = "https://stspg.io/" + inc.ID
	}
	for _, c := range inc.Components {
		s.addComponentLocked(c.ID)
		if c.Status != "" {
			s.components[c.ID] = c.Status
		}
	}
	stored := s.snapshotLocked(&inc) // deep copy
	s.incidents = append(s.incidents, &stored)
	return s.snapshotLocked(&stored)
}

// middleware records the request, then applies injected faults, the
// authentication check, the rate limit and the page check, in that order.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: w}

		s.mu.Lock()
		idx := len(s.requests)
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Authorization: r.Header.Get("Authorization"), Body: body})
		hang, down := s.hang, s.down
		var failStatus int
		var retryAfter time.Duration
		limited := false
		switch {
		case hang || down:
		case s.failN > 0:
			s.failN--
			failStatus = s.failStatus
		case s.limitN > 0:
			s.limitN--
			limited, retryAfter = true, s.limitAfter
		}
		lose := false
		if !hang && !down && failStatus == 0 && !limited && s.loseN > 0 && isWrite(r.Method) {
			s.loseN--
			lose = true
		}
		s.mu.Unlock()

		defer func() {
			s.mu.Lock()
			s.requests[idx].Status = rec.status
			s.mu.Unlock()
		}()
		switch {
		case down:
			dropConnection(w)
			return
		case hang:
			select {
			case <-r.Context().Done():
			case <-s.stop:
				dropConnection(w) // no answer, even when closing
			}
			return
		case failStatus != 0:
			writeError(rec, failStatus, http.StatusText(failStatus))
			return
		case limited:
			rec.Header().Set("Retry-After", formatSeconds(retryAfter))
			writeError(rec, http.StatusTooManyRequests, "Rate limit exceeded")
			return
		}
		if r.Header.Get("Authorization") != "OAuth "+s.APIKey {
			writeError(rec, http.StatusUnauthorized, "Could not authenticate")
			return
		}
		if wait, ok := s.takeToken(); !ok {
			rec.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeError(rec, http.StatusTooManyRequests, "Rate limit exceeded")
			return
		}
		if page := pageOf(r.URL.Path); page != "" && page != s.PageID {
			writeError(rec, http.StatusNotFound, "The requested resource could not be found.")
			return
		}
		if lose {
			// Let the handler act, discard its answer, drop the connection.
			next.ServeHTTP(&discard{header: http.Header{}}, r)
			dropConnection(w)
			return
		}
		next.ServeHTTP(rec, r)
	})
}

// takeToken takes a token from the rate-limit bucket, or says how long
// until there is one.
func (s *Server) takeToken() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := float64(s.opts.RateLimit)
	if limit <= 0 {
		return 0, true
	}
	now := time.Now()
	s.tokens = min(limit, s.tokens+now.Sub(s.refilled).Seconds()*limit)
	s.refilled = now
	if s.tokens >= 1 {
		s.tokens--
		return 0, true
	}
	return time.Duration((1 - s.tokens) / limit * float64(time.Second)), false
}

// incidentRequest is the body of POST and PATCH.
type incidentRequest struct {
	Incident *struct {
		Name                 *string           `json:"name"`
		Status               string            `json:"status"`
		Body                 string            `json:"body"`
		ComponentIDs         []string          `json:"component_ids"`
		Components           map[string]string `json:"components"`
		DeliverNotifications *bool             `json:"deliver_notifications"`
		Metadata             json.RawMessage   `json:"metadata"`
	} `json:"incident"`
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeIncident(w, r)
	if !ok {
		return
	}
	in := req.Incident
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		writeError(w, http.StatusUnprocessableEntity, "Name can't be blank")
		return
	}
	if in.Status == "" {
		in.Status = "investigating"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg := s.validateLocked(*in.Name, in.Status, in.Body, in.ComponentIDs, in.Components, in.Metadata); msg != "" {
		writeError(w, http.StatusUnprocessableEntity, msg)
		return
	}
	now := s.opts.Now()
	inc := &Incident{ID: s.newIDLocked(), PageID: s.PageID, Name: *in.Name, CreatedAt: now, UpdatedAt: now}
	inc.Shortlink = "https://stspg.io/" + inc.ID
	if len(in.Metadata) > 0 && string(in.Metadata) != "null" {
		inc.Metadata = bytes.Clone(in.Metadata)
	}
	s.applyLocked(inc, in.Status, in.Body, in.ComponentIDs, in.Components, deliver(in.DeliverNotifications), now)
	s.incidents = append(s.incidents, inc)
	writeJSON(w, http.StatusCreated, s.snapshotLocked(inc))
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeIncident(w, r)
	if !ok {
		return
	}
	in := req.Incident
	s.mu.Lock()
	defer s.mu.Unlock()
	inc := s.findLocked(r.PathValue("id"))
	if inc == nil {
		writeError(w, http.StatusNotFound, "The requested resource could not be found.")
		return
	}
	name := inc.Name
	if in.Name != nil {
		if strings.TrimSpace(*in.Name) == "" {
			writeError(w, http.StatusUnprocessableEntity, "Name can't be blank")
			return
		}
		name = *in.Name
	}
	if msg := s.validateLocked(name, in.Status, in.Body, in.ComponentIDs, in.Components, in.Metadata); msg != "" {
		writeError(w, http.StatusUnprocessableEntity, msg)
		return
	}
	now := s.opts.Now()
	inc.Name = name
	inc.UpdatedAt = now
	if len(in.Metadata) > 0 && string(in.Metadata) != "null" {
		inc.Metadata = bytes.Clone(in.Metadata)
	}
	s.applyLocked(inc, in.Status, in.Body, in.ComponentIDs, in.Components, deliver(in.DeliverNotifications), now)
	writeJSON(w, http.StatusOK, s.snapshotLocked(inc))
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inc := s.findLocked(r.PathValue("id"))
	if inc == nil {
		writeError(w, http.StatusNotFound, "The requested resource could not be found.")
		return
	}
	writeJSON(w, http.StatusOK, s.snapshotLocked(inc))
}

func (s *Server) unresolved(w http.ResponseWriter, r *http.Request) {
	page, perPage := 1, 100
	if v := r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "page must be a positive integer")
			return
		}
		page = n
	}
	if v := r.URL.Query().Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "per_page must be a positive integer")
			return
		}
		perPage = min(n, 100)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var open []Incident
	for i := len(s.incidents) - 1; i >= 0; i-- { // newest first
		if inc := s.incidents[i]; inc.Status != "resolved" {
			open = append(open, s.snapshotLocked(inc))
		}
	}
	from := min((page-1)*perPage, len(open))
	to := min(from+perPage, len(open))
	writeJSON(w, http.StatusOK, append([]Incident{}, open[from:to]...))
}

var (
	incidentStatuses  = []string{"investigating", "identified", "monitoring", "resolved"}
	componentStatuses = []string{"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
)

// validateLocked returns the 422 message for an invalid incident, or "".
func (s *Server) validateLocked(name, status, body string, ids []string, comps map[string]string, metadata json.RawMessage) string {
	if utf8.RuneCountInString(name) > 255 {
		return "Name is too long (maximum is 255 characters)"
	}
	if status != "" && !slices.Contains(incidentStatuses, status) {
		return fmt.Sprintf("Status %q is not a valid status (%s)", status, strings.Join(incidentStatuses, ", "))
	}
	if utf8.RuneCountInString(body) > 25000 {
		return "Body is too long (maximum is 25000 characters)"
	}
	for id, st := range comps {
		if !slices.Contains(componentStatuses, st) {
			return fmt.Sprintf("Component status %q is not valid for component %s (%s)", st, id, strings.Join(componentStatuses, ", "))
		}
	}
	if len(s.opts.Components) > 0 {
		for _, id := range append(slices.Collect(maps.Keys(comps)), ids...) {
			if !slices.Contains(s.opts.Components, id) {
				return fmt.Sprintf("Component %s was not found on this page", id)
			}
		}
	}
	if len(metadata) > 0 && string(metadata) != "null" {
		var top map[string]json.RawMessage
		if json.Unmarshal(metadata, &top) != nil {
			return "Metadata must be a JSON object"
		}
		for k, v := range top {
			var obj map[string]json.RawMessage
			if json.Unmarshal(v, &obj) != nil || obj == nil {
				return fmt.Sprintf("Metadata value for %q must be an object", k)
			}
		}
	}
	return ""
}

// applyLocked applies a status, a body and component statuses to inc,
// adding an incident update when the status or body is given.
func (s *Server) applyLocked(inc *Incident, status, body string, ids []string, comps map[string]string, deliver bool, now time.Time) {
	affected := map[string]string{}
	for _, id := range ids {
		s.addComponentLocked(id)
		s.affectLocked(inc, id)
	}
	for id, st := range comps {
		s.addComponentLocked(id)
		s.affectLocked(inc, id)
		s.components[id] = st
		affected[id] = st
	}
	if inc.Status != "resolved" || status != "" && status != "resolved" {
		// Statuspage computes the impact from the worst affected component
		// and keeps it once the incident is resolved.
		rank := map[string]int{"degraded_performance": 1, "partial_outage": 2, "major_outage": 3}
		worst := 0
		for _, c := range inc.Components {
			worst = max(worst, rank[s.components[c.ID]])
		}
		if worst > 0 || inc.Impact == "" {
			inc.Impact = []string{"none", "minor", "major", "critical"}[worst]
		}
	}
	if status != "" {
		inc.Status = status
		switch status {
		case "monitoring":
			t := now
			inc.MonitoringAt = &t
		case "resolved":
			t := now
			inc.ResolvedAt = &t
		}
	}
	if status != "" || body != "" {
		s.nextID++
		u := IncidentUpdate{ID: fmt.Sprintf("upd%09d", s.nextID), IncidentID: inc.ID, Status: inc.Status,
			Body: body, CreatedAt: now, DisplayAt: now, DeliverNotifications: deliver, AffectedComponents: affected}
		inc.IncidentUpdates = append([]IncidentUpdate{u}, inc.IncidentUpdates...)
	}
}

func (s *Server) affectLocked(inc *Incident, id string) {
	for _, c := range inc.Components {
		if c.ID == id {
			return
		}
	}
	inc.Components = append(inc.Components, Component{ID: id})
}

func (s *Server) addComponentLocked(id string) {
	if _, ok := s.components[id]; !ok {
		s.components[id] = "operational"
	}
}

func (s *Server) findLocked(id string) *Incident {
	for _, inc := range s.incidents {
		if inc.ID == id {
			return inc
		}
	}
	return nil
}

func (s *Server) newIDLocked() string {
	s.nextID++
	return fmt.Sprintf("inc%09d", s.nextID)
}

// snapshotLocked returns a deep copy of inc with its components' current
// statuses and its impact filled in.
func (s *Server) snapshotLocked(inc *Incident) Incident {
	out := *inc
	out.Metadata = bytes.Clone(inc.Metadata)
	if out.Metadata == nil {
		out.Metadata = json.RawMessage("{}")
	}
	if inc.MonitoringAt != nil {
		t := *inc.MonitoringAt
		out.MonitoringAt = &t
	}
	if inc.ResolvedAt != nil {
		t := *inc.ResolvedAt
		out.ResolvedAt = &t
	}
	out.Components = make([]Component, len(inc.Components))
	for i, c := range inc.Components {
		out.Components[i] = Component{ID: c.ID, PageID: s.PageID, Name: "Component " + c.ID, Status: s.components[c.ID]}
	}
	out.IncidentUpdates = make([]IncidentUpdate, len(inc.IncidentUpdates))
	for i, u := range inc.IncidentUpdates {
		u.AffectedComponents = maps.Clone(u.AffectedComponents)
		out.IncidentUpdates[i] = u
	}
	return out
}

func decodeIncident(w http.ResponseWriter, r *http.Request) (incidentRequest, bool) {
	var req incidentRequest
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return req, false
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "The request body is not valid JSON")
		return req, false
	}
	if req.Incident == nil {
		writeError(w, http.StatusBadRequest, "param is missing or the value is empty: incident")
		return req, false
	}
	return req, true
}

func deliver(b *bool) bool { return b == nil || *b }

func isWrite(method string) bool {
	return method == http.MethodPost || method == http.MethodPatch || method == http.MethodPut || method == http.MethodDelete
}

// pageOf returns the page id of a /pages/{page_id}/... path.
func pageOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/pages/")
	if !ok {
		return ""
	}
	page, _, _ := strings.Cut(rest, "/")
	return page
}

func formatSeconds(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// dropConnection closes the request's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("statuspagetest: the ResponseWriter cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// recorder remembers the status written through it.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// discard is a ResponseWriter that throws the answer away.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
