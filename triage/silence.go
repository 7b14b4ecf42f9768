package triage

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/opsbot/opsbot"
)

// Matcher is one label matcher of an Alertmanager silence. The silences
// opsbot creates have equality matchers only (SilenceMatchers); a silence
// read back (Silencer.Get) may have been edited by someone with any kind.
type Matcher struct {
	Name, Value string
	// IsRegex: Value is a regular expression (=~, !~).
	IsRegex bool
	// NotEqual: the matcher negates (!=, !~).
	NotEqual bool
}

// String returns the matcher in Alertmanager's syntax: name="value".
func (m Matcher) String() string {
	op := "="
	switch {
	case m.IsRegex && m.NotEqual:
		op = "!~"
	case m.IsRegex:
		op = "=~"
	case m.NotEqual:
		op = "!="
	}
	return m.Name + op + `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(m.Value) + `"`
}

// The labels SilenceMatchers treats specially.
const (
	// LabelAlertname names the alert; every silence opsbot creates has it.
	LabelAlertname = "alertname"
	// LabelNamespace scopes an alert to a namespace; a silence without it
	// silences the alert in every namespace.
	LabelNamespace = "namespace"
)

// SilenceMatchers returns the matchers of a silence for an alert with the
// given identifying labels (checks.Finding.Labels: the labels every alert
// of the finding has with the same value), one equality matcher per
// non-empty label, sorted by name.
//
// It never silences a bare alert name across namespaces by itself: without
// acrossNamespaces, the labels must include a namespace, and the error says
// so otherwise. With acrossNamespaces, the namespace matcher is left out,
// so the silence covers the alert in every namespace: the user must have
// asked for that. The labels must always include an alertname, and no
// value redacted (redact/): a silence on it would match something else.
func SilenceMatchers(labels map[string]string, acrossNamespaces bool) ([]Matcher, error) {
	if labels[LabelAlertname] == "" {
		return nil, &opsbot.ValidationError{What: "silence", Problems: []opsbot.FieldError{{
			Field: "matchers", Problem: "the alert has no alertname label: only alerts from Alertmanager can be silenced",
		}}}
	}
	if !acrossNamespaces && labels[LabelNamespace] == "" {
		return nil, &opsbot.ValidationError{What: "silence", Problems: []opsbot.FieldError{{
			Field: "matchers", Problem: fmt.Sprintf("the alert %s has no single namespace: silencing it would silence it in every namespace; widen the silence explicitly to do that", labels[LabelAlertname]),
		}}}
	}
	var ms []Matcher
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		v := labels[name]
		if v == "" || (acrossNamespaces && name == LabelNamespace) {
			continue
		}
		if strings.Contains(v, "[redacted:") {
			// The value shown is not the alert's: a silence would match
			// nothing, or something else.
			return nil, &opsbot.ValidationError{What: "silence", Problems: []opsbot.FieldError{{
				Field: "matchers", Problem: fmt.Sprintf("the label %s was redacted: opsbot cannot silence on it", name),
			}}}
		}
		ms = append(ms, Matcher{Name: name, Value: v})
	}
	return ms, nil
}

// SilenceState is the state of a silence in Alertmanager.
type SilenceState string

// The states of a silence.
const (
	SilencePending SilenceState = "pending" // starts in the future
	SilenceActive  SilenceState = "active"
	SilenceExpired SilenceState = "expired"
)

// SilenceRequest asks a Silencer for a silence.
type SilenceRequest struct {
	// Matchers select the alerts (SilenceMatchers); at least one.
	Matchers []Matcher
	// EndsAt is when the silence ends; it starts now.
	EndsAt time.Time
	// CreatedBy is who asked, by name (the Slack user's name).
	CreatedBy string
	// Comment says why: the decision's conclusion and the thread's link.
	Comment string
	// Key identifies the request (the anomaly's and decision's): a
	// Silencer given the same key and matchers again returns the active
	// silence the first request created instead of creating another.
	Key string
}

// Validate checks a request before it reaches Alertmanager.
func (r SilenceRequest) Validate(now time.Time) error {
	v := opsbot.Validator{What: "silence"}
	if len(r.Matchers) == 0 {
		v.Add("matchers", "at least one matcher is needed")
	}
	for i, m := range r.Matchers {
		if m.Name == "" {
			v.Add(fmt.Sprintf("matchers[%d]", i), "the label name is empty")
		}
	}
	if !r.EndsAt.After(now) {
		v.Add("endsAt", "%s is not in the future", r.EndsAt.UTC().Format(time.RFC3339))
	}
	v.Required("createdBy", r.CreatedBy, opsbot.MaxIDLen)
	v.Required("comment", r.Comment, MaxTextLen)
	v.Required("key", r.Key, opsbot.MaxIDLen)
	if strings.ContainsAny(r.Key, "[] \t\n") {
		v.Add("key", "must not contain brackets or white space")
	}
	return v.Err()
}

// Silence is a silence as Alertmanager has it.
type Silence struct {
	ID               string
	Matchers         []Matcher
	StartsAt, EndsAt time.Time
	CreatedBy        string
	Comment          string
	State            SilenceState
}

// Silencer creates and ends silences: Alertmanager's, through its API v2.
// Errors wrap opsbot.ErrNotFound for an unknown silence and
// opsbot.ErrInvalid for a request refused as invalid.
type Silencer interface {
	// Silence creates the silence r asks for, or returns the pending or
	// active one an earlier request with the same key and matchers
	// created.
	Silence(ctx context.Context, r SilenceRequest) (Silence, error)
	// Get returns the silence with the given id, whatever its state.
	Get(ctx context.Context, id string) (Silence, error)
	// Expire ends the silence now. Expiring an expired silence is not an
	// error.
	Expire(ctx context.Context, id string) error
	// Extend moves the end of a pending or active silence to endsAt and
	// returns it. Its ID may change: Alertmanager replaces a silence it
	// cannot update in place.
	Extend(ctx context.Context, id string, endsAt time.Time) (Silence, error)
}
