package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/health"
	"github.com/opsbot/opsbot/statuspage/statuspagetest"
)

func writeIncidentConfig(t *testing.T, fs *slacktest.Server, page *statuspagetest.Server, dbPath string) string {
	t.Helper()
	cfg := fmt.Sprintf(`
environments:
  prod:
    namespaces: [shop]
    statusPage: {baseURL: %q, pageID: %s, apiKeyEnv: TEST_STATUSPAGE_KEY, requestsPerSecond: 100}
bot:
  timezone: Europe/London
  slack:
    apiURL: %s
    devChannel: %s
    opsChannel: %s
    deciders: {users: [%s]}
  store:
    sqlite: {path: %s}
  health:
    listen: 127.0.0.1:0
`, page.URL(), page.PageID, fs.APIURL(), serveDevChannel, slacktest.DefaultOpsChannelID, slacktest.DefaultAliceID, dbPath)
	p := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeAnnouncesAnIncident: the config's statusPage and incident keys
// reach the bot: /ops incident, the modal submitted as Slack's client
// would (its initial date and time), the announcement in the ops channel
// and the incident on the status page.
func TestServeAnnouncesAnIncident(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fs := newServeFake(t)
	page := statuspagetest.New(t, statuspagetest.Options{})
	cfg := writeIncidentConfig(t, fs, page, filepath.Join(t.TempDir(), "opsbot.db"))

	fo := fs.Options()
	env := map[string]string{envAppToken: fo.AppToken, envBotToken: fo.BotToken, "TEST_STATUSPAGE_KEY": page.APIKey}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	s := &servedBot{cancel: stop, code: make(chan int, 1), bot: make(chan *bot.Bot, 1), stderr: &syncBuffer{}}
	deps := serveDeps{
		getenv: func(k string) string { return env[k] },
		checklist: func(context.Context, string) (bot.Checklist, error) {
			return bot.Checklist{Checks: []checks.Check{serveCheck{}}}, nil
		},
		started: func(b *bot.Bot, h *health.Server) { s.health = h; s.bot <- b },
	}
	go func() { s.code <- serve(runCtx, []string{"--config", cfg, "--log-level", "debug"}, s.stderr, deps) }()
	s.waitConnected(t, ctx)
	if _, err := fs.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/ops", Text: "incident",
		UserID: slacktest.DefaultAliceID, ChannelID: slacktest.DefaultOpsChannelID}); err != nil {
		t.Fatal(err)
	}
	var view slacktest.View
	if err := fs.WaitFor(ctx, func() bool {
		vs := fs.OpenViews(slacktest.DefaultAliceID)
		if len(vs) == 1 {
			view = vs[0]
		}
		return len(vs) == 1
	}); err != nil {
		t.Fatalf("no modal: %v\n%s", err, s.stderr)
	}
	var blocks []struct {
		BlockID string `json:"block_id"`
		Element struct {
			InitialDate string `json:"initial_date"`
			InitialTime string `json:"initial_time"`
		} `json:"element"`
	}
	if err := json.Unmarshal(view.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	vals := slacktest.ViewValues{
		"userImpact": {"userImpact": {Value: "checkout fails"}},
		"what":       {"what": {Value: "payments API 502"}},
		"statusPage": {"statusPage": {SelectedOptions: []string{"raise"}}},
	}
	for _, b := range blocks {
		switch b.BlockID {
		case "from":
			vals["from"] = map[string]slacktest.InputValue{"from": {SelectedDate: b.Element.InitialDate}}
		case "fromTime":
			vals["fromTime"] = map[string]slacktest.InputValue{"fromTime": {SelectedTime: b.Element.InitialTime}}
		}
	}
	if _, err := fs.SubmitView(ctx, view.ID, vals); err != nil {
		t.Fatal(err)
	}
	ann, err := fs.WaitForMessage(ctx, slacktest.DefaultOpsChannelID, func(m slacktest.Message) bool {
		return strings.HasPrefix(m.Text, "📟 Degraded service\nFrom: ")
	})
	if err != nil {
		t.Fatalf("no announcement: %v\n%s", err, s.stderr)
	}
	if !strings.Contains(ann.Text, "\nUser impact: checkout fails\nWhat: payments API 502\nInvestigation in progress.") {
		t.Errorf("announcement: %q", ann.Text)
	}
	if err := fs.WaitFor(ctx, func() bool { return len(page.Incidents()) == 1 }); err != nil {
		t.Fatalf("no status page incident: %v\n%s", err, s.stderr)
	}
	s.cancel()
	if code := s.exitCode(t, ctx); code != exitOK {
		t.Errorf("exit %d", code)
	}
	if strings.Contains(s.stderr.String(), page.APIKey) {
		t.Error("the status page API key is in the logs")
	}
}

func TestServeStatusPageKeyMissing(t *testing.T) {
	fs := newServeFake(t)
	page := statuspagetest.New(t, statuspagetest.Options{})
	cfg := writeIncidentConfig(t, fs, page, filepath.Join(t.TempDir(), "opsbot.db"))
	var stderr syncBuffer
	fo := fs.Options()
	env := map[string]string{envAppToken: fo.AppToken, envBotToken: fo.BotToken}
	deps := serveDeps{getenv: func(k string) string { return env[k] }}
	code := serve(context.Background(), []string{"--config", cfg}, &stderr, deps)
	if code != exitUsage || !strings.Contains(stderr.String(), "environments.prod.statusPage.apiKeyEnv: environment variable TEST_STATUSPAGE_KEY is not set") {
		t.Errorf("exit %d\n%s", code, stderr.String())
	}
}
