package statuspage

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// IncidentStatus is the state of a realtime incident on Statuspage.
type IncidentStatus string

// The statuses of a realtime incident, in their usual order.
const (
	Investigating IncidentStatus = "investigating"
	Identified    IncidentStatus = "identified"
	Monitoring    IncidentStatus = "monitoring"
	Resolved      IncidentStatus = "resolved"
)

func (s IncidentStatus) valid() bool {
	switch s {
	case Investigating, Identified, Monitoring, Resolved:
		return true
	}
	return false
}

const incidentStatusList = "investigating, identified, monitoring, resolved"

// ComponentStatus is the state of a component of the page.
type ComponentStatus string

// The statuses of a component.
const (
	Operational         ComponentStatus = "operational"
	DegradedPerformance ComponentStatus = "degraded_performance"
	PartialOutage       ComponentStatus = "partial_outage"
	MajorOutage         ComponentStatus = "major_outage"
	UnderMaintenance    ComponentStatus = "under_maintenance"
)

func (s ComponentStatus) valid() bool {
	switch s {
	case Operational, DegradedPerformance, PartialOutage, MajorOutage, UnderMaintenance:
		return true
	}
	return false
}

const componentStatusList = "operational, degraded_performance, partial_outage, major_outage, under_maintenance"

// Incident is an incident on the status page. As the argument of
// CreateIncident, Key, Name, Status, Body, Components and Quiet are read;
// as a result, every field but Quiet is filled from Statuspage's answer.
type Incident struct {
	// ID is Statuspage's id of the incident.
	ID string
	// Key is opsbot's stable key for the incident (e.g.
	// "opsbot-incident-42"), stored in the incident's metadata as
	// {"opsbot": {"key": Key}}. It is what makes CreateIncident
	// idempotent. Empty for incidents opsbot did not create.
	Key string
	// Name is the incident's title (at most 255 characters).
	Name string
	// Status is the incident's status. Default for a new incident:
	// investigating.
	Status IncidentStatus
	// Body is the text of the incident's first update when creating; in a
	// result, the text of its latest update.
	Body string
	// Components maps the ids of the affected components to their
	// status. When creating, nil means Config.Components with
	// Config.ComponentStatus. In a result, the components' current status.
	Components map[string]ComponentStatus
	// Quiet creates the incident without notifying the page's subscribers
	// (deliver_notifications: false).
	Quiet bool
	// Impact is Statuspage's impact of the incident (none, minor, major,
	// critical), computed from the components unless overridden.
	Impact string
	// Shortlink is the incident's public short URL.
	Shortlink string
	// CreatedAt, UpdatedAt and ResolvedAt are Statuspage's timestamps;
	// ResolvedAt is zero while the incident is open.
	CreatedAt, UpdatedAt, ResolvedAt time.Time
}

// Update is a change to an open incident: a new incident update on the page.
// Zero fields are left unchanged.
type Update struct {
	// Status is the incident's new status (investigating, identified,
	// monitoring; ResolveIncident resolves).
	Status IncidentStatus
	// Body is the text of the update (at most 25,000 characters).
	Body string
	// Components sets the status of these components (and adds them to
	// the incident when they were not affected yet).
	Components map[string]ComponentStatus
	// Name renames the incident.
	Name string
	// Quiet posts the update without notifying subscribers.
	Quiet bool
}

// metadataNamespace is the top-level key of the incident metadata opsbot
// writes. Statuspage requires every top-level metadata value to be an object.
const metadataNamespace = "opsbot"

// Limits documented by Statuspage for incidents.
const (
	maxNameRunes = 255
	maxBodyRunes = 25000
	maxKeyLen    = 200
)

// incidentBody is the JSON of POST and PATCH /pages/{page_id}/incidents.
type incidentBody struct {
	Incident incidentFields `json:"incident"`
}

type incidentFields struct {
	Name                 string                       `json:"name,omitempty"`
	Status               IncidentStatus               `json:"status,omitempty"`
	Body                 string                       `json:"body,omitempty"`
	ComponentIDs         []string                     `json:"component_ids,omitempty"`
	Components           map[string]ComponentStatus   `json:"components,omitempty"`
	DeliverNotifications bool                         `json:"deliver_notifications"`
	Metadata             map[string]map[string]string `json:"metadata,omitempty"`
}

func newIncidentFields(name string, status IncidentStatus, body string, comps map[string]ComponentStatus, quiet bool) incidentFields {
	f := incidentFields{Name: name, Status: status, Body: body, DeliverNotifications: !quiet}
	if len(comps) > 0 {
		f.Components = comps
		f.ComponentIDs = slices.Sorted(maps.Keys(comps))
	}
	return f
}

// apiIncident is the part of Statuspage's incident object the client reads.
type apiIncident struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	Impact     string    `json:"impact"`
	Shortlink  string    `json:"shortlink"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	ResolvedAt time.Time `json:"resolved_at"` // null leaves it zero
	Components []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"components"`
	IncidentUpdates []struct {
		Status    string    `json:"status"`
		Body      string    `json:"body"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"incident_updates"`
	Metadata map[string]json.RawMessage `json:"metadata"`
}

// key returns the opsbot key in the incident's metadata, if any.
func (a *apiIncident) key() string {
	raw, ok := a.Metadata[metadataNamespace]
	if !ok {
		return ""
	}
	var m struct {
		Key string `json:"key"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	return m.Key
}

func (a *apiIncident) incident() Incident {
	inc := Incident{
		ID:         a.ID,
		Key:        a.key(),
		Name:       a.Name,
		Status:     IncidentStatus(strings.ToLower(a.Status)),
		Impact:     a.Impact,
		Shortlink:  a.Shortlink,
		CreatedAt:  a.CreatedAt,
		UpdatedAt:  a.UpdatedAt,
		ResolvedAt: a.ResolvedAt,
	}
	if len(a.Components) > 0 {
		inc.Components = make(map[string]ComponentStatus, len(a.Components))
		for _, c := range a.Components {
			inc.Components[c.ID] = ComponentStatus(c.Status)
		}
	}
	// Statuspage lists updates newest first; do not rely on it.
	latest := -1
	for i, u := range a.IncidentUpdates {
		if latest < 0 || u.CreatedAt.After(a.IncidentUpdates[latest].CreatedAt) {
			latest = i
		}
	}
	if latest >= 0 {
		inc.Body = a.IncidentUpdates[latest].Body
	}
	return inc
}
