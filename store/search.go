package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/opsbot/opsbot/history"
	"github.com/opsbot/opsbot/triage"
)

// The store is the history search's history.Store.
var _ history.Store = (*DB)(nil)

// decidedOrOpened is when an anomaly was decided, or opened when
// undecided: what since: goes by, and the order of a search by filters
// only (the index keeps a copy, at).
const decidedOrOpened = `COALESCE(decided_at, opened_at)`

// SearchHistory implements history.Store. A search with words reads the
// full-text index alone (which keeps a copy of the filtered columns), then
// the anomalies it returns; one with filters only reads the anomalies.
// Equal ranks are ordered by anomaly id, highest (opened last) first: the
// index orders by it without reading the rows. The words of the query
// reach the database as parameters only, inside a full-text expression
// built here (FTS5Match, TSQuery), never as SQL.
//
// In SQLite, words without filters are counted by a query of their own
// (counting FTS5's matches is cheap; counting them while ranking is not),
// so a write between the two may make total differ by one from what the
// hits show.
func (s *DB) SearchHistory(ctx context.Context, q history.Search) ([]triage.Anomaly, int, error) {
	if q.Limit < 1 {
		return nil, 0, fmt.Errorf("search: limit %d: want at least 1", q.Limit)
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// filters are the conditions of q's filters on the columns
	// fingerprint and decision, and the time at.
	filters := func(at string) string {
		var conds []string
		if q.Fingerprint != "" {
			n := arg(utf8.RuneCountInString(q.Fingerprint))
			conds = append(conds, ` AND substr(fingerprint, 1, `+n+`) = `+arg(q.Fingerprint))
		}
		if q.Decision != 0 {
			conds = append(conds, ` AND decision = `+arg(q.Decision.String()))
		}
		if !q.After.IsZero() {
			conds = append(conds, ` AND `+at+` >= `+arg(nanos(q.After)))
		}
		return strings.Join(conds, "")
	}
	total := 0
	scan := func(sc scanner) (triage.Anomaly, error) { return scanAnomaly(withTotal{sc, &total}) }
	switch {
	case !q.HasText():
		query := `SELECT ` + anomalyColumns + `, COUNT(*) OVER () FROM anomalies WHERE TRUE` + filters(decidedOrOpened) +
			` ORDER BY ` + decidedOrOpened + ` DESC, id DESC LIMIT ` + arg(q.Limit)
		hits, err := queryAll(ctx, s.read, "search", scan, query, args...)
		return hits, total, err
	case s.d.FullText == FTS5:
		matches := `history_fts WHERE history_fts MATCH ` + arg(FTS5Match(q.Query)) + filters("at")
		ranked := `SELECT rowid AS id, bm25(history_fts, 4.0, 2.0, 2.0, 1.0, 1.0) AS score FROM ` + matches
		if q.Fingerprint != "" || q.Decision != 0 || !q.After.IsZero() {
			// Filters read each match's row: once, counting while ranking.
			// (bm25 in a subquery of its own: SQLite runs a window
			// function's query as a subquery, where FTS5's functions
			// cannot be used.)
			query := `SELECT ` + anomalyColumns + `, m.total FROM anomalies JOIN (
				SELECT id, score, COUNT(*) OVER () AS total FROM (` + ranked + `)
				ORDER BY score, id DESC LIMIT ` + arg(q.Limit) + `) m USING (id)
				ORDER BY m.score, id DESC`
			hits, err := queryAll(ctx, s.read, "search", scan, query, args...)
			return hits, total, err
		}
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+matches, args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("search: %w", err)
		}
		if total == 0 {
			return nil, 0, nil
		}
		query := `SELECT ` + anomalyColumns + `, 0 FROM anomalies JOIN (` + ranked + `
			ORDER BY score, rowid DESC LIMIT ` + arg(q.Limit) + `) m USING (id)
			ORDER BY m.score, id DESC`
		hits, err := queryAll(ctx, s.read, "search", func(sc scanner) (triage.Anomaly, error) {
			var ignored int
			return scanAnomaly(withTotal{sc, &ignored})
		}, query, args...)
		return hits, total, err
	case s.d.FullText == TSVector:
		query := `SELECT ` + anomalyColumns + `, m.total FROM anomalies JOIN (
			SELECT anomaly_id AS id, ts_rank(document, q) AS score, COUNT(*) OVER () AS total
			FROM history_search, to_tsquery('simple', ` + arg(TSQuery(q.Query)) + `) q WHERE document @@ q` + filters("at") + `
			ORDER BY score DESC, anomaly_id DESC LIMIT ` + arg(q.Limit) + `) m USING (id)
			ORDER BY m.score DESC, id DESC`
		hits, err := queryAll(ctx, s.read, "search", scan, query, args...)
		return hits, total, err
	}
	return nil, 0, fmt.Errorf("search: %s has no full-text index", s.d.Name)
}

// withTotal scans a row's last column, COUNT(*) OVER (), into total.
type withTotal struct {
	sc    scanner
	total *int
}

func (w withTotal) Scan(dest ...any) error { return w.sc.Scan(append(dest, w.total)...) }

// FTS5Match is q's words and phrases as an FTS5 MATCH expression: each a
// string in double quotes (so that no word is read as an operator, a
// column filter or a prefix query), all required. Parse's words are
// letters and digits only; the quoting holds for any text nonetheless
// (NUL, which would end the expression, becomes a space).
func FTS5Match(q history.Query) string {
	quote := func(words []string) string {
		return `"` + strings.NewReplacer(`"`, `""`, "\x00", " ").Replace(strings.Join(words, " ")) + `"`
	}
	var parts []string
	for _, w := range q.Words {
		parts = append(parts, quote([]string{w}))
	}
	for _, p := range q.Phrases {
		parts = append(parts, quote(p))
	}
	return strings.Join(parts, " AND ")
}

// TSQuery is q's words and phrases as a to_tsquery expression: each word
// a quoted lexeme (so that no word is read as an operator, a weight or a
// prefix), a phrase's words joined by <->, all required. As FTS5Match,
// the quoting holds for any text.
func TSQuery(q history.Query) string {
	quote := func(w string) string {
		return `'` + strings.NewReplacer(`\`, `\\`, `'`, `''`, "\x00", " ").Replace(w) + `'`
	}
	var parts []string
	for _, w := range q.Words {
		if w != "" { // '' is not a lexeme but a syntax error
			parts = append(parts, quote(w))
		}
	}
	for _, p := range q.Phrases {
		quoted := make([]string, 0, len(p))
		for _, w := range p {
			if w != "" {
				quoted = append(quoted, quote(w))
			}
		}
		if len(quoted) > 0 {
			parts = append(parts, "("+strings.Join(quoted, " <-> ")+")")
		}
	}
	return strings.Join(parts, " & ")
}
