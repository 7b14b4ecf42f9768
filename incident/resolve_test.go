package incident_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/incident"
)

func mustAnnounce(t *testing.T, e *env) incident.Incident {
	t.Helper()
	inc, _, err := e.svc.Announce(context.Background(), announcement(), "")
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func TestResolveOutcomes(t *testing.T) {
	ctx := context.Background()
	until := t0.Add(4 * time.Minute)
	for _, tt := range []struct {
		name string
		// before breaks things before the first resolve; between mends
		// them before the second.
		before, between func(*env)
		// The outcome of the first resolve, and of a second by someone
		// else.
		firstLags, firstSPRetry bool
		second                  incident.Finished
		edits                   int
	}{
		{
			name:   "nothing fails: the second changes nothing and does nothing",
			second: incident.Finished{},
			edits:  1,
		},
		{
			name:      "the edit failed: the second does it",
			before:    func(e *env) { e.slack.failNext("edit", 1) },
			firstLags: true,
			second:    incident.Finished{Lagged: true, Edited: true},
			edits:     1,
		},
		{
			name:         "the status page failed: the second resolves it there",
			before:       func(e *env) { e.page.FailNext(503, 10) },
			between:      func(e *env) { e.page.FailNext(503, 0) },
			firstSPRetry: true,
			second:       incident.Finished{Lagged: true, StatusPage: true},
			edits:        1,
		},
		{
			name:         "both failed: the second does both",
			before:       func(e *env) { e.slack.failNext("edit", 1); e.page.Down() },
			between:      func(e *env) { e.page.Up() },
			firstLags:    true,
			firstSPRetry: true,
			second:       incident.Finished{Lagged: true, Edited: true, StatusPage: true},
			edits:        1,
		},
		{
			name:         "the status page still fails: the second says what is left",
			before:       func(e *env) { e.page.FailNext(503, 10) },
			firstSPRetry: true,
			second:       incident.Finished{Lagged: true},
			edits:        1,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			inc := mustAnnounce(t, e)
			if tt.before != nil {
				tt.before(e)
			}
			first, err := e.svc.Resolve(ctx, inc.ID, until, "U0BOB", "resolve:V1")
			if err != nil {
				t.Fatalf("first Resolve: %v", err)
			}
			got := first.Incident
			if !first.Changed || first.Finished != (incident.Finished{}) || got.State != incident.Resolved ||
				!got.Until.Equal(until) || got.ResolvedBy != "U0BOB" {
				t.Errorf("first Resolve: %+v", first)
			}
			if got.AnnouncementLags() != tt.firstLags || (first.StepErr != nil) != tt.firstLags ||
				got.StatusPage.NeedsRetry(got.State) != tt.firstSPRetry {
				t.Errorf("first Resolve: lags %v, status page to retry %v, step error %v", got.AnnouncementLags(),
					got.StatusPage.NeedsRetry(got.State), first.StepErr)
			}
			if tt.firstLags && !errors.Is(first.StepErr, errSlack) {
				t.Errorf("first Resolve: step error %v", first.StepErr)
			}
			if tt.between != nil {
				tt.between(e)
			}

			// Someone else, later, with another time: nothing changes.
			e.clock.Set(t0.Add(30 * time.Minute))
			second, err := e.svc.Resolve(ctx, inc.ID, t0.Add(20*time.Minute), "U0CAROL", "resolve:V2")
			if err != nil || second.Changed || second.StepErr != nil || second.Finished != tt.second {
				t.Fatalf("second Resolve: %+v, %v; want finished %+v", second, err, tt.second)
			}
			got = second.Incident
			if !got.Until.Equal(until) || got.ResolvedBy != "U0BOB" || got.AnnouncementLags() {
				t.Errorf("second Resolve: %+v", got)
			}
			if n := len(e.slack.Calls("edit")); n != tt.edits {
				t.Errorf("%d edits, want %d", n, tt.edits)
			}
			if n := len(e.slack.Calls("reply")); n != 1 {
				t.Errorf("%d closing lines, want 1", n)
			}
			wantSP := incident.StatusPageResolved
			if tt.firstSPRetry && !tt.second.StatusPage {
				wantSP = incident.StatusPageOpen
			}
			if got.StatusPage.State != wantSP {
				t.Errorf("status page %q, want %q", got.StatusPage.State, wantSP)
			}

			// A third finds nothing left.
			third, err := e.svc.Resolve(ctx, inc.ID, time.Time{}, "U0CAROL", "resolve:V3")
			if err != nil || third.Changed || (third.Finished != incident.Finished{Lagged: tt.firstSPRetry && !tt.second.StatusPage}) {
				t.Errorf("third Resolve: %+v, %v", third, err)
			}
		})
	}
}

// An incident resolved already is not refused for the time given: nothing
// changes, whatever it says.
func TestResolveResolvedIgnoresTheTime(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{noStatusPage: true})
	inc := mustAnnounce(t, e)
	if _, err := e.svc.Resolve(ctx, inc.ID, t0.Add(4*time.Minute), "U0BOB", ""); err != nil {
		t.Fatal(err)
	}
	for _, until := range []time.Time{t0.Add(-time.Hour), t0.Add(48 * time.Hour)} {
		out, err := e.svc.Resolve(ctx, inc.ID, until, "U0CAROL", "")
		if err != nil || out.Changed || !out.Incident.Until.Equal(t0.Add(4*time.Minute)) {
			t.Errorf("Resolve at %v: %+v, %v", until, out, err)
		}
	}
}

// The call that resolved the incident, repeated with its key, is that
// call again: Changed, and it does what it left undone.
func TestResolveRepeatedWithItsKey(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	inc := mustAnnounce(t, e)
	e.slack.failNext("edit", 1)
	if out, err := e.svc.Resolve(ctx, inc.ID, t0.Add(4*time.Minute), "U0BOB", "resolve:V1"); err != nil ||
		!out.Changed || !errors.Is(out.StepErr, errSlack) {
		t.Fatalf("Resolve: %+v, %v", out, err)
	}
	out, err := e.svc.Resolve(ctx, inc.ID, t0.Add(4*time.Minute), "U0BOB", "resolve:V1")
	if err != nil || !out.Changed || out.StepErr != nil || out.Incident.AnnouncementLags() {
		t.Fatalf("repeated Resolve: %+v, %v", out, err)
	}
	if n := len(e.slack.Calls("edit")); n != 1 {
		t.Errorf("%d edits", n)
	}
}

func TestResolveRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	inc := mustAnnounce(t, e) // From t0; the clock is t0 + 5m
	for _, tt := range []struct {
		name        string
		until       time.Time
		by          string
		beforeStart bool
		future      bool
	}{
		{"before the start", t0.Add(-time.Minute), "U0BOB", true, false},
		{"in the future", t0.Add(5*time.Minute + incident.MaxClockSkew + time.Minute), "U0BOB", false, true},
		{"long ago", time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), "U0BOB", true, false},
		{"by nobody", t0.Add(time.Minute), "", false, false},
	} {
		out, err := e.svc.Resolve(ctx, inc.ID, tt.until, tt.by, "")
		var (
			ue *incident.UntilError
			ve *opsbot.ValidationError
		)
		if out != (incident.ResolveOutcome{}) || !errors.Is(err, opsbot.ErrInvalid) || !errors.As(err, &ve) {
			t.Errorf("%s: %+v, %v", tt.name, out, err)
			continue
		}
		isUntil := errors.As(err, &ue)
		switch {
		case isUntil != (tt.beforeStart || tt.future):
			t.Errorf("%s: %v (an UntilError: %v)", tt.name, err, isUntil)
		case isUntil && (ue.BeforeStart != tt.beforeStart || ue.IncidentID != inc.ID || !ue.Until.Equal(tt.until) ||
			!ue.From.Equal(t0)):
			t.Errorf("%s: %+v", tt.name, ue)
		}
	}
	if got, _ := e.store.Get(ctx, inc.ID); got.State != incident.Open {
		t.Errorf("a refused resolution resolved it: %+v", got)
	}
	if n := len(e.slack.Calls("edit")); n != 0 {
		t.Errorf("%d edits after refusals", n)
	}
	if _, err := e.svc.Resolve(ctx, 99, time.Time{}, "U0BOB", ""); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("Resolve of no incident: %v", err)
	}
}

func TestFinishOutcomes(t *testing.T) {
	ctx := context.Background()
	t.Run("the announcement and the status page", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		e.slack.failNext("post", 1)
		e.page.Down()
		inc, _, err := e.svc.Announce(ctx, announcement(), "")
		if !errors.Is(err, errSlack) {
			t.Fatalf("Announce: %v", err)
		}
		e.page.Up()
		out, err := e.svc.Finish(ctx, inc.ID)
		if err != nil || out.StepErr != nil || out.Finished != (incident.Finished{Lagged: true, Posted: true, StatusPage: true}) ||
			out.Incident.MessageTS == "" || out.Incident.StatusPage.State != incident.StatusPageOpen {
			t.Fatalf("Finish: %+v, %v", out, err)
		}
		out, err = e.svc.Finish(ctx, inc.ID)
		if err != nil || out.Finished != (incident.Finished{}) {
			t.Errorf("Finish with nothing left: %+v, %v", out, err)
		}
	})
	t.Run("the post fails again", func(t *testing.T) {
		e := newEnv(t, envOptions{noStatusPage: true})
		e.slack.failNext("post", 2)
		inc, _, _ := e.svc.Announce(ctx, announcement(), "")
		out, err := e.svc.Finish(ctx, inc.ID)
		if err != nil || !errors.Is(out.StepErr, errSlack) || out.Finished != (incident.Finished{Lagged: true}) ||
			!out.Incident.AnnouncementLags() {
			t.Errorf("Finish: %+v, %v", out, err)
		}
	})
	t.Run("the edit", func(t *testing.T) {
		e := newEnv(t, envOptions{noStatusPage: true})
		inc := mustAnnounce(t, e)
		e.slack.failNext("edit", 1)
		if _, err := e.svc.Resolve(ctx, inc.ID, t0.Add(time.Minute), "U0BOB", ""); err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.Finish(ctx, inc.ID)
		if err != nil || out.StepErr != nil || out.Finished != (incident.Finished{Lagged: true, Edited: true}) {
			t.Errorf("Finish: %+v, %v", out, err)
		}
	})
	t.Run("no incident", func(t *testing.T) {
		e := newEnv(t, envOptions{noStatusPage: true})
		if _, err := e.svc.Finish(ctx, 42); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("Finish: %v", err)
		}
	})
}

func TestStatusPageNeedsRetry(t *testing.T) {
	for _, tt := range []struct {
		sp   incident.StatusPage
		st   incident.State
		want bool
	}{
		{incident.StatusPage{Enabled: true, State: incident.StatusPagePending, LastError: "503"}, incident.Open, true},
		{incident.StatusPage{Enabled: true, State: incident.StatusPagePending}, incident.Open, false},
		{incident.StatusPage{Enabled: true, State: incident.StatusPageOpen, LastError: "503"}, incident.Open, false},
		{incident.StatusPage{Enabled: true, State: incident.StatusPageOpen, LastError: "503"}, incident.Resolved, true},
		{incident.StatusPage{Enabled: true, State: incident.StatusPageResolved, LastError: "503"}, incident.Resolved, false},
		{incident.StatusPage{State: incident.StatusPagePending, LastError: "503"}, incident.Open, false},
	} {
		if got := tt.sp.NeedsRetry(tt.st); got != tt.want {
			t.Errorf("%+v.NeedsRetry(%s) = %v", tt.sp, tt.st, got)
		}
	}
}

func TestIsRetryable(t *testing.T) {
	base := errors.New("HTTP 503")
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{base, false},
		{&incident.RetryableError{Err: base}, true},
		{fmt.Errorf("create: %w", &incident.RetryableError{Err: base}), true},
	} {
		if got := incident.IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%v) = %v", tt.err, got)
		}
	}
	if err := (&incident.RetryableError{Err: base}); err.Error() != "HTTP 503" || !errors.Is(err, base) {
		t.Errorf("RetryableError: %q", err.Error())
	}
}

// The Service's lock is the only one: updates and Retries of an incident
// whose announcement failed, all at once, post it once.
func TestStepsOfAnIncidentDoNotInterleave(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{noStatusPage: true})
	e.slack.failNext("post", 1)
	inc, _, err := e.svc.Announce(ctx, announcement(), "")
	if !errors.Is(err, errSlack) || !inc.AnnouncementLags() {
		t.Fatalf("Announce: %+v, %v", inc, err)
	}
	var wg sync.WaitGroup
	for k := range 8 {
		wg.Go(func() {
			if k%2 == 0 {
				if _, _, err := e.svc.AddUpdate(ctx, inc.ID, incident.Update{Text: fmt.Sprint("update ", k), By: "U0BOB"}, ""); err != nil {
					t.Error(err)
				}
				return
			}
			if out, err := e.svc.Finish(ctx, inc.ID); err != nil || out.StepErr != nil {
				t.Error(out.StepErr, err)
			}
		})
	}
	wg.Wait()
	if posts := e.slack.Calls("post"); len(posts) != 1 {
		t.Errorf("%d announcements posted, want 1", len(posts))
	}
	if replies := e.slack.Calls("reply"); len(replies) != 4 {
		t.Errorf("%d updates posted, want 4", len(replies))
	}
}
