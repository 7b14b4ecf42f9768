package incident

import (
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
)

// Kind is what a timeline entry records.
type Kind string

// The kinds of timeline entries. Later features may add kinds; readers
// should show an unknown kind rather than fail.
const (
	// KindAnnounced: the incident was recorded (Actor: AnnouncedBy). Always
	// the first entry.
	KindAnnounced Kind = "announced"
	// KindMessagePosted: the announcement was posted (Data.Channel,
	// Data.MessageTS, Data.Message).
	KindMessagePosted Kind = "message_posted"
	// KindMessageEdited: the announcement was edited to show the
	// resolution (Data.Message: the text it shows now).
	KindMessageEdited Kind = "message_edited"
	// KindUpdated: an update (Data.Text, Data.ThreadTS, Data.Public; Actor:
	// its author).
	KindUpdated Kind = "updated"
	// KindStatusPageCreated: the status page incident was created or found
	// (Data.StatusPageID, Data.Key).
	KindStatusPageCreated Kind = "statuspage_created"
	// KindStatusPageUpdated: update Data.UpdateSeq was posted on the status
	// page.
	KindStatusPageUpdated Kind = "statuspage_updated"
	// KindStatusPageFailed: a status page call failed (Data.Op, Data.Error,
	// Data.Retryable).
	KindStatusPageFailed Kind = "statuspage_failed"
	// KindStatusPageResolved: the status page incident was resolved.
	KindStatusPageResolved Kind = "statuspage_resolved"
	// KindStatusPageSkipped: the incident was resolved before it was
	// created on the status page, and none was found there.
	KindStatusPageSkipped Kind = "statuspage_skipped"
	// KindResolved: the incident was resolved (Data.Until; Actor: who).
	KindResolved Kind = "resolved"
)

// TimelineEntry is one line of an incident's append-only history: who did
// what when.
type TimelineEntry struct {
	IncidentID int64
	// Seq numbers an incident's entries 1, 2, 3...: it is the incident's
	// Version after the change the entry records.
	Seq   int64
	At    time.Time
	Actor string
	Kind  Kind
	Data  TimelineData
	// IdempotencyKey is the key of the call that wrote the entry ("" if none).
	IdempotencyKey string
}

// TimelineData is the payload of a timeline entry; which fields are set
// depends on the Kind. It is stored as JSON, so fields can be added.
type TimelineData struct {
	// Channel and MessageTS: the announcement of a message_posted entry.
	Channel   string `json:"channel,omitempty"`
	MessageTS string `json:"messageTs,omitempty"`
	// Message: the announcement's text as posted (message_posted) or as
	// edited (message_edited).
	Message string `json:"message,omitempty"`

	// Text, ThreadTS and Public: the update of an updated entry.
	Text     string `json:"text,omitempty"`
	ThreadTS string `json:"threadTs,omitempty"`
	Public   bool   `json:"public,omitempty"`

	// StatusPageID and Key: the status page incident of a
	// statuspage_created entry.
	StatusPageID string `json:"statusPageId,omitempty"`
	Key          string `json:"key,omitempty"`
	// UpdateSeq: the update a statuspage_updated entry posted.
	UpdateSeq int64 `json:"updateSeq,omitempty"`
	// Op, Error and Retryable: the failed call of a statuspage_failed entry.
	Op        StatusPageOp `json:"op,omitempty"`
	Error     string       `json:"error,omitempty"`
	Retryable bool         `json:"retryable,omitempty"`

	// Until: when the impact ended, for a resolved entry.
	Until time.Time `json:"until,omitzero"`
}

// AsUpdate returns the update an updated entry records.
func (e TimelineEntry) AsUpdate() (Update, bool) {
	if e.Kind != KindUpdated {
		return Update{}, false
	}
	return Update{IncidentID: e.IncidentID, Seq: e.Seq, Text: e.Data.Text, By: e.Actor, At: e.At,
		ThreadTS: e.Data.ThreadTS, Public: e.Data.Public}, true
}

// Updates returns the updates on a timeline, in order.
func Updates(tl []TimelineEntry) []Update {
	var out []Update
	for _, e := range tl {
		if u, ok := e.AsUpdate(); ok {
			out = append(out, u)
		}
	}
	return out
}

// StatusPageOp is a status page call.
type StatusPageOp string

// The status page calls.
const (
	OpCreate  StatusPageOp = "create"
	OpUpdate  StatusPageOp = "update"
	OpResolve StatusPageOp = "resolve"
)

// StatusPageEvent is the outcome of a status page call, recorded with
// Store.SetStatusPage.
type StatusPageEvent struct {
	// Kind is one of the statuspage_* kinds.
	Kind Kind
	// At is when it happened.
	At time.Time
	// StatusPageID (created): the incident on the status page.
	StatusPageID string
	// Key (created, failed create): the key the status page incident is
	// (to be) created with; recorded as StatusPage.Key.
	Key string
	// UpdateSeq (updated): the Seq of the Update posted.
	UpdateSeq int64
	// Op, Error, Retryable (failed): the call that failed, why, and
	// whether trying again later may succeed.
	Op        StatusPageOp
	Error     string
	Retryable bool
}

// Entry returns the timeline entry the event is recorded as (without
// IncidentID, Seq and IdempotencyKey, which the store fills).
func (ev StatusPageEvent) Entry() TimelineEntry {
	return TimelineEntry{At: ev.At, Actor: opsbot.ActorBot, Kind: ev.Kind, Data: TimelineData{
		StatusPageID: ev.StatusPageID, Key: ev.Key, UpdateSeq: ev.UpdateSeq,
		Op: ev.Op, Error: ev.Error, Retryable: ev.Retryable,
	}}
}

// Apply returns the incident's StatusPage after ev. changed is false when ev
// changes nothing (a created event for the incident already recorded): the
// store then writes nothing. It is an error (opsbot.ErrConflict) when the status
// page is not enabled for the incident, when ev names a second status page
// incident, or when ev does not follow from the current state (resolving
// before creating, an update of an incident not open there).
func (sp StatusPage) Apply(st State, ev StatusPageEvent) (_ StatusPage, changed bool, _ error) {
	conflict := func(format string, args ...any) (StatusPage, bool, error) {
		return sp, false, fmt.Errorf("%w: status page: %s", opsbot.ErrConflict, fmt.Sprintf(format, args...))
	}
	if !sp.Enabled {
		return conflict("not enabled for this incident")
	}
	if ev.Key != "" {
		sp.Key = ev.Key
	}
	switch ev.Kind {
	case KindStatusPageCreated:
		switch {
		case sp.IncidentID == ev.StatusPageID:
			// Recorded already; a resolved incident stays resolved.
			if sp.State == StatusPagePending || sp.State == StatusPageSkipped {
				sp.State = StatusPageOpen
				return sp, true, nil
			}
			return sp, false, nil
		case sp.IncidentID != "":
			return conflict("incident %s was created already; %s would be a second one", sp.IncidentID, ev.StatusPageID)
		}
		// Created after the incident was resolved and marked skipped (a
		// create in flight during the resolve): open again, so that it is
		// resolved (NeedsSync).
		sp.IncidentID, sp.State, sp.LastError = ev.StatusPageID, StatusPageOpen, ""
	case KindStatusPageUpdated:
		if sp.State != StatusPageOpen {
			return conflict("cannot post an update: the status page incident is %q", sp.State)
		}
		sp.LastError = ""
	case KindStatusPageResolved:
		switch sp.State {
		case StatusPageResolved:
			return sp, false, nil
		case StatusPageOpen:
		default:
			return conflict("cannot resolve: the status page incident is %q", sp.State)
		}
		if st != Resolved {
			return conflict("cannot resolve the status page incident of an open incident")
		}
		sp.State, sp.LastError = StatusPageResolved, ""
	case KindStatusPageSkipped:
		if st != Resolved || sp.State != StatusPagePending {
			return conflict("cannot skip: the incident is %s, the status page incident %q", st, sp.State)
		}
		sp.State, sp.LastError = StatusPageSkipped, ""
	case KindStatusPageFailed:
		if ev.Error == "" {
			ev.Error = "unknown error"
		}
		sp.LastError = ev.Error
	default:
		return conflict("unknown event %q", ev.Kind)
	}
	return sp, true, nil
}
