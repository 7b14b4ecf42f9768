package slacktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"
)

// Envelope types.
const (
	TypeSlashCommands = "slash_commands"
	TypeInteractive   = "interactive"
	TypeEventsAPI     = "events_api"
)

var (
	// ErrNoConnection: no Socket Mode connection is open to deliver to
	// (Slack shows the user "dispatch_failed").
	ErrNoConnection = errors.New("slacktest: no Socket Mode connection open")
	// ErrNoAck: the app did not ack within the ack deadline.
	ErrNoAck = errors.New("slacktest: envelope not acknowledged within the deadline")
)

// Envelope is one Socket Mode delivery and what became of it.
type Envelope struct {
	ID                     string
	Type                   string
	Payload                json.RawMessage
	AcceptsResponsePayload bool
	RetryAttempt           int
	RetryReason            string
	// ConnectionID is the connection it was written to (see Connections).
	ConnectionID int
	SentAt       time.Time
	// TriggerID is the payload's trigger_id, if any; EventID the events_api
	// event_id.
	TriggerID string
	EventID   string

	Acked      bool
	AckedAt    time.Time
	AckLatency time.Duration
	// AckPayload is the ack's "payload" (nil when the ack had none).
	AckPayload json.RawMessage
	// Late: the ack came after the deadline (Slack ignores its payload).
	Late bool
	// Missing: the deadline passed without an ack (stays set if a late ack
	// came afterwards).
	Missing bool
	// AckError says why an ack payload was not applied (for example an
	// invalid view in response_action "update").
	AckError string
}

// ViewAck is a view_submission ack payload.
type ViewAck struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
	View           json.RawMessage   `json:"view"`
}

// ViewAck decodes e's ack payload as a view_submission response. An ack
// without payload gives a zero ViewAck (the modal closes).
func (e Envelope) ViewAck() (ViewAck, error) {
	var a ViewAck
	if len(e.AckPayload) == 0 {
		return a, nil
	}
	if err := json.Unmarshal(e.AckPayload, &a); err != nil {
		return a, fmt.Errorf("slacktest: decode ack payload of %s: %w", e.ID, err)
	}
	return a, nil
}

// envState is an envelope with its bookkeeping.
type envState struct {
	Envelope
	deadline time.Time
	acked    chan struct{}
	timer    *time.Timer
	respond  *responseURL // slash command: where the ack payload goes
	viewID   string       // view_submission: the view
	// thenDisconnect is the reason of a disconnect frame sent right after
	// the envelope, on its connection (ThenDisconnect).
	thenDisconnect string
}

func (e *envState) wire() []byte {
	w := struct {
		EnvelopeID             string          `json:"envelope_id"`
		Payload                json.RawMessage `json:"payload"`
		Type                   string          `json:"type"`
		AcceptsResponsePayload bool            `json:"accepts_response_payload"`
		RetryAttempt           *int            `json:"retry_attempt,omitempty"`
		RetryReason            *string         `json:"retry_reason,omitempty"`
	}{EnvelopeID: e.ID, Payload: e.Payload, Type: e.Type, AcceptsResponsePayload: e.AcceptsResponsePayload}
	// Slack sends retry_attempt and retry_reason with events_api envelopes
	// only (recorded envelopes in the Python SDK's tests; slack-go issue
	// #1265 shows a slash_commands envelope without them).
	if e.Type == TypeEventsAPI || e.RetryAttempt > 0 {
		n, r := e.RetryAttempt, e.RetryReason
		w.RetryAttempt, w.RetryReason = &n, &r
	}
	return jsonCompact(w)
}

// send delivers e and waits for its ack.
func (s *Server) send(ctx context.Context, e *envState) (*Envelope, error) {
	skip := map[int]bool{}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, errors.New("slacktest: server closed")
		}
		c := s.pickConnLocked(skip)
		if c == nil {
			if e.ID != "" {
				// Written nowhere: forget it.
				delete(s.envelopes, e.ID)
				for i, id := range s.envOrder {
					if id == e.ID {
						s.envOrder = append(s.envOrder[:i], s.envOrder[i+1:]...)
						break
					}
				}
			}
			s.mu.Unlock()
			return nil, ErrNoConnection
		}
		if e.ID == "" {
			e.ID = randomUUID()
			e.acked = make(chan struct{})
			s.envOrder = append(s.envOrder, e.ID)
		}
		e.ConnectionID = c.id
		e.SentAt = time.Now()
		e.deadline = e.SentAt.Add(s.opts.AckTimeout)
		s.envelopes[e.ID] = e
		frame := e.wire()
		s.mu.Unlock()

		if err := c.writeText(frame); err != nil {
			s.logf("envelope %s: write to connection %d: %v", e.ID, c.id, err)
			skip[c.id] = true
			continue
		}
		s.logf("envelope %s (%s) -> connection %d", e.ID, e.Type, c.id)
		if e.thenDisconnect != "" {
			s.disconnectConn(c, e.thenDisconnect)
		}
		break
	}

	s.mu.Lock()
	id := e.ID
	e.timer = time.AfterFunc(time.Until(e.deadline), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !e.Acked && !s.closed {
			e.Missing = true
			s.logf("envelope %s: no ack within %s", id, s.opts.AckTimeout)
			s.bumpLocked()
		}
	})
	s.bumpLocked()
	s.mu.Unlock()

	wait := time.NewTimer(time.Until(e.deadline))
	defer wait.Stop()
	select {
	case <-e.acked:
	case <-wait.C:
	case <-ctx.Done():
		snap := s.snapshot(id)
		return &snap, fmt.Errorf("slacktest: waiting for ack of %s: %w", id, context.Cause(ctx))
	}
	snap := s.snapshot(id)
	if !snap.Acked || snap.Late {
		return &snap, fmt.Errorf("%w: %s envelope %s (deadline %s)", ErrNoAck, snap.Type, id, s.opts.AckTimeout)
	}
	return &snap, nil
}

// SendEnvelope delivers an envelope of type typ whose payload is payload,
// as is, and returns when the app acks it, like the other senders. It is
// for what a client must survive: an envelope type Slack may add later,
// or a payload of an unexpected shape. payload must be JSON.
func (s *Server) SendEnvelope(ctx context.Context, typ string, payload json.RawMessage) (*Envelope, error) {
	if !json.Valid(payload) {
		return nil, errors.New("slacktest: SendEnvelope: the payload is not JSON (use SendFrame for broken frames)")
	}
	return s.send(ctx, &envState{Envelope: Envelope{Type: typ, Payload: payload}})
}

func (s *Server) snapshot(id string) Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.envelopes[id].Envelope
}

// handleAck records an ack frame ({"envelope_id":...,"payload":...}).
func (s *Server) handleAck(c *wsConn, data []byte) {
	now := time.Now()
	if len(data) >= maxAckBytes {
		s.mu.Lock()
		s.oversizedAcks++
		s.bumpLocked()
		s.mu.Unlock()
		s.logf("websocket %d: dropped a %d-byte response (Slack drops responses of 20 KB or more)", c.id, len(data))
		return
	}
	var a struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &a); err != nil {
		s.logf("websocket %d: unreadable frame: %v", c.id, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bumpLocked()
	e, ok := s.envelopes[a.EnvelopeID]
	if !ok {
		s.unknownAcks++
		return
	}
	if e.Acked {
		s.duplicateAcks++
		return
	}
	e.Acked = true
	e.AckedAt = now
	e.AckLatency = now.Sub(e.SentAt)
	if len(a.Payload) > 0 && string(a.Payload) != "null" {
		e.AckPayload = a.Payload
	}
	e.Late = now.After(e.deadline)
	if e.timer != nil {
		e.timer.Stop()
	}
	close(e.acked)
	if e.Late {
		e.Missing = true
		return
	}
	if err := s.applyAckLocked(e); err != "" {
		e.AckError = err
		s.logf("envelope %s: ack payload not applied: %s", e.ID, err)
	}
}

// applyAckLocked does what Slack does with an ack payload.
func (s *Server) applyAckLocked(e *envState) string {
	switch {
	case e.Type == TypeSlashCommands && e.respond != nil:
		if len(e.AckPayload) == 0 {
			return ""
		}
		var b responseBody
		if err := json.Unmarshal(e.AckPayload, &b); err != nil {
			return "invalid payload: " + err.Error()
		}
		if aerr := s.applyResponseLocked(e.respond, b, "ack"); aerr != nil {
			return aerr.code
		}
	case e.Type == TypeInteractive && e.viewID != "":
		return s.applyViewAckLocked(e)
	}
	return ""
}

func (s *Server) applyViewAckLocked(e *envState) string {
	v := s.views[e.viewID]
	if v == nil || !v.open {
		return "view is not open"
	}
	var a ViewAck
	if len(e.AckPayload) > 0 {
		if err := json.Unmarshal(e.AckPayload, &a); err != nil {
			return "invalid payload: " + err.Error()
		}
	}
	switch a.ResponseAction {
	case "":
		s.popViewLocked(v.user)
	case "clear":
		s.closeStackLocked(v.user)
	case "errors":
		inputs := inputBlockIDs(v.blocks)
		for k := range a.Errors {
			if !inputs[k] {
				return fmt.Sprintf("errors: %q is not the block_id of an input block", k)
			}
		}
		v.errors = a.Errors
	case "update":
		spec, aerr := parseView(string(a.View), "/view")
		if aerr != nil {
			return "update: " + aerr.code + " " + fmt.Sprint(aerr.messages)
		}
		v.setSpec(spec)
		v.updates++
		v.errors = nil
	case "push":
		spec, aerr := parseView(string(a.View), "/view")
		if aerr != nil {
			return "push: " + aerr.code + " " + fmt.Sprint(aerr.messages)
		}
		if _, aerr := s.pushViewLocked(v.user, spec); aerr != nil {
			return "push: " + aerr.code
		}
	default:
		return fmt.Sprintf("unknown response_action %q", a.ResponseAction)
	}
	return ""
}

func inputBlockIDs(blocks []any) map[string]bool {
	ids := map[string]bool{}
	for _, b := range blocks {
		if m, ok := b.(map[string]any); ok && m["type"] == "input" {
			if id, ok := m["block_id"].(string); ok {
				ids[id] = true
			}
		}
	}
	return ids
}

// Envelopes returns every envelope sent so far, in order.
func (s *Server) Envelopes() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Envelope, 0, len(s.envOrder))
	for _, id := range s.envOrder {
		out = append(out, s.envelopes[id].Envelope)
	}
	return out
}

// AckStats summarises the acks of every envelope sent so far.
type AckStats struct {
	Sent    int
	Acked   int // on time
	Late    int // after the deadline
	Missing int // deadline passed, never acked
	// Unknown, Duplicate and Oversized count ack frames for no known
	// envelope, repeated acks, and frames of 20 KB or more (dropped).
	Unknown, Duplicate, Oversized int
	// Latencies of the on-time and late acks.
	P50, P99, Max time.Duration
}

// AckStats returns the ack statistics (for a p50/p99 ack-latency benchmark).
func (s *Server) AckStats() AckStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := AckStats{Sent: len(s.envOrder), Unknown: s.unknownAcks, Duplicate: s.duplicateAcks, Oversized: s.oversizedAcks}
	var lat []time.Duration
	for _, id := range s.envOrder {
		e := s.envelopes[id]
		switch {
		case e.Acked && !e.Late:
			st.Acked++
		case e.Acked && e.Late:
			st.Late++
		case e.Missing:
			st.Missing++
		}
		if e.Acked {
			lat = append(lat, e.AckLatency)
		}
	}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		st.P50 = percentile(lat, 50)
		st.P99 = percentile(lat, 99)
		st.Max = lat[len(lat)-1]
	}
	return st
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// handleResponseURL serves the response_url of slash commands and block
// actions.
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	var b responseBody
	jsonErr := json.Unmarshal(raw, &b)

	s.mu.Lock()
	rec, ok := s.responses[r.URL.Path]
	var aerr *apiError
	status := http.StatusOK
	switch {
	case !ok:
		status, aerr = http.StatusNotFound, fail("invalid_url")
	case time.Since(rec.created) > responseURLTTL:
		status, aerr = http.StatusNotFound, fail("expired_url")
	case rec.uses >= maxResponseURLUses:
		status, aerr = http.StatusNotFound, fail("used_url")
	case jsonErr != nil:
		aerr = fail("invalid_payload")
	default:
		rec.uses++
		aerr = s.applyResponseLocked(rec, b, "response_url")
	}
	call := Call{Method: "response_url", Time: time.Now(), Status: status}
	if aerr != nil {
		call.Error = aerr.code
	}
	s.calls = append(s.calls, call)
	s.bumpLocked()
	s.mu.Unlock()

	body := map[string]any{"ok": aerr == nil}
	if aerr != nil {
		body["error"] = aerr.code
		if len(aerr.errs) > 0 {
			body["errors"] = aerr.errs
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(jsonCompact(body))
}
