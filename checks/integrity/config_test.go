package integrity

import (
	"strings"
	"testing"

	"github.com/prometheus/common/model"
)

func TestValidate(t *testing.T) {
	ok := Invariant{Name: "orphans", Query: "SELECT id FROM referrals;  "}
	cases := []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"valid", Config{DSNEnv: "OPS_DSN", Invariants: []Invariant{ok}}, ""},
		{"no dsnEnv", Config{Invariants: []Invariant{ok}}, "dsnEnv: required"},
		{"dsnEnv a DSN", Config{DSNEnv: "postgres://u:p@h/db", Invariants: []Invariant{ok}}, `dsnEnv: must be an environment variable's name`},
		{"no invariants", Config{DSNEnv: "D"}, "invariants: at least one is required"},
		{"negative timeout", Config{DSNEnv: "D", Timeout: -1, Invariants: []Invariant{ok}}, "timeout: must be positive"},
		{"statement timeout over timeout", Config{DSNEnv: "D", Timeout: model.Duration(1e9), StatementTimeout: model.Duration(2e9), Invariants: []Invariant{ok}},
			"statementTimeout: must not exceed timeout (1s), got 2s"},
		{"too many ids", Config{DSNEnv: "D", MaxIDs: 1000, Invariants: []Invariant{ok}}, "maxIds: at most 100 (a finding is read in Slack), got 1000"},
		{"negative maxIds", Config{DSNEnv: "D", MaxIDs: -1, Invariants: []Invariant{ok}}, "maxIds: must be at least 1"},
		{"two statements", Config{DSNEnv: "D", Invariants: []Invariant{ok, {Name: "x", Query: "SELECT 1 AS id; DELETE FROM referrals"}}},
			"invariants[1].query: must be one statement: a ';' may only end it, found one at offset 14"},
		{"empty query", Config{DSNEnv: "D", Invariants: []Invariant{{Name: "x", Query: " ; "}}}, "invariants[0].query: must not be empty"},
		{"bad name", Config{DSNEnv: "D", Invariants: []Invariant{{Name: "a b", Query: "SELECT 1"}}}, `invariants[0].name: must be letters`},
		{"duplicate", Config{DSNEnv: "D", Invariants: []Invariant{ok, ok}}, `invariants[1].name: "orphans" is already the name of invariants[0]`},
		{"severity", Config{DSNEnv: "D", Invariants: []Invariant{{Name: "x", Query: "SELECT 1", Severity: "info"}}}, `invariants[0].severity: must be "fail" or "warn", got "info"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	got := wrap("SELECT ref FROM t -- trailing comment", `Ref "id"`, 5)
	want := "SELECT count(*) OVER (), q.\"Ref \"\"id\"\"\"::text FROM (\nSELECT ref FROM t -- trailing comment\n) AS q ORDER BY q.\"Ref \"\"id\"\"\" LIMIT 5"
	if got != want {
		t.Errorf("wrap =\n%s\nwant\n%s", got, want)
	}
}

func TestNewKeepsDSNOutOfErrors(t *testing.T) {
	cfg := Config{DSNEnv: "OPS_DSN", Invariants: []Invariant{{Name: "a", Query: "SELECT 1 AS id"}}}
	_, err := New(cfg, "postgres://u:hunter2-pw@db:notaport/x", nil)
	if err == nil || strings.Contains(err.Error(), "hunter2-pw") || !strings.HasPrefix(err.Error(), "dsnEnv: the connection string in OPS_DSN cannot be parsed") {
		t.Errorf("error = %v", err)
	}
}
