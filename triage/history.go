package triage

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// HistoryWindow is how far back History counts a fingerprint's sightings
// ("seen 4 times in the last 30 days").
const HistoryWindow = 30 * 24 * time.Hour

// History is what the rotation decided the last time a fingerprint was
// investigated: the latest decision of the anomalies with that environment
// and fingerprint, where it was discussed, and how often the fingerprint
// was seen lately. It is shown wherever the finding is shown again
// ("Last time, 12 Nov, @bob: Noise: retry storm…"), and prefills the
// decision form of a new thread.
type History struct {
	Environment string
	Fingerprint string
	// AnomalyID is the anomaly whose decision it is; Channel and ThreadTS
	// its Slack thread (empty when it has none).
	AnomalyID int64
	Channel   string
	ThreadTS  string
	// Decision is that anomaly's current decision, as recorded (texts
	// redacted when they were recorded).
	Decision DecisionRecord
	// Seen is how many times the fingerprint was seen (opened or seen
	// again, on any of its anomalies) since the query's SeenSince.
	Seen int64
}

// HistoryQuery asks a Store for the History of some fingerprints of one
// environment, in one query.
type HistoryQuery struct {
	Environment  string
	Fingerprints []string
	// BeforeID, when more than 0, considers only the anomalies opened
	// before anomaly BeforeID (ids are increasing): what an anomaly's own
	// root message calls "last time" is an earlier anomaly's decision.
	BeforeID int64
	// SeenSince is where History.Seen starts counting.
	SeenSince time.Time
}

// MaxHistoryFingerprints bounds a HistoryQuery: a report's findings are
// far fewer (Slack shows at most 50 blocks).
const MaxHistoryFingerprints = 500

// Validate checks a query before it reaches a store.
func (q HistoryQuery) Validate() error {
	if q.Environment == "" {
		return fmt.Errorf("history: environment is required")
	}
	if len(q.Fingerprints) > MaxHistoryFingerprints {
		return fmt.Errorf("history: at most %d fingerprints, got %d", MaxHistoryFingerprints, len(q.Fingerprints))
	}
	if q.BeforeID < 0 {
		return fmt.Errorf("history: beforeId must not be negative, got %d", q.BeforeID)
	}
	return nil
}

// HistoryStore reads the History of fingerprints. store.DB implements it
// (with triage.Store), on SQLite and PostgreSQL alike.
type HistoryStore interface {
	// History returns, by fingerprint, the History of those of
	// q.Fingerprints whose anomalies in q.Environment have a decision;
	// the others are not in the map. It is one query, however many
	// fingerprints are asked for. When two anomalies' decisions were made
	// at the same time, the later anomaly's is the last.
	History(ctx context.Context, q HistoryQuery) (map[string]History, error)
}

// History returns the History of fingerprints in env (see
// HistoryStore.History), their sightings counted over the last
// HistoryWindow. With beforeID > 0, only anomalies opened before that one
// count: the "last time" of an anomaly's own thread. Fingerprints are
// redacted as Open and ObserveFindings redact them, so that a finding
// finds the anomaly it was opened as; the map is keyed by the
// fingerprints as given.
func (s *Service) History(ctx context.Context, env string, fingerprints []string, beforeID int64) (map[string]History, error) {
	if len(fingerprints) == 0 {
		return map[string]History{}, nil
	}
	asked := map[string][]string{} // redacted → as given
	var list []string
	for _, fp := range fingerprints {
		r := s.redact.Text(fp)
		if _, ok := asked[r]; !ok {
			list = append(list, r)
		}
		asked[r] = append(asked[r], fp)
	}
	got, err := s.store.History(ctx, HistoryQuery{Environment: env, Fingerprints: list, BeforeID: beforeID,
		SeenSince: s.now().Add(-HistoryWindow)})
	if err != nil {
		return nil, fmt.Errorf("reading the history of %d fingerprints: %w", len(list), err)
	}
	out := make(map[string]History, len(got))
	for r, h := range got {
		for _, fp := range asked[r] {
			out[fp] = h
		}
	}
	return out, nil
}

// lastTime is the History of anomaly a's fingerprint before a, or nil
// when there is none or it cannot be read: it is a courtesy on the root
// message, never a reason not to post it (the failure is logged).
func (s *Service) lastTime(ctx context.Context, a Anomaly) *History {
	hs, err := s.History(ctx, a.Environment, []string{a.Fingerprint}, a.ID)
	if err != nil {
		s.log.Warn("could not read what was decided last time; the root message goes without it",
			zap.Int64("anomaly", a.ID), zap.Error(err))
		return nil
	}
	h, ok := hs[a.Fingerprint]
	if !ok {
		return nil
	}
	return &h
}
