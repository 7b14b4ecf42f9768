package triage_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/triage"
)

// fakeSilencer is triage.Silencer in memory, one silence per key as the
// real adapter (silence/) makes; its silences are expired and extended in
// place, as Alertmanager does an active silence's.
type fakeSilencer struct {
	mu       sync.Mutex
	now      func() time.Time
	reqs     []triage.SilenceRequest
	byKey    map[string]triage.Silence
	byID     map[string]triage.Silence
	fail     error
	expired  []string
	extended int
}

func (f *fakeSilencer) Silence(_ context.Context, r triage.SilenceRequest) (triage.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, r)
	if f.fail != nil {
		return triage.Silence{}, f.fail
	}
	if s, ok := f.byKey[r.Key]; ok {
		return s, nil
	}
	if f.byKey == nil {
		f.byKey, f.byID = map[string]triage.Silence{}, map[string]triage.Silence{}
	}
	s := triage.Silence{ID: "silence-" + r.Key, Matchers: r.Matchers, StartsAt: f.now(), EndsAt: r.EndsAt, CreatedBy: r.CreatedBy,
		Comment: r.Comment, State: triage.SilenceActive}
	f.byKey[r.Key], f.byID[s.ID] = s, s
	return s, nil
}

func (f *fakeSilencer) Get(_ context.Context, id string) (triage.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.byID[id]
	if !ok {
		return triage.Silence{}, opsbot.ErrNotFound
	}
	if !s.EndsAt.After(f.now()) {
		s.State = triage.SilenceExpired
	}
	return s, nil
}

func (f *fakeSilencer) Expire(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expired = append(f.expired, id)
	s := f.byID[id]
	s.State, s.EndsAt = triage.SilenceExpired, f.now()
	f.byID[id] = s
	return nil
}

func (f *fakeSilencer) Extend(_ context.Context, id string, endsAt time.Time) (triage.Silence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return triage.Silence{}, f.fail
	}
	s := f.byID[id]
	s.EndsAt = endsAt
	f.byID[id] = s
	f.extended++
	return s, nil
}

func (f *fakeSilencer) requests() []triage.SilenceRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]triage.SilenceRequest(nil), f.reqs...)
}

// silenceRig is a rig whose Service silences prod's alerts with a fake.
func silenceRig(t *testing.T) (*rig, *fakeSilencer) {
	t.Helper()
	r := newRig(t)
	f := &fakeSilencer{now: r.clock.Now}
	svc, err := triage.NewService(triage.ServiceOptions{Store: r.store, Threads: r.threads, Now: r.clock.Now,
		Silencers: map[string]triage.Silencer{"prod": f}})
	if err != nil {
		t.Fatal(err)
	}
	r.svc = svc
	return r, f
}

// openAlert opens the anomaly of an alerts finding with labels.
func openAlert(t *testing.T, r *rig, labels map[string]string) triage.Anomaly {
	t.Helper()
	f := checks.Finding{Fingerprint: "alerts/" + labels["alertname"], Title: labels["alertname"], Severity: checks.Warn, Labels: labels}
	o, err := r.svc.Open(r.ctx, triage.FindingAnomaly("prod", f, "U0ALICE", r.clock.Now()), "open-"+labels["alertname"], nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.Anomaly
}

func order(r *rig) triage.SilenceOrder {
	return triage.SilenceOrder{EndsAt: r.clock.Now().Add(24 * time.Hour), By: "U0BOB", ByName: "Bob Example",
		ThreadLink: "https://example.slack.com/archives/C1/p1700000000000001"}
}

func TestSilenceANoiseDecision(t *testing.T) {
	r, f := silenceRig(t)
	labels := map[string]string{"alertname": "CanaryFlaps", "namespace": "shop", "service": "canary"}
	a := openAlert(t, r, labels)
	if !maps.Equal(a.Labels, labels) {
		t.Fatalf("anomaly labels %v, want the finding's %v", a.Labels, labels)
	}
	r.decide(t, a.ID, triage.Noise, "d1")

	got, sil, err := r.svc.Silence(r.ctx, a.ID, order(r), "v1")
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d silence requests, want 1", len(reqs))
	}
	req := reqs[0]
	var ms []string
	for _, m := range req.Matchers {
		ms = append(ms, m.String())
	}
	if want := `alertname="CanaryFlaps" namespace="shop" service="canary"`; strings.Join(ms, " ") != want {
		t.Errorf("matchers %s, want %s", strings.Join(ms, " "), want)
	}
	if req.CreatedBy != "Bob Example" || req.Comment != "a load test\nhttps://example.slack.com/archives/C1/p1700000000000001" ||
		req.Key != triage.SilenceKey(got) || !req.EndsAt.Equal(r.clock.Now().Add(24*time.Hour)) {
		t.Errorf("request %+v", req)
	}
	if got.Decision.Decision != triage.Noise || got.Decision.Silence == nil || got.Decision.Silence.ID != sil.ID {
		t.Errorf("decision %+v, want Noise with silence %s", got.Decision, sil.ID)
	}
	stored, err := r.svc.Get(r.ctx, a.ID)
	if err != nil || stored.Decision.Silence == nil || stored.Decision.Silence.ID != sil.ID {
		t.Errorf("stored decision %+v, %v", stored.Decision, err)
	}

	// Clicked again: the same silence, recorded once.
	again, sil2, err := r.svc.Silence(r.ctx, a.ID, order(r), "v2")
	if err != nil || sil2.ID != sil.ID || again.Version != got.Version {
		t.Errorf("second click: silence %s (want %s), version %d (want %d), %v", sil2.ID, sil.ID, again.Version, got.Version, err)
	}
	tl, err := r.store.Timeline(r.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range tl {
		if e.Kind == triage.KindSilenced {
			n++
			if e.Actor != "U0BOB" || e.Data.Silence == nil || e.Data.Silence.ID != sil.ID {
				t.Errorf("silenced entry %+v", e)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d silenced entries, want 1", n)
	}
}

// A silence that cannot be made is an error; the decision stands, and
// the same call later makes it.
func TestSilenceFailureKeepsTheDecision(t *testing.T) {
	r, f := silenceRig(t)
	a := openAlert(t, r, map[string]string{"alertname": "CanaryFlaps", "namespace": "shop"})
	decided := r.decide(t, a.ID, triage.Noise, "d1")
	f.fail = errors.New("alertmanager: connection refused")
	_, _, err := r.svc.Silence(r.ctx, a.ID, order(r), "v1")
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error %v, want the silencer's", err)
	}
	after, err := r.svc.Get(r.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != decided.Version || after.Decision.Decision != triage.Noise || after.Decision.Silence != nil {
		t.Errorf("after the failure: %+v", after.Decision)
	}
	f.fail = nil
	got, sil, err := r.svc.Silence(r.ctx, a.ID, order(r), "v2")
	if err != nil || got.Decision.Silence == nil || got.Decision.Silence.ID != sil.ID {
		t.Errorf("retry: %+v, %v", got.Decision, err)
	}
}

func TestSilenceRefusals(t *testing.T) {
	r, f := silenceRig(t)
	alert := openAlert(t, r, map[string]string{"alertname": "CanaryFlaps", "namespace": "shop"})
	bare := openAlert(t, r, map[string]string{"alertname": "Everywhere"})
	manual := r.open(t, "checkout is slow", "m1").Anomaly

	_, _, err := r.svc.Silence(r.ctx, alert.ID, order(r), "k1")
	wantIs(t, "undecided", err, opsbot.ErrConflict)
	r.decide(t, alert.ID, triage.Intermittent, "d1")
	_, _, err = r.svc.Silence(r.ctx, alert.ID, order(r), "k2")
	wantIs(t, "Intermittent", err, opsbot.ErrConflict)

	r.decide(t, bare.ID, triage.Noise, "d2")
	_, _, err = r.svc.Silence(r.ctx, bare.ID, order(r), "k3")
	wantIs(t, "a bare alertname", err, opsbot.ErrInvalid)
	r.decide(t, manual.ID, triage.Noise, "d3")
	_, _, err = r.svc.Silence(r.ctx, manual.ID, order(r), "k4")
	wantIs(t, "no labels", err, opsbot.ErrInvalid)
	noBy := order(r)
	noBy.By = ""
	r.decide(t, alert.ID, triage.Noise, "d4")
	_, _, err = r.svc.Silence(r.ctx, alert.ID, noBy, "k5")
	wantIs(t, "no user", err, opsbot.ErrInvalid)
	_, _, err = r.svc.Silence(r.ctx, 9999, order(r), "k6")
	wantIs(t, "unknown anomaly", err, triage.ErrNotFound)
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests reached the silencer", n)
	}

	// Widened, the bare alert name may be silenced everywhere.
	wide := order(r)
	wide.AcrossNamespaces = true
	if _, _, err := r.svc.Silence(r.ctx, bare.ID, wide, "k7"); err != nil {
		t.Errorf("widened: %v", err)
	}

	// No Silencer for the environment.
	plain := newRig(t)
	a := openAlert(t, plain, map[string]string{"alertname": "CanaryFlaps", "namespace": "shop"})
	plain.decide(t, a.ID, triage.Noise, "d1")
	_, _, err = plain.svc.Silence(plain.ctx, a.ID, order(plain), "k1")
	wantIs(t, "no silencer", err, triage.ErrNoSilencer)
}

func wantIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: %v, want %v", what, err, target)
	}
}

// ExpireSilence ends the silence recorded on the decision and records
// who ended it; it refuses a decision without one, and records a silence
// that had run out as such.
func TestExpireSilence(t *testing.T) {
	r, f := silenceRig(t)
	a := openAlert(t, r, map[string]string{"alertname": "CanaryExpires", "namespace": "shop"})
	r.decide(t, a.ID, triage.Noise, "d1")
	if _, _, err := r.svc.ExpireSilence(r.ctx, a.ID, "U0ALICE", "e0"); !errors.Is(err, triage.ErrNoSilence) {
		t.Errorf("expire without a silence: %v, want ErrNoSilence", err)
	}
	_, sil, err := r.svc.Silence(r.ctx, a.ID, order(r), "v1")
	if err != nil {
		t.Fatal(err)
	}
	got, ended, err := r.svc.ExpireSilence(r.ctx, a.ID, "U0ALICE", "e1")
	f.mu.Lock()
	expired := append([]string(nil), f.expired...)
	f.mu.Unlock()
	if err != nil || !ended || len(expired) != 1 || expired[0] != sil.ID {
		t.Fatalf("expire: ended %v, expired %v, %v; want %s expired once", ended, expired, err, sil.ID)
	}
	if m := got.Decision.Silence; m.EndedBy != "U0ALICE" || !m.EndedAt.Equal(r.clock.Now()) || m.RanOut() {
		t.Errorf("silence recorded %+v, want expired by U0ALICE now", m)
	}
	// Again: recorded ended, nothing more is done.
	if _, ended, err := r.svc.ExpireSilence(r.ctx, a.ID, "U0BOB", "e2"); err != nil || ended || len(f.expired) != 1 {
		t.Errorf("expired again: ended %v, %v, %d expiries; want nothing done", ended, err, len(f.expired))
	}
	if _, _, err := r.svc.ExpireSilence(r.ctx, 999999, "U0ALICE", "e3"); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("expire of an unknown anomaly: %v, want ErrNotFound", err)
	}

	// A silence that ran out is recorded as such, by opsbot, and not
	// expired again.
	r.decide(t, a.ID, triage.Noise, "d2")
	if _, _, err := r.svc.Silence(r.ctx, a.ID, order(r), "v2"); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(25 * time.Hour)
	got, ended, err = r.svc.ExpireSilence(r.ctx, a.ID, "U0ALICE", "e4")
	if err != nil || !ended || !got.Decision.Silence.RanOut() || len(f.expired) != 1 {
		t.Errorf("expire of a silence run out: %+v, ended %v, %v, %d expiries; want ran out, not expired", got.Decision.Silence, ended, err, len(f.expired))
	}
	tl, err := r.store.Timeline(r.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []triage.Kind
	for _, e := range tl {
		if e.Kind == triage.KindSilenceExpired || e.Kind == triage.KindSilenceRanOut {
			kinds = append(kinds, e.Kind)
			if e.Kind == triage.KindSilenceRanOut && e.Actor != opsbot.ActorBot {
				t.Errorf("ran out by %q, want %q", e.Actor, opsbot.ActorBot)
			}
		}
	}
	if len(kinds) != 2 || kinds[0] != triage.KindSilenceExpired || kinds[1] != triage.KindSilenceRanOut {
		t.Errorf("timeline silence endings %v, want expired then ran out", kinds)
	}
}

// ExtendSilence extends the silence by the length it was made for, from
// its recorded end, counts it, and does it once per key; past the latest
// end allowed it changes nothing; a silence run out is recorded and not
// extended.
func TestExtendSilence(t *testing.T) {
	r, f := silenceRig(t)
	a := openAlert(t, r, map[string]string{"alertname": "CanaryExtends", "namespace": "shop"})
	r.decide(t, a.ID, triage.Noise, "d1")
	if _, _, err := r.svc.ExtendSilence(r.ctx, a.ID, "U0ALICE", time.Time{}, "x0"); !errors.Is(err, triage.ErrNoSilence) {
		t.Errorf("extend without a silence: %v, want ErrNoSilence", err)
	}
	_, sil, err := r.svc.Silence(r.ctx, a.ID, order(r), "v1")
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Hour)
	got, ext, err := r.svc.ExtendSilence(r.ctx, a.ID, "U0ALICE", time.Time{}, "x1")
	if err != nil {
		t.Fatal(err)
	}
	want := sil.EndsAt.Add(24 * time.Hour)
	if m := got.Decision.Silence; !ext.EndsAt.Equal(want) || !m.EndsAt.Equal(want) || m.Extensions != 1 || m.Length != 24*time.Hour {
		t.Errorf("extended: silence %+v, recorded %+v; want it to end %s, extended once", ext, m, want)
	}
	// The same click delivered again: no second extension.
	if again, _, err := r.svc.ExtendSilence(r.ctx, a.ID, "U0ALICE", time.Time{}, "x1"); err != nil || again.Decision.Silence.Extensions != 1 || f.extended != 1 {
		t.Errorf("the same key again: %+v, %v, %d extensions in Alertmanager; want 1", again.Decision.Silence, err, f.extended)
	}
	// Beyond the latest end allowed: refused, nothing changes.
	before, err := r.store.Get(r.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.svc.ExtendSilence(r.ctx, a.ID, "U0ALICE", r.clock.Now().Add(48*time.Hour), "x2")
	var ve *opsbot.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "later than the longest silence allowed") {
		t.Errorf("extend past the latest end: %v, want a validation error", err)
	}
	if after, _ := r.store.Get(r.ctx, a.ID); after.Version != before.Version || f.extended != 1 {
		t.Errorf("a refused extension changed the anomaly (version %d → %d) or Alertmanager (%d)", before.Version, after.Version, f.extended)
	}
	if got, _, err = r.svc.ExtendSilence(r.ctx, a.ID, "U0BOB", time.Time{}, "x3"); err != nil || got.Decision.Silence.Extensions != 2 {
		t.Errorf("extended again: %+v, %v; want 2 extensions", got.Decision.Silence, err)
	}

	// Run out: recorded, not extended.
	r.clock.Advance(100 * time.Hour)
	got, _, err = r.svc.ExtendSilence(r.ctx, a.ID, "U0ALICE", time.Time{}, "x4")
	if !errors.Is(err, triage.ErrSilenceEnded) || !got.Decision.Silence.RanOut() || f.extended != 2 {
		t.Errorf("extend a silence run out: %+v, %v; want ErrSilenceEnded, recorded ran out", got.Decision.Silence, err)
	}
	if _, _, err = r.svc.ExtendSilence(r.ctx, a.ID, "U0ALICE", time.Time{}, "x5"); !errors.Is(err, triage.ErrSilenceEnded) {
		t.Errorf("extend an ended silence: %v, want ErrSilenceEnded", err)
	}
}

// A replica whose silence could not be made lets go of it at once: another
// replica's Retry makes it without waiting for the hold to run out.
func TestSilenceFailureReleasesTheClaim(t *testing.T) {
	r := newRig(t)
	claims := schedule.NewMemoryClaimer()
	failing := &fakeSilencer{now: r.clock.Now, fail: errors.New("alertmanager: connection refused")}
	working := &fakeSilencer{now: r.clock.Now}
	replica := func(f *fakeSilencer) *triage.Service {
		svc, err := triage.NewService(triage.ServiceOptions{Store: r.store, Threads: r.threads, Now: r.clock.Now,
			Silencers: map[string]triage.Silencer{"prod": f}, SilenceClaims: claims})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	r.svc = replica(failing)
	a := openAlert(t, r, map[string]string{"alertname": "CanaryFlaps", "namespace": "shop"})
	decided := r.decide(t, a.ID, triage.Noise, "d1")
	if _, _, err := r.svc.Silence(r.ctx, a.ID, order(r), "v1"); err == nil {
		t.Fatal("the failing replica made a silence")
	}
	// The clock does not move: a hold not let go would never run out.
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	got, sil, err := replica(working).Silence(ctx, a.ID, order(r), "v2")
	if err != nil || got.Decision.Silence == nil || got.Decision.Silence.ID != sil.ID {
		t.Fatalf("Retry on another replica: %+v, %v", got.Decision, err)
	}
	if !claims.Finished("silence/" + triage.SilenceKey(decided)) {
		t.Error("the silence's claim is not done after it was made")
	}
	// Made: a third replica's call returns it without asking again.
	third := &fakeSilencer{now: r.clock.Now, byKey: working.byKey, byID: working.byID}
	if _, again, err := replica(third).Silence(r.ctx, a.ID, order(r), "v3"); err != nil || again.ID != sil.ID || len(third.requests()) != 0 {
		t.Errorf("after it was made: silence %s, %v, %d requests; want %s, none", again.ID, err, len(third.requests()), sil.ID)
	}
}
