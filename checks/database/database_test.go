package database

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/checks"
)

func newCheck(t *testing.T, cfg Config) *Check {
	t.Helper()
	cfg.DSNEnv = "OPS_DSN"
	c, err := New(cfg, Env{DSN: "postgres://monitor@db.example:5432/shop"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func lagOf(d time.Duration) *time.Duration { return &d }

// TestReplicationLag: a primary's worst replica and a replica's own lag,
// each against the thresholds (30s, 5m).
func TestReplicationLag(t *testing.T) {
	c := newCheck(t, Config{})
	for _, tt := range []struct {
		name    string
		f       figures
		want    string // "severity title", or "" for no finding
		summary string
	}{
		{"no replicas", figures{}, "", "no replicas"},
		{"replicas in step", figures{replicas: 2, lag: lagOf(2 * time.Second), lagOf: "replica db-1"}, "", "2 replicas, lag 2s"},
		{"a replica behind", figures{replicas: 2, lag: lagOf(45 * time.Second), lagOf: "replica db-1"},
			"warn replica db-1 45s behind (warn 30s, fail 5m)", "2 replicas, lag 45s"},
		{"a replica far behind", figures{isReplica: true, lag: lagOf(time.Hour + 30*time.Second)},
			"fail replica 1h behind (warn 30s, fail 5m)", "replica, 1h behind"},
		{"exporter on a primary", figures{replicasUnknown: true}, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := c.evaluate(tt.f)
			var got string
			for _, f := range res.Findings {
				if f.Fingerprint == "database/replication-lag/-" {
					got = f.Severity.String() + " " + f.Title
				}
			}
			if got != tt.want {
				t.Errorf("finding %q, want %q", got, tt.want)
			}
			if tt.summary != "" && !strings.Contains(res.Summary, tt.summary) {
				t.Errorf("summary %q, want it to contain %q", res.Summary, tt.summary)
			}
			if tt.summary == "" && strings.Contains(res.Summary, "replica") {
				t.Errorf("summary %q speaks of replicas it does not know", res.Summary)
			}
		})
	}
}

// TestFailThresholds: each figure past its fail threshold fails.
func TestFailThresholds(t *testing.T) {
	c := newCheck(t, Config{SizeLimit: 1000})
	res := c.evaluate(figures{
		size:        map[string]int64{"shop": 950},
		connections: 97, maxConnections: 100,
		longestQuery: &session{pid: 7, user: "app", db: "shop", age: 31 * time.Minute, query: "SELECT ?"},
		longestTx:    &session{pid: 8, age: 2 * time.Hour},
		lockKnown:    true, lockWaiters: 3, longestWait: &session{pid: 9, age: 6 * time.Minute},
		statements: []statement{{id: 42, calls: 1200, mean: 12 * time.Second, query: "SELECT * FROM big"}},
	})
	want := map[string]string{
		"database/size/database shop":        "database shop at 950 B of 1.0 kB (95%; warn 80%, fail 90%)",
		"database/connections/-":             "97 of 100 connections in use (97%; warn 80%, fail 95%)",
		"database/long-query/-":              "a query has run for 31m (warn 5m, fail 30m)",
		"database/long-transaction/-":        "a transaction has been open for 2h (warn 15m, fail 1h)",
		"database/lock-wait/-":               "3 sessions waiting on locks, the longest for 6m (warn 30s, fail 5m)",
		"database/slow-statement/queryid 42": "a statement takes 12s on average over 1,200 calls (warn 1s, fail 10s)",
	}
	if len(res.Findings) != len(want) {
		t.Errorf("%d findings, want %d: %+v", len(res.Findings), len(want), res.Findings)
	}
	for _, f := range res.Findings {
		if f.Severity != checks.Fail || want[f.Fingerprint] != f.Title {
			t.Errorf("%s: %s %q, want fail %q", f.Fingerprint, f.Severity, f.Title, want[f.Fingerprint])
		}
	}
	if res.Status != checks.Fail {
		t.Errorf("status %s", res.Status)
	}
}

func TestSanitize(t *testing.T) {
	got := sanitize("UPDATE users\n   SET email = 'ann@example.com', pw = 'it''s; secret'\nWHERE t = xoxb-123456789-abcdef AND note = 'unterminated")
	want := "UPDATE users SET email = '?', pw = '?' WHERE t = [redacted:slack-token] AND note = '?'"
	if got != want {
		t.Errorf("sanitize =\n%s\nwant\n%s", got, want)
	}
	if long := sanitize(strings.Repeat("x", 500)); len([]rune(long)) > 201 { // 200 and an ellipsis
		t.Errorf("sanitize kept %d characters", len([]rune(long)))
	}
}

func TestValidate(t *testing.T) {
	ratio := func(v float64) *float64 { return &v }
	d := func(s string) *model.Duration { v, _ := model.ParseDuration(s); return &v }
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"valid", Config{DSNEnv: "OPS_DSN"}, ""},
		{"prometheus", Config{Source: "prometheus"}, ""},
		{"no dsnEnv", Config{}, "dsnEnv: required with source postgres"},
		{"dsnEnv with prometheus", Config{Source: "prometheus", DSNEnv: "X"}, "dsnEnv: not used with source prometheus"},
		{"bad source", Config{Source: "mysql"}, `source: must be "postgres" or "prometheus", got "mysql"`},
		{"ratio over 1", Config{DSNEnv: "D", Thresholds: Thresholds{ConnectionsWarn: ratio(80)}},
			"thresholds.connectionsWarn: must be a fraction above 0 and at most 1 (0.8 is 80%), got 80"},
		{"fail under warn", Config{DSNEnv: "D", Thresholds: Thresholds{ConnectionsFail: ratio(0.5)}},
			"thresholds.connectionsFail: must be >= connectionsWarn (0.8), got 0.5"},
		{"duration fail under default warn", Config{DSNEnv: "D", Thresholds: Thresholds{QueryFail: d("1m")}},
			"thresholds.queryFail: must be >= queryWarn (5m0s), got 1m0s"},
		{"negative size", Config{DSNEnv: "D", SizeLimit: -1}, "sizeLimit: must be positive"},
		{"pvc and size", Config{DSNEnv: "D", SizeLimit: 1 << 30, PVC: "db/data"}, "pvc: set sizeLimit or pvc, not both"},
		{"pvc without namespace", Config{DSNEnv: "D", PVC: "data"}, `pvc: must be namespace/name, e.g. db/data-postgres-0, got "data"`},
		{"statement timeout over timeout", Config{DSNEnv: "D", Timeout: model.Duration(time.Second), StatementTimeout: model.Duration(time.Minute)},
			"statementTimeout: must not exceed timeout (1s), got 1m"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
