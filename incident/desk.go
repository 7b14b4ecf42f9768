package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Desk is the incident procedure of several environments: a Service per
// environment with that environment's status page, and one without a
// status page for the others, over one Store (For). It also answers the
// questions that do not depend on an environment: which incident a
// command is about (Target, UpdateTarget) and whether an anomaly has an
// open incident already (OpenForAnomaly). The caller builds it with the
// status pages it has (NewDesk). It is safe for concurrent use.
//
// An incident's steps always run on the Service of its Environment, so the
// lock that serializes them (see Service) is that Service's.
type Desk struct {
	store    Store
	byEnv    map[string]*Service
	fallback *Service
}

// NewDesk builds the Services with o (o.StatusPage is ignored): one with
// the status page of each environment in pages, and one without a status
// page for every other environment.
func NewDesk(o Options, pages map[string]StatusPageClient) (*Desk, error) {
	o.StatusPage = nil
	fallback, err := NewService(o)
	if err != nil {
		return nil, err
	}
	d := &Desk{store: o.Store, byEnv: make(map[string]*Service, len(pages)), fallback: fallback}
	for env, sp := range pages {
		if sp == nil {
			return nil, fmt.Errorf("incident desk: the status page of %q is nil", env)
		}
		o.StatusPage = sp
		if d.byEnv[env], err = NewService(o); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// For returns the Service of environment env: with env's status page, or
// without one when env has none.
func (d *Desk) For(env string) *Service {
	if s, ok := d.byEnv[env]; ok {
		return s
	}
	return d.fallback
}

// HasStatusPage reports whether env's incidents can be raised on a status
// page.
func (d *Desk) HasStatusPage(env string) bool {
	_, ok := d.byEnv[env]
	return ok
}

// Target returns the incident a command is about: the one ref names,
// whatever its state (resolving a resolved incident says so; it is no
// error here), or, when ref names none, the one open incident of any
// environment. The errors:
//
//   - *NotFoundError: there is no incident ref.ID;
//   - ErrNoneOpen: ref names none and no incident is open;
//   - *SeveralOpenError: ref names none and several are open (listed:
//     the caller asks which one).
func (d *Desk) Target(ctx context.Context, ref Ref) (Incident, error) {
	if ref.ID != 0 {
		return d.get(ctx, ref.ID)
	}
	open, err := d.listOpen(ctx)
	if err != nil {
		return Incident{}, err
	}
	return only(open)
}

// UpdateTarget reads `/ops update [id] <text>` (text: the words after the
// command's name) and returns the incident the update is for, which is
// open, and the update's text:
//
//   - "#12 <text>": incident 12; a *NotFoundError or a *NotOpenError when
//     it is not open;
//   - "12 <text>": incident 12 when it is open; otherwise "12" is the
//     start of the text ("3 pods restarted"), as below;
//   - "<text>": the one open incident (ErrNoneOpen, *SeveralOpenError as
//     for Target).
//
// An incident named without text after it is a *NoTextError.
func (d *Desk) UpdateTarget(ctx context.Context, text string) (_ Incident, body string, _ error) {
	text = strings.TrimSpace(text)
	open, err := d.listOpen(ctx)
	if err != nil {
		return Incident{}, "", err
	}
	if fields := strings.Fields(text); len(fields) > 0 {
		if ref, ok := ParseRef(fields[0]); ok {
			rest := strings.TrimSpace(strings.TrimPrefix(text, fields[0]))
			for _, inc := range open {
				if inc.ID != ref.ID {
					continue
				}
				if rest == "" {
					return Incident{}, "", &NoTextError{ID: inc.ID}
				}
				return inc, rest, nil
			}
			if ref.Explicit {
				inc, err := d.get(ctx, ref.ID)
				if err != nil {
					return Incident{}, "", err
				}
				return Incident{}, "", &NotOpenError{Incident: inc}
			}
			// A bare number that is no open incident is the start of the text.
		}
	}
	inc, err := only(open)
	if err != nil {
		return Incident{}, "", err
	}
	return inc, text, nil
}

// OpenForAnomaly returns the open incident announced from anomaly
// anomalyID, if there is one. An anomaly has at most one open incident:
// the Store keeps that rule when announcing (Store.Announce returns the
// open one); asking first spares the announcer a modal.
func (d *Desk) OpenForAnomaly(ctx context.Context, anomalyID int64) (_ Incident, found bool, _ error) {
	if anomalyID <= 0 {
		return Incident{}, false, nil
	}
	open, err := d.listOpen(ctx)
	if err != nil {
		return Incident{}, false, err
	}
	for _, inc := range open {
		if inc.AnomalyID == anomalyID {
			return inc, true, nil
		}
	}
	return Incident{}, false, nil
}

func (d *Desk) get(ctx context.Context, id int64) (Incident, error) {
	inc, err := d.store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Incident{}, &NotFoundError{ID: id}
	}
	if err != nil {
		return Incident{}, fmt.Errorf("read incident %d: %w", id, err)
	}
	return inc, nil
}

func (d *Desk) listOpen(ctx context.Context) ([]Incident, error) {
	open, err := d.store.ListOpen(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list the open incidents: %w", err)
	}
	return open, nil
}

// only returns the one incident of open.
func only(open []Incident) (Incident, error) {
	switch len(open) {
	case 0:
		return Incident{}, ErrNoneOpen
	case 1:
		return open[0], nil
	}
	return Incident{}, &SeveralOpenError{Open: open}
}

// ErrNoneOpen: a command names no incident, and none is open.
var ErrNoneOpen = errors.New("no incident is open")

// SeveralOpenError: a command names no incident, and several are open.
type SeveralOpenError struct {
	// Open are the open incidents, oldest From first.
	Open []Incident
}

func (e *SeveralOpenError) Error() string {
	return fmt.Sprintf("%d incidents are open: say which one", len(e.Open))
}

// NotFoundError: a command names an incident that does not exist.
// errors.Is(err, ErrNotFound) holds.
type NotFoundError struct{ ID int64 }

func (e *NotFoundError) Error() string { return fmt.Sprintf("there is no incident #%d", e.ID) }

// Unwrap returns ErrNotFound.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// NotOpenError: a command that needs an open incident names one that is
// not open.
type NotOpenError struct {
	// Incident is the incident named: resolved (Until and ResolvedBy say
	// when and by whom), or open when it was announced just after the
	// open incidents were listed.
	Incident Incident
}

func (e *NotOpenError) Error() string {
	if e.Incident.State == Resolved {
		return fmt.Sprintf("incident #%d is not open: it was resolved at %s by %s", e.Incident.ID,
			FormatTime(e.Incident.Until, nil), e.Incident.ResolvedBy)
	}
	return fmt.Sprintf("incident #%d is not open", e.Incident.ID)
}

// NoTextError: `/ops update` names an incident but says nothing about it.
type NoTextError struct{ ID int64 }

func (e *NoTextError) Error() string {
	return fmt.Sprintf("the update of incident #%d has no text", e.ID)
}
