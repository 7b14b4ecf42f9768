package incident_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/templates"
)

// listStore is a Store that only reads: Get and ListOpen over incs (the
// other methods are not called by the Desk's questions, and panic).
type listStore struct {
	incident.Store
	incs []incident.Incident
	err  error
}

func (s *listStore) Get(_ context.Context, id int64) (incident.Incident, error) {
	if s.err != nil {
		return incident.Incident{}, s.err
	}
	for _, inc := range s.incs {
		if inc.ID == id {
			return inc, nil
		}
	}
	return incident.Incident{}, incident.ErrNotFound
}

func (s *listStore) ListOpen(_ context.Context, env string) ([]incident.Incident, error) {
	if s.err != nil {
		return nil, s.err
	}
	var out []incident.Incident
	for _, inc := range s.incs {
		if inc.State == incident.Open && (env == "" || inc.Environment == env) {
			out = append(out, inc)
		}
	}
	return out, nil
}

func newDesk(t *testing.T, st incident.Store, pages map[string]incident.StatusPageClient) *incident.Desk {
	t.Helper()
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	d, err := incident.NewDesk(incident.Options{Store: st, Slack: &fakeSlack{}, Templates: tmpl, Escape: escape}, pages)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func open(id int64, env string, from time.Time) incident.Incident {
	return incident.Incident{ID: id, Environment: env, From: from, State: incident.Open}
}

func resolved(id int64, env string) incident.Incident {
	return incident.Incident{ID: id, Environment: env, From: t0, State: incident.Resolved,
		Until: t0.Add(time.Hour), ResolvedBy: "U0BOB"}
}

func ids(incs []incident.Incident) []int64 {
	var out []int64
	for _, inc := range incs {
		out = append(out, inc.ID)
	}
	return out
}

// wantTarget checks what Target or UpdateTarget found: the incident (id),
// or the error, by its kind.
type wantTarget struct {
	id       int64   // the incident found
	body     string  // UpdateTarget's text
	notFound int64   // *NotFoundError's ID
	notOpen  int64   // *NotOpenError's incident
	noText   int64   // *NoTextError's ID
	none     bool    // ErrNoneOpen
	several  []int64 // *SeveralOpenError's incidents
}

func checkTarget(t *testing.T, what string, inc incident.Incident, body string, err error, want wantTarget) {
	t.Helper()
	var (
		nf *incident.NotFoundError
		no *incident.NotOpenError
		nt *incident.NoTextError
		so *incident.SeveralOpenError
	)
	switch {
	case want.id != 0:
		if err != nil || inc.ID != want.id || body != want.body {
			t.Errorf("%s = #%d %q, %v; want #%d %q", what, inc.ID, body, err, want.id, want.body)
		}
		return
	case want.notFound != 0:
		if !errors.As(err, &nf) || nf.ID != want.notFound || !errors.Is(err, incident.ErrNotFound) ||
			!errors.Is(err, opsbot.ErrNotFound) {
			t.Errorf("%s: %v, want no incident #%d", what, err, want.notFound)
		}
	case want.notOpen != 0:
		if !errors.As(err, &no) || no.Incident.ID != want.notOpen || no.Incident.State != incident.Resolved ||
			no.Incident.ResolvedBy != "U0BOB" {
			t.Errorf("%s: %v, want #%d not open", what, err, want.notOpen)
		}
	case want.noText != 0:
		if !errors.As(err, &nt) || nt.ID != want.noText {
			t.Errorf("%s: %v, want no text for #%d", what, err, want.noText)
		}
	case want.none:
		if !errors.Is(err, incident.ErrNoneOpen) {
			t.Errorf("%s: %v, want none open", what, err)
		}
	case want.several != nil:
		if !errors.As(err, &so) || !slices.Equal(ids(so.Open), want.several) {
			t.Errorf("%s: %v, want several open: %v", what, err, want.several)
		}
	}
	if inc.ID != 0 || body != "" {
		t.Errorf("%s: #%d %q with the error", what, inc.ID, body)
	}
}

func TestDeskTarget(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		incs []incident.Incident
		ref  incident.Ref
		want wantTarget
	}{
		{"none open", nil, incident.Ref{}, wantTarget{none: true}},
		{"one open", []incident.Incident{resolved(1, "prod"), open(2, "prod", t0)}, incident.Ref{}, wantTarget{id: 2}},
		{"several open: all environments, oldest first",
			[]incident.Incident{open(1, "prod", t0), resolved(2, "prod"), open(3, "dev", t0.Add(time.Minute))},
			incident.Ref{}, wantTarget{several: []int64{1, 3}}},
		{"named, open", []incident.Incident{open(1, "prod", t0), open(3, "dev", t0)}, incident.Ref{ID: 3}, wantTarget{id: 3}},
		{"named, resolved: no error here", []incident.Incident{resolved(1, "prod")}, incident.Ref{ID: 1, Explicit: true}, wantTarget{id: 1}},
		{"named, unknown", []incident.Incident{open(1, "prod", t0)}, incident.Ref{ID: 9}, wantTarget{notFound: 9}},
	} {
		d := newDesk(t, &listStore{incs: tt.incs}, nil)
		inc, err := d.Target(ctx, tt.ref)
		checkTarget(t, tt.name, inc, "", err, tt.want)
	}
}

func TestDeskUpdateTarget(t *testing.T) {
	ctx := context.Background()
	one := []incident.Incident{open(1, "prod", t0), resolved(2, "prod")}
	two := []incident.Incident{open(1, "prod", t0), resolved(2, "prod"), open(3, "dev", t0.Add(time.Minute))}
	for _, tt := range []struct {
		name string
		incs []incident.Incident
		text string
		want wantTarget
	}{
		{"none open", nil, "still looking", wantTarget{none: true}},
		{"none open, a number", nil, "3 pods restarted", wantTarget{none: true}},
		{"none open, named", nil, "#3 pods restarted", wantTarget{notFound: 3}},
		{"one open", one, "Rolled back the deploy", wantTarget{id: 1, body: "Rolled back the deploy"}},
		{"one open, named", one, "1 Rolled back", wantTarget{id: 1, body: "Rolled back"}},
		{"one open, named explicitly", one, "  #1   Rolled back  ", wantTarget{id: 1, body: "Rolled back"}},
		{"a bare number that is no open incident starts the text", one, "3 pods restarted",
			wantTarget{id: 1, body: "3 pods restarted"}},
		{"a bare number of a resolved incident starts the text", one, "2 pods left",
			wantTarget{id: 1, body: "2 pods left"}},
		{"named explicitly, resolved", one, "#2 too late", wantTarget{notOpen: 2}},
		{"named explicitly, unknown", one, "#7 hello", wantTarget{notFound: 7}},
		{"named, no text", one, "1", wantTarget{noText: 1}},
		{"named explicitly, no text", one, "#1 ", wantTarget{noText: 1}},
		{"a bare number alone that is no open incident is the text", one, "42", wantTarget{id: 1, body: "42"}},
		{"several open", two, "still looking", wantTarget{several: []int64{1, 3}}},
		{"several open, a bare number of none", two, "5 pods", wantTarget{several: []int64{1, 3}}},
		{"several open, named", two, "3 rebuilt 40%", wantTarget{id: 3, body: "rebuilt 40%"}},
		{"several open, named explicitly", two, "#3 rebuilt 40%", wantTarget{id: 3, body: "rebuilt 40%"}},
		{"several open, named explicitly, resolved", two, "#2 rebuilt", wantTarget{notOpen: 2}},
	} {
		d := newDesk(t, &listStore{incs: tt.incs}, nil)
		inc, body, err := d.UpdateTarget(ctx, tt.text)
		checkTarget(t, tt.name, inc, body, err, tt.want)
	}
}

func TestDeskOpenForAnomaly(t *testing.T) {
	ctx := context.Background()
	fromAnomaly := func(inc incident.Incident, anomaly int64) incident.Incident {
		inc.AnomalyID = anomaly
		return inc
	}
	d := newDesk(t, &listStore{incs: []incident.Incident{
		fromAnomaly(resolved(1, "prod"), 5),
		fromAnomaly(open(2, "prod", t0), 0),
		fromAnomaly(open(3, "dev", t0), 5),
		fromAnomaly(open(4, "prod", t0), 6),
	}}, nil)
	for _, tt := range []struct {
		anomaly int64
		want    int64
	}{
		{5, 3}, // the open one; #1 was resolved
		{6, 4},
		{7, 0},
		{0, 0}, // no anomaly: not the incidents without one
	} {
		inc, ok, err := d.OpenForAnomaly(ctx, tt.anomaly)
		if err != nil || ok != (tt.want != 0) || inc.ID != tt.want {
			t.Errorf("OpenForAnomaly(%d) = #%d %v, %v; want #%d", tt.anomaly, inc.ID, ok, err, tt.want)
		}
	}
}

func TestDeskStoreErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("database is locked")
	d := newDesk(t, &listStore{err: boom}, nil)
	if _, err := d.Target(ctx, incident.Ref{}); !errors.Is(err, boom) {
		t.Errorf("Target: %v", err)
	}
	if _, err := d.Target(ctx, incident.Ref{ID: 1}); !errors.Is(err, boom) || errors.Is(err, incident.ErrNotFound) {
		t.Errorf("Target(#1): %v", err)
	}
	if _, _, err := d.UpdateTarget(ctx, "x"); !errors.Is(err, boom) {
		t.Errorf("UpdateTarget: %v", err)
	}
	if _, _, err := d.OpenForAnomaly(ctx, 1); !errors.Is(err, boom) {
		t.Errorf("OpenForAnomaly: %v", err)
	}
}

// A status page per environment: For gives each environment's Service,
// and the one without a status page to the others.
func TestDeskServicesByEnvironment(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	d := newDeskOn(t, e)
	pageOf := func(env string) incident.StatusPage {
		t.Helper()
		in := announcement()
		in.Environment = env
		inc, _, err := d.For(env).Announce(ctx, in, "announce:"+env)
		if err != nil {
			t.Fatal(err)
		}
		return inc.StatusPage
	}
	if sp := pageOf("prod"); !sp.Enabled || sp.State != incident.StatusPageOpen {
		t.Errorf("prod: %+v", sp)
	}
	if sp := pageOf("dev"); sp.Enabled {
		t.Errorf("dev has no status page: %+v", sp)
	}
	if !d.HasStatusPage("prod") || d.HasStatusPage("dev") || d.HasStatusPage("") {
		t.Error("HasStatusPage")
	}
	if d.For("dev") != d.For("staging") || d.For("dev") == d.For("prod") {
		t.Error("For: the environments without a status page share one Service")
	}
	if _, err := incident.NewDesk(incident.Options{Store: e.store}, nil); err == nil {
		t.Error("NewDesk without Slack, Templates and Escape")
	}
	if _, err := incident.NewDesk(e.opts, map[string]incident.StatusPageClient{"prod": nil}); err == nil {
		t.Error("NewDesk with a nil status page")
	}
}

// newDeskOn is a Desk on e's store and Slack, with e's status page for
// prod.
func newDeskOn(t *testing.T, e *env) *incident.Desk {
	t.Helper()
	d, err := incident.NewDesk(e.opts, map[string]incident.StatusPageClient{"prod": e.opts.StatusPage})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
