package triage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
)

// Observation is the outcome of Observe.
type Observation struct {
	// Found is false when no anomaly has the fingerprint; nothing else is set.
	Found bool
	// Anomaly as it is after the sighting (and the escalation, if any).
	Anomaly Anomaly
	// Recurrence describes the sighting.
	Recurrence Recurrence
	// Escalated: the anomaly's escalation is to be posted in its thread:
	// this call escalated it, or (EscalationOnly) an earlier run did and
	// its mention is still pending.
	Escalated bool
	// EscalationOnly: the sighting was announced by an earlier run; only
	// the pending escalation is left to post.
	EscalationOnly bool
	// Reason is the escalation's reason, as recorded (when Escalated).
	Reason string
	// Magnitude is the finding's, as seen (the anomaly's DecisionRecord
	// has the one it had when decided).
	Magnitude float64
	// Cover says whether the anomaly's decision, after the escalation if
	// any, covers the finding (RecurrencePolicy.Covers): suppressed as known
	// noise, or grown past it.
	Cover Cover
}

// Observe records that the checklist saw (env, fingerprint), magnitude big
// (Magnitude), at time at, then escalates the anomaly if policy says it
// came back too often after an Intermittent decision, and says whether its
// decision covers the finding (Observation.Cover). key identifies the
// sighting (e.g. the checklist run id and the fingerprint); Observe is
// idempotent on it: a repeated call records nothing more, and finishes an
// escalation a failed earlier call did not make.
func Observe(ctx context.Context, s Store, policy RecurrencePolicy, env, fingerprint string, magnitude float64, at time.Time, key string) (Observation, error) {
	a, found, err := s.RecordSighting(ctx, env, fingerprint, magnitude, at, key)
	if err != nil || !found {
		return Observation{}, err
	}
	tl, err := s.Timeline(ctx, a.ID)
	if err != nil {
		return Observation{}, fmt.Errorf("timeline of anomaly %d: %w", a.ID, err)
	}
	obs := Observation{Found: true, Anomaly: a, Recurrence: policy.Evaluate(a, tl, at), Magnitude: magnitude}
	if obs.Recurrence.Escalate {
		escKey := ""
		if key != "" {
			escKey = key + "/escalate"
		}
		a, err = s.Escalate(ctx, a.ID, Escalation{At: at, Actor: opsbot.ActorBot, Reason: obs.Recurrence.String()}, escKey)
		if err != nil {
			return obs, fmt.Errorf("escalate anomaly %d: %w", obs.Anomaly.ID, err)
		}
		obs.Anomaly, obs.Escalated, obs.Reason = a, true, obs.Recurrence.String()
	}
	obs.Cover = policy.Covers(obs.Anomaly, magnitude, at)
	return obs, nil
}

// Sightings is what ObserveFindings made of a run's findings.
type Sightings struct {
	// Announce are the observations to tell in their anomalies' threads
	// (Announce).
	Announce []Observation
	// Known are the observations, by the findings' fingerprints, whose
	// anomaly's decision covers the finding (Cover.Suppressed: leave it
	// out of the report as known noise) or did until it grew (Cover.Grew:
	// report it as new, saying so). Findings of no such anomaly are not
	// in it.
	Known map[string]Observation
}

// ObserveFindings records the sightings of a checklist run's findings in
// env (Observe), one per fingerprint (redacted, as Open's), with the
// largest Magnitude of the findings that have it: findings without one are
// skipped, and each sighting is idempotent on the run's key (runKey, one
// per run) and its fingerprint. An anomaly decided Intermittent that came
// back past the policy's threshold is escalated, before anything is
// posted. Sightings of findings a decision covers are recorded like any
// other: they keep counting towards recurrence.
//
// It returns the observations to announce in their threads (Announce):
// the anomalies decided Intermittent and the escalated ones, when they
// have a thread, then the escalations of env that earlier runs recorded
// but could not post (still pending); and the findings a standing
// decision covers or did until they grew (Sightings.Known). A fingerprint
// whose sighting fails does not stop the others (its finding is reported
// as new); the errors are joined.
func (s *Service) ObserveFindings(ctx context.Context, env, runKey string, findings []checks.Finding) (Sightings, error) {
	type seen struct {
		fingerprint string // as the finding has it
		magnitude   float64
	}
	var order []string
	byFP := map[string]*seen{}
	for _, f := range findings {
		// Redacted as Open redacts the anomalies' (a no-op on findings
		// that came through checks.Runner).
		fp := s.redact.Text(f.Fingerprint)
		if fp == "" {
			continue
		}
		if x := byFP[fp]; x != nil {
			x.magnitude = max(x.magnitude, Magnitude(f))
			continue
		}
		byFP[fp] = &seen{fingerprint: f.Fingerprint, magnitude: Magnitude(f)}
		order = append(order, fp)
	}
	out := Sightings{Known: map[string]Observation{}}
	now := s.now()
	var errs []error
	for _, fp := range order {
		x := byFP[fp]
		obs, err := Observe(ctx, s.store, s.policy, env, fp, x.magnitude, now, sightingKey(runKey, fp))
		if err != nil {
			errs = append(errs, fmt.Errorf("recurrence of %q: %w", fp, err))
			continue
		}
		if !obs.Found {
			continue
		}
		if obs.Cover.Suppressed || obs.Cover.Grew {
			out.Known[x.fingerprint] = obs
		}
		if !obs.Anomaly.HasThread() {
			continue
		}
		if obs.Recurrence.Decision != Intermittent && !obs.Escalated {
			continue
		}
		out.Announce = append(out.Announce, obs)
	}
	pending, err := s.pendingEscalations(ctx, env, out.Announce)
	if err != nil {
		errs = append(errs, err)
	}
	out.Announce = append(out.Announce, pending...)
	return out, errors.Join(errs...)
}

// pendingEscalations are the observations of env's escalations still to
// be posted, other than those in announced.
func (s *Service) pendingEscalations(ctx context.Context, env string, announced []Observation) ([]Observation, error) {
	list, err := s.store.PendingEscalations(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("pending escalations: %w", err)
	}
	done := map[int64]bool{}
	for _, o := range announced {
		if o.Escalated {
			done[o.Anomaly.ID] = true
		}
	}
	var out []Observation
	var errs []error
	for _, a := range list {
		if done[a.ID] || !a.HasThread() {
			continue
		}
		tl, err := s.store.Timeline(ctx, a.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("timeline of anomaly %d: %w", a.ID, err))
			continue
		}
		reason := ""
		for _, e := range tl {
			if e.Kind == KindEscalated {
				reason = e.Data.Reason
			}
		}
		out = append(out, Observation{Found: true, Anomaly: a, Escalated: true, EscalationOnly: true, Reason: reason})
	}
	return out, errors.Join(errs...)
}

// sightingKey is the idempotency key of the sighting of fingerprint by
// run runKey: "seen:<run key>:<24 hex digits of the fingerprint's hash>".
func sightingKey(runKey, fingerprint string) string {
	sum := sha256.Sum256([]byte(fingerprint))
	return "seen:" + runKey + ":" + hex.EncodeToString(sum[:12])
}

// Announce tells obs's thread what ObserveFindings saw: the sighting, and
// when the anomaly is escalated, the escalation (the ops rotation is told)
// and the root message showing the anomaly reopened.
//
// The escalation is posted once: this Service takes its posting in the
// store (another replica posting it, or a mention already posted, and
// nothing is posted), posts it, then records it posted. When the post
// fails, the escalation stays pending and the next run's ObserveFindings
// returns it to be posted again.
func (s *Service) Announce(ctx context.Context, obs Observation) error {
	a := obs.Anomaly
	var errs []error
	if !obs.EscalationOnly {
		if err := s.threads.ReplySeenAgain(ctx, a, obs.Recurrence); err != nil {
			errs = append(errs, fmt.Errorf("posting a recurrence in anomaly %d's thread: %w", a.ID, err))
		}
	}
	if obs.Escalated {
		errs = append(errs, s.postEscalation(ctx, a, obs.Reason))
	}
	return errors.Join(errs...)
}

// escalationLease is how long a Service may take to post an escalation
// before another replica may post it.
const escalationLease = 5 * time.Minute

// postEscalation posts a's pending escalation, once (see Announce).
func (s *Service) postEscalation(ctx context.Context, a Anomaly, reason string) error {
	now := s.now()
	took, err := s.store.TakeEscalation(ctx, a.ID, s.holder, now, now.Add(escalationLease))
	if err != nil {
		return fmt.Errorf("taking anomaly %d's escalation to post it: %w", a.ID, err)
	}
	if !took {
		return nil
	}
	if err := s.threads.ReplyEscalated(ctx, a, reason); err != nil {
		err = fmt.Errorf("posting anomaly %d's escalation (it stays pending: the next run posts it): %w", a.ID, err)
		if rerr := s.store.EndEscalationPost(context.WithoutCancel(ctx), a.ID, s.holder, false); rerr != nil {
			err = errors.Join(err, fmt.Errorf("releasing anomaly %d's escalation: %w", a.ID, rerr))
		}
		return err
	}
	if err := s.store.EndEscalationPost(context.WithoutCancel(ctx), a.ID, s.holder, true); err != nil {
		return fmt.Errorf("recording anomaly %d's escalation as posted: %w", a.ID, err)
	}
	return s.updateRoot(ctx, a)
}
