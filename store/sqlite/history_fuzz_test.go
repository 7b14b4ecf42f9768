package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/history"
	"github.com/opsbot/opsbot/triage"
)

// FuzzHistoryMatch: no text makes a search fail with an FTS5 syntax error:
// neither a query Parse accepts, nor words given to the store as they are
// (the MATCH expression quotes whatever it is given).
func FuzzHistoryMatch(f *testing.F) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(f.TempDir(), "opsbot.db"), zap.NewNop())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	a := triage.Anomaly{Environment: "prod", Fingerprint: "pods/api", Title: `NEAR "quoted" title: x*`,
		Source: triage.SourceManual, OpenedBy: "U0ALICE", OpenedAt: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	if _, _, err := db.OpenAnomaly(ctx, a, ""); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"disk", `"a b" c`, `NEAR(a b)`, `title:x*`, `"`, `""`, `^x`, `a AND OR NOT b`,
		`x"*`, `'`, `\`, `(`, `-x`, "\x00", "", "fingerprint:% decision:noise since:3d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if q, err := history.Parse(s); err == nil {
			if _, _, err := db.SearchHistory(ctx, history.Search{Query: q, Limit: history.MaxHits}); err != nil {
				t.Fatalf("search %q: %v", s, err)
			}
		}
		if !utf8.ValidString(s) {
			return
		}
		raw := history.Query{Words: []string{s}, Phrases: [][]string{{s, s}}}
		if _, _, err := db.SearchHistory(ctx, history.Search{Query: raw, Limit: history.MaxHits}); err != nil {
			t.Fatalf("search for the raw word %q: %v", s, err)
		}
	})
}
