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

// SearchHistory implements history.Store, in one statement (so the total
// and the hits are of one snapshot). A search with words finds its
// matches in the full-text index, counts them all, ranks the newest
// rankLimit of them (history.MaxRanked: ranking reads each match's text,
// counting need not) and reads the anomalies it returns only. Equal ranks
// are ordered by anomaly id, highest (opened last) first: the index
// orders by it without reading the rows. One with filters only reads the
// anomalies. The words of the query reach the database as parameters
// only, inside a full-text expression built here (FTS5Match, TSQuery),
// never as SQL.
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
		// Counted by a subquery of its own: COUNT(*) OVER () would keep
		// every match's whole row until the last is read.
		count := `(SELECT COUNT(*) FROM anomalies WHERE TRUE` + filters(decidedOrOpened) + `)`
		query := `SELECT ` + anomalyColumns + `, ` + count + ` FROM anomalies WHERE TRUE` + filters(decidedOrOpened) +
			` ORDER BY ` + decidedOrOpened + ` DESC, id DESC LIMIT ` + arg(q.Limit)
		hits, err := queryAll(ctx, s.read, "search", scan, query, args...)
		return hits, total, err
	case s.d.FullText == FTS5:
		match := arg(FTS5Match(q.Query))
		ranked := `SELECT rowid AS id, bm25(history_fts, 4.0, 2.0, 2.0, 1.0, 1.0) AS score
			FROM history_fts WHERE history_fts MATCH ` + match
		if q.Fingerprint != "" || q.Decision != 0 || !q.After.IsZero() {
			// The filters are read from the anomalies: FTS5 would read its
			// own copy of them through a statement run per match. SQLite
			// knows neither how many anomalies match nor how many since:
			// keeps, and reads them by id among the matches: 25,000 rows
			// for a word in a quarter of 100,000 decisions, where since:30d
			// keeps 8,000. Both counts come from indexes alone (1 to 2 ms):
			// with since:, the fewer rows are read, those of the period
			// through the index on when decided when they are fewer (+id:
			// not through the one on id). The ids kept are then ranked as
			// without filters (rowid + 0: tested on each match, not one
			// FTS5 query per id).
			byID := `id`
			if !q.After.IsZero() {
				var matches, inPeriod int
				if err := s.read.QueryRowContext(ctx, `SELECT
					(SELECT COUNT(*) FROM history_fts WHERE history_fts MATCH $1),
					(SELECT COUNT(*) FROM anomalies WHERE `+decidedOrOpened+` >= $2)`,
					FTS5Match(q.Query), nanos(q.After)).Scan(&matches, &inPeriod); err != nil {
					return nil, 0, fmt.Errorf("search: %w", err)
				}
				if inPeriod < matches {
					byID = `+id`
				}
			}
			query := `WITH filtered AS MATERIALIZED (
					SELECT id FROM anomalies WHERE ` + byID + ` IN (SELECT rowid FROM history_fts WHERE history_fts MATCH ` + match + `)` +
				filters(decidedOrOpened) + `)
				SELECT ` + anomalyColumns + `, c.total FROM anomalies JOIN (
					SELECT id, score FROM (` + ranked + ` AND rowid + 0 IN (SELECT id FROM filtered)
						ORDER BY rowid DESC LIMIT ` + arg(s.rankLimit()) + `)
					ORDER BY score, id DESC LIMIT ` + arg(q.Limit) + `) m USING (id)
				CROSS JOIN (SELECT COUNT(*) AS total FROM filtered) c
				ORDER BY m.score, id DESC`
			hits, err := queryAll(ctx, s.read, "search", scan, query, args...)
			return hits, total, err
		}
		// Without filters, FTS5 counts the matches from its index alone
		// and lists them newest first (its rowid order): only the newest
		// are ranked.
		query := `SELECT ` + anomalyColumns + `, c.total FROM anomalies JOIN (
				SELECT id, score FROM (` + ranked + ` ORDER BY rowid DESC LIMIT ` + arg(s.rankLimit()) + `)
				ORDER BY score, id DESC LIMIT ` + arg(q.Limit) + `) m USING (id)
			CROSS JOIN (SELECT COUNT(*) AS total FROM history_fts WHERE history_fts MATCH ` + match + `) c
			ORDER BY m.score, id DESC`
		hits, err := queryAll(ctx, s.read, "search", scan, query, args...)
		return hits, total, err
	case s.d.FullText == TSVector:
		// The matches are found once (the GIN index, then each match's
		// row for the filters), kept as ids only: counted, and the
		// newest rankLimit of them read again by primary key and ranked.
		tsquery := `to_tsquery('simple', ` + arg(TSQuery(q.Query)) + `)`
		query := `WITH matches AS MATERIALIZED (
				SELECT anomaly_id FROM history_search WHERE document @@ ` + tsquery + filters("at") + `),
			newest AS (SELECT anomaly_id FROM matches ORDER BY anomaly_id DESC LIMIT ` + arg(s.rankLimit()) + `)
			SELECT ` + anomalyColumns + `, m.total FROM anomalies JOIN (
				SELECT h.anomaly_id AS id, ts_rank(h.document, ` + tsquery + `) AS score,
					(SELECT COUNT(*) FROM matches) AS total
				FROM newest JOIN history_search h USING (anomaly_id)
				ORDER BY score DESC, h.anomaly_id DESC LIMIT ` + arg(q.Limit) + `) m USING (id)
			ORDER BY m.score DESC, id DESC`
		hits, err := queryAll(ctx, s.read, "search", scan, query, args...)
		return hits, total, err
	}
	return nil, 0, fmt.Errorf("search: %s has no full-text index", s.d.Name)
}

// rankLimit is how many of the newest matches a search ranks.
func (s *DB) rankLimit() int {
	if s.opts.rankLimit > 0 {
		return s.opts.rankLimit
	}
	return history.MaxRanked
}

// withTotal scans a row's last column, the count of all matches, into total.
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
