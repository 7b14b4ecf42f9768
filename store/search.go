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
// undecided: what newest-first and since: go by.
const decidedOrOpened = `COALESCE(decided_at, opened_at)`

// SearchHistory implements history.Store. The words of the query reach
// the database as parameters only, inside a full-text expression built
// here (FTS5Match, TSQuery), never as SQL.
func (s *DB) SearchHistory(ctx context.Context, q history.Search) ([]triage.Anomaly, int, error) {
	if q.Limit < 1 {
		return nil, 0, fmt.Errorf("search: limit %d: want at least 1", q.Limit)
	}
	var (
		args  []any
		conds []string
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	from, order := `anomalies`, ``
	if q.HasText() {
		switch s.d.FullText {
		case FTS5:
			from = `anomalies JOIN (SELECT rowid AS id, bm25(history_fts, 4.0, 2.0, 2.0, 1.0, 1.0) AS rank
				FROM history_fts WHERE history_fts MATCH ` + arg(FTS5Match(q.Query)) + `) m USING (id)`
			order = `m.rank, `
		case TSVector:
			from = `anomalies JOIN (SELECT anomaly_id AS id, ts_rank(document, q) AS rank
				FROM history_search, to_tsquery('simple', ` + arg(TSQuery(q.Query)) + `) q
				WHERE document @@ q) m USING (id)`
			order = `m.rank DESC, `
		default:
			return nil, 0, fmt.Errorf("search: %s has no full-text index", s.d.Name)
		}
	}
	if q.Fingerprint != "" {
		n := arg(utf8.RuneCountInString(q.Fingerprint))
		conds = append(conds, `substr(fingerprint, 1, `+n+`) = `+arg(q.Fingerprint))
	}
	if q.Decision != 0 {
		conds = append(conds, `decision = `+arg(q.Decision.String()))
	}
	if !q.After.IsZero() {
		conds = append(conds, decidedOrOpened+` >= `+arg(nanos(q.After)))
	}
	where := ``
	if len(conds) > 0 {
		where = ` WHERE ` + strings.Join(conds, ` AND `)
	}
	query := `SELECT ` + anomalyColumns + `, COUNT(*) OVER () FROM ` + from + where +
		` ORDER BY ` + order + decidedOrOpened + ` DESC, id DESC LIMIT ` + arg(q.Limit)
	total := 0
	hits, err := queryAll(ctx, s.read, "search", func(sc scanner) (triage.Anomaly, error) {
		return scanAnomaly(withTotal{sc, &total})
	}, query, args...)
	return hits, total, err
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
