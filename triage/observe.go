package triage

import (
	"context"
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
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
