package integrity

import (
	"testing"

	"github.com/opsbot/opsbot/checks"
)

func TestEvaluate(t *testing.T) {
	cfg := Config{DSNEnv: "D", Invariants: []Invariant{
		{Name: "a", Query: "SELECT 1 AS id"}, {Name: "b", Query: "SELECT 1 AS id"},
	}}
	c, err := New(cfg, "postgres://checker@db.example:5432/shop", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		outcomes []outcome
		status   checks.Status
		summary  string
		findings int
	}{
		{"all hold", []outcome{{}, {}}, checks.OK, "2 invariants hold", 0},
		{"one unknown", []outcome{{}, {unknown: "timed out"}}, checks.Unknown, "1 invariant holds; 1 unknown (b: timed out)", 1},
		{"all unknown", []outcome{{unknown: "x"}, {unknown: "x"}}, checks.Unknown, "all 2 invariants unknown, e.g. a: x", 0},
		{"broken", []outcome{{rows: 1204, ids: []string{"1", "2", "3", "4", "5"}}, {}}, checks.Fail, "1 of 2 invariants broken", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := c.evaluate(tt.outcomes)
			if res.Status != tt.status || res.Summary != tt.summary || len(res.Findings) != tt.findings {
				t.Errorf("got %s %q with %d findings, want %s %q with %d", res.Status, res.Summary, len(res.Findings),
					tt.status, tt.summary, tt.findings)
			}
			if tt.name == "broken" {
				if f := res.Findings[0]; f.Title != "a: 1,204 rows" || f.Detail != "ids 1, 2, 3, 4, 5 and 1,199 more" || f.Count != 1204 {
					t.Errorf("finding = %+v", f)
				}
			}
		})
	}
}
