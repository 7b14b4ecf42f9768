// Package history is the search of past investigations behind
// `/ops history` and `opsbot history`: which anomalies' titles,
// conclusions, five whys, tickets and incident texts hold the words asked
// for, best match first and the newest first among equals, with the filters
// fingerprint:<prefix>, decision:<name> and since:<N>d. It parses the
// query (Parse) and reads the store's full-text index through Store, a
// port it owns; both commands render the same Result.
package history

import (
	"context"
	"fmt"
	"time"

	"github.com/opsbot/opsbot/triage"
)

// MaxHits is how many anomalies a search returns.
const MaxHits = 10

// MaxRanked is how many matches a search with words ranks: when more
// anomalies match, the MaxRanked newest of them (opened last: highest
// id) are ranked and the rest are counted in the total but never returned.
// Ranking every match of a word found in a quarter of 100,000 decisions
// would take longer than issue 12's answer in under 100 ms allows, and a
// reader looks for the recent ones among so many.
const MaxRanked = 2000

// Search is a query as the store runs it.
type Search struct {
	Query
	// After, when not zero, is the earliest time an anomaly may have been
	// decided at (opened at, when undecided): now minus Query.Since.
	After time.Time
	// Limit is how many anomalies to return.
	Limit int
}

// Store is what a search reads.
type Store interface {
	// SearchHistory returns the anomalies matching s, at most s.Limit of
	// them, and total, how many match in all. With words or phrases, they
	// come by relevance, equals newest first: the anomaly opened last
	// (highest id) first; when more than MaxRanked match, only the
	// MaxRanked newest are ranked (and so returned), total counting all.
	// With filters only, newest first: decided last (opened, when
	// undecided), then highest id.
	SearchHistory(ctx context.Context, s Search) (hits []triage.Anomaly, total int, err error)
}

// Hit is an anomaly found, with what a reader needs to tell it apart and
// find its thread.
type Hit struct {
	AnomalyID   int64  `json:"anomalyId"`
	Environment string `json:"environment"`
	Fingerprint string `json:"fingerprint"`
	Title       string `json:"title"`
	// Decision is the current decision's key ("noise"); "" when undecided.
	Decision   string `json:"decision"`
	DecidedBy  string `json:"decidedBy,omitempty"`
	Conclusion string `json:"conclusion,omitempty"`
	FiveWhys   string `json:"fiveWhys,omitempty"`
	Ticket     string `json:"ticket,omitempty"`
	// At is when it was decided, or opened when undecided.
	At time.Time `json:"at"`
	// Channel and ThreadTS locate its Slack thread ("" when it has none).
	Channel  string `json:"channel,omitempty"`
	ThreadTS string `json:"threadTs,omitempty"`
}

// HitOf is anomaly a as a hit.
func HitOf(a triage.Anomaly) Hit {
	h := Hit{AnomalyID: a.ID, Environment: a.Environment, Fingerprint: a.Fingerprint, Title: a.Title,
		At: a.OpenedAt, Channel: a.Channel, ThreadTS: a.ThreadTS}
	if d := a.Decision; d != nil {
		h.Decision, h.DecidedBy, h.Conclusion, h.FiveWhys, h.Ticket = d.Decision.String(), d.DecidedBy, d.Conclusion, d.FiveWhys, d.Ticket
		h.At = d.DecidedAt
	}
	return h
}

// Result is the answer to a query.
type Result struct {
	Query Query `json:"query"`
	// Total is how many anomalies match; Hits are the first MaxHits.
	Total int   `json:"total"`
	Hits  []Hit `json:"hits"`
}

// Find parses text (see Parse) and searches s for it, the since: filter
// counting back from now. A query that cannot be run is a *QueryError.
func Find(ctx context.Context, s Store, text string, now time.Time) (Result, error) {
	q, err := Parse(text)
	if err != nil {
		return Result{}, err
	}
	search := Search{Query: q, Limit: MaxHits}
	if q.Since > 0 {
		search.After = now.Add(-q.Since).UTC()
	}
	found, total, err := s.SearchHistory(ctx, search)
	if err != nil {
		return Result{}, fmt.Errorf("history: %w", err)
	}
	r := Result{Query: q, Total: total, Hits: make([]Hit, len(found))}
	for i, a := range found {
		r.Hits[i] = HitOf(a)
	}
	return r, nil
}
