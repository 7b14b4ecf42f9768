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
	// Escalated: this call escalated the anomaly (so the bot should say so
	// in its thread).
	Escalated bool
}

// Observe records that the checklist saw (env, fingerprint) at time at, then
// escalates the anomaly if policy says it came back too often after an
// Intermittent decision. key identifies the sighting (e.g. the checklist
// run id and the fingerprint); Observe is idempotent on it: a repeated call
// records nothing more, and finishes an escalation a failed earlier call
// did not make.
func Observe(ctx context.Context, s Store, policy RecurrencePolicy, env, fingerprint string, at time.Time, key string) (Observation, error) {
	a, found, err := s.RecordSighting(ctx, env, fingerprint, at, key)
	if err != nil || !found {
		return Observation{}, err
	}
	tl, err := s.Timeline(ctx, a.ID)
	if err != nil {
		return Observation{}, fmt.Errorf("timeline of anomaly %d: %w", a.ID, err)
	}
	obs := Observation{Found: true, Anomaly: a, Recurrence: policy.Evaluate(a, tl, at)}
	if !obs.Recurrence.Escalate {
		return obs, nil
	}
	escKey := ""
	if key != "" {
		escKey = key + "/escalate"
	}
	a, err = s.Escalate(ctx, a.ID, Escalation{At: at, Actor: opsbot.ActorBot, Reason: obs.Recurrence.String()}, escKey)
	if err != nil {
		return obs, fmt.Errorf("escalate anomaly %d: %w", obs.Anomaly.ID, err)
	}
	obs.Anomaly, obs.Escalated = a, true
	return obs, nil
}

// ObserveFindings records the sightings of a checklist run's findings in
// env (Observe), one per fingerprint (redacted, as Open's): findings
// without one are skipped,
// and each sighting is idempotent on the run's key (runKey, one per run)
// and its fingerprint. An anomaly decided Intermittent that came back past
// the policy's threshold is escalated, before anything is posted.
//
// It returns the observations to announce in their threads (Announce):
// the anomalies decided Intermittent and the escalated ones, when they
// have a thread. A fingerprint whose sighting fails does not stop the
// others; the errors are joined.
func (s *Service) ObserveFindings(ctx context.Context, env, runKey string, findings []checks.Finding) ([]Observation, error) {
	var out []Observation
	seen := map[string]bool{}
	now := s.now()
	var errs []error
	for _, f := range findings {
		// Redacted as Open redacts the anomalies' (a no-op on findings
		// that came through checks.Runner).
		fp := s.redact.Text(f.Fingerprint)
		if fp == "" || seen[fp] {
			continue
		}
		seen[fp] = true
		obs, err := Observe(ctx, s.store, s.policy, env, fp, now, sightingKey(runKey, fp))
		if err != nil {
			errs = append(errs, fmt.Errorf("recurrence of %q: %w", fp, err))
			continue
		}
		if !obs.Found || !obs.Anomaly.HasThread() {
			continue
		}
		if obs.Recurrence.Decision != Intermittent && !obs.Escalated {
			continue
		}
		out = append(out, obs)
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
// when it escalated the anomaly, the escalation (the ops rotation is told)
// and the root message showing the anomaly reopened.
func (s *Service) Announce(ctx context.Context, obs Observation) error {
	a := obs.Anomaly
	if err := s.threads.ReplySeenAgain(ctx, a, obs.Recurrence); err != nil {
		return fmt.Errorf("posting a recurrence in anomaly %d's thread: %w", a.ID, err)
	}
	if !obs.Escalated {
		return nil
	}
	if err := s.threads.ReplyEscalated(ctx, a, obs.Recurrence); err != nil {
		return fmt.Errorf("posting anomaly %d's escalation: %w", a.ID, err)
	}
	return s.updateRoot(ctx, a)
}
