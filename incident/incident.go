package incident

import (
	"strconv"
	"time"
)

// State says whether an incident is still going on.
type State string

// The states of an incident.
const (
	Open     State = "open"
	Resolved State = "resolved"
)

// Incident is one user-impacting incident: its announcement, its status
// page incident and its resolution.
type Incident struct {
	// ID is assigned by the store: small increasing numbers ("incident #7").
	ID int64
	// Environment is the environment it happens in ("prod").
	Environment string

	// Channel is the main channel the announcement goes to; MessageTS is the
	// announcement's ts, empty until it was posted (Store.SetMessage). The
	// announcement's thread is the incident's thread.
	Channel   string
	MessageTS string
	// MessageText is the announcement as it was posted (ready for Slack):
	// the resolution is appended to it, so the announcement keeps reading
	// as it was posted when the templates or the time zone change later.
	// Empty for an announcement posted before opsbot kept it (the text is
	// then rendered again from the fields below).
	MessageText string
	// MessageResolved says the announcement was edited to show the
	// resolution (a message_edited entry). A resolved incident with a
	// message but without it still needs that edit: see AnnouncementLags.
	MessageResolved bool

	// From is when the user impact started (the announcer says; default
	// when it was announced).
	From time.Time
	// UserImpact ("User impact: ...") and What ("What: ...") are the
	// announcement's text, as typed (kept verbatim, escaped when rendered).
	UserImpact string
	What       string
	// AnnouncedBy is the Slack user id of the announcer; AnnouncedAt when.
	AnnouncedBy string
	AnnouncedAt time.Time
	// AnomalyID links the incident to the triage anomaly it came from (a
	// Serious decision that is an outage); 0 for none. At most one open
	// incident per anomaly.
	AnomalyID int64

	// StatusPage is the incident's status page incident.
	StatusPage StatusPage

	// State is Open until the incident is resolved.
	State State
	// Until is when the user impact ended; ResolvedBy who resolved it.
	// Zero and "" while open.
	Until      time.Time
	ResolvedBy string

	// Version increases by one with every change; it equals the Seq of the
	// incident's latest timeline entry.
	Version int64
}

// AnnouncementLags reports whether the announcement in Slack lags behind
// the incident: an open incident whose announcement was not posted (the
// post failed), or a resolved one whose announcement was posted but not
// edited to show the resolution (the edit failed). Service.Finish does
// what is needed.
func (i Incident) AnnouncementLags() bool {
	switch i.State {
	case Open:
		return i.MessageTS == ""
	case Resolved:
		return i.MessageTS != "" && !i.MessageResolved
	}
	return false
}

// Duration is how long the user impact lasted (Until - From), or 0 while
// the incident is open.
func (i Incident) Duration() time.Duration {
	if i.State != Resolved || i.Until.IsZero() {
		return 0
	}
	return i.Until.Sub(i.From)
}

// StatusPageState is where the incident stands on the status page.
type StatusPageState string

// The status page states. The usual path is pending → open → resolved; an
// incident resolved before its status page incident could be created ends
// skipped (nothing was published).
const (
	// StatusPageNone: the status page is not used for this incident
	// (StatusPage.Enabled is false).
	StatusPageNone StatusPageState = ""
	// StatusPagePending: to be created (not tried yet, or it failed).
	StatusPagePending StatusPageState = "pending"
	// StatusPageOpen: created, not resolved yet (StatusPage.IncidentID).
	StatusPageOpen StatusPageState = "open"
	// StatusPageResolved: resolved on the status page.
	StatusPageResolved StatusPageState = "resolved"
	// StatusPageSkipped: the incident was resolved before a status page
	// incident was created, and none carrying its key was found.
	StatusPageSkipped StatusPageState = "skipped"
)

// StatusPage is the incident's incident on the status page.
type StatusPage struct {
	// Enabled says whether the incident is raised on the status page.
	Enabled bool
	// IncidentID is the status page's id of the incident, once created.
	IncidentID string
	// Key is the stable key the status page incident is created with
	// (StatusPageKey), recorded with its first attempt.
	Key string
	// LastError is the error of the last status page call when it failed
	// ("" after a success); the timeline keeps every failure.
	LastError string
	// State is where the incident stands on the status page.
	State StatusPageState
}

// NeedsSync reports whether the status page lags behind an incident in
// state st: it should be created (open incident, pending) or resolved
// (resolved incident, not resolved or skipped on the page).
// Service.RetryStatusPage does what is needed.
func (sp StatusPage) NeedsSync(st State) bool {
	if !sp.Enabled {
		return false
	}
	switch st {
	case Open:
		return sp.State == StatusPagePending
	case Resolved:
		return sp.State == StatusPagePending || sp.State == StatusPageOpen
	}
	return false
}

// NeedsRetry reports whether the status page lags behind an incident in
// state st after a failure (LastError): what a Retry is for.
func (sp StatusPage) NeedsRetry(st State) bool { return sp.LastError != "" && sp.NeedsSync(st) }

// StatusPageKey is the stable key of incident id's status page incident:
// "opsbot-incident-42".
func StatusPageKey(id int64) string { return "opsbot-incident-" + strconv.FormatInt(id, 10) }

// Update is an update of an incident, posted in its thread.
type Update struct {
	IncidentID int64
	// Seq is the Seq of the update's timeline entry: updates are ordered by
	// it. Assigned by the store.
	Seq int64
	// Text is the update, as typed (kept verbatim, escaped when rendered).
	Text string
	// By is the Slack user id of its author; At is when it was given.
	By string
	At time.Time
	// ThreadTS is the ts of the message in the incident's thread that is
	// the update, when the update came from a message someone wrote there
	// (the bot does not post it again); empty when the update was given
	// otherwise (a modal), and Service posts it in the thread.
	ThreadTS string
	// Public says the update is also posted on the status page (the
	// thread's readers are the team; the status page's are customers).
	Public bool
}
