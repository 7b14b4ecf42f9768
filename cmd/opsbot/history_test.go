package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/history"
	"github.com/opsbot/opsbot/store/storetest"
	"github.com/opsbot/opsbot/triage"
)

// TestHistorySameHitsInSlackAndTerminal: on one store, SQLite and then
// PostgreSQL, with two decided anomalies, `opsbot history` finds the one
// whose five whys hold the word (as JSON and as text), and so does
// `/ops history` through the fake Slack to the real `opsbot serve`.
func TestHistorySameHitsInSlackAndTerminal(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			seeded, storeYAML, env := openSeedStore(t, ctx, kind)
			now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
			seedHistory(t, seeded, now)
			if err := seeded.Close(); err != nil {
				t.Fatal(err)
			}
			clock := func() time.Time { return now }

			fs := newServeFake(t)
			cfgPath := writeServeConfigStore(t, fs, storeYAML, "")

			var stdout, stderr bytes.Buffer
			deps := storeDeps{getenv: func(k string) string { return env[k] }, now: clock}
			if code := historyCommand(ctx, []string{"--config", cfgPath, "--output", "json", "quokka"}, &stdout, &stderr, deps); code != exitOK {
				t.Fatalf("opsbot history --output json = %d\n%s", code, &stderr)
			}
			var res history.Result
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("opsbot history --output json: %v\n%s", err, &stdout)
			}
			if res.Total != 1 || len(res.Hits) != 1 || res.Hits[0].AnomalyID != 1 || res.Hits[0].Decision != "noise" ||
				res.Hits[0].ThreadTS != "1764000000.000100" {
				t.Fatalf("opsbot history --output json quokka = %+v, want anomaly #1", res)
			}
			stdout.Reset()
			if code := historyCommand(ctx, []string{"--config", cfgPath, "quokka", "decision:noise"}, &stdout, &stderr, deps); code != exitOK {
				t.Fatalf("opsbot history = %d\n%s", code, &stderr)
			}
			want := "1 anomaly matches \"quokka decision:noise\".\n\n" +
				"#1 api is crash-looping — prod pods/api/crashloop\n" +
				"  Noise by U0ALICE, 2026-12-06 08:00 UTC · ticket https://jira.example.com/browse/OPS-3 · thread C0DEV/1764000000.000100\n" +
				"  the probe is too strict\n"
			if stdout.String() != want {
				t.Errorf("opsbot history =\n%s\nwant\n%s", &stdout, want)
			}

			// Slack: the same hit, to the asker only.
			shown := askServe(t, ctx, fs, cfgPath, env, clock, "history quokka", "History")
			checkFigures(t, "/ops history quokka", shown, []string{"1 anomaly matches “quokka”",
				"#1 *api is crash-looping* — prod · Noise by <@U0ALICE>, 2026-12-06 08:00 UTC", "the probe is too strict"})
		})
	}
}

// seedHistory writes two decided anomalies into s: #1, whose five whys
// mention a quokka, with a thread; #2, without.
func seedHistory(t *testing.T, s storetest.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	fingerprints := []string{"pods/api/crashloop", "pods/api/oom"}
	for i, whys := range []string{"1. why? the quokka sidecar starts slowly", "1. why? the disk filled up"} {
		a, _, err := s.OpenAnomaly(ctx, triage.Anomaly{Environment: "prod", Fingerprint: fingerprints[i],
			Title: "api is crash-looping", Source: triage.SourceChecklist, OpenedBy: triage.ActorChecklist, OpenedAt: now.Add(-2 * time.Hour)}, "")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := s.LinkThread(ctx, a.ID, "C0DEV", "1764000000.000100", ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Decide(ctx, a.ID, triage.DecisionRecord{Decision: triage.Noise, Conclusion: "the probe is too strict",
			FiveWhys: whys, Ticket: "https://jira.example.com/browse/OPS-3", Dashboard: "https://grafana.example.com/d/noise",
			DecidedBy: "U0ALICE", DecidedAt: now.Add(-time.Hour)}, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHistoryCommandErrors: a query that cannot be run, a bad output
// format or a config without a bot block are usage errors that say what
// is wrong and read nothing.
func TestHistoryCommandErrors(t *testing.T) {
	fs := newServeFake(t)
	dbPath := filepath.Join(t.TempDir(), "never.db")
	cfgPath := writeServeConfig(t, fs, dbPath, "")
	noBot := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(noBot, []byte("environments:\n  prod:\n    namespaces: [shop]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deps := storeDeps{getenv: func(string) string { return "" }, now: time.Now}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", cfgPath}, "say what to look for"},
		{[]string{"--config", cfgPath, "x", "since:3w"}, "since:3w is not a period"},
		{[]string{"--config", cfgPath, "decision:nois"}, "use one of not_enough_information, intermittent, serious, noise, undetermined"},
		{[]string{"--config", cfgPath, "--output", "xml", "x"}, `--output must be text or json, got "xml"`},
		{[]string{"--config", noBot, "x"}, "has no bot block"},
	} {
		var stdout, stderr bytes.Buffer
		if code := historyCommand(context.Background(), tc.args, &stdout, &stderr, deps); code != exitUsage || !strings.Contains(stderr.String(), tc.want) || stdout.Len() > 0 {
			t.Errorf("opsbot history %q = %d, stderr %q, stdout %q; want %d and %q", tc.args, code, &stderr, &stdout, exitUsage, tc.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := historyCommand(context.Background(), []string{"--config", cfgPath, "x"}, &stdout, &stderr, deps); code != exitProblems ||
		!strings.Contains(stderr.String(), "no store to read") || stdout.Len() > 0 {
		t.Errorf("opsbot history without the store's file = %d, stderr %q; want %d and no store to read", code, &stderr, exitProblems)
	}
	if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
		t.Errorf("opsbot history created %s (%v)", dbPath, err)
	}
}
