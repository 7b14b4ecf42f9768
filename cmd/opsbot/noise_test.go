package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/chart"
	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/silence"
	"github.com/opsbot/opsbot/store/storetest"
	"github.com/opsbot/opsbot/triage"
)

// TestNoiseSameFiguresInSlackAndTerminal: on one store, SQLite and then
// PostgreSQL, seeded with storetest.SeedNoise, `opsbot noise --output
// json` gives the scenario's report, and `/ops noise 3` through the fake
// Slack to the real `opsbot serve` shows every figure of it (and so does
// the text output).
func TestNoiseSameFiguresInSlackAndTerminal(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			seeded, storeYAML, env := openSeedStore(t, ctx, kind)
			now := storetest.SeedNoise(t, seeded)
			want, amURL := storetest.NoiseWant(), ""
			if amURL = sharedAlertmanager(); amURL != "" {
				want = seedStaleSilence(t, ctx, seeded, amURL, kind, want)
			}
			if err := seeded.Close(); err != nil {
				t.Fatal(err)
			}
			clock := func() time.Time { return now }

			fs := newServeFake(t)
			cfgPath := writeServeConfigStore(t, fs, storeYAML, "")
			if amURL != "" {
				withAlertmanager(t, cfgPath, amURL)
			}

			// The terminal's JSON: the scenario's report.
			var stdout, stderr bytes.Buffer
			deps := storeDeps{getenv: func(k string) string { return env[k] }, now: clock}
			if code := noiseCommand(ctx, []string{"--config", cfgPath, "--days", "3", "--output", "json"}, &stdout, &stderr, deps); code != exitOK {
				t.Fatalf("opsbot noise --output json = %d\n%s", code, &stderr)
			}
			var rep noise.Report
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatalf("opsbot noise --output json: %v\n%s", err, &stdout)
			}
			if !reflect.DeepEqual(rep, want) {
				t.Fatalf("opsbot noise --output json =\n%+v\nwant\n%+v", rep, want)
			}
			stdout.Reset()
			if code := noiseCommand(ctx, []string{"--config", cfgPath, "--days", "3"}, &stdout, &stderr, deps); code != exitOK {
				t.Fatalf("opsbot noise = %d\n%s", code, &stderr)
			}
			checkFigures(t, "opsbot noise", stdout.String(), textFigures(rep))

			// --charts: the sightings per day as a PNG, and where it went.
			dir := filepath.Join(t.TempDir(), "charts")
			stdout.Reset()
			if code := noiseCommand(ctx, []string{"--config", cfgPath, "--days", "3", "--charts", dir}, &stdout, &stderr, deps); code != exitOK {
				t.Fatalf("opsbot noise --charts = %d\n%s", code, &stderr)
			}
			name := noise.ChartFileName(rep)
			if want := "Charts: 1 written to " + dir + "\n  " + name + "\n"; !strings.Contains(stdout.String(), want) {
				t.Errorf("opsbot noise --charts does not say %q:\n%s", want, &stdout)
			}
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("the chart is not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != chart.DefaultWidth || b.Dy() != chart.DefaultHeight {
				t.Errorf("chart size %v", b)
			}

			// Slack: the same figures.
			shown := askServe(t, ctx, fs, cfgPath, env, clock, "noise 3", "Noise report")
			checkFigures(t, "/ops noise 3", shown, slackFigures(rep))
		})
	}
}

// seedStaleSilence adds to SeedNoise's store an anomaly decided Noise
// before the period whose silence, made in the real Alertmanager at amURL,
// matches no alert, and returns want with it: a stale silence, and prod's
// silences checked (SeedNoise's own silence is not in that Alertmanager,
// so it is not checked).
func seedStaleSilence(t *testing.T, ctx context.Context, s storetest.Store, amURL, kind string, want noise.Report) noise.Report {
	t.Helper()
	opened := want.Since.Add(-10 * 24 * time.Hour)
	a := triage.ManualAnomaly("prod", "OpsbotGone fired", slacktest.DefaultAliceID, opened)
	a.Labels = map[string]string{"alertname": "OpsbotGone" + kind, "namespace": "shop"}
	a, _, err := s.OpenAnomaly(ctx, a, "open:gone")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decide(ctx, a.ID, triage.DecisionRecord{Decision: triage.Noise, Conclusion: "it went away",
		FiveWhys: "1. fixed", Ticket: "https://jira.example.com/browse/OPS-9", Dashboard: "https://grafana.example.com/d/x",
		DecidedBy: slacktest.DefaultAliceID, DecidedAt: opened}, "decide:gone"); err != nil {
		t.Fatal(err)
	}
	client, err := silence.New(amURL, silence.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := triage.SilenceMatchers(a.Labels, false)
	if err != nil {
		t.Fatal(err)
	}
	sil, err := client.Silence(ctx, triage.SilenceRequest{Matchers: ms, EndsAt: time.Now().Add(time.Hour),
		CreatedBy: "Alice", Comment: "it went away", Key: "noise-test-" + kind})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordSilence(ctx, a.ID, triage.SilenceMark{ID: sil.ID, EndsAt: sil.EndsAt}, slacktest.DefaultAliceID, opened, "silence:gone"); err != nil {
		t.Fatal(err)
	}
	want.StaleSilences = []noise.SilenceLine{{AnomalyID: a.ID, Environment: "prod", Title: a.Title, SilenceID: sil.ID,
		EndsAt: sil.EndsAt.UTC(), Matchers: `alertname="OpsbotGone` + kind + `", namespace="shop"`}}
	want.SilencesUnchecked = nil
	return want
}

// sharedAlertmanager is the URL of the test environment's Alertmanager
// (TestMain's), "" with -short.
func sharedAlertmanager() string {
	if env == nil || env.Alertmanager == nil {
		return ""
	}
	return env.Alertmanager.URL()
}

// withAlertmanager gives the config file's prod environment the
// Alertmanager at url.
func withAlertmanager(t *testing.T, path, url string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "    namespaces: [shop]\n", "    namespaces: [shop]\n    alertmanager: {url: "+url+"}\n", 1)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// textFigures are the figures of rep as `opsbot noise` writes them.
func textFigures(rep noise.Report) []string {
	out := []string{fmt.Sprintf("Sightings: %d  %s", rep.Sightings, noise.Sparkline(rep.PerDay))}
	for _, d := range rep.PerDay {
		out = append(out, fmt.Sprintf("%s  %d", d.Day.Format("2006-01-02"), d.Sightings))
	}
	for _, f := range rep.Top {
		out = append(out, fmt.Sprintf("%4d  %s %s\n        #%d %s — %s", f.Sightings, f.Environment, f.Fingerprint,
			f.AnomalyID, f.Title, noise.DecisionLabel(f.Decision)))
	}
	for _, u := range rep.Undecided {
		out = append(out, fmt.Sprintf("#%d %s %s", u.AnomalyID, u.Environment, u.Title))
	}
	out = append(out, fmt.Sprintf("%d of %d Noise or Intermittent decisions (%.0f%%)",
		len(rep.Mistriage.Anomalies), rep.Mistriage.Decided, 100*rep.Mistriage.Rate))
	for _, m := range rep.Mistriage.Anomalies {
		out = append(out, fmt.Sprintf("#%d %s →", m.AnomalyID, noise.DecisionLabel(m.From)))
	}
	for _, a := range rep.Alerts {
		out = append(out, fmt.Sprintf("%4d  %s %s %s\n        %s", a.Runs, a.Environment, noise.SourceLabel(a.Source), a.Fingerprint, a.Title))
	}
	out = append(out, fmt.Sprintf("Silences that match no alert any more: %d", len(rep.StaleSilences)),
		fmt.Sprintf("Silences extended again and again: %d", len(rep.ExtendedSilences)))
	for _, l := range append(rep.StaleSilences, rep.ExtendedSilences...) {
		out = append(out, fmt.Sprintf("#%d %s %s — silence %s until %s", l.AnomalyID, l.Environment, l.Title, l.SilenceID,
			l.EndsAt.Format("2006-01-02 15:04 UTC")))
	}
	for _, u := range rep.SilencesUnchecked {
		out = append(out, "not checked against Alertmanager: "+u)
	}
	return out
}

// slackFigures are the figures of rep as `/ops noise` shows them.
func slackFigures(rep noise.Report) []string {
	out := []string{fmt.Sprintf("*%d* sightings `%s`", rep.Sightings, noise.Sparkline(rep.PerDay))}
	for _, d := range rep.PerDay {
		out = append(out, fmt.Sprintf("%s: %d", d.Day.Format("2006-01-02"), d.Sightings))
	}
	for _, f := range rep.Top {
		out = append(out, fmt.Sprintf("*%d×* %s `%s` — #%d %s — %s", f.Sightings, f.Environment, f.Fingerprint,
			f.AnomalyID, f.Title, noise.DecisionLabel(f.Decision)))
	}
	for _, u := range rep.Undecided {
		out = append(out, fmt.Sprintf("#%d *%s* — %s", u.AnomalyID, u.Title, u.Environment))
	}
	out = append(out, fmt.Sprintf("%d of %d Noise or Intermittent decisions (%.0f%%)",
		len(rep.Mistriage.Anomalies), rep.Mistriage.Decided, 100*rep.Mistriage.Rate))
	for _, m := range rep.Mistriage.Anomalies {
		out = append(out, fmt.Sprintf("#%d %s →", m.AnomalyID, noise.DecisionLabel(m.From)))
	}
	for _, a := range rep.Alerts {
		out = append(out, fmt.Sprintf("*%d×* %s %s `%s` — %s", a.Runs, a.Environment, noise.SourceLabel(a.Source), a.Fingerprint, a.Title))
	}
	out = append(out, fmt.Sprintf("*Silences that match no alert any more: %d*", len(rep.StaleSilences)),
		fmt.Sprintf("*Silences extended again and again: %d*", len(rep.ExtendedSilences)))
	for _, l := range append(rep.StaleSilences, rep.ExtendedSilences...) {
		out = append(out, fmt.Sprintf("#%d %s *%s* — silence `%s` until %s", l.AnomalyID, l.Environment, l.Title, l.SilenceID,
			l.EndsAt.Format("2006-01-02 15:04 UTC")))
	}
	for _, u := range rep.SilencesUnchecked {
		out = append(out, "Silences not checked against Alertmanager: "+u)
	}
	return out
}

func checkFigures(t *testing.T, what, shown string, figures []string) {
	t.Helper()
	for _, f := range figures {
		if !strings.Contains(shown, f) {
			t.Errorf("%s does not show %q:\n%s", what, f, shown)
		}
	}
}

// blockTexts is the text of a message's sections and context blocks, one
// block a line.
func blockTexts(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var blocks []struct {
		Text     *struct{ Text string }  `json:"text"`
		Elements []struct{ Text string } `json:"elements"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatalf("blocks: %v\n%s", err, raw)
	}
	var b strings.Builder
	for _, bl := range blocks {
		if bl.Text != nil {
			b.WriteString(bl.Text.Text + "\n")
		}
		for _, e := range bl.Elements {
			b.WriteString(e.Text + "\n")
		}
	}
	return b.String()
}

// TestNoiseCommandErrors: a bad period, a bad output format, stray
// arguments or a config without a bot block are usage errors that say
// what is wrong and read nothing.
func TestNoiseCommandErrors(t *testing.T) {
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
		{[]string{"--config", cfgPath, "--days", "0"}, "--days: the period must be 1 to 90 days, got 0"},
		{[]string{"--config", cfgPath, "--days", "91"}, "got 91"},
		{[]string{"--config", cfgPath, "--output", "xml"}, `--output must be text or json, got "xml"`},
		{[]string{"--config", cfgPath, "prod"}, `unexpected arguments ["prod"]`},
		{[]string{"--config", noBot}, "has no bot block"},
	} {
		var stdout, stderr bytes.Buffer
		if code := noiseCommand(context.Background(), tc.args, &stdout, &stderr, deps); code != exitUsage || !strings.Contains(stderr.String(), tc.want) || stdout.Len() > 0 {
			t.Errorf("opsbot noise %q = %d, stderr %q, stdout %q; want %d and %q", tc.args, code, &stderr, &stdout, exitUsage, tc.want)
		}
	}

	// A SQLite file that is not there is not created: the report would
	// be an empty store's zeros.
	var stdout, stderr bytes.Buffer
	if code := noiseCommand(context.Background(), []string{"--config", cfgPath}, &stdout, &stderr, deps); code != exitProblems ||
		!strings.Contains(stderr.String(), "no store to read") || stdout.Len() > 0 {
		t.Errorf("opsbot noise without the store's file = %d, stderr %q, stdout %q; want %d and no store to read", code, &stderr, &stdout, exitProblems)
	}
	if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
		t.Errorf("opsbot noise created %s (%v)", dbPath, err)
	}
}
