package incident

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // Europe/London without /usr/share/zoneinfo

	"github.com/opsbot/opsbot"
)

func TestFormatTime(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		t    time.Time
		loc  *time.Location
		want string
	}{
		{time.Date(2026, 11, 24, 9, 30, 59, 0, time.UTC), london, "2026-11-24 09:30 GMT"},
		{time.Date(2026, 6, 2, 13, 5, 0, 0, time.UTC), london, "2026-06-02 14:05 BST"},
		{time.Date(2026, 6, 2, 13, 5, 0, 0, time.UTC), nil, "2026-06-02 13:05 UTC"},
	} {
		if got := FormatTime(tt.t, tt.loc); got != tt.want {
			t.Errorf("FormatTime(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "0m"},
		{0, "0m"},
		{29 * time.Second, "0m"},
		{30 * time.Second, "1m"},
		{45 * time.Minute, "45m"},
		{time.Hour, "1h"},
		{85 * time.Minute, "1h 25m"},
		{85*time.Minute + 40*time.Second, "1h 26m"},
		{24 * time.Hour, "1d"},
		{27*time.Hour + 5*time.Minute, "1d 3h 5m"},
		{48*time.Hour + 5*time.Minute, "2d 5m"},
	} {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

var now = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func valid() Incident {
	return Incident{Environment: "prod", Channel: "C1", From: now.Add(-30 * time.Minute),
		UserImpact: "checkout fails", What: "502s", AnnouncedBy: "U1", AnnouncedAt: now}
}

func problems(t *testing.T, err error) map[string]string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *opsbot.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, opsbot.ErrInvalid) {
		t.Fatalf("error %v is not a *opsbot.ValidationError", err)
	}
	out := map[string]string{}
	for _, p := range ve.Problems {
		out[p.Field] = p.Problem
	}
	return out
}

func TestValidateIncident(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*Incident)
		fields []string
	}{
		{"valid", func(*Incident) {}, nil},
		{"from a few minutes ahead", func(i *Incident) { i.From = now.Add(MaxClockSkew) }, nil},
		{"missing texts", func(i *Incident) { i.UserImpact, i.What = " ", "" }, []string{"userImpact", "what"}},
		{"long texts", func(i *Incident) {
			i.UserImpact = string(make([]rune, MaxUserImpactLen+1))
		}, []string{"userImpact"}},
		{"from in the future", func(i *Incident) { i.From = now.Add(MaxClockSkew + time.Second) }, []string{"from"}},
		{"no from", func(i *Incident) { i.From = time.Time{} }, []string{"from"}},
		{"no announcer", func(i *Incident) { i.AnnouncedBy, i.Channel = "", "" }, []string{"announcedBy", "channel"}},
		{"negative anomaly", func(i *Incident) { i.AnomalyID = -1 }, []string{"anomalyId"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			i := valid()
			tt.change(&i)
			got := problems(t, i.Normalized().Validate(now))
			if len(got) != len(tt.fields) {
				t.Errorf("problems %v, want fields %v", got, tt.fields)
			}
			for _, f := range tt.fields {
				if got[f] == "" {
					t.Errorf("no problem for %s: %v", f, got)
				}
			}
		})
	}
}

func TestValidateResolve(t *testing.T) {
	inc := valid()
	if err := ValidateResolve(inc, now, "U1", now); err != nil {
		t.Errorf("valid resolution: %v", err)
	}
	if p := problems(t, ValidateResolve(inc, inc.From.Add(-time.Second), "U1", now)); p["until"] == "" {
		t.Errorf("until before from: %v", p)
	}
	if p := problems(t, ValidateResolve(inc, now.Add(time.Hour), "", now)); p["until"] == "" || p["by"] == "" {
		t.Errorf("until in the future, no by: %v", p)
	}
}

func TestStatusPageApply(t *testing.T) {
	pending := StatusPage{Enabled: true, State: StatusPagePending}
	open := StatusPage{Enabled: true, State: StatusPageOpen, IncidentID: "p1", Key: "k"}
	created := StatusPageEvent{Kind: KindStatusPageCreated, StatusPageID: "p1", Key: "k"}
	for _, tt := range []struct {
		name     string
		sp       StatusPage
		st       State
		ev       StatusPageEvent
		want     StatusPage
		changed  bool
		conflict bool
	}{
		{"create", pending, Open, created, open, true, false},
		{"create again", open, Open, created, open, false, false},
		{"a second incident", open, Open, StatusPageEvent{Kind: KindStatusPageCreated, StatusPageID: "p2"}, open, false, true},
		{"failure", pending, Open, StatusPageEvent{Kind: KindStatusPageFailed, Op: OpCreate, Error: "HTTP 503", Key: "k"},
			StatusPage{Enabled: true, State: StatusPagePending, Key: "k", LastError: "HTTP 503"}, true, false},
		{"success clears the error", StatusPage{Enabled: true, State: StatusPagePending, LastError: "x"}, Open, created, open, true, false},
		{"resolve while open", open, Open, StatusPageEvent{Kind: KindStatusPageResolved}, open, false, true},
		{"resolve", open, Resolved, StatusPageEvent{Kind: KindStatusPageResolved},
			StatusPage{Enabled: true, State: StatusPageResolved, IncidentID: "p1", Key: "k"}, true, false},
		{"resolve before create", pending, Resolved, StatusPageEvent{Kind: KindStatusPageResolved}, pending, false, true},
		{"skip", pending, Resolved, StatusPageEvent{Kind: KindStatusPageSkipped},
			StatusPage{Enabled: true, State: StatusPageSkipped}, true, false},
		{"created after skipped", StatusPage{Enabled: true, State: StatusPageSkipped}, Resolved, created, open, true, false},
		{"update", open, Open, StatusPageEvent{Kind: KindStatusPageUpdated, UpdateSeq: 2}, open, true, false},
		{"update before create", pending, Open, StatusPageEvent{Kind: KindStatusPageUpdated, UpdateSeq: 2}, pending, false, true},
		{"not enabled", StatusPage{}, Open, created, StatusPage{}, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := tt.sp.Apply(tt.st, tt.ev)
			if tt.conflict {
				if !errors.Is(err, opsbot.ErrConflict) {
					t.Errorf("error %v, want a conflict", err)
				}
				return
			}
			if err != nil || changed != tt.changed || got != tt.want {
				t.Errorf("Apply = %+v, %v, %v; want %+v, %v", got, changed, err, tt.want, tt.changed)
			}
		})
	}
}

func TestNeedsSync(t *testing.T) {
	for _, tt := range []struct {
		sp   StatusPage
		st   State
		want bool
	}{
		{StatusPage{}, Open, false},
		{StatusPage{Enabled: true, State: StatusPagePending}, Open, true},
		{StatusPage{Enabled: true, State: StatusPageOpen}, Open, false},
		{StatusPage{Enabled: true, State: StatusPageOpen}, Resolved, true},
		{StatusPage{Enabled: true, State: StatusPagePending}, Resolved, true},
		{StatusPage{Enabled: true, State: StatusPageResolved}, Resolved, false},
		{StatusPage{Enabled: true, State: StatusPageSkipped}, Resolved, false},
	} {
		if got := tt.sp.NeedsSync(tt.st); got != tt.want {
			t.Errorf("%+v NeedsSync(%s) = %v", tt.sp, tt.st, got)
		}
	}
}
